// The generations store: one folder per generation, written whole or not at all.
//
//   <dir>/lineage.json        summary of all generations (derived from the folders, rewritten after each one)
//   <dir>/.lock/              while a bootstrap run holds the directory (proper-lockfile; stale after LOCK_STALE_MS)
//   <dir>/gen-0000/           program.js, emitted.js, model/, diff.patch, metrics.json
//
// A generation is written into gen-XXXX.tmp-<pid>/ and renamed into place as the very last step.
// Rename is atomic, so a folder named gen-XXXX is always complete: a run killed at any moment
// (kill -9 included) leaves only finished generations and a leftover .tmp folder, removed on the
// next start. Folders can still be damaged afterwards (a deleted or edited file): readGeneration
// reports that as a reason, never as a crash.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { structuredPatch, createTwoFilesPatch } from "diff";
import { renameSafely, writeFileSafely } from "../files/write";
import { z } from "zod";
import { NOT_JSON, parseJson } from "../files/json";
import type { ModelFiles } from "../runtime";
import { EpochSchema } from "../runtime/epoch";
import { KernelRecordSchema, KernelWorkSchema } from "./sandbox-messages";
import type { Decoded } from "../runtime/decoder";
import type { Walls } from "./sandbox";

export const STATUSES = ["exact", "mutated", "dead"] as const;
export type Status = (typeof STATUSES)[number];

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a SHA-256 in hex");
const Count = z.number().int().nonnegative();

/** Which sandbox walls stood (./sandbox.ts's Walls). */
const WallsSchema = z.object({
  vm2: z.boolean(), permissions: z.boolean(), network: z.boolean(), pid: z.boolean(), files: z.boolean(), unprivileged: z.boolean(),
  memory: z.boolean(), time: z.boolean(), missing: z.array(z.string()),
}) satisfies z.ZodType<Walls>;

/** What the program said it emitted, against what its model decodes to in the parent. */
const ClaimSchema = z.object({
  matches: z.boolean(),
  chars: Count,
  hash: Sha256, // of the claimed text (the text itself is not stored: it is the program's word)
});
export type Claim = z.infer<typeof ClaimSchema>;

/** How the parent's decoding of the published model went (its text is emitted.js). */
const DecodeRecordSchema = z.object({
  minMargin: z.number(),
  stopped: z.enum(["end", "length", "time"]),
  seconds: z.number().nonnegative(),
}) satisfies z.ZodType<Omit<Decoded, "text">>;
export type DecodeRecord = z.infer<typeof DecodeRecordSchema>;

/** metrics.json: everything known about one generation. One field here is one field in the file. */
export const GenerationMetricsSchema = z.object({
  generation: Count,
  status: z.enum(STATUSES),
  reason: z.string().nullable(), // why a dead generation died, in one sentence
  parent: Count.nullable(),
  bytes: Count, // of the program
  epochs: Count,
  wallSeconds: z.number().nonnegative(),
  charsPerSecond: z.number().nonnegative(),
  backend: z.string().nullable(),
  seed: z.number().nullable(),
  programHash: Sha256,
  emittedHash: Sha256.nullable(),
  weightsHash: Sha256.nullable(),
  parentWeightsHash: Sha256.nullable(),
  textFixpoint: z.boolean(), // emitted text == program
  weightsFixpoint: z.boolean().nullable(), // weights == parent's weights; null without a parent to compare with
  changedLines: Count, // lines added plus lines removed, emitted against program
  history: z.array(EpochSchema),
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
export const LineageEntrySchema = z.object({
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
export interface NewGeneration {
  metrics: GenerationMetrics;
  program: string;
  emitted: string | null; // null when dead
  model: ModelFiles | null;
}

const GEN_PATTERN = /^gen-(\d{4,})$/;

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** gen-0007 for 7. */
export function generationName(generation: number): string {
  return `gen-${String(generation).padStart(4, "0")}`;
}

export function generationPath(dir: string, generation: number): string {
  return join(dir, generationName(generation));
}

/** Unified diff of `emitted` against `program` ("" when equal). */
export function unifiedDiff(program: string, emitted: string, from = "program.js", to = "emitted.js"): string {
  return program === emitted ? "" : createTwoFilesPatch(from, to, program, emitted, undefined, undefined, { context: 3 });
}

/** Lines added plus lines removed between two texts. */
export function countChangedLines(before: string, after: string): number {
  let changed = 0;
  for (const hunk of structuredPatch("a", "b", before, after, undefined, undefined, { context: 0 }).hunks) {
    changed += hunk.lines.filter((line) => line.startsWith("+") || line.startsWith("-")).length;
  }
  return changed;
}

// ---- listing and reading ----------------------------------------------------------------------

/** The generation numbers present in `dir` (finished folders only), ascending. */
export function listGenerations(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => GEN_PATTERN.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
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
  return `${generationPath(dir, generation)}.tmp-${process.pid}`;
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

/** Removes what a killed run left half-written: gen-XXXX.tmp-<pid>/ folders and write-file-atomic's lineage.json.<hash> files. */
export function removeLeftovers(dir: string): string[] {
  const leftovers = readdirSync(dir).filter((name) => /\.tmp-\d+$|^lineage\.json\.[0-9a-f]+$/.test(name));
  for (const name of leftovers) rmSync(join(dir, name), { recursive: true, force: true });
  return leftovers;
}

// ---- the lock -------------------------------------------------------------------------------------

/** A lock not refreshed for this long is stale: its run died (proper-lockfile refreshes it every LOCK_STALE_MS / 2). */
export const LOCK_STALE_MS = 30_000;

/**
 * Takes `<dir>/.lock` for this process (proper-lockfile: a folder made atomically, its time refreshed
 * while the run lives, safe on network file systems and not fooled by a reused PID). Another live run
 * holding it is an error; a stale one is taken over, and `note` says so.
 */
export function acquireLock(dir: string): { release: () => void; note: string | null } {
  const lockfilePath = join(dir, ".lock");
  const options = { lockfilePath, stale: LOCK_STALE_MS, realpath: false };
  // proper-lockfile may date the lock a moment ahead of this clock: an age is never negative.
  const age = existsSync(lockfilePath) ? Math.max(0, Date.now() - statSync(lockfilePath).mtimeMs) : null;
  // Loaded here, not at the top: proper-lockfile installs signal-exit's SIGINT/SIGTERM handlers when
  // loaded, and a JavaScript handler only runs between tasks, so every command (even `train`, whose
  // training never yields) would ignore Ctrl-C and kill. Only commands that take a lock load it.
  const { lockSync } = require("proper-lockfile") as typeof import("proper-lockfile");
  let release: () => void;
  try {
    release = lockSync(dir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    throw new Error(`${dir} is in use by another run (its lock was refreshed ${Math.round((age ?? 0) / 1000)} s ago); wait for it to finish or stop it first.`);
  }
  const note = age === null ? null : `took over the lock of an earlier run that stopped refreshing it ${Math.round(age / 1000)} s ago`;
  return { release, note };
}
