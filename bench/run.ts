// `npm run bench [-- --small] [--json] [--write] [--lifecycle] [--emulator] [--memory]`
// Every run in its own process: the real tagger core and the SDK client as Lambda configures it,
// over an in-process EC2 fake with EC2's buckets, a service time per call (latency profile), the
// tagger's CPU charged at the function's memorySize, and a simulated clock. Ours (the pipeline)
// beside the sequential design and the seed's approach. Exits non-zero when a goal is missed.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { ROOT } from "../infra/projectRoot";
import { renderChart } from "./chart";
import { measureColdStarts, type ColdStart } from "./coldStart";
import { renderEmulatorTable, runEmulatorBench, type EmulatorRow } from "./emulatorBench";
import type { ExpiryRequest, ExpiryResult } from "./expiry";
import { withSdkLayer } from "./layerProcess";
import type { LifecycleRequest, LifecycleResult } from "./lifecycle";
import {
  DEFAULT_MEMORY_SIZE,
  lambdaHeapFlags,
  type RunRequest,
  type ScenarioRequest,
  type ScenarioResult,
} from "./runScenario";
import type { ScenarioName } from "./scenarios";
import { pacedSeedSeconds, type SeedFigures } from "./seedModel";
import type { Design } from "./simulation";
import type { SweepRequest, SweepResult } from "./sweep";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const SCRIPT = join(__dirname, "runScenario.js");
const PROFILE = "mid";
const CALLS_LIMIT = 1.1;
const WALL_VS_SEQUENTIAL = 0.6;
const SEED_SPEEDUP = 300;
const RSS_GROWTH = 0.1;
const MEMORY_SIZES = [192, 256, 512, 1024];
const ORG = { accounts: 100, regions: 4, snapshots: 10_000, concurrency: [1, 5, 10, 25, 50, 100] };
/** Memory the function needs: the measured peak RSS plus 20%. */
const HEADROOM = 0.2;
/** Simulated days of hourly runs in the full expiry runs (a day at 1,050,000 costs minutes of wall time). */
const EXPIRY_DAYS = { at110k: 2, at1m: 1 };
/** Node.js 22, the Lambda runtime's version: this process if it is one, otherwise from the npm registry. */
const NODE_22 = process.version.startsWith("v22.") ? [process.execPath] : ["npx", "-y", "node@22"];

const args = new Set(process.argv.slice(2));
const small = args.has("--small");
const lifecycleOnly = args.has("--lifecycle");
const emulatorOnly = args.has("--emulator") && !args.has("--write") && !args.has("--json");
const memoryOnly = args.has("--memory") && !args.has("--write") && !args.has("--json");
const log = (line: string) => {
  if (!args.has("--json")) {
    process.stderr.write(`${line}\n`);
  }
};

/** Everything so far, written after every run, so a failure late in a long run loses nothing. */
let progress: unknown;

/** How a run's process gets Node.js and the SDK: the function's layer unless measuring without it. */
interface ChildOptions {
  node?: string[];
  sdk?: "layer" | "full packages";
}

function child<T>(request: RunRequest, memorySize = DEFAULT_MEMORY_SIZE, options: ChildOptions = {}): T {
  if (progress !== undefined) {
    writeFileSync(join(ROOT, "out", "bench-progress.json"), JSON.stringify(progress));
  }
  const [program, ...nodeArgs] = options.node ?? [process.execPath];
  // "full packages": the @aws-sdk/client-* packages whole from node_modules, as the runtime ships them.
  const layer =
    options.sdk === "full packages"
      ? { args: [], env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } }
      : withSdkLayer(process.env);
  const run = spawnSync(
    program,
    [
      ...nodeArgs,
      ...layer.args,
      "--expose-gc",
      ...lambdaHeapFlags(memorySize),
      SCRIPT,
      JSON.stringify(request),
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: layer.env },
  );
  if (run.status !== 0) {
    throw new Error(`${JSON.stringify(request)} failed:\n${run.stderr}`);
  }
  return JSON.parse(run.stdout.trim().split("\n").pop() as string) as T;
}

/**
 * The same in the background: the longest run (a simulated day of hourly runs at 1,050,000
 * resources, half an hour on a 2-core machine) goes beside the others, each on a core of its own.
 */
function backgroundChild<T>(request: RunRequest, memorySize = DEFAULT_MEMORY_SIZE): Promise<T> {
  const layer = withSdkLayer(process.env);
  const proc = spawn(
    process.execPath,
    [...layer.args, "--expose-gc", ...lambdaHeapFlags(memorySize), SCRIPT, JSON.stringify(request)],
    { env: layer.env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) =>
    proc.on("close", (code) =>
      code === 0
        ? resolve(JSON.parse(stdout.trim().split("\n").pop() as string) as T)
        : reject(new Error(`${JSON.stringify(request)} failed:\n${stderr}`)),
    ),
  );
}

