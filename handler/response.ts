// The Lambda's response: the seed's fields first, so existing consumers keep working, then ours.
import type { Failure } from "./write";
import type { TagReport } from "./tagger";

export interface TaggerResponse {
  statusCode: 200;
  message: string;
  amis_tagged: number;
  snapshots_tagged: number;
  retention_days: number;
  delete_on: string;
  amis_skipped: number;
  snapshots_skipped: number;
  failed: Failure[];
  failed_count: number;
  complete: boolean;
  /** Why the run stopped early ("time: ...", "throttled: ...", "timeout: ..."); "" when complete. */
  stop_reason: string;
  dry_run: boolean;
  amis_planned: number;
  snapshots_planned: number;
  amis_unchanged: number;
  snapshots_unchanged: number;
  amis_excluded: number;
  snapshots_excluded: number;
  amis_deregistered: number;
  snapshots_deleted: number;
  /** Deregistered or deleted, or in a dry run would have been. */
  amis_expired: number;
  snapshots_expired: number;
  deletion_failures: number;
  deletion_failed: Failure[];
  snapshots_kept_in_use: number;
  expiry_capped: boolean;
  /** Carry our Retention and DeleteOn without proof that this stack dated them: never expired. */
  amis_unproven: number;
  snapshots_unproven: number;
  /** Unproven tags recorded as ours this run (adoptUnprovenTags). */
  amis_adopted: number;
  snapshots_adopted: number;
  /** Expiry candidates that, read again just before deleting, no longer qualified. */
  deletion_skipped: number;
  /** Proven backups that become deletable within expireNoticeDays. */
  amis_due_soon: number;
  snapshots_due_soon: number;
  /** Of those, the ones that entered the window since the last notice, and whether one was sent. */
  newly_due: number;
  notice_sent: boolean;
  /** Ledger entries written (at most one per CreateTags) and ledger read calls. */
  ledger_writes: number;
  ledger_reads: number;
  /** The sweep's pass over every snapshot is complete (it may have taken several runs). */
  pass_complete: boolean;
  shards_done: number;
  shards_total: number;
  /** When the last full pass started and completed; "" before the first. */
  last_full_pass_started: string;
  last_full_pass_completed: string;
  /** A full pass started within the last sweepHours and completed: every snapshot was visited. */
  full_pass_within_sweep: boolean;
  /** Snapshots the check of EC2's ID or tag filters caught them missing or misplacing. */
  filter_check_failures: number;
  /** Due backups left for later runs (cap or time), and whether that grew since the last run. */
  deletion_backlog: number;
  backlog_growing: boolean;
}

export function buildResponse(report: TagReport): TaggerResponse {
  const amis = report.amis.tagged;
  const snapshots = report.snapshots.tagged;
  const message = report.dryRun
    ? `Dry run: would tag ${amis} AMIs and ${snapshots} snapshots`
    : `Successfully tagged ${amis} AMIs and ${snapshots} snapshots`;
  const expired = report.expiry
    ? `; ${report.dryRun ? "would deregister" : "deregistered"} ${report.expiry.amisDeregistered} expired AMIs and ${report.dryRun ? "delete" : "deleted"} ${report.expiry.snapshotsDeleted} expired snapshots`
    : "";
  return {
    statusCode: 200,
    message: report.complete
      ? `${message}${expired}`
      : `${message}${expired} (stopped early, ${report.stopReason ?? "time"}; the next run continues)`,
    amis_tagged: report.dryRun ? 0 : amis,
    snapshots_tagged: report.dryRun ? 0 : snapshots,
    retention_days: report.retentionDays,
    delete_on: report.deleteOn,
    amis_skipped: report.amis.skipped,
    snapshots_skipped: report.snapshots.skipped,
    failed: report.failures,
    failed_count: report.failureCount,
    complete: report.complete,
    stop_reason: report.complete ? "" : (report.stopReason ?? "stopped early"),
    dry_run: report.dryRun,
    amis_planned: report.amis.planned,
    snapshots_planned: report.snapshots.planned,
    amis_unchanged: report.amis.unchanged,
    snapshots_unchanged: report.snapshots.unchanged,
    amis_excluded: report.amis.excluded,
    snapshots_excluded: report.snapshots.excluded,
    amis_deregistered: report.dryRun ? 0 : (report.expiry?.amisDeregistered ?? 0),
    snapshots_deleted: report.dryRun ? 0 : (report.expiry?.snapshotsDeleted ?? 0),
    amis_expired: report.expiry?.amisDeregistered ?? 0,
    snapshots_expired: report.expiry?.snapshotsDeleted ?? 0,
    deletion_failures: report.expiry?.deletionFailures ?? 0,
    deletion_failed: report.expiry?.failures ?? [],
    snapshots_kept_in_use: report.expiry?.keptInUse ?? 0,
    expiry_capped: report.expiry?.capped ?? false,
    amis_unproven: report.amis.unproven,
    snapshots_unproven: report.snapshots.unproven,
    amis_adopted: report.amis.adopted,
    snapshots_adopted: report.snapshots.adopted,
    deletion_skipped: report.expiry?.skippedChanged ?? 0,
    amis_due_soon: report.notice?.amisDueSoon ?? 0,
    snapshots_due_soon: report.notice?.snapshotsDueSoon ?? 0,
    newly_due: report.notice?.newlyDue ?? 0,
    notice_sent: report.notice?.sent ?? false,
    ledger_writes: report.ledgerWrites,
    ledger_reads: report.ledgerReads,
    // Without the sweep (snapshots not managed), a complete run is a complete pass.
    pass_complete: report.sweep?.passComplete ?? report.complete,
    shards_done: report.sweep?.shardsDone ?? 0,
    shards_total: report.sweep?.shardsTotal ?? 0,
    last_full_pass_started: report.sweep?.lastFullPass?.startedAt ?? "",
    last_full_pass_completed: report.sweep?.lastFullPass?.completedAt ?? "",
    full_pass_within_sweep: report.sweep?.fullPassWithinSweep ?? report.complete,
    filter_check_failures: report.sweep?.filterCheckFailures ?? 0,
    deletion_backlog: report.expiry?.backlog ?? 0,
    backlog_growing: report.expiry?.backlogGrowing ?? false,
  };
}

/** The seed's error body, logged before a fatal error is rethrown. */
export function errorBody(error: unknown): { statusCode: 500; message: string } {
  const details = error instanceof Error ? error.message : String(error);
  return { statusCode: 500, message: `Error in lambda execution: ${details}` };
}
