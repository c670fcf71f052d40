// The one EC2 account model, behind both the benchmark (in process, through the SDK's request
// handler) and the embedded emulator (over HTTP): AMIs and snapshots, and the volumes snapshots are
// taken from, with EC2's behaviour where the tagger's cost and correctness are decided. Listing
// pages of at most MaxResults with NextToken, owners, ID and tag filters with wildcards, disabled
// AMIs hidden unless asked for; CreateTags' limits and all-or-nothing failures; deregistering, and
// deleting with in-use refusal; EC2's token buckets when asked.
// State is compact (a tag-set index and a state byte per resource, tag sets interned, details kept
// only for resources created through the API), so the benchmark's 110,000 resources add about 1 MB
// and its memory figures stay honest.
import type { Tag } from "../../handler/tagPolicy";
import { FilterError, compileFilters, type FilterSubject } from "./ec2Filters";
import {
  ACCOUNT_ID,
  Ec2Error,
  type AccountOptions,
  type AccountSpec,
  type BlockDevice,
  type DescribeInput,
  type ImageDetail,
  type Kind,
  type Listed,
  type SnapshotDetail,
} from "./ec2Types";
import {
  DELETED,
  DISABLED,
  LISTED_THEN_DELETED,
  PRESENT,
  ResourceTable,
  resourceId,
  shardByte,
} from "./resourceTable";
import { TagSets } from "./tagSets";
import { EC2_BUCKETS, TokenBucket } from "./tokenBucket";

export { ACCOUNT_ID, Ec2Error } from "./ec2Types";
export type {
  AccountOptions,
  AccountSpec,
  BlockDevice,
  DescribeInput,
  ImageDetail,
  Kind,
  Listed,
  SnapshotDetail,
} from "./ec2Types";
export type { Filter } from "./ec2Filters";

const NO_RESOURCES: AccountSpec = { images: 0, snapshots: 0, initialTags: () => [] };
const MAX_PAGE = 1000;
const MIN_PAGE = 5;
const MAX_TAG_IDS = 1000;
const MAX_TAGS_PER_RESOURCE = 50;
const MAX_FILTER_VALUES = 200;
const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 256;

// What the benchmark's resources show beside their ID and tags: the fields EC2 returns, so parsing
// and memory cost what they cost in Lambda.
const SPEC_IMAGE: ImageDetail = {
  description: "Nightly backup",
  createdAt: "2026-01-01T00:00:00.000Z",
  rootDeviceName: "/dev/xvda",
  blockDevices: [{ deviceName: "/dev/xvda", snapshotId: "snap-0123456789abcdef0", volumeSize: 8 }],
};
const SPEC_SNAPSHOT: SnapshotDetail = {
  volumeId: "vol-0123456789abcdef0",
  volumeSize: 8,
  description: "Created by CreateImage for a nightly backup",
  createdAt: "2026-01-01T00:00:00.000Z",
  encrypted: true,
};

/**
 * When the ID filter holds only values like "snap-3*" or "snap-3f*", the shard bytes they allow
 * (a prefilter; the filter itself still decides); otherwise undefined.
 */
function prefixShards(kind: Kind, filters: { name: string; values: string[] }[]): Uint8Array | undefined {
  const idFilter = filters.find((f) => f.name === (kind === "image" ? "image-id" : "snapshot-id"));
  const prefix = kind === "image" ? "ami-" : "snap-";
  if (idFilter === undefined || idFilter.values.length === 0) {
    return undefined;
  }
  const allowed = new Uint8Array(256);
  for (const value of idFilter.values) {
    const match = new RegExp(`^${prefix}([0-9a-f]{1,2})\\*$`).exec(value);
    if (!match) {
      return undefined;
    }
    const digits = match[1];
    for (let byte = 0; byte < 256; byte++) {
      if (byte.toString(16).padStart(2, "0").startsWith(digits)) {
        allowed[byte] = 1;
      }
    }
  }
  return allowed;
}

