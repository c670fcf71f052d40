// EC2's Describe filters, as pure logic: filters are ANDed, a filter's values are ORed, and a value
// may hold the wildcards `*` (any run of characters) and `?` (one character), with `\` escaping the
// next character. Only the filters the tagger, the demo and the tests use are known; any other name
// is refused by name rather than silently ignored, so nothing passes by accident.
import type { Tag } from "../../handler/tagPolicy";

export interface Filter {
  name: string;
  values: string[];
}

/** What a filter can look at on one resource. */
export interface FilterSubject {
  id: string;
  tags: readonly Tag[];
  ownerId: string;
  /** AMIs: the name given at RegisterImage. */
  name?: string;
  /** Snapshots: the volume it was taken from. */
  volumeId?: string;
}

export type ListedKind = "image" | "snapshot";

const ID_FILTER: Record<ListedKind, string> = { image: "image-id", snapshot: "snapshot-id" };
const OWN_FILTERS: Record<ListedKind, string[]> = {
  image: ["image-id", "name", "owner-id"],
  snapshot: ["snapshot-id", "volume-id", "owner-id"],
};

export class FilterError extends Error {}

/** A matcher for one filter value: exact unless it holds an unescaped `*` or `?`. */
export function valueMatcher(value: string): (text: string | undefined) => boolean {
  let pattern = "";
  let wild = false;
  let literal = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && i + 1 < value.length) {
      i += 1;
      literal += value[i];
      pattern += value[i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    } else if (c === "*" || c === "?") {
      wild = true;
      pattern += c === "*" ? "[\\s\\S]*" : "[\\s\\S]";
    } else {
      literal += c;
      pattern += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  if (!wild) {
    return (text) => text === literal;
  }
  const regex = new RegExp(`^${pattern}$`);
  return (text) => text !== undefined && regex.test(text);
}

/** True when the value is a plain string (no unescaped wildcard): it names exactly one thing. */
export function isExactValue(value: string): boolean {
  return !/(^|[^\\])(\\\\)*[*?]/.test(value);
}

export interface CompiledFilters {
  matches(subject: FilterSubject): boolean;
  /**
   * When an ID filter names only exact IDs, those IDs: the only candidates, so a check of 200 IDs
   * costs 200 look-ups, not a scan of the account.
   */
  exactIds?: string[];
  /** Whether the request names resources by ID, which hides those deleted since a listing. */
  namesIds: boolean;
}

export function compileFilters(kind: ListedKind, filters: readonly Filter[]): CompiledFilters {
  const tests: ((subject: FilterSubject) => boolean)[] = [];
  let exactIds: string[] | undefined;
  for (const filter of filters) {
    if (filter.values.length === 0) {
      throw new FilterError(`The filter '${filter.name}' has no values`);
    }
    const matchers = filter.values.map(valueMatcher);
    const any = (text: string | undefined) => matchers.some((m) => m(text));
    if (filter.name.startsWith("tag:")) {
      const key = filter.name.slice("tag:".length);
      tests.push((s) => s.tags.some((t) => t.Key === key && any(t.Value)));
    } else if (filter.name === "tag-key") {
      tests.push((s) => s.tags.some((t) => any(t.Key)));
    } else if (filter.name === ID_FILTER[kind]) {
      tests.push((s) => any(s.id));
      if (filter.values.every(isExactValue)) {
        const ids = filter.values.map((v) => v.replace(/\\(.)/g, "$1"));
        exactIds = exactIds === undefined ? ids : exactIds.filter((id) => ids.includes(id));
      }
    } else if (filter.name === "owner-id") {
      tests.push((s) => any(s.ownerId));
    } else if (filter.name === "name" && kind === "image") {
      tests.push((s) => any(s.name));
    } else if (filter.name === "volume-id" && kind === "snapshot") {
      tests.push((s) => any(s.volumeId));
    } else {
      throw new FilterError(
        `The filter '${filter.name}' is invalid (this emulator knows ${[...OWN_FILTERS[kind], "tag:<key>", "tag-key"].join(", ")})`,
      );
    }
  }
  return {
    matches: (subject) => tests.every((test) => test(subject)),
    exactIds,
    // An ID looked up (no wildcard) misses what was deleted; a wildcard listing still shows it.
    namesIds: filters.some((f) => f.name === ID_FILTER[kind] && f.values.some((v) => !/[*?]/.test(v))),
  };
}
