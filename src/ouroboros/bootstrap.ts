// The ouroboros: generation k runs its program in the sandbox; the program trains a model on its own
// text and emits what greedy decoding gives back; that text is generation k+1's program. The harness
// never hands a program the expected output: the program's only input is its own file.
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { errorMessage, round, sentence } from "../format";
import { check } from "../files/json";
import { writeFileSafely } from "../files/write";
import { QUINE_PATH } from "../paths";
import type { Epoch } from "../runtime";
import { EpochSchema } from "../runtime/epoch";
import { z } from "zod";
import { countChangedLines } from "../diff";
import { generationName, removeLeftovers } from "../files/generations";
import { sha256 } from "../files/hash";
import { acquireLock } from "../files/lock";
import {
  DEFAULT_LIMITS, PublicationOptionsSchema, probeWalls, publicationLimits, runAndCheck, storeOverflow,
  type PublicationLimits, type SandboxLimits, type Verdict,
} from "../sandbox";
import { readGeneration, readLineage, stagingPath, writeGeneration, writeLineageSummary, type GenerationMetrics, type StoredGeneration } from "./store";

/** How many generations `bootstrap` runs by default: 0, 1 and 2. */
const DEFAULT_GENERATIONS = 3;
export const DEFAULT_DIR = "generations";

/**
 * bootstrap's settings: the sandbox's and the publication's limits in the units a person gives them;
 * its options are generated from this (src/options.ts).
 */
export const BootstrapSettingsSchema = z.object({
  generations: z.number().int().nonnegative().describe("run until the lineage has this many generations (finished ones are kept)"),
  timeout: z.number().positive().describe("a program's time limit, in seconds"),
  maxMemory: z.number().positive().describe("a program's memory limit, in MB"),
  ...PublicationOptionsSchema.shape,
});
type BootstrapSettings = z.infer<typeof BootstrapSettingsSchema>;
export const BOOTSTRAP_DEFAULTS: BootstrapSettings = {
  generations: DEFAULT_GENERATIONS, timeout: DEFAULT_LIMITS.timeoutMs / 1000, maxMemory: DEFAULT_LIMITS.maxMemoryMb,
  ...PublicationOptionsSchema.parse(publicationLimits),
};

/** The publication's limits from bootstrap's settings. */
export function publicationLimitsOf(settings: BootstrapSettings): PublicationLimits {
  return { ...publicationLimits, ...PublicationOptionsSchema.parse(settings) };
}

interface BootstrapOptions {
  dir: string;
  generations: number; // the lineage's length to reach: generations 0 .. N-1 (finished ones are kept)
  from?: string; // generation 0's program (default: the bundle quine/quine.js)
  limits: SandboxLimits;
  publication: PublicationLimits; // what a program may publish; the parent decodes the model itself
  onEvent?: (event: BootstrapEvent) => void;
}

export type BootstrapEvent =
  | { type: "note"; message: string }
  | { type: "start"; generation: number; bytes: number }
  | { type: "log"; generation: number; line: string; seconds: number }
  | { type: "progress"; generation: number; epoch: Epoch; positions: number; seconds: number }
  | { type: "done"; generation: number; metrics: GenerationMetrics };

export interface BootstrapResult {
  ran: GenerationMetrics[]; // the generations this run added
  lineage: StoredGeneration[]; // the whole lineage afterwards
  stopped: string | null; // why the lineage cannot go on (it died), if so
}

