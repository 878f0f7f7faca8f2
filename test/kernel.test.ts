// The fused LSTM kernel against TensorFlow.js itself: forward outputs and gradients equal those of
// the same LSTM built from tf ops (autodiff), the forward equals tf.layers.lstm, decoding one step
// at a time equals the sequence kernel, and the same inputs give bitwise-identical results.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import * as rt from "../src/runtime";

const V = 7; // symbols
const H = 8; // hidden units
const B = 3; // streams
const T = 5; // steps

/** Deterministic pseudo-random numbers in [-scale, scale). */
function randoms(n: number, seed: number, scale = 1): Float32Array {
  let x = seed;
  return Float32Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x / 2147483648 - 0.5) * 2 * scale;
  });
}

function randomTokens(seed: number): Int32Array {
  return Int32Array.from(randoms(B * T, seed), (r) => Math.floor((r + 1) * V / 2));
}

function weights(seed: number): { kernel: tf.Tensor2D; recurrent: tf.Tensor2D; bias: tf.Tensor1D } {
  return {
    kernel: tf.tensor2d(randoms(V * 4 * H, seed, 0.8), [V, 4 * H]),
    recurrent: tf.tensor2d(randoms(H * 4 * H, seed + 1, 0.8), [H, 4 * H]),
    bias: tf.tensor1d(randoms(4 * H, seed + 2, 0.5)),
  };
}

function initialState(seed: number): rt.LstmState {
  return { h: randoms(B * H, seed, 0.9), c: randoms(B * H, seed + 1, 2) };
}

/** The same LSTM from tf ops, differentiable by tf's autodiff: hs [B*T,H], rows b*T+t. */
function referenceLstm(tokens: Int32Array, state: rt.LstmState, kernel: tf.Tensor2D, recurrent: tf.Tensor2D,
  bias: tf.Tensor1D): tf.Tensor2D {
  let h: tf.Tensor2D = tf.tensor2d(state.h, [B, H]);
  let c: tf.Tensor2D = tf.tensor2d(state.c, [B, H]);
  const steps: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    const x = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, b) => tokens[b * T + t]), "int32"), V);
    const z = tf.add(tf.add(tf.matMul(tf.cast(x, "float32"), kernel), tf.matMul(h, recurrent)), bias);
    const [i, f, g, o] = tf.split(z, 4, 1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    steps.push(h);
  }
  return tf.reshape(tf.stack(steps, 1), [B * T, H]); // [B,T,H] → rows b*T+t
}

function relativeError(actual: Float32Array | number[], expected: Float32Array | number[]): number {
  let diff = 0;
  let norm = 0;
  for (let k = 0; k < expected.length; k++) {
    diff += (actual[k] - expected[k]) ** 2;
    norm += expected[k] ** 2;
  }
  return Math.sqrt(diff / Math.max(norm, 1e-30));
}

