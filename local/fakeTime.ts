// Simulated time for the SDK: sinon's fake timers drive its back-off, its rate limiter and our
// deadlines, so minutes of throttling or stalling take milliseconds. Shared by the benchmark and
// the tests.
import sinon from "sinon";

export interface FakeTime {
  clock: sinon.SinonFakeTimers;
  /** Lets real work run; whenever only a fake timer is pending, jumps the clock to it. */
  settle<T>(work: Promise<T>): Promise<T>;
  restore(): void;
}

export function useFakeTime(now: number): FakeTime {
  const clock = sinon.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now });
  // Node.js runs a timer no sooner than 1 ms; fake-timers runs a 0.3 ms one at once, which would
  // spin the SDK's rate limiter (it sleeps fractions of a millisecond in a loop) forever.
  const fakeSetTimeout = globalThis.setTimeout;
  const schedule = fakeSetTimeout as unknown as (
    callback: () => void,
    delay: number,
    ...args: unknown[]
  ) => unknown;
  globalThis.setTimeout = ((callback: () => void, delay?: number, ...args: unknown[]) =>
    schedule(
      callback,
      delay !== undefined && delay >= 1 ? delay : 1,
      ...args,
    )) as unknown as typeof setTimeout;
  let restored = false;
  return {
    clock,
    async settle(work) {
      let finished = false;
      const watched = work.finally(() => (finished = true));
      watched.catch(() => undefined);
      let idleTurns = 0;
      while (!finished) {
        await new Promise((resolve) => setImmediate(resolve));
        if (finished) {
          break;
        }
        if (clock.countTimers() > 0) {
          clock.next();
          idleTurns = 0;
        } else if (++idleTurns > 100_000) {
          throw new Error("the work is waiting on something other than the fake clock");
        }
      }
      return work;
    },
    restore() {
      // Idempotent: a second restore must not put the fake back in place of the real setTimeout.
      if (!restored) {
        restored = true;
        globalThis.setTimeout = fakeSetTimeout;
        clock.restore();
      }
    },
  };
}
