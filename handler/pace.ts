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
