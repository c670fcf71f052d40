// The ledger: a DynamoDB table that only the function's role may write (the stack gives it a
// resource policy denying every other writer). Each CreateTags batch that dates resources is
// recorded first, as {batch id, scope, Retention, DeleteOn, resource IDs}; expiry deletes a backup
// only if the entry its RetentionBatch tag names vouches for it (proof.ts). Entries are never
// changed once written, and DynamoDB's TTL removes them 400 days after their DeleteOn (or after
// the day they were written, when that is later).
import {
  BatchGetItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { dayNumber } from "./dates";
import type { LedgerEntry } from "./proof";

/**
 * An entry outlives its DeleteOn (or the day it was written, if later) by the longest grace
 * (365 days) and a month of missed runs.
 */
export const ENTRY_KEEP_DAYS = 400;
/** BatchGetItem takes at most 100 keys. */
const MAX_KEYS_PER_READ = 100;
const READ_ATTEMPTS = 5;

export interface NewEntry {
  batchId: string;
  retention: string;
  deleteOn: string;
  ids: string[];
}

export interface Ledger {
  readonly scope: string;
  /** Records a batch before its tags are written; throws when it cannot. */
  record(entry: NewEntry): Promise<void>;
  /** The entries of these batches; a batch without one is absent. Throws when it cannot read. */
  fetch(batchIds: string[], consistent?: boolean): Promise<Map<string, LedgerEntry>>;
  /** Small named values the run keeps between runs (the notice watermark). */
  readState(name: string): Promise<string | undefined>;
  writeState(name: string, value: string): Promise<void>;
}

/** A fresh batch ID: random, so nobody can predict the next entry. */
export function newBatchId(): string {
  return randomUUID();
}

const BATCH_PREFIX = "batch#";
const STATE_PREFIX = "state#";

function toEntry(item: Record<string, AttributeValue>): LedgerEntry | undefined {
  const pk = item.pk?.S;
  if (!pk?.startsWith(BATCH_PREFIX) || !item.scope?.S || !item.retention?.S || !item.deleteOn?.S) {
    return undefined;
  }
  return {
    batchId: pk.slice(BATCH_PREFIX.length),
    scope: item.scope.S,
    retention: item.retention.S,
    deleteOn: item.deleteOn.S,
    ids: new Set(item.ids?.SS ?? []),
  };
}

export function dynamoLedger(
  db: DynamoDBClient,
  table: string,
  scope: string,
  clock: () => Date = () => new Date(),
): Ledger {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    scope,
    async record(entry) {
      const day = dayNumber(entry.deleteOn);
      if (day === undefined || entry.ids.length === 0) {
        throw new Error(
          `refusing to record a batch with DeleteOn ${entry.deleteOn} and ${entry.ids.length} IDs`,
        );
      }
      const recordedAt = clock();
      // Counted from DeleteOn, or from today when DeleteOn is already past (deleteOnFrom: creation
      // dates old backups in the past): DynamoDB may remove an item whose TTL has passed at any
      // time, and an entry gone before expiry reads it would leave its backups undeletable.
      const keepFrom = Math.max(day, Math.floor(recordedAt.getTime() / 86_400_000));
      await db.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            pk: { S: `${BATCH_PREFIX}${entry.batchId}` },
            scope: { S: scope },
            retention: { S: entry.retention },
            deleteOn: { S: entry.deleteOn },
            ids: { SS: entry.ids },
            recordedAt: { S: recordedAt.toISOString() },
            expiresAt: { N: String((keepFrom + ENTRY_KEEP_DAYS) * 86_400) },
          },
          // Entries are immutable: a batch ID is written once.
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    },
    async fetch(batchIds, consistent = false) {
      const found = new Map<string, LedgerEntry>();
      for (let start = 0; start < batchIds.length; start += MAX_KEYS_PER_READ) {
        let keys: Record<string, AttributeValue>[] = batchIds
          .slice(start, start + MAX_KEYS_PER_READ)
          .map((id) => ({ pk: { S: `${BATCH_PREFIX}${id}` } }));
        // BatchGetItem may answer part of a request and return the rest as UnprocessedKeys.
        for (let attempt = 1; keys.length > 0; attempt++) {
          if (attempt > READ_ATTEMPTS) {
            throw new Error(`the ledger left ${keys.length} keys unread after ${READ_ATTEMPTS} attempts`);
          }
          const answer = await db.send(
            new BatchGetItemCommand({
              RequestItems: { [table]: { Keys: keys, ConsistentRead: consistent } },
            }),
          );
          for (const item of answer.Responses?.[table] ?? []) {
            const entry = toEntry(item);
            if (entry) {
              found.set(entry.batchId, entry);
            }
          }
          keys = answer.UnprocessedKeys?.[table]?.Keys ?? [];
          if (keys.length > 0) {
            await sleep(50 * 2 ** attempt);
          }
        }
      }
      return found;
    },
    async readState(name) {
      const answer = await db.send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: { S: `${STATE_PREFIX}${scope}#${name}` } },
          ConsistentRead: true,
        }),
      );
      return answer.Item?.value?.S;
    },
    async writeState(name, value) {
      await db.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: `${STATE_PREFIX}${scope}#${name}` }, value: { S: value } },
        }),
      );
    },
  };
}
