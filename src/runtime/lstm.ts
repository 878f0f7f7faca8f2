// The fused LSTM kernel: the whole recurrence over a window, forward and analytic backward (BPTT).
// Two implementations of the same arithmetic: compiled WebAssembly with SIMD (./lstm-wasm.ts,
// source ./wasm/lstm.as.ts: one call per window each way, the default where it runs), and tight
// JavaScript loops over typed arrays with the one recurrent matrix product per step done by the
// backend's matMul (XNNPACK on wasm): the reference and the fallback. Both plug into TensorFlow.js
// with tf.customGrad, so optimizers, saving and the rest stay TensorFlow.js. The kernel lives
// outside the bundled trainer, like TensorFlow.js itself, so the quine's text stays short.
//
// Why fused: built from per-step tf ops (slice, sigmoid, tanh, mul, add, ... and their gradients)
// an LSTM spends its time in per-op overhead, not arithmetic. Inputs are kernel row indices, so the
// input projection is a row lookup (no embedding gather, whose gradient the wasm backend lacks):
// one row a step (the symbol's), or K (multi-hot: the symbol's and its features', ./features.ts),
// summed. Gate order and weight layout are those of tf.layers.lstm: i, f, c, o; kernel [R,4H]
// (R = V symbols, plus the features' rows), recurrentKernel [H,4H], bias [4H].
import * as tf from "@tensorflow/tfjs-core";
import { sigmoid, tanh } from "./activations";
import { countWork, kernelName, matMul, values } from "./kernel";
import { stepMajor, wasmBackward, wasmForward, wasmKernel, type WasmKernel } from "./lstm-wasm";

/** Each step's dh is held within ± this: past float32's range a long window's gradients turn to NaN (see GRADIENT_LIMIT in ./wasm/lstm.as.ts). */
const GRADIENT_LIMIT = 1e6;

/** LSTM state of B streams: h and c, each [B,H] row-major. Carried from one window to the next. */
export interface LstmState {
  h: Float32Array;
  c: Float32Array;
}

export function zeroState(streams: number, hidden: number): LstmState {
  return { h: new Float32Array(streams * hidden), c: new Float32Array(streams * hidden) };
}

/** The weights of a one-layer LSTM language model (shapes as in tf.layers: see the header). */
export interface LstmWeights {
  kernel: tf.Tensor2D; // [R,4H]: the V symbols' rows, then the features' (./features.ts)
  recurrent: tf.Tensor2D; // [H,4H]
  bias: tf.Tensor1D; // [4H]
  outKernel: tf.Tensor2D; // [H,V]
  outBias: tf.Tensor1D; // [V]
}

/**
 * One LSTM step for B streams. `z` [B,4H] is the recurrent part h_{t-1} @ recurrent; the input part
 * is the sum of the `width` kernel rows `rows[b*width ...]` (in order). Advances `state` in place and
 * writes the activations i, f, g, o [B,4H] into `gates` and tanh(c) [B,H] into `tanhC` (both kept
 * for the backward pass).
 */
export function step(rows: ArrayLike<number>, width: number, z: Float32Array, kernel: Float32Array, bias: Float32Array,
  state: LstmState, gates: Float32Array, tanhC: Float32Array): void {
  const B = rows.length / width;
  const H = state.h.length / B;
  const G = 4 * H;
  const { h: hs, c: cs } = state;
  const x = new Float64Array(G); // the input part of one stream
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < width; k++) {
      const row = rows[b * width + k] * G;
      for (let n = 0; n < G; n++) x[n] = k ? x[n] + kernel[row + n] : kernel[row + n];
    }
    const r = b * G;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(z[r + j] + x[j] + bias[j]);
      const f = sigmoid(z[r + H + j] + x[H + j] + bias[H + j]);
      const g = tanh(z[r + 2 * H + j] + x[2 * H + j] + bias[2 * H + j]);
      const o = sigmoid(z[r + 3 * H + j] + x[3 * H + j] + bias[3 * H + j]);
      const k = b * H + j;
      const c = f * cs[k] + i * g;
      const tc = tanh(c);
      cs[k] = c;
      hs[k] = o * tc;
      tanhC[k] = tc;
      gates[r + j] = i;
      gates[r + H + j] = f;
      gates[r + 2 * H + j] = g;
      gates[r + 3 * H + j] = o;
    }
  }
}

