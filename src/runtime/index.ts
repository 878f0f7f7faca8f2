// neural-quine/runtime: what a quine program runs on, outside its own text, like TensorFlow.js:
// the backend, the fused LSTM kernel, model files, and the program's only ways out: `log` for
// progress, `publish` for its result. A sandbox hands a program its own `start`, `log` and
// `publish` in place of these (see src/ouroboros/sandbox).
import { initBackend, parseBackend } from "./backend";
// tfjs-core's CommonJS build registers no gradients; tfjs-layers's registers tfjs-core's (tf.grads of
// matMul, logSoftmax, ... that training needs). Not the chained ops (tensor.flatten()...): nothing
// here may rely on those, under tsx or plain Node alike.
import "@tensorflow/tfjs-layers";
import { saveModel, type QuineModel } from "./model-files";

export * from "./analyze";
export * from "./backend";
export * from "./lstm";
export * from "./model-files";

/** Progress, to stderr. */
export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Starts TensorFlow.js on the backend named by NQ_BACKEND (default auto) and says which it got. */
export async function start(): Promise<string> {
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

/** Writes the decoded text to stdout (and the model to NQ_MODEL_DIR when set). */
export async function publish(result: Publication): Promise<void> {
  if (process.env.NQ_MODEL_DIR) await saveModel(process.env.NQ_MODEL_DIR, { ...result.model, textLength: [...result.text].length });
  process.stdout.write(result.text);
}