function scenario(
  design: Design,
  name: ScenarioName,
  snapshots: number,
  extra: Partial<ScenarioRequest> = {},
  options: ChildOptions = {},
): ScenarioResult {
  const request: ScenarioRequest = {
    kind: "scenario",
    design,
    scenario: name,
    snapshots,
    profile: PROFILE,
    memorySize: DEFAULT_MEMORY_SIZE,
    ...extra,
  };
  const how = options.node ? `, ${options.node.join(" ")}, SDK: ${options.sdk ?? "layer"}` : "";
  log(
    `${design}: ${name} at ${snapshots.toLocaleString("en-US")} snapshots (${request.memorySize} MB${how})...`,
  );
  return child<ScenarioResult>(request, request.memorySize, options);
}

interface Check {
  goal: string;
  ok: boolean;
  detail: string;
}
const checks: Check[] = [];
const check = (goal: string, ok: boolean, detail: string) => checks.push({ goal, ok, detail });
const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.POSITIVE_INFINITY);
const fmt = (n: number, digits = 1) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(digits));
const throttledOf = (r: { throttled: Record<string, number> }) =>
  Object.values(r.throttled).reduce((a, b) => a + b, 0);

const machine = `${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}`;

function lifecycleRequest(): LifecycleRequest {
  return small
    ? {
        kind: "lifecycle",
        days: 30,
        perDay: 12,
        amisPerDay: 2,
        retentionDays: 7,
        graceDays: 1,
        foreign: 20,
        profile: PROFILE,
        memorySize: DEFAULT_MEMORY_SIZE,
      }
    : {
        kind: "lifecycle",
        days: 365,
        perDay: 100,
        amisPerDay: 10,
        retentionDays: 30,
        graceDays: 1,
        foreign: 200,
        profile: PROFILE,
        memorySize: DEFAULT_MEMORY_SIZE,
      };
}

function sweepRequest(): SweepRequest {
  return small
    ? {
        kind: "sweep",
        design: "pipeline",
        snapshots: 20_000,
        images: 1_000,
        profile: PROFILE,
        memorySize: DEFAULT_MEMORY_SIZE,
        timeoutMs: 40_000,
        maxRunsToPass: 8,
        periodsAfter: 2,
        sweepHours: 24,
        scheduleHours: 24,
      }
    : {
        kind: "sweep",
        design: "pipeline",
        snapshots: 1_000_000,
        images: 50_000,
        profile: PROFILE,
        memorySize: DEFAULT_MEMORY_SIZE,
        timeoutMs: 300_000,
        maxRunsToPass: 6,
        periodsAfter: 3,
        sweepHours: 24,
        scheduleHours: 24,
      };
}

/**
 * Expiry keeps up: the stack's defaults (hourly, maxDeletionsPerRun 1000, grace 1, sweep 24 h) on
 * the benchmarked accounts at retention 90. The small run shortens the timeout and the retention
 * and runs every 4 h, so a day's deletions need several runs: counts only.
 */
function expiryRequests(): ExpiryRequest[] {
  const defaults: Pick<
    ExpiryRequest,
    "kind" | "profile" | "memorySize" | "maxDeletionsPerRun" | "graceDays" | "sweepHours"
  > = {
    kind: "expiry",
    profile: PROFILE,
    memorySize: DEFAULT_MEMORY_SIZE,
    maxDeletionsPerRun: 1000,
    graceDays: 1,
    sweepHours: 24,
  };
  if (small) {
    return [
      {
        ...defaults,
        snapshots: 2_000,
        images: 100,
        retentionDays: 7,
        days: 2,
        timeoutMs: 40_000,
        scheduleHours: 4,
      },
    ];
  }
  const full = { ...defaults, retentionDays: 90, timeoutMs: 300_000, scheduleHours: 1 };
  return [
    { ...full, snapshots: 100_000, images: 10_000, days: EXPIRY_DAYS.at110k },
    { ...full, snapshots: 1_000_000, images: 50_000, days: EXPIRY_DAYS.at1m },
  ];
}

function checkExpiry(result: ExpiryResult): void {
  const r = result.request;
  const at = `expiry at ${result.resources.toLocaleString("en-US")} resources, N=${r.retentionDays}, every ${r.scheduleHours} h, ${r.maxDeletionsPerRun} a run at most`;
  const perDay = result.days.map((d) => d.deleted);
  check(
    `${at}: every day deletes at least the churn of ${fmt(result.churnPerDay)} and leaves nothing due`,
    result.days.length > 0 &&
      result.days.every((d) => d.deleted >= Math.floor(result.churnPerDay) && d.leftDue === 0),
    `deleted ${perDay.map((n) => n.toLocaleString("en-US")).join(", ")} a day; due left at day's end ${result.days.map((d) => d.leftDue).join(", ")}`,
  );
  check(
    `${at}: the backlog shrinks run over run and reaches 0 every day (DeletionBacklog alarm quiet)`,
    result.growingReports === 0 && result.days.every((d) => d.minReportedBacklog === 0),
    `${result.growingReports} runs reported growth; least backlog a day ${result.days.map((d) => d.minReportedBacklog ?? "not reported").join(", ")}`,
  );
}

