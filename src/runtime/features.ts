// What the LSTM reads besides the character: features of the prefix that a plain LSTM cannot keep
// (issue 25). A count ("the 77th `=` of a run") drives its state to a fixed point, and a context
// far back (a repeated block whose continuation was decided 1,000 characters earlier) is beyond
// what its gradients reach; two runs of the same count are told apart only by what came before
// them, which the run has worn out of the state, and the copies of a repeated line only by which
// copy they are. Neural compressors hand their models such features (PAQ's run and match models
// and its context counts, cmix's match model); here each position reads a few rows
// of the input kernel instead of one: the character's, then each feature's. The input is
// multi-hot, the model stays one LSTM and one Dense layer, and a feature's rows start at zero, so a
// training begins where one without it does.
//
// Computed from the symbols read so far, one at a time, in linear time and bounded memory, by this
// module alone: for training (inputRows) and for every decoder (the stepper, the parent's decoder,
// the report's page), so that all see the same rows. A model names its features, versioned, in
// its metadata; a name changes whenever what a feature computes changes.

/** A feature: the rows it adds to a kernel over V symbols, how many it sets per position, and its reader. */
interface Feature {
  rows(V: number): number;
  active: number;
  /** A fresh reader: given the next symbol read, writes the `active` rows it sets (within its own block) at out[at...]. */
  reader(V: number): (symbol: number, out: Int32Array, at: number) => void;
}

/** Run lengths up to this are a row each; longer ones share a row per octave, up to RUN_OCTAVES of them. */
const RUN_EXACT = 127;
const RUN_OCTAVES = 8;

/**
 * run/1: how many times the symbol just read has occurred in a row (1 for a symbol unlike the one
 * before): one row for each of 1..127, then one per octave (128-255, 256-511, ...).
 */
const run: Feature = {
  rows: () => RUN_EXACT + RUN_OCTAVES,
  active: 1,
  reader() {
    let [last, length] = [-1, 0];
    return (symbol, out, at) => {
      length = symbol === last ? length + 1 : 1;
      last = symbol;
      out[at] = countRow(length, RUN_EXACT + 1, RUN_OCTAVES) - 1;
    };
  },
};

/**
 * before/1: the symbol read before the current run began (the boundary's row, 0, while the first
 * run lasts). A run of 77 `*` that opens a comment and one that closes it have the same count;
 * what precedes each (a space, a newline) tells them apart while the run holds the state.
 */
const before: Feature = {
  rows: (V) => V,
  active: 1,
  reader() {
    let [last, preceding] = [-1, 0];
    return (symbol, out, at) => {
      if (symbol !== last) [preceding, last] = [Math.max(last, 0), symbol];
      out[at] = preceding;
    };
  },
};

/** The match model's context: the last MATCH_MIN symbols find the earlier occurrence to follow. */
const MATCH_MIN = 6;
/** How far back a new match's length is counted (the length then grows as the match goes on). */
const MATCH_VERIFY = 64;
/** Rows of the match length: 0 (no match), 1..15 one each, then two per octave up to 512 and more. */
const MATCH_LENGTHS = 26;
/** Slots of the match model's table of where each context last occurred (a power of 2: 1 MiB). */
const MATCH_SLOTS = 1 << 18;

/** The row of a match of `length` symbols (0: none). */
export function matchLengthRow(length: number): number {
  if (length < 16) return length;
  const octave = 31 - Math.clz32(length);
  return Math.min(MATCH_LENGTHS - 1, 16 + 2 * (octave - 4) + ((length >> (octave - 1)) & 1));
}

/**
 * match/1: the symbol that followed the earlier occurrence of the current context, and how long
 * the match is (PAQ's and cmix's match model). A match is followed while each symbol read is the
 * one it predicted; when one is not (or there is none), the last MATCH_MIN symbols are looked up
 * among the places they occurred before (the latest, by a hash table), and a match starts there
 * if at least MATCH_MIN symbols agree, counted back up to MATCH_VERIFY. Two rows: the predicted
 * symbol (row 0, the boundary's, for none: the boundary never follows anything) and the length's.
 */
