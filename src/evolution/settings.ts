// One run of `neural-quine evolve`: every knob in one place. The CLI's options and their defaults
// are derived from this object; the store records the knobs that decide what a run produces
// (evolution.json), so that resuming with different ones is refused rather than mixed.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ROOT } from "../paths";
import { publicationLimits } from "../sandbox";
import { OPERATORS } from "./variation";

const rate = z.number().min(0).max(1);

/** The operators' rates (./variation): per number literal, per token, per line; `point`, when given, is M (given, wins over --mutation-rate). */
export const MutationRatesSchema = z.object({ point: rate.optional(), number: rate, token: rate, line: rate });
export type MutationRates = z.infer<typeof MutationRatesSchema>;

const NAMES = ["point", ...OPERATORS] as const;

/** "point=0.0005,number=0.01,line=0.001" → rates (the names not given are 0; point, if absent, is --mutation-rate). */
export function parseMutations(spec: string): MutationRates | string {
  const rates: MutationRates = { number: 0, token: 0, line: 0 };
  const seen = new Set<string>();
  for (const part of spec.split(",").map((p) => p.trim()).filter(Boolean)) {
    const match = /^([a-z]+)=(.+)$/.exec(part);
    if (!match) return `${JSON.stringify(part)} is not name=rate (for example point=0.0005,number=0.01)`;
    const [, name, value] = match;
    if (!(NAMES as readonly string[]).includes(name)) return `${JSON.stringify(name)} is not an operator: use ${NAMES.join(", ")}`;
    if (seen.has(name)) return `${name} is given twice`;
    seen.add(name);
    const number = Number(value);
    if (!rate.safeParse(number).success || value.trim() === "") return `${name}=${value} is not a rate between 0 and 1`;
    rates[name as (typeof NAMES)[number]] = number;
  }
  return rates;
}

/** --mutations: a spec on the command line, the rates in the settings object. */
const MutationsSchema = z.preprocess((value, context) => {
  if (typeof value !== "string") return value;
  const parsed = parseMutations(value);
  if (typeof parsed === "string") context.issues.push({ code: "custom", message: parsed, input: value });
  return parsed;
}, MutationRatesSchema);

/** Every knob of a run: each field's description is its --option's help (src/options.ts). */
export const EvolveSettingsSchema = z.object({
  from: z.string().min(1).describe("the ancestor program: generation 0 holds `population` copies of it"),
  dir: z.string().min(1).describe("the population store"),
  population: z.number().int().positive().describe("K: individuals kept per generation"),
  generations: z.number().int().positive().describe("run until generations 0 .. G-1 exist (finished ones are kept)"),
  children: z.number().int().positive().describe("C: children per individual per generation (one training, C samplings)"),
  temperature: z.number().nonnegative().describe("T: the parent samples each child from the model at this temperature; 0 = greedy"),
  mutationRate: z.number().min(0).max(1).describe("M: point mutations (substitution, insertion, deletion) per character after decoding"),
  mutations: MutationsSchema.describe("mutation operators' rates, name=rate separated by commas: point (per character, as --mutation-rate), number (a number literal nudged ±1, ×2 or ÷2), token (a token duplicated or dropped), line (a line duplicated or dropped), each per site"),
  seed: z.number().int().describe("the run's seed: every copying error derives from it, the generation and the child's number"),
  workers: z.number().int().positive().describe("sandboxes running at once"),
  backend: z.enum(["wasm", "cpu"]).describe("TensorFlow.js backend, pinned for the run, so the same program trains to the same weights"),
  timeout: z.number().positive().describe("a program's time limit, in seconds (dying of it depends on the machine: keep it generous)"),
  maxMemory: z.number().positive().describe("a program's memory limit, in MB"),
  minutes: z.number().positive().optional().describe("start no generation after this many minutes (the one under way finishes; run again to continue)"),
});
export type EvolveSettings = z.infer<typeof EvolveSettingsSchema>;

export const evolveSettings: EvolveSettings = {
  from: join(ROOT, "evolution", "ancestor.js"),
  dir: "population",
  population: 8,
  generations: 10,
  children: 4,
  temperature: 0.1,
  mutationRate: 0.0005,
  mutations: { number: 0, token: 0, line: 0 },
  seed: 1,
  workers: availableParallelism(),
  backend: "wasm",
  timeout: 600,
  maxMemory: 2048,
};

/** What a program may publish: the sandbox's limits, as for a lineage. */
export const evolvePublication = publicationLimits;

/** The knobs that decide the population (not workers, dir, the generation count or the time budget). */
const DECIDING = { population: true, children: true, temperature: true, mutationRate: true, seed: true, backend: true, timeout: true, maxMemory: true } as const;

/** evolution.json: the deciding knobs and the ancestor's hash; a resumed run must match them. */
export const RunRecordSchema = EvolveSettingsSchema.pick(DECIDING).extend({
  ancestorHash: z.string(),
  operators: MutationRatesSchema.omit({ point: true }).optional(), // absent: none (as in stores written before operators)
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** The point-mutation rate M and the operators' rates a run uses (`point` in --mutations, given, wins over --mutation-rate). */
export function variationRates(settings: Pick<EvolveSettings, "mutationRate" | "mutations">): { mutationRate: number; operators: Omit<MutationRates, "point"> } {
  const { point, number, token, line } = settings.mutations;
  return { mutationRate: point ?? settings.mutationRate, operators: { number, token, line } };
}

export function runRecord(settings: EvolveSettings, ancestorHash: string): RunRecord {
  const { mutationRate, operators } = variationRates(settings);
  const anyOperator = Object.values(operators).some((r) => r > 0);
  return RunRecordSchema.parse({ ...settings, mutationRate, ...(anyOperator ? { operators } : {}), ancestorHash });
}
