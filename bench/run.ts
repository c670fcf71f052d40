// `npm run bench [-- --small] [--json] [--write] [--emulator]`
// Runs every scenario in its own process: ours (the real tagger core and the SDK client as
// configured for Lambda, over an in-process EC2 fake with EC2's throttling and a simulated clock)
// side by side with the seed's approach. Exits non-zero when a target is missed.
import { spawnSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { ROOT } from "../infra/projectRoot";
import { writeFileSync } from "node:fs";
import { DEFAULTS } from "../infra/config";
import { renderChart } from "./chart";
import { measureColdStarts, type ColdStart } from "./coldStart";
import { withSdkLayer } from "./layerProcess";
import { renderEmulatorTable, runEmulatorBench, type EmulatorRow } from "./emulatorBench";
import type { Runner, ScenarioResult } from "./runScenario";
import { SCENARIOS, type ScenarioName } from "./scenarios";

// The SDK warns that its 2027 releases need Node.js 22; this tool runs on 20 and 22 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const SCENARIO_SCRIPT = join(__dirname, "runScenario.js");
const CALLS_OVER_MINIMUM_LIMIT = 1.1;
const SIMULATED_SECONDS_LIMIT = 30;
const SEED_SECONDS_FLOOR = 10_000;
const HEAP_GROWTH_LIMIT_MB = 16;
const HEADROOM = 0.2;

const args = new Set(process.argv.slice(2));
const small = args.has("--small");
const EMULATOR_SNAPSHOTS = 5_000;
// --emulator alone runs only the emulator scenarios; --write runs everything for BENCHMARKS.md.
const inProcess = !args.has("--emulator") || args.has("--write");
const onEmulator = args.has("--emulator") || args.has("--write");
const sizes = small ? [1_000] : [1_000, 10_000, 100_000];
const largest = sizes[sizes.length - 1];

function runChild(
  command: string[],
  runner: Runner,
  scenario: ScenarioName,
  snapshots: number,
): ScenarioResult {
  const [program, ...rest] = command;
  const layer = withSdkLayer(process.env);
  const child = spawnSync(
    program,
    [...rest, ...layer.args, "--expose-gc", SCENARIO_SCRIPT, runner, scenario, String(snapshots)],
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024, env: layer.env },
  );
  if (child.status !== 0) {
    throw new Error(`${runner} / ${scenario} / ${snapshots} failed:\n${child.stderr}`);
  }
  return JSON.parse(child.stdout.trim().split("\n").pop() as string);
}

interface Row {
  snapshots: number;
  scenario: ScenarioName;
  ours: ScenarioResult;
  seed: ScenarioResult;
  seedPaced: ScenarioResult;
}

const rows: Row[] = [];
const node22: ScenarioResult[] = [];
let node22PeakMb: number | undefined;
let neededMemoryMb: number | undefined;
const checks: { name: string; ok: boolean; detail: string }[] = [];
const machine = `${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}`;
let emulatorRows: EmulatorRow[] = [];
let coldStarts: ColdStart[] = [];

