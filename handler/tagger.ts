// The tagger core, as a pipeline of stages: list (AMIs whole, snapshots by sweep partition, at the
// same time), decide (per resource), write (CreateTags shared across kinds, paced, a few at once)
// and expire (due backups, re-read, deleted a few at once). Everything it touches comes in through
// its ports.
import { CreateTagsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { addDays, isoDateUtc } from "./dates";
import { createDecider, emptyCounts, type KindCounts } from "./decide";
import { createEntryCache } from "./entryCache";
import { describeError, stopReason } from "./errors";
import { createExpiryPlanner, executeExpiry, type ExpiryReport } from "./expire";
import type { Ledger } from "./ledger";
import {
  MAX_FILTER_VALUES,
  PAGE_SIZE,
  existingImages,
  existingSnapshots,
  listDueSnapshots,
  listImages,
  listSnapshots,
  snapshotExists,
  snapshotSample,
  type Kind,
} from "./list";
import { NOTICE_STATE, createNoticeCollector, noticeMessage, type NoticeReport } from "./notice";
import { forEachConcurrent, paceClient } from "./pace";
import type { Clock, Logger, RemainingTime } from "./ports";
import { batchIdsOf, proofStatus, tagValue } from "./proof";
import { exclusionReason, type TagMatch } from "./selection";
import { SHARDS, decodeShards, shardOf, type Partition } from "./shards";
import {
  SWEEP_STATE,
  afterRun,
  createFilterCheck,
  markDone,
  parseSweepState,
  leadPartition,
  partitionsFor,
  passForRun,
  sweepReport,
  type SweepReport,
  type SweepState,
} from "./sweep";
import { decideTags, type DeleteOnFrom, type Tag } from "./tagPolicy";
import { BATCH_KEY, DELETE_ON_KEY, retentionValue } from "./tagRules";
import { PIPELINE, type Tuning } from "./tuning";
import { createBatchWriter, type Failure } from "./write";

export { MAX_FILTER_VALUES, PAGE_SIZE, existingImages, existingSnapshots } from "./list";
export type { KindCounts } from "./decide";
/** How many failures the response lists one by one; the count is always exact. */
export const MAX_LISTED_FAILURES = 50;
/** Due dates further back than this are found by the sweep's listing, not by the due query. */
export const DUE_LOOKBACK_DAYS = 400;
/** The ledger state that remembers the last run's deletion backlog. */
export const BACKLOG_STATE = "deletion-backlog";
/** With expiry on, the share of the run kept for it: no new partition starts past this point. */
const EXPIRY_SHARE = 0.25;

export interface TaggerPorts {
  /** A real client: the SDK paginators insist on one. Tests stub its `send`. */
  ec2: EC2Client;
  clock: Clock;
  log: Logger;
  remainingMs: RemainingTime;
  /** Called after every page and at the end of each kind; the local runner draws a progress line. */
  progress?: (update: Progress) => void;
  /**
   * Where dating batches are recorded, the only proof expiry accepts, and where the sweep keeps its
   * place. Without one, what the run dates can never expire, nothing is deleted, and every run
   * lists everything.
   */
  ledger?: Ledger;
  /** Sends the run's one notice of backups falling due; absent when there is no topic. */
  notify?: (subject: string, body: string) => Promise<void>;
  /** The per-resource decision; tests inject one that throws. Default decideTags. */
  decide?: typeof decideTags;
}

export interface Progress {
  kind: string;
  pages: number;
  listed: number;
  planned: number;
  tagged: number;
}

export interface TaggerSettings {
  retentionDays: number;
  extraTags: Record<string, string>;
  dryRun: boolean;
  /** Only resources matching every entry are managed. Default: all. */
  includeTags?: TagMatch;
  /** Resources matching any entry are left alone. Default: none. */
  excludeTags?: TagMatch;
  /** Default true. */
  manageAmis?: boolean;
  /** Default true. */
  manageSnapshots?: boolean;
  /** Default "first-seen". */
  deleteOnFrom?: DeleteOnFrom;
  /** Deregister and delete expired backups after tagging. Default false. */
  expire?: boolean;
  /** Default 1. */
  expireGraceDays?: number;
  /** Default 1000. */
  maxDeletionsPerRun?: number;
  /** Days ahead the run warns of backups falling due; 0 for none. Default 7. */
  expireNoticeDays?: number;
  /** Record our tags found without proof (and without a RetentionBatch tag) as ours. Default false. */
  adoptUnprovenTags?: boolean;
  /** Every snapshot is visited at least once in this many hours (see sweep.ts). Default 24. */
  sweepHours?: number;
  /** Concurrency and pacing; default PIPELINE. */
  tuning?: Tuning;
  /** Stop starting API calls when less time than this is left. */
  safetyMarginMs: number;
}

export interface TagReport {
  today: string;
  deleteOn: string;
  retentionDays: number;
  dryRun: boolean;
  /** The run did all it set out to do (the sweep's pass may still need later runs). */
  complete: boolean;
  amis: KindCounts;
  snapshots: KindCounts;
  failures: Failure[];
  failureCount: number;
  /** Ledger entries written (one per CreateTags that dated resources) and read calls made. */
  ledgerWrites: number;
  ledgerReads: number;
  /** Why the run stopped before the end; absent when complete. */
  stopReason?: string;
  /** Present when the sweep is on and snapshots are managed. */
  sweep?: SweepReport;
  /** Present when expiry is on and every AMI was listed (they protect the snapshots they use). */
  expiry?: ExpiryReport & { backlogGrowing: boolean };
  /** Present with expiry. */
  notice?: NoticeReport & { sent: boolean };
}

const kindOfId = (id: string): Kind => (id.startsWith("ami-") ? "ami" : "snapshot");

/**
 * Tags every AMI and snapshot the account owns in the client's region (snapshots over one or more
 * runs: the sweep). Ends early with `complete: false` and a `stopReason` when time runs out or EC2
 * throttles or stalls every attempt; throws only when listing fails for another reason
 * (permissions, say). Anything that goes wrong for one resource is that resource's failure,
 * reported, and the run goes on.
 */
export async function tagBackups(ports: TaggerPorts, settings: TaggerSettings): Promise<TagReport> {
  const tuning = settings.tuning ?? PIPELINE;
  const now = ports.clock();
  const today = isoDateUtc(now);
  const report: TagReport = {
    today,
    // today + at most 36,500 days stays far inside the date range.
    deleteOn: addDays(today, settings.retentionDays) as string,
    retentionDays: settings.retentionDays,
    dryRun: settings.dryRun,
    complete: true,
    amis: emptyCounts(),
    snapshots: emptyCounts(),
    failures: [],
    failureCount: 0,
    ledgerWrites: 0,
    ledgerReads: 0,
  };
  if ((ports.ec2 as Partial<EC2Client>).middlewareStack) {
    paceClient(ports.ec2, tuning);
  }
  const startMs = ports.remainingMs();
  const outOfTime = () => ports.remainingMs() < settings.safetyMarginMs;
  const counts = (kind: Kind) => (kind === "ami" ? report.amis : report.snapshots);
  const include = settings.includeTags ?? {};
  const exclude = settings.excludeTags ?? {};
  const scope = ports.ledger?.scope ?? "";
  const entries = createEntryCache(ports.ledger, ports.log);
  const decide = ports.decide ?? decideTags;
  const sweepHours = settings.sweepHours ?? 24;

  const expiry = {
    expire: settings.expire === true,
    graceDays: settings.expireGraceDays ?? 1,
    maxDeletions: settings.maxDeletionsPerRun ?? 1000,
    dryRun: settings.dryRun,
    retentionDays: settings.retentionDays,
    includeTags: include,
    excludeTags: exclude,
  };
  // When expiry waits for the listing, the listing stops once only expiry's share of the run (and
  // the margin) is left.
  const reserveMs =
    expiry.expire && !(tuning.concurrentKinds && tuning.sweep && settings.manageSnapshots !== false)
      ? startMs * EXPIRY_SHARE
      : 0;
  // The run's state, declared before the stages that share it (Pulumi's closure serializer wants
  // every variable declared before the code that captures it).
  let state: SweepState | undefined;
  let filterFailures = 0;
  let amisWhole = false;
  let snapshotPages = 0;
  /** Partitions this run started and cut short, and the largest planned (in shards). */
  let partitionsCut = 0;
  let plannedShards = 0;
  const completed: { partition: Partition; listed: number }[] = [];
  const progress = (kind: Kind, pages: number) =>
    ports.progress?.({
      kind,
      pages,
      listed: counts(kind).listed,
      planned: counts(kind).planned,
      tagged: counts(kind).tagged,
    });
  const listingTimeLeft = () => ports.remainingMs() - settings.safetyMarginMs - reserveMs;
  // A partition is worth starting only if it can finish: judged from the pages listed so far.
  const pageTime = { ms: 0, pages: 0 };
  const mayStartPartition = (partition: Partition) => {
    const left = listingTimeLeft();
    if (left <= 0) {
      return false;
    }
    if (state?.estimate === undefined || pageTime.pages === 0) {
      return true;
    }
    const pages = Math.ceil(((state.estimate / SHARDS) * partition.shards.length) / PAGE_SIZE);
    return left >= pages * (pageTime.ms / pageTime.pages);
  };
  const noticeDays = expiry.expire ? (settings.expireNoticeDays ?? 7) : 0;
  const announceable = noticeDays > 0 && ports.notify !== undefined && ports.ledger !== undefined;
  let announcedThrough: string | undefined;
  if (announceable && !settings.dryRun) {
    try {
      announcedThrough = await (ports.ledger as Ledger).readState(NOTICE_STATE);
    } catch (error) {
      ports.log.warn("could not read the last notice date; announcing everything due", describeError(error));
    }
  }
  const planner = createExpiryPlanner(expiry, today);
  const notices = createNoticeCollector({ noticeDays, graceDays: expiry.graceDays }, today, announcedThrough);
  const manageAmis = settings.manageAmis !== false;
  const manageSnapshots = settings.manageSnapshots !== false;
  const sweeping = tuning.sweep && manageSnapshots;
  // With the sweep, due snapshots are found by a query of their tags (every run, whatever the
  // sweep has reached); the listing's own due snapshots cross-check that query.
  const listedDue = new Map<string, string>();

  const stop = (reason: string) => {
    report.complete = false;
    report.stopReason ??= reason;
  };
  const failResource = (kind: Kind, failure: Failure) => {
    counts(kind).failed += 1;
    report.failureCount += 1;
    if (report.failures.length < MAX_LISTED_FAILURES) {
      report.failures.push(failure);
    }
  };
  /** A listing that ran out of time or was throttled ends the run early; anything else throws. */
  const listingFailed = (error: unknown) => {
    const reason = outOfTime() ? "time: the run reached its deadline while listing" : stopReason(error);
    if (reason === undefined) {
      throw error;
    }
    stop(reason);
  };

  // The write stage: one writer for both kinds when they may share calls.
  const cutShards = new Set<number>();
  const newWriter = (label: string) =>
    createBatchWriter({
      send: async (ids: string[], tags: Tag[]) => {
        await ports.ec2.send(new CreateTagsCommand({ Resources: ids, Tags: tags }));
      },
      findExisting: async (ids) => [
        ...(await existingImages(
          ports.ec2,
          ids.filter((id) => kindOfId(id) === "ami"),
        )),
        ...(await existingSnapshots(
          ports.ec2,
          ids.filter((id) => kindOfId(id) === "snapshot"),
        )),
      ],
      log: ports.log,
      kind: label,
      dryRun: settings.dryRun,
      ledger: ports.ledger,
      // Writes leave expiry its share too: a write not sent leaves its shard for the next run.
      outOfTime: () => listingTimeLeft() <= 0,
      concurrency: tuning.createTags.concurrency,
      onFailure: (failure) => failResource(kindOfId(failure.id), failure),
      onWritten: (ids) => ids.forEach((id) => (counts(kindOfId(id)).tagged += 1)),
      onNotReached: (ids) => ids.forEach((id) => cutShards.add(shardOf(id) ?? -1)),
    });
  const shared = tuning.crossKindWrites ? newWriter("backups") : undefined;
  const writers = { ami: shared ?? newWriter("ami"), snapshot: shared ?? newWriter("snapshot") };

  const decider = createDecider({
    settings,
    include,
    exclude,
    today,
    scope,
    decide,
    log: ports.log,
    counts,
    fail: failResource,
    observe: (kind, resource, decision) => {
      if (kind === "snapshot" && sweeping) {
        if (planner.consider(kind, resource, decision) && listedDue.size < expiry.maxDeletions * 10) {
          listedDue.set(resource.id, tagValue(resource.tags, DELETE_ON_KEY) ?? "");
        }
        return;
      }
      planner.consider(kind, resource, decision);
      notices.consider(kind, resource, decision);
    },
    write: (id, tags, record) => writers[kindOfId(id)].add(id, tags, record),
  });

  // --- list and decide: AMIs, always whole (every registered AMI protects its snapshots) ---
  const listAmis = async () => {
    if (!manageAmis && !expiry.expire) {
      return;
    }
    let pages = 0;
    try {
      for await (const page of listImages(ports.ec2)) {
        pages += 1;
        const lookup = await entries.load(batchIdsOf(page));
        for (const resource of page) {
          if (resource.backing) {
            planner.observeImage(resource.backing);
          }
          if (manageAmis) {
            await decider.handle("ami", resource, lookup);
          }
        }
        progress("ami", pages);
        if (outOfTime()) {
          stop("time: less than the safety margin was left");
          return;
        }
      }
      amisWhole = true;
    } catch (error) {
      listingFailed(error);
    }
  };

  // --- list and decide: snapshots, by partition of the sweep ---
  const distrustFilter = (why: string, ids: string[]) => {
    filterFailures += ids.length;
    if (state && !state.pass.unfiltered) {
      state = { ...state, pass: { ...state.pass, unfiltered: true } };
      ports.log.warn("the snapshot-id filter failed its check; the rest of the pass lists without it", {
        why,
        examples: ids.slice(0, 10),
      });
    }
  };
  const listPartition = async (
    partition: Partition,
    check: ReturnType<typeof createFilterCheck> | undefined,
  ) => {
    if (!report.complete || (check && !mayStartPartition(partition)) || (check && filterFailures > 0)) {
      return;
    }
    const sampleIds = new Set(check ? check.sampleIn(partition) : []);
    const seen = new Set<string>();
    let listed = 0;
    try {
      let pageStart = ports.remainingMs();
      for await (const page of listSnapshots(ports.ec2, partition.filter)) {
        snapshotPages += 1;
        pageTime.ms += Math.max(0, pageStart - ports.remainingMs());
        pageTime.pages += 1;
        const strays = check
          ? check.strays(
              partition,
              page.map((r) => r.id),
            )
          : [];
        if (strays.length > 0) {
          distrustFilter("a filtered listing returned snapshots of other shards", strays);
        }
        const lookup = await entries.load(batchIdsOf(page));
        for (const resource of page) {
          if (sampleIds.has(resource.id)) {
            seen.add(resource.id);
          }
          await decider.handle("snapshot", resource, lookup);
        }
        listed += page.length;
        progress("snapshot", snapshotPages);
        // The listing leaves expiry its share of the run: a partition cut here is listed again.
        if (listingTimeLeft() <= 0) {
          partitionsCut += 1;
          if (state && partition.filter === undefined) {
            // Cut before the end of everything: the account holds at least this many, enough to
            // cut the next run's pass into partitions that can finish.
            state = { ...state, estimate: Math.max(state.estimate ?? 0, listed) };
          }
          stop("time: less than the safety margin (and expiry's share) was left");
          return;
        }
        pageStart = ports.remainingMs();
        if (strays.length > 0) {
          return;
        }
      }
    } catch (error) {
      listingFailed(error);
      return;
    }
    if (check) {
      const missing = check.missing(partition, (id) => seen.has(id));
      if (missing.length > 0) {
        // Deleted since the sample was read is fine; still there means the filter missed it.
        const still: string[] = [];
        for (const id of missing.slice(0, 10)) {
          if (await snapshotExists(ports.ec2, id).catch(() => true)) {
            still.push(id);
          }
        }
        if (still.length > 0) {
          distrustFilter("a filtered listing missed snapshots an unfiltered one returned", still);
          return;
        }
      }
    }
    completed.push({ partition, listed });
  };

  const listSnapshotStage = async () => {
    if (!manageSnapshots) {
      return;
    }
    const all: Partition = { shards: Array.from({ length: SHARDS }, (_, s) => s) };
    if (!sweeping) {
      await listPartition(all, undefined);
      return;
    }
    state = passForRun(await readSweepState(), now);
    const partitions = partitionsFor(state);
    plannedShards = Math.max(...partitions.map((p) => p.shards.length), 0);
    // One listing of everything (an account one run covers, or a distrusted filter): no filter, so
    // nothing to check.
    if (partitions.length === 1 && partitions[0].filter === undefined) {
      await listPartition(partitions[0], undefined);
      return;
    }
    // One unfiltered page: the sample the filtered listings are checked against, and the whole
    // account when it fits in it and nothing of the pass is done yet.
    let sample: Awaited<ReturnType<typeof snapshotSample>>;
    try {
      sample = await snapshotSample(ports.ec2);
    } catch (error) {
      listingFailed(error);
      return;
    }
    if (!sample.more && decodeShards(state.pass.done).every((done) => !done)) {
      const lookup = await entries.load(batchIdsOf(sample.page));
      for (const resource of sample.page) {
        await decider.handle("snapshot", resource, lookup);
      }
      progress("snapshot", 1);
      completed.push({ partition: all, listed: sample.page.length });
      return;
    }
    const check = createFilterCheck(sample.page.map((r) => r.id));
    if (check.unsharded.length > 0) {
      distrustFilter("snapshot IDs outside the shard scheme", check.unsharded);
    }
    let rest = partitions;
    if (state.estimate === undefined && !state.pass.unfiltered) {
      // Size unknown: one shard first, alone, and the rest cut by what it held. Sixteen partitions
      // at once cost up to one part-filled page each, 1.3x the calls an account of 10,000 needs;
      // one shard costs one page more and a few seconds before the rest start.
      const lead = leadPartition(state);
      await listPartition(lead, check);
      const led = completed.find((c) => c.partition === lead);
      if (led === undefined) {
        return;
      }
      state = { ...state, estimate: led.listed * SHARDS };
      rest = partitionsFor(state, lead.shards);
      plannedShards = Math.max(lead.shards.length, ...rest.map((p) => p.shards.length));
    }
    await forEachConcurrent(rest, tuning.listConcurrency, (partition) => listPartition(partition, check));
  };
  async function readSweepState(): Promise<SweepState | undefined> {
    if (ports.ledger === undefined) {
      return undefined;
    }
    try {
      return parseSweepState(await ports.ledger.readState(SWEEP_STATE));
    } catch (error) {
      ports.log.warn("could not read the sweep's place; starting a new pass", describeError(error));
      return undefined;
    }
  }

  // Expiry runs only when every AMI was listed, so no snapshot still in use is taken for free. With
  // the sweep it starts as soon as the AMIs are listed, beside the snapshot listing: the due query
  // finds its candidates, and deletions (their own EC2 bucket) get the whole run, not what the
  // listing leaves. The notice window (due in the next days: notices and BackupsDueSoon only) is
  // queried beside the deletions, not before them: on a large account it is a week of backups
  // (7/90 of 1,000,000 is 78 pages), which would otherwise come out of every run's deletion time.
  // A second round at the end takes the due snapshots the listing found since.
  const expiryResults: ExpiryReport[] = [];
  const expiredPlanned = new Set<string>();
  let dueQueryComplete = false;
  let dueQueried = false;
  let dueQuery: Promise<{ complete: boolean }> | undefined;
  let soonQuery: Promise<{ complete: boolean }> | undefined;
  /** What the due query found, for the cross-check against the listing's own due snapshots. */
  const dueFound = new Set<string>();
  let dueWindow: Set<string> | undefined;
  const expireOnce = async () => {
    const throttledOrFailed = report.stopReason !== undefined && !report.stopReason.startsWith("time:");
    if (!expiry.expire || ports.ledger === undefined || !amisWhole || throttledOrFailed || outOfTime()) {
      return;
    }
    if (sweeping && !dueQueried) {
      dueQueried = true;
      dueQueryComplete = (await (dueQuery ?? queryDue("due"))).complete;
      soonQuery = noticeDays > 0 ? queryDue("soon") : undefined;
    }
    const plan = planner.plan();
    const deleted = expiryResults.reduce((n, r) => n + r.amisDeregistered + r.snapshotsDeleted, 0);
    const fresh = {
      ...plan,
      amis: plan.amis.filter((a) => !expiredPlanned.has(a.id)),
      snapshots: plan.snapshots.filter((id) => !expiredPlanned.has(id)),
    };
    const due = plan.due - expiredPlanned.size;
    if (fresh.amis.length + fresh.snapshots.length === 0 && expiryResults.length > 0) {
      return;
    }
    fresh.amis.forEach((a) => expiredPlanned.add(a.id));
    fresh.snapshots.forEach((id) => expiredPlanned.add(id));
    const { stoppedForTime, ...result } = await executeExpiry(
      {
        ec2: ports.ec2,
        log: ports.log,
        outOfTime,
        ledger: ports.ledger,
        concurrency: tuning.deletions.concurrency,
      },
      { ...fresh, due },
      { ...expiry, maxDeletions: Math.max(0, expiry.maxDeletions - deleted) },
      today,
      MAX_LISTED_FAILURES,
    );
    expiryResults.push(result);
    if (stoppedForTime) {
      stop("time: the deadline came during expiry");
    }
  };
  const expireBesideListing =
    tuning.concurrentKinds && sweeping && expiry.expire && ports.ledger !== undefined;

  if (expireBesideListing) {
    // Deletions wait for the whole AMI listing (in-use protection), and the snapshot listing's
    // parsing would share the function's CPU with it: on 1,000,000 snapshots + 50,000 AMIs that
    // pushed the first deletion to 139 s of a 270 s run (bench/expiry.ts). So the AMIs come first,
    // the due query beside them, then the deletions beside the snapshot listing.
    dueQuery = queryDue("due");
    await listAmis();
    await Promise.all([expireOnce(), listSnapshotStage()]);
  } else if (tuning.concurrentKinds) {
    await Promise.all([listAmis(), listSnapshotStage()]);
  } else {
    await listAmis();
    await writers.ami.flush();
    if (report.complete) {
      await listSnapshotStage();
    }
  }
  await writers.ami.flush();
  await writers.snapshot.flush();
  report.ledgerWrites = shared
    ? shared.ledgerWrites
    : writers.ami.ledgerWrites + writers.snapshot.ledgerWrites;
  const notReached = writers.ami.notReached + (shared ? 0 : writers.snapshot.notReached);
  if (notReached > 0) {
    stop("time: the deadline came before every write was sent");
  }
  if (ports.ledger === undefined && report.amis.tagged + report.snapshots.tagged > 0 && !settings.dryRun) {
    ports.log.warn(
      "no ledger: the backups this run dated carry no proof that this stack dated them, so expiry will never delete them",
      { amis: report.amis.tagged, snapshots: report.snapshots.tagged },
    );
  }
  decider.logSummary(report.amis, report.snapshots);

  // --- the sweep's place: shards whose listing ran out and whose writes were all sent ---
  if (state) {
    let finished = 0;
    for (const { partition, listed } of completed) {
      if (partition.shards.every((s) => !cutShards.has(s)) && !cutShards.has(-1)) {
        state = markDone(state, partition.shards, listed, now);
        finished += 1;
      } else {
        partitionsCut += 1;
      }
    }
    state = afterRun(state, plannedShards, partitionsCut, finished);
    report.sweep = sweepReport(state, ports.clock(), sweepHours, filterFailures);
    if (!report.sweep.passComplete && report.complete) {
      report.complete = false;
      report.stopReason = "time: the sweep's pass continues in the next run";
    }
  }
  if (!report.complete) {
    ports.log.warn(`stopping early: ${report.stopReason}; the next run continues`, {
      remainingMs: ports.remainingMs(),
      notReached,
      ...(report.sweep ? { shardsDone: report.sweep.shardsDone, shardsTotal: report.sweep.shardsTotal } : {}),
    });
  }

  // --- expire, after the listing (or beside it: see expireBesideListing) ---
  if (expiry.expire && ports.ledger !== undefined && !outOfTime()) {
    await expireOnce();
  }
  crossCheckDueQuery();
  if (dueQuery !== undefined && !dueQueried) {
    // Started beside the AMI listing, but expiry did not run (AMIs incomplete, out of time).
    await dueQuery;
  }
  if (soonQuery !== undefined) {
    dueQueryComplete = (await soonQuery).complete && dueQueryComplete;
  }
  if (expiryResults.length > 0) {
    const result = expiryResults.reduce(addExpiry);
    const ledger = ports.ledger as Ledger;
    const previous = await readBacklog(ledger);
    report.expiry = { ...result, backlogGrowing: previous > 0 && result.backlog > previous };
    if (!settings.dryRun && result.backlog !== previous) {
      await ledger.writeState(BACKLOG_STATE, String(result.backlog)).catch((error: unknown) => {
        ports.log.warn("could not save the deletion backlog", describeError(error));
      });
    }
    if (result.backlog > 0) {
      ports.log.warn("due backups left for later runs", {
        backlog: result.backlog,
        previous,
        growing: report.expiry.backlogGrowing,
      });
    }
    report.notice = { ...notices.report(), sent: false };
    if (announceable && !settings.dryRun && dueQueryComplete) {
      report.notice.sent = await announce(ports, report.notice, expiry.graceDays);
    }
  }
  if (state && ports.ledger !== undefined && !settings.dryRun) {
    try {
      await ports.ledger.writeState(SWEEP_STATE, JSON.stringify(state));
    } catch (error) {
      ports.log.warn("could not save the sweep's place; the next run repeats this one", describeError(error));
    }
  }
  report.ledgerReads = entries.reads;
  return report;

  /**
   * Our snapshots whose DeleteOn says they are due ("due"), or fall due within the notice window
   * ("soon"), found by their tags whatever the sweep has reached. Snapshots the listing found due
   * that this query missed count as filter-check failures, and are candidates all the same.
   */
  async function queryDue(which: "due" | "soon"): Promise<{ complete: boolean }> {
    const lastDue = -(expiry.graceDays + 1);
    const [first, last] =
      which === "due" ? [lastDue - DUE_LOOKBACK_DAYS, lastDue] : [lastDue + 1, lastDue + noticeDays];
    const dates: string[] = [];
    for (let offset = first; offset <= last; offset++) {
      const date = addDays(today, offset);
      if (date !== undefined) {
        dates.push(date);
      }
    }
    try {
      // One value of the filters' 200 goes to the Retention filter.
      for (let start = 0; start < dates.length; start += MAX_FILTER_VALUES - 1) {
        const chunk = dates.slice(start, start + MAX_FILTER_VALUES - 1);
        for await (const page of listDueSnapshots(ports.ec2, retentionValue(settings.retentionDays), chunk)) {
          const lookup = await entries.load(batchIdsOf(page));
          for (const resource of page) {
            dueFound.add(resource.id);
            // Dated (adopted, re-anchored) in this very run: deletable from the next run on, as
            // when the listing decides.
            const batch = tagValue(resource.tags, BATCH_KEY) ?? "";
            if (writers.ami.recordedBatch(batch) || writers.snapshot.recordedBatch(batch)) {
              continue;
            }
            if (exclusionReason(resource.tags, include, exclude) !== undefined) {
              continue;
            }
            const proof = proofStatus(resource.id, resource.tags, lookup, scope);
            const decision = decide(resource.tags, settings, today, resource.createdOn, {
              proof,
              adopt: settings.adoptUnprovenTags === true,
            });
            planner.consider("snapshot", resource, decision);
            notices.consider("snapshot", resource, decision);
          }
          if (outOfTime()) {
            return { complete: false };
          }
        }
      }
    } catch (error) {
      ports.log.warn("could not query due snapshots; expiring those the listing found", describeError(error));
      return { complete: false };
    }
    if (which === "due") {
      dueWindow = new Set(dates);
    }
    return { complete: true };
  }

  /**
   * Once the listing is over: snapshots it found due that the due query did not return count as
   * filter-check failures (they are expired all the same).
   */
  function crossCheckDueQuery(): void {
    if (dueWindow === undefined) {
      return;
    }
    const window = dueWindow;
    const missed = [...listedDue].filter(([id, deleteOn]) => window.has(deleteOn) && !dueFound.has(id));
    if (missed.length > 0) {
      filterFailures += missed.length;
      if (report.sweep) {
        report.sweep.filterCheckFailures = filterFailures;
      }
      ports.log.warn("the due query missed snapshots the listing found due; they are expired all the same", {
        count: missed.length,
        examples: missed.slice(0, 10).map(([id]) => id),
      });
    }
  }
}

/** Two rounds of expiry in one run, as one report. */
function addExpiry(a: ExpiryReport, b: ExpiryReport): ExpiryReport {
  return {
    amisDeregistered: a.amisDeregistered + b.amisDeregistered,
    snapshotsDeleted: a.snapshotsDeleted + b.snapshotsDeleted,
    deletionFailures: a.deletionFailures + b.deletionFailures,
    keptInUse: a.keptInUse + b.keptInUse,
    skippedChanged: a.skippedChanged + b.skippedChanged,
    capped: a.capped || b.capped,
    failures: [...a.failures, ...b.failures].slice(0, MAX_LISTED_FAILURES),
    // Each round counts the due backups it planned and did not reach.
    backlog: a.backlog + b.backlog,
  };
}

/** The due backlog the last run with expiry left; 0 when unknown. */
async function readBacklog(ledger: Ledger): Promise<number> {
  const text = await ledger.readState(BACKLOG_STATE).catch(() => undefined);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : 0;
}

/** Sends the one notice of newly due backups, then remembers how far it announced. */
async function announce(ports: TaggerPorts, notice: NoticeReport, graceDays: number): Promise<boolean> {
  try {
    if (notice.newlyDue > 0) {
      const { subject, body } = noticeMessage(notice, (ports.ledger as Ledger).scope, graceDays);
      await (ports.notify as NonNullable<TaggerPorts["notify"]>)(subject, body);
    }
    await (ports.ledger as Ledger).writeState(NOTICE_STATE, notice.through);
    return notice.newlyDue > 0;
  } catch (error) {
    ports.log.warn("could not send the deletion notice; the next run tries again", describeError(error));
    return false;
  }
}
