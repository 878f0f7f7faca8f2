// The model: one LSTM layer over one-hot symbols, then a linear layer to next-symbol logits.
// Its weights are plain TensorFlow.js variables in tf.layers's layout (see the runtime's kernel).
import { tf } from "./deps";
import type { LstmWeights } from "neural-quine/runtime";

/** A trainable variable that takes over `init`'s values (and disposes it). */
function variable<R extends tf.Rank>(init: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(init);
  init.dispose();
  return v;
}

/** Glorot-uniform [rows, cols] matrix from a seeded generator. */
function glorot(rows: number, cols: number, seed: number): tf.Variable<tf.Rank.R2> {
  const limit = Math.sqrt(6 / (rows + cols));
  return variable(tf.randomUniform([rows, cols], -limit, limit, "float32", seed));
}

/** Fresh weights for V symbols and H hidden units; the same seed gives the same weights. */
export function createWeights(V: number, H: number, seed: number): LstmWeights {
  // Forget-gate bias 1, as tf.layers.lstm's unitForgetBias: early on, states are kept, not wiped.
  const bias = new Float32Array(4 * H).fill(1, H, 2 * H);
  return {
    kernel: glorot(V, 4 * H, seed), // [V,4H]
    recurrent: glorot(H, 4 * H, seed + 1), // [H,4H]
    bias: variable(tf.tensor1d(bias)), // [4H]
    outKernel: glorot(H, V, seed + 2), // [H,V]
    outBias: variable(tf.zeros<tf.Rank.R1>([V])), // [V]
  };
}

