// A year of days (`npm run bench -- --lifecycle`): an account that makes X backups a day (plain
// snapshots, and AMIs each with its own backing snapshot) under retention N with expiry on, the
// tagger run once a day (the least often a stack runs it; the default is hourly, and bench/expiry.ts
// runs that at the benchmarked sizes). Foreign backups, carrying
// Retention and DeleteOn tags someone else wrote (already past), sit there all year: none may go.
import { dayNumber } from "../handler/dates";
import type { Tag } from "../handler/tagPolicy";
import type { LatencyProfile } from "../local/emulator/latency";
import type { Kind } from "../local/emulator/ec2Account";
import { TODAY } from "./scenarios";
import { createSimulation } from "./simulation";

const DAY_MS = 86_400_000;

export interface LifecycleRequest {
  kind: "lifecycle";
  days: number;
  /** Resources created a day: AMIs (each with one backing snapshot) count two. */
  perDay: number;
  /** Of those, AMIs a day. */
  amisPerDay: number;
  retentionDays: number;
  graceDays: number;
  foreign: number;
  profile: LatencyProfile;
  memorySize: number;
}

export interface LifecycleResult {
  request: LifecycleRequest;
  /** X (N + grace + 2): the most backups of ours that may be alive at once. */
  liveBound: number;
  maxLive: number;
  /** Days a backup stayed past DeleteOn + grace (1 is the least a daily run can do). */
  worstOverstayDays: number;
  foreignDeleted: number;
  deleted: number;
  callsPerDay: { mean: number; max: number };
  minimumPerDay: { mean: number; max: number };
  throttledCalls: number;
  incompleteRuns: number;
  backlogMax?: number;
}

const tagValue = (tags: Tag[], key: string) => tags.find((t) => t.Key === key)?.Value;

export async function runLifecycle(request: LifecycleRequest): Promise<LifecycleResult> {
  const start = Date.parse(`${TODAY}T00:00:00Z`);
  const simulation = createSimulation({
    spec: { images: 0, snapshots: 0, initialTags: () => [] },
    start,
    profile: request.profile,
    memorySize: request.memorySize,
    design: "pipeline",
  });
  const { account } = simulation;
  const volume = account.createVolume({ zone: "us-east-1a", size: 8 });
  const foreign = new Set<string>();
  for (let i = 0; i < request.foreign; i++) {
    // Spread out: the account's own calls stay inside the mutating bucket (200, refilled 5/s).
    simulation.setNow(start + i * 1_000);
    const snapshot = account.createSnapshot({
      volumeId: volume.id,
      tags: [
        { Key: "Retention", Value: "7days" },
        { Key: "DeleteOn", Value: "2026-01-01" },
      ],
    });
    foreign.add(snapshot.id);
  }
  const deletedOn = new Map<string, number>();
  let maxLive = 0;
  let worstOverstay = 0;
  const calls: number[] = [];
  const minimum: number[] = [];
  let throttledCalls = 0;
  let incompleteRuns = 0;
  let backlogMax: number | undefined;
  let made = 0;
  const plainPerDay = request.perDay - 2 * request.amisPerDay;
  for (let day = 0; day < request.days; day++) {
    const dayStart = start + day * DAY_MS;
    // Backups through the day, spread so the account's own calls stay inside the mutating bucket.
    const step = Math.floor(DAY_MS / 2 / Math.max(1, plainPerDay + request.amisPerDay));
    let t = dayStart + 4 * 3_600_000;
    for (let i = 0; i < plainPerDay; i++, t += step) {
      simulation.setNow(t);
      account.createSnapshot({ volumeId: volume.id, description: "nightly" });
    }
    for (let i = 0; i < request.amisPerDay; i++, t += step) {
      simulation.setNow(t);
      const backing = account.createSnapshot({ volumeId: volume.id, description: "ami root" });
      account.registerImage({
        name: `nightly-${made++}`,
        blockDevices: [{ deviceName: "/dev/xvda", snapshotId: backing.id }],
      });
    }
    // The day's run, at 22:00 (any fixed hour of a daily schedule).
    simulation.setNow(dayStart + 22 * 3_600_000);
    const live = { image: 0, snapshot: 0 };
    for (const kind of ["image", "snapshot"] as Kind[]) {
      for (const r of account.inspect(kind)) {
        live[kind] += r.exists ? 1 : 0;
      }
    }
    const figures = await simulation.run(
      {
        retentionDays: request.retentionDays,
        extraTags: {},
        dryRun: false,
        expire: true,
        expireGraceDays: request.graceDays,
        safetyMarginMs: 30_000,
      },
      300_000,
    );
    const { report } = figures;
    calls.push(figures.totalCalls);
    throttledCalls += Object.values(figures.throttled).reduce((a, b) => a + b, 0);
    incompleteRuns += report.complete ? 0 : 1;
    if (report.expiry?.backlog !== undefined) {
      backlogMax = Math.max(backlogMax ?? 0, report.expiry.backlog);
    }
    const deletions = (report.expiry?.amisDeregistered ?? 0) + (report.expiry?.snapshotsDeleted ?? 0);
    // The least a daily tagger can do: list each kind, one CreateTags for the day's new backups, one
    // call per deletion.
    const fresh = request.perDay + (day === 0 ? request.foreign : 0);
    minimum.push(
      Math.max(1, Math.ceil(live.image / 1000)) +
        Math.max(1, Math.ceil(live.snapshot / 1000)) +
        (fresh > 0 ? 1 : 0) +
        deletions,
    );
    const today = dayNumber(new Date(dayStart).toISOString().slice(0, 10)) as number;
    let ours = 0;
    for (const kind of ["image", "snapshot"] as Kind[]) {
      for (const r of account.inspect(kind)) {
        if (foreign.has(r.id)) {
          continue;
        }
        const deleteOn = dayNumber(tagValue(r.tags, "DeleteOn") ?? "");
        if (r.exists) {
          ours += 1;
          if (deleteOn !== undefined) {
            worstOverstay = Math.max(worstOverstay, today - (deleteOn + request.graceDays));
          }
        } else if (!deletedOn.has(r.id)) {
          deletedOn.set(r.id, today);
          if (deleteOn !== undefined) {
            worstOverstay = Math.max(worstOverstay, today - (deleteOn + request.graceDays));
          }
        }
      }
    }
    maxLive = Math.max(maxLive, ours);
  }
  let foreignDeleted = 0;
  for (const r of account.inspect("snapshot")) {
    foreignDeleted += foreign.has(r.id) && !r.exists ? 1 : 0;
  }
  simulation.restore();
  const stats = (values: number[]) => ({
    mean: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length),
    max: Math.max(0, ...values),
  });
  return {
    request,
    liveBound: request.perDay * (request.retentionDays + request.graceDays + 2),
    maxLive,
    worstOverstayDays: worstOverstay,
    foreignDeleted,
    deleted: deletedOn.size,
    callsPerDay: stats(calls),
    minimumPerDay: stats(minimum),
    throttledCalls,
    incompleteRuns,
    backlogMax,
  };
}