function checkLifecycle(result: LifecycleResult): void {
  const at = `lifecycle (${result.request.days} days, ${result.request.perDay}/day, N=${result.request.retentionDays})`;
  check(
    `${at}: live backups at most X(N + grace + 2)`,
    result.maxLive <= result.liveBound,
    `max ${result.maxLive}, bound ${result.liveBound}`,
  );
  check(
    `${at}: worst overstay past DeleteOn + grace at most 1 day`,
    result.worstOverstayDays <= 1,
    `${result.worstOverstayDays} days`,
  );
  check(
    `${at}: no foreign backup deleted`,
    result.foreignDeleted === 0,
    `${result.foreignDeleted} of ${result.request.foreign}`,
  );
}

function checkSweep(result: SweepResult, goalRuns: number): void {
  const at = `sweep ${result.request.snapshots.toLocaleString("en-US")} + ${result.request.images.toLocaleString("en-US")} AMIs, ${result.request.timeoutMs / 1000} s timeout`;
  check(
    `${at}: first full pass within ${goalRuns} runs`,
    result.runsToFirstPass !== undefined && result.runsToFirstPass <= goalRuns,
    result.runsToFirstPass === undefined
      ? `no full pass in ${result.runs.length} runs`
      : `run ${result.runsToFirstPass}`,
  );
  check(
    `${at}: every backup listed at least once per sweep period after it`,
    result.periodsChecked > 0 && result.worstUnvisited === 0,
    `${result.periodsChecked} periods checked, worst ${result.worstUnvisited.toLocaleString("en-US")} unlisted`,
  );
}

interface Everything {
  machine: string;
  profile: string;
  memorySizeDefault: number;
  scenarios: ScenarioResult[];
  seeds: (SeedFigures & { pacedSeconds: number })[];
  memorySizes: ScenarioResult[];
  million?: ScenarioResult;
  retainedHeap?: ScenarioResult[];
  sweep?: SweepResult;
  lifecycle?: LifecycleResult;
  expiry: ExpiryResult[];
  organization?: {
    target: ScenarioResult[];
    coverage: { concurrency: number; firstRunSeconds: number; steadySeconds: number }[];
  };
  emulatorRows: EmulatorRow[];
  memory?: MemoryFigures;
  checks: Check[];
}

/** Issue 13: the function's memory and cold start under Node.js 22, with the layer and before it. */
interface MemoryFigures {
  node: string;
  resources: number;
  /** First run at 110,000 resources, default memorySize, the SDK from the layer. */
  layer: ScenarioResult;
  /** The same with the full client packages, as the runtime's own SDK would load. */
  fullPackages: ScenarioResult;
  coldStarts: ColdStart[];
  /** Peak RSS with the layer plus HEADROOM, in MB. */
  neededMb: number;
}

async function measureMemory(): Promise<MemoryFigures> {
  const runs = (["layer", "full packages"] as const).map((sdk) =>
    scenario("pipeline", "first run", 100_000, {}, { node: NODE_22, sdk }),
  );
  log(`cold starts under ${NODE_22.join(" ")}...`);
  const coldStarts = await measureColdStarts(NODE_22);
  const [layer, fullPackages] = runs;
  const neededMb = Math.ceil(layer.rssPeakMb * (1 + HEADROOM));
  const resources = layer.snapshots + layer.images;
  check(
    `memory: default memorySize at least the peak RSS at ${resources.toLocaleString("en-US")} resources (Node.js 22, SDK layer) + ${HEADROOM * 100}%`,
    DEFAULT_MEMORY_SIZE >= neededMb,
    `${DEFAULT_MEMORY_SIZE} MB vs ${fmt(layer.rssPeakMb)} MB + ${HEADROOM * 100}% = ${neededMb} MB`,
  );
  check(
    `memory: the run under Node.js 22 with the layer is complete`,
    layer.complete,
    `tagged ${layer.tagged} of ${layer.minimum.toWrite}`,
  );
  return {
    node: coldStarts[0]?.node ?? NODE_22.join(" "),
    resources,
    layer,
    fullPackages,
    coldStarts,
    neededMb,
  };
}

