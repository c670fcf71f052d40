// Expiry keeps up (issue 14, item 4): an account at steady state under retention N with expiry on,
// the stack's defaults otherwise (hourly runs, maxDeletionsPerRun 1000, grace 1 day, sweep period
// 24 h). Every backup is ours, tagged and proven; their due days are spread evenly over N days, so
// 1/N of the account falls due each day (the churn of an account that makes as many backups a day,
// and those are made too). Measured per simulated day: deletions, and how many due backups are
// still there when the day ends, counted from the fake account itself, not from the tagger's report.
import { addDays, dayNumber } from "../handler/dates";
import { dueDay } from "../handler/expire";
import type { LedgerEntry } from "../handler/proof";
import type { Tag } from "../handler/tagPolicy";
import { SHARDS, encodeShards } from "../handler/shards";
import { SWEEP_STATE, type SweepState } from "../handler/sweep";
import type { LatencyProfile } from "../local/emulator/latency";
import type { AccountSpec, Kind } from "../local/emulator/ec2Account";
import { indexOfId } from "../local/emulator/resourceTable";
import { TODAY } from "./scenarios";
import { createSimulation } from "./simulation";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface ExpiryRequest {
  kind: "expiry";
  snapshots: number;
  images: number;
  retentionDays: number;
  days: number;
  profile: LatencyProfile;
  memorySize: number;
  timeoutMs: number;
  /** The stack's defaults unless a test needs otherwise. */
  scheduleHours: number;
  maxDeletionsPerRun: number;
  graceDays: number;
  sweepHours: number;
}

export interface ExpiryDay {
  day: number;
  /** Backups of ours due by the end of the day (the day's share, plus any left from before). */
  due: number;
  deleted: number;
  /** Due backups still there after the day's last run, counted on the fake account. */
  leftDue: number;
  /** The backlog the last run of the day reported. */
  reportedBacklog?: number;
  /** The least backlog a run of the day reported: above 0 all day is what the DeletionBacklog alarm watches. */
  minReportedBacklog?: number;
  runs: number;
  /** Runs it took to delete what was due (undefined: not all of it). */
  runsToClear?: number;
  maxDeletionsInRun: number;
  maxRunSeconds: number;
  /** Simulated seconds of all the day's runs: GB-seconds at 1024 MB. */
  runSeconds: number;
  throttled: number;
  incompleteRuns: number;
}

export interface ExpiryResult {
  request: ExpiryRequest;
  resources: number;
  /** Resources / N: what must go a day for the account to stay the same size. */
  churnPerDay: number;
  days: ExpiryDay[];
  /** Runs that reported a backlog growing over the run before. */
  growingReports: number;
}

const BATCH = (offset: number) => `bench-expiry-${offset}`;

/** The account: backup i falls due on day (i mod N) of the simulation (0 is its first day). */
export function expirySpec(request: ExpiryRequest, firstDay: string): AccountSpec {
  const n = request.retentionDays;
  const tagSets: Tag[][] = [];
  for (let offset = 0; offset < n; offset++) {
    // Due on day `offset`: DeleteOn + grace + 1 = firstDay + offset.
    const deleteOn = addDays(firstDay, offset - request.graceDays - 1) as string;
    tagSets.push([
      { Key: "Retention", Value: `${n}days` },
      { Key: "DeleteOn", Value: deleteOn },
      { Key: "RetentionBatch", Value: BATCH(offset) },
    ]);
  }
  return {
    images: request.images,
    snapshots: request.snapshots,
    initialTags: (_kind, i) => tagSets[i % n],
  };
}

/** The proof for the spec's tags; membership computed from the ID's index, as in scenarios.ts. */
export function expiryLedgerEntries(request: ExpiryRequest, firstDay: string, scope: string): LedgerEntry[] {
  const n = request.retentionDays;
  const limit = Math.max(request.images, request.snapshots);
  return Array.from({ length: n }, (_, offset) => ({
    batchId: BATCH(offset),
    scope,
    retention: `${n}days`,
    deleteOn: addDays(firstDay, offset - request.graceDays - 1) as string,
    ids: {
      has: (id: string) => {
        const index = indexOfId(id);
        return index < limit && index % n === offset;
      },
    },
  }));
}

