// The tagger core: lists the account's AMIs and snapshots page by page, decides per resource, and
// writes in batches. Everything it touches comes in through its ports.
import { CreateTagsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { createBatchWriter, type Failure } from "./batchWriter";
import { describeError, stopReason } from "./errors";
import { addDays, isoDateUtc } from "./dates";
import { createEntryCache } from "./entryCache";
import { createExpiryPlanner, executeExpiry, type ExpiryReport } from "./expiry";
import type { Ledger } from "./ledger";
import {
  existingImages,
  existingSnapshots,
  listImages,
  listSnapshots,
  type Kind,
  type Listed,
} from "./listing";
import { NOTICE_STATE, createNoticeCollector, noticeMessage, type NoticeReport } from "./notice";
import type { Clock, Logger, RemainingTime } from "./ports";
import { batchIdsOf, proofStatus } from "./proof";
import { exclusionReason, type TagMatch } from "./selection";
import { decideTags, type DeleteOnFrom, type Tag } from "./tagPolicy";

export { MAX_FILTER_VALUES, PAGE_SIZE, existingImages, existingSnapshots } from "./listing";
/** How many failures the response lists one by one; the count is always exact. */
export const MAX_LISTED_FAILURES = 50;
const MAX_EXAMPLES = 10;

export interface TaggerPorts {
  /** A real client: the SDK paginators insist on one. Tests stub its `send`. */
  ec2: EC2Client;
  clock: Clock;
  log: Logger;
  remainingMs: RemainingTime;
  /** Called after every page and at the end of each kind; the local runner draws a progress line. */
  progress?: (update: Progress) => void;
  /**
   * Where dating batches are recorded, and the only proof expiry accepts. Without one, what the
   * run dates can never expire and nothing is deleted.
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
  /** Default 50. */
  maxDeletionsPerRun?: number;
  /** Days ahead the run warns of backups falling due; 0 for none. Default 7. */
  expireNoticeDays?: number;
  /** Record our tags found without proof (and without a RetentionBatch tag) as ours. Default false. */
  adoptUnprovenTags?: boolean;
  /** Stop starting API calls when less time than this is left. */
  safetyMarginMs: number;
}

export interface KindCounts {
  listed: number;
  /** Resources that needed a write this run. */
  planned: number;
  /** Written (or, in a dry run, that would have been). */
  tagged: number;
  /** Already ours with the current retention. */
  unchanged: number;
  /** Carry a Retention or DeleteOn tag we did not write. */
  skipped: number;
  /** Left alone by includeTags / excludeTags. */
  excluded: number;
  failed: number;
  /** Carry our Retention and DeleteOn without proof that this stack wrote them: never expired. */
  unproven: number;
  /** Unproven tags recorded as ours by adoptUnprovenTags. */
  adopted: number;
}

export interface TagReport {
  today: string;
  deleteOn: string;
  retentionDays: number;
  dryRun: boolean;
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
  /** Present when expiry is on and the tagging pass completed. */
  expiry?: ExpiryReport;
  /** Present when expiry is on and the tagging pass completed. */
  notice?: NoticeReport & { sent: boolean };
}

type Lister = (ec2: EC2Client) => AsyncIterable<Listed[]>;
type Finder = (ec2: EC2Client, ids: string[]) => Promise<string[]>;

function emptyCounts(): KindCounts {
  return {
    listed: 0,
    planned: 0,
    tagged: 0,
    unchanged: 0,
    skipped: 0,
    excluded: 0,
    failed: 0,
    unproven: 0,
    adopted: 0,
  };
}

/**
 * Tags every AMI and snapshot the account owns in the client's region. Ends early with
 * `complete: false` and a `stopReason` when time runs out or EC2 throttles or stalls every attempt;
 * throws only when listing fails for another reason (permissions, say). Anything that goes wrong
 * for one resource (a write EC2 refuses, a decision that throws) is that resource's failure,
 * reported, and the run goes on.
 */
export async function tagBackups(ports: TaggerPorts, settings: TaggerSettings): Promise<TagReport> {
  const today = isoDateUtc(ports.clock());
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
  const outOfTime = () => ports.remainingMs() < settings.safetyMarginMs;
  const decide = ports.decide ?? decideTags;
  const sendCreateTags = async (ids: string[], tags: Tag[]) => {
    await ports.ec2.send(new CreateTagsCommand({ Resources: ids, Tags: tags }));
  };
  const include = settings.includeTags ?? {};
  const exclude = settings.excludeTags ?? {};
  const scope = ports.ledger?.scope ?? "";
  const entries = createEntryCache(ports.ledger, ports.log);

  const expiry = {
    expire: settings.expire === true,
    graceDays: settings.expireGraceDays ?? 1,
    maxDeletions: settings.maxDeletionsPerRun ?? 50,
    dryRun: settings.dryRun,
    retentionDays: settings.retentionDays,
    includeTags: include,
    excludeTags: exclude,
  };
  const noticeDays = expiry.expire ? (settings.expireNoticeDays ?? 7) : 0;
  // The last due date an earlier run announced, so each backup is announced once.
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
  const unprovenExamples: string[] = [];

  const stop = (reason: string) => {
    report.complete = false;
    report.stopReason ??= reason;
  };
  const failResource = (counts: KindCounts, failure: Failure) => {
    counts.failed += 1;
    report.failureCount += 1;
    if (report.failures.length < MAX_LISTED_FAILURES) {
      report.failures.push(failure);
    }
  };

  // [kind, lister, finder, counts, managed]: with expiry on, AMIs are listed even when not
  // managed, since every registered AMI protects the snapshots behind it.
  const kinds: [Kind, Lister, Finder, KindCounts, boolean][] = [];
  if (settings.manageAmis !== false || expiry.expire) {
    kinds.push(["ami", listImages, existingImages, report.amis, settings.manageAmis !== false]);
  }
  if (settings.manageSnapshots !== false) {
    kinds.push(["snapshot", listSnapshots, existingSnapshots, report.snapshots, true]);
  }
  for (const [kind, list, findExisting, counts, managed] of kinds) {
    const writer = createBatchWriter({
      send: sendCreateTags,
      findExisting: (ids) => findExisting(ports.ec2, ids),
      log: ports.log,
      kind,
      dryRun: settings.dryRun,
      ledger: ports.ledger,
      outOfTime,
      onFailure: (failure) => failResource(counts, failure),
    });
    const skippedExamples: string[] = [];
    const repairedExamples: string[] = [];
    let repaired = 0;
    let pages = 0;
    const progress = () =>
      ports.progress?.({
        kind,
        pages,
        listed: counts.listed,
        planned: counts.planned,
        tagged: writer.written,
      });

    /** Decides one resource and queues its write; may throw, and then fails that resource alone. */
    const handle = async (resource: Listed) => {
      if (!resource.id) {
        throw new Error("EC2 listed a resource without an ID");
      }
      if (exclusionReason(resource.tags, include, exclude) !== undefined) {
        counts.excluded += 1;
        return;
      }
      const proof = proofStatus(resource.id, resource.tags, entries.lookup, scope);
      const decision = decide(resource.tags, settings, today, resource.createdOn, {
        proof,
        adopt: settings.adoptUnprovenTags === true,
      });
      planner.consider(kind, resource, decision);
      notices.consider(kind, resource, decision);
      if ((decision.action === "keep" || decision.action === "write") && decision.proof === "unproven") {
        counts.unproven += 1;
        if (unprovenExamples.length < MAX_EXAMPLES) {
          unprovenExamples.push(resource.id);
        }
      }
      if (decision.action === "keep") {
        counts.unchanged += 1;
      } else if (decision.action === "skip") {
        counts.skipped += 1;
        if (skippedExamples.length < MAX_EXAMPLES) {
          skippedExamples.push(`${resource.id}: ${decision.reason}`);
        }
      } else if (decision.action === "defer") {
        failResource(counts, { id: resource.id, code: "LedgerUnavailable", message: decision.reason });
      } else {
        counts.planned += 1;
        if (decision.reason === "adopted") {
          counts.adopted += 1;
        }
        if (decision.warning) {
          repaired += 1;
          if (repairedExamples.length < MAX_EXAMPLES) {
            repairedExamples.push(`${resource.id}: ${decision.warning}`);
          }
        }
        await writer.add(resource.id, decision.tags, decision.proof === "record");
      }
    };

    try {
      for await (const page of list(ports.ec2)) {
        pages += 1;
        // One ledger read per page for the batches it names that the run has not seen yet.
        await entries.load(batchIdsOf(page));
        for (const resource of page) {
          if (resource.backing) {
            planner.observeImage(resource.backing);
          }
          if (!managed) {
            continue;
          }
          counts.listed += 1;
          try {
            await handle(resource);
          } catch (error) {
            const { code, message } = describeError(error);
            const failure = {
              id: resource.id || "(no id)",
              code: "ResourceFailed",
              message: `${code}: ${message}`,
            };
            failResource(counts, failure);
            ports.log.error("could not handle one resource; the run goes on", {
              kind,
              ...failure,
              tags: resource.tags,
            });
          }
        }
        progress();
        // Checked between pages: a page already fetched is worth deciding, a new one is not.
        if (outOfTime()) {
          stop("time: less than the safety margin was left");
          break;
        }
      }
    } catch (error) {
      // Listing that ran out of time, or that EC2 throttled or stalled on every attempt, ends the
      // run early with a response; anything else (permissions, a bad request) fails the run.
      const reason = outOfTime() ? "time: the run reached its deadline while listing" : stopReason(error);
      if (reason === undefined) {
        throw error;
      }
      stop(reason);
    }
    await writer.flush();
    counts.tagged = writer.written;
    report.ledgerWrites += writer.ledgerWrites;
    progress();
    if (writer.notReached > 0) {
      stop("time: the deadline came before every write was sent");
    }
    if (managed && ports.ledger === undefined && writer.written > 0 && !settings.dryRun) {
      ports.log.warn(
        "no ledger: the backups this run dated carry no proof that this stack dated them, so expiry will never delete them",
        { kind, count: writer.written },
      );
    }
    if (repaired > 0) {
      ports.log.warn("our Retention tag with a missing or malformed DeleteOn; re-dated", {
        kind,
        count: repaired,
        examples: repairedExamples,
      });
    }
    if (counts.skipped > 0) {
      ports.log.info("skipped resources with Retention or DeleteOn tags we did not write", {
        kind,
        count: counts.skipped,
        examples: skippedExamples,
      });
    }
    if (!report.complete) {
      ports.log.warn(`stopping early: ${report.stopReason}; the next run continues`, {
        kind,
        remainingMs: ports.remainingMs(),
        notReached: writer.notReached,
      });
      break;
    }
  }
  report.ledgerReads = entries.reads;
  const unproven = report.amis.unproven + report.snapshots.unproven;
  if (unproven > 0) {
    ports.log.warn(
      "backups carry our Retention and DeleteOn without proof that this stack dated them; they are never expired",
      {
        amis: report.amis.unproven,
        snapshots: report.snapshots.unproven,
        examples: unprovenExamples,
        adopt:
          "set adoptUnprovenTags to record those without a RetentionBatch tag as ours (a trust decision)",
      },
    );
  }
  // Only after a complete pass: an AMI not yet listed could still be using an expired snapshot.
  if (expiry.expire && report.complete && ports.ledger !== undefined) {
    const { stoppedForTime, ...result } = await executeExpiry(
      { ec2: ports.ec2, log: ports.log, outOfTime, ledger: ports.ledger },
      planner.plan(),
      expiry,
      today,
      MAX_LISTED_FAILURES,
    );
    report.expiry = result;
    if (stoppedForTime) {
      stop("time: the deadline came during expiry");
    }
    report.notice = { ...notices.report(), sent: false };
    if (announceable && !settings.dryRun) {
      report.notice.sent = await announce(ports, report.notice, expiry.graceDays);
    }
  }
  return report;
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
