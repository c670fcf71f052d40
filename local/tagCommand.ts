// `npm run tag -- [--region R] [--retention-days N] [--dry-run] [--json] [--endpoint URL|embedded]`
// Runs the Lambda's tagger core from a workstation with the standard AWS credential chain, or
// against an emulator (`--endpoint`, or AWS_ENDPOINT_URL); `--endpoint embedded` starts this
// project's own emulator holding the demo's account, for a try without AWS or Python.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { parseArgs } from "node:util";
import { CLIENT_CONFIG, bound, createEc2Client } from "../handler/awsClients";
import { createRunDeadline } from "../handler/deadline";
import { safetyMarginMs } from "../handler/lambdaHandler";
import { dynamoLedger } from "../handler/ledger";
import { jsonLogger, type Logger } from "../handler/ports";
import { buildResponse, type TaggerResponse } from "../handler/response";
import { describeError } from "../handler/errors";
import { startDemoEmbedded } from "./demoAccount";
import type { Emulator } from "./emulators";
import { createLedgerTable } from "./ledgerTable";
import { regionProblem } from "../infra/regions";
import { tagBackups, type Progress, type TagReport } from "../handler/tagger";
import {
  MAX_RETENTION_DAYS,
  MIN_RETENTION_DAYS,
  extraTagProblems,
  isRetentionDays,
} from "../handler/tagRules";

export const USAGE = `usage: npm run tag -- [--region R] [--retention-days N] [--extra-tags JSON] [--ledger-table NAME] [--timeout SECONDS] [--dry-run] [--json] [--endpoint URL]

  --region R            AWS region (default: AWS_REGION or AWS_DEFAULT_REGION)
  --retention-days N    days from first tagging to DeleteOn, ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS} (default 90)
  --extra-tags JSON     tags added where absent, e.g. '{"Owner":"infra"}' (default none)
  --ledger-table NAME   the stack's ledger (<prefix>-ledger): record what this run dates, so the
                        stack's expiry may delete it later; needs the function role's credentials.
                        Without it, what this run dates carries no proof and is never expired.
  --timeout SECONDS     stop as the Lambda would at its timeout: calls in flight are cut at the
                        safety margin and the run reports complete: false (default: no limit)
  --dry-run             plan and report, write nothing
  --json                print exactly the Lambda's response on stdout, logs on stderr
  --endpoint URL        EC2 endpoint, e.g. an emulator (default: AWS_ENDPOINT_URL or AWS)
  --endpoint embedded   this project's own emulator, started here with the demo's account: no AWS
                        account, credentials or Python needed (region default us-east-1)`;

/** The --endpoint value that starts the embedded emulator with the demo's account. */
export const EMBEDDED = "embedded";

export interface Io {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
}

interface Options {
  region: string;
  retentionDays: number;
  extraTags: Record<string, string>;
  dryRun: boolean;
  json: boolean;
  endpoint?: string;
  ledgerTable?: string;
  /** Seconds, like the function's timeout; undefined for no limit. */
  timeoutSeconds?: number;
}

