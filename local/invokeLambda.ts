// Runs a serialized Lambda archive in a child Node.js process, as the Lambda runtime would, via
// invokeArchive.js. Shared by the end-to-end tests and the demo.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../infra/projectRoot";

const INVOKER = join(ROOT, "local", "invokeArchive.js");

export interface Invocation {
  ok: boolean;
  /** process.version inside the child. */
  node: string;
  response?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  error?: { name: string; message: string };
  /** Milliseconds of the timeout left when the handler answered. */
  msLeft?: number;
  /** Every module file the child loaded (real paths), this invoker included. */
  loaded: string[];
  /** What the function logged. */
  stdout: string;
}

/** Writes the archive's files to a fresh directory; returns it and a way to remove it. */
export function unpackArchive(files: Record<string, string>): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tagger-archive-"));
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * As Lambda runs it: the SDK comes from the function's layer, as /opt/nodejs/node_modules would
 * provide it, and from nowhere else (the archive is unpacked outside the project, so no
 * node_modules above it can answer).
 */
function childEnvironment(layerDir: string, env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_PATH: join(layerDir, "nodejs", "node_modules"),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...env,
  };
}

function readResult(resultFile: string, status: number | null, stderr: string, stdout: string): Invocation {
  let result: Omit<Invocation, "stdout">;
  try {
    result = JSON.parse(readFileSync(resultFile, "utf8"));
  } catch {
    throw new Error(`the invocation wrote no result (exit ${status}):\n${stderr}`);
  }
  return { ...result, stdout };
}

/**
 * `command` starts Node.js (e.g. [process.execPath] or ["npx", "-y", "node@22"]); `layerDir` is the
 * function's SDK layer (sdkLayer.ts); `env` is the function's environment plus AWS settings.
 */
export function invokeArchive(
  command: string[],
  archiveDir: string,
  layerDir: string,
  env: Record<string, string>,
): Invocation {
  const resultFile = join(archiveDir, "result.json");
  rmSync(resultFile, { force: true });
  const [program, ...args] = command;
  const run = spawnSync(program, [...args, INVOKER, archiveDir, resultFile], {
    encoding: "utf8",
    timeout: 180_000,
    env: childEnvironment(layerDir, env),
  });
  return readResult(resultFile, run.status, run.stderr, run.stdout);
}

/** The same, without blocking this process: for tests that serve the function from here (a proxy). */
export async function invokeArchiveAsync(
  command: string[],
  archiveDir: string,
  layerDir: string,
  env: Record<string, string>,
): Promise<Invocation> {
  const resultFile = join(archiveDir, "result.json");
  rmSync(resultFile, { force: true });
  const [program, ...args] = command;
  const child = spawn(program, [...args, INVOKER, archiveDir, resultFile], {
    env: childEnvironment(layerDir, env),
  });
  let [stdout, stderr] = ["", ""];
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), 180_000);
  const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  clearTimeout(killer);
  return readResult(resultFile, status, stderr, stdout);
}