async function main(): Promise<void> {
  for (const snapshots of inProcess ? sizes : []) {
    for (const scenario of SCENARIOS) {
      if (!args.has("--json")) {
        process.stderr.write(`running ${scenario} at ${snapshots.toLocaleString("en-US")} snapshots...\n`);
      }
      rows.push({
        snapshots,
        scenario,
        ours: runChild([process.execPath], "ours", scenario, snapshots),
        seed: runChild([process.execPath], "seed", scenario, snapshots),
        seedPaced: runChild([process.execPath], "seed-paced", scenario, snapshots),
      });
    }
  }

  // Lambda runs Node.js 22: measure the largest runs' memory there (npx fetches it from the npm registry).
  if (!small && inProcess) {
    for (const scenario of SCENARIOS) {
      process.stderr.write(
        `running ${scenario} at ${largest.toLocaleString("en-US")} snapshots under Node.js 22...\n`,
      );
      node22.push(runChild(["npx", "-y", "node@22"], "ours", scenario, largest));
    }
  }
  node22PeakMb = node22.length > 0 ? Math.max(...node22.map((r) => r.rssPeakMb)) : undefined;
  if (!small && inProcess) {
    process.stderr.write("measuring cold starts under Node.js 22...\n");
    coldStarts = await measureColdStarts(["npx", "-y", "node@22"]);
  }
  neededMemoryMb = node22PeakMb === undefined ? undefined : Math.ceil(node22PeakMb / (1 - HEADROOM));

  for (const row of rows) {
    const { ours } = row;
    checks.push({
      name: `${row.scenario} at ${row.snapshots}: API calls at most ${CALLS_OVER_MINIMUM_LIMIT}x the minimum`,
      ok: ours.callsOverMinimum >= 1 && ours.callsOverMinimum <= CALLS_OVER_MINIMUM_LIMIT,
      detail: `${ours.totalCalls} calls, minimum ${ours.minimum.total} (${ours.callsOverMinimum.toFixed(3)}x)`,
    });
    if (row.scenario === "steady state") {
      checks.push({
        name: `steady state at ${row.snapshots}: no CreateTags, no ledger writes`,
        ok: (ours.calls.CreateTags ?? 0) === 0 && ours.ledgerWrites === 0,
        detail: `${ours.calls.CreateTags ?? 0} CreateTags, ${ours.ledgerWrites} ledger writes`,
      });
    }
    checks.push({
      name: `${row.scenario} at ${row.snapshots}: at most one ledger write per CreateTags`,
      ok: ours.ledgerWrites <= (ours.calls.CreateTags ?? 0),
      detail: `${ours.ledgerWrites} ledger writes, ${ours.calls.CreateTags ?? 0} CreateTags, ${ours.ledgerReads} ledger reads`,
    });
    checks.push({
      name: `${row.scenario} at ${row.snapshots}: complete, every failure accounted for`,
      ok: ours.complete && ours.tagged + ours.failed === ours.minimum.toWrite,
      detail: `tagged ${ours.tagged} + failed ${ours.failed} of ${ours.minimum.toWrite} to write`,
    });
  }
  const biggestFirst = rows.find((r) => r.snapshots === largest && r.scenario === "first run");
  if (!small && biggestFirst) {
    checks.push({
      name: `first run at ${largest}: at most ${SIMULATED_SECONDS_LIMIT} s simulated`,
      ok: biggestFirst.ours.simulatedSeconds <= SIMULATED_SECONDS_LIMIT,
      detail: `${biggestFirst.ours.simulatedSeconds.toFixed(1)} s`,
    });
    checks.push({
      name: `first run at ${largest}: the seed's approach needs over ${SEED_SECONDS_FLOOR} s`,
      ok: biggestFirst.seedPaced.simulatedSeconds > SEED_SECONDS_FLOOR,
      detail: `${Math.round(biggestFirst.seedPaced.simulatedSeconds)} s`,
    });
    for (const row of rows.filter((r) => r.snapshots === largest)) {
      checks.push({
        name: `${row.scenario} at ${largest}: heap grows at most ${HEAP_GROWTH_LIMIT_MB} MB`,
        ok: row.ours.heapGrowthMb <= HEAP_GROWTH_LIMIT_MB,
        detail: `${row.ours.heapGrowthMb.toFixed(1)} MB`,
      });
    }
    if (neededMemoryMb !== undefined) {
      checks.push({
        name: `memorySize default keeps ${HEADROOM * 100}% headroom over the Node.js 22 peak`,
        ok: DEFAULTS.memorySize >= neededMemoryMb,
        detail: `peak ${node22PeakMb?.toFixed(0)} MB needs ${neededMemoryMb} MB; default ${DEFAULTS.memorySize} MB`,
      });
    }
  }

  if (onEmulator) {
    emulatorRows = await runEmulatorBench(EMULATOR_SNAPSHOTS, (line) => process.stderr.write(`${line}\n`));
    for (const row of emulatorRows) {
      checks.push({
        name: `emulator, ${row.scenario}: API calls at most ${CALLS_OVER_MINIMUM_LIMIT}x the minimum`,
        // Below 1 would mean the minimum is miscounted or work was skipped.
        ok: row.callsOverMinimum >= 1 && row.callsOverMinimum <= CALLS_OVER_MINIMUM_LIMIT,
        detail: `${row.callsOverMinimum.toFixed(3)}x`,
      });
    }
  }
  const failed = checks.filter((c) => !c.ok);

  if (args.has("--json")) {
    const everything = {
      machine,
      rows,
      node22,
      node22PeakMb,
      neededMemoryMb,
      coldStarts,
      emulatorRows,
      checks,
    };
    process.stdout.write(`${JSON.stringify(everything, null, 2)}\n`);
  } else {
    const tables = [
      inProcess ? renderTables(rows) : "",
      onEmulator ? `On the EC2 emulator:\n\n${renderEmulatorTable(emulatorRows)}` : "",
    ];
    process.stdout.write(`${tables.filter(Boolean).join("\n\n")}\n\n${renderChecks()}\n`);
  }

  if (!small && inProcess) {
    const chart = renderChart("Tagging time under EC2's published throttling: ours vs the seed's approach", [
      {
        label: "seed's approach: one CreateTags per resource, paced to the bucket",
        color: "#c0392b",
        points: rows
          .filter((r) => r.scenario === "first run")
          .map((r) => ({ resources: r.snapshots + r.ours.images, seconds: r.seedPaced.simulatedSeconds })),
      },
      {
        label: "ours: paged, batched, adaptive retry",
        color: "#2471a3",
        points: rows
          .filter((r) => r.scenario === "first run")
          .map((r) => ({ resources: r.snapshots + r.ours.images, seconds: r.ours.simulatedSeconds })),
      },
    ]);
    writeFileSync(join(ROOT, "bench", "results.svg"), chart);
  }
  if (args.has("--write")) {
    writeFileSync(join(ROOT, "BENCHMARKS.md"), renderMarkdown());
  }
  process.exitCode = failed.length > 0 ? 1 : 0;
}

