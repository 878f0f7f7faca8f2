// The fused LSTM kernel against TensorFlow.js itself: forward outputs and gradients equal those of
// the same LSTM built from tf ops (autodiff), the forward equals tf.layers.lstm, decoding one step
// at a time equals the sequence kernel, and the same inputs give bitwise-identical results.
// Then the WebAssembly kernel against the JavaScript one (the reference): the same outputs, final
// state and gradients on random small shapes; bitwise-identical results from run to run and on one
// thread or two; the fallback to JavaScript; no tensors left behind; and its committed binary
// compiled from the source in the repo.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import * as rt from "../src/runtime";
import { binaryModule, compileKernel, KERNEL_BINARY_MODULE } from "../scripts/build-kernel";
import { trainUntilExact } from "../src/quine/train";

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

test("forward outputs and gradients equal tf autodiff of the same LSTM, on either kernel (relative error < 1e-4)", async () => {
  await rt.initBackend("wasm");
  for (const [kernel, seed] of [["wasm", 1], ["wasm", 2], ["wasm", 3], ["js", 1], ["js", 2], ["js", 3]] as const) {
    rt.setKernel(kernel);
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
      assert.ok(error < 1e-4, `gradient of ${name} on ${kernel}: relative error ${error}`);
    });
    tf.dispose([upstream, hsFused, hsReference, fused.value, reference.value, ...fused.grads, ...reference.grads, ...params]);
  }
  rt.setKernel("auto");
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

interface Case { V: number; H: number; B: number; T: number; seed: number }

// Row counts that are and are not multiples of the kernel's 4-row tiles, widths of 4 and 8 columns.
const CASES: Case[] = [
  { V: 7, H: 8, B: 3, T: 5, seed: 1 },
  { V: 11, H: 12, B: 1, T: 9, seed: 2 },
  { V: 5, H: 4, B: 5, T: 3, seed: 3 },
  { V: 23, H: 32, B: 8, T: 16, seed: 4 },
];

/** Loss sum(hs * upstream), its gradients w.r.t. kernel, recurrent, bias, the outputs and final state, on one kernel. */
function runOn(kernel: "wasm" | "js", { V, H, B, T, seed }: Case, threads: 1 | 2 = 2) {
  rt.setKernel(kernel, threads);
  try {
    const tokens = Int32Array.from(randoms(B * T, seed), (r) => Math.min(V - 1, Math.floor((r + 1) * V / 2)));
    const params = [
      tf.tensor2d(randoms(V * 4 * H, seed + 1, 0.8), [V, 4 * H]),
      tf.tensor2d(randoms(H * 4 * H, seed + 2, 0.5), [H, 4 * H]),
      tf.tensor1d(randoms(4 * H, seed + 3, 0.5)),
    ];
    const upstream = tf.tensor2d(randoms(B * T * H, seed + 4), [B * T, H]);
    const state = { h: randoms(B * H, seed + 5, 0.9), c: randoms(B * H, seed + 6, 2) };
    let hs: Float32Array = new Float32Array(0);
    const { value, grads } = tf.valueAndGrads((k: tf.Tensor, r: tf.Tensor, b: tf.Tensor) => {
      const out = rt.lstmSequence(tokens, B, state, k as tf.Tensor2D, r as tf.Tensor2D, b as tf.Tensor1D);
      hs = out.dataSync() as Float32Array;
      return tf.sum(tf.mul(out, upstream));
    })(params);
    const result = { hs, h: state.h, c: state.c, grads: grads.map((g) => g.dataSync() as Float32Array) };
    tf.dispose([value, ...grads, ...params, upstream]);
    return result;
  } finally {
    rt.setKernel("auto");
  }
}

test("the wasm kernel is available here and the default", async () => {
  await rt.initBackend("wasm");
  assert.equal(rt.kernelName(), "wasm");
});

test("the wasm kernel gives the JavaScript kernel's outputs, final state and gradients (relative error < 1e-5)", async () => {
  await rt.initBackend("wasm");
  for (const c of CASES) {
    const wasm = runOn("wasm", c);
    const js = runOn("js", c);
    const shape = JSON.stringify(c);
    assert.ok(relativeError(wasm.hs, js.hs) < 1e-5, `outputs ${shape}: ${relativeError(wasm.hs, js.hs)}`);
    assert.ok(relativeError(wasm.h, js.h) < 1e-5, `final h ${shape}`);
    assert.ok(relativeError(wasm.c, js.c) < 1e-5, `final c ${shape}`);
    ["kernel", "recurrent", "bias"].forEach((name, k) => {
      const error = relativeError(wasm.grads[k], js.grads[k]);
      assert.ok(error < 1e-5, `gradient of ${name} ${shape}: relative error ${error}`);
    });
  }
});

