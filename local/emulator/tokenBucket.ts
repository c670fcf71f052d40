// EC2's request throttling model: a bucket per category that refills at a fixed rate.
// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

/**
 * Published figures for the categories the tagger, the seed's approach and the demo's seeding
 * touch: Describe*, unfiltered and unpaginated DescribeSnapshots, CreateTags, and the mutating
 * actions (CreateVolume, CreateSnapshot, RegisterImage, DeregisterImage, DeleteSnapshot, ...).
 */
export const EC2_BUCKETS = {
  nonMutating: { capacity: 100, refillPerSecond: 20 },
  unpaginatedDescribe: { capacity: 50, refillPerSecond: 10 },
  createTags: { capacity: 100, refillPerSecond: 10 },
  mutating: { capacity: 200, refillPerSecond: 5 },
} satisfies Record<string, BucketSpec>;

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** `backgroundPerSecond`: tokens other callers take, so the refill left for this one is smaller. */
  constructor(
    private readonly spec: BucketSpec,
    private readonly now: () => number,
    private readonly backgroundPerSecond = 0,
  ) {
    this.tokens = spec.capacity;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.spec.capacity, this.tokens + ((t - this.last) / 1000) * this.rate());
    this.last = t;
  }

  /** Takes a token if one is there; false means RequestLimitExceeded. */
  take(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until a token is available (0 if one is now). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate()) * 1000);
  }

  /** The refill left to this caller; a background load at or over the refill leaves a trickle. */
  private rate(): number {
    return Math.max(this.spec.refillPerSecond * 0.01, this.spec.refillPerSecond - this.backgroundPerSecond);
  }
}