function fmt(n: number, digits = 1): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(digits);
}

function calls(result: ScenarioResult): string {
  return Object.entries(result.calls)
    .map(
      ([action, n]) =>
        `${action.replace("Describe", "D.")} ${n}${result.throttled[action] ? ` (${result.throttled[action]} throttled)` : ""}`,
    )
    .join(", ");
}

function renderTables(all: Row[]): string {
  const header =
    "| snapshots | scenario | ours: API calls | minimum | calls / min | ledger writes / reads | ours: simulated s | ours: wall s | heap growth MB | peak RSS MB | failures | seed: calls | seed as written: tagged / throttled | seed paced: simulated s | calls ratio | time ratio |";
  const lines = [
    header,
    `|${header
      .split("|")
      .slice(1, -1)
      .map(() => " --- ")
      .join("|")}|`,
  ];
  for (const r of all) {
    lines.push(
      `| ${r.snapshots.toLocaleString("en-US")} | ${r.scenario} | ${calls(r.ours)} | ${r.ours.minimum.total} | ${r.ours.callsOverMinimum.toFixed(3)} | ${r.ours.ledgerWrites} / ${r.ours.ledgerReads} | ${fmt(r.ours.simulatedSeconds)} | ${fmt(r.ours.wallSeconds)} | ${fmt(r.ours.heapGrowthMb)} | ${fmt(r.ours.rssPeakMb)} | ${r.ours.failed} | ${r.seed.totalCalls.toLocaleString("en-US")} | ${r.seed.tagged.toLocaleString("en-US")} / ${(r.seed.failedByCode.RequestLimitExceeded ?? 0).toLocaleString("en-US")} | ${fmt(r.seedPaced.simulatedSeconds)} | ${(r.seed.totalCalls / r.ours.totalCalls).toFixed(0)}x | ${r.ours.simulatedSeconds > 0 ? `${(r.seedPaced.simulatedSeconds / r.ours.simulatedSeconds).toFixed(0)}x` : "-"} |`,
    );
  }
  if (node22.length > 0) {
    lines.push(
      "",
      `Node.js 22 (${node22[0].node}), ${largest.toLocaleString("en-US")} snapshots + ${node22[0].images.toLocaleString("en-US")} AMIs:`,
      "",
    );
    lines.push(
      "| scenario | RSS with SDK loaded, MB | peak RSS MB | heap growth MB |",
      "| --- | --- | --- | --- |",
    );
    for (const r of node22) {
      lines.push(
        `| ${r.scenario} | ${fmt(r.rssBaselineMb)} | ${fmt(r.rssPeakMb)} | ${fmt(r.heapGrowthMb)} |`,
      );
    }
    lines.push(
      "",
      `Peak ${fmt(node22PeakMb ?? 0)} MB; with ${HEADROOM * 100}% headroom that needs ${neededMemoryMb} MB. Default memorySize: ${DEFAULTS.memorySize} MB.`,
    );
  }
  if (coldStarts.length > 0) {
    lines.push(
      "",
      `Cold start (${coldStarts[0].node}, median of 5): loading the function's archive, which builds its clients.`,
      "",
      "| SDK | init ms | RSS MB |",
      "| --- | --- | --- |",
      ...coldStarts.map((c) => `| ${c.sdk} | ${fmt(c.initMs)} | ${fmt(c.rssMb)} |`),
    );
  }
  return lines.join("\n");
}