test("the wasm kernel is bitwise deterministic: two runs give identical bytes", async () => {
  await rt.initBackend("wasm");
  const c = CASES[3];
  const first = runOn("wasm", c);
  runOn("wasm", CASES[1]); // another shape in between: nothing may carry over in the kernel's memory
  const second = runOn("wasm", c);
  for (const key of ["hs", "h", "c"] as const) assert.deepEqual(Buffer.from(second[key].buffer), Buffer.from(first[key].buffer), key);
  first.grads.forEach((g, k) => assert.deepEqual(Buffer.from(second.grads[k].buffer), Buffer.from(g.buffer), `gradient ${k}`));
});

test("one thread or two give identical bytes (the helper thread takes half of each window)", async () => {
  await rt.initBackend("wasm");
  for (const c of [CASES[0], CASES[3]]) {
    const one = runOn("wasm", c, 1);
    assert.equal(rt.kernelThreads(), 1);
    const two = runOn("wasm", c, 2);
    rt.setKernel("wasm");
    assert.equal(rt.kernelThreads(), 2);
    for (const key of ["hs", "h", "c"] as const) assert.deepEqual(Buffer.from(two[key].buffer), Buffer.from(one[key].buffer), key);
    one.grads.forEach((g, k) => assert.deepEqual(Buffer.from(two.grads[k].buffer), Buffer.from(g.buffer), `gradient ${k}`));
  }
});

/** The output layer's value and gradients (x, kernel, bias) under loss sum(y * upstream), on one kernel and thread count. */
function linearOn(kernel: "wasm" | "js", { M, K, N, seed }: { M: number; K: number; N: number; seed: number }, threads: 1 | 2 = 2) {
  rt.setKernel(kernel, threads);
  try {
    const params = [tf.tensor2d(randoms(M * K, seed, 0.9), [M, K]), tf.tensor2d(randoms(K * N, seed + 1, 0.5), [K, N]), tf.tensor1d(randoms(N, seed + 2))];
    const upstream = tf.tensor2d(randoms(M * N, seed + 3), [M, N]);
    let y: Float32Array = new Float32Array(0);
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => {
      const out = rt.linear(x as tf.Tensor2D, k as tf.Tensor2D, b as tf.Tensor1D);
      y = out.dataSync() as Float32Array;
      return tf.sum(tf.mul(out, upstream));
    })(params);
    const result = { y, grads: grads.map((g) => g.dataSync() as Float32Array) };
    tf.dispose([value, ...grads, ...params, upstream]);
    return result;
  } finally {
    rt.setKernel("auto");
  }
}

test("the output layer on the wasm kernel gives TensorFlow.js's values and gradients, the same bytes on one thread or two", async () => {
  await rt.initBackend("wasm");
  // Symbols that are and are not a multiple of 4 (the kernel pads them), rows around its 4-row tiles.
  for (const c of [{ M: 1, K: 4, N: 3, seed: 1 }, { M: 7, K: 8, N: 4, seed: 2 }, { M: 15, K: 12, N: 9, seed: 3 }, { M: 256, K: 128, N: 90, seed: 4 }]) {
    const [one, two, js] = [linearOn("wasm", c, 1), linearOn("wasm", c, 2), linearOn("js", c)];
    const shape = JSON.stringify(c);
    assert.ok(relativeError(two.y, js.y) < 1e-5, `outputs ${shape}: ${relativeError(two.y, js.y)}`);
    ["x", "kernel", "bias"].forEach((name, k) => {
      const error = relativeError(two.grads[k], js.grads[k]);
      assert.ok(error < 1e-5, `gradient of ${name} ${shape}: relative error ${error}`);
      assert.deepEqual(Buffer.from(two.grads[k].buffer), Buffer.from(one.grads[k].buffer), `gradient of ${name} ${shape}, one thread or two`);
    });
    assert.deepEqual(Buffer.from(two.y.buffer), Buffer.from(one.y.buffer), `outputs ${shape}, one thread or two`);
  }
});

