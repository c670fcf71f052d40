// What went wrong, in the words a run reports: the AWS error code and message of anything thrown,
// and whether it means "stop here, the next run continues" rather than "this run failed".

/** The AWS error code (the SDK puts it in `name`) and message of anything thrown. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof Error) {
    const code = (error as { Code?: string }).Code ?? error.name;
    return { code: code || "Error", message: error.message };
  }
  return { code: "Error", message: String(error) };
}

// Array, not Set: Pulumi's closure serializer captures a module-level Set as an empty object.
const THROTTLING: readonly string[] = [
  "RequestLimitExceeded",
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "RequestThrottledException",
  "SlowDown",
];
const NETWORK: readonly string[] = [
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
];

/**
 * Why a failed call should end the run early with `complete: false` instead of failing it: the
 * deadline was reached, EC2 throttled every attempt, or the endpoint stalled or went away. The next
 * run continues either way. Undefined for everything else (permissions, bad requests): those fail
 * the run so Lambda records an error.
 */
export function stopReason(error: unknown): string | undefined {
  const { code, message } = describeError(error);
  const cause = (error as { cause?: unknown })?.cause;
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const errno = (error as { code?: string })?.code;
  if (
    code === "AbortError" ||
    code === "DeadlineExceeded" ||
    describeError(cause).code === "DeadlineExceeded"
  ) {
    return "time: the run reached its deadline (the safety margin before the Lambda timeout)";
  }
  if (THROTTLING.includes(code)) {
    return `throttled: ${code} on every attempt (${message})`;
  }
  if (code === "TimeoutError" || code === "RequestTimeout" || code === "RequestTimeoutException") {
    return `timeout: a call got no answer in time on every attempt (${message})`;
  }
  if ((status !== undefined && status >= 500) || (errno !== undefined && NETWORK.includes(errno))) {
    return `unavailable: ${code} (${message})`;
  }
  return undefined;
}

/** True when a call failed because the run's deadline stopped it: its work is "not reached", not failed. */
export function stoppedByDeadline(error: unknown, outOfTime: () => boolean): boolean {
  const { code } = describeError(error);
  return code === "AbortError" || code === "DeadlineExceeded" || outOfTime();
}
