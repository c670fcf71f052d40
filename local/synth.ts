// `npm run synth -- [--stack dev] [--config key=value ...] [--out DIR]`
// Runs the real program under Pulumi's mock runtime (no CLI, no cloud, no credentials) and shows
// what `pulumi up` would create, including the exact Lambda archive.
// The SDK's "2027 releases need Node.js 22" notice is noise for a plan.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { parseArgs } from "node:util";
import { ROOT } from "../infra/projectRoot";
import { lambdaArchive, loadStack, registered, type Registered, type StackOutputs } from "./pulumiMocks";
import { configErrorMessage, parseConfig, type RawConfig } from "../infra/config";
import { projectName, readStackConfig } from "./stackConfig";

const FUNCTION_TYPE = "aws:lambda/function:Function";
const LAYER_TYPE = "aws:lambda/layerVersion:LayerVersion";

/** A layer as built: its directory (holding nodejs/node_modules) and the bundle's sizes. */
export interface LayerInfo {
  dir: string;
  bytes: number;
  zippedBytes: number;
}

export interface SynthOptions {
  stack?: string;
  overrides?: string[];
  out?: string;
}

export interface SynthResult {
  config: Record<string, string>;
  resources: Registered[];
  outputs: StackOutputs;
  /** Per Lambda resource name: archive file name -> contents. */
  archives: Record<string, Record<string, string>>;
  /** Per layer resource name: where its content is. */
  layers: Record<string, LayerInfo>;
}

export async function synth(options: SynthOptions): Promise<SynthResult> {
  const config = readStackConfig({ root: ROOT, stack: options.stack, overrides: options.overrides });
  const outputs = await loadStack(config);
  const resources = [...registered];
  const archives: SynthResult["archives"] = {};
  for (const fn of resources.filter((r) => r.type === FUNCTION_TYPE)) {
    archives[fn.name] = await lambdaArchive(fn.name);
  }
  const layers: SynthResult["layers"] = {};
  for (const layer of resources.filter((r) => r.type === LAYER_TYPE)) {
    layers[layer.name] = layerInfo(await layer.inputs.code.path);
  }
  if (options.out) {
    writeOut(options.out, resources, archives, layers);
  }
  return { config, resources, outputs, archives, layers };
}

/** The built layer in `dir`: its one bundle's size, raw and deflated. */
export function layerInfo(dir: string): LayerInfo {
  const modules = join(dir, "nodejs", "node_modules");
  const bundle = readdirSync(modules)
    .filter((name) => !name.startsWith("@"))
    .map((name) => readFileSync(join(modules, name, "index.js")))[0];
  return { dir, bytes: bundle.length, zippedBytes: deflateRawSync(bundle).length };
}

const archiveBytes = (files: Record<string, string>) =>
  Object.values(files).reduce((n, text) => n + Buffer.byteLength(text), 0);
/** What the files take compressed in the zip Lambda receives (deflate, as zip stores them). */
export const zippedBytes = (files: Record<string, string>) =>
  Object.values(files).reduce((n, text) => n + deflateRawSync(Buffer.from(text)).length, 0);

/** Inputs as plain JSON: the code archive becomes its file list and size. */
function plainInputs(
  resource: Registered,
  archives: SynthResult["archives"],
  layers: SynthResult["layers"] = {},
): Record<string, unknown> {
  const inputs: Record<string, unknown> = { ...resource.inputs };
  if (resource.type === LAYER_TYPE) {
    const { bytes, zippedBytes } = layers[resource.name] ?? {};
    inputs.code = { layer: "nodejs/node_modules: @aws-sdk shims onto one bundle", bytes, zippedBytes };
  }
  if (resource.type === FUNCTION_TYPE) {
    const files = archives[resource.name];
    inputs.code = {
      archive: Object.keys(files),
      bytes: archiveBytes(files),
      zippedBytes: zippedBytes(files),
    };
  }
  return inputs;
}