async function main(): Promise<void> {
  const all: Everything = {
    machine,
    profile: PROFILE,
    memorySizeDefault: DEFAULT_MEMORY_SIZE,
    scenarios: [],
    seeds: [],
    memorySizes: [],
    expiry: [],
    emulatorRows: [],
    checks,
  };
  progress = all;
  if (lifecycleOnly) {
    log("lifecycle...");
    all.lifecycle = child<LifecycleResult>(lifecycleRequest());
    checkLifecycle(all.lifecycle);
    return finish(all);
  }
  if (emulatorOnly) {
    all.emulatorRows = await runEmulatorBench(5_000, log);
    return finish(all);
  }
  if (memoryOnly) {
    all.memory = await measureMemory();
    return finish(all);
  }
  const expiries = expiryRequests();
  // The longest expiry run starts first, in the background (one request in the small run: none).
  const longest = expiries.length > 1 ? expiries.pop() : undefined;
  const longestExpiry = longest ? backgroundChild<ExpiryResult>(longest) : undefined;
  if (longest) {
    log(
      `expiry at ${(longest.snapshots + longest.images).toLocaleString("en-US")} resources, in the background...`,
    );
  }
  const sizes = small ? [1_000] : [1_000, 10_000, 100_000];
  const largest = sizes[sizes.length - 1];
  for (const snapshots of sizes) {
    // No forced collections here (sampleHeap): they would inflate the CPU charged and hold peak RSS
    // down, and this run is the one the RSS goal compares 1,100,000 with. Retained heap is sampled
    // in runs of its own below.
    for (const design of ["pipeline", "sequential"] as Design[]) {
      all.scenarios.push(scenario(design, "first run", snapshots));
    }
    log(`seed at ${snapshots.toLocaleString("en-US")} snapshots...`);
    const seed = child<SeedFigures>({ kind: "seed", snapshots, profile: PROFILE });
    all.seeds.push({ ...seed, pacedSeconds: pacedSeedSeconds(seed.resources) });
  }
  for (const name of ["steady state", "retention change 10%", "1% deleted mid-run"] as ScenarioName[]) {
    for (const design of ["pipeline", "sequential"] as Design[]) {
      all.scenarios.push(scenario(design, name, largest));
    }
  }
  const at = (design: Design, name: ScenarioName) =>
    all.scenarios.find(
      (r) => r.design === design && r.scenario === name && r.snapshots === largest,
    ) as ScenarioResult;
  for (const name of [
    "first run",
    "retention change 10%",
    "steady state",
    "1% deleted mid-run",
  ] as ScenarioName[]) {
    const ours = at("pipeline", name);
    const where = `${name} at ${(largest + ours.images).toLocaleString("en-US")} resources`;
    if (name !== "1% deleted mid-run") {
      check(
        `${where}: API calls at most ${CALLS_LIMIT}x the cross-kind minimum`,
        ours.complete && ours.callsOverMinimum <= CALLS_LIMIT,
        `${ours.complete ? "" : "incomplete: "}${ours.totalCalls} calls, minimum ${ours.minimum.total} (${ours.callsOverMinimum.toFixed(3)}x; per-kind minimum ${ours.minimum.perKindTotal})`,
      );
    }
    check(
      `${where}: complete, every failure accounted for`,
      ours.complete && ours.tagged + ours.failed === ours.minimum.toWrite,
      `tagged ${ours.tagged} + failed ${ours.failed} of ${ours.minimum.toWrite}`,
    );
    if (!small && name !== "1% deleted mid-run") {
      const sequential = at("sequential", name);
      check(
        `${where}: simulated wall time at most ${WALL_VS_SEQUENTIAL * 100}% of the sequential design (${PROFILE})`,
        ours.simulatedSeconds <= WALL_VS_SEQUENTIAL * sequential.simulatedSeconds,
        `${fmt(ours.simulatedSeconds)} s vs ${fmt(sequential.simulatedSeconds)} s (${(100 * ratio(ours.simulatedSeconds, sequential.simulatedSeconds)).toFixed(0)}%)`,
      );
    }
  }
  // The proof costs at most one ledger write per CreateTags (a write that dates resources); the EC2
  // call counts above leave ledger writes out, so they are checked here on their own.
  for (const name of ["first run", "retention change 10%"] as ScenarioName[]) {
    const ours = at("pipeline", name);
    check(
      `${name}: at most one ledger write per CreateTags`,
      ours.ledgerWrites <= (ours.calls.CreateTags ?? 0),
      `${ours.ledgerWrites} ledger writes, ${ours.calls.CreateTags ?? 0} CreateTags`,
    );
  }
  const steady = at("pipeline", "steady state");
  check(
    `steady state: no CreateTags, no ledger writes`,
    (steady.calls.CreateTags ?? 0) === 0 && steady.ledgerWrites === 0,
    `${steady.calls.CreateTags ?? 0} CreateTags, ${steady.ledgerWrites} ledger writes`,
  );
  check(`steady state: no throttled call`, throttledOf(steady) === 0, `${throttledOf(steady)} throttled`);
  if (!small) {
    const first = at("pipeline", "first run");
    const seed = all.seeds[all.seeds.length - 1];
    check(
      `first run at ${(largest + first.images).toLocaleString("en-US")}: at least ${SEED_SPEEDUP}x faster than the bucket-paced seed`,
      ratio(seed.pacedSeconds, first.simulatedSeconds) >= SEED_SPEEDUP,
      `${fmt(first.simulatedSeconds)} s vs ${fmt(seed.pacedSeconds)} s (${ratio(seed.pacedSeconds, first.simulatedSeconds).toFixed(0)}x)`,
    );
    for (const memorySize of MEMORY_SIZES.filter((m) => m !== DEFAULT_MEMORY_SIZE)) {
      all.memorySizes.push(scenario("pipeline", "first run", largest, { memorySize }));
    }
    all.memorySizes.unshift(first);
    // Retained heap in runs of their own: a forced collection at every request costs CPU on helper
    // threads that process.cpuUsage counts, which would inflate the timed runs above.
    all.retainedHeap = (["first run", "steady state"] as ScenarioName[]).map((name) =>
      scenario("pipeline", name, largest, { sampleHeap: true }),
    );
    all.million = scenario("pipeline", "first run", 1_000_000, { images: 100_000 });
    check(
      `peak RSS at 1,100,000 resources within ${RSS_GROWTH * 100}% of the peak at ${(largest + first.images).toLocaleString("en-US")}`,
      all.million.rssPeakMb <= first.rssPeakMb * (1 + RSS_GROWTH),
      `${fmt(all.million.rssPeakMb)} MB vs ${fmt(first.rssPeakMb)} MB`,
    );
    // Issue 15: an organization's targets are independent (EC2 limits are per account and region,
    // each worker is its own Lambda), so one simulated target times the schedule over C workers.
    const target = (["first run", "steady state"] as ScenarioName[]).map((name) =>
      scenario("pipeline", name, ORG.snapshots, { images: 0 }),
    );
    const targets = ORG.accounts * ORG.regions;
    all.organization = {
      target,
      coverage: ORG.concurrency.map((c) => ({
        concurrency: c,
        firstRunSeconds: Math.ceil(targets / c) * target[0].simulatedSeconds,
        steadySeconds: Math.ceil(targets / c) * target[1].simulatedSeconds,
      })),
    };
    for (const t of target) {
      check(
        `organization target (${ORG.snapshots.toLocaleString("en-US")} snapshots), ${t.scenario}: calls at most ${CALLS_LIMIT}x the minimum`,
        t.complete && t.callsOverMinimum <= CALLS_LIMIT,
        `${t.totalCalls} calls, minimum ${t.minimum.total}`,
      );
    }
  }
  log("sweep...");
  all.sweep = child<SweepResult>(sweepRequest());
  checkSweep(all.sweep, small ? 8 : 5);
  log("lifecycle...");
  all.lifecycle = child<LifecycleResult>(lifecycleRequest());
  checkLifecycle(all.lifecycle);
  for (const request of expiries) {
    log(
      `expiry at ${(request.snapshots + request.images).toLocaleString("en-US")} resources, ${request.days} days...`,
    );
    all.expiry.push(child<ExpiryResult>(request));
  }
  if (longestExpiry) {
    log("waiting for the expiry run in the background...");
    all.expiry.push(await longestExpiry);
  }
  all.expiry.forEach(checkExpiry);
  if (args.has("--emulator")) {
    all.emulatorRows = await runEmulatorBench(5_000, log);
  }
  if (!small) {
    all.memory = await measureMemory();
  }
  if (!small) {
    writeFileSync(join(ROOT, "bench", "results.svg"), chart(all));
  }
  if (args.has("--write")) {
    writeFileSync(join(ROOT, "BENCHMARKS.md"), renderMarkdown(all));
  }
  return finish(all);
}

