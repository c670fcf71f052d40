// `npm run bench -- --emulator`: the same scenarios at 5,000 snapshots (and 500 AMIs) through the
// real SDK over HTTP against the moto EC2 emulator. No throttling there: this measures calls, wall
// time and memory under real serialization. moto returns every snapshot in one page whatever
// MaxResults says, so the listing's share of the minimum is the pages moto actually served.
import { CreateTagsCommand } from "@aws-sdk/client-ec2";
import { spawnSync } from "node:child_process";
import { withSdkLayer } from "./layerProcess";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSTALL_HINT, motoInstalled, startMoto } from "../local/motoServer";
import { createSnapshots, emulatorClient, listAll, registerImages } from "../local/seedAccount";
import type { EmulatorRunResult } from "./emulatorScenario";
import { SCENARIOS, accountSpec, minimumWrites, onePercent, type ScenarioName } from "./scenarios";

export interface EmulatorRow {
  scenario: ScenarioName;
  images: number;
  snapshots: number;
  result: EmulatorRunResult;
  minimum: number;
  callsOverMinimum: number;
}

export async function runEmulatorBench(
  snapshotCount: number,
  log: (line: string) => void,
): Promise<EmulatorRow[]> {
  if (!motoInstalled()) {
    throw new Error(INSTALL_HINT);
  }
  const moto = await startMoto();
  const work = mkdtempSync(join(tmpdir(), "emulator-bench-"));
  const rows: EmulatorRow[] = [];
  try {
    const ec2 = emulatorClient(moto.endpoint);
    for (const scenario of SCENARIOS) {
      log(`seeding ${scenario}: ${snapshotCount.toLocaleString("en-US")} snapshots on the emulator...`);
      await moto.reset();
      const spec = accountSpec(scenario, snapshotCount);
      const snapshots = await createSnapshots(ec2, spec.snapshots, (i) => spec.initialTags("snapshot", i));
      const backing = snapshots.slice(0, spec.images);
      await registerImages(ec2, backing, (i) => spec.initialTags("image", i));
      let account = await listAll(ec2);
      if (scenario === "steady state") {
        // moto adds an untagged snapshot behind each AMI; a steady state has them tagged too.
        const untagged = account.snapshots.filter((s) => s.tags.length === 0).map((s) => s.id);
        for (let i = 0; i < untagged.length; i += 1000) {
          await ec2.send(
            new CreateTagsCommand({
              Resources: untagged.slice(i, i + 1000),
              Tags: spec.initialTags("snapshot", 0),
            }),
          );
        }
        account = await listAll(ec2);
      }
      // Snapshots behind an AMI cannot be deleted (InvalidSnapshot.InUse): choose among the others.
      const inUse = new Set(backing);
      const deletable = snapshots.filter((id) => !inUse.has(id));
      const gone = new Set(
        scenario === "1% deleted mid-run" ? deletable.filter((_, i) => onePercent("snapshot", i)) : [],
      );
      const goneFile = join(work, "gone.json");
      writeFileSync(goneFile, JSON.stringify([...gone]));
      const writes = [
        minimumWrites(account.images.map((r) => ({ kind: "image" as const, tags: r.tags, gone: false }))),
        minimumWrites(
          account.snapshots.map((r) => ({ kind: "snapshot" as const, tags: r.tags, gone: gone.has(r.id) })),
        ),
      ];
      log(`running ${scenario} on the emulator...`);
      const layer = withSdkLayer(process.env);
      const child = spawnSync(
        process.execPath,
        [...layer.args, "--expose-gc", join(__dirname, "emulatorScenario.js"), moto.endpoint, goneFile],
        { encoding: "utf8", env: layer.env },
      );
      if (child.status !== 0) {
        throw new Error(`emulator run of ${scenario} failed:\n${child.stderr}`);
      }
      const result: EmulatorRunResult = JSON.parse(child.stdout.trim().split("\n").pop() as string);
      const describes = (result.calls.DescribeImages ?? 0) + (result.calls.DescribeSnapshots ?? 0);
      const listPages = describes - result.filteredDescribes;
      const minimum = listPages + writes.reduce((n, w) => n + w.createTags + w.existenceChecks, 0);
      const total = Object.values(result.calls).reduce((a, b) => a + b, 0);
      const toWrite = writes.reduce((n, w) => n + w.toWrite, 0);
      if (result.tagged + result.failed !== toWrite || result.failed !== gone.size) {
        throw new Error(
          `${scenario}: tagged ${result.tagged} + failed ${result.failed}, expected ${toWrite} with ${gone.size} gone`,
        );
      }
      rows.push({
        scenario,
        images: account.images.length,
        snapshots: account.snapshots.length,
        result,
        minimum,
        callsOverMinimum: total / minimum,
      });
    }
  } finally {
    await moto.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

export function renderEmulatorTable(rows: EmulatorRow[]): string {
  const lines = [
    "| scenario | AMIs | snapshots | API calls | minimum | calls / min | wall s | heap growth MB | peak RSS MB | tagged | failed |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const calls = Object.entries(r.result.calls)
      .map(([action, n]) => `${action} ${n}`)
      .join(", ");
    lines.push(
      `| ${r.scenario} | ${r.images} | ${r.snapshots} | ${calls} | ${r.minimum} | ${r.callsOverMinimum.toFixed(3)} | ${r.result.wallSeconds.toFixed(1)} | ${r.result.heapGrowthMb.toFixed(1)} | ${Math.round(r.result.rssPeakMb)} | ${r.result.tagged} | ${r.result.failed} |`,
    );
  }
  return lines.join("\n");
}
