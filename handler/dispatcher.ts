// Organization mode's dispatcher: run by the schedule, it lists the target accounts at run time
// (so an account created or moved since the last deployment is covered), and sends one SQS message
// per (account, region) to the worker's queue. `createDispatcher` is the CallbackFunction's
// callbackFactory: clients and settings are built once per cold start, never at module scope.
import {
  DescribeOrganizationCommand,
  OrganizationsClient,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
} from "@aws-sdk/client-organizations";
import { SQSClient, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { CLIENT_CONFIG, bound } from "./awsClients";
import { createRunDeadline } from "./deadline";
import { parseInvocation } from "./invocation";
import { safetyMarginMs, type LambdaContext } from "./lambdaHandler";
import { DISPATCHER_METRICS, organizationEmfLine, type DispatcherMetrics } from "./organizationMetrics";
import { parseDispatcherEnvironment, type DispatcherSettings } from "./organizationSettings";
import { selectTargets, targetMessages, walkOrganization, type OrgTreePorts } from "./organizationTargets";
import { jsonLogger, levelAtLeastInfo } from "./ports";
import { errorBody } from "./response";

/** SendMessageBatch takes at most 10 entries (SQS API reference). */
export const MAX_BATCH = 10;
/** Entries SQS refused for a reason of its own (not the sender's fault) are sent again this often. */
const SEND_ATTEMPTS = 3;
const MAX_LISTED = 50;

export interface BatchEntry {
  Id: string;
  MessageBody: string;
}
export interface BatchFailure {
  Id: string;
  Code?: string;
  Message?: string;
  SenderFault?: boolean;
}

export interface SendOutcome {
  sent: number;
  failed: { body: string; code: string; message: string }[];
}

/**
 * Sends every body, 10 a call. SendMessageBatch can succeed for some entries and fail for others
 * (its `Failed` list); those are tried again unless SQS says the sender is at fault. A call that
 * fails as a whole throws: the invocation fails, Lambda retries it, and targets already sent are
 * sent again, which the tagger, being idempotent, tolerates.
 */
export async function sendInBatches(
  send: (entries: BatchEntry[]) => Promise<BatchFailure[]>,
  bodies: readonly string[],
  pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<SendOutcome> {
  const outcome: SendOutcome = { sent: 0, failed: [] };
  for (let start = 0; start < bodies.length; start += MAX_BATCH) {
    let entries = bodies
      .slice(start, start + MAX_BATCH)
      .map((MessageBody, i) => ({ Id: String(start + i), MessageBody }));
    for (let attempt = 1; entries.length > 0; attempt++) {
      const failures = await send(entries);
      const failedIds = failures.map((f) => f.Id);
      outcome.sent += entries.filter((e) => !failedIds.includes(e.Id)).length;
      const retryable = failures.filter((f) => f.SenderFault !== true && attempt < SEND_ATTEMPTS);
      for (const failure of failures.filter((f) => !retryable.includes(f))) {
        outcome.failed.push({
          body: entries.find((e) => e.Id === failure.Id)?.MessageBody ?? "",
          code: failure.Code ?? "Unknown",
          message: failure.Message ?? "",
        });
      }
      entries = entries.filter((e) => retryable.some((f) => f.Id === e.Id));
      if (entries.length > 0) {
        await pause(100 * 2 ** attempt);
      }
    }
  }
  return outcome;
}

export interface DispatcherResponse {
  statusCode: 200;
  message: string;
  accounts_listed: number;
  accounts_skipped: number;
  targets: number;
  targets_dispatched: number;
  dispatch_failures: number;
  /** The first 50 skipped accounts and why. */
  skipped: { account: string; reason: string }[];
  /** includeAccounts not found under the configured units. */
  not_found: string[];
  dry_run?: boolean;
}

export type DispatcherHandler = (event: unknown, context: LambdaContext) => Promise<DispatcherResponse>;

function organizationPorts(client: OrganizationsClient): OrgTreePorts {
  return {
    async accountsIn(parentId) {
      const accounts: { id: string; state: string }[] = [];
      for await (const page of paginateListAccountsForParent({ client }, { ParentId: parentId })) {
        for (const account of page.Accounts ?? []) {
          if (account.Id) {
            // State replaces Status, which AWS retires in September 2026 (Organizations API reference).
            accounts.push({ id: account.Id, state: account.State ?? account.Status ?? "UNKNOWN" });
          }
        }
      }
      return accounts;
    },
    async unitsIn(parentId) {
      const units: string[] = [];
      for await (const page of paginateListOrganizationalUnitsForParent({ client }, { ParentId: parentId })) {
        units.push(...(page.OrganizationalUnits ?? []).flatMap((unit) => (unit.Id ? [unit.Id] : [])));
      }
      return units;
    },
  };
}

/** `clientOverrides` reach every AWS client (tests give endpoints); Pulumi calls the factory without arguments. */
export function createDispatcher(clientOverrides: Record<string, unknown> = {}): DispatcherHandler {
  const writeLine = (line: string) => void process.stdout.write(`${line}\n`);
  const logLevel = process.env.AWS_LAMBDA_LOG_LEVEL ?? "INFO";
  const log = jsonLogger(writeLine, {}, logLevel);
  const summaryLevel = levelAtLeastInfo(logLevel);
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "unknown";
  let settings: DispatcherSettings | undefined;
  let setupError: unknown;
  try {
    settings = parseDispatcherEnvironment(process.env);
  } catch (error) {
    setupError = error;
  }
  const deadline = createRunDeadline();
  const config = { ...CLIENT_CONFIG, ...clientOverrides };
  const organizations = bound(new OrganizationsClient(config), deadline);
  const sqs = bound(new SQSClient(config), deadline);
  const metricsLine = (metrics: DispatcherMetrics) =>
    organizationEmfLine(
      (settings as DispatcherSettings).metricsNamespace,
      functionName,
      DISPATCHER_METRICS,
      metrics,
      Date.now(),
      summaryLevel,
    );

  return async (event, context) => {
    try {
      if (settings === undefined) {
        throw setupError;
      }
      const current = settings;
      // Checked before any work: a bad payload sends nothing.
      const options = parseInvocation(event);
      const remainingMs = context.getRemainingTimeInMillis();
      deadline.start(Date.now() + remainingMs - safetyMarginMs(remainingMs));

      const tree = await walkOrganization(
        organizationPorts(organizations),
        current.units,
        current.excludeUnits,
      );
      const organization = await organizations.send(new DescribeOrganizationCommand({}));
      const selection = selectTargets(tree.accounts, {
        includeAccounts: current.includeAccounts,
        excludeAccounts: current.excludeAccounts,
        regions: current.regions,
        managementAccountId: organization.Organization?.MasterAccountId,
      });
      if (selection.notFound.length > 0) {
        log.warn(
          "includeAccounts lists accounts not found under the configured units; they are not covered",
          {
            accounts: selection.notFound,
          },
        );
      }
      if (selection.skipped.length > 0) {
        log.info("accounts skipped", {
          count: selection.skipped.length,
          accounts: selection.skipped.slice(0, MAX_LISTED),
        });
      }
      const outcome = await sendInBatches(
        async (entries) => {
          const answer = await sqs.send(
            new SendMessageBatchCommand({ QueueUrl: current.queueUrl, Entries: entries }),
          );
          return (answer.Failed ?? []).map((f) => ({
            Id: f.Id ?? "",
            Code: f.Code,
            Message: f.Message,
            SenderFault: f.SenderFault,
          }));
        },
        targetMessages(selection.targets, options),
      );
      if (outcome.failed.length > 0) {
        log.error("targets SQS would not take; they are not covered this sweep", {
          count: outcome.failed.length,
          targets: outcome.failed.slice(0, MAX_LISTED),
        });
      }

      const accounts = tree.accounts.length;
      const response: DispatcherResponse = {
        statusCode: 200,
        message: `Dispatched ${outcome.sent} of ${selection.targets.length} targets (${accounts - selection.skipped.length} accounts x ${current.regions.length} regions)`,
        accounts_listed: accounts,
        accounts_skipped: selection.skipped.length,
        targets: selection.targets.length,
        targets_dispatched: outcome.sent,
        dispatch_failures: outcome.failed.length,
        skipped: selection.skipped.slice(0, MAX_LISTED),
        not_found: selection.notFound,
        ...(options.dryRun === undefined ? {} : { dry_run: options.dryRun }),
      };
      writeLine(
        JSON.stringify({
          timestamp: new Date().toISOString(),
          level: summaryLevel,
          ...response,
          unitsVisited: tree.unitsVisited,
          unitsExcluded: tree.unitsExcluded,
        }),
      );
      writeLine(
        metricsLine({
          AccountsListed: accounts,
          AccountsSkipped: selection.skipped.length,
          TargetsDispatched: outcome.sent,
          DispatchFailures: outcome.failed.length,
        }),
      );
      return response;
    } catch (error) {
      const body = errorBody(error);
      log.error(body.message, body);
      if (settings !== undefined) {
        writeLine(
          metricsLine({ AccountsListed: 0, AccountsSkipped: 0, TargetsDispatched: 0, DispatchFailures: 1 }),
        );
      }
      // Rethrown so Lambda records an error: the Errors metric, async retries and alarms need it.
      throw error;
    }
  };
}
