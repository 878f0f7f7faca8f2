// Decoding one stream a symbol at a time: the stepper and the greedy choice.
import * as tf from "@tensorflow/tfjs-core";
import { featureRows, inputReader } from "./features";
import { countWork, matMul, values } from "./kernel";
import { step, zeroState, type LstmWeights } from "./lstm";

/** The greedy choice from logits [V]: the likeliest symbol, and its lead over the runner-up (a wide lead means float noise cannot flip it). */
export function greedyChoice(logits: ArrayLike<number>): { best: number; margin: number } {
  let best = 0;
  let second = -Infinity;
  for (let v = 1; v < logits.length; v++) {
    if (logits[v] > logits[best]) {
      second = logits[best];
      best = v;
    } else if (logits[v] > second) second = logits[v];
  }
  return { best, margin: logits[best] - second };
}

/** Decodes one stream a token at a time: `next(token)` returns the logits [V] of the token after it (the first token is the boundary, 0). */
export interface LstmStepper {
  next(token: number): Float32Array;
  dispose(): void;
}

/**
 * A stepper for one stream, for decoding, of a model with these features (./features.ts: computed
 * here from the tokens it is given, as in training). One backend matMul per step, h @ [recurrent |
 * outKernel], gives both this step's logits and the next step's recurrent input.
 */
export function lstmStepper(weights: LstmWeights, features: string[] = []): LstmStepper {
  const H = weights.recurrent.shape[0];
  const V = weights.outBias.shape[0];
  const rows = V + featureRows(features, V);
  if (weights.kernel.shape[0] !== rows) throw new Error(`lstmStepper: the kernel has ${weights.kernel.shape[0]} rows where ${V} symbols and the features [${features.join(", ")}] need ${rows}.`);
  const input = inputReader(features, V);
  const K = values(weights.kernel);
  const bias = values(weights.bias);
  const outBias = values(weights.outBias);
  const joint = tf.concat([weights.recurrent, weights.outKernel], 1) as tf.Tensor2D;
  const logitsLength = weights.outKernel.shape[1];
  const state = zeroState(1, H);
  const gates = new Float32Array(4 * H);
  const tanhC = new Float32Array(H);
  let z = new Float32Array(4 * H);
  return {
    next(token: number): Float32Array {
      countWork(1, H * (4 * H + logitsLength) + 4 * H * input.width);
      step(input.next(token), input.width, z, K, bias, state, gates, tanhC);
      const out = matMul(state.h, 1, joint);
      z = out.slice(0, 4 * H);
      const logits = out.slice(4 * H);
      for (let v = 0; v < logits.length; v++) logits[v] += outBias[v];
      return logits;
    },
    dispose: () => joint.dispose(),
  };
}
