// The report page's own code, bundled by esbuild into the site with TensorFlow.js (src/report/site.ts).
// "Decode live": load a generation's (or an individual's) model.json and weights.bin with tf.loadLayersModel, decode
// greedily with the same LSTM step the trainer uses (src/runtime/stepper.ts), show the characters as
// they come, then compare the result with the stored program byte for byte.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops"; // tfjs-layers needs them
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { checkFeatures, featureRows } from "../runtime/features";
import type { LstmWeights } from "../runtime/lstm";
import { greedyChoice, lstmStepper } from "../runtime/stepper";

/** Lets the browser paint what has been decoded so far. */
const nextFrame = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Index of the first differing byte, or -1 when equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** "at byte 120 (line 4)": where `bytes` first differs from `expected`. */
function where(bytes: Uint8Array, at: number): string {
  let line = 1;
  for (let i = 0; i < at && i < bytes.length; i++) if (bytes[i] === 10) line++;
  return `at byte ${at} (line ${line})`;
}

/** Loads a generation's model in the browser and returns its vocabulary, the features its input reads, and its weights. */
async function loadModel(url: string): Promise<{ vocab: string[]; features: string[]; layers: tfl.LayersModel; weights: LstmWeights }> {
  const layers = await tfl.loadLayersModel(url);
  const metadata = layers.getUserDefinedMetadata() as { vocab?: unknown; features?: unknown } | undefined;
  const vocab = metadata?.vocab;
  const tensors = layers.getWeights();
  try {
    const features = checkFeatures(metadata?.features); // the input's multi-hot rows beyond the symbol's, as the runtime computes them
    if (!Array.isArray(vocab) || tensors.length !== 5 || tensors[0].shape[0] !== vocab.length + featureRows(features, vocab.length)) {
      throw new Error("not a neural-quine model: expected an LSTM and a Dense layer over a stored vocabulary and features");
    }
    const [kernel, recurrent, bias, outKernel, outBias] = tensors;
    return { vocab: vocab as string[], features, layers, weights: { kernel, recurrent, bias, outKernel, outBias } as LstmWeights };
  } catch (error) {
    layers.dispose();
    throw error;
  }
}

/** The decode-live button of one generation's section. */
async function decodeLive(section: HTMLElement, button: HTMLButtonElement): Promise<void> {
  const output = section.querySelector<HTMLElement>(".live-output");
  const verdict = section.querySelector<HTMLElement>(".verdict");
  if (!output || !verdict) return;
  const { model, program, emitted } = section.dataset;
  const say = (kind: string, text: string): void => {
    verdict.dataset.verdict = kind;
    verdict.textContent = text;
  };
  button.disabled = true;
  output.hidden = false;
  output.textContent = "";
  try {
    say("running", "loading the model…");
    await tf.setBackend("cpu");
    await tf.ready();
    if (!model || !program) throw new Error("this generation has no model to decode");
    const { vocab, features, layers, weights } = await loadModel(model).catch((error: unknown) => {
      throw new Error(`${model} did not load (${error instanceof Error ? error.message : String(error)})`);
    });
    const expected = await fetchBytes(program);
    const recorded = emitted ? await fetchBytes(emitted) : undefined;
    say("running", `decoding on TensorFlow.js ${tf.version_core} (${tf.getBackend()} backend)…`);
    const stepper = lstmStepper(weights, features);
    const limit = 2 * Math.max(expected.length, recorded?.length ?? 0) + 100; // stops a runaway decoding
    const started = performance.now();
    let painted = started;
    let text = "";
    let minMargin = Infinity;
    let count = 0;
    // Greedy, as src/quine/sample.ts: from the boundary symbol until the model predicts it again.
    for (let token = 0; count <= limit; count++) {
      const { best, margin } = greedyChoice(stepper.next(token));
      minMargin = Math.min(minMargin, margin);
      if (best === 0) break;
      text += vocab[best];
      token = best;
      if (performance.now() - painted > 40) {
        output.textContent = text;
        output.scrollTop = output.scrollHeight;
        await nextFrame();
        painted = performance.now();
      }
    }
    stepper.dispose();
    layers.dispose();
    output.textContent = text;
    const seconds = (performance.now() - started) / 1000;
    const bytes = new TextEncoder().encode(text);
    const stats = `${count} characters in ${seconds.toFixed(2)} s, smallest margin ${minMargin.toFixed(2)}`;
    const runaway = count > limit ? " (stopped: no end symbol)" : "";
    const diff = firstDifference(bytes, expected);
    if (diff < 0) {
      say("exact", `exact: the decoded text equals program.js byte for byte (${stats}).`);
      return;
    }
    const againstRecord = recorded === undefined ? ""
      : firstDifference(bytes, recorded) < 0 ? "; it equals the emitted.js the lineage recorded"
        : `; it also differs from the recorded emitted.js ${where(bytes, firstDifference(bytes, recorded))}`;
    say("mutated", `mutated: the decoded text differs from program.js ${where(bytes, diff)}${againstRecord}${runaway} (${stats}).`);
  } catch (error) {
    output.hidden = !output.textContent;
    say("error", `could not decode: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    button.disabled = false;
  }
}

document.querySelectorAll<HTMLElement>("section.generation, section.individual").forEach((section) => {
  const button = section.querySelector<HTMLButtonElement>("button.decode");
  if (button) button.addEventListener("click", () => void decodeLive(section, button));
});
