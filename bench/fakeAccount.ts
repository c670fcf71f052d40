// An in-memory EC2 account that behaves like the real API where the tagger's cost is decided:
// pages of at most MaxResults with NextToken, CreateTags' limits and all-or-nothing failures,
// and EC2's token buckets. State is compact (a tag-set index per resource, tag sets interned),
// so the account itself adds about 1 MB at 110,000 resources and memory figures stay honest.
import type { Tag } from "../handler/tagPolicy";
import { EC2_BUCKETS, TokenBucket } from "./tokenBucket";

export type Kind = "image" | "snapshot";

export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface KindState {
  prefix: string;
  count: number;
  tagSet: Int32Array;
  gone: Uint8Array;
}

export interface Listed {
  id: string;
  tags: Tag[];
}

export interface AccountSpec {
  images: number;
  snapshots: number;
  /** Tags of resource i of a kind when the run starts. */
  initialTags: (kind: Kind, index: number) => Tag[];
  /** Deleted between listing and tagging: listed, but CreateTags and existence checks miss them. */
  isGone?: (kind: Kind, index: number) => boolean;
}

const MAX_PAGE = 1000;
const MIN_PAGE = 5;
const MAX_TAG_IDS = 1000;
const MAX_TAGS_PER_RESOURCE = 50;
const MAX_FILTER_VALUES = 200;

export class FakeAccount {
  private readonly tagSets: Tag[][] = [];
  private readonly tagSetIndex = new Map<string, number>();
  private readonly kinds: Record<Kind, KindState>;
  private readonly buckets;
  /** Requests by action, including throttled ones. */
  readonly calls: Record<string, number> = {};
  readonly throttled: Record<string, number> = {};

  constructor(spec: AccountSpec, now: () => number) {
    this.buckets = {
      nonMutating: new TokenBucket(EC2_BUCKETS.nonMutating, now),
      unpaginatedDescribe: new TokenBucket(EC2_BUCKETS.unpaginatedDescribe, now),
      createTags: new TokenBucket(EC2_BUCKETS.createTags, now),
    };
    const build = (kind: Kind, prefix: string, count: number): KindState => {
      const state = { prefix, count, tagSet: new Int32Array(count), gone: new Uint8Array(count) };
      for (let i = 0; i < count; i++) {
        state.tagSet[i] = this.intern(spec.initialTags(kind, i));
        state.gone[i] = spec.isGone?.(kind, i) ? 1 : 0;
      }
      return state;
    };
    this.kinds = {
      image: build("image", "ami", spec.images),
      snapshot: build("snapshot", "snap", spec.snapshots),
    };
  }

  static id(prefix: string, index: number): string {
    return `${prefix}-${index.toString(16).padStart(17, "0")}`;
  }

  // Scenario builders hand back the same array for the same tags: skip the key for those, so
  // building 110,000 resources leaves no garbage to inflate the process's peak RSS.
  private readonly internedArrays = new WeakMap<Tag[], number>();

  private intern(tags: Tag[]): number {
    const known = this.internedArrays.get(tags);
    if (known !== undefined) {
      return known;
    }
    const index = this.internKey(tags);
    this.internedArrays.set(tags, index);
    return index;
  }

  private internKey(tags: Tag[]): number {
    const key = JSON.stringify(tags.map((t) => [t.Key, t.Value]));
    let index = this.tagSetIndex.get(key);
    if (index === undefined) {
      index = this.tagSets.length;
      this.tagSets.push(tags.map((t) => ({ ...t })));
      this.tagSetIndex.set(key, index);
    }
    return index;
  }

  private locate(id: string): { kind: Kind; index: number } | undefined {
    for (const kind of ["image", "snapshot"] as Kind[]) {
      const state = this.kinds[kind];
      if (id.startsWith(`${state.prefix}-`)) {
        const index = parseInt(id.slice(state.prefix.length + 1), 16);
        if (
          Number.isInteger(index) &&
          index >= 0 &&
          index < state.count &&
          FakeAccount.id(state.prefix, index) === id
        ) {
          return { kind, index };
        }
      }
    }
    return undefined;
  }

