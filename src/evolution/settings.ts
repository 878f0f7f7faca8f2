// One run of `neural-quine evolve`: every knob in one place. The CLI's options and their defaults
// are derived from this object; the store records the knobs that decide what a run produces
// (evolution.json), so that resuming with different ones is refused rather than mixed.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ROOT } from "../paths";
import { publicationLimits } from "../sandbox";

/** Every knob of a run: each field's description is its --option's help (src/options.ts). */
export const EvolveSettingsSchema = z.object({
  from: z.string().min(1).describe("the ancestor program: generation 0 holds `population` copies of it"),
  dir: z.string().min(1).describe("the population store"),
  population: z.number().int().positive().describe("K: individuals kept per generation"),
  generations: z.number().int().positive().describe("run until generations 0 .. G-1 exist (finished ones are kept)"),
  children: z.number().int().positive().describe("C: children per individual per generation (one training, C samplings)"),
  temperature: z.number().nonnegative().describe("T: the parent samples each child from the model at this temperature; 0 = greedy"),
  mutationRate: z.number().min(0).max(1).describe("M: point mutations (substitution, insertion, deletion) per character after decoding"),
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
export const RunRecordSchema = EvolveSettingsSchema.pick(DECIDING).extend({ ancestorHash: z.string() });
export type RunRecord = z.infer<typeof RunRecordSchema>;

export function runRecord(settings: EvolveSettings, ancestorHash: string): RunRecord {
  return RunRecordSchema.parse({ ...settings, ancestorHash });
}
