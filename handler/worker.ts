// Organization mode's worker: fed by the targets queue, one (account, region) per message. For each
// it assumes the member role and runs the single-account tagger core (tagBackups, expiry and all)
// with the hub's ledger bound to that account and region. `createWorker` is the CallbackFunction's
// callbackFactory: clients and settings are built once per cold start, never at module scope.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { CLIENT_CONFIG, bound, createEc2Client } from "./awsClients";
import { createRunDeadline } from "./deadline";
import { describeError } from "./errors";
import { runMetrics, safetyMarginMs, type LambdaContext } from "./lambdaHandler";
import { dynamoLedger, type Ledger } from "./ledger";
import {
  TARGET_RESULT,
  WORKER_METRICS,
  organizationEmfLine,
  type WorkerMetrics,
} from "./organizationMetrics";
import { parseWorkerEnvironment, type WorkerSettings } from "./organizationSettings";
import { parseTargetMessage, type Target, type TargetMessage } from "./organizationTargets";
import { jsonLogger, levelAtLeastInfo, type Clock, type Logger, type RemainingTime } from "./ports";
import { buildResponse, errorBody } from "./response";
import { tagBackups, type TaggerSettings } from "./tagger";
import { tuningFor } from "./tuning";

/** Temporary credentials of the member role. */
export interface MemberCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date;
}

export interface TargetPorts {
  /** The member role's credentials in the target's account; throws when it cannot be assumed. */
  assume(target: Target): Promise<MemberCredentials>;
  /** An EC2 client for the target's region with those credentials; destroyed after the run. */
  ec2For(target: Target, credentials: MemberCredentials): EC2Client;
  /** The hub's ledger with every entry bound to "<account>/<region>". */
  ledgerFor(target: Target): Ledger;
  clock: Clock;
  /** The target's logger: its lines carry the account and region. */
  log: Logger;
  remainingMs: RemainingTime;
  notify?: (subject: string, body: string) => Promise<void>;
}

/** What one target's run came to: the per-target log line, without its timestamp and level. */
export interface TargetResult extends Target {
  complete: boolean;
  /** The target's sweep completed a full pass over its snapshots within the sweep period. */
  fullPassWithinSweep: boolean;
  /** Due backups the target's expiry left for later runs. */
  deletionBacklog: number;
  /** The run could not be made (role not assumable, listing refused): SQS should redeliver it. */
  failed: boolean;
  errorCode?: string;
  error?: string;
  stopReason?: string;
  dryRun: boolean;
  durationMs: number;
  amisTagged: number;
  snapshotsTagged: number;
  resourcesListed: number;
  resourcesSkipped: number;
  tagFailures: number;
  /** The first few resources that could not be tagged: id, code, message. */
  failures: { id: string; code: string; message: string }[];
  amisDeregistered: number;
  snapshotsDeleted: number;
  deletionFailures: number;
  unprovenBackups: number;
}

const LISTED_FAILURES = 10;

/** The ledger scope of a target: proof.ts accepts an entry only in the scope it was written for. */
export function targetScope(target: Target): string {
  return `${target.account}/${target.region}`;
}

/**
 * The hub's ledger as one target's run sees it. Everything the tagger core keeps there is under the
 * target's scope: the proof entries it writes, and the small state it carries from run to run
 * (readState/writeState: the deletion notice's watermark, the sweep's place and the deletion
 * backlog), so each (account, region) goes on from its own state, never another's.
 */
export function targetLedger(db: DynamoDBClient, table: string, target: Target): Ledger {
  return dynamoLedger(db, table, targetScope(target));
}

function emptyResult(target: TargetMessage, dryRun: boolean): TargetResult {
  return {
    account: target.account,
    region: target.region,
    complete: false,
    fullPassWithinSweep: false,
    deletionBacklog: 0,
    failed: false,
    dryRun,
    durationMs: 0,
    amisTagged: 0,
    snapshotsTagged: 0,
    resourcesListed: 0,
    resourcesSkipped: 0,
    tagFailures: 0,
    failures: [],
    amisDeregistered: 0,
    snapshotsDeleted: 0,
    deletionFailures: 0,
    unprovenBackups: 0,
  };
}

