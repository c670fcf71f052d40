// Which resources the tagger manages, by their tags. Pure.
import type { Tag } from "./tagPolicy";

/** Tag key to value; "*" matches any value, including an empty one. */
export type TagMatch = Record<string, string>;

export const ANY_VALUE = "*";

function matches(tags: readonly Tag[], key: string, value: string): boolean {
  return tags.some((t) => t.Key === key && (value === ANY_VALUE || t.Value === value));
}

/**
 * Why a resource is not managed, or undefined when it is: it matches any exclude entry, or
 * include is set and it misses one of its entries.
 */
export function exclusionReason(
  tags: readonly Tag[] | undefined,
  include: TagMatch,
  exclude: TagMatch,
): string | undefined {
  const own = tags ?? [];
  for (const [key, value] of Object.entries(exclude)) {
    if (matches(own, key, value)) {
      return `excludeTags ${key}=${value}`;
    }
  }
  for (const [key, value] of Object.entries(include)) {
    if (!matches(own, key, value)) {
      return `includeTags ${key}=${value} not matched`;
    }
  }
  return undefined;
}

/** Problems with an include/exclude map, naming the key; empty when usable. */
export function tagMatchProblems(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return ['must be a JSON object of tag key to value, or "*" for any value'];
  }
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key.length < 1 || key.length > 128) {
      problems.push(`key ${JSON.stringify(key)} must be 1 to 128 characters`);
    }
    if (typeof v !== "string" || v.length > 256) {
      problems.push(`value of ${JSON.stringify(key)} must be a string of at most 256 characters (or "*")`);
    }
  }
  return problems;
}
