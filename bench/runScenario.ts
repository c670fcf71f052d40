// One benchmark run in a fresh process, so memory figures belong to that run alone.
// Usage: node --expose-gc [heap flags] out/bench/runScenario.js '<RunRequest as JSON>'
// Prints one JSON object. Kinds: "scenario" (one tagger run), "sweep" (daily runs of a large
// account until a full pass and beyond), "lifecycle" (a year of days), "expiry" (hourly runs of an
// account at steady state with expiry on), "seed" (the seed's model).
import { SHARDS, encodeShards } from "../handler/shards";
import { SWEEP_STATE, type SweepState } from "../handler/sweep";
import { DEFAULTS } from "../infra/config";
import type { LatencyProfile } from "../local/emulator/latency";
import { runExpiry, type ExpiryRequest } from "./expiry";
import { runLifecycle, type LifecycleRequest } from "./lifecycle";
import { runSeedWithRetries } from "./seedModel";
import {
  SETTINGS,
  TODAY,
  accountSpec,
  benchLedgerEntries,
  minimumCalls,
  type ScenarioName,
} from "./scenarios";
import { createSimulation, gc, type Design, type SweepReport } from "./simulation";
import { runSweep, type SweepRequest } from "./sweep";

const MB = 1024 * 1024;
export const LAMBDA_TIMEOUT_MS = 300_000;

export interface ScenarioRequest {
  kind: "scenario";
  design: Design;
  scenario: ScenarioName;
  snapshots: number;
  images?: number;
  profile: LatencyProfile | "none";
  memorySize: number;
  timeoutMs?: number;
  sampleHeap?: boolean;
}

export interface SeedRequest {
  kind: "seed";
  snapshots: number;
  profile: LatencyProfile;
}

export type RunRequest = ScenarioRequest | SeedRequest | SweepRequest | LifecycleRequest | ExpiryRequest;

export interface ScenarioResult {
  design: Design;
  scenario: ScenarioName;
  snapshots: number;
  images: number;
  profile: string;
  memorySize: number;
  node: string;
  calls: Record<string, number>;
  throttled: Record<string, number>;
  totalCalls: number;
  ledgerWrites: number;
  minimum: ReturnType<typeof minimumCalls>;
  callsOverMinimum: number;
  simulatedSeconds: number;
  wallSeconds: number;
  cpuMs: number;
  /** Measured CPU per 1,000 resources listed, on this machine (unscaled). */
  cpuMsPer1000: number;
  gbSeconds: number;
  tagged: number;
  failed: number;
  complete: boolean;
  stopReason?: string;
  sweep?: SweepReport;
  rssBaselineMb: number;
  rssPeakMb: number;
  heapRetainedPeakMb?: number;
  heapGrowthMb?: number;
  /** The V8 heap limit the process ran under (Lambda's sizing for memorySize). */
  heapLimitMb: number;
}

async function runOne(request: ScenarioRequest): Promise<ScenarioResult> {
  const spec = accountSpec(request.scenario, request.snapshots, request.images);
  const simulation = createSimulation({
    spec,
    start: Date.parse(`${TODAY}T10:00:00Z`),
    profile: request.profile,
    memorySize: request.memorySize,
    design: request.design,
    sampleHeap: request.sampleHeap,
  });
  for (const entry of benchLedgerEntries(simulation.ledger.scope)) {
    simulation.ledger.entries.set(entry.batchId, entry);
  }
  if (request.scenario !== "first run") {
    // Every scenario but the first run follows earlier runs, whose last full pass counted the
    // account: the sweep sizes its partitions by that, as in production.
    const state: SweepState = {
      pass: {
        startedAt: new Date(Date.parse(`${TODAY}T09:00:00Z`)).toISOString(),
        done: encodeShards(Array(SHARDS).fill(true)),
        listed: request.snapshots,
      },
      estimate: request.snapshots,
      lastFullPass: { startedAt: `${TODAY}T09:00:00.000Z`, completedAt: `${TODAY}T09:05:00.000Z` },
    };
    await simulation.ledger.writeState(SWEEP_STATE, JSON.stringify(state));
  }
  gc();
  const baseline = process.memoryUsage();
  const figures = await simulation.run(
    { ...SETTINGS, dryRun: false, safetyMarginMs: 30_000 },
    request.timeoutMs ?? LAMBDA_TIMEOUT_MS,
  );
  simulation.restore();
  const { report } = figures;
  const minimum = minimumCalls(spec);
  const listed = report.amis.listed + report.snapshots.listed;
  const v8 = await import("node:v8");
  return {
    design: request.design,
    scenario: request.scenario,
    snapshots: request.snapshots,
    images: spec.images,
    profile: request.profile,
    memorySize: request.memorySize,
    node: process.version,
    calls: figures.calls,
    throttled: figures.throttled,
    totalCalls: figures.totalCalls,
    ledgerWrites: figures.ledgerWrites,
    minimum,
    callsOverMinimum: figures.totalCalls / minimum.total,
    simulatedSeconds: figures.simulatedSeconds,
    wallSeconds: figures.wallSeconds,
    cpuMs: figures.cpuMs,
    cpuMsPer1000: listed > 0 ? (figures.cpuMs / listed) * 1000 : 0,
    gbSeconds: (request.memorySize / 1024) * figures.simulatedSeconds,
    tagged: report.amis.tagged + report.snapshots.tagged,
    failed: report.failureCount,
    complete: report.complete,
    stopReason: report.stopReason,
    sweep: report.sweep,
    rssBaselineMb: baseline.rss / MB,
    rssPeakMb: process.resourceUsage().maxRSS / 1024,
    heapRetainedPeakMb: request.sampleHeap ? simulation.peakHeap / MB : undefined,
    heapGrowthMb: request.sampleHeap ? Math.max(0, simulation.peakHeap - baseline.heapUsed) / MB : undefined,
    heapLimitMb: v8.getHeapStatistics().heap_size_limit / MB,
  };
}

async function dispatch(request: RunRequest): Promise<unknown> {
  switch (request.kind) {
    case "scenario":
      return runOne(request);
    case "seed":
      return runSeedWithRetries(
        accountSpec("first run", request.snapshots),
        request.profile,
        LAMBDA_TIMEOUT_MS,
      );
    case "sweep":
      return runSweep(request);
    case "lifecycle":
      return runLifecycle(request);
    case "expiry":
      return runExpiry(request);
  }
}

/**
 * Lambda's Node.js runtime starts node with --max-old-space-size at 90% of memorySize and
 * --max-semi-space-size at a twentieth (new space = memory / 10, two semi-spaces): as read in
 * copies of the runtime's /var/runtime/bootstrap (nodejs18.x) published on GitHub, not in AWS's
 * documentation, so an assumption for later runtimes.
 */
export function lambdaHeapFlags(memorySize: number): string[] {
  const newSpace = Math.floor(memorySize / 10);
  return [
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memorySize - newSpace}`,
  ];
}

export const DEFAULT_MEMORY_SIZE = DEFAULTS.memorySize;

if (require.main === module) {
  const request = JSON.parse(process.argv[2] ?? "{}") as RunRequest;
  // The SDK warns that its 2027 releases need Node.js 22; this tool runs on 20 and 22 on purpose.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  dispatch(request).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
