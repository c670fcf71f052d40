// Expiry, opt-in: deregister AMIs and delete snapshots whose DeleteOn has passed. Only resources
// whose tags were already ours under the current retention when listed (never one dated in this
// run), never one excluded, never a snapshot that still backs a registered AMI.
import { DeleteSnapshotCommand, DeregisterImageCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { describeError, type Failure } from "./batchWriter";
import { addDays, parseIsoDate } from "./dates";
import type { Logger } from "./ports";
import type { Decision, Tag } from "./tagPolicy";
import { DELETE_ON_KEY } from "./tagRules";

export interface ExpirySettings {
  expire: boolean;
  /** Days past DeleteOn before anything is deleted. */
  graceDays: number;
  /** Deletions (AMIs and snapshots together) per run. */
  maxDeletions: number;
  dryRun: boolean;
}

export interface ExpiryReport {
  amisDeregistered: number;
  snapshotsDeleted: number;
  deletionFailures: number;
  /** Expired snapshots kept because a registered AMI still uses them. */
  keptInUse: number;
  /** Stopped at maxDeletions. */
  capped: boolean;
  failures: Failure[];
}

/** True when DeleteOn plus the grace days is before today (all UTC dates). */
export function isExpired(deleteOn: string, today: string, graceDays: number): boolean {
  return parseIsoDate(deleteOn) !== undefined && addDays(deleteOn, graceDays) < today;
}

interface Candidate {
  id: string;
  tags: Tag[];
}

/** Collects candidates while the tagger lists; bounded so memory stays flat. */
export function createExpiryPlanner(settings: ExpirySettings, today: string) {
  // Enough to fill a capped run even when many expired snapshots turn out to be in use.
  const bound = settings.maxDeletions * 10;
  const amis: (Candidate & { backing: string[] })[] = [];
  const snapshots = new Map<string, Candidate>();
  const backingUses = new Map<string, number>();

  const settledAndExpired = (tags: Tag[] | undefined, decision: Decision) => {
    const settled =
      decision.action === "keep" || (decision.action === "write" && decision.reason === "extra-tags");
    const deleteOn = tags?.find((t) => t.Key === DELETE_ON_KEY)?.Value;
    return settled && deleteOn !== undefined && isExpired(deleteOn, today, settings.graceDays);
  };

  return {
    /** Every registered AMI, managed or not: its snapshots are in use. */
    observeImage(backing: string[]): void {
      for (const snapshotId of backing) {
        backingUses.set(snapshotId, (backingUses.get(snapshotId) ?? 0) + 1);
      }
    },
    /** A managed, not excluded resource and what the tagger decided for it. */
    consider(
      kind: "ami" | "snapshot",
      id: string,
      tags: Tag[] | undefined,
      decision: Decision,
      backing: string[] = [],
    ): void {
      if (!settings.expire || !settledAndExpired(tags, decision)) {
        return;
      }
      if (kind === "ami" && amis.length < bound) {
        amis.push({ id, tags: tags ?? [], backing });
      } else if (kind === "snapshot" && snapshots.size < bound) {
        snapshots.set(id, { id, tags: tags ?? [] });
      }
    },
    plan: () => ({ amis, snapshots, backingUses }),
  };
}

export type ExpiryPlan = ReturnType<ReturnType<typeof createExpiryPlanner>["plan"]>;

export async function executeExpiry(
  ports: { ec2: EC2Client; log: Logger; outOfTime: () => boolean },
  plan: ExpiryPlan,
  settings: ExpirySettings,
  maxListedFailures: number,
): Promise<ExpiryReport & { stoppedForTime: boolean }> {
  const report = {
    amisDeregistered: 0,
    snapshotsDeleted: 0,
    deletionFailures: 0,
    keptInUse: 0,
    capped: false,
    failures: [] as Failure[],
    stoppedForTime: false,
  };
  const deleted = new Set<string>();
  const verb = settings.dryRun ? "dry run: would " : "";

  /** False when the run must stop (cap or time). */
  const mayContinue = () => {
    if (report.amisDeregistered + report.snapshotsDeleted >= settings.maxDeletions) {
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
  const deleteSnapshot = async (snapshot: Candidate) => {
    try {
      if (!settings.dryRun) {
        await ports.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshot.id }));
      }
      deleted.add(snapshot.id);
      report.snapshotsDeleted += 1;
      ports.log.info(`${verb}delete expired snapshot`, { id: snapshot.id, tags: snapshot.tags });
    } catch (error) {
      fail(snapshot.id, error);
    }
  };

  for (const ami of plan.amis) {
    if (!mayContinue()) {
      break;
    }
    try {
      if (!settings.dryRun) {
        await ports.ec2.send(new DeregisterImageCommand({ ImageId: ami.id }));
      }
      report.amisDeregistered += 1;
      ports.log.info(`${verb}deregister expired AMI`, { id: ami.id, tags: ami.tags, snapshots: ami.backing });
    } catch (error) {
      fail(ami.id, error);
      continue;
    }
    for (const snapshotId of ami.backing) {
      const uses = (plan.backingUses.get(snapshotId) ?? 1) - 1;
      plan.backingUses.set(snapshotId, uses);
      const snapshot = plan.snapshots.get(snapshotId);
      // Its own snapshots go too, but only those that are ours, expired, and used by no other AMI.
      if (snapshot && uses === 0 && mayContinue()) {
        await deleteSnapshot(snapshot);
      }
    }
  }
  for (const snapshot of plan.snapshots.values()) {
    if (deleted.has(snapshot.id)) {
      continue;
    }
    if ((plan.backingUses.get(snapshot.id) ?? 0) > 0) {
      report.keptInUse += 1;
      ports.log.info("kept expired snapshot: a registered AMI uses it", {
        id: snapshot.id,
        tags: snapshot.tags,
      });
      continue;
    }
    if (!mayContinue()) {
      break;
    }
    await deleteSnapshot(snapshot);
  }
  if (report.capped) {
    ports.log.warn(`stopped at maxDeletionsPerRun (${settings.maxDeletions}); the next run continues`, {
      amisDeregistered: report.amisDeregistered,
      snapshotsDeleted: report.snapshotsDeleted,
    });
  }
  return report;
}
