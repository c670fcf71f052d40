// One scenario against the EC2 emulator over real HTTP, in a fresh process for honest memory.
// Usage: node --expose-gc out/bench/emulatorScenario.js <endpoint> <file of IDs to delete after listing, or ->
// Prints one JSON object.
import { DeleteSnapshotCommand, EC2Client } from "@aws-sdk/client-ec2";
import { readFileSync } from "node:fs";
import { createEc2Client } from "../handler/awsClients";
import type { Logger } from "../handler/ports";
import { tagBackups } from "../handler/tagger";
import { MemoryLedger } from "../local/memoryLedger";
import { SETTINGS } from "./scenarios";

const MB = 1024 * 1024;

export interface EmulatorRunResult {
  node: string;
  calls: Record<string, number>;
  filteredDescribes: number;
  wallSeconds: number;
  rssBaselineMb: number;
  rssPeakMb: number;
  heapGrowthMb: number;
  tagged: number;
  failed: number;
  listed: number;
  complete: boolean;
}

async function main(endpoint: string, goneFile: string): Promise<EmulatorRunResult> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const gone: string[] = goneFile === "-" ? [] : JSON.parse(readFileSync(goneFile, "utf8"));
  const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
  const ec2 = createEc2Client({ region: "us-east-1", endpoint, credentials });
  const admin = new EC2Client({ region: "us-east-1", endpoint, credentials });
  const calls: Record<string, number> = {};
  let filteredDescribes = 0;
  let deleted = false;
  let deleteNs = 0n;
  let peakHeap = 0;
  let gcNs = 0n;
  // Count every request the real HTTP handler sends; delete the chosen snapshots just before
  // the first snapshot write, after they were listed.
  const http = ec2.config.requestHandler as unknown as {
    handle: (request: { body?: unknown }) => Promise<unknown>;
  };
  const send = http.handle.bind(http);
  http.handle = async (request) => {
    const params = new URLSearchParams(String(request.body ?? ""));
    const action = params.get("Action") ?? "?";
    calls[action] = (calls[action] ?? 0) + 1;
    if (params.has("Filter.1.Name")) {
      filteredDescribes += 1;
    }
    if (action === "CreateTags" && !deleted && params.get("ResourceId.1")?.startsWith("snap-")) {
      deleted = true;
      const t = process.hrtime.bigint();
      for (const id of gone) {
        // A failed deletion is the benchmark's fault, not the tagger's: stop rather than mislead.
        await admin.send(new DeleteSnapshotCommand({ SnapshotId: id })).catch((error: Error) => {
          process.stderr.write(`could not delete ${id} for the scenario: ${error.name}: ${error.message}\n`);
          process.exit(2);
        });
      }
      deleteNs = process.hrtime.bigint() - t;
    }
    const t = process.hrtime.bigint();
    gc();
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    gcNs += process.hrtime.bigint() - t;
    return send(request);
  };
  gc();
  const baseline = process.memoryUsage();
  const logger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const start = process.hrtime.bigint();
  const report = await tagBackups(
    { ec2, clock: () => new Date(), log: logger, remainingMs: () => 300_000, ledger: new MemoryLedger() },
    { ...SETTINGS, dryRun: false, safetyMarginMs: 30_000 },
  );
  // Excludes the sampling collections and the deletions, which a real run would not do.
  const wallSeconds = Number(process.hrtime.bigint() - start - gcNs - deleteNs) / 1e9;
  return {
    node: process.version,
    calls,
    filteredDescribes,
    wallSeconds,
    rssBaselineMb: baseline.rss / MB,
    rssPeakMb: process.resourceUsage().maxRSS / 1024,
    heapGrowthMb: Math.max(0, peakHeap - baseline.heapUsed) / MB,
    tagged: report.amis.tagged + report.snapshots.tagged,
    failed: report.failureCount,
    listed: report.amis.listed + report.snapshots.listed,
    complete: report.complete,
  };
}

if (require.main === module) {
  const [endpoint, goneFile] = process.argv.slice(2);
  main(endpoint, goneFile ?? "-").then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