function finish(all: Everything): void {
  if (args.has("--json")) {
    process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
  } else {
    process.stdout.write(`${renderTables(all)}\n\n${renderChecks()}\n`);
  }
  process.exitCode = checks.some((c) => !c.ok) ? 1 : 0;
}

function chart(all: Everything): string {
  const firstRuns = (design: Design) =>
    all.scenarios
      .filter((r) => r.design === design && r.scenario === "first run")
      .map((r) => ({ resources: r.snapshots + r.images, seconds: r.simulatedSeconds }));
  return renderChart(`Simulated wall time of a first run, ${PROFILE} latency, ${DEFAULT_MEMORY_SIZE} MB`, [
    {
      label: "seed's approach paced to the CreateTags bucket (lower bound, no latency)",
      color: "#c0392b",
      points: all.seeds.map((s) => ({ resources: s.resources, seconds: s.pacedSeconds })),
    },
    { label: "sequential design (one call at a time)", color: "#7f8c8d", points: firstRuns("sequential") },
    { label: "ours: the pipeline", color: "#2471a3", points: firstRuns("pipeline") },
  ]);
}

function callsText(r: ScenarioResult): string {
  return Object.entries(r.calls)
    .map(
      ([action, n]) =>
        `${action.replace("Describe", "D.")} ${n}${r.throttled[action] ? ` (${r.throttled[action]} thr.)` : ""}`,
    )
    .join(", ");
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => " --- ").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

