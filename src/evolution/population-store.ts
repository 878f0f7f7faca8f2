// The population store, beside the lineage store and with its guarantees: everything is written
// into a .tmp-<pid> folder or file and renamed into place last, so a run killed at any moment
// (kill -9 included) leaves only finished parts, and the next run removes the leftovers and goes on.
// Whatever is read back is checked (zod schemas, hashes); damage is reported as a phrase, never a crash.
//
//   <dir>/evolution.json          the run's knobs (RunRecordSchema): a resumed run must match them
//   <dir>/.lock                   while a run holds the directory (src/files/lock.ts)
//   <dir>/programs/<sha256>/      one folder per program ever run: the training cache
//       program.js, run.json (ProgramRunSchema), emitted.js (its model decoded greedily), model/,
//       log.txt (what the program wrote: its log and progress lines, the last MiB; unchecked)
//   <dir>/gen-0000/generation.json  the individuals of a generation and its statistics (GenerationSchema)
//
// An individual's model and emitted text live in its program's folder (one training per program);
// its diff against its parent is computed from the two programs when asked for.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { ModelFiles } from "../runtime";
import { renameSafely, writeFileSafely } from "../files/write";
import { generationName, listGenerations, removeLeftovers, stagingName } from "../files/generations";
import { sha256 } from "../files/hash";
import { TrainingCountsSchema } from "../runtime/epoch";
import { KernelWorkSchema } from "../sandbox";
import { RunRecordSchema, type RunRecord } from "./settings";
import { StatisticsSchema } from "./statistics";
import { MAX_EDITS, OPERATORS } from "./variation";

/** What running one program in the sandbox gave, checked and decoded by the parent. */
const ProgramRunSchema = z.object({
  programHash: z.string(),
  chars: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  status: z.enum(["alive", "dead"]),
  reason: z.string().nullable(), // why it died, one sentence
  backend: z.string(), // the pinned backend it ran on
  seconds: z.number().nonnegative(), // wall time of the run: reported, never selected on
  epochs: TrainingCountsSchema.shape.epochs.nullable(), // the program's word (checked as a count on arrival): reported, never selected on
  emittedHash: z.string().nullable(), // its model decoded greedily by the parent
  distanceToSelf: z.number().int().nonnegative().nullable(), // Levenshtein(greedy decoding, program): 0 = an exact copier
  minMargin: z.number().nullable(), // the greedy decoding's smallest logit lead
  parameters: z.number().int().nullable(),
  claimMatches: z.boolean().nullable(), // did the program's claimed text equal the parent's decoding
  weightsHash: z.string().nullable(),
  // the kernel's forward multiply-adds while it ran, counted by the sandbox's runtime (not the program's
  // word); null when dead, and in stores written before it was counted
  work: KernelWorkSchema.shape.multiplyAdds.nullable().default(null),
  // where it ran: a queued run's worker (host:pid, its word), whose sandbox counted the work and the
  // epochs; null on this machine (and in stores from before it was recorded)
  worker: z.string().max(200).nullable().default(null),
});
export type ProgramRun = z.infer<typeof ProgramRunSchema>;

const IndividualSchema = z.object({
  id: z.string(), // "<generation>.<index>"
  generation: z.number().int().nonnegative(),
  index: z.number().int().nonnegative(), // parent's index × children + child number (generation 0: 0 .. K-1)
  parent: z.string().nullable(), // the parent's id; null in generation 0 (copies of the ancestor)
  seed: z.number().int().nullable(), // the seed its copying errors were drawn from
  programHash: z.string(),
  bytes: z.number().int().nonnegative(),
  mutations: z.number().int().nonnegative(), // point mutations applied after decoding
  // what made it differ from its parent, in the order applied: its parent's model decoded to another text
  // (sampling), point mutations, the operators (./variation); empty for an exact copy and in stores from before
  changedBy: z.array(z.enum(["sampling", "point", ...OPERATORS])).default([]),
  // the operators' edits in order, the first MAX_EDITS, each with a short description (program text quoted and cut short)
  edits: z.array(z.object({ operator: z.enum(OPERATORS), line: z.number().int().positive(), description: z.string().max(200) })).max(MAX_EDITS).default([]),
  exactCopy: z.boolean().nullable(), // program == parent's program
  distanceToParent: z.number().int().nonnegative().nullable(),
  distanceToAncestor: z.number().int().nonnegative(),
  cached: z.boolean(), // its program had been run before (this run or an earlier one): no training
  status: z.enum(["kept", "culled", "dead"]),
  reason: z.string().nullable(),
});
export type Individual = z.infer<typeof IndividualSchema>;

const GenerationSchema = z.object({
  generation: z.number().int().nonnegative(),
  individuals: z.array(IndividualSchema),
  statistics: StatisticsSchema,
});
export type Generation = z.infer<typeof GenerationSchema>;