export async function runExpiry(request: ExpiryRequest): Promise<ExpiryResult> {
  const start = Date.parse(`${TODAY}T00:00:00Z`);
  const spec = expirySpec(request, TODAY);
  const simulation = createSimulation({
    spec,
    start,
    profile: request.profile,
    memorySize: request.memorySize,
    design: "pipeline",
  });
  const { account, ledger } = simulation;
  for (const entry of expiryLedgerEntries(request, TODAY, ledger.scope)) {
    ledger.entries.set(entry.batchId, entry);
  }
  // Earlier runs completed a full pass: the sweep knows the account's size, as in production.
  const state: SweepState = {
    pass: {
      startedAt: new Date(start - HOUR_MS).toISOString(),
      done: encodeShards(Array(SHARDS).fill(true)),
      listed: request.snapshots,
    },
    estimate: request.snapshots,
    lastFullPass: {
      startedAt: new Date(start - 2 * HOUR_MS).toISOString(),
      completedAt: new Date(start - HOUR_MS).toISOString(),
    },
  };
  await ledger.writeState(SWEEP_STATE, JSON.stringify(state));
  const volume = account.createVolume({ zone: "us-east-1a", size: 8 });
  const resources = request.images + request.snapshots;
  const churnPerDay = resources / request.retentionDays;
  const runsPerDay = Math.round(24 / request.scheduleHours);
  const result: ExpiryResult = { request, resources, churnPerDay, days: [], growingReports: 0 };
  for (let day = 0; day < request.days; day++) {
    const dayStart = start + day * DAY_MS;
    const today = dayNumber(addDays(TODAY, day) as string) as number;
    const before = deletedCount(account);
    const due = dueLeft(account, request.graceDays, today);
    const figures: ExpiryDay = {
      day,
      due,
      deleted: 0,
      leftDue: 0,
      runs: 0,
      maxDeletionsInRun: 0,
      maxRunSeconds: 0,
      runSeconds: 0,
      throttled: 0,
      incompleteRuns: 0,
    };
    // The day's new backups, as many as fall due: made between runs, so the account's own calls
    // stay inside the mutating bucket.
    const made = Math.round(churnPerDay);
    let madeSoFar = 0;
    for (let run = 0; run < runsPerDay; run++) {
      const runAt = dayStart + run * request.scheduleHours * HOUR_MS + 5 * 60_000;
      const share = Math.round((made * (run + 1)) / runsPerDay) - madeSoFar;
      for (let i = 0; i < share; i++) {
        simulation.setNow(runAt - 4 * 60_000 + Math.floor((i * 200_000) / Math.max(1, share)));
        account.createSnapshot({ volumeId: volume.id, description: "nightly" });
      }
      madeSoFar += share;
      simulation.setNow(runAt);
      const { report, simulatedSeconds, throttled } = await simulation.run(
        {
          retentionDays: request.retentionDays,
          extraTags: {},
          dryRun: false,
          expire: true,
          expireGraceDays: request.graceDays,
          maxDeletionsPerRun: request.maxDeletionsPerRun,
          safetyMarginMs: Math.min(30_000, request.timeoutMs / 10),
          sweepHours: request.sweepHours,
        },
        request.timeoutMs,
      );
      const deletions = (report.expiry?.amisDeregistered ?? 0) + (report.expiry?.snapshotsDeleted ?? 0);
      figures.runs += 1;
      figures.maxDeletionsInRun = Math.max(figures.maxDeletionsInRun, deletions);
      figures.maxRunSeconds = Math.max(figures.maxRunSeconds, simulatedSeconds);
      figures.runSeconds += simulatedSeconds;
      figures.throttled += Object.values(throttled).reduce((a, b) => a + b, 0);
      figures.incompleteRuns += report.complete || report.sweep?.passComplete === false ? 0 : 1;
      figures.reportedBacklog = report.expiry?.backlog;
      if (report.expiry?.backlog !== undefined) {
        figures.minReportedBacklog = Math.min(figures.minReportedBacklog ?? Infinity, report.expiry.backlog);
      }
      result.growingReports += report.expiry?.backlogGrowing ? 1 : 0;
      // BENCH_PROGRESS=1: a line per run on stderr, to follow a long run.
      if (process.env.BENCH_PROGRESS) {
        process.stderr.write(
          `day ${day + 1} run ${run + 1}: ${deletions} deleted, backlog ${report.expiry?.backlog}, ${simulatedSeconds.toFixed(1)} s\n`,
        );
      }
      if (figures.runsToClear === undefined && deletedCount(account) - before >= due) {
        figures.runsToClear = run + 1;
      }
    }
    figures.deleted = deletedCount(account) - before;
    figures.leftDue = dueLeft(account, request.graceDays, today);
    result.days.push(figures);
  }
  simulation.restore();
  return result;
}

const KINDS: Kind[] = ["image", "snapshot"];

function deletedCount(account: ReturnType<typeof createSimulation>["account"]): number {
  let deleted = 0;
  for (const kind of KINDS) {
    for (const r of account.inspect(kind)) {
      deleted += r.exists ? 0 : 1;
    }
  }
  return deleted;
}

/** Backups still there that are due on `today` or before, by their DeleteOn tag. */
function dueLeft(
  account: ReturnType<typeof createSimulation>["account"],
  graceDays: number,
  today: number,
): number {
  const dueByTags = new Map<Tag[], boolean>();
  let left = 0;
  for (const kind of KINDS) {
    for (const r of account.inspect(kind)) {
      if (!r.exists) {
        continue;
      }
      let due = dueByTags.get(r.tags);
      if (due === undefined) {
        const deleteOn = r.tags.find((t) => t.Key === "DeleteOn")?.Value;
        const first = deleteOn === undefined ? undefined : dueDay(deleteOn, graceDays);
        due = first !== undefined && first <= today;
        dueByTags.set(r.tags, due);
      }
      left += due ? 1 : 0;
    }
  }
  return left;
}
