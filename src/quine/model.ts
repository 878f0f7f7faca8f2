// The model: one LSTM layer over multi-hot inputs (the symbol and the runtime's features of the
// text so far), then a linear layer to next-symbol logits. Its weights are plain TensorFlow.js
// variables in tf.layers's layout (see the runtime's kernel).
import { tf } from "./deps";
import type { LstmWeights } from "neural-quine/runtime";

/** A trainable variable that takes over `init`'s values (and disposes it). */
function variable<R extends tf.Rank>(init: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(init);
  init.dispose();
  return v;
}

/** Glorot-uniform [rows, cols] matrix from a seeded generator, then `zeros` rows of zeros. */
function glorot(rows: number, cols: number, seed: number, zeros = 0): tf.Variable<tf.Rank.R2> {
  const limit = Math.sqrt(6 / (rows + cols));
  return variable(tf.tidy(() => tf.concat([tf.randomUniform([rows, cols], -limit, limit, "float32", seed), tf.zeros([zeros, cols])])));
}

/** Fresh weights for V symbols, `extra` feature rows and H hidden units; the same seed gives the same weights. */
export function createWeights(V: number, extra: number, H: number, seed: number): LstmWeights {
  // Forget-gate bias 1, as tf.layers.lstm's unitForgetBias: early on, states are kept, not wiped.
  const bias = new Float32Array(4 * H).fill(1, H, 2 * H);
  return {
    kernel: glorot(V, 4 * H, seed, extra), // [V+extra,4H]: the features' rows start at zero, training where it would without them
    recurrent: glorot(H, 4 * H, seed + 1), // [H,4H]
    bias: variable(tf.tensor1d(bias)), // [4H]
    outKernel: glorot(H, V, seed + 2), // [H,V]
    outBias: variable(tf.zeros<tf.Rank.R1>([V])), // [V]
  };
}