export interface StoredProgram {
  run: ProgramRun;
  program: string;
  emitted: string | null;
  modelDir: string | null;
  log: string | null; // log.txt: what the program wrote, unchecked (absent in stores from before it was kept)
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.join(".") || "the file"}: ${issue.message}`;
}

/** Reads and checks a JSON file; a phrase saying what is wrong if it cannot be used. */
function readJson<T>(path: string, schema: z.ZodType<T>, name: string): T | string {
  if (!existsSync(path) || !statSync(path).isFile()) return `${name} is missing`;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return `${name} is not valid JSON`;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : `${name} is not as expected (${firstIssue(parsed.error)})`;
}

const programsDir = (dir: string): string => join(dir, "programs");
export const programPath = (dir: string, hash: string): string => join(programsDir(dir), hash);

/** Prepares `dir` for a run: its folders. */
export function openStore(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory.`);
  mkdirSync(programsDir(dir), { recursive: true });
}

/** Removes what an interrupted run left half-written (named, for a note); only under the store's lock. */
export function removeStoreLeftovers(dir: string): string[] {
  return [...removeLeftovers(dir), ...removeLeftovers(programsDir(dir)).map((name) => `programs/${name}`)];
}

/** The run's recorded knobs, null in a new store; a damaged record throws one sentence. */
export function readRunRecord(dir: string): RunRecord | null {
  const path = join(dir, "evolution.json");
  if (!existsSync(path)) return null;
  const record = readJson(path, RunRecordSchema, "evolution.json");
  if (typeof record === "string") throw new Error(`${dir} cannot be continued: ${record}.`);
  return record;
}

export function writeRunRecord(dir: string, record: RunRecord): void {
  writeFileSafely(join(dir, "evolution.json"), `${JSON.stringify(record, null, 2)}\n`);
}

/** A program's folder read back and checked; a phrase if it is damaged, null if it was never run. */
export function readProgram(dir: string, hash: string): StoredProgram | string | null {
  const path = programPath(dir, hash);
  if (!existsSync(path)) return null;
  const run = readJson(join(path, "run.json"), ProgramRunSchema, "run.json");
  if (typeof run === "string") return run;
  const read = (name: string): string | null => existsSync(join(path, name)) ? readFileSync(join(path, name), "utf8") : null;
  const program = read("program.js");
  if (program === null || sha256(program) !== hash || run.programHash !== hash) return "program.js is missing or does not match its hash";
  const log = read("log.txt");
  if (run.status === "dead") return { run, program, emitted: null, modelDir: null, log };
  const emitted = read("emitted.js");
  if (emitted === null || sha256(emitted) !== run.emittedHash) return "emitted.js is missing or does not match run.json";
  const weights = join(path, "model", "weights.bin");
  if (!existsSync(weights) || !existsSync(join(path, "model", "model.json"))) return "its model is missing";
  if (sha256(readFileSync(weights)) !== run.weightsHash) return "model/weights.bin does not match run.json";
  return { run, program, emitted, modelDir: join(path, "model"), log };
}

/** Where a program is written to be run: its staging folder, renamed into place by writeProgram. */
export function programStaging(dir: string, hash: string): string {
  return stagingName(programPath(dir, hash));
}

/** Writes a program's run whole: into its staging folder (which holds program.js already), then one rename. */
export function writeProgram(dir: string, run: ProgramRun, emitted: string | null, model: ModelFiles | null): void {
  const tmp = programStaging(dir, run.programHash);
  const final = programPath(dir, run.programHash);
  if (emitted !== null) writeFileSafely(join(tmp, "emitted.js"), emitted);
  if (model) {
    mkdirSync(join(tmp, "model"), { recursive: true });
    writeFileSafely(join(tmp, "model", "model.json"), model["model.json"]);
    writeFileSafely(join(tmp, "model", "weights.bin"), model["weights.bin"]);
  }
  writeFileSafely(join(tmp, "run.json"), `${JSON.stringify(run, null, 2)}\n`);
  rmSync(final, { recursive: true, force: true }); // a damaged earlier folder, reported before it was run again
  renameSafely(tmp, final);
}

/** One generation read back, or a phrase saying why it cannot be used. */
export function readGeneration(dir: string, generation: number): Generation | string {
  const found = readJson(join(dir, generationName(generation), "generation.json"), GenerationSchema, `${generationName(generation)}/generation.json`);
  if (typeof found === "string") return found;
  if (found.generation !== generation) return `${generationName(generation)}/generation.json says it is generation ${found.generation}`;
  return found;
}

/** Every generation 0 .. last present; damaged or missing ones as phrases. */
export function readPopulation(dir: string): (Generation | string)[] {
  const present = listGenerations(dir);
  if (present.length === 0) return [];
  return Array.from({ length: present[present.length - 1] + 1 }, (_, generation) => readGeneration(dir, generation));
}

/** Writes a finished generation: generation.json in a staging folder, then one rename. */
export function writeGeneration(dir: string, generation: Generation): void {
  const final = join(dir, generationName(generation.generation));
  if (existsSync(final)) throw new Error(`${final} already exists: a generation is never overwritten.`);
  const tmp = stagingName(final);
  mkdirSync(tmp, { recursive: true });
  writeFileSafely(join(tmp, "generation.json"), `${JSON.stringify(GenerationSchema.parse(generation), null, 2)}\n`);
  renameSafely(tmp, final);
}
