// Proof of authorship, pure. A backup is ours to delete only if this stack's function wrote its
// current DeleteOn: the function records every batch it dates in a ledger only it can write
// (ledger.ts), and tags the batch with RetentionBatch=<id>. Anyone may copy tags; nobody but the
// function can add a resource ID to an entry.
import type { Tag } from "./tagPolicy";
import { BATCH_KEY, DELETE_ON_KEY, RETENTION_KEY } from "./tagRules";

/** One CreateTags batch that dated resources, as the ledger holds it. */
export interface LedgerEntry {
  batchId: string;
  /** Where the entry is valid: the region (single account) or "<account>/<region>". */
  scope: string;
  retention: string;
  deleteOn: string;
  /** The resource IDs the batch dated. */
  ids: { has(id: string): boolean };
}

/**
 * - proven: the resource's Retention and DeleteOn are exactly what the entry its RetentionBatch
 *   names recorded for its ID, in this scope.
 * - unproven: no batch tag, no such entry, or the entry does not vouch for these tags on this ID.
 * - unknown: the ledger could not be read; nothing is decided on it this run.
 */
export type ProofStatus = "proven" | "unproven" | "unknown";

/** What a lookup knows about a batch: the entry, `null` for none, `undefined` when unreadable. */
export type EntryLookup = (batchId: string) => LedgerEntry | null | undefined;

export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

export function proofStatus(
  id: string,
  tags: readonly Tag[] | undefined,
  lookup: EntryLookup,
  scope: string,
): ProofStatus {
  const batchId = tagValue(tags, BATCH_KEY);
  if (batchId === undefined || batchId === "") {
    return "unproven";
  }
  const entry = lookup(batchId);
  if (entry === undefined) {
    return "unknown";
  }
  const vouches =
    entry !== null &&
    entry.batchId === batchId &&
    entry.scope === scope &&
    entry.retention === tagValue(tags, RETENTION_KEY) &&
    entry.deleteOn === tagValue(tags, DELETE_ON_KEY) &&
    entry.ids.has(id);
  return vouches ? "proven" : "unproven";
}

/** Batch IDs a page's resources name, once each. */
export function batchIdsOf(pages: readonly { tags: readonly Tag[] | undefined }[]): string[] {
  const ids = new Set<string>();
  for (const { tags } of pages) {
    const batchId = tagValue(tags, BATCH_KEY);
    if (batchId) {
      ids.add(batchId);
    }
  }
  return [...ids];
}
