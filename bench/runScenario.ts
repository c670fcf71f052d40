// One benchmark scenario in a fresh process, so memory figures belong to that run alone.
// Usage: node --expose-gc out/bench/runScenario.js <ours|seed|seed-paced> <scenario> <snapshots>
// Prints one JSON object.
import { createEc2Client } from "../handler/awsClients";
import type { Logger } from "../handler/ports";
import { tagBackups } from "../handler/tagger";
import { DELETE_ON_KEY, RETENTION_KEY } from "../handler/tagRules";
import { addDays } from "../handler/dates";
import { useFakeTime } from "../local/fakeTime";
import { MemoryLedger } from "../local/memoryLedger";
import { Ec2Account, Ec2Error } from "../local/emulator/ec2Account";
import { queryProtocolHandler } from "../local/emulator/ec2Query";
import {
  SETTINGS,
  TODAY,
  accountSpec,
  benchLedgerEntries,
  minimumCalls,
  type ScenarioName,
} from "./scenarios";

const MB = 1024 * 1024;
const LAMBDA_TIMEOUT_MS = 300_000;

export type Runner = "ours" | "seed" | "seed-paced";

export interface ScenarioResult {
  runner: Runner;
  scenario: ScenarioName;
  snapshots: number;
  images: number;
  node: string;
  calls: Record<string, number>;
  throttled: Record<string, number>;
  totalCalls: number;
  /** Ledger entries written (at most one per CreateTags) and ledger read calls: not EC2 calls. */
  ledgerWrites: number;
  ledgerReads: number;
  minimum: ReturnType<typeof minimumCalls>;
  callsOverMinimum: number;
  simulatedSeconds: number;
  wallSeconds: number;
  tagged: number;
  failed: number;
  failedByCode: Record<string, number>;
  complete: boolean;
  rssBaselineMb: number;
  rssPeakMb: number;
  heapGrowthMb: number;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) {
    throw new Error("run with node --expose-gc");
  }
  collect();
}

const quietLogger = (): Logger & { lines: number } => {
  const logger = {
    lines: 0,
    info: () => void logger.lines++,
    warn: () => void logger.lines++,
    error: () => void logger.lines++,
  };
  return logger;
};

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

async function runOurs(scenario: ScenarioName, snapshots: number): Promise<ScenarioResult> {
  // Simulated time: the SDK's backoff sleeps and the fake's token buckets share one fake clock.
  const time = useFakeTime(Date.parse(`${TODAY}T10:00:00Z`));
  const spec = accountSpec(scenario, snapshots);
  const account = new Ec2Account(spec, { now: () => Date.now(), throttle: true });
  let gcNs = 0n;
  let peakHeap = 0;
  // Retained heap, sampled at every request after a full collection: garbage does not count.
  const sampleHeap = () => {
    const t = process.hrtime.bigint();
    gc();
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    gcNs += process.hrtime.bigint() - t;
  };
  const ec2 = createEc2Client({
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    requestHandler: queryProtocolHandler(account, sampleHeap),
  });
  const ledger = new MemoryLedger("us-east-1");
  for (const entry of benchLedgerEntries(ledger.scope)) {
    ledger.entries.set(entry.batchId, entry);
  }
  gc();
  const baseline = process.memoryUsage();
  const log = quietLogger();
  const simStart = Date.now();
  const wallStart = process.hrtime.bigint();

  const run = tagBackups(
    {
      ec2,
      clock: () => new Date(),
      log,
      remainingMs: () => LAMBDA_TIMEOUT_MS - (Date.now() - simStart),
      ledger,
    },
    { ...SETTINGS, dryRun: false, safetyMarginMs: 30_000 },
  );
  const outcome = await time.settle(run).then(
    (report) => ({ report, failure: undefined as unknown }),
    (failure: unknown) => ({ report: undefined, failure }),
  );
  const wallNs = process.hrtime.bigint() - wallStart - gcNs;
  const simulatedSeconds = (Date.now() - simStart) / 1000;
  time.restore();
  if (outcome.failure || !outcome.report) {
    throw outcome.failure;
  }
  const report = outcome.report;
  const minimum = minimumCalls(spec);
  const totalCalls = sum(account.calls);
  const failedByCode: Record<string, number> = {};
  for (const f of report.failures) {
    failedByCode[f.code] = (failedByCode[f.code] ?? 0) + 1;
  }
  return {
    runner: "ours",
    scenario,
    snapshots,
    images: spec.images,
    node: process.version,
    calls: { ...account.calls },
    throttled: { ...account.throttled },
    totalCalls,
    ledgerWrites: ledger.writes,
    ledgerReads: ledger.reads,
    minimum,
    callsOverMinimum: totalCalls / minimum.total,
    simulatedSeconds,
    wallSeconds: Number(wallNs) / 1e9,
    tagged: report.amis.tagged + report.snapshots.tagged,
    failed: report.failureCount,
    failedByCode,
    complete: report.complete,
    rssBaselineMb: baseline.rss / MB,
    rssPeakMb: process.resourceUsage().maxRSS / 1024,
    heapGrowthMb: Math.max(0, peakHeap - baseline.heapUsed) / MB,
  };
}