/** Five Adam steps on three variables with seeded gradients of growing norms (0.7 to 180); the variables' values after them. */
function adamSteps(makeOptimizer: () => rt.Optimizer): Float32Array[] {
  const shapes = [[7], [3, 5], [129], [300, 250]]; // over 65,536 weights in all: the helper takes half of Adam
  const variables = shapes.map((shape, k) => tf.variable(tf.tensor(randoms(shape.reduce((a, b) => a * b), 90 + k), shape)));
  const optimizer = makeOptimizer();
  for (let step = 0; step < 5; step++) {
    const gradients = variables.map((v, k) => ({ name: v.name, tensor: tf.tensor(randoms(v.size, 100 * step + k, 0.1 * 4 ** step), v.shape) }));
    optimizer.applyGradients(gradients);
    tf.dispose(gradients.map((g) => g.tensor));
  }
  optimizer.dispose();
  const values = variables.map((v) => v.dataSync() as Float32Array);
  tf.dispose(variables);
  return values;
}

test("Adam on the wasm kernel gives tf.train.adam's bytes, on one thread or two; clipped, the JavaScript kernel's values", async () => {
  await rt.initBackend("wasm");
  const reference = adamSteps(() => tf.train.adam(0.01));
  rt.setKernel("js");
  const clippedReference = adamSteps(() => rt.adam(0.01, 0.5)); // clipped at every step
  const clipped: Float32Array[][] = [];
  for (const threads of [1, 2] as const) {
    rt.setKernel("wasm", threads);
    try {
      const ours = adamSteps(() => rt.adam(0.01));
      reference.forEach((values, k) => assert.deepEqual(Buffer.from(ours[k].buffer), Buffer.from(values.buffer), `variable ${k}, ${threads} thread(s)`));
      clipped.push(adamSteps(() => rt.adam(0.01, 0.5)));
    } finally {
      rt.setKernel("auto");
    }
  }
  clippedReference.forEach((values, k) => {
    assert.ok(relativeError(clipped[1][k], values) < 1e-5, `clipped, variable ${k}: relative error ${relativeError(clipped[1][k], values)}`);
    assert.deepEqual(Buffer.from(clipped[1][k].buffer), Buffer.from(clipped[0][k].buffer), `clipped, variable ${k}: one thread or two`);
  });
  assert.ok(relativeError(clippedReference[2], reference[2]) > 1e-3, "the clipping changed the steps");
});

test("Adam on the wasm kernel refuses a gradient with a NaN or an infinity, changing no weight (it would make every weight NaN)", async () => {
  await rt.initBackend("wasm");
  rt.setKernel("wasm");
  const variables = [tf.variable(tf.tensor(randoms(7, 5), [7])), tf.variable(tf.tensor(randoms(15, 6), [3, 5]))];
  const before = variables.map((v) => (v.dataSync() as Float32Array).slice());
  const optimizer = rt.adam(0.01, 1);
  try {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const gradients = variables.map((v, k) => ({ name: v.name, tensor: tf.tensor(randoms(v.size, 10 + k).map((x, i) => (k === 1 && i === 4 ? bad : x)), v.shape) }));
      assert.throws(() => optimizer.applyGradients(gradients), /global norm is (NaN|Infinity)/, `a gradient holding ${bad}`);
      tf.dispose(gradients.map((g) => g.tensor));
      variables.forEach((v, k) => assert.deepEqual(Buffer.from((v.dataSync() as Float32Array).buffer), Buffer.from(before[k].buffer), `variable ${k} after ${bad}`));
    }
    // A finite step afterwards goes through.
    const gradients = variables.map((v, k) => ({ name: v.name, tensor: tf.tensor(randoms(v.size, 10 + k), v.shape) }));
    optimizer.applyGradients(gradients);
    tf.dispose(gradients.map((g) => g.tensor));
    assert.ok(variables.every((v) => (v.dataSync() as Float32Array).every(Number.isFinite)), "finite after a finite step");
  } finally {
    optimizer.dispose();
    tf.dispose(variables);
    rt.setKernel("auto");
  }
});

test("a training gives bitwise-identical weights on one thread or two (same seed), in the streams' phase and the one-stream phase", async () => {
  await rt.initBackend("wasm");
  const text = "function hello(name) {\n  return `hello, ${name}!`;\n}\n".repeat(4);
  // final: 10,000 puts the training into its one-stream phase after the first epoch.
  for (const phase of [{}, { final: 10_000 }]) {
    const [one, two] = ([1, 2] as const).map((threads) => {
      rt.setKernel("wasm", threads);
      try {
        // 128 units: over 65,536 weights, so that the helper also takes half of each Adam step; a
        // small clipNorm makes every step's scale depend on the norm the two halves sum.
        const trained = trainUntilExact(text, { hidden: 128, maxEpochs: 6, clipNorm: 0.05, ...phase });
        const hash = rt.weightsHash(trained.model.weights);
        tf.dispose(Object.values(trained.model.weights));
        return hash;
      } finally {
        rt.setKernel("auto");
      }
    });
    assert.equal(two, one, JSON.stringify(phase));
  }
});

