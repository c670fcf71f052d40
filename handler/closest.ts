// "Did you mean ...?": the known names closest to a misspelt one, by edit distance. Shared by the
// stack's config check, the function's environment check and the local commands. Hand-written
// (a dozen lines) rather than a package, which the function's archive would have to carry.

/** Levenshtein distance: single-character insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}

/** Up to `count` known names nearest to `name`, nearest first (ties in the known order). */
export function closest(name: string, known: readonly string[], count = 3): string[] {
  return known
    .map((candidate, index) => ({
      candidate,
      index,
      distance: editDistance(name.toLowerCase(), candidate.toLowerCase()),
    }))
    .sort((x, y) => x.distance - y.distance || x.index - y.index)
    .slice(0, count)
    .map((x) => x.candidate);
}
