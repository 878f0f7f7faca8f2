// The parent's decoder: what a published model decodes to, computed here rather than taken from
// the program's word. Float64 copies of the float32 weights and the kernel's own tanh and sigmoid
// (plain arithmetic, no Math.exp), in plain JavaScript or, the same operations in the same order
// and so the same bits, on the wasm kernel: the same text on every machine and whatever backend
// trained the model. The files are untrusted: their format, features, shapes,
// vocabulary, size and values are checked before any arithmetic, and decoding stops at a length
// and a time limit. The input's features are computed by ./features.ts, as in training.
import { describeIssue } from "../files/json";
import { sigmoid, tanh } from "./activations";
import { checkFeatures, featureRows, inputReader } from "./features";
import { wasmDecoding, wasmKernel, type WasmDecoding } from "./lstm-wasm";
import { greedyChoice } from "./stepper";
import type { ModelFiles } from "./model-files";
import { ModelJsonSchema } from "./model-json";

/** The one runaway rule: decoding a model of a `length`-character text stops past decodeLimit(length) characters. */
export const DECODE_LIMIT_RULE = "twice the text's length plus 1,000 characters";
export function decodeLimit(length: number): number {
  return 2 * length + 1000;
}

/** What a published model may be, and how long decoding it may run. */
interface DecodeLimits {
  maxParameters: number; // weights in all five tensors together
  maxChars: number; // characters decoded before decoding stops ("length")
  maxSeconds: number; // decoding time before it stops ("time")
}

/** A model whose files passed the checks: weights as float64 [rows*cols], row-major, tf.layers layout. */
export interface CheckedModel {
  vocab: string[]; // index 0 is the boundary symbol
  features?: string[]; // what the input reads besides the symbol (./features.ts); none if absent
  hidden: number; // H
  parameters: number;
  kernel: Float64Array; // [R,4H], gates i, f, c, o: the V symbols' rows, then the features'
  recurrent: Float64Array; // [H,4H]
  bias: Float64Array; // [4H]
  outKernel: Float64Array; // [H,V]
  outBias: Float64Array; // [V]
}

export interface Decoded {
  text: string;
  minMargin: number; // smallest lead of a chosen symbol's logit over the runner-up
  stopped: "end" | "length" | "time"; // the boundary symbol came, or a limit stopped it
  seconds: number;
}

/** A model past the parameter limit: the one refusal a person can lift (bootstrap's --max-parameters). */
export class TooManyParametersError extends Error {}

/** Checks a published model's files; a model that is not one we can decode throws one clear sentence. */
export function checkModelFiles(files: ModelFiles, limits: Pick<DecodeLimits, "maxParameters">): CheckedModel {
  let json: unknown;
  try {
    json = JSON.parse(files["model.json"]);
  } catch {
    throw new Error("model.json is not valid JSON.");
  }
  const parsed = ModelJsonSchema.safeParse(json);
  if (!parsed.success) throw new Error(`model.json is not a neural-quine model (${describeIssue(parsed.error)}).`);
  const { modelTopology, weightsManifest, userDefinedMetadata } = parsed.data;
  const vocab = userDefinedMetadata.vocab;
  const features = checkFeatures(userDefinedMetadata.features);
  const V = vocab.length;
  const R = V + featureRows(features, V);
  const H = modelTopology.config.layers[0].config.units;
  if (vocab[0] !== "") throw new Error("The model's vocabulary does not start with the boundary symbol \"\".");
  if (vocab.slice(1).some((symbol) => [...symbol].length !== 1)) throw new Error("The model's vocabulary has an entry that is not one character.");
  if (new Set(vocab).size !== V) throw new Error("The model's vocabulary has a character twice.");
  if (modelTopology.config.layers[1].config.units !== V) throw new Error(`The model's output layer has ${modelTopology.config.layers[1].config.units} units for ${V} symbols.`);
  const expected = [[R, 4 * H], [H, 4 * H], [4 * H], [H, V], [V]];
  const specs = weightsManifest[0].weights;
  specs.forEach((spec, i) => {
    if (spec.shape.join(",") !== expected[i].join(",")) {
      throw new Error(`The model's weight ${i} has shape [${spec.shape.join(", ")}], expected [${expected[i].join(", ")}] for ${H} units, ${V} symbols and ${features.length ? `the features ${features.join(", ")}` : "no features"}.`);
    }
  });
  const parameters = expected.reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0);
  if (parameters > limits.maxParameters) {
    throw new TooManyParametersError(`The model has ${parameters.toLocaleString("en")} parameters, more than the ${limits.maxParameters.toLocaleString("en")} a publication may have.`);
  }
  const bytes = files["weights.bin"];
  if (bytes.byteLength !== parameters * 4) throw new Error(`weights.bin has ${bytes.byteLength} bytes where the model needs ${parameters * 4}.`);
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (!floats.every(Number.isFinite)) throw new Error("The model's weights hold a value that is not a finite number.");
  const sizes = expected.map((shape) => shape.reduce((a, b) => a * b, 1));
  const take = (i: number): Float64Array => {
    const start = sizes.slice(0, i).reduce((a, b) => a + b, 0);
    return Float64Array.from(floats.subarray(start, start + sizes[i]));
  };
  return { vocab, features, hidden: H, parameters, kernel: take(0), recurrent: take(1), bias: take(2), outKernel: take(3), outBias: take(4) };
}

/**
 * Decodes greedily from the boundary symbol until it comes again, or a limit: [1] symbol in,
 * logits [V] out, one LSTM step each. `sample`, given, picks each next symbol from the logits
 * instead of the argmax (evolution's copying errors); greedy decoding is the default.
 */
