// Bounded, paced concurrency: at most `concurrency` tasks at once, and no more starts than a token
// bucket of `burst` refilled at `perSecond` allows. The tagger paces each EC2 action below its
// published bucket, so it is not throttled in the first place instead of retrying when it is.
// Hand-written (about 40 lines): the usual packages are ES modules only or far bigger than this.

export interface PaceSpec {
  concurrency: number;
  /** Token bucket: starts allowed per second, and how many may start at once after a pause. */
  perSecond: number;
  burst: number;
}

export interface Pacer {
  /** Runs `task` when a slot and a token are free. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks running or waiting. */
  readonly pending: number;
}

export function createPacer(spec: PaceSpec, now: () => number = () => Date.now()): Pacer {
  let tokens = spec.burst;
  let last = now();
  let running = 0;
  let waiting = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const queue: (() => void)[] = [];

  const refill = () => {
    const t = now();
    tokens = Math.min(spec.burst, tokens + ((t - last) / 1000) * spec.perSecond);
    last = t;
  };
  /** Starts queued tasks while slots and tokens allow; waits for the next token otherwise. */
  const pump = () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    refill();
    while (queue.length > 0 && running < spec.concurrency && tokens >= 1) {
      tokens -= 1;
      running += 1;
      (queue.shift() as () => void)();
    }
    if (queue.length > 0 && running < spec.concurrency && tokens < 1 && timer === undefined) {
      timer = setTimeout(pump, Math.ceil(((1 - tokens) / spec.perSecond) * 1000));
    }
  };

  return {
    async run(task) {
      waiting += 1;
      await new Promise<void>((start) => {
        queue.push(start);
        pump();
      });
      waiting -= 1;
      try {
        return await task();
      } finally {
        running -= 1;
        pump();
      }
    },
    get pending() {
      return running + waiting;
    },
  };
}

/** Runs `work` on every item, at most `concurrency` at once, in order of start. */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      await work(items[next++]);
    }
  });
  await Promise.all(lanes);
}

/** Which pace an EC2 command keeps, by its name. */
export type PaceClass = "describe" | "createTags" | "deletions";

export function paceClassOf(commandName: string): PaceClass | undefined {
  if (commandName.startsWith("Describe")) {
    return "describe";
  }
  if (commandName === "CreateTagsCommand") {
    return "createTags";
  }
  if (commandName === "DeleteSnapshotCommand" || commandName === "DeregisterImageCommand") {
    return "deletions";
  }
  return undefined;
}

const PACE_MIDDLEWARE = "taggerPace";

/**
 * Paces every command sent through `client` by its class. Initialize step: once per command, before
 * the SDK's own retries, which keep their back-off. The command's name is in the handler context
 * (`context.commandName`, set by @smithy/core's Command.resolveMiddlewareWithContext).
 */
export function paceClient(
  client: {
    middlewareStack: {
      add: (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
      remove: (name: string) => boolean;
    };
  },
  specs: Record<PaceClass, PaceSpec>,
  now?: () => number,
): void {
  const pacers = {
    describe: createPacer(specs.describe, now),
    createTags: createPacer(specs.createTags, now),
    deletions: createPacer(specs.deletions, now),
  };
  client.middlewareStack.remove(PACE_MIDDLEWARE);
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
      const kind = paceClassOf(context.commandName ?? "");
      return kind === undefined ? next(args) : pacers[kind].run(() => next(args));
    },
    { step: "initialize", name: PACE_MIDDLEWARE },
  );
}