function renderTables(all: Everything): string {
  const parts: string[] = [];
  if (all.scenarios.length > 0) {
    parts.push(
      `Scenarios, ${PROFILE} latency, ${DEFAULT_MEMORY_SIZE} MB (CPU charged at ${(1769 / DEFAULT_MEMORY_SIZE).toFixed(1)}x), 10% AMIs:`,
      "",
      table(
        [
          "resources",
          "scenario",
          "design",
          "API calls",
          "minimum (per kind)",
          "calls / min",
          "simulated s",
          "CPU ms / 1,000",
          "GB-s",
          "peak RSS MB",
          "retained heap MB",
          "complete",
        ],
        all.scenarios.map((r) => [
          (r.snapshots + r.images).toLocaleString("en-US"),
          r.scenario,
          r.design,
          callsText(r),
          `${r.minimum.total} (${r.minimum.perKindTotal})`,
          r.callsOverMinimum.toFixed(3),
          fmt(r.simulatedSeconds),
          fmt(r.cpuMsPer1000),
          fmt(r.gbSeconds),
          fmt(r.rssPeakMb),
          r.heapGrowthMb === undefined ? "-" : fmt(r.heapGrowthMb),
          r.complete ? "yes" : `no (${r.stopReason ?? ""})`,
        ]),
      ),
    );
  }
  if (all.seeds.length > 0) {
    parts.push(
      "",
      `The seed's approach: boto3 legacy retries (5 attempts), ${PROFILE} latency, 300 s timeout; and paced to the CreateTags bucket:`,
      "",
      table(
        [
          "resources",
          "tagged before the timeout",
          "calls",
          "throttled",
          "failed after 5 attempts",
          "paced: s for all",
        ],
        all.seeds.map((s) => [
          s.resources.toLocaleString("en-US"),
          s.tagged.toLocaleString("en-US"),
          s.calls.toLocaleString("en-US"),
          s.throttled.toLocaleString("en-US"),
          String(s.failedAfterRetries),
          fmt(s.pacedSeconds),
        ]),
      ),
    );
  }
  if (all.memorySizes.length > 0) {
    parts.push(
      "",
      `memorySize, first run at ${(all.memorySizes[0].snapshots + all.memorySizes[0].images).toLocaleString("en-US")} resources, ${PROFILE} latency:`,
      "",
      table(
        [
          "memorySize MB",
          "CPU scale",
          "simulated s",
          "GB-s",
          "CPU ms / 1,000 (measured)",
          "peak RSS MB",
          "heap limit MB",
        ],
        all.memorySizes.map((r) => [
          String(r.memorySize),
          Math.max(1, 1769 / r.memorySize).toFixed(2),
          fmt(r.simulatedSeconds),
          fmt(r.gbSeconds),
          fmt(r.cpuMsPer1000),
          fmt(r.rssPeakMb),
          fmt(r.heapLimitMb),
        ]),
      ),
    );
  }
  if (all.retainedHeap) {
    parts.push(
      "",
      `Retained heap (forced GC at every request; CPU figures of these runs not used), ${DEFAULT_MEMORY_SIZE} MB heap flags:`,
      "",
      table(
        ["scenario", "retained heap growth MB", "peak RSS MB"],
        all.retainedHeap.map((r) => [r.scenario, fmt(r.heapGrowthMb ?? 0), fmt(r.rssPeakMb)]),
      ),
    );
  }
  if (all.million) {
    const m = all.million;
    parts.push(
      "",
      `1,100,000 resources, first run, 300 s timeout: ${m.totalCalls} calls, ${fmt(m.simulatedSeconds)} s, tagged ${m.tagged.toLocaleString("en-US")}, complete ${m.complete}, peak RSS ${fmt(m.rssPeakMb)} MB.`,
    );
  }
  if (all.sweep) {
    const s = all.sweep;
    parts.push(
      "",
      `Sweep: ${s.request.snapshots.toLocaleString("en-US")} snapshots + ${s.request.images.toLocaleString("en-US")} AMIs, ${s.request.profile}, ${s.request.timeoutMs / 1000} s timeout, every ${s.request.scheduleHours} h, sweep period ${s.request.sweepHours} h: first full pass at run ${s.runsToFirstPass ?? "none"}; ${s.periodsChecked} periods checked, worst ${s.worstUnvisited} unlisted.`,
      "",
      table(
        [
          "run",
          "simulated s",
          "calls",
          "throttled",
          "tagged",
          "run complete",
          "pass complete",
          "shards done",
        ],
        s.runs.map((r) => [
          String(r.run),
          fmt(r.simulatedSeconds),
          String(r.calls),
          String(r.throttled),
          r.tagged.toLocaleString("en-US"),
          String(r.complete),
          String(r.passComplete),
          r.shardsDone === undefined ? "-" : String(r.shardsDone),
        ]),
      ),
    );
  }
  if (all.lifecycle) {
    const l = all.lifecycle;
    parts.push(
      "",
      `Lifecycle: ${l.request.days} days, ${l.request.perDay} resources a day (${l.request.amisPerDay} AMIs with their snapshots), retention ${l.request.retentionDays} days, grace ${l.request.graceDays}, expiry on, daily runs, ${l.request.profile} latency, ${l.request.foreign} foreign backups:`,
      "",
      table(
        [
          "max live (bound)",
          "worst overstay, days",
          "foreign deleted",
          "deleted",
          "calls/day mean (max)",
          "minimum/day mean (max)",
          "throttled calls",
          "incomplete runs",
          "max due backlog",
        ],
        [
          [
            `${l.maxLive} (${l.liveBound})`,
            String(l.worstOverstayDays),
            String(l.foreignDeleted),
            l.deleted.toLocaleString("en-US"),
            `${fmt(l.callsPerDay.mean)} (${l.callsPerDay.max})`,
            `${fmt(l.minimumPerDay.mean)} (${l.minimumPerDay.max})`,
            String(l.throttledCalls),
            String(l.incompleteRuns),
            l.backlogMax === undefined ? "not reported" : String(l.backlogMax),
          ],
        ],
      ),
    );
  }
  for (const e of all.expiry) {
    const r = e.request;
    parts.push(
      "",
      `Expiry keeps up: ${r.snapshots.toLocaleString("en-US")} snapshots + ${r.images.toLocaleString("en-US")} AMIs at steady state, retention ${r.retentionDays} days (${fmt(e.churnPerDay)} fall due a day, as many made), ${r.profile} latency, ${r.timeoutMs / 1000} s timeout, a run every ${r.scheduleHours} h, maxDeletionsPerRun ${r.maxDeletionsPerRun}, grace ${r.graceDays} day, sweep ${r.sweepHours} h:`,
      "",
      table(
        [
          "day",
          "due",
          "deleted",
          "due left at day's end",
          "runs to clear",
          "most deletions in a run",
          "longest run s",
          "GB-s of the day's runs",
          "least reported backlog",
          "throttled",
          "incomplete runs",
        ],
        e.days.map((d) => [
          String(d.day + 1),
          d.due.toLocaleString("en-US"),
          d.deleted.toLocaleString("en-US"),
          d.leftDue.toLocaleString("en-US"),
          d.runsToClear === undefined ? `not in ${d.runs}` : `${d.runsToClear} of ${d.runs}`,
          d.maxDeletionsInRun.toLocaleString("en-US"),
          fmt(d.maxRunSeconds),
          fmt((d.runSeconds * r.memorySize) / 1024),
          d.minReportedBacklog === undefined ? "not reported" : d.minReportedBacklog.toLocaleString("en-US"),
          String(d.throttled),
          String(d.incompleteRuns),
        ]),
      ),
    );
  }
  if (all.organization) {
    const o = all.organization;
    parts.push(
      "",
      `Organization: ${ORG.accounts} accounts x ${ORG.regions} regions x ${ORG.snapshots.toLocaleString("en-US")} snapshots, ${PROFILE}: one target takes ${fmt(o.target[0].simulatedSeconds)} s (${o.target[0].totalCalls} calls, minimum ${o.target[0].minimum.total}) on a first run, ${fmt(o.target[1].simulatedSeconds)} s (${o.target[1].totalCalls} calls) at steady state.`,
      "",
      table(
        ["worker concurrency", "first run covers the organization in", "steady state"],
        o.coverage.map((c) => [
          String(c.concurrency),
          `${fmt(c.firstRunSeconds / 60)} min`,
          `${fmt(c.steadySeconds / 60)} min`,
        ]),
      ),
    );
  }
  if (all.memory) {
    parts.push("", renderMemory(all.memory));
  }
  if (all.emulatorRows.length > 0) {
    parts.push("", `On the EC2 emulator (moto):\n\n${renderEmulatorTable(all.emulatorRows)}`);
  }
  return parts.join("\n");
}