export class Ec2Account {
  private readonly tagSets = new TagSets();
  private readonly images: ResourceTable<ImageDetail>;
  private readonly snapshots: ResourceTable<SnapshotDetail>;
  private readonly volumes = new Map<string, { size: number; zone: string }>();
  /** Snapshot ID -> the registered (or disabled) AMIs it backs. */
  private readonly backingUses = new Map<string, Set<string>>();
  /** AMI name -> ID, for names given at RegisterImage: EC2 refuses a second AMI of one name. */
  private readonly imageNames = new Map<string, string>();
  private readonly now: () => number;
  private readonly throttle: boolean;
  private readonly buckets;
  /** Requests by action, including throttled ones. */
  readonly calls: Record<string, number> = {};
  readonly throttled: Record<string, number> = {};

  constructor(spec: AccountSpec = NO_RESOURCES, options: AccountOptions = {}) {
    this.now = options.now ?? Date.now;
    this.throttle = options.throttle === true;
    const background = options.background ?? {};
    this.buckets = {
      nonMutating: new TokenBucket(EC2_BUCKETS.nonMutating, this.now, background.nonMutating),
      unpaginatedDescribe: new TokenBucket(
        EC2_BUCKETS.unpaginatedDescribe,
        this.now,
        background.unpaginatedDescribe,
      ),
      createTags: new TokenBucket(EC2_BUCKETS.createTags, this.now, background.createTags),
      mutating: new TokenBucket(EC2_BUCKETS.mutating, this.now, background.mutating),
    };
    this.images = new ResourceTable("ami", SPEC_IMAGE, spec.images);
    this.snapshots = new ResourceTable("snap", SPEC_SNAPSHOT, spec.snapshots);
    if (options.countVisits === true) {
      this.images.visits = new Uint16Array(this.images.tagSet.length);
      this.snapshots.visits = new Uint16Array(this.snapshots.tagSet.length);
    }
    for (const [kind, count] of [
      ["image", spec.images],
      ["snapshot", spec.snapshots],
    ] as [Kind, number][]) {
      const resources = this.resources(kind);
      for (let i = 0; i < count; i++) {
        const gone = spec.isGone?.(kind, i) === true;
        resources.add(this.tagSets.intern(spec.initialTags(kind, i)), gone ? LISTED_THEN_DELETED : PRESENT);
      }
    }
  }

  static id(prefix: string, index: number): string {
    return resourceId(prefix, index);
  }

  private resources(kind: Kind): ResourceTable<ImageDetail> | ResourceTable<SnapshotDetail> {
    return kind === "image" ? this.images : this.snapshots;
  }

  private locate(id: string): { kind: Kind; index: number } | undefined {
    for (const kind of ["image", "snapshot"] as Kind[]) {
      const index = this.resources(kind).indexOf(id);
      if (index !== undefined) {
        return { kind, index };
      }
    }
    return undefined;
  }

