// The alarms as plain data: the seed's four recommendations plus two on the tagger's own metrics.
// Each becomes an aws.cloudwatch.MetricAlarm notifying the alarm topic on ALARM and OK.

export interface AlarmArgs {
  namePrefix: string;
  functionName: string;
  metricsNamespace: string;
  durationSeconds: number;
  missingRunHours: number;
}

interface MetricQuery {
  id: string;
  expression?: string;
  label?: string;
  returnData?: boolean;
  metric?: {
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
    stat: string;
    period: number;
  };
}

export interface AlarmSpec {
  /** Short key: the Pulumi resource name is `${component}-alarm-${key}`. */
  key: string;
  name: string;
  description: string;
  comparisonOperator: string;
  threshold: number;
  evaluationPeriods: number;
  datapointsToAlarm?: number;
  treatMissingData: "breaching" | "notBreaching";
  namespace?: string;
  metricName?: string;
  statistic?: string;
  period?: number;
  dimensions?: Record<string, string>;
  metricQueries?: MetricQuery[];
}

const HOUR = 3600;
const DAY = 86400;
export const ERROR_RATE_PERCENT = 5;

export function buildAlarms(args: AlarmArgs): AlarmSpec[] {
  const lambda = { namespace: "AWS/Lambda", dimensions: { FunctionName: args.functionName } };
  const ours = { namespace: args.metricsNamespace, dimensions: { FunctionName: args.functionName } };
  return [
    {
      key: "errors",
      name: `${args.namePrefix}-Errors`,
      description:
        "A run failed: listing failed after retries, or the environment is bad. See the log group.",
      ...lambda,
      metricName: "Errors",
      statistic: "Sum",
      period: HOUR,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    },
    {
      key: "duration",
      name: `${args.namePrefix}-Duration`,
      description: `A run took longer than ${args.durationSeconds} s: the account is growing or EC2 is throttling.`,
      ...lambda,
      metricName: "Duration",
      statistic: "Maximum",
      period: HOUR,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: args.durationSeconds * 1000,
      treatMissingData: "notBreaching",
    },
    {
      // Hourly Invocations: an hour without one is missing data, counted as breaching, so the
      // alarm fires after missingRunHours hours in a row without a run.
      key: "no-recent-run",
      name: `${args.namePrefix}-NoRecentRun`,
      description: `No run in ${args.missingRunHours} hours: the schedule, the rule's target or its permission is broken.`,
      ...lambda,
      metricName: "Invocations",
      statistic: "Sum",
      period: HOUR,
      evaluationPeriods: args.missingRunHours,
      datapointsToAlarm: args.missingRunHours,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    },
    {
      key: "error-rate",
      name: `${args.namePrefix}-ErrorRate`,
      description: `More than ${ERROR_RATE_PERCENT}% of the day's invocations failed.`,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: ERROR_RATE_PERCENT,
      treatMissingData: "notBreaching",
      metricQueries: [
        {
          id: "errors",
          metric: { ...lambda, metricName: "Errors", stat: "Sum", period: DAY },
          returnData: false,
        },
        {
          id: "invocations",
          metric: { ...lambda, metricName: "Invocations", stat: "Sum", period: DAY },
          returnData: false,
        },
        {
          id: "rate",
          expression: "IF(invocations > 0, 100 * errors / invocations, 0)",
          label: "Error rate (%)",
          returnData: true,
        },
      ],
    },
    {
      key: "tag-failures",
      name: `${args.namePrefix}-TagFailures`,
      description:
        "Some resources could not be tagged; the run's response and logs list them with their error codes.",
      ...ours,
      metricName: "TagFailures",
      statistic: "Sum",
      period: HOUR,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    },
    {
      key: "incomplete-run",
      name: `${args.namePrefix}-IncompleteRun`,
      description:
        "No full pass over every snapshot completed within the sweep period (sweepHours), or a run failed. Runs continue the pass where the last one stopped; see docs/operations.md.",
      ...ours,
      metricName: "SweepComplete",
      statistic: "Minimum",
      period: HOUR,
      evaluationPeriods: 1,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "notBreaching",
    },
    {
      key: "deletion-backlog",
      name: `${args.namePrefix}-DeletionBacklog`,
      description:
        "Due backups were left for later runs all day, two days running: expiry is not keeping up. Raise maxDeletionsPerRun or run more often; see docs/operations.md.",
      ...ours,
      metricName: "DeletionBacklog",
      statistic: "Minimum",
      period: DAY,
      evaluationPeriods: 2,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    },
    {
      key: "filter-check",
      name: `${args.namePrefix}-FilterCheckFailures`,
      description:
        "EC2's snapshot-id or tag filter failed the run's cross-check; the sweep lists without the filter for the rest of its pass (slower, never wrong). See docs/operations.md.",
      ...ours,
      metricName: "FilterCheckFailures",
      statistic: "Sum",
      period: HOUR,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    },
  ];
}
