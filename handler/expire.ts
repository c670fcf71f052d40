// Expiry, opt-in: deregister AMIs and delete snapshots whose DeleteOn has passed. A backup goes only
// if, on tags read again just before deleting it, it is settled under the current retention, past
// DeleteOn plus the grace days, not excluded, and proven ours by the ledger (proof.ts). Never a
// snapshot that still backs a registered AMI, disabled and deprecated ones included.
import { DeleteSnapshotCommand, DeregisterImageCommand, type EC2Client } from "@aws-sdk/client-ec2";
import type { Failure } from "./write";
import { describeError, stoppedByDeadline } from "./errors";
import { forEachConcurrent } from "./pace";
import { dayNumber } from "./dates";
import type { Ledger } from "./ledger";
import { MAX_FILTER_VALUES, describeByIds, type Kind, type Listed } from "./list";
import type { Logger } from "./ports";
import { batchIdsOf, proofStatus, tagValue, type EntryLookup } from "./proof";
import { exclusionReason, type TagMatch } from "./selection";
import type { Decision, Tag } from "./tagPolicy";
import { DELETE_ON_KEY, RETENTION_KEY, retentionValue } from "./tagRules";

export interface ExpirySettings {
  expire: boolean;
  /** Days past DeleteOn before anything is deleted. */
  graceDays: number;
  /** Deletions (AMIs and snapshots together) per run. */
  maxDeletions: number;
  dryRun: boolean;
  retentionDays: number;
  includeTags: TagMatch;
  excludeTags: TagMatch;
}

export interface ExpiryReport {
  amisDeregistered: number;
  snapshotsDeleted: number;
  deletionFailures: number;
  /** Expired snapshots kept because a registered AMI still uses them. */
  keptInUse: number;
  /** Candidates whose tags or proof, read again just before deleting, no longer qualified. */
  skippedChanged: number;
  /** Stopped at maxDeletions. */
  capped: boolean;
  failures: Failure[];
  /** Due backups found but left for a later run (cap, time, or beyond what one run plans). */
  backlog: number;
}

/** The first day a backup may be deleted: the day after DeleteOn plus the grace days. */
export function dueDay(deleteOn: string, graceDays: number): number | undefined {
  const day = dayNumber(deleteOn);
  return day === undefined ? undefined : day + graceDays + 1;
}

/** True when DeleteOn plus the grace days is before today; never for a malformed or out-of-range date. */
export function isExpired(deleteOn: string, today: string, graceDays: number): boolean {
  const due = dueDay(deleteOn, graceDays);
  const now = dayNumber(today);
  return due !== undefined && now !== undefined && now >= due;
}

/**
 * Why a backup, as just read, must not be deleted today; undefined when it may. The same rules the
 * listing applied, on fresh tags and a fresh ledger read.
 */
export function expiryRefusal(
  resource: { id: string; tags: readonly Tag[] },
  today: string,
  settings: Pick<ExpirySettings, "graceDays" | "retentionDays" | "includeTags" | "excludeTags">,
  lookup: EntryLookup,
  scope: string,
): string | undefined {
  const excluded = exclusionReason(resource.tags, settings.includeTags, settings.excludeTags);
  if (excluded !== undefined) {
    return excluded;
  }
  const retention = tagValue(resource.tags, RETENTION_KEY);
  if (retention !== retentionValue(settings.retentionDays)) {
    return `${RETENTION_KEY}=${retention ?? "(none)"}, not ${retentionValue(settings.retentionDays)}`;
  }
  const deleteOn = tagValue(resource.tags, DELETE_ON_KEY) ?? "";
  if (!isExpired(deleteOn, today, settings.graceDays)) {
    return `${DELETE_ON_KEY}=${deleteOn || "(none)"} is not past due with ${settings.graceDays} grace days`;
  }
  const proof = proofStatus(resource.id, resource.tags, lookup, scope);
  return proof === "proven" ? undefined : `no proof that this stack dated it (${proof})`;
}

