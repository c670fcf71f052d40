// The tagger core: lists the account's AMIs and snapshots page by page, decides per resource, and
// writes in batches. Everything it touches comes in through its ports.
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  paginateDescribeImages,
  paginateDescribeSnapshots,
} from "@aws-sdk/client-ec2";
import { createBatchWriter, type Failure } from "./batchWriter";
import { addDays, isoDateUtc } from "./dates";
import type { Clock, Logger, RemainingTime } from "./ports";
import { createExpiryPlanner, executeExpiry, type ExpiryReport } from "./expiry";
import { exclusionReason, type TagMatch } from "./selection";
import { decideTags, type DeleteOnFrom, type Tag } from "./tagPolicy";

/** DescribeImages and DescribeSnapshots return at most 1000 items a page. */
export const PAGE_SIZE = 1000;
/** EC2 accepts at most 200 values in one filter. */
export const MAX_FILTER_VALUES = 200;
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
  /** Present when expiry is on and the tagging pass completed. */
  expiry?: ExpiryReport;
}

interface Listed {
  id: string;
  tags: Tag[] | undefined;
  /** UTC creation date, YYYY-MM-DD, when EC2 gave one. */
  createdOn: string | undefined;
  /** For an AMI: the snapshots behind it. */
  backing?: string[];
}

function utcDay(value: Date | string | undefined): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : isoDateUtc(date);
}

type Lister = (ec2: EC2Client) => AsyncIterable<Listed[]>;
type Finder = (ec2: EC2Client, ids: string[]) => Promise<string[]>;

async function* listImages(ec2: EC2Client): AsyncIterable<Listed[]> {
  const pages = paginateDescribeImages(
    { client: ec2, pageSize: PAGE_SIZE, stopOnSameToken: true },
    { Owners: ["self"] },
  );
  for await (const page of pages) {
    yield (page.Images ?? []).map((image) => ({
      id: image.ImageId ?? "",
      tags: image.Tags as Tag[] | undefined,
      createdOn: utcDay(image.CreationDate),
      backing: (image.BlockDeviceMappings ?? []).flatMap((m) =>
        m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
      ),
    }));
  }
}

async function* listSnapshots(ec2: EC2Client): AsyncIterable<Listed[]> {
  const pages = paginateDescribeSnapshots(
    { client: ec2, pageSize: PAGE_SIZE, stopOnSameToken: true },
    { OwnerIds: ["self"] },
  );
  for await (const page of pages) {
    yield (page.Snapshots ?? []).map((snap) => ({
      id: snap.SnapshotId ?? "",
      tags: snap.Tags as Tag[] | undefined,
      createdOn: utcDay(snap.StartTime),
    }));
  }
}

/** Filtered Describe calls do not fail on missing IDs, unlike ImageIds / SnapshotIds. */
export async function existingImages(ec2: EC2Client, ids: string[]): Promise<string[]> {
  const found: string[] = [];
  for (let start = 0; start < ids.length; start += MAX_FILTER_VALUES) {
    const values = ids.slice(start, start + MAX_FILTER_VALUES);
    const page = await ec2.send(
      new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "image-id", Values: values }] }),
    );
    found.push(...(page.Images ?? []).map((image) => image.ImageId ?? ""));
  }
  return found;
}

export async function existingSnapshots(ec2: EC2Client, ids: string[]): Promise<string[]> {
  const found: string[] = [];
  for (let start = 0; start < ids.length; start += MAX_FILTER_VALUES) {
    const values = ids.slice(start, start + MAX_FILTER_VALUES);
    const page = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ["self"],
        Filters: [{ Name: "snapshot-id", Values: values }],
      }),
    );
    found.push(...(page.Snapshots ?? []).map((snapshot) => snapshot.SnapshotId ?? ""));
  }
  return found;
}

function emptyCounts(): KindCounts {
  return { listed: 0, planned: 0, tagged: 0, unchanged: 0, skipped: 0, excluded: 0, failed: 0 };
}

/**
 * Tags every AMI and snapshot the account owns in the client's region. Throws only when listing
 * fails after the SDK's retries; per-resource write failures are reported, not thrown.
 */
