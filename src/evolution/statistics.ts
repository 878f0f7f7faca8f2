// Per-generation statistics, as SeRANN and "Computational Life" logged them: survival, exact copies,
// Levenshtein distances to the parent and to the ancestor, unique genotypes, Shannon diversity,
// program sizes, training, and the population's high-order entropy.
import { brotliCompressSync, constants } from "node:zlib";
import { distance } from "fastest-levenshtein";
import { z } from "zod";

const Spread = z.object({ median: z.number(), mean: z.number() }).nullable();
const Range = z.object({ min: z.number(), mean: z.number(), max: z.number() });

export const StatisticsSchema = z.object({
  generation: z.number().int().nonnegative(),
  children: z.number().int().nonnegative(), // individuals made this generation (generation 0: copies of the ancestor)
  alive: z.number().int().nonnegative(),
  population: z.number().int().nonnegative(), // kept
  survivalRate: z.number(), // alive / children
  exactShare: z.number().nullable(), // children equal to their parent / children (null in generation 0)
  distanceToParent: Spread, // over the children
  distanceToAncestor: Spread, // over the kept population
  uniqueGenotypes: z.number().int().nonnegative(), // distinct programs kept
  diversity: z.number(), // Shannon diversity of the kept programs, -Σ p ln p (nats)
  bytes: z.object({ min: z.number(), mean: z.number(), max: z.number() }).nullable(), // kept programs' sizes
  trainings: z.number().int().nonnegative(), // programs run in the sandbox this generation
  cacheHits: z.number().int().nonnegative(), // children whose program had been run already
  trainingSeconds: z.number().nonnegative(), // wall time of those runs, summed (reported, never selected on)
  highOrderEntropy: z.number().nullable(), // of the kept programs concatenated, bits per byte
  // the kept programs' counted training work (multiply-adds through the kernel) and their greedy decodings' smallest
  // margins: what selection acts on after exact copying; null when none is known, and in stores from before
  work: Range.nullable().default(null),
  margin: Range.nullable().default(null),
});
export type Statistics = z.infer<typeof StatisticsSchema>;

export const levenshtein = distance;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function range(values: (number | null)[]): { min: number; mean: number; max: number } | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? { min: Math.min(...known), mean: mean(known), max: Math.max(...known) } : null;
}

function spread(values: number[]): { median: number; mean: number } | null {
  return values.length ? { median: median(values), mean: mean(values) } : null;
}

/** Shannon diversity of a multiset of genotypes: -Σ p ln p over their frequencies (0 for one genotype). */
export function shannonDiversity(genotypes: string[]): number {
  const counts = new Map<string, number>();
  for (const genotype of genotypes) counts.set(genotype, (counts.get(genotype) ?? 0) + 1);
  let sum = 0;
  for (const count of counts.values()) {
    const p = count / genotypes.length;
    sum -= p * Math.log(p);
  }
  return sum;
}

/** Shannon entropy of the byte distribution, bits per byte. */
export function byteEntropy(bytes: Uint8Array): number {
  const counts = new Array<number>(256).fill(0);
  for (const byte of bytes) counts[byte]++;
  let sum = 0;
  for (const count of counts) if (count) sum -= (count / bytes.length) * Math.log2(count / bytes.length);
  return sum;
}

/** Brotli (Node's zlib, quality 2, as Computational Life used) compressed size in bits per input byte. */
function brotliBitsPerByte(bytes: Uint8Array): number {
  return (8 * brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 2 } }).byteLength) / bytes.length;
}

/** High-order entropy: Shannon entropy of the bytes minus Brotli's bits per byte: how much structure beyond single-byte statistics. */
export function highOrderEntropy(texts: string[]): number | null {
  const bytes = Buffer.from(texts.join(""), "utf8");
  return bytes.length ? byteEntropy(bytes) - brotliBitsPerByte(bytes) : null;
}

interface GenerationFacts {
  generation: number;
  children: { program: string; parentProgram: string | null; alive: boolean; cached: boolean }[];
  kept: string[]; // the kept programs
  keptRuns: { work: number | null; minMargin: number | null }[]; // their runs
  ancestor: string;
  trainingSeconds: number;
}

/** The statistics of one generation from its facts. */
export function generationStatistics(facts: GenerationFacts): Statistics {
  const { children, kept, ancestor } = facts;
  const withParent = children.filter((child) => child.parentProgram !== null);
  const alive = children.filter((child) => child.alive).length;
  const bytes = kept.map((program) => Buffer.byteLength(program));
  return {
    generation: facts.generation,
    children: children.length,
    alive,
    population: kept.length,
    survivalRate: children.length ? alive / children.length : 0,
    exactShare: withParent.length ? withParent.filter((child) => child.program === child.parentProgram).length / withParent.length : null,
    distanceToParent: spread(withParent.map((child) => levenshtein(child.program, child.parentProgram as string))),
    distanceToAncestor: spread(kept.map((program) => levenshtein(program, ancestor))),
    uniqueGenotypes: new Set(kept).size,
    diversity: shannonDiversity(kept),
    bytes: range(bytes),
    trainings: children.filter((child) => !child.cached).length,
    cacheHits: children.filter((child) => child.cached).length,
    trainingSeconds: facts.trainingSeconds,
    highOrderEntropy: highOrderEntropy(kept),
    work: range(facts.keptRuns.map((run) => run.work)),
    margin: range(facts.keptRuns.map((run) => run.minMargin)),
  };
}

const fixed = (x: number | null | undefined, digits: number): string => (x === null || x === undefined ? "-" : x.toFixed(digits));
/** 12345678 → "12.3M": counted work in a table cell. */
export const compact = (x: number): string => {
  const [value, unit] = x >= 1e12 ? [x / 1e12, "T"] : x >= 1e9 ? [x / 1e9, "G"] : x >= 1e6 ? [x / 1e6, "M"] : x >= 1e3 ? [x / 1e3, "k"] : [x, ""];
  return `${Number(value.toPrecision(3))}${unit}`;
};

/** The statistics as a text table, one row per generation. */
export function statisticsTable(rows: Statistics[]): string {
  const header = ["gen", "children", "alive", "kept", "survival", "exact", "d(parent) med/mean", "d(ancestor) med/mean", "genotypes", "diversity", "bytes min/mean/max", "trained", "cached", "train s", "H-order", "work min/mean", "margin min/mean"];
  const lines = rows.map((s) => [
    String(s.generation), String(s.children), String(s.alive), String(s.population), fixed(s.survivalRate, 2), fixed(s.exactShare, 2),
    s.distanceToParent ? `${fixed(s.distanceToParent.median, 1)}/${fixed(s.distanceToParent.mean, 1)}` : "-",
    s.distanceToAncestor ? `${fixed(s.distanceToAncestor.median, 1)}/${fixed(s.distanceToAncestor.mean, 1)}` : "-",
    String(s.uniqueGenotypes), fixed(s.diversity, 3),
    s.bytes ? `${s.bytes.min}/${fixed(s.bytes.mean, 0)}/${s.bytes.max}` : "-",
    String(s.trainings), String(s.cacheHits), fixed(s.trainingSeconds, 1), fixed(s.highOrderEntropy, 3),
    s.work ? `${compact(s.work.min)}/${compact(s.work.mean)}` : "-", s.margin ? `${fixed(s.margin.min, 2)}/${fixed(s.margin.mean, 2)}` : "-",
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells: string[]): string => cells.map((cell, i) => cell.padStart(widths[i])).join("  ");
  return `${[format(header), ...lines.map(format)].join("\n")}\n`;
}
