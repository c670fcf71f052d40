// CloudWatch Embedded Metric Format: one log line per run that CloudWatch Logs turns into metrics.
// Written by hand, not with Powertools Metrics: Pulumi uploads dependencies as whole package
// folders, and @aws-lambda-powertools/metrics with commons is about 1.2 MB on disk, far past the
// archive's 64 KB budget (bundled and minified it would be 16 KB, but the archive is not bundled).
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

export const METRIC_NAMES = [
  "AmisTagged",
  "SnapshotsTagged",
  "ResourcesSkipped",
  "TagFailures",
  "RunComplete",
  "ResourcesListed",
  "AmisDeregistered",
  "SnapshotsDeleted",
  "DeletionFailures",
  "UnprovenBackups",
  "BackupsDueSoon",
  "DeletionsSkipped",
  "SweepComplete",
  "DeletionBacklog",
  "FilterCheckFailures",
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];
export type RunMetrics = Record<MetricName, number>;

/** The dimension every metric carries, so two stacks in one namespace stay apart. */
export const DIMENSION = "FunctionName";

/** What a fatal run reports: nothing done, not complete. */
export const FAILED_RUN: RunMetrics = {
  AmisTagged: 0,
  SnapshotsTagged: 0,
  ResourcesSkipped: 0,
  TagFailures: 0,
  RunComplete: 0,
  ResourcesListed: 0,
  AmisDeregistered: 0,
  SnapshotsDeleted: 0,
  DeletionFailures: 0,
  UnprovenBackups: 0,
  BackupsDueSoon: 0,
  DeletionsSkipped: 0,
  SweepComplete: 0,
  DeletionBacklog: 0,
  FilterCheckFailures: 0,
};

/**
 * `level` and `timestamp` are for Lambda's log-level filter, which reads a JSON line's "level" (and
 * treats a line without one, or without a valid RFC 3339 "timestamp", as INFO): the line must carry
 * a level at or above the function's, or CloudWatch never sees the metrics. EMF ignores both.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
 */
export function emfLine(
  namespace: string,
  functionName: string,
  metrics: RunMetrics,
  timestampMs: number,
  level = "INFO",
): string {
  return namedEmfLine(namespace, functionName, METRIC_NAMES, metrics, timestampMs, level);
}

/** An EMF line of the given metric names (each Count, 0 when absent), one dimension: the function. */
export function namedEmfLine(
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
