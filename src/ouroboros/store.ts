// The generations store: one folder per generation, written whole or not at all.
//
//   <dir>/lineage.json        summary of all generations (derived from the folders, rewritten after each one)
//   <dir>/.lock/              while a bootstrap run holds the directory (src/files/lock.ts)
//   <dir>/gen-0000/           program.js, emitted.js, model/, diff.patch, metrics.json
//
// A generation is written into gen-XXXX.tmp-<pid>/ and renamed into place as the very last step.
// Rename is atomic, so a folder named gen-XXXX is always complete: a run killed at any moment
// (kill -9 included) leaves only finished generations and a leftover .tmp folder, removed on the
// next start. Folders can still be damaged afterwards (a deleted or edited file): readGeneration
// reports that as a reason, never as a crash.
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { unifiedDiff } from "../diff";
import { generationName, generationPath, listGenerations, stagingName } from "../files/generations";
import { sha256 } from "../files/hash";
import { NOT_JSON, parseJson } from "../files/json";
import { renameSafely, writeFileSafely } from "../files/write";
import type { ModelFiles } from "../runtime";
import { EpochSchema, TrainingCountsSchema } from "../runtime/epoch";
import { ClaimSchema, DecodeRecordSchema, KernelRecordSchema, KernelWorkSchema, WallsSchema } from "../sandbox";

const STATUSES = ["exact", "mutated", "dead"] as const;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a SHA-256 in hex");
const Count = z.number().int().nonnegative();

/** metrics.json: everything known about one generation. One field here is one field in the file. */
const GenerationMetricsSchema = z.object({
  generation: Count,
  status: z.enum(STATUSES),
  reason: z.string().nullable(), // why a dead generation died, in one sentence
  parent: Count.nullable(),
  bytes: Count, // of the program
  epochs: TrainingCountsSchema.shape.epochs, // what the program published, checked as a count on arrival (src/sandbox/messages)
  wallSeconds: z.number().nonnegative(),
  charsPerSecond: z.number().nonnegative(),
  backend: z.string().nullable(),
  seed: TrainingCountsSchema.shape.seed.nullable(),
  programHash: Sha256,
  emittedHash: Sha256.nullable(),
  weightsHash: Sha256.nullable(),
  parentWeightsHash: Sha256.nullable(),
  textFixpoint: z.boolean(), // emitted text == program
  weightsFixpoint: z.boolean().nullable(), // weights == parent's weights; null without a parent to compare with
  changedLines: Count, // lines added plus lines removed, emitted against program
  history: z.array(EpochSchema), // its last records (publicationLimits.historyKept)
  historyDropped: Count.default(0), // the earlier records not kept
  // null when dead; absent (read as null) in stores written before they were recorded
  walls: WallsSchema.nullable().default(null), // which sandbox walls stood
  claim: ClaimSchema.nullable().default(null),
  decode: DecodeRecordSchema.nullable().default(null), // the parent's decoding
  parameters: Count.nullable().default(null), // of the published model
  kernel: KernelRecordSchema.nullable().default(null), // the LSTM kernel the program trained on, and its threads
  work: KernelWorkSchema.nullable().default(null), // what that kernel counted, not what the program said
});
export type GenerationMetrics = z.infer<typeof GenerationMetricsSchema>;

/** One row of lineage.json. A damaged folder appears with status "damaged" and nulls. */
const LineageEntrySchema = z.object({
  generation: Count,
  status: z.enum([...STATUSES, "damaged"]),
  bytes: Count.nullable(),
  epochs: Count.nullable(),
  wallSeconds: z.number().nonnegative().nullable(),
  textFixpoint: z.boolean().nullable(),
  weightsFixpoint: z.boolean().nullable(),
  changedLines: Count.nullable(),
});
export type LineageEntry = z.infer<typeof LineageEntrySchema>;

/** lineage.json: the rows, derived from the folders, and when they were. */
export const LineageFileSchema = z.object({ generations: z.array(LineageEntrySchema), updated: z.iso.datetime() });

/** A generation as read back from its folder; `damage` says what is wrong with it, if anything. */
export interface StoredGeneration {
  generation: number;
  path: string;
  metrics: GenerationMetrics | null;
  program: string | null;
  emitted: string | null;
  damage: string | null;
}

/** What a finished generation hands to writeGeneration. */
interface NewGeneration {
  metrics: GenerationMetrics;
  program: string;
  emitted: string | null; // null when dead
  model: ModelFiles | null;
}

/** Parses metrics.json, or says in a phrase why it cannot be used. */
function parseMetrics(text: string, generation: number): GenerationMetrics | string {
  const parsed = parseJson(text, GenerationMetricsSchema);
  if (parsed.error !== undefined) return parsed.error === NOT_JSON ? "metrics.json is not valid JSON" : `metrics.json is not a generation's record (${parsed.error})`;
  if (parsed.data.generation !== generation) return `metrics.json says it is generation ${parsed.data.generation}`;
  return parsed.data;
}

