// Checks a log line against the CloudWatch Embedded Metric Format specification's requirements:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
// Returns the problems found; empty means valid.
export function emfProblems(line: string): string[] {
  let root: Record<string, unknown>;
  try {
    root = JSON.parse(line);
  } catch {
    return ["not JSON"];
  }
  const problems: string[] = [];
  const aws = root._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof aws !== "object" || aws === null) {
    return ["no _aws object"];
  }
  if (typeof aws.Timestamp !== "number" || !Number.isInteger(aws.Timestamp)) {
    problems.push("_aws.Timestamp must be an integer of milliseconds since the epoch");
  }
  if (!Array.isArray(aws.CloudWatchMetrics) || aws.CloudWatchMetrics.length === 0) {
    return [...problems, "_aws.CloudWatchMetrics must be a non-empty array"];
  }
  for (const directive of aws.CloudWatchMetrics as Record<string, unknown>[]) {
    if (
      typeof directive.Namespace !== "string" ||
      directive.Namespace.length === 0 ||
      directive.Namespace.length > 1024
    ) {
      problems.push("Namespace must be a string of 1 to 1024 characters");
    }
    const dimensions = directive.Dimensions;
    if (!Array.isArray(dimensions) || dimensions.some((set) => !Array.isArray(set) || set.length > 30)) {
      problems.push("Dimensions must be an array of dimension sets of at most 30 keys");
    } else {
      for (const key of dimensions.flat()) {
        if (typeof root[key] !== "string") {
          problems.push(`dimension ${key} must be a string member of the root`);
        }
      }
    }
    const metrics = directive.Metrics;
    if (!Array.isArray(metrics) || metrics.length === 0 || metrics.length > 100) {
      problems.push("Metrics must be an array of 1 to 100 definitions");
    } else {
      for (const metric of metrics as { Name?: unknown; Unit?: unknown }[]) {
        if (typeof metric.Name !== "string" || metric.Name.length === 0 || metric.Name.length > 1024) {
          problems.push("each metric needs a Name of 1 to 1024 characters");
        } else if (typeof root[metric.Name] !== "number") {
          problems.push(`metric ${metric.Name} must be a number member of the root`);
        }
        if (metric.Unit !== undefined && typeof metric.Unit !== "string") {
          problems.push(`Unit of ${String(metric.Name)} must be a string`);
        }
      }
    }
  }
  return problems;
}

/** The EMF lines among a run's stdout. */
export function emfLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line));
}
