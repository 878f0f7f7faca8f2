// The text as symbols. Index 0 is the boundary: the input before the first character and the
// target after the last one (START and END in one).

/** The symbols of `text`: the boundary, then its distinct characters (code points) in sorted order. */
export function makeVocab(text: string): string[] {
  return ["", ...[...new Set(text)].sort()];
}

/** The text as symbol indices [N], one per code point. */
export function encode(text: string, vocab: string[]): Int32Array {
  const index = new Map(vocab.map((symbol, i) => [symbol, i]));
  return Int32Array.from(text, (symbol) => index.get(symbol) ?? -1);
}
