// The fused LSTM kernel: the whole recurrence over a window, forward and analytic backward (BPTT).
// Two implementations of the same arithmetic: compiled WebAssembly with SIMD (./lstm-wasm.ts,
// source ./wasm/lstm.as.ts: one call per window each way, the default where it runs), and tight
// JavaScript loops over typed arrays with the one recurrent matrix product per step done by the
// backend's matMul (XNNPACK on wasm): the reference and the fallback. Both plug into TensorFlow.js
// with tf.customGrad, so optimizers, saving and the rest stay TensorFlow.js. The kernel lives
// outside the bundled trainer, like TensorFlow.js itself, so the quine's text stays short.
//
// Why fused: built from per-step tf ops (slice, sigmoid, tanh, mul, add, ... and their gradients)
// an LSTM spends its time in per-op overhead, not arithmetic. Inputs are token indices, so the
// input projection is a row lookup (no embedding gather, whose gradient the wasm backend lacks).
// Gate order and weight layout are those of tf.layers.lstm: i, f, c, o; kernel [V,4H],
// recurrentKernel [H,4H], bias [4H].
import * as tf from "@tensorflow/tfjs-core";
import { setWasmThreads, wasmAdam, wasmBackward, wasmForward, wasmKernel, wasmLinearBackward, wasmLinearForward, wasmThreads,
  wasmWindowStep, stepMajor, type Focus, type WasmKernel, type WindowData } from "./lstm-wasm";

export type { Focus } from "./lstm-wasm";

/**
 * A tensor's values as host code reads them: Tensor.prototype.dataSync as it was when this module
 * loaded. A sandbox later replaces it, for its program, with one that first checks who called (a
 * stack capture per call: 4% of a sandboxed training, profiled); the runtime is host code and wants
 * the host's own arrays.
 */
const hostDataSync = tf.Tensor.prototype.dataSync;
function values(t: tf.Tensor): Float32Array {
  return hostDataSync.call(t) as Float32Array; // float32 tensors only here; adam checks its gradients
}

/** LSTM state of B streams: h and c, each [B,H] row-major. Carried from one window to the next. */
export interface LstmState {
  h: Float32Array;
  c: Float32Array;
}

export function zeroState(streams: number, hidden: number): LstmState {
  return { h: new Float32Array(streams * hidden), c: new Float32Array(streams * hidden) };
}

/**
 * tanh as a rational function (the minimax approximation Eigen and XNNPACK use for float tanh,
 * clamped where it reaches ±1): absolute error < 3e-7, five times faster than Math.tanh, and plain
 * arithmetic, so it gives the same bits on every machine, where Math.tanh and Math.exp need not.
 */
export function tanh(x: number): number {
  if (x > 7.90531110763549805) return 1;
  if (x < -7.90531110763549805) return -1;
  const x2 = x * x;
  const p = x * (4.89352455891786e-3 + x2 * (6.37261928875436e-4 + x2 * (1.48572235717979e-5 + x2 * (5.12229709037114e-8
    + x2 * (-8.60467152213735e-11 + x2 * (2.00018790482477e-13 + x2 * -2.76076847742355e-16))))));
  const q = 4.89352518554385e-3 + x2 * (2.268434632439e-3 + x2 * (1.18534705686654e-4 + x2 * 1.19825839466702e-6));
  return p / q;
}

export const sigmoid = (x: number): number => 0.5 + 0.5 * tanh(0.5 * x);

/** h [B,H] @ w [H,N] on the backend; returns a fresh Float32Array [B,N]. */
function matMul(h: Float32Array, rows: number, w: tf.Tensor2D): Float32Array {
  // Not tf.tidy: it would walk the returned array element by element looking for tensors.
  const x = tf.tensor2d(h, [rows, h.length / rows]);
  const y = tf.matMul(x, w); // never with a transpose flag: those are ~10x slower on wasm
  const out = values(y);
  tf.dispose([x, y]);
  return out;
}

/**
 * One LSTM step for B streams. `z` [B,4H] is the recurrent part h_{t-1} @ recurrent; the input part
 * is row `tokens[b]` of `kernel`. Advances `state` in place and writes the activations i, f, g, o
 * [B,4H] into `gates` and tanh(c) [B,H] into `tanhC` (both kept for the backward pass).
 */
