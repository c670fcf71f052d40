// The Lambda entry point. `createHandler` is the CallbackFunction's callbackFactory: Pulumi
// serializes it, and it runs once per cold start, so the SDK client and the parsed environment are
// built here, never at module scope (the serializer would capture them by value).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { createEc2Client } from "./ec2Client";
import { dynamoLedger } from "./ledger";
import { parseInvocation } from "./invocation";
import { FAILED_RUN, emfLine, type RunMetrics } from "./metrics";
import { jsonLogger } from "./ports";
import { buildResponse, errorBody, type TaggerResponse } from "./response";
import { parseEnvironment, type HandlerSettings } from "./settings";
import { tagBackups, type TagReport } from "./tagger";

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
  };
}

export function createHandler(): TaggerHandler {
  // Straight to stdout, one JSON object a line: with Lambda's JSON log format, console.* output
  // would be wrapped again, and EMF lines must reach CloudWatch Logs as they are.
  const writeLine = (line: string) => void process.stdout.write(`${line}\n`);
  const log = jsonLogger(writeLine, {}, process.env.AWS_LAMBDA_LOG_LEVEL ?? "INFO");
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "unknown";
  let settings: HandlerSettings | undefined;
  let setupError: unknown;
  try {
    settings = parseEnvironment(process.env);
  } catch (error) {
    setupError = error;
  }
  const ec2 = createEc2Client();
  // Proof is bound to the region the function runs in: an entry never vouches for another region.
  const region = process.env.AWS_REGION ?? "";
  const ledger = settings && dynamoLedger(new DynamoDBClient({}), settings.ledgerTable, region);
  const sns = settings?.noticeTopicArn ? new SNSClient({}) : undefined;
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
      const report = await tagBackups(
        { ec2, clock: () => new Date(), log, remainingMs, ledger, notify },
        { ...settings, ...options, safetyMarginMs: safetyMarginMs(remainingMs()) },
      );
      const response = buildResponse(report);
      log.info(response.message, { ...response });
      writeLine(emfLine(settings.metricsNamespace, functionName, runMetrics(report, response), Date.now()));
      return response;
    } catch (error) {
      const body = errorBody(error);
      log.error(body.message, body);
      if (settings !== undefined) {
        writeLine(emfLine(settings.metricsNamespace, functionName, FAILED_RUN, Date.now()));
      }
      // Rethrown so Lambda records an error: the Errors metric, async retries and alarms need it.
      throw error;
    }
  };
}
