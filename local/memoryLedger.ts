// An in-memory ledger with the DynamoDB ledger's behaviour (entries written once, reads of up to
// 100 entries a call), for the tests, the benchmark and runs against an emulator without DynamoDB.
import type { Ledger, NewEntry } from "../handler/ledger";
import type { LedgerEntry } from "../handler/proof";

export class MemoryLedger implements Ledger {
  readonly entries = new Map<string, LedgerEntry>();
  readonly state = new Map<string, string>();
  /** Calls made: record (one per entry) and fetch (one per 100 batch IDs). */
  writes = 0;
  reads = 0;
  /** Set to make the next calls fail, as an unavailable or throttled table would. */
  failWrites = false;
  failReads = false;

  constructor(readonly scope = "us-east-1") {}

  async record(entry: NewEntry): Promise<void> {
    this.writes += 1;
    if (this.failWrites) {
      throw Object.assign(new Error("the ledger is unavailable"), { name: "ServiceUnavailable" });
    }
    if (this.entries.has(entry.batchId)) {
      throw Object.assign(new Error("The conditional request failed"), {
        name: "ConditionalCheckFailedException",
      });
    }
    this.entries.set(entry.batchId, { ...entry, scope: this.scope, ids: new Set(entry.ids) });
  }

  async fetch(batchIds: string[]): Promise<Map<string, LedgerEntry>> {
    this.reads += Math.ceil(batchIds.length / 100);
    if (this.failReads) {
      throw Object.assign(new Error("the ledger is unavailable"), { name: "ServiceUnavailable" });
    }
    const found = new Map<string, LedgerEntry>();
    for (const id of batchIds) {
      const entry = this.entries.get(id);
      if (entry) {
        found.set(id, entry);
      }
    }
    return found;
  }

  async readState(name: string): Promise<string | undefined> {
    return this.state.get(name);
  }

  async writeState(name: string, value: string): Promise<void> {
    this.state.set(name, value);
  }
}
