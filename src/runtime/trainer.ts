// The trainer's optimizer: a window's fused loss (./window-loss.ts) and Adam with clipping
// (./adam.ts), step after step, over one model's weights. On the wasm kernel the weights, Adam's
// moments and the gradients live in the kernel's memory for the whole training, and TensorFlow.js
// variables are written only when asked (save); elsewhere it is those two, composed with tf ops.
import * as tf from "@tensorflow/tfjs-core";
import { adam, adamSchedule } from "./adam";
import { kernelName, values } from "./kernel";
import type { LstmState, LstmWeights } from "./lstm";
import { flatWeights, wasmKernel, wasmTraining, type WasmKernel, type WindowStats } from "./lstm-wasm";
import { checkWeights, checkWindowData, countWindowWork, windowLoss, type Focus } from "./window-loss";

/** What the trainer needs: Adam's rate and the clipping of the gradients' global norm (none by default), and windowLoss's focus. */
export interface TrainerSettings extends Focus {
  learningRate: number;
  clipNorm?: number;
}

/** Training steps over one model's weights; the weights' variables are current only after save(). */
export interface Trainer {
  /**
   * The text the steps that follow train on, copied once here (a sandboxed program's arrays cross
   * into the runtime once, not window after window): windowLoss's arguments for all the steps of B
   * streams, tokens [B,S,K], targets and mask [B,S], b-major.
   */
  data(tokens: Int32Array, streams: number, targets: Int32Array, mask: Float32Array): void;
  /**
   * One window and one Adam step; the window's loss (float32) and margins. The window is steps
   * from..to of each stream of data()'s text (all S by default), and `state` is advanced over it.
   */
  step(state: LstmState, from?: number, to?: number): WindowStats;
  /** Remembers the weights as they are now (the best so far, say). */
  keep(): void;
  /** Writes the weights into their variables, for decoding or saving; with `kept`, first goes back to those keep() remembered. */
  save(kept?: boolean): void;
  /** Ends the training: frees what it held (the variables keep what save() last wrote). */
  dispose(): void;
}

/**
 * A trainer for `weights` (tf.Variables, as tf.layers lays them out: see ./lstm.ts). It reads them
 * once, here; step after step it gives the same bits as tf.variableGrads of windowLoss followed by
 * rt.adam's applyGradients, on either kernel.
 */
export function trainer(weights: LstmWeights, settings: TrainerSettings): Trainer {
  const sizes = checkWeights("trainer", weights);
  const variables = [weights.kernel, weights.recurrent, weights.bias, weights.outKernel, weights.outBias];
  if (!variables.every((v) => v instanceof tf.Variable)) throw new Error("trainer: the weights must be tf.Variables, which save() writes into.");
  const wasm = kernelName() === "wasm" && sizes.H % 4 === 0 ? wasmKernel() : null;
  const optimizing = wasm ? residentTrainer(wasm, variables as tf.Variable[], sizes, settings) : tfTrainer(weights, variables as tf.Variable[], settings);
  let text: TrainingText | undefined;
  return {
    ...optimizing,
    data(tokens, streams, targets, mask) {
      text = textOf(tokens, streams, targets, mask);
    },
    step(state, from, to) {
      if (!text) throw new Error("trainer: step() before data(): give the trainer its text first.");
      return optimizing.step(windowOf(text, from, to), text.streams, state);
    },
  };
}

/** What each kind of trainer does itself: Trainer's step on one window already cut (windowOf), and the rest as Trainer's. */
interface Optimizing extends Omit<Trainer, "data" | "step"> {
  step(window: WindowArrays, streams: number, state: LstmState): WindowStats;
}

