// The write stage: groups pending tag writes by identical tag set (AMI and snapshot IDs alike:
// CreateTags takes both in one call) and sends them as CreateTags calls of up to 1000 IDs, several
// at once when allowed, isolating the IDs that make EC2 reject a whole call.
import { describeError, stoppedByDeadline } from "./errors";
import { newBatchId, type Ledger } from "./ledger";
import type { Logger } from "./ports";
import { tagSetKey, type Tag } from "./tagPolicy";
import { BATCH_KEY, DELETE_ON_KEY, RETENTION_KEY } from "./tagRules";

/** EC2 refuses CreateTags with more than 1000 resource IDs. */
export const MAX_IDS_PER_CALL = 1000;
/** Bound on IDs held across all tag sets, so memory stays flat however many tag sets a run meets. */
export const MAX_PENDING_IDS = 10_000;

/**
 * Codes that blame particular IDs: the rest of the call would have succeeded without them.
 * An array, not a Set: Pulumi's closure serializer captures a module-level Set as an empty object.
 */
const PER_RESOURCE_CODES: readonly string[] = [
  "InvalidSnapshot.NotFound",
  "InvalidAMIID.NotFound",
  "InvalidAMIID.Unavailable",
  "InvalidAMIID.Malformed",
  "InvalidSnapshotID.Malformed",
  "InvalidID",
  "TagLimitExceeded",
];
/** Codes that mean "this ID no longer exists", typically deleted between listing and tagging. */
const NOT_FOUND_CODES: readonly string[] = [
  "InvalidSnapshot.NotFound",
  "InvalidAMIID.NotFound",
  "InvalidAMIID.Unavailable",
];
const RESOURCE_ID = /\b(?:ami|snap)-[0-9a-f]+\b/g;

export interface Failure {
  id: string;
  code: string;
  message: string;
}

export type SendCreateTags = (ids: string[], tags: Tag[]) => Promise<void>;
/** Which of these IDs still exist (a filtered Describe call); may throw. */
export type FindExisting = (ids: string[]) => Promise<string[]>;

export interface BatchWriterOptions {
  send: SendCreateTags;
  findExisting: FindExisting;
  log: Logger;
  /** What the writer writes ("ami", "snapshot", "backups"), for logs. */
  kind: string;
  /** Calls in flight at once; `add` waits while that many are. Default 1: each write awaited. */
  concurrency?: number;
  /** Told of every ID written (or, in a dry run, that would have been). */
  onWritten?: (ids: string[]) => void;
  /** Told of every ID never sent because time ran out. */
  onNotReached?: (ids: string[]) => void;
  dryRun: boolean;
  /**
   * Where batches that date resources are recorded before their tags are written. Without one
   * (the local runner without --ledger-table) they are written without proof and can never expire.
   */
  ledger?: Ledger;
  /** True once the run must not start another API call. */
  outOfTime: () => boolean;
  onFailure: (failure: Failure) => void;
}

export interface BatchWriter {
  /** `record`: the tags date the resource; the batch is recorded in the ledger and tagged with its ID. */
  add(id: string, tags: Tag[], record?: boolean): Promise<void>;
  /** Sends everything still pending. */
  flush(): Promise<void>;
  /** IDs written (or, in a dry run, that would have been). */
  readonly written: number;
  /** IDs never sent because time ran out. */
  readonly notReached: number;
  /** IDs written in recorded batches (their DeleteOn is proven). */
  readonly recorded: number;
  /** Ledger entries written: at most one per CreateTags call. */
  readonly ledgerWrites: number;
  /** Whether this writer recorded the batch: a backup dated in this run is not expired in it. */
  recordedBatch(batchId: string): boolean;
}

