// The CloudWatch dashboard body, built as plain data.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html

export interface DashboardArgs {
  region: string;
  functionName: string;
  metricsNamespace: string;
}

type MetricLine = (string | { stat?: string; label?: string })[];

export interface Widget {
  type: "metric";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title: string;
    region: string;
    metrics: MetricLine[];
    stat: string;
    period: number;
    view: "timeSeries";
  };
}

const DAY = 86400;

export function buildDashboard(args: DashboardArgs): { widgets: Widget[] } {
  const lambda = (metric: string, stat: string, label: string): MetricLine => [
    "AWS/Lambda",
    metric,
    "FunctionName",
    args.functionName,
    { stat, label },
  ];
  const ours = (metric: string, stat: string, label: string): MetricLine => [
    args.metricsNamespace,
    metric,
    "FunctionName",
    args.functionName,
    { stat, label },
  ];
  const panels: [string, string, MetricLine[]][] = [
    [
      "Invocations and errors",
      "Sum",
      [lambda("Invocations", "Sum", "Invocations"), lambda("Errors", "Sum", "Errors")],
    ],
    [
      "Duration (ms)",
      "Maximum",
      [lambda("Duration", "Maximum", "Longest run"), lambda("Duration", "Average", "Average run")],
    ],
    [
      "Resources tagged per day",
      "Sum",
      [ours("AmisTagged", "Sum", "AMIs tagged"), ours("SnapshotsTagged", "Sum", "Snapshots tagged")],
    ],
    [
      "Resources listed and skipped per day",
      "Sum",
      [ours("ResourcesListed", "Sum", "Listed"), ours("ResourcesSkipped", "Sum", "Skipped (not ours)")],
    ],
    ["Tag failures per day", "Sum", [ours("TagFailures", "Sum", "Failures")]],
    [
      "Full pass within the sweep period (1) or not (0); complete runs",
      "Minimum",
      [ours("SweepComplete", "Minimum", "SweepComplete"), ours("RunComplete", "Minimum", "RunComplete")],
    ],
    [
      "Deletion backlog, and filter check failures",
      "Maximum",
      [
        ours("DeletionBacklog", "Maximum", "Due, left for later runs"),
        ours("FilterCheckFailures", "Maximum", "Filter check failures"),
      ],
    ],
    [
      "Expired backups removed per day (expire)",
      "Sum",
      [
        ours("AmisDeregistered", "Sum", "AMIs deregistered"),
        ours("SnapshotsDeleted", "Sum", "Snapshots deleted"),
        ours("DeletionFailures", "Sum", "Deletion failures"),
        ours("DeletionsSkipped", "Sum", "Skipped: changed since listed"),
      ],
    ],
    [
      "Backups falling due soon, and ours without proof (never expired)",
      "Maximum",
      [
        ours("BackupsDueSoon", "Maximum", "Due within the notice window"),
        ours("UnprovenBackups", "Maximum", "Unproven"),
      ],
    ],
  ];
  return {
    widgets: panels.map(([title, stat, metrics], i) => ({
      type: "metric",
      x: (i % 2) * 12,
      y: Math.floor(i / 2) * 6,
      width: 12,
      height: 6,
      properties: { title, region: args.region, metrics, stat, period: DAY, view: "timeSeries" },
    })),
  };
}
