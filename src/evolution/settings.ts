// One run of `neural-quine evolve`: every knob in one place. The CLI's options and their defaults
// are derived from this object; the store records the knobs that decide what a run produces
// (evolution.json), so that resuming with different ones is refused rather than mixed.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ROOT } from "../bundle";
import { publicationLimits } from "../ouroboros/publication";

export const evolveSettings = {
  from: join(ROOT, "evolution", "ancestor.js"), // generation 0's program, copied `population` times
  dir: "population", // the population store
  population: 8, // K: individuals kept per generation
  generations: 10, // run until generations 0 .. G-1 exist (finished ones are kept)
  children: 4, // C: children per individual per generation (one training, C samplings)
  temperature: 0.1, // T: the parent decodes a model by sampling at this temperature; 0 = greedy
  mutationRate: 0.0005, // M: point mutations (substitution, insertion, deletion) per character
  seed: 1, // every draw of the run derives from it (with the generation and the child's number)
  workers: availableParallelism(), // sandboxes running at once
  backend: "wasm" as const, // pinned for the run: the same program trains to the same weights
  timeoutSeconds: 600, // a program's time limit (dying of it depends on the machine: keep it generous)
  maxMemoryMb: 2048, // a program's memory limit
};

export type EvolveSettings = Omit<typeof evolveSettings, "backend"> & { backend: "wasm" | "cpu" };

/** What a program may publish: the ouroboros's limits. */
export const evolvePublication = publicationLimits;

/** evolution.json: the knobs that decide the population (not workers, dir or the generation count). */
export const RunRecordSchema = z.object({
  ancestorHash: z.string(),
  population: z.number().int().positive(),
  children: z.number().int().positive(),
  temperature: z.number().nonnegative(),
  mutationRate: z.number().min(0).max(1),
  seed: z.number().int(),
  backend: z.enum(["wasm", "cpu"]),
  timeoutSeconds: z.number().positive(),
  maxMemoryMb: z.number().positive(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

export function runRecord(settings: EvolveSettings, ancestorHash: string): RunRecord {
  const { population, children, temperature, mutationRate, seed, backend, timeoutSeconds, maxMemoryMb } = settings;
  return { ancestorHash, population, children, temperature, mutationRate, seed, backend, timeoutSeconds, maxMemoryMb };
}