test("forward outputs and gradients equal tf autodiff of the same LSTM (relative error < 1e-4)", async () => {
  await rt.initBackend("wasm");
  for (const seed of [1, 2, 3]) {
    const tokens = randomTokens(seed);
    const w = weights(seed * 10);
    const upstream = tf.tensor2d(randoms(B * T * H, seed * 10 + 5), [B * T, H]); // loss = sum(hs * upstream)
    const params = [w.kernel, w.recurrent, w.bias];
    const lossOf = (lstm: (k: tf.Tensor2D, r: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D) =>
      tf.valueAndGrads((k: tf.Tensor, r: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(lstm(k as tf.Tensor2D, r as tf.Tensor2D, b as tf.Tensor1D), upstream)))(params);
    const state = initialState(seed * 10 + 7);
    const fused = lossOf((k, r, b) => rt.lstmSequence(tokens, B, { h: state.h.slice(), c: state.c.slice() }, k, r, b));
    const reference = lossOf((k, r, b) => referenceLstm(tokens, state, k, r, b));
    const hsFused = rt.lstmSequence(tokens, B, { h: state.h.slice(), c: state.c.slice() }, w.kernel, w.recurrent, w.bias);
    const hsReference = referenceLstm(tokens, state, w.kernel, w.recurrent, w.bias);
    assert.ok(relativeError(hsFused.dataSync() as Float32Array, hsReference.dataSync() as Float32Array) < 1e-4, "outputs");
    assert.ok(relativeError([fused.value.dataSync()[0]], [reference.value.dataSync()[0]]) < 1e-4, "loss");
    ["kernel", "recurrent", "bias"].forEach((name, k) => {
      const error = relativeError(fused.grads[k].dataSync() as Float32Array, reference.grads[k].dataSync() as Float32Array);
      assert.ok(error < 1e-4, `gradient of ${name}: relative error ${error}`);
    });
    tf.dispose([upstream, hsFused, hsReference, fused.value, reference.value, ...fused.grads, ...reference.grads, ...params]);
  }
});

test("forward equals tf.layers.lstm (recurrentActivation sigmoid) on one-hot inputs", async () => {
  await rt.initBackend("wasm");
  const tokens = randomTokens(4);
  const w = weights(40);
  // Not the default orthogonal initializer: it relies on tfjs's chained ops, which the runtime does
  // not register (and the weights are set below anyway).
  const layer = tfl.layers.lstm({ units: H, returnSequences: true, recurrentActivation: "sigmoid", recurrentInitializer: "glorotUniform", inputShape: [T, V] });
  const model = tfl.sequential({ layers: [layer] });
  layer.setWeights([w.kernel, w.recurrent, w.bias]);
  const oneHot = tf.cast(tf.reshape(tf.oneHot(tf.tensor1d(tokens, "int32"), V), [B, T, V]), "float32");
  const expected = model.predict(oneHot) as tf.Tensor; // [B,T,H]: the same b-major order as ours
  const actual = rt.lstmSequence(tokens, B, rt.zeroState(B, H), w.kernel, w.recurrent, w.bias);
  const error = relativeError(actual.dataSync() as Float32Array, expected.dataSync() as Float32Array);
  assert.ok(error < 1e-4, `relative error ${error}`);
  model.dispose();
  tf.dispose([oneHot, expected, actual, w.kernel, w.recurrent, w.bias]);
});

test("the state carries over: two windows give what one long window gives, and decoding steps agree", async () => {
  await rt.initBackend("wasm");
  const w = weights(50);
  const outKernel = tf.tensor2d(randoms(H * V, 53), [H, V]);
  const outBias = tf.tensor1d(randoms(V, 54));
  const tokens = randomTokens(5).subarray(0, T * 1); // one stream of T steps
  const whole = rt.lstmSequence(tokens, 1, rt.zeroState(1, H), w.kernel, w.recurrent, w.bias);
  const state = rt.zeroState(1, H);
  const first = rt.lstmSequence(tokens.subarray(0, 2), 1, state, w.kernel, w.recurrent, w.bias);
  const rest = rt.lstmSequence(tokens.subarray(2), 1, state, w.kernel, w.recurrent, w.bias);
  const joined = tf.concat([first, rest], 0);
  assert.deepEqual(joined.dataSync(), whole.dataSync());
  // The stepper's logits for the token after t are h_t @ outKernel + outBias.
  const logits = tf.add(tf.matMul(whole, outKernel), outBias);
  const expected = logits.dataSync() as Float32Array;
  const stepper = rt.lstmStepper({ ...w, outKernel, outBias });
  tokens.forEach((token, t) => {
    const error = relativeError(stepper.next(token), expected.subarray(t * V, (t + 1) * V));
    assert.ok(error < 1e-5, `step ${t}: relative error ${error}`);
  });
  stepper.dispose();
  tf.dispose([whole, first, rest, joined, logits, outKernel, outBias, w.kernel, w.recurrent, w.bias]);
});

test("is deterministic: the same inputs give bitwise-identical outputs and gradients", async () => {
  await rt.initBackend("wasm");
  const tokens = randomTokens(6);
  const w = weights(60);
  const run = () => {
    const { value, grads } = tf.valueAndGrads((k: tf.Tensor, r: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(rt.lstmSequence(tokens, B, initialState(61), k as tf.Tensor2D, r as tf.Tensor2D, b as tf.Tensor1D))))(
      [w.kernel, w.recurrent, w.bias]);
    const bits = [value, ...grads].map((t) => Array.from(t.dataSync()));
    tf.dispose([value, ...grads]);
    return bits;
  };
  assert.deepEqual(run(), run());
  tf.dispose([w.kernel, w.recurrent, w.bias]);
});
