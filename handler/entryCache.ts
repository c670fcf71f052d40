// Ledger entries a run has read, by batch ID. Entries never change once written, so each is read
// once a run, before the page that names it is decided.
import type { Ledger } from "./ledger";
import type { Logger } from "./ports";
import type { EntryLookup, LedgerEntry } from "./proof";
import { describeError } from "./errors";

export interface EntryCache {
  /** Reads the entries not yet known; a failure leaves them unknown for the run, never throws. */
  load(batchIds: string[]): Promise<void>;
  lookup: EntryLookup;
  /** Ledger read calls made (each up to 100 entries). */
  readonly reads: number;
}

/** Without a ledger nothing is proven: every lookup finds no entry. */
export function createEntryCache(ledger: Ledger | undefined, log: Logger): EntryCache {
  const known = new Map<string, LedgerEntry | null>();
  const unreadable = new Set<string>();
  let reads = 0;
  let warned = false;
  return {
    async load(batchIds) {
      const wanted = batchIds.filter((id) => !known.has(id) && !unreadable.has(id));
      if (ledger === undefined || wanted.length === 0) {
        return;
      }
      try {
        reads += Math.ceil(wanted.length / 100);
        const found = await ledger.fetch(wanted);
        for (const id of wanted) {
          known.set(id, found.get(id) ?? null);
        }
      } catch (error) {
        wanted.forEach((id) => unreadable.add(id));
        if (!warned) {
          warned = true;
          log.warn(
            "the ledger could not be read; backups it would vouch for are neither re-dated nor deleted this run",
            {
              ...describeError(error),
              batches: wanted.length,
            },
          );
        }
      }
    },
    lookup(batchId) {
      if (ledger === undefined) {
        return null;
      }
      return unreadable.has(batchId) ? undefined : known.get(batchId);
    },
    get reads() {
      return reads;
    },
  };
}