function renderMemory(m: MemoryFigures): string {
  const cold = (sdk: ColdStart["sdk"]) => m.coldStarts.find((c) => c.sdk === sdk);
  const row = (label: string, run: ScenarioResult, sdk: ColdStart["sdk"]) => [
    label,
    fmt(run.rssPeakMb),
    run.complete ? "yes" : "no",
    cold(sdk) ? fmt((cold(sdk) as ColdStart).initMs) : "-",
    cold(sdk) ? fmt((cold(sdk) as ColdStart).rssMb) : "-",
  ];
  return [
    `Memory and cold start, ${m.node}, first run at ${m.resources.toLocaleString("en-US")} resources, ${DEFAULT_MEMORY_SIZE} MB heap flags (peak RSS includes the fake account); cold start: a fresh process loads the serialized archive, which builds its clients (median of 5):`,
    "",
    table(
      ["SDK", "peak RSS MB", "complete", "cold start ms", "RSS after cold start MB"],
      [
        row("before: the full client packages, as the runtime ships them", m.fullPackages, "full packages"),
        row("after: the function's layer", m.layer, "layer"),
      ],
    ),
    "",
    `Needed: ${fmt(m.layer.rssPeakMb)} MB + ${HEADROOM * 100}% = ${m.neededMb} MB; default memorySize ${DEFAULT_MEMORY_SIZE} MB (set for CPU, see docs/development.md).`,
  ].join("\n");
}

