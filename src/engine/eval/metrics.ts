/**
 * CodeXGLUE line-level metrics: exact match of the stripped strings, and edit similarity as Python's
 * difflib.SequenceMatcher(None, a, b).ratio() x 100 (what fuzzywuzzy's fuzz.ratio reports, as CodeXGLUE
 * does). No autojunk: lines are short.
 */
function longestMatch(a: string, b: string, alo: number, ahi: number, blo: number, bhi: number): [number, number, number] {
  // difflib's find_longest_match without junk: earliest longest block in a, then in b
  let bestI = alo;
  let bestJ = blo;
  let bestSize = 0;
  let lengths = new Map<number, number>();
  for (let i = alo; i < ahi; i++) {
    const next = new Map<number, number>();
    for (let j = blo; j < bhi; j++) {
      if (a[i] !== b[j]) continue;
      const k = (lengths.get(j - 1) ?? 0) + 1;
      next.set(j, k);
      if (k > bestSize) {
        bestI = i - k + 1;
        bestJ = j - k + 1;
        bestSize = k;
      }
    }
    lengths = next;
  }
  return [bestI, bestJ, bestSize];
}

export function matchingCharacters(a: string, b: string): number {
  let total = 0;
  const queue: Array<[number, number, number, number]> = [[0, a.length, 0, b.length]];
  while (queue.length > 0) {
    const [alo, ahi, blo, bhi] = queue.pop() as [number, number, number, number];
    const [i, j, k] = longestMatch(a, b, alo, ahi, blo, bhi);
    if (k === 0) continue;
    total += k;
    if (alo < i && blo < j) queue.push([alo, i, blo, j]);
    if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
  }
  return total;
}

/** difflib ratio x 100. */
export function editSimilarity(a: string, b: string): number {
  const total = a.length + b.length;
  return total === 0 ? 100 : (200 * matchingCharacters(a, b)) / total;
}

export function exactMatch(prediction: string, target: string): boolean {
  return prediction.trim() === target.trim();
}

/** Deterministic PRNG (mulberry32) for reproducible sampling. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LineCase {
  file: string;
  /** File text before the cursor. */
  prefix: string;
  /** The true rest of the line. */
  target: string;
  /** File text after the line (starts with its line break), for runs that give the model the suffix. */
  after: string;
}

/** CodeXGLUE-style sampling: a random cursor inside a line's non-blank text, rest of line >= 2 chars. */
export function sampleLineCases(files: ReadonlyArray<{ file: string; text: string }>, n: number, seed: number): LineCase[] {
  const random = seededRandom(seed);
  const pick = (k: number): number => Math.floor(random() * k);
  const cases: LineCase[] = [];
  const usable = files.filter((f) => f.text.split('\n').some((l) => l.trim().length >= 4));
  if (usable.length === 0) return cases;
  for (let attempts = 0; cases.length < n && attempts < n * 100; attempts++) {
    const { file, text } = usable[pick(usable.length)] as { file: string; text: string };
    const lines = text.split('\n');
    const i = pick(lines.length);
    const line = lines[i] as string;
    const bodyStart = line.length - line.trimStart().length;
    if (line.trim().length < 4) continue;
    const cut = bodyStart + pick(line.trimEnd().length - 1 - bodyStart);
    const target = line.slice(cut);
    if (target.trim().length < 2) continue;
    const before = lines.slice(0, i).join('\n') + (i ? '\n' : '');
    cases.push({ file, prefix: before + line.slice(0, cut), target, after: text.slice(before.length + line.length) });
  }
  return cases;
}
