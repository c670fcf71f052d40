// What an EC2 call costs in service time: base + per item, by action, at three profiles. The
// benchmark's fake waits this long on the simulated clock before it answers, so calls in flight at
// the same time overlap as they do against EC2.
//
// Sources. Listing and CreateTags totals are the measurements quoted in issue 14 ("0.5-1.5 s per
// DescribeSnapshots page" of 1000, "0.3-1 s per CreateTags of 1,000 IDs"), taken as low / high with
// mid between; DescribeImages is assumed to cost what DescribeSnapshots does per item. How a total
// splits into base and per item, and everything else (DeleteSnapshot, DeregisterImage, the other
// mutating calls, a Describe naming IDs, a throttled answer), are assumptions.

export type LatencyProfile = "low" | "mid" | "high";
export const LATENCY_PROFILES: LatencyProfile[] = ["low", "mid", "high"];

/** Service time of one call: `baseMs` + `perItemMs` x items (resources listed or IDs tagged). */
export interface ServiceTime {
  baseMs: number;
  perItemMs: number;
  source: "issue 14 measurements" | "assumption";
}

type Table = Record<"describe" | "createTags" | "delete" | "mutate" | "throttled", ServiceTime>;

const measured = (total1000Ms: number, baseMs: number): ServiceTime => ({
  baseMs,
  perItemMs: (total1000Ms - baseMs) / 1000,
  source: "issue 14 measurements",
});
const assumed = (baseMs: number, perItemMs = 0): ServiceTime => ({ baseMs, perItemMs, source: "assumption" });

export const SERVICE_TIMES: Record<LatencyProfile, Table> = {
  // A page of 1000: 0.5 / 1.0 / 1.5 s; CreateTags of 1000 IDs: 0.3 / 0.65 / 1.0 s.
  low: {
    describe: measured(500, 50),
    createTags: measured(300, 40),
    delete: assumed(100),
    mutate: assumed(150),
    throttled: assumed(20),
  },
  mid: {
    describe: measured(1000, 100),
    createTags: measured(650, 80),
    delete: assumed(200),
    mutate: assumed(300),
    throttled: assumed(40),
  },
  high: {
    describe: measured(1500, 150),
    createTags: measured(1000, 120),
    delete: assumed(400),
    mutate: assumed(600),
    throttled: assumed(80),
  },
};

/** Milliseconds EC2 takes to answer `action` carrying `items` resources; `throttled` answers at once. */
export function serviceTimeMs(
  profile: LatencyProfile,
  action: string,
  items: number,
  throttled = false,
): number {
  const table = SERVICE_TIMES[profile];
  const entry = throttled
    ? table.throttled
    : action.startsWith("Describe")
      ? table.describe
      : action === "CreateTags"
        ? table.createTags
        : action === "DeleteSnapshot" || action === "DeregisterImage"
          ? table.delete
          : table.mutate;
  return entry.baseMs + entry.perItemMs * items;
}
