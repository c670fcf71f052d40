// The seed's approach (Python, boto3): one unpaginated DescribeImages and DescribeSnapshots, then
// one CreateTags per resource, sequential, DeleteOn = today + N on every run. Two figures:
//
// - As deployed: boto3's default "legacy" retry mode (5 attempts in all, including the first;
//   throttling errors, EC2's RequestLimitExceeded among them, retried after rand() x 2^(attempt-1)
//   seconds; no retry quota; boto3 guide "Retries" and botocore's _retry.json), under the service
//   times of a latency profile, stopped by the seed's 300 s Lambda timeout: how many resources it
//   tags. A call that fails all 5 attempts is counted and the loop goes on (assumption: the seed's
//   code has no handler that would end the run there).
// - Paced: one CreateTags per resource, each waiting for a token of EC2's CreateTags bucket (100,
//   refilled at 10/s): the least time that approach can take for all, latency left out.
import { DELETE_ON_KEY, RETENTION_KEY } from "../handler/tagRules";
import { addDays } from "../handler/dates";
import { Ec2Account, Ec2Error, type AccountSpec, type Listed } from "../local/emulator/ec2Account";
import { serviceTimeMs, type LatencyProfile } from "../local/emulator/latency";
import { SETTINGS, TODAY } from "./scenarios";

const ATTEMPTS = 5;

/** A small deterministic PRNG (mulberry32), so the seed's jitter repeats from run to run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedFigures {
  resources: number;
  /** Tagged before the timeout (as deployed) or in all (paced). */
  tagged: number;
  failedAfterRetries: number;
  calls: number;
  throttled: number;
  simulatedSeconds: number;
  /** Stopped by the Lambda timeout before every resource was tagged. */
  timedOut: boolean;
}

export function runSeedWithRetries(
  spec: AccountSpec,
  profile: LatencyProfile,
  timeoutMs: number,
): SeedFigures {
  let now = Date.parse(`${TODAY}T10:00:00Z`);
  const start = now;
  const account = new Ec2Account(spec, { now: () => now, throttle: true });
  const rand = random(14);
  let throttled = 0;
  let calls = 0;
  const outOfTime = () => now - start >= timeoutMs;
  /** One boto3 call: up to 5 attempts with legacy backoff. Undefined when every attempt failed. */
  const call = <T>(action: string, items: (result: T) => number, send: () => T): T | undefined => {
    for (let attempt = 1; attempt <= ATTEMPTS && !outOfTime(); attempt++) {
      calls += 1;
      try {
        const result = send();
        now += serviceTimeMs(profile, action, items(result));
        return result;
      } catch (error) {
        if (!(error instanceof Ec2Error) || error.code !== "RequestLimitExceeded") {
          throw error;
        }
        throttled += 1;
        now += serviceTimeMs(profile, action, 0, true);
        if (attempt < ATTEMPTS) {
          now += rand() * 2 ** (attempt - 1) * 1000;
        }
      }
    }
    return undefined;
  };
  const listed = (kind: "image" | "snapshot") =>
    call(
      kind === "image" ? "DescribeImages" : "DescribeSnapshots",
      (r: { items: Listed[] }) => r.items.length,
      () => account.describe(kind, { owners: ["self"] }),
    )?.items ?? [];
  const resources = [...listed("image"), ...listed("snapshot")];
  const tags = [
    { Key: RETENTION_KEY, Value: `${SETTINGS.retentionDays}days` },
    { Key: DELETE_ON_KEY, Value: addDays(TODAY, SETTINGS.retentionDays) as string },
  ];
  let tagged = 0;
  let failed = 0;
  for (const resource of resources) {
    if (outOfTime()) {
      break;
    }
    const ok = call(
      "CreateTags",
      () => 1,
      () => (account.createTags([resource.id], tags), true),
    );
    if (ok === undefined) {
      failed += outOfTime() ? 0 : 1;
    } else {
      tagged += 1;
    }
  }
  return {
    resources: spec.images + spec.snapshots,
    tagged,
    failedAfterRetries: failed,
    calls,
    throttled,
    simulatedSeconds: Math.min(now - start, timeoutMs) / 1000,
    timedOut: tagged < spec.images + spec.snapshots && outOfTime(),
  };
}

/** One CreateTags per resource paced to EC2's CreateTags bucket: burst 100, then 10 a second. */
export function pacedSeedSeconds(resources: number): number {
  return Math.max(0, resources - 100) / 10;
}
