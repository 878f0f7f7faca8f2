// What crosses the queue, described once. A job carries one reproduction: the program and every knob
// its run depends on (the pinned backend, the limits, the runtime it must run on), so that a worker's
// machine cannot change what it gives. Its result carries what the sandbox gave back: the published
// model's files (weights as base64: BullMQ stores results as JSON), the program's claimed text and
// epochs, or why it died. Both sides check what they read: a job may come from anyone who can reach
// Redis, and a result from any worker; the coordinator decodes every model itself (src/evolution/reproduce).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ROOT } from "../paths";
import { wasmKernel } from "../runtime/lstm-wasm";
import { evolvePublication } from "../evolution/settings";
import type { RunOutcome, RunSettings } from "../evolution/reproduce";
import { sha256 } from "../files/hash";
import { TrainingCountsSchema } from "../runtime/epoch";
import { KernelWorkSchema, LINE_MAX } from "../sandbox";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 in hex");

/** A published model.json is a few kB; this bounds what a result may make the coordinator parse. */
const MODEL_JSON_MAX = 1 << 20;
/** weights.bin of the largest model a publication may have (float32 weights), as base64. */
const WEIGHTS_BASE64_MAX = Math.ceil((4 * evolvePublication.maxParameters) / 3) * 4;
/** The sandbox keeps the last MiB of what a program writes: at most as many UTF-16 units. */
const LOG_MAX = 1 << 20;
/** A claimed text of up to maxText characters is at most twice as many UTF-16 units. */
const TEXT_MAX = 2 * evolvePublication.maxText;

/**
 * The code a program runs on: a worker with other versions refuses the job (another worker may take
 * it). The kernel is part of it: the sandbox trains on the wasm kernel where WebAssembly SIMD runs
 * and on the JavaScript one elsewhere, and the two give different weights.
 */
export function runtimeIdentity(): string {
  const version = (path: string): string => (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
  const kernel = wasmKernel() === null ? "js" : "wasm";
  return `neural-quine ${version(join(ROOT, "package.json"))}, @tensorflow/tfjs-core ${version(require.resolve("@tensorflow/tfjs-core/package.json"))}, ${kernel} kernel`;
}

export const JobDataSchema = z.object({
  program: z.string().max(TEXT_MAX),
  programHash: Sha256,
  backend: z.enum(["wasm", "cpu"]),
  timeout: z.number().positive(), // seconds
  maxMemory: z.number().positive(), // MB
  runtime: z.string().max(LINE_MAX),
});
export type JobData = z.infer<typeof JobDataSchema>;

const Worker = z.string().max(200); // who ran it (host and pid), for messages
const Walls = z.array(z.string().max(LINE_MAX)).max(20); // the sandbox's missing walls, one sentence each
const Log = z.string().max(LOG_MAX); // what the program wrote (the sandbox keeps the last MiB)

export const JobResultSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("published"),
    programHash: Sha256,
    text: z.string().max(TEXT_MAX),
    modelJson: z.string().max(MODEL_JSON_MAX),
    weightsBase64: z.base64().max(WEIGHTS_BASE64_MAX),
    epochs: TrainingCountsSchema.shape.epochs, // as the sandbox's message and the store check it
    work: KernelWorkSchema.shape.multiplyAdds, // counted by the worker's sandbox: the coordinator cannot check it
    seconds: z.number().nonnegative(),
    worker: Worker,
    missingWalls: Walls,
    log: Log,
  }),
  z.object({
    status: z.literal("dead"),
    programHash: Sha256,
    reason: z.string().max(LINE_MAX),
    seconds: z.number().nonnegative(),
    worker: Worker,
    missingWalls: Walls,
    log: Log,
  }),
]);
export type JobResult = z.infer<typeof JobResultSchema>;

/** The job for one program's run. */
export function jobData(program: string, settings: RunSettings): JobData {
  return { program, programHash: sha256(program), backend: settings.backend, timeout: settings.timeout, maxMemory: settings.maxMemory, runtime: runtimeIdentity() };
}

/**
 * The job's id: the hash of everything its result depends on. Adding a job whose id exists is a
 * no-op in BullMQ, so a coordinator restarted after a kill re-adds its jobs and gets the ones
 * already running or finished, never a second run.
 */
export function jobId(data: JobData): string {
  const { programHash, backend, timeout, maxMemory, runtime } = data;
  return `run-${sha256(JSON.stringify({ programHash, backend, timeout, maxMemory, runtime }))}`;
}

/** A sandbox's outcome as a job result; a publication larger than the result may carry is a death (no publication may be that large). */
export function jobResult(data: JobData, outcome: RunOutcome, seconds: number, worker: string, missingWalls: string[]): JobResult {
  const common = { programHash: data.programHash, seconds, worker, missingWalls: missingWalls.slice(0, 20).map((wall) => wall.slice(0, LINE_MAX)), log: outcome.log.slice(-LOG_MAX) };
  if (outcome.status === "dead") return { status: "dead", reason: outcome.reason.slice(0, LINE_MAX), ...common };
  const weightsBase64 = Buffer.from(outcome.files["weights.bin"]).toString("base64");
  const modelJson = outcome.files["model.json"];
  if (outcome.text.length > TEXT_MAX || modelJson.length > MODEL_JSON_MAX || weightsBase64.length > WEIGHTS_BASE64_MAX) {
    const reason = `its publication was refused: it is larger than any publication may be (a text over ${evolvePublication.maxText.toLocaleString("en")} characters, or weights over ${evolvePublication.maxParameters.toLocaleString("en")} parameters).`;
    return { status: "dead", reason, ...common };
  }
  return { status: "published", text: outcome.text, modelJson, weightsBase64, epochs: outcome.epochs, work: outcome.work, ...common };
}

/** A checked result as the outcome the parent records (recordRun checks and decodes the model itself). */
export function resultOutcome(result: JobResult): RunOutcome {
  if (result.status === "dead") return { status: "dead", reason: result.reason, log: result.log, worker: result.worker };
  const weights = new Uint8Array(Buffer.from(result.weightsBase64, "base64")); // a copy of its own
  return { status: "published", text: result.text, epochs: result.epochs, work: result.work, files: { "model.json": result.modelJson, "weights.bin": weights }, log: result.log, worker: result.worker };
}
