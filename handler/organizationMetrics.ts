// Organization mode's metrics and per-target lines. Cardinality stays bounded however large the
// organization: one EMF line per invocation, dimensioned by function name only (never by account
// or region), so CloudWatch sums them into organization-wide totals; each target's own result is
// a plain JSON log line, found with the saved Logs Insights query rather than a metric.
import { namedEmfLine } from "./metrics";

export const WORKER_METRICS = [
  "TargetsProcessed",
  "TargetsFailed",
  "TargetsIncomplete",
  "AmisTagged",
  "SnapshotsTagged",
  "ResourcesListed",
  "TagFailures",
  "AmisDeregistered",
  "SnapshotsDeleted",
  "DeletionFailures",
  "UnprovenBackups",
] as const;

export const DISPATCHER_METRICS = [
  "AccountsListed",
  "AccountsSkipped",
  "TargetsDispatched",
  "DispatchFailures",
] as const;

export type WorkerMetrics = Record<(typeof WORKER_METRICS)[number], number>;
export type DispatcherMetrics = Record<(typeof DISPATCHER_METRICS)[number], number>;

/** The message of every per-target line: the saved query filters on it. */
export const TARGET_RESULT = "target result";

/** One EMF line, the single-account run's shape (metrics.ts): passes Lambda's log-level filter. */
export const organizationEmfLine = namedEmfLine;
