// The fused LSTM kernel: the whole recurrence over a window, forward and analytic backward (BPTT),
// as tight loops over typed arrays, with the one recurrent matrix product per step done by the
// backend's matMul (XNNPACK on wasm). Plugged into TensorFlow.js with tf.customGrad, so optimizers,
// saving and the rest stay TensorFlow.js. It lives outside the bundled trainer, like TensorFlow.js
// itself, so the quine's text stays short.
//
// Why fused: built from per-step tf ops (slice, sigmoid, tanh, mul, add, ... and their gradients)
// an LSTM spends its time in per-op overhead, not arithmetic. Inputs are token indices, so the
// input projection is a row lookup (no embedding gather, whose gradient the wasm backend lacks).
// Gate order and weight layout are those of tf.layers.lstm: i, f, c, o; kernel [V,4H],
// recurrentKernel [H,4H], bias [4H].
import * as tf from "@tensorflow/tfjs-core";

/** LSTM state of B streams: h and c, each [B,H] row-major. Carried from one window to the next. */
export interface LstmState {
  h: Float32Array;
  c: Float32Array;
}

export function zeroState(streams: number, hidden: number): LstmState {
  return { h: new Float32Array(streams * hidden), c: new Float32Array(streams * hidden) };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** h [B,H] @ w [H,N] on the backend; returns a fresh Float32Array [B,N]. */
function matMul(h: Float32Array, rows: number, w: tf.Tensor2D): Float32Array {
  // Not tf.tidy: it would walk the returned array element by element looking for tensors.
  const x = tf.tensor2d(h, [rows, h.length / rows]);
  const y = tf.matMul(x, w); // never with a transpose flag: those are ~10x slower on wasm
  const out = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  return out;
}

/**
 * One LSTM step for B streams. `z` [B,4H] is the recurrent part h_{t-1} @ recurrent; the input part
 * is row `tokens[b]` of `kernel`. Advances `state` in place and writes the activations i, f, g, o
 * [B,4H] into `gates`.
 */
function step(tokens: ArrayLike<number>, z: Float32Array, kernel: Float32Array, bias: Float32Array,
  state: LstmState, gates: Float32Array): void {
  const B = tokens.length;
  const H = state.h.length / B;
  for (let b = 0; b < B; b++) {
    const x = tokens[b] * 4 * H;
    const r = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(z[r + j] + kernel[x + j] + bias[j]);
      const f = sigmoid(z[r + H + j] + kernel[x + H + j] + bias[H + j]);
      const g = Math.tanh(z[r + 2 * H + j] + kernel[x + 2 * H + j] + bias[2 * H + j]);
      const o = sigmoid(z[r + 3 * H + j] + kernel[x + 3 * H + j] + bias[3 * H + j]);
      const c = f * state.c[b * H + j] + i * g;
      state.c[b * H + j] = c;
      state.h[b * H + j] = o * Math.tanh(c);
      gates[r + j] = i;
      gates[r + H + j] = f;
      gates[r + 2 * H + j] = g;
      gates[r + 3 * H + j] = o;
    }
  }
}

/**
 * Runs the LSTM over B parallel streams for T steps. `tokens` is [B,T] (row b holds stream b's
 * inputs); `state` holds the initial h, c [B,H] and is advanced to the final ones (not
 * differentiated: gradients stop at the window's start, truncated BPTT).
 * Returns the hidden states hs [B*T,H], row b*T+t, differentiable w.r.t. the three weights.
 */