function step(tokens: ArrayLike<number>, z: Float32Array, kernel: Float32Array, bias: Float32Array,
  state: LstmState, gates: Float32Array, tanhC: Float32Array): void {
  const B = tokens.length;
  const H = state.h.length / B;
  const { h: hs, c: cs } = state;
  for (let b = 0; b < B; b++) {
    const x = tokens[b] * 4 * H;
    const r = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(z[r + j] + kernel[x + j] + bias[j]);
      const f = sigmoid(z[r + H + j] + kernel[x + H + j] + bias[H + j]);
      const g = tanh(z[r + 2 * H + j] + kernel[x + 2 * H + j] + bias[2 * H + j]);
      const o = sigmoid(z[r + 3 * H + j] + kernel[x + 3 * H + j] + bias[3 * H + j]);
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

/** Which kernel runs a window: "auto" is the WebAssembly one where WebAssembly SIMD runs, else JavaScript. */
export const KERNELS = ["auto", "wasm", "js"] as const;
export type KernelChoice = (typeof KERNELS)[number];

let kernelInUse: "wasm" | "js" | undefined;

/**
 * Chooses the kernel, and for wasm the threads it may use (default: NQ_THREADS, else 2; a second
 * thread only speeds it up, the bits are the same). An explicit "wasm" that cannot run here is an
 * error. Returns the kernel chosen.
 */
export function setKernel(choice: KernelChoice, threads?: 1 | 2): "wasm" | "js" {
  if (!(KERNELS as readonly string[]).includes(choice)) throw new Error(`Unknown kernel "${choice}": choose one of ${KERNELS.join(", ")}.`);
  const available = wasmKernel() !== null;
  if (choice === "wasm" && !available) throw new Error("The wasm kernel is not available: this runtime has no WebAssembly SIMD.");
  if (available && threads) setWasmThreads(threads);
  kernelInUse = choice === "js" || !available ? "js" : "wasm";
  return kernelInUse;
}

/** Threads the kernel in use runs a window on: 2 for wasm with its helper thread, else 1. */
export function kernelThreads(): number {
  return kernelName() === "wasm" ? wasmThreads() : 1;
}

/**
 * The kernel lstmSequence runs on, for metrics: NQ_KERNEL (auto, wasm or js; default auto) unless
 * setKernel chose. The wasm kernel needs a hidden size that is a multiple of 4; others run on js.
 */
export function kernelName(): "wasm" | "js" {
  return kernelInUse ?? setKernel((process.env.NQ_KERNEL ?? "auto") as KernelChoice);
}

/**
 * The work the kernel did in this process, counted here rather than by its caller: characters through
 * the LSTM (training windows and decoding steps) and the forward pass's multiply-adds (recurrence,
 * gates' inputs and output layer; a backward pass costs about twice its forward). The same program
 * on the same text counts the same on any machine. A sandbox reports it, and evolution selects on it.
 */
const work = { chars: 0, multiplyAdds: 0 };

/** What the kernel has done in this process so far (a copy: only the kernel's own calls add to it). */
export function kernelWork(): { chars: number; multiplyAdds: number } {
  return { ...work };
}

/**
 * Runs the LSTM over B parallel streams for T steps. `tokens` is [B,T] (row b holds stream b's
 * inputs); `state` holds the initial h, c [B,H] and is advanced to the final ones (not
 * differentiated: gradients stop at the window's start, truncated BPTT).
 * Returns the hidden states hs [B*T,H], row b*T+t, differentiable w.r.t. the three weights.
 */
export function lstmSequence(tokens: Int32Array, streams: number, state: LstmState,
  kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const H = recurrent.shape[0];
  // Checked because the wasm kernel would read whatever lies in its memory (a program's tokens are
  // untrusted in the sandbox); the JavaScript one would silently compute NaN.
  checkWindow("lstmSequence", tokens, streams, state, kernel.shape[0], H);
  work.chars += tokens.length;
  work.multiplyAdds += tokens.length * 4 * H * (H + 1); // h @ recurrent, plus the input's row of kernel
  const wasm = kernelName() === "wasm" && H % 4 === 0 ? wasmKernel() : null;
  return wasm ? wasmSequence(wasm, tokens, streams, state, kernel, recurrent, bias) : jsSequence(tokens, streams, state, kernel, recurrent, bias);
}

/** Throws unless `tokens` make B streams of whole steps for a [B,H] state, each a row of a V-row kernel (the wasm kernel would read past its arrays). */
function checkWindow(what: string, tokens: Int32Array, streams: number, state: LstmState, V: number, H: number): void {
  const T = tokens.length / streams;
  if (!Number.isInteger(streams) || streams < 1 || !Number.isInteger(T) || state.h.length !== streams * H || state.c.length !== streams * H) {
    throw new Error(`${what}: ${tokens.length} tokens do not make ${streams} streams of whole steps with a [${streams},${H}] state.`);
  }
  for (const token of tokens) if (!(token >= 0 && token < V)) throw new Error(`${what}: token ${token} is outside the kernel's ${V} rows.`);
}

/** What windowLoss gives: the loss, and of the positions that count how many lead by the margin and the smallest lead. */
export interface WindowLoss {
  loss: tf.Scalar;
  exact: number;
  minMargin: number;
}

/**
 * The trainer's loss over one window, fused: the LSTM over B streams (`tokens` [B,T], b-major;
 * `state` advanced as by lstmSequence), the output layer, and the sum of -log p(target) (`targets`
 * [B,T]) over the positions where `mask` [B,T] is 1, over their count. Each position weighs 1, or
 * `focus.settled` once its target's logit leads the best other one by twice `focus.margin`: the
 * last few wrong positions are not drowned out by thousands of right ones. The loss is
 * differentiable w.r.t. the five weights. On the wasm kernel, one call per window (its two halves
 * of the streams on two threads); the JavaScript reference composes lstmSequence, linear and
 * TensorFlow.js ops. Call it inside tf.variableGrads or tf.tidy.
 */
export function windowLoss(w: LstmWeights, tokens: Int32Array, streams: number, state: LstmState, targets: Int32Array,
  mask: Float32Array, focus: Focus): WindowLoss {
  const [V, H] = [w.kernel.shape[0], w.recurrent.shape[0]];
  // Checked because the wasm kernel would read whatever lies in its memory (see lstmSequence).
  const shapes = [[w.kernel, [V, 4 * H]], [w.recurrent, [H, 4 * H]], [w.bias, [4 * H]], [w.outKernel, [H, V]], [w.outBias, [V]]] as const;
  for (const [weight, shape] of shapes) {
    if (weight.shape.join() !== shape.join()) throw new Error(`windowLoss: a weight of shape [${weight.shape}] where [${shape}] belongs.`);
  }
  checkWindow("windowLoss", tokens, streams, state, V, H);
  if (targets.length !== tokens.length || mask.length !== tokens.length) throw new Error(`windowLoss: ${tokens.length} tokens need as many targets and mask values.`);
  for (const target of targets) if (!(target >= 0 && target < V)) throw new Error(`windowLoss: target ${target} is outside the ${V} symbols.`);
  for (const m of mask) if (m !== 0 && m !== 1) throw new Error(`windowLoss: a mask value of ${m}: each position counts (1) or not (0).`);
  const wasm = kernelName() === "wasm" && H % 4 === 0 ? wasmKernel() : null;
  return wasm ? wasmWindowLoss(wasm, w, { tokens, targets, mask }, streams, state, focus) : jsWindowLoss(w, tokens, targets, mask, streams, state, focus);
}

/** windowLoss on the wasm kernel: the whole step, gradients included, in the forward call; the gradient function only scales them. */
function wasmWindowLoss(wasm: WasmKernel, w: LstmWeights, data: WindowData,
  streams: number, state: LstmState, focus: Focus): WindowLoss {
  const shape = { T: data.tokens.length / streams, B: streams, H: w.recurrent.shape[0], V: w.kernel.shape[0] };
  work.chars += data.tokens.length; // as lstmSequence and linear count them
  work.multiplyAdds += data.tokens.length * (4 * shape.H * (shape.H + 1) + shape.H * shape.V);
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
  const z = linear(lstmSequence(tokens, streams, state, w.kernel, w.recurrent, w.bias), w.outKernel, w.outBias); // [B*T,V]
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

/** lstmSequence on the WebAssembly kernel: one call for the forward pass, one for the backward. */
function wasmSequence(wasm: WasmKernel, tokens: Int32Array, streams: number, state: LstmState,
  kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const shape = { T: tokens.length / streams, B: streams, H: recurrent.shape[0], V: kernel.shape[0] };
  const { T, B, H } = shape;
  const run = tf.customGrad(() => {
    const xs = stepMajor(tokens, B, new Int32Array(T * B)); // row t holds the B streams' inputs at step t
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
function jsSequence(tokens: Int32Array, streams: number, state: LstmState,
  kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const B = streams;
  const T = tokens.length / B;
  const H = recurrent.shape[0];
  const G = 4 * H;
  // customGrad hands the inputs back as arguments; the closure's own references are the same tensors.
  const run = tf.customGrad(() => {
    const K = values(kernel);
    const bb = values(bias);
    // Per step t (rows t*B+b): the inputs, the state before the step, the gate activations and
    // tanh(c) after it, kept for BPTT.
    const xs = stepMajor(tokens, B, new Int32Array(T * B));
    const hPrev = new Float32Array(T * B * H);
    const cPrev = new Float32Array(T * B * H);
    const tanhC = new Float32Array(T * B * H);
    const gates = new Float32Array(T * B * G);
    const hs = new Float32Array(B * T * H);
    for (let t = 0; t < T; t++) {
      hPrev.set(state.h, t * B * H);
      cPrev.set(state.c, t * B * H);
      step(xs.subarray(t * B, (t + 1) * B), matMul(state.h, B, recurrent), K, bb, state,
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
            const dh = dhs[out + j] + dhNext[k];
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
      // The input part of each step is row x of the kernel, so its gradient is a scatter-add of dz.
      const dKernel = new Float32Array(K.length);
      const dBias = new Float32Array(G);
      for (let row = 0; row < T * B; row++) {
        const x = xs[row] * G;
        const r = row * G;
        for (let n = 0; n < G; n++) {
          dKernel[x + n] += dZ[r + n];
          dBias[n] += dZ[r + n];
        }
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

/** The weights of a one-layer LSTM language model (shapes as in tf.layers: see the header). */
export interface LstmWeights {
  kernel: tf.Tensor2D; // [V,4H]
  recurrent: tf.Tensor2D; // [H,4H]
  bias: tf.Tensor1D; // [4H]
  outKernel: tf.Tensor2D; // [H,V]
  outBias: tf.Tensor1D; // [V]
}

/** Decodes one stream a token at a time: `next(token)` returns the logits [V] of the token after it. */
export interface LstmStepper {
  next(token: number): Float32Array;
  dispose(): void;
}

/**
 * A stepper for one stream, for decoding. One backend matMul per step, h @ [recurrent | outKernel],
 * gives both this step's logits and the next step's recurrent input.
 */
export function lstmStepper(weights: LstmWeights): LstmStepper {
  const H = weights.recurrent.shape[0];
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
      work.chars += 1;
      work.multiplyAdds += H * (4 * H + logitsLength) + 4 * H;
      step([token], z, K, bias, state, gates, tanhC);
      const out = matMul(state.h, 1, joint);
      z = out.slice(0, 4 * H);
      const logits = out.slice(4 * H);
      for (let v = 0; v < logits.length; v++) logits[v] += outBias[v];
      return logits;
    },
    dispose: () => joint.dispose(),
  };
}

/**
 * x [M,K] @ kernel [K,N] + bias [N]: the output layer. On the wasm kernel (with its threads) when
 * that runs the LSTM too; else TensorFlow.js ops, whose gradient avoids matMul's transpose flags,
 * which take a slow path on wasm (~10x): the transposes are done explicitly, where they are cheap.
 */
export function linear(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  work.multiplyAdds += x.shape[0] * x.shape[1] * kernel.shape[1];
  const wasm = kernelName() === "wasm" && x.shape[1] % 4 === 0 ? wasmKernel() : null;
  return wasm ? wasmLinear(wasm, x, kernel, bias) : jsLinear(x, kernel, bias);
}

/** linear on the wasm kernel: one call each way. */
function wasmLinear(wasm: WasmKernel, x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const shape = { M: x.shape[0], K: x.shape[1], N: kernel.shape[1] };
  const run = tf.customGrad(() => {
    const xs = values(x);
    const k = values(kernel);
    const gradFunc = (dy: tf.Tensor) => {
      const d = wasmLinearBackward(wasm, shape, xs, k, values(dy));
      return [tf.tensor2d(d.dx, x.shape), tf.tensor2d(d.dw, kernel.shape), tf.tensor1d(d.db)];
    };
    return { value: tf.tensor2d(wasmLinearForward(wasm, shape, xs, k, values(bias)), [shape.M, shape.N]), gradFunc };
  });
  return run(x, kernel, bias) as tf.Tensor2D;
}

/** linear from TensorFlow.js ops: the reference and the fallback. */
function jsLinear(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, k, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([xs, k]); // kept alive for the gradient
    return {
      value: tf.add(tf.matMul(xs, k), b),
      gradFunc: (dy: tf.Tensor, [xs, k]: tf.Tensor[]) => [tf.matMul(dy, tf.transpose(k)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)],
    };
  });
  return run(x, kernel, bias) as tf.Tensor2D;
}

/** What a trainer needs of an optimizer: tf.train.Optimizer's applyGradients and dispose. */
export interface Optimizer {
  applyGradients(gradients: { name: string; tensor: tf.Tensor }[] | tf.NamedTensorMap): void;
  dispose(): void;
}

/**
 * Adam with tf.train.adam's defaults (beta1 0.9, beta2 0.999, epsilon 1e-7), on gradients scaled
 * down, all by one factor, to a global norm of at most `clipNorm` (none by default). On the wasm
 * kernel, one call per step over all the weights, split between its threads, in place of some
 * eighty TensorFlow.js ops: tf.train.adam's operations in its order, each rounded to float32 as the
 * wasm backend rounds them (the same bytes where nothing is clipped); the norm is summed in two
 * fixed halves. On the JavaScript kernel, the reference: TensorFlow.js ops and tf.train.adam.
 */
export function adam(learningRate: number, clipNorm = Infinity): Optimizer {
  const wasm = kernelName() === "wasm" ? wasmKernel() : null;
  return wasm ? wasmAdamOptimizer(wasm, learningRate, clipNorm) : jsAdamOptimizer(learningRate, clipNorm);
}

/** The gradients as a list of {name, tensor}, read with an index loop: in the sandbox, a program's array arrives as a proxy. */
function gradientList(gradients: { name: string; tensor: tf.Tensor }[] | tf.NamedTensorMap): { name: string; tensor: tf.Tensor }[] {
  if (!Array.isArray(gradients)) return Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
  const list = [];
  for (let i = 0; i < gradients.length; i++) list.push({ name: gradients[i].name, tensor: gradients[i].tensor });
  return list;
}

function jsAdamOptimizer(learningRate: number, clipNorm: number): Optimizer {
  const optimizer = tf.train.adam(learningRate);
  return {
    applyGradients(gradients) {
      const list = gradientList(gradients);
      const clipped = tf.tidy(() => {
        const norm = tf.sqrt(tf.addN(list.map(({ tensor }) => tf.sum(tf.square(tensor)))));
        const scale = tf.minimum(1, tf.div(clipNorm, tf.add(norm, 1e-6)));
        return list.map(({ name, tensor }) => ({ name, tensor: tf.mul(tensor, scale) }));
      });
      optimizer.applyGradients(clipped);
      tf.dispose(clipped.map(({ tensor }) => tensor));
    },
    dispose: () => optimizer.dispose(),
  };
}

function wasmAdamOptimizer(wasm: WasmKernel, learningRate: number, clipNorm: number): Optimizer {
  const f32 = Math.fround;
  const [beta1, beta2] = [f32(0.9), f32(0.999)];
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>(); // by variable name, as tf's registry knows them
  let [power1, power2] = [beta1, beta2]; // beta^t, as float32 (tf keeps them as float32 scalars)
  return {
    applyGradients(gradients) {
      const variables = tf.engine().registeredVariables;
      const parts = gradientList(gradients).map(({ name, tensor }) => {
        const variable = Object.hasOwn(variables, name) ? variables[name] : undefined;
        if (!variable || !(tensor instanceof tf.Tensor)) throw new Error(`adam: ${String(name)} is not a variable with a gradient tensor.`);
        const value = values(variable).slice(); // a copy: on the cpu backend dataSync hands out the tensor's own array
        const grad = values(tensor);
        if (!(grad instanceof Float32Array) || grad.length !== value.length) throw new Error(`adam: the gradient of ${name} does not match it.`);
        if (!moments.has(name)) moments.set(name, { m: new Float32Array(value.length), v: new Float32Array(value.length) });
        return { variable, value, grad, ...(moments.get(name) as { m: Float32Array; v: Float32Array }) };
      });
      const params = Float32Array.of(beta1, 1 - 0.9, beta2, 1 - 0.999, 1 - power1, 1 - power2, 1e-7, -learningRate, 1);
      wasmAdam(wasm, { params, clipNorm }, parts);
      for (const { variable, value } of parts) {
        const next = tf.tensor(value, variable.shape, "float32");
        variable.assign(next);
        next.dispose();
      }
      [power1, power2] = [f32(power1 * beta1), f32(power2 * beta2)];
    },
    dispose: () => moments.clear(),
  };
}