/**
 * Runs the LSTM over B parallel streams for T steps. `tokens` is [B,T,width] (row b holds stream
 * b's inputs: at each step `width` kernel rows, whose sum is the step's input; one, the symbol's,
 * unless the model has features); `state` holds the initial h, c [B,H] and is advanced to the final
 * ones (not differentiated: gradients stop at the window's start, truncated BPTT).
 * Returns the hidden states hs [B*T,H], row b*T+t, differentiable w.r.t. the three weights.
 */
export function lstmSequence(tokens: Int32Array, streams: number, state: LstmState,
  kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D, width = 1): tf.Tensor2D {
  const H = recurrent.shape[0];
  // Checked because the wasm kernel would read whatever lies in its memory (a program's tokens are
  // untrusted in the sandbox); the JavaScript one would silently compute NaN.
  checkWindow("lstmSequence", tokens, streams, width, state, kernel.shape[0], H);
  const steps = tokens.length / width;
  countWork(steps, steps * 4 * H * (H + width)); // h @ recurrent, plus the input's rows of kernel
  const wasm = kernelName() === "wasm" && H % 4 === 0 ? wasmKernel() : null;
  return wasm ? wasmSequence(wasm, tokens, streams, width, state, kernel, recurrent, bias) : jsSequence(tokens, streams, width, state, kernel, recurrent, bias);
}

/**
 * Throws unless `tokens` make B streams of whole steps of `width` rows each for a [B,H] state, each
 * a row of an R-row kernel (the wasm kernel would read past its arrays).
 */
export function checkWindow(what: string, tokens: Int32Array, streams: number, width: number, state: LstmState, R: number, H: number): void {
  const T = tokens.length / (streams * width);
  if (!Number.isInteger(width) || width < 1) throw new Error(`${what}: a step reads a whole number of kernel rows, not ${width}.`);
  if (!Number.isInteger(streams) || streams < 1 || !Number.isInteger(T) || state.h.length !== streams * H || state.c.length !== streams * H) {
    throw new Error(`${what}: ${tokens.length} tokens do not make ${streams} streams of whole steps with a [${streams},${H}] state.`);
  }
  for (const token of tokens) if (!(token >= 0 && token < R)) throw new Error(`${what}: token ${token} is outside the kernel's ${R} rows.`);
}

/** lstmSequence on the WebAssembly kernel: one call for the forward pass, one for the backward. */
function wasmSequence(wasm: WasmKernel, tokens: Int32Array, streams: number, width: number, state: LstmState,
  kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const shape = { T: tokens.length / (streams * width), B: streams, H: recurrent.shape[0], R: kernel.shape[0], K: width };
  const { T, B, H } = shape;
  const run = tf.customGrad(() => {
    const xs = stepMajor(tokens, B, new Int32Array(tokens.length), width); // row t holds the B streams' inputs at step t
    const { hs, saved } = wasmForward(wasm, shape, xs, values(kernel), values(recurrent), values(bias), state);
    const gradFunc = (dy: tf.Tensor) => {
      const d = wasmBackward(wasm, shape, xs, values(recurrent), saved, values(dy));
      return [tf.tensor2d(d.dKernel, kernel.shape), tf.tensor2d(d.dRecurrent, recurrent.shape), tf.tensor1d(d.dBias)];
    };
    return { value: tf.tensor2d(hs, [B * T, H]), gradFunc };
  });
  return run(kernel, recurrent, bias) as tf.Tensor2D;
}

