// The weight-quine networks. Each one predicts its own trainable parameters: the trainer feeds every
// parameter's "address" through the network at once and compares the outputs with the parameters
// themselves. Fixed random projections adapt the shapes; they are environment, not weights to
// reproduce. All randomness comes from one seeded generator (./random.ts).
//
//   coords     (r, c) in [-1,1]² ─ fixed 2→N ─ ReLU ─ trainable N×N ─ ReLU ─ fixed N→1
//   coords-bn  the same with parameter-free batch normalization after the trainable layer
//   coords-in  the same with parameter-free instance normalization (each row over its N features)
//   onehot     one-hot(r) ‖ one-hot(c) ─ fixed 2N→N with bias ─ ReLU ─ trainable N×N ─ ReLU ─ fixed N→1
//   vanilla    one-hot(i) ─ fixed P→h ─ trainable h×h ─ SELU ─ trainable h×h ─ SELU ─ trainable h→1
//   recurrent  LSTM/GRU reading and writing the sequence of its own parameters (./recurrent.ts)
//   recurrent-position  a one-layer LSTM/GRU with a linear head, told the index it writes (./recurrent.ts)
//   auxiliary  vanilla's kind of network that also classifies MNIST digits (./auxiliary.ts)
//
// Because the fixed front of the first four networks does not change, its output (the N² × N
// "features" after the first ReLU) is computed once; the trainable part is then one matrix product.
// A one-hot vector times a projection is that projection's row, so vanilla's input is the
// projection matrix itself, one row per parameter.
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's node build leaves out the gradient functions; the tfjs-layers bundle registers them all.
import "@tensorflow/tfjs-layers";
import { Random } from "./random";
import { recurrentQuine } from "./recurrent";
import { auxiliaryQuine } from "./auxiliary";
import type { Cell, Position, VariantName, WeightSettings } from "./settings";
import { SELU_ALPHA, SELU_SCALE, selu64, type QuineNet } from "./net";
import { FIXED_POINT_TOLERANCE } from "./train";

/** Default settings per variant: the ones that reach the targets of docs/weights.md. */
export type VariantDefaults = Pick<WeightSettings, "size" | "epochs" | "optimizer" | "lr" | "regenerate" | "anderson" | "refine" | "newton" | "levenberg" | "patience" | "objective" | "tries" | "target" | "position">;
const PLAIN = { anderson: 0, tries: 1, refine: 0, newton: 0, levenberg: 0, objective: "mse", target: FIXED_POINT_TOLERANCE, patience: 0, position: "none" } as const;
const FIXED_POINT = { ...PLAIN, regenerate: 1, anderson: 10, tries: 10, refine: 100 } as const;
export const VARIANT_DEFAULTS: Record<VariantName, VariantDefaults> = {
  coords: { size: 16, epochs: 1000, optimizer: "rmsprop", lr: 1e-2, regenerate: 1, ...PLAIN },
  "coords-bn": { size: 16, epochs: 2000, optimizer: "rmsprop", lr: 1e-2, ...FIXED_POINT },
  "coords-in": { size: 16, epochs: 2000, optimizer: "rmsprop", lr: 1e-2, ...FIXED_POINT },
  // relative loss, Adam: the scale-free best W (docs/weights.md); a network draw allows ~1% or not, so tries
  onehot: { size: 64, epochs: 10000, optimizer: "adam", lr: 3e-3, regenerate: 0, ...PLAIN, objective: "relative", tries: 40, target: 1e-2, patience: 500 },
  recurrent: { size: 16, epochs: 2500, optimizer: "adam", lr: 1e-2, regenerate: 0, ...PLAIN },
  // no training: deflated Levenberg–Marquardt on the free run from the initial weights, networks tried until one reaches
  // spread error 1e-2 (docs/weights.md: the 8th from seed 1337, spread error 1.7e-4)
  "recurrent-position": { size: 4, epochs: 0, optimizer: "adam", lr: 1e-2, regenerate: 0, ...PLAIN, levenberg: 300, tries: 20, target: 1e-2, position: "coords" },
  // relative loss: with the plain one Adam lowers the loss mostly by shrinking every weight;
  // Anderson-mixed regeneration, because plain regeneration shrinks or blows up the weights' scale
  vanilla: { size: 100, epochs: 200, optimizer: "adam", lr: 1e-3, regenerate: 10, ...PLAIN, anderson: 5, objective: "relative" },
  // Adam steps on batches of digits, loss cross-entropy + λ·ρ (./auxiliary.ts): 800 steps of 100 = 10 passes over the 7,996 training digits
  auxiliary: { size: 16, epochs: 800, optimizer: "adam", lr: 1e-3, regenerate: 0, ...PLAIN },
};

