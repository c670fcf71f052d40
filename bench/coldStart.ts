// Cold start of the function as deployed: a fresh Node.js 22 process loads the serialized archive
// (which builds the clients and parses the environment) with the SDK from the layer, beside the
// same with the full SDK packages, as the runtime's own copy would load them. Median of runs.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../infra/projectRoot";
import { unpackArchive } from "../local/invokeLambda";
import { findResource, sdkLayerDir } from "../local/pulumiMocks";
import { synth } from "../local/synth";

export interface ColdStart {
  sdk: "layer" | "full packages";
  node: string;
  /** Milliseconds to load the archive and build the handler. */
  initMs: number;
  /** RSS after that, MB. */
  rssMb: number;
}

const PROBE = `
const started = process.hrtime.bigint();
require(process.argv[1] + "/__index.js");
const initMs = Number(process.hrtime.bigint() - started) / 1e6;
console.log(JSON.stringify({ node: process.version, initMs, rssMb: process.memoryUsage().rss / 1048576 }));
`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function measureColdStarts(command: string[], runs = 5): Promise<ColdStart[]> {
  const result = await synth({ stack: "dev" });
  const archive = unpackArchive(Object.values(result.archives)[0]);
  const environment: Record<string, string> = findResource("aws:lambda/function:Function").inputs.environment
    .variables;
  const layerDir = await sdkLayerDir();
  try {
    const measure = (sdk: ColdStart["sdk"], nodePath: string): ColdStart => {
      const samples = Array.from({ length: runs }, () => {
        const [program, ...args] = command;
        const child = spawnSync(program, [...args, "-e", PROBE, archive.dir], {
          encoding: "utf8",
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            NODE_PATH: nodePath,
            AWS_REGION: "us-east-1",
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
            ...environment,
          },
        });
        if (child.status !== 0) {
          throw new Error(`cold start probe failed:\n${child.stderr}`);
        }
        return JSON.parse(child.stdout.trim().split("\n").pop() as string) as Omit<ColdStart, "sdk">;
      });
      return {
        sdk,
        node: samples[0].node,
        initMs: median(samples.map((s) => s.initMs)),
        rssMb: median(samples.map((s) => s.rssMb)),
      };
    };
    return [
      measure("layer", join(layerDir, "nodejs", "node_modules")),
      measure("full packages", join(ROOT, "node_modules")),
    ];
  } finally {
    archive.remove();
  }
}
