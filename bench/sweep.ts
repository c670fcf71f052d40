// The sweep scenario: a large account on the default daily schedule with the seed's 300 s timeout.
// Runs until a full pass completes, then goes on and checks, from the fake's count of listings per
// resource, that every backup is listed at least once per sweep period.
import type { LatencyProfile } from "../local/emulator/latency";
import type { Kind } from "../local/emulator/ec2Account";
import { SETTINGS, TODAY, accountSpec } from "./scenarios";
import { createSimulation, type Design } from "./simulation";

const DAY_MS = 86_400_000;

export interface SweepRequest {
  kind: "sweep";
  design: Design;
  snapshots: number;
  images: number;
  profile: LatencyProfile;
  memorySize: number;
  timeoutMs: number;
  /** Runs allowed for the first full pass before the scenario gives up. */
  maxRunsToPass: number;
  /** Sweep periods checked after the first pass. */
  periodsAfter: number;
  sweepHours: number;
  scheduleHours: number;
}

export interface SweepResult {
  request: SweepRequest;
  runs: {
    run: number;
    simulatedSeconds: number;
    calls: number;
    throttled: number;
    tagged: number;
    complete: boolean;
    passComplete: boolean;
    shardsDone?: number;
    fullPassWithinSweep?: boolean;
  }[];
  /** The run (1-based) that completed the first full pass; undefined when none did. */
  runsToFirstPass?: number;
  periodsChecked: number;
  /** The most backups left unlisted within one sweep period after the first pass. */
  worstUnvisited: number;
  resources: number;
}

export async function runSweep(request: SweepRequest): Promise<SweepResult> {
  const spec = accountSpec("first run", request.snapshots, request.images);
  const start = Date.parse(`${TODAY}T02:00:00Z`);
  const simulation = createSimulation({
    spec,
    start,
    profile: request.profile,
    memorySize: request.memorySize,
    design: request.design,
    countVisits: true,
  });
  const kinds: Kind[] = ["image", "snapshot"];
  const snapshotOfVisits = () => kinds.map((kind) => Uint16Array.from(simulation.account.visits(kind) ?? []));
  const runsPerPeriod = Math.max(1, Math.round(request.sweepHours / request.scheduleHours));
  const result: SweepResult = {
    request,
    runs: [],
    periodsChecked: 0,
    worstUnvisited: 0,
    resources: spec.images + spec.snapshots,
  };
  let periodStart: Uint16Array[] | undefined;
  let runsInPeriod = 0;
  for (let run = 1; ; run++) {
    simulation.setNow(start + (run - 1) * request.scheduleHours * 3_600_000);
    const figures = await simulation.run(
      {
        ...SETTINGS,
        dryRun: false,
        safetyMarginMs: Math.min(30_000, request.timeoutMs / 10),
        sweepHours: request.sweepHours,
      },
      request.timeoutMs,
    );
    const { report } = figures;
    // Before the sweep lands, a complete run is a full pass.
    const passComplete = report.sweep?.passComplete ?? report.complete;
    result.runs.push({
      run,
      simulatedSeconds: figures.simulatedSeconds,
      calls: figures.totalCalls,
      throttled: Object.values(figures.throttled).reduce((a, b) => a + b, 0),
      tagged: report.amis.tagged + report.snapshots.tagged,
      complete: report.complete,
      passComplete,
      shardsDone: report.sweep?.shardsDone,
      fullPassWithinSweep: report.sweep?.fullPassWithinSweep,
    });
    if (result.runsToFirstPass === undefined) {
      if (passComplete) {
        result.runsToFirstPass = run;
        periodStart = snapshotOfVisits();
        runsInPeriod = 0;
      } else if (run >= request.maxRunsToPass) {
        break;
      }
      continue;
    }
    runsInPeriod += 1;
    if (runsInPeriod === runsPerPeriod && periodStart) {
      const now = snapshotOfVisits();
      let unvisited = 0;
      kinds.forEach((_kind, k) => {
        for (let i = 0; i < now[k].length; i++) {
          if (now[k][i] === periodStart?.[k][i]) {
            unvisited += 1;
          }
        }
      });
      result.worstUnvisited = Math.max(result.worstUnvisited, unvisited);
      result.periodsChecked += 1;
      periodStart = now;
      runsInPeriod = 0;
      if (result.periodsChecked >= request.periodsAfter) {
        break;
      }
    }
  }
  simulation.restore();
  return result;
}

export { DAY_MS };
