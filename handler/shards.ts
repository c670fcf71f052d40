// The snapshot ID space cut into 256 shards by the two hex digits after "snap-", so a pass can be
// split across listers running at once and across runs. Pure.
//
// EC2 filters take wildcards: "You can also use wildcards with the filter values. An asterisk (*)
// matches zero or more characters, and a question mark (?) matches exactly one character" (EC2 API
// Reference, DescribeSnapshots, Filter). So `snapshot-id` = `snap-3f*` lists one shard, `snap-3*`
// sixteen. Real EC2 is not observable here: each run also checks itself (sweep.ts), and falls back
// to an unfiltered listing when a shard listing returns an ID outside its shard.

export const SHARDS = 256;
/** A partition aims at about this many snapshots: a dozen pages, so cut pages stay a few percent. */
export const TARGET_PER_PARTITION = 12_500;
/** EC2 accepts at most 200 values in one filter. */
const MAX_FILTER_VALUES = 200;
const HEX = "0123456789abcdef";

/** The shard of a snapshot ID ("snap-3f..." is 0x3f); undefined for anything else. */
export function shardOf(id: string): number | undefined {
  const match = /^snap-([0-9a-f]{2})/.exec(id);
  return match ? parseInt(match[1], 16) : undefined;
}

/** Which shards are done, as 64 hex digits (256 bits), the form the sweep state keeps. */
export function encodeShards(done: readonly boolean[]): string {
  let text = "";
  for (let nibble = 0; nibble < SHARDS / 4; nibble++) {
    let value = 0;
    for (let bit = 0; bit < 4; bit++) {
      value |= done[nibble * 4 + bit] ? 1 << bit : 0;
    }
    text += HEX[value];
  }
  return text;
}

export function decodeShards(text: string | undefined): boolean[] {
  const done = new Array<boolean>(SHARDS).fill(false);
  if (text === undefined || !/^[0-9a-f]{64}$/.test(text)) {
    return done;
  }
  for (let nibble = 0; nibble < SHARDS / 4; nibble++) {
    const value = HEX.indexOf(text[nibble]);
    for (let bit = 0; bit < 4; bit++) {
      done[nibble * 4 + bit] = (value & (1 << bit)) !== 0;
    }
  }
  return done;
}

/**
 * Shards per partition for an account of about `snapshots`: a power of two from 1 to 256, so a
 * partition is whole hex digits, holding about TARGET_PER_PARTITION. 256 means one unfiltered listing.
 */
export function shardsPerPartition(snapshots: number): number {
  const perShard = Math.max(1, snapshots) / SHARDS;
  const ideal = TARGET_PER_PARTITION / perShard;
  const power = Math.min(8, Math.max(0, Math.round(Math.log2(Math.max(1, ideal)))));
  return 2 ** power;
}

/** A set of shards to list with one paginator: the filter values, or none for "everything". */
export interface Partition {
  shards: number[];
  /** `snapshot-id` filter values; undefined lists every snapshot (all 256 shards). */
  filter?: string[];
}

/** The shortest filter for a set of shards: whole leading digits as "snap-3*", the rest as "snap-3f*". */
export function filterFor(shards: readonly number[]): string[] | undefined {
  if (shards.length === SHARDS) {
    return undefined;
  }
  const set = new Set(shards);
  const values: string[] = [];
  for (let high = 0; high < 16; high++) {
    const group = Array.from({ length: 16 }, (_, low) => high * 16 + low);
    if (group.every((s) => set.has(s))) {
      values.push(`snap-${HEX[high]}*`);
    } else {
      values.push(...group.filter((s) => set.has(s)).map((s) => `snap-${HEX[high]}${HEX[s % 16]}*`));
    }
  }
  return values;
}

/** The shards not yet done, cut into partitions of `perPartition` aligned shards. */
export function planPartitions(done: readonly boolean[], perPartition: number): Partition[] {
  const partitions: Partition[] = [];
  const add = (start: number, size: number) => {
    const shards = Array.from({ length: size }, (_, i) => start + i).filter((s) => !done[s]);
    if (shards.length === 0) {
      return;
    }
    const filter = filterFor(shards);
    // A scattered set of shards left over from earlier runs can need too many values: halve it.
    if (filter !== undefined && filter.length > MAX_FILTER_VALUES) {
      add(start, size / 2);
      add(start + size / 2, size / 2);
      return;
    }
    partitions.push({ shards, ...(filter ? { filter } : {}) });
  };
  for (let start = 0; start < SHARDS; start += perPartition) {
    add(start, perPartition);
  }
  return partitions;
}
