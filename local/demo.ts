// `npm run demo [-- --endpoint URL]`
// Starts the EC2 emulator, seeds a realistic account, synthesizes the dev stack and invokes the
// exact Lambda code Pulumi would upload, twice: the second run shows that nothing is rewritten.
// The SDK's "2027 releases need Node.js 22" notice is noise in a demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { parseArgs } from "node:util";
import { invokeArchive, unpackArchive, type Invocation } from "./invokeLambda";
import { INSTALL_HINT, motoInstalled, startMoto, type Emulator } from "./motoServer";
import { createLedgerTable } from "./ledgerTable";
import { findResource } from "./pulumiMocks";
import { createImage, createSnapshot, emulatorClient, tagsById } from "./seedAccount";
import { synth } from "./synth";

type Tags = Record<string, Record<string, string>>;

export interface DemoIo {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

/** A small account with one resource for each thing the tagger does; Name says which. */
async function seedDemoAccount(ec2: EC2Client): Promise<void> {
  await createImage(ec2, "web-nightly", { Name: "web-nightly (AMI, untagged)" });
  await createImage(ec2, "db-weekly", {
    Name: "db-weekly (AMI, tagged under 30 days)",
    Retention: "30days",
    DeleteOn: "2026-12-20",
  });
  await createSnapshot(ec2, { Name: "db-daily-1 (untagged)" });
  await createSnapshot(ec2, { Name: "db-daily-2 (untagged)" });
  await createSnapshot(ec2, {
    Name: "logs-archive (tagged under 30 days)",
    Retention: "30days",
    DeleteOn: "2026-12-10",
  });
  await createSnapshot(ec2, { Name: "legal-hold (tagged by hand)", Retention: "keep" });
  await createSnapshot(ec2, { Name: "migration (someone else's DeleteOn)", DeleteOn: "2027-06-30" });
  await createSnapshot(ec2, { Name: "terraform-managed (own ManagedBy tag)", ManagedBy: "terraform" });
}

function cell(before: string | undefined, after: string | undefined): string {
  if (before === after) {
    return before ?? "-";
  }
  return `${before ?? "-"} -> ${after ?? "-"}`;
}

export function formatTagTable(before: Tags, after: Tags): string {
  const rows = Object.keys(after)
    .sort()
    .map((id) => [
      id,
      after[id].Name ?? before[id]?.Name ?? "(backing snapshot of an AMI)",
      cell(before[id]?.Retention, after[id].Retention),
      cell(before[id]?.DeleteOn, after[id].DeleteOn),
      cell(before[id]?.ManagedBy, after[id].ManagedBy),
      // Whether expiry could ever delete it: only dates the function recorded in its ledger.
      after[id].RetentionBatch ? "ledger" : "none",
    ]);
  const header = ["resource", "Name", "Retention", "DeleteOn", "ManagedBy", "Proof"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export async function runDemo(argv: string[], io: DemoIo): Promise<number> {
  let endpoint: string | undefined;
  try {
    endpoint = parseArgs({ args: argv, options: { endpoint: { type: "string" } }, strict: true }).values
      .endpoint;
  } catch (error) {
    io.err.write(`${(error as Error).message}\nusage: npm run demo [-- --endpoint URL]\n`);
    return 2;
  }
  if (!endpoint && !motoInstalled()) {
    io.err.write(
      `${INSTALL_HINT}\nor point the demo at an EC2 endpoint you already run (LocalStack, moto): npm run demo -- --endpoint http://127.0.0.1:4566\n`,
    );
    return 1;
  }
  let emulator: Emulator | undefined;
  let removeArchive: (() => void) | undefined;
  const cleanUp = async () => {
    removeArchive?.();
    await emulator?.stop();
  };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    io.err.write("\ninterrupted: stopping the emulator\n");
    cleanUp().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (!endpoint) {
      emulator = await startMoto();
      endpoint = emulator.endpoint;
      io.out.write(`Started the EC2 emulator (moto) at ${endpoint}\n`);
    }
    const ec2 = emulatorClient(endpoint);
    await seedDemoAccount(ec2);
    const result = await synth({ stack: "dev" });
    const [archiveFiles] = Object.values(result.archives);
    const archive = unpackArchive(archiveFiles);
    removeArchive = archive.remove;
    const environment: Record<string, string> = findResource("aws:lambda/function:Function").inputs
      .environment.variables;
    // The ledger the stack would create beside the function (proof of authorship for expiry).
    await createLedgerTable(endpoint, environment.LEDGER_TABLE, result.config["aws:region"]);
    io.out.write(
      `Synthesized stack dev: ${result.resources.length} resources; the function's archive is ${Object.keys(archiveFiles).join(", ")}\n` +
        `Environment: ${JSON.stringify(environment)}\n\n`,
    );
    const invoke = (): Invocation =>
      invokeArchive([process.execPath], archive.dir, Object.values(result.layers)[0].dir, {
        AWS_REGION: result.config["aws:region"],
        AWS_ENDPOINT_URL: endpoint as string,
        AWS_ACCESS_KEY_ID: "demo",
        AWS_SECRET_ACCESS_KEY: "demo",
        AWS_LAMBDA_FUNCTION_NAME: String(result.outputs.functionName),
        ...environment,
      });

    const before = await tagsById(ec2);
    const first = invoke();
    if (!first.ok) {
      throw new Error(`the function failed: ${first.error?.message}`);
    }
    const after = await tagsById(ec2);
    io.out.write(`First run (a scheduled EventBridge event):\n\n${formatTagTable(before, after)}\n\n`);
    io.out.write(`Response:\n${JSON.stringify(first.response, null, 2)}\n\n`);

    const second = invoke();
    const afterSecond = await tagsById(ec2);
    const unchanged = JSON.stringify(afterSecond) === JSON.stringify(after);
    io.out.write(
      `Second run: ${second.response?.message}; planned writes: ${(second.response?.amis_planned ?? 0) + (second.response?.snapshots_planned ?? 0)}; ` +
        `tags ${unchanged ? "unchanged" : "CHANGED"}.\n`,
    );
    return second.ok && unchanged ? 0 : 1;
  } catch (error) {
    if (!interrupted) {
      io.err.write(`demo failed: ${(error as Error).message}\n`);
    }
    return 1;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanUp();
  }
}

if (require.main === module) {
  runDemo(process.argv.slice(2), { out: process.stdout, err: process.stderr }).then((code) => {
    process.exitCode = code;
  });
}
