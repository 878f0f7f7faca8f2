// neural-quine/runtime: what a quine program runs on, outside its own text, like TensorFlow.js:
// the backend, the fused LSTM kernel, model files, and the program's only ways out: `progress` for
// a training pass (a record), `log` for free text, `publish` for its result. A sandbox hands a
// program its own `start`, `progress`, `log` and `publish` in place of these (see src/sandbox/child.ts).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { getBackend } from "@tensorflow/tfjs-core";
import { initBackend, parseBackend } from "./backend";
import { kernelName } from "./kernel";
// tfjs-core's CommonJS build registers no gradients; tfjs-layers's registers tfjs-core's (tf.grads of
// matMul, logSoftmax, ... that training needs). Not the chained ops (tensor.flatten()...): nothing
// here may rely on those, under tsx or plain Node alike.
import "@tensorflow/tfjs-layers";
import type { Epoch } from "./epoch";
import { saveModel, type QuineModel } from "./model-files";

export * from "./analyze";
export * from "./backend";
export * from "./features";
export * from "./activations";
export * from "./adam";
// Not values, matMul or countWork: a program must not read host arrays or add to the work count.
export { KERNELS, kernelName, kernelThreads, kernelWork, setKernel, type KernelChoice } from "./kernel";
export * from "./linear";
export { lstmSequence, zeroState, type LstmState, type LstmWeights } from "./lstm";
export * from "./stepper";
export * from "./trainer";
export * from "./window-loss";
export * from "./model-files";
export type { Epoch } from "./epoch";

/** Free text, to stderr. */
export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A pass as the line a person reads: `positions` (how many the text has) gives "exact 12/85" and the rate. */
export function progressLine({ epoch, loss, exact, minMargin, seconds }: Epoch, positions: number): string {
  const rate = Math.round((epoch * positions) / seconds);
  return `epoch ${epoch}  loss ${loss.toFixed(4)}  exact ${exact}/${positions}  margin ${minMargin.toFixed(2)}  ${rate} chars/s  ${seconds.toFixed(1)}s`;
}

/** A training pass, as a record; standalone it is a line on stderr. `positions`: how many the text has. */
export function progress(record: Epoch, positions: number): void {
  log(progressLine(record, positions));
}

/** Starts TensorFlow.js on the backend named by NQ_BACKEND (default auto) and says which it got. */
export async function start(): Promise<string> {
  // The kernel first: its helper thread boots while the backend compiles, not at the first window.
  kernelName();
  const backend = await initBackend(parseBackend(process.env.NQ_BACKEND ?? "auto"));
  log(`backend: ${backend}`);
  return backend;
}

/** What a program hands back: the text it decoded and the model that decoded it. */
export interface Publication {
  text: string;
  model: QuineModel;
  epochs: number;
  seed: number;
  exact: boolean;
  history: unknown[];
}

/** Writes the decoded text to stdout; with NQ_MODEL_DIR set, the model there too, and training.json (TrainingRecordSchema, ./epoch.ts). */
export async function publish(result: Publication): Promise<void> {
  const dir = process.env.NQ_MODEL_DIR;
  if (dir) {
    await saveModel(dir, { ...result.model, textLength: [...result.text].length });
    const { epochs, seed, exact, history } = result;
    writeFileSync(join(dir, "training.json"), `${JSON.stringify({ epochs, seed, exact, backend: getBackend(), history })}\n`);
  }
  process.stdout.write(result.text);
}