export function decodeModel(model: CheckedModel, limits: Pick<DecodeLimits, "maxChars" | "maxSeconds">,
  sample?: (logits: Float64Array) => number, kernel?: DecoderKernel): Decoded {
  const steps = decodeSteps(model, limits, sample, kernel);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * decodeModel in slices of SLICE_CHARS characters, the event loop getting its turn between them:
 * the parent decodes untrusted models for up to a minute, and meanwhile its signals, its lock's
 * refresh and its progress must still run. The text and margins are the same bits.
 */
export async function decodeModelInSlices(model: CheckedModel, limits: Pick<DecodeLimits, "maxChars" | "maxSeconds">): Promise<Decoded> {
  const steps = decodeSteps(model, limits);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Characters decoded between two turns of the event loop (a fraction of a second for the bundle's model). */
export const SLICE_CHARS = 1024;

/** The decoding itself, pausing (yield) every SLICE_CHARS characters. */
function* decodeSteps(model: CheckedModel, limits: Pick<DecodeLimits, "maxChars" | "maxSeconds">,
  sample?: (logits: Float64Array) => number, kernel?: DecoderKernel): Generator<void, Decoded> {
  const { vocab, features } = model;
  const started = Date.now();
  const input = inputReader(features ?? [], vocab.length);
  const lstm = decoderSteps(model, input.width, kernel);
  const chars: string[] = [];
  let minMargin = Infinity;
  let stopped: Decoded["stopped"] = "length";
  try {
    for (let token = 0; chars.length <= limits.maxChars; ) {
      if ((chars.length & 255) === 255 && Date.now() - started > limits.maxSeconds * 1000) {
        stopped = "time";
        break;
      }
      if (chars.length > 0 && chars.length % SLICE_CHARS === 0) yield;
      const logits = lstm.step(input.next(token));
      const { best, margin } = greedyChoice(logits);
      minMargin = Math.min(minMargin, margin);
      const next = sample ? sample(logits) : best;
      if (next === 0) {
        stopped = "end";
        break;
      }
      if (chars.length === limits.maxChars) break;
      chars.push(vocab[next]);
      token = next;
    }
  } finally {
    lstm.release();
  }
  return { text: chars.join(""), minMargin, stopped, seconds: (Date.now() - started) / 1000 };
}

/** Weights (float64) past which the decoder runs in JavaScript: the kernel's memory is 1 GiB, shared with a training's. */
const WASM_DECODER_BYTES = 256 * 2 ** 20;

/** Where the decoder's steps run: "wasm" (the kernel's decodeStep, about 5 times faster) or "js"; the same bits either way. */
export type DecoderKernel = "wasm" | "js";

/** The LSTM's steps for decoding (see decoderSteps), and where they run. */
export interface DecoderSteps extends WasmDecoding {
  kernel: DecoderKernel;
}

/**
 * The LSTM's steps for decoding `model`: given the kernel rows a position reads, its logits [V] (an
 * array the next step overwrites). On the wasm kernel where it runs (and NQ_KERNEL is not js) and
 * the weights take less than a quarter of its memory, else in JavaScript; `kernel` says which is
 * wanted (tests compare them), and the result which ran.
 */
export function decoderSteps(model: CheckedModel, width: number, kernel: DecoderKernel = process.env.NQ_KERNEL === "js" ? "js" : "wasm"): DecoderSteps {
  const wasm = kernel === "wasm" ? wasmKernel() : null;
  if (wasm && model.parameters * 8 < WASM_DECODER_BYTES) return { kernel: "wasm", ...wasmDecoding(wasm, model, model.hidden, model.vocab.length, width) };
  return jsDecoderSteps(model);
}

/** decodeStep (see ./wasm/lstm.as.ts) in JavaScript, float64: [K] kernel rows in, logits [V] out. */
function jsDecoderSteps({ vocab, hidden: H, kernel, recurrent, bias, outKernel, outBias }: CheckedModel): DecoderSteps {
  const V = vocab.length;
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  const z = new Float64Array(4 * H);
  const logits = new Float64Array(V);
  const step = (rows: Int32Array): Float64Array => {
    // z [4H] = x @ kernel + h @ recurrent + bias, with x multi-hot: the sum of the kernel's rows
    // the position reads (the symbol's, then its features'; the symbol's alone without features).
    z.set(kernel.subarray(rows[0] * 4 * H, (rows[0] + 1) * 4 * H));
    for (let k = 1; k < rows.length; k++) {
      const row = rows[k] * 4 * H;
      for (let n = 0; n < 4 * H; n++) z[n] += kernel[row + n];
    }
    for (let k = 0; k < H; k++) {
      const hk = h[k];
      if (hk === 0) continue;
      const row = k * 4 * H;
      for (let n = 0; n < 4 * H; n++) z[n] += hk * recurrent[row + n];
    }
    for (let j = 0; j < H; j++) {
      const i = sigmoid(z[j] + bias[j]);
      const f = sigmoid(z[H + j] + bias[H + j]);
      const g = tanh(z[2 * H + j] + bias[2 * H + j]);
      const o = sigmoid(z[3 * H + j] + bias[3 * H + j]);
      c[j] = f * c[j] + i * g;
      h[j] = o * tanh(c[j]);
    }
    // logits [V] = h @ outKernel + outBias
    logits.set(outBias);
    for (let k = 0; k < H; k++) {
      const hk = h[k];
      if (hk === 0) continue;
      const row = k * V;
      for (let v = 0; v < V; v++) logits[v] += hk * outKernel[row + v];
    }
    return logits;
  };
  return { kernel: "js", step, release: () => undefined };
}
