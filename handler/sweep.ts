// The sweep: a full pass over the account's snapshots that may span several runs. The pass is cut
// into the 256 shards of shards.ts; a run lists the shards the pass has not done yet, a few
// partitions at once, and records which it finished, so the next run continues instead of starting
// again. The state lives in the ledger's state items (the table only this function writes). Pure,
// apart from the JSON it reads and writes.
import {
  SHARDS,
  decodeShards,
  encodeShards,
  filterFor,
  planPartitions,
  shardOf,
  shardsPerPartition,
} from "./shards";
import type { Partition } from "./shards";

export const SWEEP_STATE = "sweep";
/**
 * Shards per partition while the account's size is unknown and its first shard could not size it
 * (the lead listing failed): 16 partitions, "snap-0*" to "snap-f*".
 */
export const UNKNOWN_SIZE_SHARDS = 16;

export interface SweepState {
  /** The pass under way. */
  pass: {
    startedAt: string;
    /** Shards done, 64 hex digits (shards.ts). */
    done: string;
    /** Snapshots listed in the shards done so far. */
    listed: number;
    /** A run found the ID filter untrustworthy: the rest of the pass lists without it. */
    unfiltered?: boolean;
  };
  /** Snapshots the last full pass listed, or at least listed by a cut listing: sizes partitions. */
  estimate?: number;
  /**
   * Shards per partition at most, halved whenever a run cut partitions short and finished none:
   * partitions then shrink until a run can finish some, whatever the account's size or speed.
   */
  partitionShards?: number;
  lastFullPass?: { startedAt: string; completedAt: string };
}

export interface SweepReport {
  /** The pass under way at the end of the run is complete (no shard left). */
  passComplete: boolean;
  shardsDone: number;
  shardsTotal: number;
  lastFullPass?: { startedAt: string; completedAt: string };
  /** A full pass started within the last sweepHours and completed: every snapshot was visited. */
  fullPassWithinSweep: boolean;
  /** Sample IDs the filtered listing missed, or listed IDs outside their partition. */
  filterCheckFailures: number;
}

/** The state a run reads; anything unreadable is a fresh start, never an error. */
export function parseSweepState(text: string | undefined): SweepState | undefined {
  if (text === undefined) {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as SweepState;
    if (typeof state?.pass?.startedAt !== "string" || typeof state.pass.done !== "string") {
      return undefined;
    }
    return state;
  } catch {
    return undefined;
  }
}

const hoursBetween = (from: string, to: Date) => (to.getTime() - Date.parse(from)) / 3_600_000;

/**
 * The pass this run works on: the unfinished one, or a new one when the last finished. So a run on
 * an account one run can cover lists everything, as before the sweep (new backups are tagged by
 * the next run), and a larger account is covered every few runs: a snapshot is visited at least
 * once in (runs per pass + 1) × the schedule's interval, which sweepHours bounds and the
 * IncompleteRun alarm checks.
 */
export function passForRun(state: SweepState | undefined, now: Date): SweepState {
  const fresh = (previous?: SweepState): SweepState => ({
    ...previous,
    pass: { startedAt: now.toISOString(), done: encodeShards([]), listed: 0 },
  });
  if (state === undefined) {
    return fresh();
  }
  return decodeShards(state.pass.done).every(Boolean) ? fresh(state) : state;
}

/**
 * The partitions of the shards left in the pass (and not in `listing`), sized so each holds about
 * 12,500 snapshots.
 */
export function partitionsFor(state: SweepState, listing: readonly number[] = []): Partition[] {
  const done = decodeShards(state.pass.done);
  listing.forEach((s) => (done[s] = true));
  if (state.pass.unfiltered) {
    // One unfiltered listing of everything: it can only finish the pass whole.
    return done.every(Boolean) ? [] : [{ shards: Array.from({ length: SHARDS }, (_, s) => s) }];
  }
  // Size unknown (no pass finished yet): one partition per leading hex digit, listed at once.
  const bySize = state.estimate === undefined ? UNKNOWN_SIZE_SHARDS : shardsPerPartition(state.estimate);
  return planPartitions(done, Math.min(bySize, state.partitionShards ?? SHARDS));
}

/** The first shard the pass has not done, alone: what an account of unknown size is sized by. */
export function leadPartition(state: SweepState): Partition {
  const shard = Math.max(0, decodeShards(state.pass.done).indexOf(false));
  return { shards: [shard], filter: filterFor([shard]) };
}

/** Marks shards done; when the last one is, records the full pass and the account's size. */
export function markDone(state: SweepState, shards: number[], listed: number, now: Date): SweepState {
  const done = decodeShards(state.pass.done);
  shards.forEach((s) => (done[s] = true));
  const pass = { ...state.pass, done: encodeShards(done), listed: state.pass.listed + listed };
  if (!done.every(Boolean)) {
    return { ...state, pass };
  }
  return {
    ...state,
    pass,
    estimate: pass.listed,
    lastFullPass: { startedAt: pass.startedAt, completedAt: now.toISOString() },
  };
}

/**
 * After a run: when it cut partitions short and finished none, the next run's are half the size,
 * so no pass can stall with every run redoing the same unfinishable partitions.
 */
export function afterRun(state: SweepState, planned: number, cut: number, finished: number): SweepState {
  if (cut === 0 || finished > 0 || planned <= 1) {
    return state;
  }
  return { ...state, partitionShards: Math.max(1, Math.floor(planned / 2)) };
}

export function sweepReport(
  state: SweepState,
  now: Date,
  sweepHours: number,
  filterCheckFailures: number,
): SweepReport {
  const shardsDone = decodeShards(state.pass.done).filter(Boolean).length;
  const last = state.lastFullPass;
  return {
    passComplete: shardsDone === SHARDS,
    shardsDone,
    shardsTotal: SHARDS,
    ...(last ? { lastFullPass: last } : {}),
    fullPassWithinSweep: last !== undefined && hoursBetween(last.startedAt, now) <= sweepHours,
    filterCheckFailures,
  };
}

/**
 * The run's check on EC2's wildcard filter, which cannot be observed here: a sample of snapshots
 * listed without a filter must each turn up in the filtered listing of its partition, and a
 * filtered listing must hold only its partition's shards. A failure sends the rest of the pass to
 * unfiltered listings (slower, never wrong).
 */
export function createFilterCheck(sample: string[]) {
  const byShard = new Map<number, string[]>();
  for (const id of sample) {
    const shard = shardOf(id);
    if (shard !== undefined) {
      byShard.set(shard, [...(byShard.get(shard) ?? []), id]);
    }
  }
  return {
    /** Sample IDs no partition covers: the shard scheme cannot reach them. */
    unsharded: sample.filter((id) => shardOf(id) === undefined),
    /** Listed IDs outside the partition's shards. */
    strays(partition: Partition, ids: string[]): string[] {
      if (partition.filter === undefined) {
        return [];
      }
      const shards = new Set(partition.shards);
      return ids.filter((id) => !shards.has(shardOf(id) ?? -1));
    },
    /** The sample's IDs in the partition's shards. */
    sampleIn(partition: Partition): string[] {
      return partition.shards.flatMap((s) => byShard.get(s) ?? []);
    },
    /** Sample IDs of a fully listed partition that its listing did not return. */
    missing(partition: Partition, seen: (id: string) => boolean): string[] {
      return partition.shards.flatMap((s) => byShard.get(s) ?? []).filter((id) => !seen(id));
    },
  };
}