export function createBatchWriter(options: BatchWriterOptions): BatchWriter {
  const groups = new Map<string, { tags: Tag[]; ids: string[]; record: boolean }>();
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const inFlight = new Set<Promise<void>>();
  const batches = new Set<string>();
  /** IDs of the batches being written that were not: failed or not reached. */
  const unwritten = new Set<string>();
  let pending = 0;
  let written = 0;
  let notReached = 0;
  let recorded = 0;
  let ledgerWrites = 0;

  /**
   * Records a dating batch and returns the tags to write with its ID, or undefined when the ledger
   * refused (then nothing is written: an unrecorded date could never expire, a retry next run can).
   */
  async function recordBatch(ids: string[], tags: Tag[]): Promise<Tag[] | undefined> {
    const ledger = options.ledger as Ledger;
    const value = (key: string) => tags.find((t) => t.Key === key)?.Value ?? "";
    const batchId = newBatchId();
    batches.add(batchId);
    try {
      ledgerWrites += 1;
      await ledger.record({ batchId, retention: value(RETENTION_KEY), deleteOn: value(DELETE_ON_KEY), ids });
    } catch (error) {
      if (stoppedByDeadline(error, options.outOfTime)) {
        missed(ids);
        return undefined;
      }
      const { code, message } = describeError(error);
      ids.forEach((id) => fail(id, "LedgerWriteFailed", `${code}: ${message}`));
      return undefined;
    }
    return [...tags, { Key: BATCH_KEY, Value: batchId }];
  }

  async function sendGroup(group: { tags: Tag[]; ids: string[]; record: boolean }): Promise<void> {
    for (let start = 0; start < group.ids.length; start += MAX_IDS_PER_CALL) {
      const ids = group.ids.slice(start, start + MAX_IDS_PER_CALL);
      if (options.outOfTime()) {
        missed(group.ids.slice(start));
        return;
      }
      if (options.dryRun) {
        written += ids.length;
        options.onWritten?.(ids);
        options.log.info("dry run: would tag batch", {
          kind: options.kind,
          count: ids.length,
          tags: group.tags,
        });
        continue;
      }
      const proven = group.record && options.ledger !== undefined;
      const tags = proven ? await recordBatch(ids, group.tags) : group.tags;
      if (tags === undefined) {
        continue;
      }
      const ok = await writeIsolating(ids, tags);
      written += ok;
      if (ok === ids.length) {
        options.onWritten?.(ids);
      } else if (options.onWritten) {
        options.onWritten(ids.filter((id) => !unwritten.has(id)));
        ids.forEach((id) => unwritten.delete(id));
      }
      if (proven) {
        recorded += ok;
      }
      options.log.info("tagged batch", {
        kind: options.kind,
        count: ok,
        failed: ids.length - ok,
        tags,
      });
    }
  }

  /**
   * Writes `ids`, working around the IDs EC2 refuses; returns how many were tagged. `checked`
   * says the survivors of an existence check are being retried, so a second check is pointless.
   */
  async function writeIsolating(ids: string[], tags: Tag[], checked = false): Promise<number> {
    try {
      await options.send(ids, tags);
      return ids.length;
    } catch (error) {
      if (stoppedByDeadline(error, options.outOfTime)) {
        missed(ids);
        return 0;
      }
      const { code, message } = describeError(error);
      if (!PER_RESOURCE_CODES.includes(code)) {
        ids.forEach((id) => fail(id, code, message));
        return 0;
      }
      if (ids.length === 1) {
        fail(ids[0], code, message);
        return 0;
      }
      if (NOT_FOUND_CODES.includes(code) && !checked) {
        // EC2 names at most one missing snapshot per failed call; one existence check finds them all.
        const survivors = await existing(ids);
        if (survivors !== undefined && survivors.length < ids.length) {
          const alive = new Set(survivors);
          ids
            .filter((id) => !alive.has(id))
            .forEach((id) => fail(id, code, message.includes(id) ? message : `${id} no longer exists`));
          return retryRest(survivors, tags, true);
        }
      }
      const named = new Set((message.match(RESOURCE_ID) ?? []).filter((id) => ids.includes(id)));
      if (named.size > 0) {
        named.forEach((id) => fail(id, code, message));
        return retryRest(
          ids.filter((id) => !named.has(id)),
          tags,
          checked,
        );
      }
      // Nothing says which ID EC2 refused: bisect, so one bad ID costs about 2·log2(n) calls.
      const middle = Math.ceil(ids.length / 2);
      const left = await retryRest(ids.slice(0, middle), tags, checked);
      return left + (await retryRest(ids.slice(middle), tags, checked));
    }
  }

  /** The IDs that still exist, or undefined when the check itself failed (then we fall back). */
  async function existing(ids: string[]): Promise<string[] | undefined> {
    if (options.outOfTime()) {
      return undefined;
    }
    try {
      const found = new Set(await options.findExisting(ids));
      return ids.filter((id) => found.has(id));
    } catch (error) {
      const { code, message } = describeError(error);
      options.log.warn("existence check failed; isolating by other means", {
        kind: options.kind,
        code,
        error: message,
      });
      return undefined;
    }
  }

  async function retryRest(ids: string[], tags: Tag[], checked: boolean): Promise<number> {
    if (ids.length === 0) {
      return 0;
    }
    if (options.outOfTime()) {
      missed(ids);
      return 0;
    }
    return writeIsolating(ids, tags, checked);
  }

  function missed(ids: string[]): void {
    notReached += ids.length;
    ids.forEach((id) => unwritten.add(id));
    options.onNotReached?.(ids);
  }

  function fail(id: string, code: string, message: string): void {
    unwritten.add(id);
    options.onFailure({ id, code, message });
    options.log.warn("tag write failed", { kind: options.kind, id, code, error: message });
  }

  /**
   * Sends a group in the background, first waiting while `concurrency` sends are in flight: the
   * listing that feeds `add` slows to what the writes can take, so memory stays bounded.
   */
  async function start(key: string, count?: number): Promise<void> {
    const group = groups.get(key);
    if (!group) {
      return;
    }
    const ids = group.ids.splice(0, count ?? group.ids.length);
    if (group.ids.length === 0) {
      groups.delete(key);
    }
    pending -= ids.length;
    while (inFlight.size >= concurrency) {
      await Promise.race(inFlight);
    }
    const send = sendGroup({ tags: group.tags, ids, record: group.record }).finally(() =>
      inFlight.delete(send),
    );
    inFlight.add(send);
    if (concurrency === 1) {
      await send;
    }
  }

  function largestGroup(): string {
    let best = "";
    let size = -1;
    for (const [key, group] of groups) {
      if (group.ids.length > size) {
        [best, size] = [key, group.ids.length];
      }
    }
    return best;
  }

  return {
    async add(id, tags, record = false) {
      const key = `${record ? "record" : "plain"}:${tagSetKey(tags)}`;
      let group = groups.get(key);
      if (!group) {
        group = { tags, ids: [], record };
        groups.set(key, group);
      }
      group.ids.push(id);
      pending += 1;
      if (group.ids.length >= MAX_IDS_PER_CALL) {
        // Exactly one full call's worth, taken now: IDs added while it waits for a slot start the
        // next call instead of making this one spill into a second, part-empty one.
        await start(key, MAX_IDS_PER_CALL);
      } else if (pending > MAX_PENDING_IDS) {
        await start(largestGroup());
      }
    },
    async flush() {
      for (const key of [...groups.keys()]) {
        await start(key);
      }
      await Promise.all(inFlight);
    },
    get written() {
      return written;
    },
    get notReached() {
      return notReached;
    },
    get recorded() {
      return recorded;
    },
    get ledgerWrites() {
      return ledgerWrites;
    },
    recordedBatch: (batchId) => batches.has(batchId),
  };
}
