// One kind's resources (AMIs or snapshots) in compact columns: a tag-set index and a state byte per
// resource, the index in hex being the ID. Resources built from a benchmark spec share one detail
// record; only those created through the API keep their own, so 110,000 benchmark resources cost
// about 5 bytes each.

/** A resource's state byte. */
export const PRESENT = 0;
/** Deleted after a listing began: the listing still shows it, requests naming it miss it. */
export const LISTED_THEN_DELETED = 1;
export const DELETED = 2;
/** A disabled AMI: hidden from listings that do not ask for it, still holding its snapshots. */
export const DISABLED = 3;

export function resourceId(prefix: string, index: number): string {
  return `${prefix}-${index.toString(16).padStart(17, "0")}`;
}

export class ResourceTable<D> {
  count = 0;
  tagSet: Int32Array;
  state: Uint8Array;
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
    const index = parseInt(id.slice(this.prefix.length + 1), 16);
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