const match: Feature = {
  rows: (V) => V + MATCH_LENGTHS,
  active: 2,
  reader(V) {
    let history: Int32Array = new Int32Array(1024); // the symbols read so far
    let count = 0;
    const latest = new Int32Array(MATCH_SLOTS).fill(-1); // by hash of MATCH_MIN symbols: the index after their latest occurrence
    let [next, length] = [0, 0]; // the index in `history` of the predicted symbol; 0 = no match
    return (symbol, out, at) => {
      if (count === history.length) history = copyInto(new Int32Array(2 * count), history);
      history[count++] = symbol;
      if (length > 0 && history[next] === symbol) [next, length] = [next + 1, length + 1];
      else length = 0;
      if (count >= MATCH_MIN) {
        let hash = 0;
        for (let k = count - MATCH_MIN; k < count; k++) hash = mixSymbol(hash, history[k]);
        const slot = slotOf(hash, MATCH_SLOTS);
        const candidate = latest[slot];
        if (length === 0 && candidate > 0) {
          let agree = 0;
          while (agree < MATCH_VERIFY && agree < candidate && history[candidate - 1 - agree] === history[count - 1 - agree]) agree++;
          if (agree >= MATCH_MIN) [next, length] = [candidate, agree];
        }
        latest[slot] = count;
      }
      out[at] = length > 0 ? history[next] : 0;
      out[at + 1] = V + matchLengthRow(length);
    };
  },
};

/** seen/1's context: how often the last SEEN_CONTEXT symbols occurred before. */
const SEEN_CONTEXT = 12;
/** Counts below this are a row each; larger ones share a row per octave, up to SEEN_OCTAVES of them. */
const SEEN_EXACT = 32;
const SEEN_OCTAVES = 8;
/** Slots of seen/1's table of counts, by hash of the context (a power of 2: 1 MiB). */
const SEEN_SLOTS = 1 << 18;

/**
 * seen/1: how many times the last SEEN_CONTEXT symbols occurred before (0 for a new context, and
 * before SEEN_CONTEXT symbols have been read): one row for each of 0..31, then one per octave. The
 * count is kept by a hash of the context without a check, so two contexts that share a slot add to
 * one count: an approximate count, but every decoder computes the same one.
 * It says which copy of a repeated line or block the text is in: where the second and the third
 * copy part after a long identical stretch, the match model points both at the copy before and the
 * state has forgotten the difference, but their counts are 1 and 2 all along.
 */
const seen: Feature = {
  rows: () => SEEN_EXACT + SEEN_OCTAVES,
  active: 1,
  reader() {
    const context = new Int32Array(SEEN_CONTEXT); // the last symbols, as a ring
    const counts = new Int32Array(SEEN_SLOTS);
    let read = 0;
    return (symbol, out, at) => {
      context[read++ % SEEN_CONTEXT] = symbol;
      let times = 0;
      if (read >= SEEN_CONTEXT) {
        let hash = 0;
        for (let k = read - SEEN_CONTEXT; k < read; k++) hash = mixSymbol(hash, context[k % SEEN_CONTEXT]);
        times = counts[slotOf(hash, SEEN_SLOTS)]++;
      }
      out[at] = countRow(times, SEEN_EXACT, SEEN_OCTAVES);
    };
  },
};

/** A count's row: `exact` (a power of 2) rows for 0..exact-1, then one per octave, `octaves` of them (the last for all larger). */
function countRow(count: number, exact: number, octaves: number): number {
  return count < exact ? count : exact + Math.min(octaves - 1, Math.clz32(exact) - Math.clz32(count));
}

/** A context's hash with one more symbol mixed in (the match model's and seen/1's, symbol by symbol). */
function mixSymbol(hash: number, symbol: number): number {
  return (Math.imul(hash, 0x2f0b3c5d) + symbol + 1) | 0;
}

/** A table slot of `slots` (a power of 2) for a context's hash. */
function slotOf(hash: number, slots: number): number {
  return (hash ^ (hash >>> 15)) & (slots - 1);
}