/** Collects candidates while the tagger lists; bounded so memory stays flat. */
export function createExpiryPlanner(settings: ExpirySettings, today: string) {
  // Enough to fill a capped run even when many candidates turn out to be in use or changed.
  const bound = settings.maxDeletions * 10;
  const amis: { id: string; backing: string[] }[] = [];
  const snapshots = new Set<string>();
  const backingUses = new Map<string, number>();
  /** Every due backup seen, within the bound or not: what the backlog is counted from. */
  let due = 0;

  return {
    /** Every registered AMI, managed or not: its snapshots are in use. */
    observeImage(backing: string[]): void {
      for (const snapshotId of backing) {
        backingUses.set(snapshotId, (backingUses.get(snapshotId) ?? 0) + 1);
      }
    },
    /** A managed, not excluded resource and what the tagger decided for it; true if newly due. */
    consider(kind: Kind, resource: Listed, decision: Decision): boolean {
      const settled =
        decision.action === "keep" || (decision.action === "write" && decision.reason === "extra-tags");
      if (!settings.expire || !settled || decision.proof !== "proven") {
        return false;
      }
      if (!isExpired(tagValue(resource.tags, DELETE_ON_KEY) ?? "", today, settings.graceDays)) {
        return false;
      }
      if (kind === "snapshot" && snapshots.has(resource.id)) {
        return false;
      }
      due += 1;
      if (kind === "ami" && amis.length < bound) {
        amis.push({ id: resource.id, backing: resource.backing ?? [] });
      } else if (kind === "snapshot" && snapshots.size < bound) {
        snapshots.add(resource.id);
      }
      return true;
    },
    /** Snapshot candidates so far. */
    has: (id: string) => snapshots.has(id),
    plan: () => ({ amis, snapshots: [...snapshots], backingUses, due }),
  };
}

export type ExpiryPlan = ReturnType<ReturnType<typeof createExpiryPlanner>["plan"]>;

export interface ExpiryPorts {
  ec2: EC2Client;
  log: Logger;
  outOfTime: () => boolean;
  ledger: Ledger;
  /** Deletions in flight at once (each paced by the client). Default 1. */
  concurrency?: number;
}

