// Ledger entries a run has read, by batch ID. Entries never change once written, so each is read
// once a run, before the page that names it is decided, while the cache holds it: at most
// MAX_CACHED_ENTRIES (each names up to 1000 IDs), so memory stays flat on an account of a million
// snapshots; one evicted and named again costs one more ledger read, never an EC2 call.
import type { Ledger } from "./ledger";
import type { Logger } from "./ports";
import type { EntryLookup, LedgerEntry } from "./proof";
import { describeError } from "./errors";

export const MAX_CACHED_ENTRIES = 256;

export interface EntryCache {
  /**
   * Reads the entries not yet known; a failure leaves them unknown for the run, never throws.
   * Returns the lookup for exactly those batches, which eviction cannot take away while the page
   * that named them is decided.
   */
  load(batchIds: string[]): Promise<EntryLookup>;
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
      const page = new Map<string, LedgerEntry | null>();
      const pageLookup: EntryLookup = (batchId) => {
        if (ledger === undefined) {
          return null;
        }
        return unreadable.has(batchId)
          ? undefined
          : page.has(batchId)
            ? page.get(batchId)
            : known.get(batchId);
      };
      batchIds.forEach((id) => known.has(id) && page.set(id, known.get(id) ?? null));
      const wanted = batchIds.filter((id) => !known.has(id) && !unreadable.has(id));
      if (ledger === undefined || wanted.length === 0) {
        return pageLookup;
      }
      try {
        reads += Math.ceil(wanted.length / 100);
        const found = await ledger.fetch(wanted);
        for (const id of wanted) {
          const entry = found.get(id) ?? null;
          page.set(id, entry);
          known.set(id, entry);
        }
        // Oldest first out: Map keeps insertion order.
        for (const oldest of known.keys()) {
          if (known.size <= MAX_CACHED_ENTRIES) {
            break;
          }
          known.delete(oldest);
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
      return pageLookup;
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
