// The benchmark's ledger: MemoryLedger's behaviour, with each entry's IDs kept as a sorted typed
// array of (index, kind) instead of a Set of strings, so a 1,000,000-snapshot sweep's ledger costs
// 4 bytes an ID and the run's memory figures stay the tagger's.
import type { NewEntry } from "../handler/ledger";
import { MemoryLedger } from "../local/memoryLedger";
import { indexOfId } from "../local/emulator/resourceTable";

const code = (id: string) => indexOfId(id) * 2 + (id.startsWith("ami-") ? 1 : 0);

export function compactIds(ids: string[]): { has(id: string): boolean; size: number } {
  const codes = Float64Array.from(ids, code).sort();
  return {
    size: codes.length,
    has(id) {
      const wanted = code(id);
      let lo = 0;
      let hi = codes.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (codes[mid] === wanted) {
          return true;
        }
        if (codes[mid] < wanted) {
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      return false;
    },
  };
}

export class CompactLedger extends MemoryLedger {
  override async record(entry: NewEntry): Promise<void> {
    await super.record({ ...entry, ids: [] });
    const stored = this.entries.get(entry.batchId);
    if (stored) {
      this.entries.set(entry.batchId, { ...stored, ids: compactIds(entry.ids) });
    }
  }
}