/** Runs the loop until the lineage in `dir` has `generations` generations or one dies. */
export async function bootstrap(options: BootstrapOptions): Promise<BootstrapResult> {
  const { dir } = options;
  const emit = options.onEvent ?? (() => {});
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory.`);
  mkdirSync(dir, { recursive: true });
  const lock = acquireLock(dir);
  try {
    if (lock.note) emit({ type: "note", message: lock.note });
    // Said once, not silently: a wall this system cannot raise (each generation records it too).
    for (const missing of probeWalls().missing) emit({ type: "note", message: missing.replace(/\.$/, "") });
    for (const name of removeLeftovers(dir)) emit({ type: "note", message: `removed ${name}, left half-written by an interrupted run` });

    const lineage = readLineage(dir);
    const first = startingProgram(options.from);
    if (lineage.length > 0 && lineage[0].program !== null && lineage[0].program !== first.text) {
      throw new Error(`${dir} already holds a lineage that starts from a different program than ${first.path}; use another --dir or remove ${dir}.`);
    }
    for (const damaged of lineage.filter((g) => g.damage).slice(0, -1)) {
      emit({ type: "note", message: `${generationName(damaged.generation)} is damaged (${damaged.damage}); continuing from the last generation` });
    }
    let parent = lineage.at(-1);
    if (parent?.damage) {
      throw new Error(`${generationName(parent.generation)} in ${dir} is damaged (${parent.damage}), so the lineage cannot continue from it; remove that folder to run it again.`);
    }
    if (lineage.length > 0) emit({ type: "note", message: `continuing after ${generationName(lineage.length - 1)}` });

    const ran: GenerationMetrics[] = [];
    for (let generation = lineage.length; generation < options.generations; generation++) {
      if (parent?.metrics?.status === "dead") break;
      const program = parent ? (parent.emitted as string) : first.text;
      const metrics = await runGeneration(dir, generation, program, parent?.metrics ?? null, options, emit);
      ran.push(metrics);
      writeLineageSummary(dir);
      emit({ type: "done", generation, metrics });
      parent = readGeneration(dir, generation); // read back: the folder is the source of truth
      if (parent.damage) throw new Error(`${generationName(generation)} could not be read back after writing it (${parent.damage}).`);
    }
    writeLineageSummary(dir);
    const last = parent?.metrics;
    const stopped = last?.status === "dead" ? `the lineage died at ${generationName(last.generation)}: ${last.reason}` : null;
    return { ran, lineage: readLineage(dir), stopped };
  } finally {
    lock.release();
  }
}

/** Generation 0's program: the file given with --from, or the bundle. */
function startingProgram(from: string | undefined): { path: string; text: string } {
  const path = from ?? QUINE_PATH;
  if (!existsSync(path)) throw new Error(from ? `File not found: ${from}.` : `${QUINE_PATH} is missing: run npm run build.`);
  if (statSync(path).isDirectory()) throw new Error(`${path} is a directory, not a program file.`);
  return { path, text: readFileSync(path, "utf8") };
}

/**
 * Writes a generation's program into its staging folder and runs it in the sandbox, passing its
 * progress on as events; the sandbox checks and decodes what it published.
 */
async function runStaged(
  dir: string, generation: number, program: string, options: Pick<BootstrapOptions, "limits" | "publication">,
  emit: (event: BootstrapEvent) => void,
): Promise<{ verdict: Verdict; progress: KeptRecords }> {
  const staging = stagingPath(dir, generation);
  mkdirSync(staging, { recursive: true });
  const programPath = join(staging, "program.js");
  writeFileSafely(programPath, program);
  emit({ type: "start", generation, bytes: Buffer.byteLength(program) });
  const started = Date.now();
  const seconds = (): number => (Date.now() - started) / 1000;
  const positions = [...program].length + 1; // what the program trains on: its text and the boundary
  const progress = lastRecords(options.publication.historyKept);
  const onLog = (line: string): void => emit({ type: "log", generation, line, seconds: seconds() });
  const onProgress = (epoch: Epoch): void => {
    progress.add(epoch);
    emit({ type: "progress", generation, epoch, positions, seconds: seconds() });
  };
  let verdict: Verdict;
  try {
    verdict = await runAndCheck(programPath, program, options.limits, options.publication, { onLog, onProgress });
  } catch (error) {
    // The sandbox itself failing is the harness's problem, not the program's: stop, store nothing.
    throw new Error(`The sandbox failed while running ${generationName(generation)}: ${errorMessage(error)}`);
  }
  writeFileSafely(join(staging, "log.txt"), verdict.stderr); // outside the try: a full disk is said as such
  return { verdict, progress };
}

/** A training history as kept: its last records, and how many earlier ones were dropped. */
interface KeptRecords {
  add(epoch: Epoch): void;
  records(): { history: Epoch[]; dropped: number };
}

/** Keeps the last `limit` records of a stream of them (a program may report a pass as often as the rate limit lets it: an hour is millions). */
function lastRecords(limit: number): KeptRecords {
  let kept: Epoch[] = [];
  let dropped = 0;
  return {
    add(epoch) {
      kept.push(epoch);
      if (kept.length >= 2 * limit) { // trimmed now and then, not at every record
        dropped += kept.length - limit;
        kept = kept.slice(-limit);
      }
    },
    records() {
      const extra = Math.max(0, kept.length - limit);
      return { history: kept.slice(extra), dropped: dropped + extra };
    },
  };
}

/** The history a generation keeps: the one the program published, if it checks, else the passes it reported as it went; the last `limit` records of either. */
function keptHistory(published: unknown[], progress: KeptRecords, limit: number): { history: Epoch[]; dropped: number } {
  const last = published.slice(-limit); // before each record is checked: a publication may hold millions
  const checked = check(EpochSchema.array(), last);
  if (checked.error !== undefined || checked.data.length === 0) return progress.records();
  return { history: checked.data, dropped: published.length - last.length };
}

/** What a finished generation adds to the store, at most: its texts, their diff, the model, the log and the metrics with their history. */
function storedBytes(program: string, result: Extract<Verdict, { status: "alive" }>, history: Epoch[]): number {
  const texts = Buffer.byteLength(program) + Buffer.byteLength(result.emitted);
  const metrics = Buffer.byteLength(JSON.stringify(history, null, 6)) + 4096; // as metrics.json indents it, and its other fields
  return 2 * texts + Buffer.byteLength(result.files["model.json"]) + result.files["weights.bin"].byteLength + Buffer.byteLength(result.stderr) + metrics;
}

/** Runs one generation's program in the sandbox, decodes what it published, and stores the outcome. */
async function runGeneration(
  dir: string, generation: number, program: string, parent: GenerationMetrics | null,
  options: Pick<BootstrapOptions, "limits" | "publication">, emit: (event: BootstrapEvent) => void,
): Promise<GenerationMetrics> {
  const started = Date.now();
  const { verdict: result, progress } = await runStaged(dir, generation, program, options, emit);
  const base = {
    generation,
    parent: parent ? parent.generation : null,
    bytes: Buffer.byteLength(program),
    programHash: sha256(program),
    parentWeightsHash: parent?.weightsHash ?? null,
    walls: result.walls,
  };
  const dead = (reason: string): GenerationMetrics => {
    const metrics: GenerationMetrics = {
      ...base, wallSeconds: round((Date.now() - started) / 1000, 3), status: "dead", reason: sentence(reason), epochs: 0,
      charsPerSecond: 0, backend: null, seed: null, emittedHash: null, weightsHash: null, textFixpoint: false, weightsFixpoint: null,
      changedLines: 0, history: [], historyDropped: 0, claim: null, decode: null, parameters: null, kernel: null, work: null,
    };
    writeGeneration(dir, { metrics, program, emitted: null, model: null });
    return metrics;
  };
  if (result.status === "dead") return dead(result.reason);
  // The child is what the published model decodes to here, not what the program says it emitted.
  const { emitted, decode, claim, parameters } = result;
  const { history, dropped } = keptHistory(result.history, progress, options.publication.historyKept);
  const overflow = storeOverflow(storedBytes(program, result, history), options.publication);
  if (overflow) return dead(overflow);
  const wallSeconds = round((Date.now() - started) / 1000, 3);
  const weightsHash = sha256(result.files["weights.bin"]); // the float32 weights in saved order, as rt.weightsHash
  const trainSeconds = history.at(-1)?.seconds ?? 0;
  const charsSeconds = trainSeconds > 0 ? trainSeconds : wallSeconds;
  const metrics: GenerationMetrics = {
    ...base,
    wallSeconds,
    status: emitted === program ? "exact" : "mutated",
    reason: null,
    epochs: result.epochs,
    charsPerSecond: Math.round((([...program].length + 1) * result.epochs) / charsSeconds),
    backend: result.backend,
    seed: result.seed,
    emittedHash: sha256(emitted),
    weightsHash,
    textFixpoint: emitted === program,
    weightsFixpoint: parent?.weightsHash ? weightsHash === parent.weightsHash : null,
    changedLines: countChangedLines(program, emitted),
    history,
    historyDropped: dropped,
    claim,
    decode,
    parameters,
    kernel: result.kernel,
    work: result.work,
  };
  writeGeneration(dir, { metrics, program, emitted, model: result.files });
  return metrics;
}

