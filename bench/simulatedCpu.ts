// The tagger's own CPU time, charged on one simulated CPU. Lambda gives a function CPU in
// proportion to its memory, one full vCPU at 1,769 MB (AWS Lambda Developer Guide, "Configuring
// Lambda function memory"), so work measured here takes max(1, 1769 / memorySize) times as long
// there. Assumption: one core of this machine is as fast as Lambda's vCPU.
//
// CPU is measured with process.cpuUsage between requests, leaving out the fake's own work and the
// benchmark's forced collections; a request may start only when the CPU work before it is done.

export const FULL_VCPU_MB = 1769;

export interface SimulatedCpu {
  /** Charges the CPU used since the last mark; resolves when the simulated CPU is free. */
  beforeSend(): Promise<void>;
  /** Runs `work` (the fake's or the benchmark's) without charging it to the tagger. */
  exclude<T>(work: () => T): T;
  /** Marks the end of work that is not the tagger's. */
  mark(): void;
  /** Charges what is left; returns the simulated instant the CPU is done. */
  finish(): number;
  /** The tagger's CPU milliseconds as measured on this machine, unscaled. */
  readonly measuredMs: number;
  readonly scale: number;
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

export function createSimulatedCpu(
  memorySizeMb: number,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
): SimulatedCpu {
  const scale = Math.max(1, FULL_VCPU_MB / memorySizeMb);
  let marked = cpuMs();
  let pending = 0;
  let measured = 0;
  let freeAt = now();
  const bank = () => {
    const t = cpuMs();
    pending += t - marked;
    measured += t - marked;
    marked = t;
  };
  const charge = () => {
    bank();
    freeAt = Math.max(freeAt, now()) + pending * scale;
    pending = 0;
  };
  return {
    async beforeSend() {
      charge();
      const wait = freeAt - now();
      if (wait >= 1) {
        await sleep(wait);
      }
      // What ran while this request waited (other requests' work) is the tagger's too.
      bank();
    },
    exclude(work) {
      bank();
      try {
        return work();
      } finally {
        marked = cpuMs();
      }
    },
    mark() {
      marked = cpuMs();
    },
    finish() {
      charge();
      return Math.max(freeAt, now());
    },
    get measuredMs() {
      return measured;
    },
    scale,
  };
}