test("falls back to JavaScript: when chosen, and for a hidden size the wasm kernel cannot take", async () => {
  await rt.initBackend("wasm");
  assert.equal(rt.setKernel("js"), "js");
  assert.equal(rt.kernelName(), "js");
  assert.throws(() => rt.setKernel("fast" as rt.KernelChoice), /Unknown kernel "fast": choose one of auto, wasm, js\./);
  assert.equal(rt.setKernel("auto"), "wasm");
  // H = 6 is not a multiple of 4: the JavaScript kernel runs it, and gives what it gives on "js".
  const odd = { V: 5, H: 6, B: 2, T: 4, seed: 7 };
  const auto = runOn("wasm", odd); // asks for wasm; H = 6 runs on JavaScript all the same
  const js = runOn("js", odd);
  assert.deepEqual(auto.hs, js.hs);
  auto.grads.forEach((g, k) => assert.deepEqual(g, js.grads[k]));
});

test("the kernel counts its own work: characters and forward multiply-adds, whatever the caller says", async () => {
  await rt.initBackend("wasm");
  const w = weights(60);
  const outKernel = tf.tensor2d(randoms(H * V, 63), [H, V]);
  const outBias = tf.tensor1d(randoms(V, 64));
  const before = rt.kernelWork();
  const hs = rt.lstmSequence(randomTokens(6), B, rt.zeroState(B, H), w.kernel, w.recurrent, w.bias); // B*T characters
  const logits = rt.linear(hs, outKernel, outBias); // [B*T,H] @ [H,V]
  const stepper = rt.lstmStepper({ ...w, outKernel, outBias });
  stepper.next(1);
  stepper.next(2);
  const after = rt.kernelWork();
  assert.equal(after.chars - before.chars, B * T + 2);
  const perStep = H * (4 * H + V) + 4 * H; // the stepper's one product h @ [recurrent | outKernel], and the input's row
  assert.equal(after.multiplyAdds - before.multiplyAdds, B * T * 4 * H * (H + 1) + B * T * H * V + 2 * perStep);
  const copy = rt.kernelWork();
  copy.chars = 0; // a copy: changing it changes nothing
  assert.equal(rt.kernelWork().chars, after.chars);
  // The trainer's fused window loss counts what lstmSequence and linear count for the same window.
  const fusedBefore = rt.kernelWork();
  tf.tidy(() => {
    rt.windowLoss({ ...w, outKernel, outBias }, randomTokens(6), B, rt.zeroState(B, H), randomTokens(7), new Float32Array(B * T).fill(1),
      { margin: 1, settled: 0.02 });
  });
  const fusedAfter = rt.kernelWork();
  assert.equal(fusedAfter.chars - fusedBefore.chars, B * T);
  assert.equal(fusedAfter.multiplyAdds - fusedBefore.multiplyAdds, B * T * 4 * H * (H + 1) + B * T * H * V);
  stepper.dispose();
  tf.dispose([hs, logits, outKernel, outBias, w.kernel, w.recurrent, w.bias]);
});

/** The trainer's fused window loss on one kernel and thread count: loss, stats, gradients of all five weights, final state. */
function windowLossOn(kernel: "wasm" | "js", { V, H, B, T, seed }: Case, threads: 1 | 2 = 2, settled = 0.02) {
  rt.setKernel(kernel, threads);
  if (kernel === "wasm") assert.equal(rt.kernelThreads(), threads, "the helper thread runs");
  try {
    const w = {
      kernel: tf.variable(tf.tensor2d(randoms(V * 4 * H, seed + 1, 0.8), [V, 4 * H])),
      recurrent: tf.variable(tf.tensor2d(randoms(H * 4 * H, seed + 2, 0.5), [H, 4 * H])),
      bias: tf.variable(tf.tensor1d(randoms(4 * H, seed + 3, 0.5))),
      outKernel: tf.variable(tf.tensor2d(randoms(H * V, seed + 4, 2), [H, V])),
      outBias: tf.variable(tf.tensor1d(randoms(V, seed + 5))),
    };
    const symbol = (r: number) => Math.min(V - 1, Math.floor((r + 1) * V / 2));
    const tokens = Int32Array.from(randoms(B * T, seed + 6), symbol);
    const targets = Int32Array.from(randoms(B * T, seed + 7), symbol);
    const mask = Float32Array.from(randoms(B * T, seed + 8), (r) => (r > -0.6 ? 1 : 0)); // some positions do not count
    const state = { h: randoms(B * H, seed + 9, 0.9), c: randoms(B * H, seed + 10, 2) };
    let stats = { exact: 0, minMargin: 0 };
    const { value, grads } = tf.variableGrads(() => {
      const step = rt.windowLoss(w, tokens, B, state, targets, mask, { margin: 0.3, settled });
      stats = { exact: step.exact, minMargin: step.minMargin };
      return step.loss;
    }, Object.values(w));
    const result = { loss: value.dataSync()[0], ...stats, h: state.h, c: state.c,
      grads: Object.values(w).map((v) => grads[v.name].dataSync() as Float32Array) };
    tf.dispose([value, ...Object.values(grads), ...Object.values(w)]);
    return result;
  } finally {
    rt.setKernel("auto");
  }
}

