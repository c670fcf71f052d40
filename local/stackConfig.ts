// Stack config the way the Pulumi CLI assembles it: Pulumi.yaml's defaults, then
// Pulumi.<stack>.yaml, then overrides; all keys namespaced ("aws:region", "<project>:retentionDays").
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export interface StackConfigSource {
  root: string;
  stack?: string;
  /** "key=value"; a key without a namespace belongs to the project. */
  overrides?: string[];
}

/** Pulumi hands a program every value as a string, objects as JSON text. */
function asConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function projectName(root: string): string {
  return parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")).name as string;
}

export function readStackConfig(source: StackConfigSource): Record<string, string> {
  const project = parse(readFileSync(join(source.root, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config?: Record<string, { default?: unknown } | unknown>;
  };
  const namespaced = (key: string) => (key.includes(":") ? key : `${project.name}:${key}`);
  const config: Record<string, string> = {};
  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    if (typeof declaration === "object" && declaration !== null && "default" in declaration) {
      config[namespaced(key)] = asConfigString((declaration as { default: unknown }).default);
    }
  }
  if (source.stack !== undefined) {
    const file = join(source.root, `Pulumi.${source.stack}.yaml`);
    if (!existsSync(file)) {
      throw new Error(`no stack file ${file}`);
    }
    const stack = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
    for (const [key, value] of Object.entries(stack.config ?? {})) {
      config[namespaced(key)] = asConfigString(value);
    }
  }
  for (const override of source.overrides ?? []) {
    const equals = override.indexOf("=");
    if (equals <= 0) {
      throw new Error(`--config ${JSON.stringify(override)}: expected key=value`);
    }
    config[namespaced(override.slice(0, equals))] = override.slice(equals + 1);
  }
  return config;
}