/** The options, or the lines of a usage error. */
export function parseOptions(argv: string[], env: Io["env"]): Options | { errors: string[] } {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        region: { type: "string" },
        "retention-days": { type: "string" },
        "extra-tags": { type: "string" },
        "dry-run": { type: "boolean" },
        json: { type: "boolean" },
        endpoint: { type: "string" },
        "ledger-table": { type: "string" },
        timeout: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return { errors: [(error as Error).message] };
  }
  const errors: string[] = [];
  const endpoint = values.endpoint as string | undefined;
  // The embedded emulator is not in any region; it needs one only for the SDK to sign with.
  const region =
    (values.region as string | undefined) ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    (endpoint === EMBEDDED ? "us-east-1" : undefined);
  if (!region) {
    errors.push("no region: pass --region or set AWS_REGION");
  } else if (regionProblem(region)) {
    errors.push(`--region ${JSON.stringify(region)}: ${regionProblem(region)}`);
  }
  const daysText = (values["retention-days"] as string | undefined) ?? "90";
  const retentionDays = Number(daysText);
  if (!/^\d+$/.test(daysText) || !isRetentionDays(retentionDays)) {
    errors.push(
      `--retention-days ${JSON.stringify(daysText)}: must be an integer from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}`,
    );
  }
  let extraTags: Record<string, string> = {};
  const tagsText = values["extra-tags"] as string | undefined;
  if (tagsText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(tagsText);
    } catch {
      parsed = undefined;
    }
    const problems =
      parsed === undefined ? ["must be a JSON object of tag key to string value"] : extraTagProblems(parsed);
    if (problems.length > 0) {
      errors.push(`--extra-tags ${JSON.stringify(tagsText)}: ${problems.join(", ")}`);
    } else {
      extraTags = parsed as Record<string, string>;
    }
  }
  if (endpoint !== undefined && endpoint !== EMBEDDED && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
    errors.push(`--endpoint ${JSON.stringify(endpoint)}: must be an http(s) URL, or ${EMBEDDED}`);
  }
  const ledgerTable = values["ledger-table"] as string | undefined;
  if (ledgerTable !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(ledgerTable)) {
    errors.push(
      `--ledger-table ${JSON.stringify(ledgerTable)}: must be a DynamoDB table name (3 to 255 of letters, digits, _ - .)`,
    );
  }
  const timeoutText = values.timeout as string | undefined;
  const timeoutSeconds = timeoutText === undefined ? undefined : Number(timeoutText);
  if (
    timeoutText !== undefined &&
    (!/^\d+$/.test(timeoutText) || (timeoutSeconds as number) < 10 || (timeoutSeconds as number) > 86_400)
  ) {
    errors.push(
      `--timeout ${JSON.stringify(timeoutText)}: must be a whole number of seconds from 10 to 86400`,
    );
  }
  if (errors.length > 0) {
    return { errors };
  }
  return {
    ledgerTable,
    timeoutSeconds,
    region: region as string,
    retentionDays,
    extraTags,
    dryRun: values["dry-run"] === true,
    json: values.json === true,
    endpoint,
  };
}

