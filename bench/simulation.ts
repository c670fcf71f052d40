// One simulated account under the real tagger core: the EC2 client as Lambda configures it, the
// fake account behind it with EC2's buckets and a service time per call, the tagger's CPU on one
// simulated CPU sized by memorySize, and a fake clock that jumps to the next timer. Runs of the
// tagger follow one another on the same account and ledger (a sweep, a year of days).
import { createEc2Client } from "../handler/awsClients";
import type { Logger } from "../handler/ports";
import { tagBackups, type TagReport, type TaggerSettings } from "../handler/tagger";
import { PIPELINE, SEQUENTIAL, type Tuning } from "../handler/tuning";
import { useFakeTime, type FakeTime } from "../local/fakeTime";
import { Ec2Account, type AccountOptions, type AccountSpec } from "../local/emulator/ec2Account";
import { queryProtocolHandler } from "../local/emulator/ec2Query";
import { serviceTimeMs, type LatencyProfile } from "../local/emulator/latency";
import { CompactLedger } from "./compactLedger";
import { createSimulatedCpu } from "./simulatedCpu";

export type Design = "pipeline" | "sequential";
export const TUNINGS: Record<Design, Tuning> = { pipeline: PIPELINE, sequential: SEQUENTIAL };

/** What the handler's report carries once issue 14's handler lands; read defensively until then. */
export interface SweepReport {
  passComplete: boolean;
  shardsDone: number;
  shardsTotal: number;
  lastFullPass?: { startedAt: string; completedAt: string };
  fullPassWithinSweep: boolean;
}
export type ReportAfterIssue14 = TagReport & {
  sweep?: SweepReport;
  expiry?: TagReport["expiry"] & { backlog?: number };
};

export interface SimulationOptions {
  spec: AccountSpec;
  start: number;
  profile: LatencyProfile | "none";
  memorySize: number;
  design: Design;
  countVisits?: boolean;
  background?: AccountOptions["background"];
  /** Forced collection at every request, for retained heap (slow: only where memory is measured). */
  sampleHeap?: boolean;
}

export interface RunFigures {
  report: ReportAfterIssue14;
  simulatedSeconds: number;
  /** The tagger's CPU on this machine, unscaled. */
  cpuMs: number;
  calls: Record<string, number>;
  throttled: Record<string, number>;
  totalCalls: number;
  ledgerWrites: number;
  wallSeconds: number;
}

export const quietLogger = (): Logger => ({
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
const diff = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  );

export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) {
    throw new Error("run with node --expose-gc");
  }
  collect();
}

export interface Simulation {
  account: Ec2Account;
  ledger: CompactLedger;
  time: FakeTime;
  /** Retained heap's peak since the last reset, sampled after a full collection at every request. */
  peakHeap: number;
  run(settings: TaggerSettings & { sweepHours?: number }, timeoutMs: number): Promise<RunFigures>;
  /** Moves the clock to `ms` (no timer is due between runs). */
  setNow(ms: number): void;
  restore(): void;
}

export function createSimulation(options: SimulationOptions): Simulation {
  const time = useFakeTime(options.start);
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const account = new Ec2Account(options.spec, {
    now: () => Date.now(),
    throttle: true,
    countVisits: options.countVisits,
    background: options.background,
  });
  const ledger = new CompactLedger("us-east-1");
  let cpu = createSimulatedCpu(options.memorySize, () => Date.now(), sleep);
  const simulation: Simulation = {
    account,
    ledger,
    time,
    peakHeap: 0,
    async run(settings, timeoutMs) {
      const profile = options.profile;
      cpu = createSimulatedCpu(options.memorySize, () => Date.now(), sleep);
      const ec2 = createEc2Client({
        region: "us-east-1",
        credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
        requestHandler: queryProtocolHandler(account, {
          beforeSend: () => cpu.beforeSend(),
          onRequest: (action) => {
            trace?.(action);
            if (options.sampleHeap) {
              cpu.exclude(() => {
                gc();
                simulation.peakHeap = Math.max(simulation.peakHeap, process.memoryUsage().heapUsed);
              });
            }
          },
          onAnswered: () => cpu.mark(),
          serviceTimeMs:
            profile === "none"
              ? undefined
              : (action, items, throttled) => serviceTimeMs(profile, action, items, throttled),
          sleep,
        }),
      });
      // BENCH_TRACE=1: when each kind of call is first and last sent in a run, on stderr.
      const seen = new Map<string, [number, number, number]>();
      const trace = process.env.BENCH_TRACE
        ? (action: string) => {
            const t = (Date.now() - simStart) / 1000;
            const [first, , n] = seen.get(action) ?? [t, t, 0];
            seen.set(action, [first, t, n + 1]);
          }
        : undefined;
      const callsBefore = { ...account.calls };
      const throttledBefore = { ...account.throttled };
      const writesBefore = ledger.writes;
      const simStart = Date.now();
      const wallStart = process.hrtime.bigint();
      // The contract of issue 14's handler: settings.tuning and settings.sweepHours; ignored before.
      const withTuning = { ...settings, tuning: TUNINGS[options.design] } as TaggerSettings;
      cpu.mark();
      const work = tagBackups(
        {
          ec2,
          clock: () => new Date(),
          log: quietLogger(),
          remainingMs: () => timeoutMs - (Date.now() - simStart),
          ledger,
        },
        withTuning,
      );
      const report = (await time.settle(work)) as ReportAfterIssue14;
      const end = cpu.finish();
      // The CPU still owed after the last answer runs on past it.
      if (end > Date.now()) {
        time.clock.setSystemTime(end);
      }
      const calls = diff(account.calls, callsBefore);
      if (trace) {
        process.stderr.write(
          `${[...seen].map(([a, [f, l, n]]) => `${a} x${n} ${f.toFixed(0)}-${l.toFixed(0)} s`).join("; ")}\n`,
        );
      }
      return {
        report,
        simulatedSeconds: (Date.now() - simStart) / 1000,
        cpuMs: cpu.measuredMs,
        calls,
        throttled: diff(account.throttled, throttledBefore),
        totalCalls: sum(calls),
        ledgerWrites: ledger.writes - writesBefore,
        wallSeconds: Number(process.hrtime.bigint() - wallStart) / 1e9,
      };
    },
    setNow(ms) {
      time.clock.setSystemTime(ms);
    },
    restore() {
      time.restore();
    },
  };
  return simulation;
}