test("the trainer's fused window loss: the wasm kernel gives the JavaScript one's loss, margins, gradients and state; one thread or two the same bytes", async () => {
  await rt.initBackend("wasm");
  // (The fifth case's 320 rows run past the kernel's 256-row chunks of a long sum; in the last, one
  // stream, the helper thread follows the recurrence step by step: see windowStepLead in the kernel.)
  for (const c of [...CASES, { V: 13, H: 16, B: 2, T: 160, seed: 5 }, { V: 9, H: 12, B: 1, T: 700, seed: 6 }]) {
    const shape = JSON.stringify(c);
    const js = windowLossOn("js", c);
    const [one, two] = [windowLossOn("wasm", c, 1), windowLossOn("wasm", c, 2)];
    assert.ok(Math.abs(one.loss - js.loss) < 1e-5 * Math.abs(js.loss), `loss ${shape}: ${one.loss} against ${js.loss}`);
    assert.equal(one.exact, js.exact, `positions leading by the margin ${shape}`);
    assert.ok(Math.abs(one.minMargin - js.minMargin) < 1e-4, `smallest margin ${shape}`);
    assert.ok(relativeError(one.h, js.h) < 1e-5 && relativeError(one.c, js.c) < 1e-5, `final state ${shape}`);
    ["kernel", "recurrent", "bias", "outKernel", "outBias"].forEach((name, k) => {
      const error = relativeError(one.grads[k], js.grads[k]);
      assert.ok(error < 1e-5, `gradient of ${name} ${shape}: relative error ${error}`);
      assert.deepEqual(Buffer.from(two.grads[k].buffer), Buffer.from(one.grads[k].buffer), `gradient of ${name} ${shape}: one thread or two`);
    });
    assert.equal(two.loss, one.loss);
    assert.ok(js.exact > 0 && js.exact < c.B * c.T, `the case has positions on both sides of the margin ${shape}`);
  }
  // Positions right by twice the margin weigh `settled`: weighing them 1 instead changes the loss.
  assert.notEqual(windowLossOn("wasm", CASES[3], 2, 1).loss, windowLossOn("wasm", CASES[3]).loss);
});

/**
 * Six training steps on a small model with features (K = 2 kernel rows a step, R = V + 4), either
 * through rt.trainer or one step at a time through tf.variableGrads of windowLoss and rt.adam (the
 * trainer before its weights lived in the kernel). Returns the weights after the steps, those after
 * the third (the trainer's keep(), then save(true)), and the steps' losses and stats.
 */
