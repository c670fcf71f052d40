// The project's root (where Pulumi.yaml is), whether this code runs under ts-node or compiled to out/.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, "Pulumi.yaml"))) {
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no Pulumi.yaml above ${start}`);
    }
    dir = parent;
  }
  return dir;
}

export const ROOT = findRoot(__dirname);
