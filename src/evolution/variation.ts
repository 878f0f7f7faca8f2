// Copying errors, seeded: the parent decodes a child from the model by sampling at temperature T,
// then applies point mutations at rate M per character. Every draw comes from a generator seeded
// by (run seed, generation, child number), so a child does not depend on which worker ran what,
// nor when. Only plain arithmetic is used (no Math.exp): the same draws on every machine.
import { decodeModel, type CheckedModel } from "../runtime/decoder";
import { sha256 } from "../files/hash";
import { printableJson } from "../format";

/** A 32-bit seed from the run's seed and a child's coordinates. */
export function seedFor(runSeed: number, ...parts: (number | string)[]): number {
  return Number.parseInt(sha256([runSeed, ...parts].join(":")).slice(0, 8), 16);
}

/** mulberry32: a small, well-mixed generator of uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** e^x for x ≤ 0 by range reduction and a Taylor series: basic operations only, the same bits everywhere. */
export function expNonPositive(x: number): number {
  if (x < -700) return 0;
  const k = Math.round(x / Math.LN2);
  const r = x - k * Math.LN2; // |r| ≤ ln2 / 2
  let term = 1;
  let sum = 1;
  for (let n = 1; n <= 14; n++) {
    term *= r / n;
    sum += term;
  }
  let scale = 1;
  for (let i = 0; i < -k; i++) scale *= 0.5; // exact: powers of two
  return sum * scale;
}

/** Picks a symbol from logits at temperature T (softmax of logits / T); T = 0 is the argmax. */
export function sampleAtTemperature(logits: Float64Array, temperature: number, random: () => number): number {
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
  if (temperature === 0) return best;
  const weights = Array.from(logits, (logit) => expNonPositive((logit - logits[best]) / temperature));
  let left = random() * weights.reduce((a, b) => a + b, 0);
  for (let v = 0; v < weights.length; v++) {
    left -= weights[v];
    if (left < 0) return v;
  }
  return best;
}

/** Point mutations at `rate` per character: substitution, insertion before it, or deletion, equally likely; new characters come from `alphabet`. */
export function mutate(text: string, rate: number, alphabet: string[], random: () => number): { text: string; mutations: number } {
  if (rate === 0 || alphabet.length === 0) return { text, mutations: 0 };
  const out: string[] = [];
  let mutations = 0;
  for (const char of text) {
    if (random() >= rate) {
      out.push(char);
      continue;
    }
    mutations++;
    const kind = Math.floor(random() * 3);
    const drawn = alphabet[Math.floor(random() * alphabet.length)];
    if (kind === 0) out.push(drawn);
    else if (kind === 1) out.push(drawn, char);
    // kind 2: deleted
  }
  return { text: out.join(""), mutations };
}

export interface Child {
  text: string;
  mutations: number; // point mutations applied after decoding
  stopped: "end" | "length" | "time"; // how the sampled decoding ended
  changedBy: Change[]; // what made it differ from its parent, in the order applied (empty: an exact copy)
  edits: Edit[]; // the operators' edits, in order
}

const NO_OPERATORS: OperatorRates = { number: 0, token: 0, line: 0 };

/**
 * A child of a program: its model decoded at temperature T, then point mutations at rate M, then the
 * operators at their rates (./variation's mutateNumbers, mutateTokens, mutateLines), all drawn from `seed`.
 */
export function makeChild(parentText: string, model: CheckedModel, seed: number, temperature: number, mutationRate: number,
  limits: { maxChars: number; maxSeconds: number }, operators: OperatorRates = NO_OPERATORS): Child {
  const random = seededRandom(seed);
  const decoded = decodeModel(model, limits, temperature > 0 ? (logits) => sampleAtTemperature(logits, temperature, random) : undefined);
  const { text: mutated, mutations } = mutate(decoded.text, mutationRate, [...new Set(parentText)], random);
  const { text, edits } = applyOperators(mutated, operators, random);
  const changedBy: Change[] = [
    ...(decoded.text !== parentText ? ["sampling" as const] : []),
    ...(mutated !== decoded.text ? ["point" as const] : []),
    ...OPERATORS.filter((operator) => edits.some((edit) => edit.operator === operator)),
  ];
  return { text, mutations, stopped: decoded.stopped, changedBy, edits };
}

// ---- mutation operators: edits to what a program is made of, as genetic programming makes them ----
// Each operator visits its sites (number literals, tokens, lines) in order and edits one with its
// rate; a rate of 0 draws nothing, so a run without operators draws exactly what it drew before.

