// One kind's resources (AMIs or snapshots) in compact columns: a tag-set index and a state byte per
// resource, the ID made from the index (a shard byte, then the index in hex). Resources built from a benchmark spec share one detail
// record; only those created through the API keep their own, so 110,000 benchmark resources cost
// about 5 bytes each.

/** A resource's state byte. */
export const PRESENT = 0;
/** Deleted after a listing began: the listing still shows it, requests naming it miss it. */
export const LISTED_THEN_DELETED = 1;
export const DELETED = 2;
/** A disabled AMI: hidden from listings that do not ask for it, still holding its snapshots. */
export const DISABLED = 3;

/**
 * The ID's first byte, from a multiplicative (Fibonacci) hash of the index: consecutive resources
 * spread evenly over the 256 two-hex-digit prefixes the tagger shards snapshots by, as EC2's random
 * IDs do. Seventeen hex digits in all, like EC2's: the shard byte, then the index in 15 digits.
 */
export function shardByte(index: number): number {
  return Math.imul(index, 2654435761) >>> 24;
}

export function resourceId(prefix: string, index: number): string {
  return `${prefix}-${shardByte(index).toString(16).padStart(2, "0")}${index.toString(16).padStart(15, "0")}`;
}

/** The index an ID of resourceId's form names (whatever the prefix), or NaN. */
export function indexOfId(id: string): number {
  const dash = id.indexOf("-");
  return dash < 0 ? NaN : parseInt(id.slice(dash + 3), 16);
}

export class ResourceTable<D> {
  count = 0;
  tagSet: Int32Array;
  state: Uint8Array;
  /** Times each resource appeared in a listing response, when counted (AccountOptions.countVisits). */
  visits?: Uint16Array;
  /** Resources below `built` come from the spec and share `specDetail`; the rest have their own. */
  private built = 0;
  private readonly details: D[] = [];

  constructor(
    readonly prefix: string,
    private readonly specDetail: D,
    capacity: number,
  ) {
    this.tagSet = new Int32Array(Math.max(capacity, 16));
    this.state = new Uint8Array(Math.max(capacity, 16));
  }

  /** A resource of the spec (no detail of its own), or one created through the API (with one). */
  add(tagSet: number, state: number, detail?: D): number {
    if (detail === undefined && this.details.length > 0) {
      throw new Error("the spec's resources come before any created through the API");
    }
    if (this.count === this.tagSet.length) {
      const tagSets = new Int32Array(this.count * 2);
      tagSets.set(this.tagSet);
      this.tagSet = tagSets;
      const states = new Uint8Array(this.count * 2);
      states.set(this.state);
      this.state = states;
      if (this.visits) {
        const visits = new Uint16Array(this.count * 2);
        visits.set(this.visits);
        this.visits = visits;
      }
    }
    const index = this.count++;
    this.tagSet[index] = tagSet;
    this.state[index] = state;
    if (detail === undefined) {
      this.built = this.count;
    } else {
      this.details.push(detail);
    }
    return index;
  }

  detail(index: number): D {
    return index < this.built ? this.specDetail : this.details[index - this.built];
  }

  /** The index an ID names, whatever its state; undefined if it was never created here. */
  indexOf(id: string): number | undefined {
    if (!id.startsWith(`${this.prefix}-`)) {
      return undefined;
    }
    const index = parseInt(id.slice(this.prefix.length + 3), 16);
    return Number.isInteger(index) &&
      index >= 0 &&
      index < this.count &&
      resourceId(this.prefix, index) === id
      ? index
      : undefined;
  }

  /** Registered (or disabled) AMI, or snapshot not deleted: what writes and named requests see. */
  exists(index: number): boolean {
    return this.state[index] === PRESENT || this.state[index] === DISABLED;
  }
}
