// Reproduction: a program runs in the sandbox (it trains on its own text and publishes its model);
// the parent checks and decodes the publication (the ouroboros's publication check), stores the
// run in the training cache, and makes children from the model (./variation). A program is run at
// most once per store: training is deterministic on the pinned backend.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sentence } from "../format";
import type { CheckedModel } from "../runtime/decoder";
import { checkPublication, decodeLimits, readStoredModel } from "../ouroboros/publication";
import { runInSandbox } from "../ouroboros/sandbox";
import { sha256 } from "../ouroboros/store";
import { writeFileSafely } from "../files/write";
import { programStaging, readProgram, writeProgram, type ProgramRun, type StoredProgram } from "./population-store";
import { evolvePublication, type EvolveSettings } from "./settings";
import { levenshtein } from "./statistics";

/** Runs a program in the sandbox, checks and decodes its publication, and stores the run. The sandbox failing itself throws. */
export async function runProgram(dir: string, program: string, settings: Pick<EvolveSettings, "backend" | "timeout" | "maxMemory">): Promise<StoredProgram> {
  const hash = sha256(program);
  const staging = programStaging(dir, hash);
  mkdirSync(staging, { recursive: true });
  const path = join(staging, "program.js");
  writeFileSync(path, program);
  const started = Date.now();
  const result = await runInSandbox(path, { timeoutMs: settings.timeout * 1000, maxMemoryMb: settings.maxMemory, backend: settings.backend });
  writeFileSafely(join(staging, "log.txt"), result.stderr); // what the program wrote (its log and progress lines; the last MiB)
  const base: ProgramRun = {
    programHash: hash, chars: [...program].length, bytes: Buffer.byteLength(program), status: "dead", reason: null,
    backend: settings.backend, seconds: 0, epochs: null, emittedHash: null, distanceToSelf: null, minMargin: null,
    parameters: null, claimMatches: null, weightsHash: null, work: null,
  };
  const seconds = (): number => Number(((Date.now() - started) / 1000).toFixed(3));
  const dead = (reason: string): StoredProgram => {
    const run = { ...base, reason: sentence(reason), seconds: seconds() };
    writeProgram(dir, run, null, null);
    return { run, program, emitted: null, modelDir: null, log: result.stderr };
  };
  if (result.status === "dead") return dead(result.reason);
  const checked = checkPublication(program, result.text, result.files, evolvePublication);
  if (!checked.ok) return dead(checked.reason);
  const run: ProgramRun = {
    ...base, status: "alive", seconds: seconds(), epochs: result.epochs, emittedHash: sha256(checked.emitted),
    distanceToSelf: levenshtein(checked.emitted, program), minMargin: checked.decode.minMargin, parameters: checked.parameters,
    claimMatches: checked.claim.matches, weightsHash: sha256(result.files["weights.bin"]), work: result.work.multiplyAdds,
  };
  writeProgram(dir, run, checked.emitted, result.files);
  return readStoredProgram(dir, hash);
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
export function childLimits(program: string): { maxChars: number; maxSeconds: number } {
  return decodeLimits(program, evolvePublication);
}

/** Runs `work` over `items` with at most `workers` at once; results in the items' order. */
export async function runPool<T, R>(items: T[], workers: number, work: (item: T) => Promise<R>): Promise<R[]> {
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