function renderChecks(): string {
  return ["Targets:", ...checks.map((c) => `  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`)].join("\n");
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});

function renderMarkdown(): string {
  return `# Benchmarks

Generated by \`npm run bench -- --write\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${machine}.

## What is measured

Each row runs in a fresh process. **Ours** is the real tagger core (\`handler/tagger.ts\`) with the
EC2 client exactly as the Lambda configures it (\`handler/ec2Client.ts\`: adaptive retry, 10
attempts), talking EC2's query protocol to an in-process fake (\`local/emulator/ec2Account.ts\`,
\`local/emulator/ec2Query.ts\`: the account model the embedded emulator serves too). The fake
pages at most \`MaxResults\` (5 to 1000) with \`NextToken\`,
refuses CreateTags with over 1000 IDs or a resource over 50 tags, fails a whole CreateTags when an
ID is gone (naming only the first), and answers \`RequestLimitExceeded\` from EC2's published token
buckets: non-mutating calls burst 100, refill 20/s; CreateTags burst 100, refill 10/s; unpaginated
DescribeSnapshots burst 50, refill 10/s. Time is simulated (sinon fake timers drive both the SDK's
backoff and the buckets), so hours of throttling take seconds; simulated time counts throttling
and backoff only, not network latency.

**The seed's approach**, in the same run: one unpaginated DescribeImages and DescribeSnapshots,
then one CreateTags per resource, sequential. *As written* it does not retry, so after the burst
nearly every call is throttled. *Paced* waits for a token before each call: the least time one call
per resource can take at EC2's rate. It also rewrites every resource on every run.

Scenarios, each with AMIs at 10% of the snapshots: a **first run** on an untagged account; a
**steady state** rerun (everything already ours, dated over the past year); a **retention change**
where 10% carry \`Retention=30days\` over 30 distinct dates; **1% deleted mid-run**: listed, then
gone when tagged.

The **minimum** is list pages at 1000 per page plus one CreateTags per 1000 resources per distinct
tag set. With IDs gone it adds, per damaged batch, the CreateTags that must fail to reveal it and
one filtered Describe per 200 IDs to learn which are gone (EC2 names only one per failure).

**Heap growth** is the retained heap (sampled after a full GC at every request) over a process
that has the SDK loaded and the fake account built. **Peak RSS** is the process's maximum resident
set, fake account included.

## Results

${renderTables(rows)}

![Simulated time against resource count](bench/results.svg)

## On the EC2 emulator

The same scenarios at ${EMULATOR_SNAPSHOTS.toLocaleString("en-US")} snapshots and ${(EMULATOR_SNAPSHOTS / 10).toLocaleString("en-US")} AMIs, through the real SDK over HTTP
against moto (\`npm run bench -- --emulator\`). moto adds a snapshot behind each AMI, does not
throttle, and serves every snapshot in one page whatever \`MaxResults\` says, so the listing's part
of the minimum is the pages it served. Wall time includes moto's own work.

${renderEmulatorTable(emulatorRows)}

${renderChecks()}

## Reproduce

\`\`\`sh
npm ci
npm run bench                  # the table; also writes bench/results.svg
npm run bench -- --json        # every figure as one JSON document
npm run bench -- --small       # 1,000 snapshots only: what CI runs
npm run bench -- --emulator    # 5,000 snapshots through the SDK over HTTP against moto
npm run bench -- --write       # also rewrites this file
\`\`\`
`;
}
