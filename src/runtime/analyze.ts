// Why a text is hard to memorize: for each position, the left context that determines its next
// symbol, i.e. the shortest string ending just before it that is followed by the same symbol
// wherever it occurs in the text. An LSTM trained by truncated BPTT can only learn a position whose
// context fits in what its gradients reach; a long context (repeated lines, boilerplate, tables)
// is where training stalls. A suffix automaton gives every position's context in linear time.
//
// Symbols are code points, as the model's; the text is read from a start boundary (which the model
// sees as its first input) to an end boundary (its last target). This lives in the runtime, beside
// the kernel, because it is not text the quine must learn.

/** One position's need: the symbol at `index` (code points; `index` = length for the end) and its context. */
export interface PositionNeed {
  index: number;
  line: number; // 1-based, of the symbol predicted (the end boundary: after the last symbol)
  column: number; // 1-based, in code points
  context: number; // symbols of left context (the start boundary counts as one) that decide it
  symbol: string; // what follows ("" for the end of the text)
  competitors: { symbol: string; count: number }[]; // what follows the one-shorter context, most frequent first
}

export interface TextAnalysis {
  symbols: number; // code points in the text
  contexts: Int32Array; // contexts[i]: context length that decides symbol i (i = symbols: the end)
  longest: number;
  /** Positions whose context exceeds each threshold (16, 32, 64, 128 symbols). */
  over: Record<16 | 32 | 64 | 128, number>;
  hardest: PositionNeed[];
}

const START = -1;
const END = -2;

/** A suffix automaton over int symbols: transitions as maps, suffix links, longest lengths. */
function suffixAutomaton(x: ArrayLike<number>): { next: Map<number, number>[]; link: Int32Array; len: Int32Array; prefixState: Int32Array; size: number } {
  const cap = 2 * x.length + 2;
  const next: Map<number, number>[] = [new Map()];
  const link = new Int32Array(cap).fill(-1);
  const len = new Int32Array(cap);
  const prefixState = new Int32Array(x.length + 1);
  let size = 1;
  let last = 0;
  for (let i = 0; i < x.length; i++) {
    const c = x[i];
    const cur = size++;
    next.push(new Map());
    len[cur] = len[last] + 1;
    let p = last;
    while (p !== -1 && !next[p].has(c)) {
      next[p].set(c, cur);
      p = link[p];
    }
    if (p === -1) link[cur] = 0;
    else {
      const q = next[p].get(c) as number;
      if (len[p] + 1 === len[q]) link[cur] = q;
      else {
        const clone = size++;
        next.push(new Map(next[q]));
        len[clone] = len[p] + 1;
        link[clone] = link[q];
        while (p !== -1 && next[p].get(c) === q) {
          next[p].set(c, clone);
          p = link[p];
        }
        link[q] = clone;
        link[cur] = clone;
      }
    }
    last = cur;
    prefixState[i + 1] = cur;
  }
  return { next, link, len, prefixState, size };
}

/**
 * Analyzes `text`: every position's deciding context and the `top` hardest places (longest
 * context first, then earliest; one position per context start). Linear in the text's length (times log of its alphabet).
 */
export function analyzeText(text: string, top = 10): TextAnalysis {
  const chars = [...text];
  const codes = new Map<string, number>();
  const x = [START, ...chars.map((ch) => codes.get(ch) ?? (codes.set(ch, codes.size), codes.size - 1)), END];
  const { next, link, len, prefixState, size } = suffixAutomaton(x);
  // Occurrence counts (endpos sizes): 1 for each prefix state, summed up the suffix-link tree.
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => len[a] - len[b]);
  const count = new Int32Array(size);
  for (let i = 1; i < prefixState.length; i++) count[prefixState[i]] = 1;
  for (let k = order.length - 1; k > 0; k--) count[link[order[k]]] += count[order[k]];
  // shortest[v]: the shortest context length, among v and its suffix-link ancestors, whose strings
  // are all followed by one symbol (a state's strings share their occurrences, so its transitions
  // are exactly what follows them). Followed-by-one-symbol is monotone in length, so it is the
  // shortest string of the shortest such state on the chain.
  const shortest = new Int32Array(size).fill(-1);
  for (const v of order) {
    if (next[v].size !== 1) continue;
    const up = link[v] === -1 ? -1 : shortest[link[v]];
    shortest[v] = up >= 0 ? up : v === 0 ? 0 : len[link[v]] + 1;
  }
  const n = chars.length;
  const contexts = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) contexts[i] = shortest[prefixState[i + 1]];
  const longest = contexts.reduce((a, b) => Math.max(a, b), 0);
  const over = { 16: 0, 32: 0, 64: 0, 128: 0 };
  for (const k of contexts) for (const t of [16, 32, 64, 128] as const) if (k > t) over[t]++;

  const lineStarts = [0];
  chars.forEach((ch, i) => ch === "\n" && lineStarts.push(i + 1));
  const symbolOf = (code: number) => (code < 0 ? "" : chars[x.indexOf(code) - 1]);
  const need = (i: number): PositionNeed => {
    let line = lineStarts.length;
    while (lineStarts[line - 1] > i) line--;
    // The one-shorter context: the state holding the prefix's suffix of that length.
    let v = prefixState[i + 1];
    while (v > 0 && len[link[v]] >= contexts[i] - 1) v = link[v];
    const competitors = [...next[v]].map(([code, to]) => ({ symbol: symbolOf(code), count: count[to] })).sort((a, b) => b.count - a.count);
    return { index: i, line, column: i - lineStarts[line - 1] + 1, context: contexts[i], symbol: i < n ? chars[i] : "", competitors };
  };
  // One position per deciding context: a run of positions decided by the same context start (the
  // characters of a long repeated line) is one hard place, shown by its hardest position.
  const ranked = Array.from({ length: n + 1 }, (_, i) => i).sort((a, b) => contexts[b] - contexts[a] || a - b);
  const starts = new Set<number>();
  const hardest = ranked.filter((i) => starts.size < top && !starts.has(i - contexts[i]) && starts.add(i - contexts[i])).map(need);
  return { symbols: n, contexts, longest, over, hardest };
}

/** Line and column (1-based, code points) of each symbol index in `text`, for naming positions. */
export function positionsOf(text: string, indices: number[]): { index: number; line: number; column: number }[] {
  const wanted = new Set(indices);
  const found = new Map<number, { line: number; column: number }>();
  let [line, column, i] = [1, 1, 0];
  for (const ch of text) {
    if (wanted.has(i)) found.set(i, { line, column });
    if (ch === "\n") [line, column] = [line + 1, 1];
    else column++;
    i++;
  }
  if (wanted.has(i)) found.set(i, { line, column });
  return indices.map((index) => ({ index, ...(found.get(index) ?? { line, column }) }));
}

/** How hard training will find the text, in one line, judged against the trainer's BPTT window. */
export function difficultySummary(a: TextAnalysis, window: number): string {
  const beyond = Array.from(a.contexts).filter((k) => k > window).length;
  const level = a.longest <= window ? "easy" : beyond <= 4 ? "moderate" : beyond <= 32 ? "hard" : "very hard";
  const top = a.hardest[0];
  const where = top ? ` (line ${top.line}, column ${top.column})` : "";
  return `predicted difficulty: ${level}: ${a.symbols} characters; the longest context needed is ${a.longest}${where}; ${beyond} position${beyond === 1 ? "" : "s"} need more than the ${window}-step window, ${a.over[16]} more than 16`;
}