function trainSteps(path: "trainer" | "per step", kernel: "wasm" | "js", threads: 1 | 2, clipNorm: number) {
  const [V, R, H, B, T, K] = [9, 13, 16, 3, 6, 2];
  rt.setKernel(kernel, threads);
  try {
    const w = {
      kernel: tf.variable(tf.tensor2d(randoms(R * 4 * H, 31, 0.5), [R, 4 * H])),
      recurrent: tf.variable(tf.tensor2d(randoms(H * 4 * H, 32, 0.5), [H, 4 * H])),
      bias: tf.variable(tf.tensor1d(randoms(4 * H, 33, 0.5))),
      outKernel: tf.variable(tf.tensor2d(randoms(H * V, 34, 2), [H, V])),
      outBias: tf.variable(tf.tensor1d(randoms(V, 35))),
    };
    const variables = Object.values(w);
    const settings = { learningRate: 0.01, clipNorm, margin: 0.3, settled: 0.02 };
    const state = rt.zeroState(B, H);
    const fit = path === "trainer" ? rt.trainer(w, settings) : null;
    const optimizer = rt.adam(settings.learningRate, clipNorm);
    const steps = [];
    let third: Float32Array[] = [];
    // Six windows of T steps: the trainer takes them as steps kT..(k+1)T of B streams of 6T steps.
    const windows = Array.from({ length: 6 }, (_, k) => ({
      tokens: Int32Array.from(randoms(B * T * K, 40 + k), (r, i) => (i % K ? V : 0) + Math.min(i % K ? R - V - 1 : V - 1, Math.floor((r + 1) * 4))),
      targets: Int32Array.from(randoms(B * T, 50 + k), (r) => Math.min(V - 1, Math.floor((r + 1) * V / 2))),
      mask: Float32Array.from(randoms(B * T, 60 + k), (r) => (r > -0.7 ? 1 : 0)),
    }));
    const streams = <A extends Int32Array | Float32Array>(pick: (w: (typeof windows)[number]) => A, k: number): A => {
      const all = new (pick(windows[0]).constructor as new (n: number) => A)(6 * B * T * k);
      windows.forEach((w, j) => { for (let b = 0; b < B; b++) all.set(pick(w).subarray(b * T * k, (b + 1) * T * k), (b * 6 * T + j * T) * k); });
      return all;
    };
    const [allTokens, allTargets, allMask] = [streams((w) => w.tokens, K), streams((w) => w.targets, 1), streams((w) => w.mask, 1)];
    fit?.data(allTokens, B, allTargets, allMask);
    for (let k = 0; k < 6; k++) {
      const { tokens, targets, mask } = windows[k];
      if (fit) steps.push(fit.step(state, k * T, (k + 1) * T));
      else {
        let stats = { exact: 0, minMargin: 0 };
        const { value, grads } = tf.variableGrads(() => {
          const step = rt.windowLoss(w, tokens, B, state, targets, mask, settings);
          stats = { exact: step.exact, minMargin: step.minMargin };
          return step.loss;
        }, variables);
        optimizer.applyGradients(grads);
        steps.push({ loss: value.dataSync()[0], ...stats });
        tf.dispose([value, grads]);
      }
      if (k === 2) {
        if (fit) fit.keep();
        else third = variables.map((v) => v.dataSync().slice() as Float32Array);
      }
    }
    fit?.save();
    const last = variables.map((v) => v.dataSync().slice() as Float32Array);
    if (fit) {
      fit.save(true);
      third = variables.map((v) => v.dataSync().slice() as Float32Array);
      fit.dispose();
    }
    optimizer.dispose();
    tf.dispose(variables);
    return { last, third, steps };
  } finally {
    rt.setKernel("auto");
  }
}

test("the trainer, its weights and Adam resident in the kernel, gives the bits of windowLoss and rt.adam step by step, on one thread or two", async () => {
  await rt.initBackend("wasm");
  for (const clipNorm of [Infinity, 0.05]) { // 0.05 clips every step
    const reference = trainSteps("per step", "wasm", 2, clipNorm);
    for (const threads of [1, 2] as const) {
      const ours = trainSteps("trainer", "wasm", threads, clipNorm);
      const what = `clipped at ${clipNorm}, ${threads} thread(s)`;
      assert.deepEqual(ours.steps, reference.steps, `losses and margins, ${what}`);
      ours.last.forEach((values, k) => assert.deepEqual(Buffer.from(values.buffer), Buffer.from(reference.last[k].buffer), `weight ${k}, ${what}`));
      ours.third.forEach((values, k) => assert.deepEqual(Buffer.from(values.buffer), Buffer.from(reference.third[k].buffer), `kept weight ${k}, ${what}`));
    }
    // The JavaScript kernel: the same path as before, and the wasm trainer's weights to float32 noise.
    const js = trainSteps("trainer", "js", 1, clipNorm);
    assert.deepEqual(js, trainSteps("per step", "js", 1, clipNorm));
    js.last.forEach((values, k) => assert.ok(relativeError(reference.last[k], values) < 1e-4, `weight ${k} on js, clipped at ${clipNorm}: ${relativeError(reference.last[k], values)}`));
  }
  const w = { kernel: tf.variable(tf.zeros<tf.Rank.R2>([5, 16])), recurrent: tf.variable(tf.zeros<tf.Rank.R2>([4, 16])),
    bias: tf.variable(tf.zeros<tf.Rank.R1>([16])), outKernel: tf.variable(tf.zeros<tf.Rank.R2>([4, 5])), outBias: tf.variable(tf.zeros<tf.Rank.R1>([5])) };
  const fit = rt.trainer(w, { learningRate: 0.01, margin: 1, settled: 0.02 });
  assert.throws(() => fit.step(rt.zeroState(1, 4)), /step\(\) before data\(\)/);
  fit.data(Int32Array.of(0, 1), 1, Int32Array.of(0, 5), Float32Array.of(1, 1));
  assert.throws(() => fit.step(rt.zeroState(1, 4)), /trainer: target 5 is outside the 5 symbols/);
  fit.data(Int32Array.of(0, 1), 1, Int32Array.of(0, 1), Float32Array.of(1, 1));
  assert.throws(() => fit.step(rt.zeroState(1, 4), 1, 3), /steps 1 to 3 are not a window of streams of 2 steps/);
  fit.dispose();
  const tensors = { ...w, bias: tf.zeros<tf.Rank.R1>([16]) };
  assert.throws(() => rt.trainer(tensors, { learningRate: 0.01, margin: 1, settled: 0.02 }), /the weights must be tf.Variables/);
  tf.dispose([...Object.values(w), tensors.bias]);
});