/**
 * One target's whole run: assume the member role, then the tagger core, unchanged. Never throws:
 * anything thrown is the target's failure, reported, and the other targets of the batch go on.
 *
 * Continuation: a run that ends with `complete: false` is reported and its message deleted; the
 * next sweep runs the target again. The tagger core gets `ports.ledgerFor(target)`, scoped to
 * "<account>/<region>" (targetLedger), as its only store between runs: the sweep keeps its place
 * there, so the next dispatch resumes each target where that target stopped, never from the start.
 */
export async function runTarget(
  target: TargetMessage,
  ports: TargetPorts,
  settings: TaggerSettings,
): Promise<TargetResult> {
  const dryRun = target.dryRun ?? settings.dryRun;
  const result = emptyResult(target, dryRun);
  const started = ports.clock().getTime();
  try {
    const credentials = await ports.assume(target);
    const ec2 = ports.ec2For(target, credentials);
    try {
      const report = await tagBackups(
        {
          ec2,
          clock: ports.clock,
          log: ports.log,
          remainingMs: ports.remainingMs,
          ledger: ports.ledgerFor(target),
          notify: ports.notify,
        },
        {
          ...settings,
          dryRun,
          tuning: tuningFor(Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) || undefined),
        },
      );
      const response = buildResponse(report);
      const metrics = runMetrics(report, response);
      Object.assign(result, {
        complete: report.complete,
        fullPassWithinSweep: response.full_pass_within_sweep,
        deletionBacklog: response.deletion_backlog,
        ...(report.stopReason ? { stopReason: report.stopReason } : {}),
        amisTagged: metrics.AmisTagged,
        snapshotsTagged: metrics.SnapshotsTagged,
        resourcesListed: metrics.ResourcesListed,
        resourcesSkipped: metrics.ResourcesSkipped,
        tagFailures: metrics.TagFailures,
        failures: report.failures.slice(0, LISTED_FAILURES),
        amisDeregistered: metrics.AmisDeregistered,
        snapshotsDeleted: metrics.SnapshotsDeleted,
        deletionFailures: metrics.DeletionFailures,
        unprovenBackups: metrics.UnprovenBackups,
      });
    } finally {
      ec2.destroy();
    }
  } catch (error) {
    const { code, message } = describeError(error);
    Object.assign(result, { failed: true, complete: false, errorCode: code, error: message });
  }
  result.durationMs = ports.clock().getTime() - started;
  return result;
}