  private exists(id: string): boolean {
    const where = this.locate(id);
    return where !== undefined && this.kinds[where.kind].gone[where.index] === 0;
  }

  /** Milliseconds until CreateTags' bucket has a token: what a perfectly paced caller waits. */
  createTagsWaitMs(): number {
    return this.buckets.createTags.waitMs();
  }

  tagsOf(id: string): Tag[] {
    const where = this.locate(id);
    if (!where) {
      throw new Error(`no such resource ${id}`);
    }
    return this.tagSets[this.kinds[where.kind].tagSet[where.index]];
  }

  private count(action: string, bucket: TokenBucket): void {
    this.calls[action] = (this.calls[action] ?? 0) + 1;
    if (!bucket.take()) {
      this.throttled[action] = (this.throttled[action] ?? 0) + 1;
      throw new Ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503);
    }
  }

  /** DescribeImages / DescribeSnapshots. Unpaginated and unfiltered DescribeSnapshots has its own, smaller bucket. */
  describe(
    kind: Kind,
    input: { maxResults?: number; nextToken?: string; filterIds?: string[] },
  ): { items: Listed[]; nextToken?: string } {
    const action = kind === "image" ? "DescribeImages" : "DescribeSnapshots";
    const unpaginated = input.maxResults === undefined && input.filterIds === undefined;
    this.count(
      action,
      unpaginated && kind === "snapshot" ? this.buckets.unpaginatedDescribe : this.buckets.nonMutating,
    );
    const state = this.kinds[kind];
    if (input.filterIds !== undefined) {
      if (input.filterIds.length > MAX_FILTER_VALUES) {
        throw new Ec2Error(
          "InvalidParameterValue",
          `The maximum number of filter values specified on a single call is ${MAX_FILTER_VALUES}`,
        );
      }
      const items = input.filterIds
        .filter((id) => this.exists(id))
        .map((id) => ({ id, tags: this.tagsOf(id) }));
      return { items };
    }
    if (input.maxResults !== undefined && (input.maxResults < MIN_PAGE || input.maxResults > MAX_PAGE)) {
      throw new Ec2Error("InvalidParameterValue", `MaxResults must be between ${MIN_PAGE} and ${MAX_PAGE}`);
    }
    const start = input.nextToken === undefined ? 0 : Number(input.nextToken);
    const end =
      input.maxResults === undefined ? state.count : Math.min(state.count, start + input.maxResults);
    const items: Listed[] = [];
    for (let i = start; i < end; i++) {
      items.push({ id: FakeAccount.id(state.prefix, i), tags: this.tagSets[state.tagSet[i]] });
    }
    return { items, nextToken: end < state.count ? String(end) : undefined };
  }

  /** CreateTags: all or nothing, like EC2; names only the first missing ID. */
  createTags(ids: string[], tags: Tag[]): void {
    this.count("CreateTags", this.buckets.createTags);
    if (ids.length > MAX_TAG_IDS) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `at most ${MAX_TAG_IDS} resource IDs per call, got ${ids.length}`,
      );
    }
    const merged: [number, Kind, number][] = [];
    for (const id of ids) {
      const where = this.locate(id);
      if (!where || this.kinds[where.kind].gone[where.index] === 1) {
        throw id.startsWith("ami-")
          ? new Ec2Error("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`)
          : new Ec2Error("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
      }
      const current = this.tagSets[this.kinds[where.kind].tagSet[where.index]];
      const next = [...current.filter((t) => !tags.some((n) => n.Key === t.Key)), ...tags];
      if (next.length > MAX_TAGS_PER_RESOURCE) {
        throw new Ec2Error(
          "TagLimitExceeded",
          `The maximum number of Tags for a resource has been reached (${id}).`,
        );
      }
      merged.push([this.intern(next), where.kind, where.index]);
    }
    for (const [tagSet, kind, index] of merged) {
      this.kinds[kind].tagSet[index] = tagSet;
    }
  }
}
