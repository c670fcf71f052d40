// The one place AWS clients are configured, shared by the Lambda, the local runner and the
// benchmark: adaptive retry, and calls bounded twice, per attempt and by the run's deadline.
import { EC2Client, type EC2ClientConfig } from "@aws-sdk/client-ec2";
import type { RunDeadline } from "./deadline";

/**
 * Adaptive retry backs off on RequestLimitExceeded and slows the client's own request rate;
 * 10 attempts ride out about a minute of throttling before a call is reported as failed.
 */
export const MAX_ATTEMPTS = 10;
/** One attempt of one call: a stalled connection fails after this and is retried. */
export const ATTEMPT_TIMEOUT_MS = 5_000;
export const CONNECTION_TIMEOUT_MS = 3_000;

/**
 * What every client gets. `throwOnRequestTimeout`: without it @smithy/node-http-handler only logs
 * a warning when requestTimeout passes, and a stalled connection holds the run until Lambda kills it.
 */
export const CLIENT_CONFIG = {
  retryMode: "adaptive",
  maxAttempts: MAX_ATTEMPTS,
  requestHandler: {
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: ATTEMPT_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  },
} as const;

type AnyHandler = {
  handle(request: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy?(): void;
  updateHttpClientConfig?(key: never, value: never): void;
  httpHandlerConfigs?(): unknown;
  metadata?: unknown;
};

type RetryToken = { getRetryDelay(): number };
type RetryStrategy = {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(token: RetryToken, errorInfo: { error: unknown }): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
};

interface Boundable {
  send(command: unknown, options?: object): Promise<unknown>;
  config: { requestHandler: unknown; retryStrategy: () => Promise<unknown> };
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`the attempt got no answer within ${ms} ms`), { name: "TimeoutError" });
}

/**
 * Any request handler with a hard limit per attempt, whatever the handler does about timeouts
 * itself. The attempt fails as a TimeoutError, which the SDK retries; an abort by the caller (the
 * run's deadline) passes through as the AbortError it is, which the SDK does not retry.
 */
export function withAttemptTimeout(inner: AnyHandler, ms: number): AnyHandler {
  return {
    metadata: inner.metadata,
    destroy: () => inner.destroy?.(),
    updateHttpClientConfig: (key, value) => inner.updateHttpClientConfig?.(key, value),
    httpHandlerConfigs: () => inner.httpHandlerConfigs?.() ?? {},
    async handle(request, options = {}) {
      const controller = new AbortController();
      const caller = options.abortSignal;
      const forward = () => controller.abort(caller?.reason);
      if (caller?.aborted) {
        forward();
      }
      caller?.addEventListener("abort", forward, { once: true });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(timeoutError(ms));
          controller.abort(timeoutError(ms));
        }, ms);
      });
      try {
        return await Promise.race([
          inner.handle(request, { ...options, abortSignal: controller.signal }),
          expired,
        ]);
      } finally {
        clearTimeout(timer);
        caller?.removeEventListener("abort", forward);
      }
    },
  };
}

/** A retry strategy that starts no retry unless its back-off and one whole attempt fit before the deadline. */
export function withinDeadline(
  inner: RetryStrategy,
  deadline: RunDeadline,
  attemptMs: number,
): RetryStrategy {
  return {
    acquireInitialRetryToken: (scope) => inner.acquireInitialRetryToken(scope),
    async refreshRetryTokenForRetry(token, errorInfo) {
      const next = await inner.refreshRetryTokenForRetry(token, errorInfo);
      if (next.getRetryDelay() + attemptMs > deadline.msLeft()) {
        throw errorInfo.error;
      }
      return next;
    },
    recordSuccess: (token) => inner.recordSuccess(token),
  };
}

/**
 * Bounds every call of a client built with CLIENT_CONFIG: the per-attempt limit, no retry that
 * cannot finish in time, and the run's abort signal on every send (paginators included, since they
 * call send). Replaces the resolved handler and strategy in the client's config, which the SDK
 * reads at each call.
 */
export function bound<C>(client: C, deadline?: RunDeadline): C {
  const target = client as unknown as Boundable;
  target.config.requestHandler = withAttemptTimeout(
    target.config.requestHandler as AnyHandler,
    ATTEMPT_TIMEOUT_MS,
  );
  if (deadline) {
    const resolve = target.config.retryStrategy;
    let strategy: Promise<RetryStrategy> | undefined;
    target.config.retryStrategy = () =>
      (strategy ??= resolve().then((inner) =>
        withinDeadline(inner as RetryStrategy, deadline, ATTEMPT_TIMEOUT_MS),
      ));
    const send = target.send.bind(target);
    target.send = (command, options) => send(command, { abortSignal: deadline.signal, ...options });
  }
  return client;
}

export function createEc2Client(overrides: EC2ClientConfig = {}, deadline?: RunDeadline): EC2Client {
  return bound(new EC2Client({ ...CLIENT_CONFIG, ...overrides }), deadline);
}