/**
 * What the seed's code does: unpaginated listing, one CreateTags per resource with DeleteOn =
 * today + N (every run), sequential, no retry. `paced` waits for a token before each call instead:
 * the least time one call per resource can take at EC2's published rate.
 */
function runSeed(scenario: ScenarioName, snapshots: number, paced: boolean): ScenarioResult {
  let now = Date.parse(`${TODAY}T10:00:00Z`);
  const start = now;
  const spec = accountSpec(scenario, snapshots);
  const account = new Ec2Account(spec, { now: () => now, throttle: true });
  gc();
  const baseline = process.memoryUsage();
  const wallStart = process.hrtime.bigint();
  const images = account.describe("image", {}).items;
  const snapshotList = account.describe("snapshot", {}).items;
  gc();
  const heapWithLists = process.memoryUsage().heapUsed;
  const tags = [
    { Key: RETENTION_KEY, Value: `${SETTINGS.retentionDays}days` },
    { Key: DELETE_ON_KEY, Value: addDays(TODAY, SETTINGS.retentionDays) as string },
  ];
  let tagged = 0;
  const failedByCode: Record<string, number> = {};
  for (const resource of [...images, ...snapshotList]) {
    if (paced) {
      now += account.createTagsWaitMs();
    }
    try {
      account.createTags([resource.id], tags);
      tagged += 1;
    } catch (error) {
      const code = error instanceof Ec2Error ? error.code : "Error";
      failedByCode[code] = (failedByCode[code] ?? 0) + 1;
    }
  }
  const wallNs = process.hrtime.bigint() - wallStart;
  const minimum = minimumCalls(spec);
  const totalCalls = sum(account.calls);
  return {
    runner: paced ? "seed-paced" : "seed",
    scenario,
    snapshots,
    images: spec.images,
    node: process.version,
    calls: { ...account.calls },
    throttled: { ...account.throttled },
    totalCalls,
    ledgerWrites: 0,
    ledgerReads: 0,
    minimum,
    callsOverMinimum: totalCalls / minimum.total,
    simulatedSeconds: (now - start) / 1000,
    wallSeconds: Number(wallNs) / 1e9,
    tagged,
    failed: sum(failedByCode),
    failedByCode,
    complete: true,
    rssBaselineMb: baseline.rss / MB,
    rssPeakMb: process.resourceUsage().maxRSS / 1024,
    heapGrowthMb: Math.max(0, heapWithLists - baseline.heapUsed) / MB,
  };
}

export async function runScenario(
  runner: Runner,
  scenario: ScenarioName,
  snapshots: number,
): Promise<ScenarioResult> {
  return runner === "ours"
    ? runOurs(scenario, snapshots)
    : runSeed(scenario, snapshots, runner === "seed-paced");
}

if (require.main === module) {
  const [runner, scenario, snapshots] = process.argv.slice(2);
  runScenario(runner as Runner, scenario as ScenarioName, Number(snapshots)).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
