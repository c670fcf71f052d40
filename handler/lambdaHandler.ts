// The Lambda entry point. `createHandler` is the CallbackFunction's callbackFactory: Pulumi
// serializes it, and it runs once per cold start, so the SDK client and the parsed environment are
// built here, never at module scope (the serializer would capture them by value).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { CLIENT_CONFIG, bound, createEc2Client } from "./awsClients";
import { createRunDeadline } from "./deadline";
import { dynamoLedger } from "./ledger";
import { parseInvocation } from "./invocation";
import { FAILED_RUN, emfLine, type RunMetrics } from "./metrics";
import { jsonLogger, levelAtLeastInfo } from "./ports";
import { buildResponse, errorBody, type TaggerResponse } from "./response";
import { parseEnvironment, type HandlerSettings } from "./settings";
import { tagBackups, type TagReport } from "./tagger";
import { tuningFor } from "./tuning";

/** The part of Lambda's context object the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export type TaggerHandler = (event: unknown, context: LambdaContext) => Promise<TaggerResponse>;

/** Leave 10% of the run's time, between 1 and 30 seconds, for the last call and the summary. */
export function safetyMarginMs(initialRemainingMs: number): number {
  return Math.min(30_000, Math.max(1_000, Math.floor(initialRemainingMs * 0.1)));
}

export function runMetrics(report: TagReport, response: TaggerResponse): RunMetrics {
  return {
    AmisTagged: response.amis_tagged,
    SnapshotsTagged: response.snapshots_tagged,
    ResourcesSkipped: report.amis.skipped + report.snapshots.skipped,
    TagFailures: report.failureCount,
    RunComplete: report.complete ? 1 : 0,
    ResourcesListed: report.amis.listed + report.snapshots.listed,
    AmisDeregistered: response.amis_deregistered,
    SnapshotsDeleted: response.snapshots_deleted,
    DeletionFailures: response.deletion_failures,
    UnprovenBackups: response.amis_unproven + response.snapshots_unproven,
    BackupsDueSoon: response.amis_due_soon + response.snapshots_due_soon,
    DeletionsSkipped: response.deletion_skipped,
    // 1 while a full pass over every snapshot completed within the sweep period.
    SweepComplete: response.full_pass_within_sweep ? 1 : 0,
    DeletionBacklog: response.deletion_backlog,
    FilterCheckFailures: response.filter_check_failures,
  };
}

/**
 * `clientOverrides` reach every AWS client (tests give a stub requestHandler); Pulumi calls the
 * factory without arguments.
 */
/** A JSON log line at a given level, for the summary that must pass any log-level filter. */
function summaryLine(level: string, message: string, fields: Record<string, unknown>): string {
  return JSON.stringify({ timestamp: new Date().toISOString(), level, message, ...fields });
}

export function createHandler(clientOverrides: Record<string, unknown> = {}): TaggerHandler {
  // Straight to stdout, one JSON object a line: with Lambda's JSON log format, console.* output
  // would be wrapped again, and EMF lines must reach CloudWatch Logs as they are.
  const writeLine = (line: string) => void process.stdout.write(`${line}\n`);
  const logLevel = process.env.AWS_LAMBDA_LOG_LEVEL ?? "INFO";
  const log = jsonLogger(writeLine, {}, logLevel);
  // The run's summary and its EMF line carry a level Lambda's filter lets through at any setting:
  // a line without one counts as INFO and is dropped under WARN, and the alarms would go blind.
  const summaryLevel = levelAtLeastInfo(logLevel);
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "unknown";
  let settings: HandlerSettings | undefined;
  let setupError: unknown;
  try {
    settings = parseEnvironment(process.env);
  } catch (error) {
    setupError = error;
  }
  // Every call of every client is bounded by the current run's deadline.
  const deadline = createRunDeadline();
  const config = { ...CLIENT_CONFIG, ...clientOverrides };
  const ec2 = createEc2Client(clientOverrides, deadline);
  // Proof is bound to the region the function runs in: an entry never vouches for another region.
  const region = process.env.AWS_REGION ?? "";
  const ledger =
    settings && dynamoLedger(bound(new DynamoDBClient(config), deadline), settings.ledgerTable, region);
  const sns = settings?.noticeTopicArn ? bound(new SNSClient(config), deadline) : undefined;
  const notify =
    sns &&
    (async (subject: string, body: string) => {
      await sns.send(
        new PublishCommand({ TopicArn: settings?.noticeTopicArn, Subject: subject, Message: body }),
      );
    });

  return async (event, context) => {
    try {
      if (settings === undefined) {
        throw setupError;
      }
      // Checked before any work: a bad payload writes nothing.
      const options = parseInvocation(event);
      const remainingMs = () => context.getRemainingTimeInMillis();
      const margin = safetyMarginMs(remainingMs());
      // Calls in flight when the margin is reached are aborted, so the answer below always fits.
      deadline.start(Date.now() + remainingMs() - margin);
      const report = await tagBackups(
        { ec2, clock: () => new Date(), log, remainingMs, ledger, notify },
        {
          ...settings,
          ...options,
          safetyMarginMs: margin,
          // Lambda sets the function's memory here; concurrency follows the CPU it buys.
          tuning: tuningFor(Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) || undefined),
        },
      );
      const response = buildResponse(report);
      writeLine(summaryLine(summaryLevel, response.message, { ...response }));
      writeLine(
        emfLine(
          settings.metricsNamespace,
          functionName,
          runMetrics(report, response),
          Date.now(),
          summaryLevel,
        ),
      );
      return response;
    } catch (error) {
      const body = errorBody(error);
      log.error(body.message, body);
      if (settings !== undefined) {
        writeLine(emfLine(settings.metricsNamespace, functionName, FAILED_RUN, Date.now(), summaryLevel));
      }
      // Rethrown so Lambda records an error: the Errors metric, async retries and alarms need it.
      throw error;
    }
  };
}
