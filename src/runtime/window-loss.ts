// The trainer's loss over one window, fused with the LSTM and the output layer (see windowLoss).
import * as tf from "@tensorflow/tfjs-core";
import { countWork, kernelName, values } from "./kernel";
import { checkWindow, lstmSequence, type LstmState, type LstmWeights } from "./lstm";
import { linear } from "./linear";
import { wasmKernel, wasmWindowStep, type Focus, type WasmKernel, type WindowData } from "./lstm-wasm";

export type { Focus } from "./lstm-wasm";

/** What windowLoss gives: the loss, and of the positions that count how many lead by the margin and the smallest lead. */
export interface WindowLoss {
  loss: tf.Scalar;
  exact: number;
  minMargin: number;
}

/**
 * The trainer's loss over one window, fused: the LSTM over B streams (`tokens` [B,T,K], b-major, K
 * kernel rows a step as in lstmSequence, K = tokens.length / targets.length; `state` advanced as by lstmSequence), the output layer, and the sum of -log p(target) (`targets`
 * [B,T]) over the positions where `mask` [B,T] is 1, over their count. Each position weighs 1, or
 * `focus.settled` once its target's logit leads the best other one by twice `focus.margin`: the
 * last few wrong positions are not drowned out by thousands of right ones. The loss is
 * differentiable w.r.t. the five weights. On the wasm kernel, one call per window (its two halves
 * of the streams on two threads); the JavaScript reference composes lstmSequence, linear and
 * TensorFlow.js ops. Call it inside tf.variableGrads or tf.tidy.
 */
export function windowLoss(w: LstmWeights, tokens: Int32Array, streams: number, state: LstmState, targets: Int32Array,
  mask: Float32Array, focus: Focus): WindowLoss {
  const sizes = checkWeights("windowLoss", w);
  checkWindowData("windowLoss", sizes, tokens, streams, state, targets, mask);
  const wasm = kernelName() === "wasm" && sizes.H % 4 === 0 ? wasmKernel() : null;
  return wasm ? wasmWindowLoss(wasm, w, { tokens, targets, mask }, streams, state, focus) : jsWindowLoss(w, tokens, targets, mask, streams, state, focus);
}

/** The model's sizes (R kernel rows, V symbols, H units), once its five weights are checked to fit each other. */
export function checkWeights(what: string, w: LstmWeights): { R: number; V: number; H: number } {
  const [R, V, H] = [w.kernel.shape[0], w.outBias.shape[0], w.recurrent.shape[0]];
  // Checked because the wasm kernel would read whatever lies in its memory (see lstmSequence).
  // The kernel has at least the symbols' rows (more with features).
  const shapes = [[w.kernel, [Math.max(R, V), 4 * H]], [w.recurrent, [H, 4 * H]], [w.bias, [4 * H]], [w.outKernel, [H, V]], [w.outBias, [V]]] as const;
  for (const [weight, shape] of shapes) {
    if (weight.shape.join() !== shape.join()) throw new Error(`${what}: a weight of shape [${weight.shape}] where [${shape}] belongs.`);
  }
  return { R, V, H };
}

/** Throws unless a window's data (as windowLoss takes it) fits a model of these sizes. */
export function checkWindowData(what: string, { R, V, H }: { R: number; V: number; H: number }, tokens: Int32Array, streams: number,
  state: LstmState, targets: Int32Array, mask: Float32Array): void {
  const width = tokens.length / targets.length;
  if (!(targets.length > 0 && Number.isInteger(width)) || mask.length !== targets.length) {
    throw new Error(`${what}: ${tokens.length} tokens need as many targets and mask values (or K times as many tokens as both, K kernel rows a step).`);
  }
  checkWindow(what, tokens, streams, width, state, R, H);
  for (const target of targets) if (!(target >= 0 && target < V)) throw new Error(`${what}: target ${target} is outside the ${V} symbols.`);
  for (const m of mask) if (m !== 0 && m !== 1) throw new Error(`${what}: a mask value of ${m}: each position counts (1) or not (0).`);
}

/** Counts a fused window's work: as lstmSequence and linear count theirs. */
export function countWindowWork(positions: number, { H, V }: { H: number; V: number }, K: number): void {
  countWork(positions, positions * (4 * H * (H + K) + H * V));
}

/** windowLoss on the wasm kernel: the whole step, gradients included, in the forward call; the gradient function only scales them. */
function wasmWindowLoss(wasm: WasmKernel, w: LstmWeights, data: WindowData,
  streams: number, state: LstmState, focus: Focus): WindowLoss {
  const K = data.tokens.length / data.targets.length;
  const shape = { T: data.targets.length / streams, B: streams, H: w.recurrent.shape[0], V: w.outBias.shape[0], R: w.kernel.shape[0], K };
  countWindowWork(data.targets.length, shape, K);
  const stats = { exact: 0, minMargin: Infinity };
  const run = tf.customGrad(() => {
    const weights = { kernel: values(w.kernel), recurrent: values(w.recurrent), bias: values(w.bias), outKernel: values(w.outKernel),
      outBias: values(w.outBias) };
    const step = wasmWindowStep(wasm, shape, weights, data, state, focus);
    Object.assign(stats, { exact: step.exact, minMargin: step.minMargin });
    const gradFunc = (dy: tf.Tensor) => {
      const scale = values(dy)[0];
      const scaled = (g: Float32Array) => (scale === 1 ? g : g.map((x) => x * scale));
      const { kernel, recurrent, bias, outKernel, outBias } = step.grads;
      return [tf.tensor2d(scaled(kernel), w.kernel.shape), tf.tensor2d(scaled(recurrent), w.recurrent.shape), tf.tensor1d(scaled(bias)),
        tf.tensor2d(scaled(outKernel), w.outKernel.shape), tf.tensor1d(scaled(outBias))];
    };
    return { value: tf.scalar(step.loss), gradFunc };
  });
  const loss = run(w.kernel, w.recurrent, w.bias, w.outKernel, w.outBias) as tf.Scalar;
  return { loss, ...stats };
}

/** windowLoss from lstmSequence, linear and TensorFlow.js ops: the reference and the fallback. */
function jsWindowLoss(w: LstmWeights, tokens: Int32Array, targets: Int32Array, mask: Float32Array, streams: number,
  state: LstmState, focus: Focus): WindowLoss {
  const width = tokens.length / targets.length;
  const z = linear(lstmSequence(tokens, streams, state, w.kernel, w.recurrent, w.bias, width), w.outKernel, w.outBias); // [B*T,V]
  const logits = values(z);
  const V = z.shape[1];
  const weight = new Float32Array(mask.length);
  let [exact, minMargin] = [0, Infinity];
  const least = Math.fround(focus.margin); // compared in float32, as the wasm kernel compares
  for (let r = 0; r < targets.length; r++) {
    if (!mask[r]) continue;
    let other = -Infinity;
    for (let v = 0; v < V; v++) if (v !== targets[r]) other = Math.max(other, logits[r * V + v]);
    const margin = Math.fround(logits[r * V + targets[r]] - other);
    minMargin = Math.min(minMargin, margin);
    if (margin >= least) exact++;
    weight[r] = margin >= 2 * least ? focus.settled : 1;
  }
  const logLikelihood = tf.sum(tf.mul(tf.oneHot(tf.tensor1d(targets, "int32"), V), tf.logSoftmax(z)), 1);
  const count = mask.reduce((sum, m) => sum + m, 0) || 1;
  return { loss: tf.div(tf.sum(tf.mul(logLikelihood, weight)), -count) as tf.Scalar, exact, minMargin };
}