/** Epsilon of the parameter-free normalizations (PyTorch's BatchNorm1d/InstanceNorm1d default). */
const NORM_EPS = 1e-5;

export interface NetOptions {
  variant: VariantName;
  size: number;
  seed: number;
  cell: Cell;
  /** recurrent only: the code of the index fed beside the previous output ("none" when absent). */
  position?: Position;
}

export function buildNet({ variant, size, seed, cell, position = "none" }: NetOptions): QuineNet {
  const rng = new Random(seed);
  switch (variant) {
    case "coords":
    case "coords-bn":
    case "coords-in":
      return coordsQuine(size, variant === "coords" ? "none" : variant === "coords-bn" ? "batch" : "instance", rng);
    case "onehot":
      return onehotQuine(size, rng);
    case "vanilla":
      return vanillaQuine(size, rng);
    case "recurrent":
      return recurrentQuine({ cell, h: size, layers: 2, head: "mlp", position }, rng);
    case "recurrent-position":
      return recurrentQuine({ cell, h: size, layers: 1, head: "linear", position }, rng);
    case "auxiliary":
      return auxiliaryQuine(size, rng);
  }
}

// ---- the coordinate and one-hot family: features[N², N] · Wᵀ ─ norm ─ ReLU ─ · readout[N] ----------

type Norm = "none" | "batch" | "instance";

/** coords, coords-bn, coords-in. Initialisation as PyTorch's nn.Linear: U(±1/√fan_in). */
function coordsQuine(n: number, norm: Norm, rng: Random): QuineNet {
  const inProj = rng.uniformArray(n * 2, 1 / Math.sqrt(2)); // [N, 2], fixed
  const weights = rng.uniformArray(n * n, 1 / Math.sqrt(n)); // [N, N] (out, in), trainable
  const readout = rng.uniformArray(n, 1 / Math.sqrt(n)); // [N], fixed
  const features = new Float32Array(n * n * n); // [N², N]: ReLU(inProj · (x_r, x_c))
  const coord = (i: number) => (n === 1 ? 0 : -1 + (2 * i) / (n - 1)); // linspace(-1, 1, N)
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++)
      for (let j = 0; j < n; j++) features[(r * n + c) * n + j] = Math.max(0, inProj[j * 2] * coord(r) + inProj[j * 2 + 1] * coord(c));
  const normName = { none: "", batch: " ─ batchnorm", instance: " ─ instancenorm" }[norm];
  const summary = `(r,c)[${n * n}×2] ─ fixed 2→${n} ─ ReLU ─ trainable ${n}×${n}${normName} ─ ReLU ─ fixed ${n}→1 = ${n * n} outputs for ${n * n} weights`;
  return matrixQuine(n, features, weights, readout, norm, summary);
}

/** onehot: one-hot row ‖ one-hot column through a fixed 2N→N projection with bias. */
function onehotQuine(n: number, rng: Random): QuineNet {
  const bound = 1 / Math.sqrt(2 * n);
  const inProj = rng.uniformArray(n * 2 * n, bound); // [N, 2N], fixed
  const inBias = rng.uniformArray(n, bound); // [N], fixed
  const weights = rng.uniformArray(n * n, 1 / Math.sqrt(n));
  const readout = rng.uniformArray(n, 1 / Math.sqrt(n));
  const features = new Float32Array(n * n * n); // inProj · onehot(r)‖onehot(c) = column r + column N+c
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++)
      for (let j = 0; j < n; j++) features[(r * n + c) * n + j] = Math.max(0, inProj[j * 2 * n + r] + inProj[j * 2 * n + n + c] + inBias[j]);
  const summary = `onehot(r)‖onehot(c)[${n * n}×${2 * n}] ─ fixed ${2 * n}→${n}+bias ─ ReLU ─ trainable ${n}×${n} ─ ReLU ─ fixed ${n}→1`;
  return matrixQuine(n, features, weights, readout, "none", summary);
}