test("gradients that explode back through a long window stay finite on either kernel (each step's dh is held within ±1e6)", async () => {
  await rt.initBackend("wasm");
  // A recurrent matrix this large makes the gradient grow step after step back through 1,500 steps:
  // unheld, it passes float32's range and every recurrent gradient is NaN.
  const [V, H, B, T] = [11, 16, 1, 1500];
  for (const kernel of ["wasm", "js"] as const) {
    rt.setKernel(kernel, 1);
    try {
      const w = {
        kernel: tf.variable(tf.tensor2d(randoms(V * 4 * H, 1, 0.5), [V, 4 * H])),
        recurrent: tf.variable(tf.tensor2d(randoms(H * 4 * H, 2, 2), [H, 4 * H])),
        bias: tf.variable(tf.tensor1d(randoms(4 * H, 3, 0.1))),
        outKernel: tf.variable(tf.tensor2d(randoms(H * V, 4), [H, V])),
        outBias: tf.variable(tf.tensor1d(randoms(V, 5, 0.1))),
      };
      const tokens = Int32Array.from({ length: B * T }, (_, i) => (i * 7) % V);
      const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 3) % V);
      const { value, grads } = tf.variableGrads(() => rt.windowLoss(w, tokens, B, rt.zeroState(B, H), targets, new Float32Array(B * T).fill(1),
        { margin: 1, settled: 0.02 }).loss, Object.values(w));
      const recurrent = grads[w.recurrent.name].dataSync();
      assert.ok(recurrent.every(Number.isFinite), `${kernel}: every recurrent gradient is finite`);
      assert.ok(recurrent.some((g) => Math.abs(g) > 1e5), `${kernel}: the case explodes (its largest gradient is past 1e5)`);
      tf.dispose([value, ...Object.values(grads), ...Object.values(w)]);
    } finally {
      rt.setKernel("auto");
    }
  }
});

test("the fused window loss rejects targets outside the symbols and masks of the wrong length", async () => {
  await rt.initBackend("wasm");
  const w = { kernel: tf.zeros<tf.Rank.R2>([5, 16]), recurrent: tf.zeros<tf.Rank.R2>([4, 16]), bias: tf.zeros<tf.Rank.R1>([16]),
    outKernel: tf.zeros<tf.Rank.R2>([4, 5]), outBias: tf.zeros<tf.Rank.R1>([5]) };
  const focus = { margin: 1, settled: 0.02 };
  const two = Int32Array.of(0, 1);
  assert.throws(() => rt.windowLoss(w, two, 1, rt.zeroState(1, 4), Int32Array.of(0, 5), Float32Array.of(1, 1), focus), /target 5 is outside the 5 symbols/);
  assert.throws(() => rt.windowLoss(w, two, 1, rt.zeroState(1, 4), two, Float32Array.of(1), focus), /2 tokens need as many targets and mask values/);
  assert.throws(() => rt.windowLoss(w, Int32Array.of(0, 7), 1, rt.zeroState(1, 4), two, Float32Array.of(1, 1), focus), /token 7 is outside/);
  assert.throws(() => rt.windowLoss(w, two, 1, rt.zeroState(1, 4), two, Float32Array.of(1, 0.5), focus), /a mask value of 0.5/);
  const six = Int32Array.of(0, 1, 2, 3, 4, 0);
  assert.throws(() => rt.windowLoss(w, six, 1.5, rt.zeroState(1.5, 4), six, new Float32Array(6).fill(1), focus), /do not make 1.5 streams/);
  const narrow = { ...w, outKernel: tf.zeros<tf.Rank.R2>([4, 3]) };
  assert.throws(() => rt.windowLoss(narrow, two, 1, rt.zeroState(1, 4), two, Float32Array.of(1, 1), focus), /a weight of shape \[4,3\] where \[4,5\] belongs/);
  tf.dispose([...Object.values(w), narrow.outKernel]);
});