/** The organization-wide totals one invocation adds: no account or region in them. */
export function workerMetrics(results: readonly TargetResult[], invalidMessages = 0): WorkerMetrics {
  const sum = (pick: (r: TargetResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  return {
    TargetsProcessed: results.length + invalidMessages,
    TargetsFailed: results.filter((r) => r.failed).length + invalidMessages,
    // Not a run that stopped early (the sweep continues it), but a target whose sweep has not
    // completed a full pass within the sweep period.
    TargetsIncomplete: results.filter((r) => !r.fullPassWithinSweep).length + invalidMessages,
    AmisTagged: sum((r) => r.amisTagged),
    SnapshotsTagged: sum((r) => r.snapshotsTagged),
    ResourcesListed: sum((r) => r.resourcesListed),
    TagFailures: sum((r) => r.tagFailures),
    AmisDeregistered: sum((r) => r.amisDeregistered),
    SnapshotsDeleted: sum((r) => r.snapshotsDeleted),
    DeletionFailures: sum((r) => r.deletionFailures),
    UnprovenBackups: sum((r) => r.unprovenBackups),
  };
}

export interface SqsRecord {
  messageId: string;
  body: string;
}

/** The partial batch response: only these messages are redelivered (Lambda Developer Guide, SQS). */
export interface WorkerResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export type WorkerHandler = (event: unknown, context: LambdaContext) => Promise<WorkerResponse>;

/** The records of an SQS event; anything else is refused before any work. */
export function sqsRecords(event: unknown): SqsRecord[] {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (
    !Array.isArray(records) ||
    records.some(
      (r) =>
        typeof r !== "object" ||
        r === null ||
        typeof (r as SqsRecord).messageId !== "string" ||
        typeof (r as SqsRecord).body !== "string",
    )
  ) {
    const error = new Error(
      `Invalid invocation payload: the worker takes SQS events ({"Records":[{"messageId":...,"body":...}]}), got ${JSON.stringify(event)?.slice(0, 200)}`,
    );
    error.name = "InvalidPayload";
    throw error;
  }
  return (records as SqsRecord[]).map((r) => ({ messageId: r.messageId, body: r.body }));
}

/** `clientOverrides` reach every AWS client (tests give endpoints); Pulumi calls the factory without arguments. */
export function createWorker(clientOverrides: Record<string, unknown> = {}): WorkerHandler {
  const writeLine = (line: string) => void process.stdout.write(`${line}\n`);
  const logLevel = process.env.AWS_LAMBDA_LOG_LEVEL ?? "INFO";
  const log = jsonLogger(writeLine, {}, logLevel);
  // Per-target lines and the EMF line must pass Lambda's log-level filter at any setting.
  const summaryLevel = levelAtLeastInfo(logLevel);
  const failedLevel = summaryLevel === "FATAL" ? "FATAL" : "ERROR";
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "unknown";
  let settings: WorkerSettings | undefined;
  let setupError: unknown;
  try {
    settings = parseWorkerEnvironment(process.env);
  } catch (error) {
    setupError = error;
  }
  const deadline = createRunDeadline();
  const config = { ...CLIENT_CONFIG, ...clientOverrides };
  // The hub's own clients: STS to reach the members, DynamoDB for the hub's ledger.
  const sts = bound(new STSClient(config), deadline);
  const db = bound(new DynamoDBClient(config), deadline);
  const sns = settings?.noticeTopicArn ? bound(new SNSClient(config), deadline) : undefined;
  const notify =
    sns &&
    (async (subject: string, body: string) => {
      await sns.send(
        new PublishCommand({ TopicArn: settings?.noticeTopicArn, Subject: subject, Message: body }),
      );
    });

  const assume = async (target: Target): Promise<MemberCredentials> => {
    const current = settings as WorkerSettings;
    const answer = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:${current.partition}:iam::${target.account}:role/${current.memberRoleName}`,
        RoleSessionName: `ec2-backup-retention-${target.region}`,
        // The shortest session STS grants covers the longest Lambda run (15 minutes).
        DurationSeconds: 900,
      }),
    );
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
      throw new Error(`AssumeRole into ${target.account} returned no credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  };

  return async (event, context) => {
    try {
      if (settings === undefined) {
        throw setupError;
      }
      const current = settings;
      const records = sqsRecords(event);
      const remainingMs = () => context.getRemainingTimeInMillis();
      const margin = safetyMarginMs(remainingMs());
      deadline.start(Date.now() + remainingMs() - margin);
      // Per record, in the batch's order: true when SQS should deliver it again.
      const failed: boolean[] = records.map(() => false);
      const results: TargetResult[] = [];
      let invalid = 0;
      // A batch's targets are different accounts or regions, each with its own EC2 limits: in parallel.
      await Promise.all(
        records.map(async (record, index) => {
          const parsed = parseTargetMessage(record.body, current.regions);
          if (!parsed.ok) {
            invalid += 1;
            failed[index] = true;
            log.error("invalid target message; SQS redelivers it, then keeps it in the dead-letter queue", {
              messageId: record.messageId,
              problem: parsed.problem,
            });
            return;
          }
          const target = parsed.target;
          const result = await runTarget(
            target,
            {
              assume,
              ec2For: (t, credentials) =>
                createEc2Client({ ...clientOverrides, region: t.region, credentials }, deadline),
              ledgerFor: (t) => targetLedger(db, current.ledgerTable, t),
              clock: () => new Date(),
              log: jsonLogger(writeLine, { account: target.account, region: target.region }, logLevel),
              remainingMs,
              notify,
            },
            { ...current, safetyMarginMs: margin },
          );
          results.push(result);
          failed[index] = result.failed;
          writeLine(
            JSON.stringify({
              timestamp: new Date().toISOString(),
              level: result.failed ? failedLevel : summaryLevel,
              message: TARGET_RESULT,
              messageId: record.messageId,
              ...result,
            }),
          );
        }),
      );
      writeLine(
        organizationEmfLine(
          current.metricsNamespace,
          functionName,
          WORKER_METRICS,
          workerMetrics(results, invalid),
          Date.now(),
          summaryLevel,
        ),
      );
      return {
        batchItemFailures: records
          .filter((_, index) => failed[index])
          .map((record) => ({ itemIdentifier: record.messageId })),
      };
    } catch (error) {
      // The whole batch failed (bad environment or payload): Lambda retries every message.
      const body = errorBody(error);
      log.error(body.message, body);
      throw error;
    }
  };
}