  private notFound(kind: Kind, id: string): Ec2Error {
    return kind === "image"
      ? new Ec2Error("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`)
      : new Ec2Error("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
  }

  /** The index of an existing resource, or EC2's NotFound error naming the ID. */
  private existing(kind: Kind, id: string): number {
    const index = this.resources(kind).indexOf(id);
    if (index === undefined || !this.resources(kind).exists(index)) {
      throw this.notFound(kind, id);
    }
    return index;
  }

  /** Milliseconds until CreateTags' bucket has a token: what a perfectly paced caller waits. */
  createTagsWaitMs(): number {
    return this.buckets.createTags.waitMs();
  }

  /** Times each resource of a kind was carried by a listing response, by index (countVisits). */
  visits(kind: Kind): Uint16Array | undefined {
    const resources = this.resources(kind);
    return resources.visits?.subarray(0, resources.count);
  }

  /** Every resource of a kind ever created, without counting a call: for the benchmark's checks. */
  *inspect(kind: Kind): Generator<{ index: number; id: string; tags: Tag[]; exists: boolean }> {
    const resources = this.resources(kind);
    for (let index = 0; index < resources.count; index++) {
      yield {
        index,
        id: Ec2Account.id(resources.prefix, index),
        tags: this.tagSets.get(resources.tagSet[index]),
        exists: resources.exists(index),
      };
    }
  }

  tagsOf(id: string): Tag[] {
    const where = this.locate(id);
    if (!where) {
      throw new Error(`no such resource ${id}`);
    }
    return this.tagSets.get(this.resources(where.kind).tagSet[where.index]);
  }

  private count(action: string, bucket: TokenBucket): void {
    this.calls[action] = (this.calls[action] ?? 0) + 1;
    if (this.throttle && !bucket.take()) {
      this.throttled[action] = (this.throttled[action] ?? 0) + 1;
      throw new Ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503);
    }
  }

  private listed(kind: Kind, index: number): Listed {
    const resources = this.resources(kind);
    return {
      id: Ec2Account.id(resources.prefix, index),
      tags: this.tagSets.get(resources.tagSet[index]),
      detail: resources.detail(index),
      disabled: resources.state[index] === DISABLED,
    };
  }

  private subject(kind: Kind, index: number): FilterSubject {
    const item = this.listed(kind, index);
    return {
      id: item.id,
      tags: item.tags,
      ownerId: ACCOUNT_ID,
      name: kind === "image" ? ((item.detail as ImageDetail).name ?? `nightly-backup-${item.id}`) : undefined,
      volumeId: kind === "snapshot" ? (item.detail as SnapshotDetail).volumeId : undefined,
    };
  }

  /**
   * DescribeImages / DescribeSnapshots. Unpaginated, unfiltered DescribeSnapshots has its own,
   * smaller bucket. The NextToken is the index where the next page starts.
   */
  describe(kind: Kind, input: DescribeInput = {}): { items: Listed[]; nextToken?: string } {
    const action = kind === "image" ? "DescribeImages" : "DescribeSnapshots";
    const filters = input.filters ?? [];
    const unpaginated = input.maxResults === undefined && input.ids === undefined && filters.length === 0;
    this.count(
      action,
      unpaginated && kind === "snapshot" ? this.buckets.unpaginatedDescribe : this.buckets.nonMutating,
    );
    if (filters.reduce((n, f) => n + f.values.length, 0) > MAX_FILTER_VALUES) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `The maximum number of filter values specified on a single call is ${MAX_FILTER_VALUES}`,
      );
    }
    if (input.maxResults !== undefined) {
      if (input.ids !== undefined) {
        throw new Ec2Error(
          "InvalidParameterCombination",
          `The parameter ${kind === "image" ? "ImageIds" : "SnapshotIds"} cannot be used with the parameter MaxResults`,
        );
      }
      if (input.maxResults < MIN_PAGE || input.maxResults > MAX_PAGE) {
        throw new Ec2Error("InvalidParameterValue", `MaxResults must be between ${MIN_PAGE} and ${MAX_PAGE}`);
      }
    }
    let compiled;
    try {
      compiled = compileFilters(kind, filters);
    } catch (error) {
      throw error instanceof FilterError ? new Ec2Error("InvalidParameterValue", error.message) : error;
    }
    const resources = this.resources(kind);
    const start = input.nextToken === undefined ? 0 : Number(input.nextToken);
    if (input.nextToken !== undefined && (!/^\d+$/.test(input.nextToken) || start > resources.count)) {
      throw new Ec2Error("InvalidPaginationToken", `The pagination token '${input.nextToken}' is not valid`);
    }