/** lstmSequence in JavaScript, one backend matMul per step: the reference and the fallback. */
function jsSequence(tokens: Int32Array, streams: number, width: number, state: LstmState,
  kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const B = streams;
  const T = tokens.length / (B * width);
  const H = recurrent.shape[0];
  const G = 4 * H;
  // customGrad hands the inputs back as arguments; the closure's own references are the same tensors.
  const run = tf.customGrad(() => {
    const K = values(kernel);
    const bb = values(bias);
    // Per step t (rows t*B+b): the inputs, the state before the step, the gate activations and
    // tanh(c) after it, kept for BPTT.
    const xs = stepMajor(tokens, B, new Int32Array(tokens.length), width);
    const hPrev = new Float32Array(T * B * H);
    const cPrev = new Float32Array(T * B * H);
    const tanhC = new Float32Array(T * B * H);
    const gates = new Float32Array(T * B * G);
    const hs = new Float32Array(B * T * H);
    for (let t = 0; t < T; t++) {
      hPrev.set(state.h, t * B * H);
      cPrev.set(state.c, t * B * H);
      step(xs.subarray(t * B * width, (t + 1) * B * width), width, matMul(state.h, B, recurrent), K, bb, state,
        gates.subarray(t * B * G, (t + 1) * B * G), tanhC.subarray(t * B * H, (t + 1) * B * H));
      for (let b = 0; b < B; b++) hs.set(state.h.subarray(b * H, (b + 1) * H), (b * T + t) * H);
    }
    const gradFunc = (dy: tf.Tensor) => {
      const dhs = values(dy);
      const dZ = new Float32Array(T * B * G); // gradient w.r.t. the gate pre-activations, per step
      const recurrentT = tf.transpose(recurrent) as tf.Tensor2D;
      let dhNext: Float32Array = new Float32Array(B * H); // from step t+1 through the recurrent weights
      const dcNext = new Float32Array(B * H);
      for (let t = T - 1; t >= 0; t--) {
        const g4 = gates.subarray(t * B * G, (t + 1) * B * G);
        const dz = dZ.subarray(t * B * G, (t + 1) * B * G);
        const cp = cPrev.subarray(t * B * H, (t + 1) * B * H);
        const tcs = tanhC.subarray(t * B * H, (t + 1) * B * H);
        for (let b = 0; b < B; b++) {
          const r = b * G;
          const out = (b * T + t) * H;
          for (let j = 0; j < H; j++) {
            const k = b * H + j;
            const i = g4[r + j], f = g4[r + H + j], g = g4[r + 2 * H + j], o = g4[r + 3 * H + j];
            const tc = tcs[k];
            const dh = Math.min(Math.max(dhs[out + j] + dhNext[k], -GRADIENT_LIMIT), GRADIENT_LIMIT);
            const dc = dh * o * (1 - tc * tc) + dcNext[k];
            dz[r + j] = dc * g * i * (1 - i);
            dz[r + H + j] = dc * cp[k] * f * (1 - f);
            dz[r + 2 * H + j] = dc * i * (1 - g * g);
            dz[r + 3 * H + j] = dh * tc * o * (1 - o);
            dcNext[k] = dc * f;
          }
        }
        if (t > 0) dhNext = matMul(dz, B, recurrentT); // (at t = 0 it would only reach the initial state)
      }
      recurrentT.dispose();
      // The input part of each step is the sum of its kernel rows, so their gradient is a scatter-add of dz.
      const dKernel = new Float32Array(K.length);
      const dBias = new Float32Array(G);
      for (let row = 0; row < T * B; row++) {
        const r = row * G;
        for (let k = 0; k < width; k++) {
          const x = xs[row * width + k] * G;
          for (let n = 0; n < G; n++) dKernel[x + n] += dZ[r + n];
        }
        for (let n = 0; n < G; n++) dBias[n] += dZ[r + n];
      }
      // dRecurrent = sum over steps of h_{t-1}^T dz_t: one big product over all T*B rows, with
      // h_{t-1} transposed here (a transpose flag on matMul is ~10x slower on wasm).
      const hPrevT = new Float32Array(H * T * B);
      for (let row = 0; row < T * B; row++) {
        for (let j = 0; j < H; j++) hPrevT[j * T * B + row] = hPrev[row * H + j];
      }
      const a = tf.tensor2d(hPrevT, [H, T * B]);
      const d = tf.tensor2d(dZ, [T * B, G]);
      const dRecurrent = tf.matMul(a, d);
      tf.dispose([a, d]);
      return [tf.tensor2d(dKernel, kernel.shape), dRecurrent, tf.tensor1d(dBias)];
    };
    return { value: tf.tensor2d(hs, [B * T, H]), gradFunc };
  });
  return run(kernel, recurrent, bias) as tf.Tensor2D;
}
