// The run's deadline, enforced inside every AWS call. Each invocation starts one; an abort signal
// fires when it is reached, so a call in flight ends, and the SDK's retry middleware stops retrying
// and cuts short its back-off sleep (it races both with the signal), leaving time to answer.

export interface RunDeadline {
  /** Starts a run whose calls must all have ended by `endsAtMs` (epoch milliseconds). */
  start(endsAtMs: number): void;
  /** The current run's signal; undefined before the first run. */
  readonly signal: AbortSignal | undefined;
  /** Milliseconds until the deadline (Infinity before the first run). */
  msLeft(): number;
}

/** What a call stopped by the deadline carries as its abort reason. */
export function deadlineError(): Error {
  const error = new Error("the run reached its deadline: the safety margin before the Lambda timeout");
  error.name = "DeadlineExceeded";
  return error;
}

export function createRunDeadline(now: () => number = () => Date.now()): RunDeadline {
  let controller: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let endsAt = Number.POSITIVE_INFINITY;
  return {
    start(endsAtMs) {
      clearTimeout(timer);
      endsAt = endsAtMs;
      const current = new AbortController();
      controller = current;
      timer = setTimeout(() => current.abort(deadlineError()), Math.max(0, endsAtMs - now()));
      // A pending deadline must not keep a finished process (the local runner) alive.
      timer.unref?.();
    },
    get signal() {
      return controller?.signal;
    },
    msLeft: () => endsAt - now(),
  };
}
