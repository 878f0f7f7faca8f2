// Copying errors, seeded: the parent decodes a child from the model by sampling at temperature T,
// then applies point mutations at rate M per character. Every draw comes from a generator seeded
// by (run seed, generation, child number), so a child does not depend on which worker ran what,
// nor when. Only plain arithmetic is used (no Math.exp): the same draws on every machine.
import { decodeModel, type CheckedModel } from "../runtime/decoder";
import { sha256 } from "../files/hash";

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
}

/** A child of a program: its model decoded at temperature T, then mutated at rate M, all drawn from `seed`. */
export function makeChild(parentText: string, model: CheckedModel, seed: number, temperature: number, mutationRate: number,
  limits: { maxChars: number; maxSeconds: number }): Child {
  const random = seededRandom(seed);
  const decoded = decodeModel(model, limits, temperature > 0 ? (logits) => sampleAtTemperature(logits, temperature, random) : undefined);
  const { text, mutations } = mutate(decoded.text, mutationRate, [...new Set(parentText)], random);
  return { text, mutations, stopped: decoded.stopped };
}