export function formatSummary(report: TagReport, response: TaggerResponse): string {
  const rows: [string, number, number][] = [
    ["listed", report.amis.listed, report.snapshots.listed],
    [report.dryRun ? "would tag" : "tagged", report.amis.tagged, report.snapshots.tagged],
    ["already ours", report.amis.unchanged, report.snapshots.unchanged],
    ["skipped (not ours)", report.amis.skipped, report.snapshots.skipped],
    ["failed", report.amis.failed, report.snapshots.failed],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [
    `${"".padEnd(width)}  ${"AMIs".padStart(9)}  ${"snapshots".padStart(9)}`,
    ...rows.map(
      ([label, a, s]) => `${label.padEnd(width)}  ${String(a).padStart(9)}  ${String(s).padStart(9)}`,
    ),
    "",
    `${response.message}. Retention ${report.retentionDays} days; new backups get DeleteOn=${report.deleteOn}.`,
  ];
  if (!report.complete) {
    lines.push(`Stopped early (${report.stopReason ?? "time"}): run again to finish.`);
  }
  for (const failure of report.failures) {
    lines.push(`  failed ${failure.id}: ${failure.code}: ${failure.message}`);
  }
  return lines.join("\n");
}

function progressLine(io: Io): (update: Progress) => void {
  return (update) => {
    const line = `${update.kind === "ami" ? "AMIs" : "snapshots"}: ${update.pages} pages, ${update.listed} listed, ${update.planned} to tag, ${update.tagged} tagged`;
    io.err.write(io.err.isTTY ? `\r${line.padEnd(78)}` : `${line}\n`);
  };
}

export async function main(argv: string[], io: Io): Promise<number> {
  const options = parseOptions(argv, io.env);
  if ("errors" in options) {
    io.err.write(`${options.errors.join("\n")}\n\n${USAGE}\n`);
    return 2;
  }
  // In --json mode every log line goes to stderr; otherwise only warnings and errors do.
  const jsonLog = jsonLogger((line) => io.err.write(`${line}\n`));
  const log: Logger = options.json
    ? jsonLog
    : { info: () => undefined, warn: jsonLog.warn, error: jsonLog.error };
  let embedded: Emulator | undefined;
  if (options.endpoint === EMBEDDED) {
    try {
      embedded = await startDemoEmbedded(options.region);
      if (options.ledgerTable) {
        await createLedgerTable(embedded.endpoint, options.ledgerTable, options.region);
      }
    } catch (error) {
      await embedded?.stop();
      io.err.write(`npm run tag failed: the embedded emulator did not start: ${(error as Error).message}\n`);
      return 1;
    }
    const started = `EC2 emulator: embedded (this project's own, in this process) at ${embedded.endpoint}, holding the demo's account`;
    if (options.json) {
      log.info(started);
    } else {
      io.err.write(`${started}\n`);
    }
  }
  const endpoint = embedded?.endpoint ?? options.endpoint;
  const where = {
    region: options.region,
    ...(endpoint ? { endpoint } : {}),
    // Nothing checks them; the SDK signs with them.
    ...(embedded ? { credentials: { accessKeyId: "embedded", secretAccessKey: "embedded" } } : {}),
  };
  // As in Lambda: every call bounded per attempt and, with --timeout, by the run's deadline.
  const deadline = createRunDeadline();
  const timeoutMs = (options.timeoutSeconds ?? Number.POSITIVE_INFINITY) * 1000;
  const endsAt = Date.now() + timeoutMs;
  const remainingMs = () => endsAt - Date.now();
  const margin = Number.isFinite(timeoutMs) ? safetyMarginMs(timeoutMs) : 0;
  if (Number.isFinite(timeoutMs)) {
    deadline.start(endsAt - margin);
  }
  const ec2 = createEc2Client(where, deadline);
  const db = options.ledgerTable
    ? bound(new DynamoDBClient({ ...CLIENT_CONFIG, ...where }), deadline)
    : undefined;
  const ledger = db && dynamoLedger(db, options.ledgerTable as string, options.region);

  if (!ledger && !options.dryRun) {
    const warning =
      "No --ledger-table: backups this run dates carry no proof that the stack dated them, so the stack's expiry will never delete them.";
    if (options.json) {
      log.warn(warning);
    } else {
      io.err.write(`${warning}\n`);
    }
  }
  try {
    const report = await tagBackups(
      {
        ec2,
        clock: () => new Date(),
        log,
        remainingMs,
        progress: options.json ? undefined : progressLine(io),
        ledger,
      },
      {
        retentionDays: options.retentionDays,
        extraTags: options.extraTags,
        dryRun: options.dryRun,
        safetyMarginMs: margin,
      },
    );
    const response = buildResponse(report);
    if (options.json) {
      io.out.write(`${JSON.stringify(response, null, 2)}\n`);
    } else {
      io.err.write(io.err.isTTY ? "\n" : "");
      io.out.write(`${formatSummary(report, response)}\n`);
    }
    return report.failureCount > 0 || !report.complete ? 1 : 0;
  } catch (error) {
    const { code, message } = describeError(error);
    const text = `npm run tag failed: ${code}: ${message}`;
    log.error(text, { code });
    if (!options.json) {
      io.err.write(`${text}\n`);
    }
    return 1;
  } finally {
    ec2.destroy();
    db?.destroy();
    await embedded?.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2), { out: process.stdout, err: process.stderr, env: process.env }).then((code) => {
    process.exitCode = code;
  });
}