/** The weights and Adam's state in the kernel's memory (wasmTraining); the variables written on save() only. */
function residentTrainer(wasm: WasmKernel, variables: tf.Variable[], sizes: { R: number; V: number; H: number },
  settings: TrainerSettings): Optimizing {
  const flat = flatWeights(sizes);
  const initial = new Float32Array(flat.total);
  variables.forEach((v, k) => initial.set(values(v), flat.starts[k]));
  const training = wasmTraining(wasm, sizes, initial);
  const nextStep = adamSchedule(settings.learningRate);
  const clipNorm = settings.clipNorm ?? Infinity;
  const focus = { margin: settings.margin, settled: settings.settled };
  let kept: Float32Array | undefined;
  return {
    step(data, streams, state) {
      checkWindowData("trainer", sizes, data.tokens, streams, state, data.targets, data.mask);
      countWindowWork(data.targets.length, sizes, data.tokens.length / data.targets.length);
      const step = training.step(data, streams, state, focus, { params: nextStep(), clipNorm });
      return { ...step, loss: Math.fround(step.loss) };
    },
    keep() {
      kept = training.read();
    },
    save(fromKept = false) {
      if (fromKept && kept) training.write(kept);
      const all = training.read();
      variables.forEach((v, k) => {
        const value = tf.tensor(all.subarray(flat.starts[k], flat.starts[k] + flat.sizes[k]), v.shape, "float32");
        v.assign(value);
        value.dispose();
      });
    },
    dispose: () => training.release(),
  };
}

/** windowLoss under tf.variableGrads, then rt.adam: the reference, and the trainer wherever the fused wasm step does not run. */
function tfTrainer(weights: LstmWeights, variables: tf.Variable[], settings: TrainerSettings): Optimizing {
  const optimizer = adam(settings.learningRate, settings.clipNorm);
  const focus = { margin: settings.margin, settled: settings.settled };
  let kept: tf.Tensor[] = [];
  return {
    step(data, streams, state) {
      let stats = { exact: 0, minMargin: Infinity };
      const { value, grads } = tf.variableGrads(() => {
        const step = windowLoss(weights, data.tokens, streams, state, data.targets, data.mask, focus);
        stats = { exact: step.exact, minMargin: step.minMargin };
        return step.loss;
      }, variables);
      optimizer.applyGradients(grads);
      const loss = values(value)[0];
      tf.dispose([value, grads]);
      return { loss, ...stats };
    },
    keep() {
      tf.dispose(kept);
      kept = variables.map((v) => v.clone());
    },
    save(fromKept = false) {
      if (fromKept && kept.length) variables.forEach((v, k) => v.assign(kept[k]));
    },
    dispose() {
      tf.dispose(kept);
      optimizer.dispose();
    },
  };
}

/** The text of Trainer.data: B streams of S steps, each array a copy of its own. */
interface TrainingText {
  tokens: Int32Array;
  streams: number;
  targets: Int32Array;
  mask: Float32Array;
}

function textOf(tokens: Int32Array, streams: number, targets: Int32Array, mask: Float32Array): TrainingText {
  const steps = targets.length / streams;
  if (!(Number.isInteger(steps) && steps > 0 && Number.isInteger(tokens.length / targets.length) && mask.length === targets.length)) {
    throw new Error(`trainer: ${tokens.length} tokens, ${targets.length} targets and ${mask.length} mask values do not make ${streams} streams of whole steps.`);
  }
  return { tokens: Int32Array.from(tokens), streams, targets: Int32Array.from(targets), mask: Float32Array.from(mask) };
}

/** One window's arrays: tokens [B,T,K], targets and mask [B,T], b-major. */
interface WindowArrays {
  tokens: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
}

/** Steps from..to of each stream (see Trainer.step) as arrays of their own: B contiguous copies each. */
function windowOf({ tokens, streams, targets, mask }: TrainingText, from = 0, to = targets.length / streams): WindowArrays {
  const steps = targets.length / streams;
  const K = tokens.length / targets.length;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from < to && to <= steps)) {
    throw new Error(`trainer: steps ${from} to ${to} are not a window of streams of ${steps} steps.`);
  }
  if (from === 0 && to === steps) return { tokens, targets, mask };
  const cut = <A extends Int32Array | Float32Array>(a: A, k: number): A => {
    const out = new (a.constructor as new (length: number) => A)(streams * (to - from) * k);
    for (let b = 0; b < streams; b++) out.set(a.subarray((b * steps + from) * k, (b * steps + to) * k), b * (to - from) * k);
    return out;
  };
  return { tokens: cut(tokens, K), targets: cut(targets, 1), mask: cut(mask, 1) };
}
