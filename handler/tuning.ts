// How hard the tagger drives EC2: concurrency and pacing per stage. Internal, not stack config:
// production always runs PIPELINE; the benchmark also runs SEQUENTIAL, the design before the
// pipeline, as its baseline.
//
// Paces sit below EC2's published buckets (EC2 Developer Guide, "Request throttling for the Amazon
// EC2 API": non-mutating actions 100 tokens refilled at 20/s, CreateTags 100 at 10/s, mutating
// actions such as DeleteSnapshot and DeregisterImage 200 at 5/s), leaving a share for whatever
// else the account runs, so the tagger is not throttled in the first place.
import type { PaceSpec } from "./pace";

export interface Tuning {
  /** List AMIs and snapshots at the same time. */
  concurrentKinds: boolean;
  /** Snapshot partitions listed at once (each its own paginator). */
  listConcurrency: number;
  /** AMI and snapshot IDs that need the same tags share CreateTags calls. */
  crossKindWrites: boolean;
  /** Sharded sweep: a pass spans runs, and a run resumes where the last one stopped. */
  sweep: boolean;
  /** Describe* calls (listing, existence checks, fresh reads). */
  describe: PaceSpec;
  createTags: PaceSpec;
  /** DeregisterImage and DeleteSnapshot. */
  deletions: PaceSpec;
}

const UNPACED = { perSecond: 1_000_000, burst: 1_000_000 };

export const PIPELINE: Tuning = {
  concurrentKinds: true,
  listConcurrency: 12,
  crossKindWrites: true,
  sweep: true,
  describe: { concurrency: 16, perSecond: 15, burst: 60 },
  // Eight in flight: at 0.3 to 1 s a call, four would cap writes below the pace.
  createTags: { concurrency: 8, perSecond: 8, burst: 60 },
  deletions: { concurrency: 4, perSecond: 3, burst: 20 },
};

/** One call at a time, one kind after the other, every run from the beginning: the old design. */
export const SEQUENTIAL: Tuning = {
  concurrentKinds: false,
  listConcurrency: 1,
  crossKindWrites: false,
  sweep: false,
  describe: { concurrency: 1, ...UNPACED },
  createTags: { concurrency: 1, ...UNPACED },
  deletions: { concurrency: 1, ...UNPACED },
};

/**
 * PIPELINE for a function of `memoryMb`: full concurrency from 1024 MB, less below. Lambda's CPU
 * scales with memory (one vCPU at 1,769 MB), and the benchmark found 12 listers starving a 192 or
 * 256 MB function of CPU until answers waited past the 5 s attempt timeout (BENCHMARKS.md).
 */
export function tuningFor(memoryMb: number | undefined): Tuning {
  if (memoryMb === undefined || !Number.isFinite(memoryMb) || memoryMb >= 1024) {
    return PIPELINE;
  }
  const share = memoryMb / 1024;
  return {
    ...PIPELINE,
    listConcurrency: Math.max(2, Math.round(PIPELINE.listConcurrency * share)),
    createTags: {
      ...PIPELINE.createTags,
      concurrency: Math.max(2, Math.round(PIPELINE.createTags.concurrency * share)),
    },
  };
}
