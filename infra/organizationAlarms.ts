// Organization mode's alarms and saved query as plain data. The alarms watch organization-wide
// totals only (no account or region dimension), so their number never grows with the organization;
// which targets failed is for the saved Logs Insights query, which reads the per-target lines.
import type { AlarmSpec } from "./alarms";

export interface OrganizationAlarmArgs {
  namePrefix: string;
  dispatcherFunctionName: string;
  workerFunctionName: string;
  metricsNamespace: string;
  targetQueueName: string;
  deadLetterQueueName: string;
  /** Hours without a dispatch before the missed-sweep alarm fires; also the sweep period waited for. */
  missingRunHours: number;
}

const HOUR = 3600;
const anyInAnHour = {
  statistic: "Sum",
  period: HOUR,
  evaluationPeriods: 1,
  comparisonOperator: "GreaterThanThreshold",
  threshold: 0,
  treatMissingData: "notBreaching" as const,
};

export function buildOrganizationAlarms(args: OrganizationAlarmArgs): AlarmSpec[] {
  const lambda = (fn: string) => ({ namespace: "AWS/Lambda", dimensions: { FunctionName: fn } });
  const ours = (fn: string) => ({ namespace: args.metricsNamespace, dimensions: { FunctionName: fn } });
  const queue = (name: string) => ({ namespace: "AWS/SQS", dimensions: { QueueName: name } });
  return [
    {
      key: "dispatch-errors",
      name: `${args.namePrefix}-OrgDispatchErrors`,
      description:
        "A sweep could not be dispatched: listing the organization or sending to the targets queue failed. See the dispatcher's log group.",
      ...lambda(args.dispatcherFunctionName),
      metricName: "Errors",
      ...anyInAnHour,
    },
    {
      key: "dispatch-failures",
      name: `${args.namePrefix}-OrgDispatchFailures`,
      description: "SQS refused some targets' messages: those targets are not covered this sweep.",
      ...ours(args.dispatcherFunctionName),
      metricName: "DispatchFailures",
      ...anyInAnHour,
    },
    {
      key: "no-recent-sweep",
      name: `${args.namePrefix}-OrgNoRecentSweep`,
      description: `No sweep dispatched in ${args.missingRunHours} hours: the schedule, the rule's target or its permission is broken.`,
      ...lambda(args.dispatcherFunctionName),
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
      key: "targets-failed",
      name: `${args.namePrefix}-OrgTargetsFailed`,
      description:
        "Some targets failed (member role not assumable, listing refused); SQS redelivers them. Run the saved query to see which.",
      ...ours(args.workerFunctionName),
      metricName: "TargetsFailed",
      ...anyInAnHour,
    },
    {
      key: "targets-incomplete",
      name: `${args.namePrefix}-OrgTargetsIncomplete`,
      description:
        "Some targets have not completed a full pass over their snapshots within the sweep period (sweepHours), or failed; each dispatch continues a target's pass where it stopped. Run the saved query to see which; raise timeoutSeconds if it persists.",
      ...ours(args.workerFunctionName),
      metricName: "TargetsIncomplete",
      ...anyInAnHour,
    },
    {
      // Still queued a sweep period after the dispatch: workerConcurrency is too low for the organization.
      key: "targets-waiting",
      name: `${args.namePrefix}-OrgTargetsWaiting`,
      description: `A target waited more than ${args.missingRunHours} hours in the queue: the sweep does not finish within its period; raise workerConcurrency.`,
      ...queue(args.targetQueueName),
      metricName: "ApproximateAgeOfOldestMessage",
      statistic: "Maximum",
      period: HOUR,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: args.missingRunHours * HOUR,
      treatMissingData: "notBreaching",
    },
    {
      key: "targets-dead-lettered",
      name: `${args.namePrefix}-OrgTargetsDeadLettered`,
      description:
        "Targets failed on every delivery and wait in the dead-letter queue. Fix the cause (the saved query shows it), then redrive them.",
      ...queue(args.deadLetterQueueName),
      metricName: "ApproximateNumberOfMessagesVisible",
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    },
    {
      key: "worker-errors",
      name: `${args.namePrefix}-OrgWorkerErrors`,
      description:
        "A worker invocation failed as a whole (bad environment or payload): every target of its batch is retried.",
      ...lambda(args.workerFunctionName),
      metricName: "Errors",
      ...anyInAnHour,
    },
  ];
}

/**
 * Each target's last result, failed and unfinished first: one row per (account, region) however
 * often it ran. latest() takes the value of the most recent matching event (CloudWatch Logs
 * Insights query syntax, stats functions).
 */
export function lastResultsQuery(message: string): string {
  return [
    `filter message = "${message}"`,
    "| stats latest(@timestamp) as lastRun, latest(complete) as complete, latest(failed) as failed," +
      " latest(errorCode) as errorCode, latest(error) as error, latest(stopReason) as stopReason," +
      " latest(amisTagged) as amisTagged, latest(snapshotsTagged) as snapshotsTagged," +
      " latest(tagFailures) as tagFailures, latest(snapshotsDeleted) as snapshotsDeleted," +
      " latest(amisDeregistered) as amisDeregistered, latest(dryRun) as dryRun by account, region",
    "| sort failed desc, complete asc, account asc, region asc",
  ].join("\n");
}
