// The generations store: one folder per generation, written whole or not at all.
//
//   <dir>/lineage.json        summary of all generations (derived from the folders, rewritten after each one)
//   <dir>/.lock               {pid, started} while a bootstrap run holds the directory
//   <dir>/gen-0000/           program.js, emitted.js, model/, diff.patch, metrics.json
//
// A generation is written into gen-XXXX.tmp-<pid>/ and renamed into place as the very last step.
// Rename is atomic, so a folder named gen-XXXX is always complete: a run killed at any moment
// (kill -9 included) leaves only finished generations and a leftover .tmp folder, removed on the
// next start. Folders can still be damaged afterwards (a deleted or edited file): readGeneration
// reports that as a reason, never as a crash.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, closeSync } from "node:fs";
import { join } from "node:path";
import { structuredPatch, createTwoFilesPatch } from "diff";
import type { Epoch, ModelFiles } from "../runtime";

export type Status = "exact" | "mutated" | "dead";

/** metrics.json: everything known about one generation. */
export interface GenerationMetrics {
  generation: number;
  status: Status;
  reason: string | null; // why a dead generation died, in one sentence
  parent: number | null;
  bytes: number; // of the program
  epochs: number;
  wallSeconds: number;
  charsPerSecond: number;
  backend: string | null;
  seed: number | null;
  programHash: string;
  emittedHash: string | null;
  weightsHash: string | null;
  parentWeightsHash: string | null;
  textFixpoint: boolean; // emitted text == program
  weightsFixpoint: boolean | null; // weights == parent's weights; null without a parent to compare with
  changedLines: number; // lines added plus lines removed, emitted against program
  history: Epoch[];
}

/** One row of lineage.json. A damaged folder appears with status "damaged" and nulls. */
export interface LineageEntry {
  generation: number;
  status: Status | "damaged";
  bytes: number | null;
  epochs: number | null;
  wallSeconds: number | null;
  textFixpoint: boolean | null;
  weightsFixpoint: boolean | null;
  changedLines: number | null;
}

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

/** Writes a file atomically: a temporary file next to it, then a rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
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

const METRIC_FIELDS: Record<string, string[]> = {
  number: ["generation", "bytes", "epochs", "wallSeconds", "charsPerSecond", "changedLines"],
  string: ["status", "programHash"],
  boolean: ["textFixpoint"],
  object: ["history"],
};

/** Parses metrics.json, or says in a phrase why it cannot be used. */
function parseMetrics(text: string, generation: number): GenerationMetrics | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return "metrics.json is not valid JSON";
  }
  if (typeof json !== "object" || json === null) return "metrics.json does not hold a record";
  const record = json as Record<string, unknown>;
  for (const [type, fields] of Object.entries(METRIC_FIELDS)) {
    for (const field of fields) {
      if (typeof record[field] !== type || record[field] === null) return `metrics.json lacks a valid "${field}"`;
    }
  }
  if (!["exact", "mutated", "dead"].includes(record.status as string)) return `metrics.json has an unknown status "${String(record.status)}"`;
  if (record.generation !== generation) return `metrics.json says it is generation ${String(record.generation)}`;
  return record as unknown as GenerationMetrics;
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
  writeFileSync(join(tmp, "program.js"), generation.program);
  if (generation.emitted !== null) writeFileSync(join(tmp, "emitted.js"), generation.emitted);
  if (generation.model) {
    mkdirSync(join(tmp, "model"));
    writeFileSync(join(tmp, "model", "model.json"), generation.model["model.json"]);
    writeFileSync(join(tmp, "model", "weights.bin"), generation.model["weights.bin"]);
  }
  writeFileSync(join(tmp, "diff.patch"), generation.emitted === null ? "" : unifiedDiff(generation.program, generation.emitted));
  writeFileSync(join(tmp, "metrics.json"), `${JSON.stringify(generation.metrics, null, 2)}\n`);
  renameSync(tmp, final);
  return final;
}

/** Rewrites lineage.json from the generation folders. */
export function writeLineageSummary(dir: string): void {
  const summary = { generations: lineageEntries(readLineage(dir)), updated: new Date().toISOString() };
  writeFileAtomic(join(dir, "lineage.json"), `${JSON.stringify(summary, null, 2)}\n`);
}

/** Removes what a killed run left half-written: gen-XXXX.tmp-<pid>/ folders and *.tmp-<pid> files. */
export function removeLeftovers(dir: string): string[] {
  const leftovers = readdirSync(dir).filter((name) => /\.tmp-\d+$/.test(name));
  for (const name of leftovers) rmSync(join(dir, name), { recursive: true, force: true });
  return leftovers;
}

// ---- the lock -------------------------------------------------------------------------------------

interface LockRecord {
  pid: number;
  started: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
}

function readLock(path: string): LockRecord | null {
  try {
    const record = JSON.parse(readFileSync(path, "utf8")) as Partial<LockRecord>;
    return typeof record.pid === "number" ? { pid: record.pid, started: String(record.started) } : null;
  } catch {
    return null; // half-written or unreadable: treated as stale
  }
}

/**
 * Takes `<dir>/.lock` for this process. Another live run holding it is an error; a lock left by a
 * dead process is taken over, and `note` says so. Returns a function that releases the lock.
 */
export function acquireLock(dir: string): { release: () => void; note: string | null } {
  const path = join(dir, ".lock");
  let note: string | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // "wx": create exclusively, so of two runs starting at once exactly one gets the lock.
      const fd = openSync(path, "wx");
      writeFileSync(fd, `${JSON.stringify({ pid: process.pid, started: new Date().toISOString() })}\n`);
      closeSync(fd);
      const release = (): void => {
        if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
      };
      return { release, note };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readLock(path);
    if (holder && isAlive(holder.pid)) {
      throw new Error(`${dir} is in use by another bootstrap run (pid ${holder.pid}, started ${holder.started}); wait for it to finish or stop it first.`);
    }
    note = holder
      ? `took over the lock of an earlier run (pid ${holder.pid}, started ${holder.started}) that is no longer running`
      : "took over an unreadable lock file left by an earlier run";
    rmSync(path, { force: true });
  }
  throw new Error(`Could not take the lock ${path}: another run keeps taking it.`);
}