export const OPERATORS = ["number", "token", "line"] as const;
export type Operator = (typeof OPERATORS)[number];
/** What changed a child: its parent's model decoded to another text (sampling), point mutations, or an operator. */
export type Change = "sampling" | "point" | Operator;
export type OperatorRates = Record<Operator, number>;
/** One operator's edit: where, and a short description (the program's text in it is quoted and cut short). */
export interface Edit { operator: Operator; line: number; description: string }

/** At most this many edits are described per child (the count of changes is in the text's distance). */
export const MAX_EDITS = 16;
const QUOTED = 40; // characters of program text quoted in an edit's description

/** Program text for a description: JSON-quoted (no control characters, no escapes reach a terminal), cut to `QUOTED`. */
export function quote(text: string): string {
  const cut = [...text].length > QUOTED ? `${[...text].slice(0, QUOTED).join("")}…` : text;
  return printableJson(cut, 0);
}

const lineAt = (text: string, offset: number): number => text.slice(0, offset).split("\n").length;

/** A number literal (not part of a name, not an exponent form): "150", "0.02". */
const NUMBER = /(?<![\w$.])\d+(?:\.\d+)?(?![\w$.])/g;
/** Tokens, roughly: a name or number, or one character of punctuation (whitespace separates). */
const TOKEN = /[\w$]+|[^\s\w$]/g;

/** A number nudged: +1, −1, ×2 or ÷2 (whole numbers stay whole; decimals move by one in their last place). */
export function nudge(literal: string, kind: number): { text: string; how: string } {
  const decimals = literal.includes(".") ? literal.length - literal.indexOf(".") - 1 : 0;
  const value = Number(literal);
  const unit = 10 ** -decimals;
  const [next, how] = kind === 0 ? [value + unit, `+${decimals ? unit.toFixed(decimals) : 1}`] : kind === 1 ? [value - unit, `−${decimals ? unit.toFixed(decimals) : 1}`]
    : kind === 2 ? [value * 2, "×2"] : [decimals ? value / 2 : Math.floor(value / 2), "÷2"];
  // Printed with the literal's own decimals (÷2 may need one more), never float noise such as 0.30000000000000004.
  const places = kind === 3 && decimals ? decimals + 1 : decimals;
  return { text: places ? Number(next.toFixed(places)).toString() : String(next), how };
}

/** Visits the matches of `pattern` in order; `edit` may replace one (its text and a description); every edit is recorded. */
function editSites(text: string, pattern: RegExp, rate: number, random: () => number,
  edit: (match: string) => { text: string; description: string }, operator: Operator, edits: Edit[]): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (random() >= rate) continue;
    const changed = edit(match[0]);
    if (changed.text === match[0]) continue;
    const at = match.index;
    out += text.slice(last, at) + changed.text;
    last = at + match[0].length;
    edits.push({ operator, line: lineAt(text, at), description: changed.description });
  }
  return out + text.slice(last);
}

/** Number literals, each with probability `rate`: nudged by +1, −1, ×2 or ÷2 (equally likely). */
export function mutateNumbers(text: string, rate: number, random: () => number, edits: Edit[] = []): string {
  if (rate === 0) return text;
  return editSites(text, NUMBER, rate, random, (literal) => {
    const { text: nudged, how } = nudge(literal, Math.floor(random() * 4));
    return { text: nudged, description: `${literal} → ${nudged} (${how})` };
  }, "number", edits);
}

/** Tokens, each with probability `rate`: duplicated in place or dropped (equally likely). */
export function mutateTokens(text: string, rate: number, random: () => number, edits: Edit[] = []): string {
  if (rate === 0) return text;
  return editSites(text, TOKEN, rate, random, (token) => random() < 0.5
    ? { text: token + token, description: `token ${quote(token)} duplicated` }
    : { text: "", description: `token ${quote(token)} dropped` }, "token", edits);
}

/** Lines, each with probability `rate`: duplicated or dropped (equally likely). Line numbers are the parent's. */
export function mutateLines(text: string, rate: number, random: () => number, edits: Edit[] = []): string {
  if (rate === 0) return text;
  const lines = text.split("\n");
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (random() >= rate) {
      out.push(line);
      return;
    }
    const duplicate = random() < 0.5;
    if (duplicate) out.push(line, line);
    edits.push({ operator: "line", line: i + 1, description: `${duplicate ? "duplicated" : "dropped"}: ${quote(line)}` });
  });
  return out.join("\n");
}

/** The operators at their rates, in a fixed order (numbers, tokens, lines), from one generator. */
export function applyOperators(text: string, rates: OperatorRates, random: () => number): { text: string; edits: Edit[] } {
  const edits: Edit[] = [];
  const numbers = mutateNumbers(text, rates.number, random, edits);
  const tokens = mutateTokens(numbers, rates.token, random, edits);
  return { text: mutateLines(tokens, rates.line, random, edits), edits };
}