/** Reads one generation folder, checking that every file it should hold is there and matches its recorded hash. */
export function readGeneration(dir: string, generation: number): StoredGeneration {
  const path = generationPath(dir, generation);
  const found: StoredGeneration = { generation, path, metrics: null, program: null, emitted: null, damage: null };
  const damaged = (what: string): StoredGeneration => ({ ...found, damage: what });
  if (!existsSync(path) || !statSync(path).isDirectory()) return damaged(`${generationName(generation)} is missing`);
  const read = (name: string): string | null => {
    const file = join(path, name);
    return existsSync(file) && statSync(file).isFile() ? readFileSync(file, "utf8") : null;
  };
  const metricsText = read("metrics.json");
  if (metricsText === null) return damaged("metrics.json is missing");
  const metrics = parseMetrics(metricsText, generation);
  if (typeof metrics === "string") return damaged(metrics);
  found.metrics = metrics;
  found.program = read("program.js");
  if (found.program === null) return damaged("program.js is missing");
  if (sha256(found.program) !== metrics.programHash) return damaged("program.js does not match the hash in metrics.json");
  if (read("diff.patch") === null) return damaged("diff.patch is missing");
  if (metrics.status === "dead") return found;
  found.emitted = read("emitted.js");
  if (found.emitted === null) return damaged("emitted.js is missing");
  if (sha256(found.emitted) !== metrics.emittedHash) return damaged("emitted.js does not match the hash in metrics.json");
  for (const name of ["model.json", "weights.bin"]) {
    if (!existsSync(join(path, "model", name))) return damaged(`model/${name} is missing`);
  }
  const weights = readFileSync(join(path, "model", "weights.bin"));
  if (sha256(weights) !== metrics.weightsHash) return damaged("model/weights.bin does not match the hash in metrics.json");
  return found;
}

/** Every generation from 0 to the last folder present; a number without a folder is reported missing. */
export function readLineage(dir: string): StoredGeneration[] {
  const present = listGenerations(dir);
  if (present.length === 0) return [];
  const last = present[present.length - 1];
  return Array.from({ length: last + 1 }, (_, generation) => readGeneration(dir, generation));
}

/** lineage.json's rows, derived from the folders. */
export function lineageEntries(generations: StoredGeneration[]): LineageEntry[] {
  return generations.map(({ generation, metrics, damage }) => metrics && !damage
    ? {
      generation,
      status: metrics.status,
      bytes: metrics.bytes,
      epochs: metrics.epochs,
      wallSeconds: metrics.wallSeconds,
      textFixpoint: metrics.textFixpoint,
      weightsFixpoint: metrics.weightsFixpoint,
      changedLines: metrics.changedLines,
    }
    : { generation, status: "damaged", bytes: null, epochs: null, wallSeconds: null, textFixpoint: null, weightsFixpoint: null, changedLines: null });
}

// ---- writing ------------------------------------------------------------------------------------

/** Where this process builds generation `generation` before renaming it into place. */
export function stagingPath(dir: string, generation: number): string {
  return stagingName(generationPath(dir, generation));
}

/** Writes a finished generation: everything into its staging folder, then one rename. */
export function writeGeneration(dir: string, generation: NewGeneration): string {
  const final = generationPath(dir, generation.metrics.generation);
  if (existsSync(final)) throw new Error(`${final} already exists: a generation is never overwritten.`);
  const tmp = stagingPath(dir, generation.metrics.generation);
  mkdirSync(tmp, { recursive: true }); // may already hold program.js, written there to be run
  writeFileSafely(join(tmp, "program.js"), generation.program);
  if (generation.emitted !== null) writeFileSafely(join(tmp, "emitted.js"), generation.emitted);
  if (generation.model) {
    mkdirSync(join(tmp, "model"));
    writeFileSafely(join(tmp, "model", "model.json"), generation.model["model.json"]);
    writeFileSafely(join(tmp, "model", "weights.bin"), generation.model["weights.bin"]);
  }
  writeFileSafely(join(tmp, "diff.patch"), generation.emitted === null ? "" : unifiedDiff(generation.program, generation.emitted));
  writeFileSafely(join(tmp, "metrics.json"), `${JSON.stringify(generation.metrics, null, 2)}\n`);
  renameSafely(tmp, final);
  return final;
}

/** Rewrites lineage.json from the generation folders. */
export function writeLineageSummary(dir: string): void {
  const summary: z.infer<typeof LineageFileSchema> = { generations: lineageEntries(readLineage(dir)), updated: new Date().toISOString() };
  writeFileSafely(join(dir, "lineage.json"), `${JSON.stringify(summary, null, 2)}\n`);
}
