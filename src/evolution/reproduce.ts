// Reproduction: a program runs in the sandbox (it trains on its own text and publishes its model);
// the parent checks and decodes the publication (the sandbox's publication check), stores the
// run in the training cache, and makes children from the model (./variation). A program is run at
// most once per store: training is deterministic on the pinned backend.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { sentence } from "../format";
import type { ModelFiles } from "../runtime";
import type { CheckedModel } from "../runtime/decoder";
import { sha256 } from "../files/hash";
import { checkPublication, decodeLimits, readStoredModel, runInSandbox, sandboxLimits } from "../sandbox";
import { writeFileSafely } from "../files/write";
import { programStaging, readProgram, writeProgram, type ProgramRun, type StoredProgram } from "./population-store";
import { evolvePublication, type EvolveSettings } from "./settings";
import { levenshtein } from "./statistics";

/** What a program's run gave, before the parent's checks: its publication (untrusted), or why it died. */
export type RunOutcome = ({ status: "published"; text: string; files: ModelFiles; epochs: number; work: number } | { status: "dead"; reason: string })
  & { log: string; worker?: string }; // log: what the program wrote, its log and progress lines, the last MiB (unchecked); worker: who ran it, for a queued run

/** The knobs a run depends on: the pinned backend and the limits (the same wherever the program runs). */
export type RunSettings = Pick<EvolveSettings, "backend" | "timeout" | "maxMemory">;

/** Runs a program in the sandbox, checks and decodes its publication, and stores the run. The sandbox failing itself throws. */
async function runProgram(dir: string, program: string, settings: RunSettings): Promise<StoredProgram> {
  const path = stageProgram(dir, program);
  const started = Date.now();
  const outcome = await runOutcome(path, settings);
  return await recordRun(dir, program, outcome, settings.backend, (Date.now() - started) / 1000);
}

/** Runs a program file in the sandbox, as every reproduction runs: what it published, or why it died. */
export async function runOutcome(path: string, settings: RunSettings): Promise<RunOutcome> {
  const result = await runInSandbox(path, sandboxLimits(settings, settings.backend));
  if (result.status === "dead") return { status: "dead", reason: result.reason, log: result.stderr };
  // work: the multiply-adds the kernel counted (the sandbox's count, not the program's word)
  return { status: "published", text: result.text, files: result.files, epochs: result.epochs, work: result.work.multiplyAdds, log: result.stderr };
}

/** Writes a program into its staging folder in the store (where it runs locally, and where its run is written); its path. */
function stageProgram(dir: string, program: string): string {
  const staging = programStaging(dir, sha256(program));
  mkdirSync(staging, { recursive: true });
  const path = join(staging, "program.js");
  writeFileSafely(path, program);
  return path;
}

/**
 * The parent's side of a reproduction, wherever the program ran: checks and decodes the publication
 * (untrusted: src/sandbox/publication), and writes the run into the store. `runSeconds` is the
 * run's wall time so far (reported only); the decoding's time is added.
 */
export async function recordRun(dir: string, program: string, outcome: RunOutcome, backend: RunSettings["backend"], runSeconds: number): Promise<StoredProgram> {
  const hash = sha256(program);
  if (!existsSync(join(programStaging(dir, hash), "program.js"))) stageProgram(dir, program);
  writeFileSafely(join(programStaging(dir, hash), "log.txt"), outcome.log);
  const started = Date.now();
  const base: ProgramRun = {
    programHash: hash, chars: [...program].length, bytes: Buffer.byteLength(program), status: "dead", reason: null,
    backend, seconds: 0, epochs: null, emittedHash: null, distanceToSelf: null, minMargin: null,
    parameters: null, claimMatches: null, weightsHash: null, work: null, worker: outcome.worker ?? null,
  };
  const seconds = (): number => Number((runSeconds + (Date.now() - started) / 1000).toFixed(3));
  const dead = (reason: string): StoredProgram => {
    const run = { ...base, reason: sentence(reason), seconds: seconds() };
    writeProgram(dir, run, null, null);
    return { run, program, emitted: null, modelDir: null, log: outcome.log };
  };
  if (outcome.status === "dead") return dead(outcome.reason);
  const checked = await checkPublication(program, outcome.text, outcome.files, evolvePublication);
  if (!checked.ok) return dead(checked.reason);
  const run: ProgramRun = {
    ...base, status: "alive", seconds: seconds(), epochs: outcome.epochs, emittedHash: sha256(checked.emitted),
    distanceToSelf: levenshtein(checked.emitted, program), minMargin: checked.decode.minMargin, parameters: checked.parameters,
    claimMatches: checked.claim.matches, weightsHash: sha256(outcome.files["weights.bin"]), work: outcome.work,
  };
  writeProgram(dir, run, checked.emitted, outcome.files);
  return readStoredProgram(dir, hash);
}

/**
 * Where a generation's reproductions run: given programs never run in this store, it runs each once,
 * records it (recordRun: the parent alone checks, decodes and writes the store) and hands it to
 * `onRun` as it finishes; the results come back in the programs' order. The local pool of sandboxes
 * is one; a job queue (src/queue/) is another.
 */
export interface Reproducer {
  reproduce(programs: string[], onRun: (stored: StoredProgram) => void): Promise<StoredProgram[]>;
}

/** The embedded default: `workers` sandboxes at once on this machine. */
export function localReproducer(settings: Pick<EvolveSettings, "dir" | "workers"> & RunSettings): Reproducer {
  return {
    reproduce: (programs, onRun) => runPool(programs, settings.workers, async (program) => {
      const stored = await runProgram(settings.dir, program, settings);
      onRun(stored);
      return stored;
    }),
  };
}

/** A stored program that must be intact (it was just written, or checked when the run started). */
export function readStoredProgram(dir: string, hash: string): StoredProgram {
  const stored = readProgram(dir, hash);
  if (stored === null || typeof stored === "string") throw new Error(`programs/${hash} could not be read back (${stored ?? "it is missing"}).`);
  return stored;
}

/** A living program's model, checked as the untrusted file it is. */
export function loadModel(stored: StoredProgram): CheckedModel {
  if (!stored.modelDir) throw new Error(`programs/${stored.run.programHash} has no model: it is dead.`);
  return readStoredModel(stored.modelDir, evolvePublication);
}

/** Decoding limits for a child of `program`, as the publication check decodes. */
export function childLimits(program: string, parameters: number): { maxChars: number; maxSeconds: number } {
  return decodeLimits(program, parameters, evolvePublication);
}

/** Runs `work` over `items` with at most `workers` at once; results in the items' order. */
async function runPool<T, R>(items: T[], workers: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, items.length)) }, worker));
  return results;
}