function matrixQuine(n: number, features: Float32Array, weights: Float32Array, readout: Float32Array, norm: Norm, summary: string): QuineNet {
  // Forward and backward are written out in tfjs ops rather than left to tf.grad: tfjs's wasm matMul
  // is several times slower with a transposed operand, and autodiff would use those; keeping the
  // features in both orientations makes every product a plain one.
  const rows = n * n;
  const H = tf.tensor2d(features, [rows, n]); // [N², N]
  const Ht = tf.transpose(H); // [N, N²]
  const ones = tf.ones([1, rows]); // sums over the batch as a matrix product
  const readoutCol = tf.tensor2d(readout, [n, 1]);
  const readoutRow = tf.tensor2d(readout, [1, n]);
  const batchMean = (x: tf.Tensor): tf.Tensor => tf.div(tf.matMul(ones, x as tf.Tensor2D), rows); // [1, N]
  const rowMean = (x: tf.Tensor): tf.Tensor => tf.mean(x, 1, true); // [N², 1]

  /** Forward pass from W [N, N] (out, in); returns what the backward pass needs. */
  const forward = (w: tf.Tensor2D) => {
    const z = tf.matMul(H, tf.transpose(w)); // [N², N]
    let zh: tf.Tensor = z;
    let invStd: tf.Tensor | null = null;
    if (norm !== "none") {
      const mean = norm === "batch" ? batchMean : rowMean;
      const d = tf.sub(z, mean(z));
      invStd = tf.rsqrt(tf.add(mean(tf.square(d)), NORM_EPS));
      zh = tf.mul(d, invStd);
    }
    return { zh, invStd, y: tf.matMul(tf.relu(zh) as tf.Tensor2D, readoutCol) }; // y: [N², 1]
  };
  const forward64 = (theta: ArrayLike<number>): Float64Array => {
    const wt = new Float64Array(n * n); // Wᵀ, so the inner loop runs along memory
    for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) wt[k * n + j] = theta[j * n + k];
    const z = new Float64Array(rows * n);
    for (let i = 0; i < rows; i++)
      for (let k = 0; k < n; k++) {
        const f = features[i * n + k];
        if (f !== 0) for (let j = 0; j < n; j++) z[i * n + j] += f * wt[k * n + j];
      }
    if (norm === "batch") normalize64(z, rows, n, 0);
    if (norm === "instance") normalize64(z, rows, n, 1);
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.max(0, z[i * n + j]) * readout[j];
      y[i] = s;
    }
    return y;
  };
  return {
    summary,
    params: weights,
    layout: [n, n],
    precision: "float32",
    trivial: "zero",
    predict() {
      return take(tf.tidy(() => forward(tf.tensor2d(weights, [n, n])).y));
    },
    lossAndGrad() {
      const [lossT, gradT] = tf.tidy(() => {
        const w = tf.tensor2d(weights, [n, n]);
        const { zh, invStd, y } = forward(w);
        const e = tf.sub(y, tf.reshape(w, [rows, 1])); // prediction − target
        const de = tf.mul(e, 2 / rows); // dL/dy for L = mean(e²)
        const dzh: tf.Tensor = tf.mul(tf.matMul(de, readoutRow), tf.step(zh)); // back through readout and ReLU
        let dz = dzh;
        if (invStd !== null) {
          // parameter-free normalization: dz = (dzh − mean(dzh) − zh·mean(dzh·zh)) / σ
          const mean = norm === "batch" ? batchMean : rowMean;
          dz = tf.mul(tf.sub(tf.sub(dzh, mean(dzh)), tf.mul(zh, mean(tf.mul(dzh, zh)))), invStd);
        }
        const dw = tf.transpose(tf.matMul(Ht, dz as tf.Tensor2D)); // through z = H·Wᵀ
        return [tf.mean(tf.square(e)), tf.sub(tf.reshape(dw, [rows]), tf.reshape(de, [rows]))]; // the target is W too
      });
      return { loss: take(lossT)[0], grad: take(gradT) };
    },
    evaluate: () => ({ predicted: forward64(weights), extra: {} }),
    predict64: forward64,
    dispose: () => tf.dispose([H, Ht, ones, readoutCol, readoutRow]),
  };
}

/** A tensor's values, copied out; the tensor is freed. */
function take(t: tf.Tensor): Float32Array {
  const out = Float32Array.from(t.dataSync());
  t.dispose();
  return out;
}

/** Parameter-free normalization in float64: (z − mean) / √(var + ε), biased variance, as PyTorch. */
function normalize64(z: Float64Array, rows: number, cols: number, axis: 0 | 1): void {
  const groups = axis === 0 ? cols : rows; // batch norm: one group per column; instance norm: per row
  const len = axis === 0 ? rows : cols;
  const at = (g: number, k: number) => (axis === 0 ? k * cols + g : g * cols + k);
  for (let g = 0; g < groups; g++) {
    let mean = 0;
    for (let k = 0; k < len; k++) mean += z[at(g, k)];
    mean /= len;
    let variance = 0;
    for (let k = 0; k < len; k++) variance += (z[at(g, k)] - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / len + NORM_EPS);
    for (let k = 0; k < len; k++) z[at(g, k)] = (z[at(g, k)] - mean) * inv;
  }
}

// ---- vanilla (Chang & Lipson) --------------------------------------------------------------------