function writeOut(
  out: string,
  resources: Registered[],
  archives: SynthResult["archives"],
  layers: SynthResult["layers"],
): void {
  mkdirSync(out, { recursive: true });
  const plain = resources.map((r) => ({
    type: r.type,
    name: r.name,
    inputs: plainInputs(r, archives, layers),
  }));
  writeFileSync(join(out, "resources.json"), `${JSON.stringify(plain, null, 2)}\n`);
  for (const [name, files] of Object.entries(archives)) {
    for (const [file, text] of Object.entries(files)) {
      const path = join(out, "lambda", name, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
  }
}

/** JSON documents held in strings (policies) are shown as JSON. */
function show(value: unknown): string {
  if (typeof value === "string" && /^\s*[{[]/.test(value)) {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

export function formatPlan(result: SynthResult, stack: string | undefined): string {
  const lines: string[] = [
    `Plan for stack ${stack ?? "(defaults only)"} in ${result.config["aws:region"] ?? "(no region)"}: ${result.resources.length} resources to create`,
    "",
  ];
  for (const resource of result.resources) {
    lines.push(`+ ${resource.type}  ${resource.name}`);
    for (const [key, value] of Object.entries(plainInputs(resource, result.archives, result.layers)).sort(
      ([a], [b]) => a.localeCompare(b),
    )) {
      const text = show(value).split("\n");
      lines.push(`    ${key}: ${text[0]}`, ...text.slice(1).map((line) => `      ${line}`));
    }
    lines.push("");
  }
  lines.push("Outputs:");
  for (const [key, value] of Object.entries(result.outputs)) {
    lines.push(`    ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  lines.push("", ...budgetLines(result));
  return lines.join("\n");
}

/** The closure archive may zip to 64 KB, the SDK layer to 1 MB (a test holds both). */
export const BUDGETS = { archiveZippedBytes: 64 * 1024, layerZippedBytes: 1024 * 1024 };

export function budgetLines(result: Pick<SynthResult, "archives" | "layers">): string[] {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  return [
    "Sizes:",
    ...Object.entries(result.archives).map(
      ([name, files]) =>
        `    ${name} closure archive: ${kb(archiveBytes(files))}, ${kb(zippedBytes(files))} zipped (budget ${kb(BUDGETS.archiveZippedBytes)} zipped)`,
    ),
    ...Object.entries(result.layers).map(
      ([name, layer]) =>
        `    ${name}: ${kb(layer.bytes)}, ${kb(layer.zippedBytes)} zipped (budget ${kb(BUDGETS.layerZippedBytes)} zipped)`,
    ),
  ];
}

/**
 * A bad flag, found before the program runs: a stack with no file, or a --config value the stack's
 * config check refuses (every problem is listed then, as preview would). Undefined when the flags
 * are good; bad values from the stack file itself are left to the program, as with `pulumi preview`.
 */
export function badFlagValues(stack: string, overrides: string[]): string | undefined {
  let config: Record<string, string>;
  try {
    config = readStackConfig({ root: ROOT, stack, overrides });
  } catch (error) {
    return `--stack ${JSON.stringify(stack)}: ${(error as Error).message}`;
  }
  const project = projectName(ROOT);
  const raw: RawConfig = { "aws:region": config["aws:region"] };
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith(`${project}:`)) {
      raw[key.slice(project.length + 1)] = value;
    }
  }
  const result = parseConfig(raw, project);
  const flagged = overrides
    .map((o) => o.slice(0, o.indexOf("=")))
    .map((k) => (k.includes(":") ? k : `${project}:${k}`));
  if (!result.ok && result.errors.some((e) => flagged.some((key) => e.startsWith(`${key} = `)))) {
    return configErrorMessage(result.errors);
  }
  return undefined;
}

export const USAGE = "usage: npm run synth -- [--stack NAME] [--config key=value ...] [--out DIR]";

export interface SynthIo {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

export async function main(
  argv: string[],
  io: SynthIo = { out: process.stdout, err: process.stderr },
): Promise<number> {
  let values: { stack?: string; config?: string[]; out?: string; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        config: { type: "string", multiple: true },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    io.err.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.out.write(`${USAGE}\n`);
    return 0;
  }
  // Every bad flag is a usage error, found before anything runs.
  const malformed = (values.config ?? []).filter((override) => override.indexOf("=") <= 0);
  if (malformed.length > 0) {
    io.err.write(
      `${malformed.map((m) => `--config ${JSON.stringify(m)}: expected key=value`).join("\n")}\n${USAGE}\n`,
    );
    return 2;
  }
  const flagErrors = badFlagValues(values.stack ?? "dev", values.config ?? []);
  if (flagErrors !== undefined) {
    io.err.write(`npm run synth failed: ${flagErrors}\n${USAGE}\n`);
    return 2;
  }
  try {
    const result = await synth({ stack: values.stack ?? "dev", overrides: values.config, out: values.out });
    io.out.write(`${formatPlan(result, values.stack ?? "dev")}\n`);
    if (values.out) {
      for (const [name, files] of Object.entries(result.archives)) {
        io.out.write(
          `\nWrote ${join(values.out, "resources.json")} and ${join(values.out, "lambda", name)}/ (${Object.keys(files).join(", ")}: ${archiveBytes(files).toLocaleString("en-US")} bytes, ${zippedBytes(files).toLocaleString("en-US")} zipped, the archive Pulumi would upload)\n`,
        );
      }
    }
    return 0;
  } catch (error) {
    // The program's RunError, as `pulumi preview` would show it, labelled by what ran (as `npm run tag
    // failed:` and `demo failed:` are), so a failure is never mistaken for the Lambda's own.
    io.err.write(`npm run synth failed: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