export async function tagBackups(ports: TaggerPorts, settings: TaggerSettings): Promise<TagReport> {
  const today = isoDateUtc(ports.clock());
  const report: TagReport = {
    today,
    deleteOn: addDays(today, settings.retentionDays),
    retentionDays: settings.retentionDays,
    dryRun: settings.dryRun,
    complete: true,
    amis: emptyCounts(),
    snapshots: emptyCounts(),
    failures: [],
    failureCount: 0,
  };
  const outOfTime = () => ports.remainingMs() < settings.safetyMarginMs;
  const sendCreateTags = async (ids: string[], tags: Tag[]) => {
    await ports.ec2.send(new CreateTagsCommand({ Resources: ids, Tags: tags }));
  };

  const expiry = {
    expire: settings.expire === true,
    graceDays: settings.expireGraceDays ?? 1,
    maxDeletions: settings.maxDeletionsPerRun ?? 50,
    dryRun: settings.dryRun,
  };
  const planner = createExpiryPlanner(expiry, today);
  // [kind, lister, finder, counts, managed]: with expiry on, AMIs are listed even when not
  // managed, since every registered AMI protects the snapshots behind it.
  const kinds: [string, Lister, Finder, KindCounts, boolean][] = [];
  if (settings.manageAmis !== false || expiry.expire) {
    kinds.push(["ami", listImages, existingImages, report.amis, settings.manageAmis !== false]);
  }
  if (settings.manageSnapshots !== false) {
    kinds.push(["snapshot", listSnapshots, existingSnapshots, report.snapshots, true]);
  }
  const include = settings.includeTags ?? {};
  const exclude = settings.excludeTags ?? {};
  for (const [kind, list, findExisting, counts, managed] of kinds) {
    const writer = createBatchWriter({
      send: sendCreateTags,
      findExisting: (ids) => findExisting(ports.ec2, ids),
      log: ports.log,
      kind,
      dryRun: settings.dryRun,
      outOfTime,
      onFailure: (failure) => {
        counts.failed += 1;
        report.failureCount += 1;
        if (report.failures.length < MAX_LISTED_FAILURES) {
          report.failures.push(failure);
        }
      },
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
    for await (const page of list(ports.ec2)) {
      pages += 1;
      for (const resource of page) {
        if (resource.backing) {
          planner.observeImage(resource.backing);
        }
        if (!managed) {
          continue;
        }
        counts.listed += 1;
        if (exclusionReason(resource.tags, include, exclude) !== undefined) {
          counts.excluded += 1;
          continue;
        }
        const decision = decideTags(resource.tags, settings, today, resource.createdOn);
        planner.consider(
          kind === "ami" ? "ami" : "snapshot",
          resource.id,
          resource.tags,
          decision,
          resource.backing,
        );
        if (decision.action === "keep") {
          counts.unchanged += 1;
        } else if (decision.action === "skip") {
          counts.skipped += 1;
          if (skippedExamples.length < MAX_EXAMPLES) {
            skippedExamples.push(`${resource.id}: ${decision.reason}`);
          }
        } else {
          counts.planned += 1;
          if (decision.warning) {
            repaired += 1;
            if (repairedExamples.length < MAX_EXAMPLES) {
              repairedExamples.push(`${resource.id}: ${decision.warning}`);
            }
          }
          await writer.add(resource.id, decision.tags);
        }
      }
      progress();
      // Checked between pages: a page already fetched is worth deciding, a new one is not.
      if (outOfTime()) {
        report.complete = false;
        break;
      }
    }
    await writer.flush();
    counts.tagged = writer.written;
    progress();
    if (writer.notReached > 0) {
      report.complete = false;
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
      ports.log.warn("stopping early: too little time left; the next run continues", {
        kind,
        remainingMs: ports.remainingMs(),
        notReached: writer.notReached,
      });
      break;
    }
  }
  // Only after a complete pass: an AMI not yet listed could still be using an expired snapshot.
  if (expiry.expire && report.complete) {
    const { stoppedForTime, ...result } = await executeExpiry(
      { ec2: ports.ec2, log: ports.log, outOfTime },
      planner.plan(),
      expiry,
      MAX_LISTED_FAILURES,
    );
    report.expiry = result;
    if (stoppedForTime) {
      report.complete = false;
    }
  }
  return report;
}
