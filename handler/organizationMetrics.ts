// Organization mode's metrics and per-target lines. Cardinality stays bounded however large the
// organization: one EMF line per invocation, dimensioned by function name only (never by account
// or region), so CloudWatch sums them into organization-wide totals; each target's own result is
// a plain JSON log line, found with the saved Logs Insights query rather than a metric.
import { DIMENSION } from "./metrics";

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

/**
 * One EMF line, shaped exactly as metrics.ts emfLine shapes the single-account run's: `level` and
 * `timestamp` let it through Lambda's log-level filter at any setting.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function organizationEmfLine(
  namespace: string,
  functionName: string,
  names: readonly string[],
  values: Record<string, number>,
  timestampMs: number,
  level = "INFO",
): string {
  return JSON.stringify({
    timestamp: new Date(timestampMs).toISOString(),
    level,
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [[DIMENSION]],
          Metrics: names.map((Name) => ({ Name, Unit: "Count" })),
        },
      ],
    },
    [DIMENSION]: functionName,
    ...Object.fromEntries(names.map((name) => [name, values[name] ?? 0])),
  });
}