export function lstmSequence(tokens: Int32Array, streams: number, state: LstmState,
  kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const B = streams;
  const T = tokens.length / B;
  const H = recurrent.shape[0];
  // customGrad hands the inputs back as arguments; the closure's own references are the same tensors.
  const run = tf.customGrad(() => {
    const K = kernel.dataSync() as Float32Array;
    const bb = bias.dataSync() as Float32Array;
    const R = recurrent;
    // Per step t: the inputs, the state before the step and the gate activations, kept for BPTT.
    const toks: Int32Array[] = [];
    const hPrevT = new Float32Array(H * T * B); // [H, T*B]: transposed here, where it is cheap
    const cPrev = new Float32Array(T * B * H);
    const cNow = new Float32Array(T * B * H);
    const gates = new Float32Array(T * B * 4 * H);
    const hs = new Float32Array(B * T * H);
    for (let t = 0; t < T; t++) {
      const tok = new Int32Array(B);
      for (let b = 0; b < B; b++) tok[b] = tokens[b * T + t];
      toks.push(tok);
      for (let k = 0; k < B * H; k++) hPrevT[(k % H) * T * B + t * B + Math.floor(k / H)] = state.h[k];
      cPrev.set(state.c, t * B * H);
      step(tok, matMul(state.h, B, R), K, bb, state, gates.subarray(t * B * 4 * H, (t + 1) * B * 4 * H));
      cNow.set(state.c, t * B * H);
      for (let b = 0; b < B; b++) hs.set(state.h.subarray(b * H, (b + 1) * H), (b * T + t) * H);
    }
    const gradFunc = (dy: tf.Tensor) => {
      const dhs = dy.dataSync() as Float32Array;
      const dZ = new Float32Array(T * B * 4 * H); // gradient w.r.t. gate pre-activations, per step
      let dhNext: Float32Array = new Float32Array(B * H);
      const recurrentT = tf.transpose(R) as tf.Tensor2D;
      const dcNext = new Float32Array(B * H);
      for (let t = T - 1; t >= 0; t--) {
        const g4 = gates.subarray(t * B * 4 * H);
        const dz = dZ.subarray(t * B * 4 * H, (t + 1) * B * 4 * H);
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            const r = b * 4 * H;
            const k = b * H + j;
            const i = g4[r + j], f = g4[r + H + j], g = g4[r + 2 * H + j], o = g4[r + 3 * H + j];
            const tc = Math.tanh(cNow[t * B * H + k]);
            const dh = dhs[(b * T + t) * H + j] + dhNext[k];
            const dc = dh * o * (1 - tc * tc) + dcNext[k];
            dz[r + j] = dc * g * i * (1 - i);
            dz[r + H + j] = dc * cPrev[t * B * H + k] * f * (1 - f);
            dz[r + 2 * H + j] = dc * i * (1 - g * g);
            dz[r + 3 * H + j] = dh * tc * o * (1 - o);
            dcNext[k] = dc * f;
          }
        }
        dhNext = matMul(dz, B, recurrentT);
      }
      const dKernel = new Float32Array(K.length);
      const dBias = new Float32Array(4 * H);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const row = dZ.subarray((t * B + b) * 4 * H, (t * B + b + 1) * 4 * H);
          const x = toks[t][b] * 4 * H;
          for (let n = 0; n < 4 * H; n++) {
            dKernel[x + n] += row[n];
            dBias[n] += row[n];
          }
        }
      }
      // dRecurrent = sum over steps of h_{t-1}^T dz_t: one big product over all T*B rows.
      recurrentT.dispose();
      const dRecurrent = tf.tidy(() => tf.matMul(tf.tensor2d(hPrevT, [H, T * B]), tf.tensor2d(dZ, [T * B, 4 * H])));
      return [tf.tensor2d(dKernel, kernel.shape), dRecurrent, tf.tensor1d(dBias)];
    };
    return { value: tf.tensor2d(hs, [B * T, H]), gradFunc };
  });
  return run(kernel, recurrent, bias) as tf.Tensor2D;
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
  const K = weights.kernel.dataSync() as Float32Array;
  const bias = weights.bias.dataSync() as Float32Array;
  const outBias = weights.outBias.dataSync() as Float32Array;
  const joint = tf.concat([weights.recurrent, weights.outKernel], 1) as tf.Tensor2D;
  const state = zeroState(1, H);
  const gates = new Float32Array(4 * H);
  let z = new Float32Array(4 * H);
  return {
    next(token: number): Float32Array {
      step([token], z, K, bias, state, gates);
      const out = matMul(state.h, 1, joint);
      z = out.slice(0, 4 * H);
      const logits = out.slice(4 * H);
      for (let v = 0; v < logits.length; v++) logits[v] += outBias[v];
      return logits;
    },
    dispose: () => joint.dispose(),
  };
}
