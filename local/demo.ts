// `npm run demo [-- --emulator moto|embedded] [--endpoint URL]`
// Starts an EC2 emulator (moto when it is importable, otherwise this project's embedded one), seeds
// the demo account, synthesizes the dev stack and invokes the exact Lambda code Pulumi would upload,
// twice: the second run shows that nothing is rewritten.
// The SDK's "2027 releases need Node.js 22" notice is noise in a demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { parseArgs } from "node:util";
import { invokeArchiveAsync, unpackArchive, type Invocation } from "./invokeLambda";
import { INSTALL_HINT, motoInstalled } from "./motoServer";
import { seedDemoAccount } from "./demoAccount";
import {
  EMULATOR_NAMES,
  chooseEmulator,
  isEmulatorName,
  startEmulator,
  type Emulator,
  type EmulatorName,
} from "./emulators";
import { createLedgerTable } from "./ledgerTable";
import { findResource } from "./pulumiMocks";
import { emulatorClient, tagsById } from "./seedAccount";
import { synth } from "./synth";

type Tags = Record<string, Record<string, string>>;

export const USAGE = `usage: npm run demo [-- --emulator ${EMULATOR_NAMES.join("|")}] [--endpoint URL]

  --emulator NAME   moto (Python's, an independent implementation) or embedded (this project's own,
                    Node.js only); default: moto when python3 can import it, otherwise embedded
  --endpoint URL    an EC2 and DynamoDB endpoint you already run (LocalStack, moto); wins over --emulator`;

export interface DemoIo {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

/** What the demo asks of the machine; tests replace it to play a machine without moto. */
export interface DemoHost {
  motoInstalled: () => boolean;
}

/** The flags, or the lines of a usage error. */
export function parseDemoArgs(
  argv: string[],
): { endpoint?: string; emulator?: EmulatorName } | { errors: string[] } {
  let values: { endpoint?: string; emulator?: string };
  try {
    values = parseArgs({
      args: argv,
      options: { endpoint: { type: "string" }, emulator: { type: "string" } },
      strict: true,
    }).values;
  } catch (error) {
    return { errors: [(error as Error).message] };
  }
  const errors: string[] = [];
  if (values.emulator !== undefined && !isEmulatorName(values.emulator)) {
    errors.push(`--emulator ${JSON.stringify(values.emulator)}: must be one of ${EMULATOR_NAMES.join(", ")}`);
  }
  if (values.endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(values.endpoint)) {
    errors.push(`--endpoint ${JSON.stringify(values.endpoint)}: must be an http(s) URL`);
  }
  return errors.length > 0
    ? { errors }
    : { endpoint: values.endpoint, emulator: values.emulator as EmulatorName | undefined };
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

export async function runDemo(
  argv: string[],
  io: DemoIo,
  host: DemoHost = { motoInstalled: () => motoInstalled() },
): Promise<number> {
  const options = parseDemoArgs(argv);
  if ("errors" in options) {
    io.err.write(`${options.errors.join("\n")}\n\n${USAGE}\n`);
    return 2;
  }
  let endpoint = options.endpoint;
  const choice = endpoint === undefined ? chooseEmulator(options.emulator, host.motoInstalled) : undefined;
  if (choice?.name === "moto" && options.emulator === "moto" && !host.motoInstalled()) {
    io.err.write(
      `${INSTALL_HINT}\nor leave out --emulator moto: the embedded emulator needs nothing but Node.js\n`,
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
    if (choice === undefined) {
      const ignored = options.emulator === undefined ? "" : `; --emulator ${options.emulator} ignored`;
      io.out.write(`Using the EC2 endpoint ${endpoint} (--endpoint${ignored})\n`);
    } else {
      emulator = await startEmulator(choice.name);
      endpoint = emulator.endpoint;
      io.out.write(`Started the EC2 emulator: ${choice.name} (${choice.why}) at ${endpoint}\n`);
    }
    const ec2 = emulatorClient(endpoint as string);
    await seedDemoAccount(ec2);
    const result = await synth({ stack: "dev" });
    const [archiveFiles] = Object.values(result.archives);
    const archive = unpackArchive(archiveFiles);
    removeArchive = archive.remove;
    const environment: Record<string, string> = findResource("aws:lambda/function:Function").inputs
      .environment.variables;
    // The ledger the stack would create beside the function (proof of authorship for expiry).
    await createLedgerTable(endpoint as string, environment.LEDGER_TABLE, result.config["aws:region"]);
    io.out.write(
      `Synthesized stack dev: ${result.resources.length} resources; the function's archive is ${Object.keys(archiveFiles).join(", ")}\n` +
        `Environment: ${JSON.stringify(environment)}\n\n`,
    );
    // Asynchronously: the embedded emulator answers from this process while the function runs.
    const invoke = (): Promise<Invocation> =>
      invokeArchiveAsync([process.execPath], archive.dir, Object.values(result.layers)[0].dir, {
        AWS_REGION: result.config["aws:region"],
        AWS_ENDPOINT_URL: endpoint as string,
        AWS_ACCESS_KEY_ID: "demo",
        AWS_SECRET_ACCESS_KEY: "demo",
        AWS_LAMBDA_FUNCTION_NAME: String(result.outputs.functionName),
        ...environment,
      });

    const before = await tagsById(ec2);
    const first = await invoke();
    if (!first.ok) {
      throw new Error(`the function failed: ${first.error?.message}`);
    }
    const after = await tagsById(ec2);
    io.out.write(`First run (a scheduled EventBridge event):\n\n${formatTagTable(before, after)}\n\n`);
    io.out.write(`Response:\n${JSON.stringify(first.response, null, 2)}\n\n`);

    const second = await invoke();
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