test("rejects tokens outside the kernel's rows and windows that do not fit the state", async () => {
  await rt.initBackend("wasm");
  const [kernel, recurrent, bias] = [tf.zeros<tf.Rank.R2>([5, 16]), tf.zeros<tf.Rank.R2>([4, 16]), tf.zeros<tf.Rank.R1>([16])];
  assert.throws(() => rt.lstmSequence(Int32Array.of(0, 5), 1, rt.zeroState(1, 4), kernel, recurrent, bias), /token 5 is outside the kernel's 5 rows/);
  assert.throws(() => rt.lstmSequence(Int32Array.of(0, -1), 1, rt.zeroState(1, 4), kernel, recurrent, bias), /token -1/);
  assert.throws(() => rt.lstmSequence(Int32Array.of(0, 1, 2), 2, rt.zeroState(2, 4), kernel, recurrent, bias), /do not make 2 streams/);
  tf.dispose([kernel, recurrent, bias]);
});

test("leaves no tensors behind: tf.memory().numTensors is flat over training steps (LSTM and output layer, the fused window loss)", async () => {
  await rt.initBackend("wasm");
  const V = 9, H = 16, B = 4, T = 8;
  const kernel = tf.variable(tf.tensor2d(randoms(V * 4 * H, 80, 0.5), [V, 4 * H]));
  const recurrent = tf.variable(tf.tensor2d(randoms(H * 4 * H, 81, 0.5), [H, 4 * H]));
  const bias = tf.variable(tf.tensor1d(randoms(4 * H, 82, 0.5)));
  const optimizer = tf.train.adam(1e-2);
  const state = rt.zeroState(B, H);
  const tokens = Int32Array.from(randoms(B * T, 83), (r) => Math.min(V - 1, Math.floor((r + 1) * V / 2)));
  const outKernel = tf.variable(tf.tensor2d(randoms(H * V, 84, 0.5), [H, V]));
  const outBias = tf.variable(tf.zeros<tf.Rank.R1>([V]));
  const logits = () => rt.linear(rt.lstmSequence(tokens, B, state, kernel, recurrent, bias), outKernel, outBias);
  const trainStep = () => optimizer.minimize(() => tf.mean(tf.square(logits())), true)?.dispose();
  trainStep(); // the optimizer's own slots appear on the first step
  const before = tf.memory().numTensors;
  for (let k = 0; k < 5; k++) trainStep();
  assert.equal(tf.memory().numTensors, before);
  // The trainer's fused window loss and the runtime's Adam, as src/quine/train.ts uses them.
  const w = { kernel, recurrent, bias, outKernel, outBias };
  const adam = rt.adam(1e-2, 1);
  const fusedStep = () => {
    const { value, grads } = tf.variableGrads(() => rt.windowLoss(w, tokens, B, state, tokens, new Float32Array(B * T).fill(1), { margin: 1, settled: 0.02 }).loss);
    adam.applyGradients(grads);
    tf.dispose([value, grads]);
  };
  for (const kernel of ["wasm", "js"] as const) {
    rt.setKernel(kernel);
    fusedStep();
    const beforeFused = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) fusedStep();
    assert.equal(tf.memory().numTensors, beforeFused, `the fused window loss on ${kernel}`);
  }
  // The trainer, on the kernel's memory (wasm) and on TensorFlow.js (js), keeping the best weights and saving them.
  for (const kernel of ["wasm", "js"] as const) {
    rt.setKernel(kernel);
    const fit = rt.trainer(w, { learningRate: 1e-2, clipNorm: 1, margin: 1, settled: 0.02 });
    const trainerStep = () => {
      fit.data(tokens, B, tokens, new Float32Array(B * T).fill(1));
      fit.step(state);
      fit.keep();
      fit.save();
    };
    trainerStep();
    const beforeTrainer = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) trainerStep();
    fit.save(true);
    assert.equal(tf.memory().numTensors, beforeTrainer, `the trainer on ${kernel}`);
    fit.dispose();
  }
  rt.setKernel("auto");
  adam.dispose();
  optimizer.dispose();
  tf.dispose([kernel, recurrent, bias, outKernel, outBias]);
});

test("the committed binary is the one the AssemblyScript source compiles to", () => {
  assert.equal(readFileSync(KERNEL_BINARY_MODULE, "utf8"), binaryModule(compileKernel()), "src/runtime/wasm/binary.ts is stale: run npm run build:kernel");
});