/** Hidden width h: parameters W1[h,h], W2[h,h], w3[h] (2h² + h of them), each one's address a fixed random row. */
function vanillaQuine(h: number, rng: Random): QuineNet {
  const count = 2 * h * h + h;
  // Projection entries N(0, 1/h): with LeCun-normal weights each SELU layer keeps the scale of its
  // input, so the first predictions have the weights' own scale (≈ 1/√h). With N(0, 1) they were
  // √h = 10 times larger and regeneration blew up.
  const projection = rng.normalArray(count * h, 1 / Math.sqrt(h)); // [P, h]: row i = onehot(i) · projection
  const params = rng.normalArray(count, 1 / Math.sqrt(h)); // LeCun normal, as SELU networks want
  // Forward and backward written out in tfjs ops, every matrix product a plain one (see matrixQuine).
  const X = tf.tensor2d(projection, [count, h]); // [P, h]
  const Xt = tf.transpose(X); // [h, P]
  // The weight tensors are made straight from the parameter array, and w3 twice: tfjs-wasm (4.22)
  // caches the packed second operand of a matMul by its data id, so reusing one tensor reshaped
  // ([h,1] then [1,h]) as another matMul's operand gave NaNs.
  const split = () => ({
    w1: tf.tensor2d(params.subarray(0, h * h), [h, h]),
    w2: tf.tensor2d(params.subarray(h * h, 2 * h * h), [h, h]),
    w3: tf.tensor2d(params.subarray(2 * h * h), [h, 1]),
    w3row: tf.tensor2d(params.subarray(2 * h * h), [1, h]),
  });
  const forward = () => {
    const { w1, w2, w3, w3row } = split();
    const z1 = tf.matMul(X, w1); // [P, h]
    const a1 = tf.selu(z1);
    const z2 = tf.matMul(a1, w2);
    const a2 = tf.selu(z2);
    return { w2, w3row, z1, a1, z2, a2, y: tf.matMul(a2, w3) }; // y: [P, 1]
  };
  // selu'(z) = scale for z > 0, scale·alpha·e^z otherwise
  const seluGrad = (z: tf.Tensor) =>
    tf.add(tf.mul(tf.exp(tf.minimum(z, 0)), SELU_SCALE * SELU_ALPHA), tf.mul(tf.step(z), SELU_SCALE * (1 - SELU_ALPHA)));
  const net: Omit<QuineNet, "evaluate" | "summary" | "layout" | "predict64"> = {
    params,
    precision: "float32",
    trivial: "zero",
    predict() {
      return take(tf.tidy(() => forward().y));
    },
    lossAndGrad() {
      const [lossT, gradT] = tf.tidy(() => {
        const { w2, w3row, z1, a1, z2, a2, y } = forward();
        const e = tf.sub(y, tf.tensor2d(params, [count, 1]));
        const de = tf.mul(e, 2 / count); // [P, 1]
        const dw3 = tf.matMul(tf.reshape(de, [1, count]), a2); // [1, h]
        const dz2 = tf.mul(tf.matMul(de, w3row), seluGrad(z2)); // [P, h]
        const dw2 = tf.matMul(tf.transpose(a1), dz2); // [h, h]
        const dz1 = tf.mul(tf.matMul(dz2, tf.transpose(w2)), seluGrad(z1));
        const dw1 = tf.matMul(Xt, dz1);
        const grad = tf.sub(tf.concat([tf.reshape(dw1, [h * h]), tf.reshape(dw2, [h * h]), tf.reshape(dw3, [h])]), tf.reshape(de, [count]));
        return [tf.mean(tf.square(e)), grad]; // the target is θ too
      });
      return { loss: take(lossT)[0], grad: take(gradT) };
    },
    dispose: () => tf.dispose([X, Xt]),
  };
  const forward64 = (theta: ArrayLike<number>): Float64Array => {
    const layer = (input: ArrayLike<number>, offset: number): Float64Array => {
      const out = new Float64Array(count * h);
      for (let i = 0; i < count; i++)
        for (let k = 0; k < h; k++) {
          const x = input[i * h + k];
          for (let j = 0; j < h; j++) out[i * h + j] += x * theta[offset + k * h + j];
        }
      for (let i = 0; i < out.length; i++) out[i] = selu64(out[i]);
      return out;
    };
    const a2 = layer(layer(projection, 0), h * h);
    const y = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      let s = 0;
      for (let j = 0; j < h; j++) s += a2[i * h + j] * theta[2 * h * h + j];
      y[i] = s;
    }
    return y;
  };
  const side = Math.ceil(Math.sqrt(count));
  const summary = `onehot(i)[${count}×${count}] ─ fixed ${count}→${h} ─ trainable ${h}×${h} ─ SELU ─ trainable ${h}×${h} ─ SELU ─ trainable ${h}→1, no biases: ${count} parameters`;
  return { ...net, summary, layout: [Math.ceil(count / side), side], evaluate: () => ({ predicted: forward64(params), extra: {} }), predict64: forward64 };
}
