/** Edit distance (insertions, deletions, substitutions), stopping early once above `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length];
}

function canonical(s: string): string {
  return s.replace(/[_-]/g, "").toLowerCase();
}

/**
 * The candidate closest to `input` when it is plausibly a misspelling of it (same name up to
 * case and underscores, or within a small edit distance); undefined otherwise. Ties go to the
 * alphabetically first candidate, so suggestions are deterministic.
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const target = canonical(input);
  const exact = [...candidates].sort().find((c) => canonical(c) === target);
  if (exact) return exact;
  const limit = Math.max(1, Math.min(3, Math.floor(input.length / 4)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of [...candidates].sort()) {
    const d = editDistance(target, canonical(c), limit);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Candidates that look like a typo of `word`: same name in another case, or at most two edits
 * away. Sorted by distance, then name, so that suggestions are deterministic.
 */
export function closestMatches(word: string, candidates: Iterable<string>): string[] {
  const lower = word.toLowerCase();
  const scored: { name: string; distance: number }[] = [];
  for (const name of new Set(candidates)) {
    if (name === word) {
      continue;
    }
    const distance = name.toLowerCase() === lower ? 0 : editDistance(lower, name.toLowerCase(), 2);
    if (distance <= 2) {
      scored.push({ name, distance });
    }
  }
  return scored
    .sort((x, y) => x.distance - y.distance || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .map((entry) => entry.name);
}