function renderChecks(): string {
  return ["Goals:", ...checks.map((c) => `  ${c.ok ? "pass" : "FAIL"} ${c.goal}: ${c.detail}`)].join("\n");
}

function renderMarkdown(all: Everything): string {
  return `# Benchmarks

Generated by \`npm run bench -- --write\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${all.machine}.
Every figure below is from that one run; conditions are stated with each table. Runs go one at a
time, each in a process of its own, except the expiry run at 1,050,000 resources, which runs beside
them on the machine's other core.

## What is measured

Each run is a fresh process running the real tagger core (\`handler/tagger.ts\`) with the EC2 client
as Lambda configures it, over an in-process EC2 fake (\`local/emulator/\`) plugged in as the SDK's
request handler, on a simulated clock. The fake:

- pages, filters (with \`*\` and \`?\` wildcards), refuses and fails calls as EC2 does, with IDs
  spread over the 256 two-hex-digit prefixes the sweep shards by;
- throttles from EC2's published token buckets (non-mutating 100 + 20/s, CreateTags 100 + 10/s,
  mutating 200 + 5/s), which a background load can share;
- answers after a **service time** per call (\`local/emulator/latency.ts\`), so concurrent calls
  overlap. Profiles (low / mid / high): a Describe page of 1000 takes 0.5 / 1.0 / 1.5 s and a
  CreateTags of 1000 IDs 0.3 / 0.65 / 1.0 s (the measurements quoted in issue 14). **Assumptions:**
  how each total splits into base + per item, DescribeImages costing what DescribeSnapshots does,
  DeleteSnapshot / DeregisterImage (0.1 / 0.2 / 0.4 s), other mutating calls, throttled answers.

The tagger's own **CPU time** (process.cpuUsage between requests, the fake's work left out) is charged
on one simulated CPU at max(1, 1769 / memorySize) times its measured length (Lambda: one vCPU at
1,769 MB). **Assumption:** a core of the machine above is as fast as Lambda's vCPU. **Cost** is
memorySize / 1024 x simulated seconds (GB-s). **Memory:** each process runs with the heap flags
Lambda's Node.js bootstrap passes (\`--max-old-space-size\` = 90% of memorySize,
\`--max-semi-space-size\` = memorySize / 20; read in copies of the nodejs18.x bootstrap, not in AWS's
documentation: an assumption for Node.js 22). Peak RSS includes the fake account; retained heap is
sampled after a forced GC at every request, over the process with the SDK loaded.

The **minimum** counts list pages at 1000 a page per kind, plus one CreateTags per 1000 resources per
distinct tag set **across kinds** (CreateTags takes AMI and snapshot IDs in one call), plus, per
damaged batch, the call that fails and one filtered Describe per 200 IDs per kind. The per-kind
minimum (the old figure) is shown in brackets.

The **seed's approach** (Python, boto3): unpaginated listing, then one CreateTags per resource,
sequential, with boto3's default legacy retry mode (5 attempts, backoff rand() x 2^(attempt-1) s,
RequestLimitExceeded retried) at the ${PROFILE} profile, stopped by its 300 s timeout; and its
bucket-paced lower bound for all: (resources - 100) / 10 s.

## Results

${renderTables(all)}

![Simulated wall time against resource count](bench/results.svg)

${renderChecks()}

## Reproduce

\`\`\`sh
npm ci
npm run bench -- --json        # everything, with pass/fail per goal (writes bench/results.svg)
npm run bench -- --small       # what CI runs: counts only, under a minute
npm run bench -- --lifecycle   # 365 simulated days with expiry on
npm run bench -- --emulator    # 5,000 snapshots through the SDK over HTTP against moto
npm run bench -- --memory      # peak RSS and cold start under Node.js 22, with the SDK layer and without
npm run bench -- --write       # all of it, and rewrites this file
\`\`\`
`;
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