    // Candidates: the IDs named (each must exist), those an exact ID filter names, or everything.
    let candidates: number[] | undefined;
    if (input.ids !== undefined) {
      candidates = input.ids.map((id) => this.existing(kind, id));
    } else if (compiled.exactIds !== undefined) {
      candidates = compiled.exactIds.flatMap((id) => resources.indexOf(id) ?? []);
    }
    if (candidates !== undefined) {
      candidates = [...new Set(candidates)].sort((a, b) => a - b);
    }
    const ours =
      input.owners === undefined ||
      input.owners.length === 0 ||
      input.owners.some((owner) => owner === "self" || owner === ACCOUNT_ID);
    if (!ours) {
      return { items: [] };
    }
    const namesIds = input.ids !== undefined || compiled.namesIds;
    const accepts = (index: number): boolean => {
      const state = resources.state[index];
      const visible =
        state === PRESENT ||
        (state === LISTED_THEN_DELETED && !namesIds) ||
        (state === DISABLED && input.includeDisabled === true);
      return visible && (filters.length === 0 || compiled.matches(this.subject(kind, index)));
    };
    const total = candidates === undefined ? resources.count : candidates.length;
    const at = candidates === undefined ? (i: number) => i : (i: number) => (candidates as number[])[i];
    let position = candidates === undefined ? start : candidates.findIndex((index) => index >= start);
    if (position === -1) {
      position = total;
    }
    const limit = input.maxResults ?? Number.POSITIVE_INFINITY;
    const shards = prefixShards(kind, filters);
    const items: Listed[] = [];
    let nextToken: string | undefined;
    for (; position < total; position++) {
      const index = at(position);
      // A cheap test first, so a sweep's shard listings do not build every resource of the account.
      if ((shards !== undefined && shards[shardByte(index)] === 0) || !accepts(index)) {
        continue;
      }
      if (items.length === limit) {
        nextToken = String(index);
        break;
      }
      items.push(this.listed(kind, index));
      if (resources.visits) {
        resources.visits[index] = Math.min(0xffff, resources.visits[index] + 1);
      }
    }
    return { items, nextToken };
  }

  /** EC2's checks on tags it is asked to write. */
  private checkTags(tags: Tag[]): void {
    for (const tag of tags) {
      if (tag.Key.length === 0 || tag.Key.length > MAX_KEY_LENGTH || tag.Value.length > MAX_VALUE_LENGTH) {
        throw new Ec2Error(
          "InvalidParameterValue",
          `Tag keys must be 1 to ${MAX_KEY_LENGTH} characters and values at most ${MAX_VALUE_LENGTH}; got key '${tag.Key}'`,
        );
      }
      if (tag.Key.toLowerCase().startsWith("aws:")) {
        throw new Ec2Error(
          "InvalidParameterValue",
          `Tag keys starting with 'aws:' are reserved for internal use`,
        );
      }
    }
    if (tags.length > MAX_TAGS_PER_RESOURCE) {
      throw new Ec2Error("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.");
    }
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
    this.checkTags(tags);
    const merged: [number, Kind, number][] = [];
    for (const id of ids) {
      const where = this.locate(id);
      if (!where || !this.resources(where.kind).exists(where.index)) {
        if (this.volumes.has(id)) {
          throw new Ec2Error(
            "InvalidParameterValue",
            `this emulator tags AMIs and snapshots only, not ${id}`,
          );
        }
        if (!id.startsWith("ami-") && !id.startsWith("snap-")) {
          throw new Ec2Error("InvalidID", `The ID '${id}' is not valid`);
        }
        throw this.notFound(id.startsWith("ami-") ? "image" : "snapshot", id);
      }
      const resources = this.resources(where.kind);
      const current = this.tagSets.get(resources.tagSet[where.index]);
      const next = [...current.filter((t) => !tags.some((n) => n.Key === t.Key)), ...tags];
      if (next.length > MAX_TAGS_PER_RESOURCE) {
        // EC2 does not say which resource (moto neither): the caller must find it.
        throw new Ec2Error("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.");
      }
      merged.push([this.tagSets.intern(next), where.kind, where.index]);
    }
    for (const [tagSet, kind, index] of merged) {
      this.resources(kind).tagSet[index] = tagSet;
    }
  }

  createVolume(input: { zone?: string; size?: number }): {
    id: string;
    size: number;
    zone: string;
    createdAt: string;
  } {
    this.count("CreateVolume", this.buckets.mutating);
    if (!input.zone) {
      throw new Ec2Error("MissingParameter", "The request must contain the parameter AvailabilityZone");
    }
    const size = input.size ?? 8;
    if (!Number.isInteger(size) || size < 1 || size > 16_384) {
      throw new Ec2Error("InvalidParameterValue", `Volume size ${input.size} is not from 1 to 16384 GiB`);
    }
    const id = Ec2Account.id("vol", this.volumes.size);
    this.volumes.set(id, { size, zone: input.zone });
    return { id, size, zone: input.zone, createdAt: new Date(this.now()).toISOString() };
  }

  createSnapshot(input: { volumeId?: string; description?: string; tags?: Tag[] }): Listed {
    this.count("CreateSnapshot", this.buckets.mutating);
    const volume = input.volumeId === undefined ? undefined : this.volumes.get(input.volumeId);
    if (!input.volumeId) {
      throw new Ec2Error("MissingParameter", "The request must contain the parameter VolumeId");
    }
    if (!volume) {
      throw new Ec2Error("InvalidVolume.NotFound", `The volume '${input.volumeId}' does not exist.`);
    }
    const tags = input.tags ?? [];
    this.checkTags(tags);
    const index = this.snapshots.add(this.tagSets.intern(tags), PRESENT, {
      volumeId: input.volumeId,
      volumeSize: volume.size,
      description: input.description ?? "",
      createdAt: new Date(this.now()).toISOString(),
      encrypted: false,
    });
    return this.listed("snapshot", index);
  }

  /** RegisterImage of an EBS-backed AMI: every snapshot named must exist, and stays in use while it does. */
  registerImage(input: {
    name?: string;
    description?: string;
    rootDeviceName?: string;
    blockDevices: { deviceName: string; snapshotId?: string }[];
    tags?: Tag[];
  }): string {
    this.count("RegisterImage", this.buckets.mutating);
    if (!input.name) {
      throw new Ec2Error("MissingParameter", "The request must contain the parameter Name");
    }
    const taken = this.imageNames.get(input.name);
    if (taken !== undefined) {
      throw new Ec2Error(
        "InvalidAMIName.Duplicate",
        `AMI name ${input.name} is already in use by AMI ${taken}`,
      );
    }
    const blockDevices: BlockDevice[] = [];
    for (const device of input.blockDevices) {
      if (device.snapshotId !== undefined) {
        const index = this.existing("snapshot", device.snapshotId);
        blockDevices.push({
          deviceName: device.deviceName,
          snapshotId: device.snapshotId,
          volumeSize: this.snapshots.detail(index).volumeSize,
        });
      }
    }
    if (blockDevices.length === 0) {
      throw new Ec2Error(
        "InvalidParameterCombination",
        "this emulator registers EBS-backed AMIs only: give a BlockDeviceMapping with Ebs.SnapshotId",
      );
    }
    const tags = input.tags ?? [];
    this.checkTags(tags);
    const index = this.images.add(this.tagSets.intern(tags), PRESENT, {
      name: input.name,
      description: input.description ?? "",
      createdAt: new Date(this.now()).toISOString(),
      rootDeviceName: input.rootDeviceName ?? blockDevices[0].deviceName,
      blockDevices,
    });
    const id = Ec2Account.id(this.images.prefix, index);
    this.imageNames.set(input.name, id);
    for (const device of blockDevices) {
      const users = this.backingUses.get(device.snapshotId) ?? new Set<string>();
      users.add(id);
      this.backingUses.set(device.snapshotId, users);
    }
    return id;
  }

  /** A disabled AMI is hidden from listings that do not ask for it, and still holds its snapshots. */
  disableImage(id: string): void {
    this.count("DisableImage", this.buckets.mutating);
    this.images.state[this.existing("image", id)] = DISABLED;
  }

  /** DeregisterImage: the AMI goes; its snapshots stay, no longer in use by it. */
  deregisterImage(id: string): void {
    this.count("DeregisterImage", this.buckets.mutating);
    const index = this.existing("image", id);
    this.images.state[index] = DELETED;
    const detail = this.images.detail(index);
    if (detail.name !== undefined && this.imageNames.get(detail.name) === id) {
      this.imageNames.delete(detail.name);
    }
    for (const device of detail.blockDevices) {
      this.backingUses.get(device.snapshotId)?.delete(id);
    }
  }

  /** DeleteSnapshot: refused while a registered AMI, disabled or not, uses the snapshot. */
  deleteSnapshot(id: string): void {
    this.count("DeleteSnapshot", this.buckets.mutating);
    const index = this.existing("snapshot", id);
    const [user] = this.backingUses.get(id) ?? [];
    if (user !== undefined) {
      throw new Ec2Error("InvalidSnapshot.InUse", `The snapshot ${id} is currently in use by ${user}`);
    }
    this.snapshots.state[index] = DELETED;
  }
}