export async function executeExpiry(
  ports: ExpiryPorts,
  plan: ExpiryPlan,
  settings: ExpirySettings,
  today: string,
  maxListedFailures: number,
): Promise<ExpiryReport & { stoppedForTime: boolean }> {
  const report = {
    amisDeregistered: 0,
    snapshotsDeleted: 0,
    deletionFailures: 0,
    keptInUse: 0,
    skippedChanged: 0,
    capped: false,
    failures: [] as Failure[],
    backlog: 0,
    stoppedForTime: false,
  };
  /** Deletions started and not yet counted: they count against the cap already. */
  let inFlight = 0;
  /** Candidates examined: deleted, failed, kept, or found changed. */
  let examined = 0;
  const concurrency = Math.max(1, ports.concurrency ?? 1);
  const verb = settings.dryRun ? "dry run: would " : "";

  /** False when the run must stop (cap or time). */
  const mayContinue = () => {
    if (report.amisDeregistered + report.snapshotsDeleted + inFlight >= settings.maxDeletions) {
      report.capped = true;
      return false;
    }
    if (ports.outOfTime()) {
      report.stoppedForTime = true;
      return false;
    }
    return true;
  };
  const fail = (id: string, error: unknown) => {
    const { code, message } = describeError(error);
    report.deletionFailures += 1;
    if (report.failures.length < maxListedFailures) {
      report.failures.push({ id, code, message });
    }
    ports.log.warn("deletion failed", { id, code, error: message });
  };

  /**
   * Reads a chunk of candidates again (tags and ledger entries, consistently), then deletes those
   * that still qualify: the window between check and delete is one chunk, not the whole listing.
   */
  async function expireChunk(kind: Kind, ids: string[], remove: (resource: Listed) => Promise<void>) {
    let fresh: Listed[];
    let lookup: EntryLookup;
    try {
      fresh = await describeByIds(ports.ec2, kind, ids);
      const entries = await ports.ledger.fetch(batchIdsOf(fresh), true);
      lookup = (batchId) => entries.get(batchId) ?? null;
    } catch (error) {
      if (stoppedByDeadline(error, ports.outOfTime)) {
        report.stoppedForTime = true;
      } else {
        ids.forEach((id) => fail(id, error));
      }
      return;
    }
    const byId = new Map(fresh.map((r) => [r.id, r]));
    let stop = false;
    await forEachConcurrent(ids, concurrency, async (id) => {
      if (stop || !mayContinue()) {
        stop = true;
        return;
      }
      examined += 1;
      const resource = byId.get(id);
      const refusal =
        resource === undefined
          ? "no longer exists"
          : expiryRefusal(resource, today, settings, lookup, ports.ledger.scope);
      if (refusal !== undefined) {
        report.skippedChanged += 1;
        ports.log.info("not deleted: changed since it was listed", {
          id,
          reason: refusal,
          tags: resource?.tags,
        });
        return;
      }
      inFlight += 1;
      try {
        await remove(resource as Listed);
      } catch (error) {
        if (stoppedByDeadline(error, ports.outOfTime)) {
          report.stoppedForTime = true;
          examined -= 1;
          stop = true;
          return;
        }
        fail(id, error);
      } finally {
        inFlight -= 1;
      }
    });
  }

  const released: string[] = [];
  for (let start = 0; start < plan.amis.length && mayContinue(); start += MAX_FILTER_VALUES) {
    const chunk = plan.amis.slice(start, start + MAX_FILTER_VALUES);
    const backingOf = new Map(chunk.map((a) => [a.id, a.backing]));
    await expireChunk(
      "ami",
      chunk.map((a) => a.id),
      async (ami) => {
        if (!settings.dryRun) {
          await ports.ec2.send(new DeregisterImageCommand({ ImageId: ami.id }));
        }
        report.amisDeregistered += 1;
        ports.log.info(`${verb}deregister expired AMI`, {
          id: ami.id,
          tags: ami.tags,
          snapshots: ami.backing,
        });
        for (const snapshotId of backingOf.get(ami.id) ?? []) {
          const uses = (plan.backingUses.get(snapshotId) ?? 1) - 1;
          plan.backingUses.set(snapshotId, uses);
          if (uses === 0) {
            released.push(snapshotId);
          }
        }
      },
    );
  }

  // Snapshots an expired AMI no longer holds go first, then the rest; only those no AMI uses.
  const candidates = new Set(plan.snapshots);
  const ordered = [...released.filter((id) => candidates.has(id)), ...plan.snapshots];
  const free: string[] = [];
  const seen = new Set<string>();
  for (const id of ordered) {
    if (seen.has(id)) {
      continue;
    }
    seen.add(id);
    if ((plan.backingUses.get(id) ?? 0) > 0) {
      examined += 1;
      report.keptInUse += 1;
      ports.log.info("kept expired snapshot: a registered AMI uses it", { id });
    } else {
      free.push(id);
    }
  }
  for (let start = 0; start < free.length && mayContinue(); start += MAX_FILTER_VALUES) {
    await expireChunk("snapshot", free.slice(start, start + MAX_FILTER_VALUES), async (snapshot) => {
      if (!settings.dryRun) {
        await ports.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshot.id }));
      }
      report.snapshotsDeleted += 1;
      ports.log.info(`${verb}delete expired snapshot`, { id: snapshot.id, tags: snapshot.tags });
    });
  }
  report.backlog = Math.max(0, plan.due - examined);
  if (report.capped) {
    ports.log.warn(`stopped at maxDeletionsPerRun (${settings.maxDeletions}); the next run continues`, {
      amisDeregistered: report.amisDeregistered,
      snapshotsDeleted: report.snapshotsDeleted,
    });
  }
  return report;
}