function copyInto(to: Int32Array, from: Int32Array): Int32Array {
  to.set(from);
  return to;
}

/** The features this runtime computes, by name; the order of a model's list is the order of its rows. */
const FEATURES: Record<string, Feature> = { "run/1": run, "match/1": match, "before/1": before, "seen/1": seen };

/** The names of the features this runtime can compute. */
export const KNOWN_FEATURES = Object.keys(FEATURES);

/**
 * Checks a model's feature list (untrusted: from its metadata): undefined is no features; anything
 * but a list of known names, each at most once, throws one sentence about `who` that repeats no
 * untrusted text.
 */
export function checkFeatures(features: unknown, who = "The model"): string[] {
  if (features === undefined) return [];
  const known = `the features this runtime computes are ${KNOWN_FEATURES.slice(0, -1).join(", ")} and ${KNOWN_FEATURES.at(-1)}`;
  if (!Array.isArray(features) || features.length > KNOWN_FEATURES.length) {
    throw new Error(`${who} has a malformed feature list: it must be a list of at most ${KNOWN_FEATURES.length} names (${known}).`);
  }
  features.forEach((name: unknown, k) => {
    if (typeof name !== "string" || !Object.hasOwn(FEATURES, name)) throw new Error(`${who} names a feature this runtime does not know (its feature ${k + 1}; ${known}).`);
    if (features.indexOf(name) !== k) throw new Error(`${who} names the feature ${name} twice.`);
  });
  return features as string[];
}

/** The rows the features add to the input kernel of a model over V symbols (its kernel has V + these). */
export function featureRows(features: string[], V: number): number {
  return checkFeatures(features).reduce((sum, name) => sum + FEATURES[name].rows(V), 0);
}

/** Kernel rows each position reads: the symbol's, and each feature's. */
export function inputWidth(features: string[]): number {
  return checkFeatures(features).reduce((sum, name) => sum + FEATURES[name].active, 1);
}

/**
 * Reads one stream's input a symbol at a time: next(symbol) gives the kernel rows [width] that the
 * position reading `symbol` reads (the first position reads the boundary, 0). The array is reused.
 */
export interface InputReader {
  width: number;
  next(symbol: number): Int32Array;
}

/** An input reader for a model over V symbols with these features (none: the symbol's row alone). */
export function inputReader(features: string[], V: number): InputReader {
  const width = inputWidth(features);
  const rows = new Int32Array(width);
  let offset = V;
  let slot = 1;
  const parts = features.map((name) => {
    const feature = FEATURES[name];
    const part = { read: feature.reader(V), offset, slot, active: feature.active };
    [offset, slot] = [offset + feature.rows(V), slot + feature.active];
    return part;
  });
  return {
    width,
    next(symbol) {
      rows[0] = symbol;
      for (const { read, offset, slot, active } of parts) {
        read(symbol, rows, slot);
        for (let k = slot; k < slot + active; k++) rows[k] += offset;
      }
      return rows;
    },
  };
}

/** Which features a trainer asks for: a setting of 1 turns one on (the current version of each). */
export interface FeatureChoice {
  run?: number;
  match?: number;
  before?: number;
  seen?: number;
}

/** What inputRows gives: the features' names, the rows they add, the rows a position reads, and those rows. */
export interface InputRows {
  features: string[];
  extra: number; // rows past the V symbols'
  width: number; // rows per position
  rows: Int32Array; // [N, width]: position p reads the boundary (p = 0) or the text's symbol p-1
}

/** The input of every position of a text of symbols [N-1] (1..V-1) over V symbols, with the chosen features. */
export function inputRows(text: Int32Array, V: number, choice: FeatureChoice): InputRows {
  const features = (["run", "match", "before", "seen"] as const).filter((name) => choice[name]).map((name) => `${name}/1`);
  const reader = inputReader(features, V);
  const rows = new Int32Array((text.length + 1) * reader.width);
  for (let p = 0; p <= text.length; p++) rows.set(reader.next(p ? text[p - 1] : 0), p * reader.width);
  return { features, extra: featureRows(features, V), width: reader.width, rows };
}
