// The recurrent weight quine: an LSTM or GRU and a small head that emit the flattened sequence of all
// their own parameters, one value per step. Training uses teacher forcing (the input at step t is
// parameter t−1, 0 at the start); evaluation runs free, feeding back its own outputs.
//
//   recurrent           x_t ─ LSTM/GRU(1→h) ─ LSTM/GRU(h→h) ─ linear h×h ─ layer norm (no parameters) ─ ReLU ─ linear h→1 (+bias) ─ y_t
//   recurrent-position  [x_t ‖ code(t)] ─ LSTM/GRU(1+d→h) ─ linear h→1 (+bias) ─ y_t
//
// code(t) is a fixed code of the index t the net is writing (--position): which tensor, row and
// column the parameter sits in, each scaled to [-1, 1] as the coords variants address theirs, or
// sinusoids of t. It is environment, like the coords variants' fixed projections, not a parameter.
// Either network can take either input (--position none|coords|sinusoids).
//
// Parameter order is PyTorch's (per layer: weight_ih, weight_hh, bias_ih, bias_hh; then the head),
// gate order too (LSTM i,f,g,o; GRU r,z,n). Forward and backward are written out by hand in float64:
// a sequence of thousands of steps through tiny matrices costs tfjs ~7 µs per op, which would make
// one pass take seconds; plain loops make it tens of milliseconds. The gradient is the full gradient
// of the self-replication loss: through the weights, through the targets and through the inputs
// (which are parameters too).
import type { QuineNet } from "./net";
import type { Random } from "./random";
import type { Cell, Position } from "./settings";
import { meanSquaredError } from "./train";

const NORM_EPS = 1e-5;
/** Sinusoid pairs sin, cos(π·(t + ½)/T · 2^j), j = 0 … SINUSOIDS − 1, of --position sinusoids. */
const SINUSOIDS = 2;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The network: cell and units, layers, head, and the position code it gets beside its previous output. */
export interface RecurrentDesign {
  cell: Cell;
  h: number;
  layers: number;
  /** mlp: linear h×h ─ layer norm ─ ReLU ─ linear h→1; linear: linear h→1. Both with the output's bias. */
  head: "mlp" | "linear";
  position: Position;
}

/** An LSTM or GRU and its head, predicting its own parameters one per step. */
export function recurrentQuine(design: RecurrentDesign, rng: Random): QuineNet {
  const shape = shapeOf(design);
  const { count, h, cell, layers, head } = shape;
  // PyTorch initialises every LSTM/GRU parameter and both head layers U(±1/√h).
  const params = Float64Array.from(rng.uniformArray(count, 1 / Math.sqrt(h)));
  const kept = allocateActivations(shape);
  const run = (teacher: boolean) => forward(shape, kept, params, teacher);
  const side = Math.ceil(Math.sqrt(count));
  const unit = cell.toUpperCase();
  const d = shape.codes.length / count;
  const input = d === 0 ? `x_t[${count}×1]` : `x_t‖${design.position}(t)[${count}×${1 + d}]`;
  const cells = layers.map((l) => `${unit}(${l.inSize}→${h})`).join(" ─ ");
  const headText = head === "mlp" ? `linear ${h}×${h} ─ layernorm ─ ReLU ─ linear ${h}→1+bias` : `linear ${h}→1+bias`;
  return {
    summary: `${input} ─ ${cells} ─ ${headText}: ${count} parameters, one per step`,
    params,
    layout: [Math.ceil(count / side), side],
    precision: "float64",
    // every constant vector is a fixpoint of the mlp head (its layer norm sends equal units to 0, leaving the bias);
    // the linear head has 0, and near it the nearly constant vectors (deflating the constants keeps away from both)
    trivial: "constants",
    predict: () => run(true),
    lossAndGrad() {
      const y = run(true);
      return { loss: meanSquaredError(y, params), grad: backward(shape, kept, params, y) };
    },
    // the free run of the network whose parameters are θ: what it prints of itself
    predict64: (theta) => forward(shape, kept, Float64Array.from(theta), false),
    evaluate() {
      const teacherForcedRmse = Math.sqrt(meanSquaredError(run(true), params));
      return { predicted: run(false), extra: { teacherForcedRmse } };
    },
    dispose() {},
  };
}

// ── The parameters: where each tensor sits in the flat vector ──────────────────────────────────

/** Offsets of one recurrent layer's tensors: W_ih [G·h × inSize], W_hh [G·h × h], b_ih [G·h], b_hh [G·h]. */
interface LayerOffsets { inSize: number; wih: number; whh: number; bih: number; bhh: number }

/**
 * The network's shape: h units, G gates a unit, the layers' offsets, then the head's fc [h × h] (mlp
 * head only, else −1), fc2 [1 × h] and its bias [1]; and the position code of every step.
 */
interface Shape {
  cell: Cell;
  h: number;
  G: number;
  layers: LayerOffsets[];
  head: "mlp" | "linear";
  fc: number;
  fc2w: number;
  fc2b: number;
  /** Parameters in all, which is also the sequence length T: one step per parameter. */
  count: number;
  /** [T × d]: the position code of each step (d = 0 without one); layer 0's input is x_t then these. */
  codes: Float64Array;
}

/** Lays the parameters out in PyTorch's order: per layer weight_ih, weight_hh, bias_ih, bias_hh; then the head. */
function shapeOf({ cell, h, layers: depth, head, position }: RecurrentDesign): Shape {
  const G = cell === "lstm" ? 4 : 3; // gates per unit
  const d = { none: 0, coords: 3, sinusoids: 2 * SINUSOIDS }[position];
  const tensors: [number, number][] = []; // [rows, columns] of each tensor in order, for the coordinates
  const layers: LayerOffsets[] = [];
  let count = 0;
  for (let l = 0; l < depth; l++) {
    const inSize = l === 0 ? 1 + d : h;
    const wih = count;
    const whh = wih + G * h * inSize;
    const bih = whh + G * h * h;
    const bhh = bih + G * h;
    count = bhh + G * h;
    layers.push({ inSize, wih, whh, bih, bhh });
    tensors.push([G * h, inSize], [G * h, h], [1, G * h], [1, G * h]);
  }
  const fc = head === "mlp" ? count : -1;
  if (head === "mlp") tensors.push([h, h]);
  const fc2w = head === "mlp" ? fc + h * h : count;
  const fc2b = fc2w + h;
  tensors.push([1, h], [1, 1]);
  count = fc2b + 1;
  return { cell, h, G, layers, head, fc, fc2w, fc2b, count, codes: positionCodes(position, tensors, count) };
}

/**
 * The code of each step t [T × d]: coords gives (tensor, row, column) of parameter t, each spaced
 * evenly over [-1, 1] (0 when there is one); sinusoids gives sin and cos of π·(t + ½)/T · 2^j.
 */
export function positionCodes(position: Position, tensors: [number, number][], T: number): Float64Array {
  if (position === "none") return new Float64Array(0);
  const scaled = (i: number, n: number) => (n === 1 ? 0 : -1 + (2 * i) / (n - 1));
  if (position === "sinusoids") {
    const codes = new Float64Array(T * 2 * SINUSOIDS);
    for (let t = 0; t < T; t++)
      for (let j = 0; j < SINUSOIDS; j++) {
        const angle = (Math.PI * (t + 0.5) * 2 ** j) / T;
        codes[t * 2 * SINUSOIDS + 2 * j] = Math.sin(angle);
        codes[t * 2 * SINUSOIDS + 2 * j + 1] = Math.cos(angle);
      }
    return codes;
  }
  const codes = new Float64Array(T * 3);
  let t = 0;
  tensors.forEach(([rows, cols], k) => {
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++, t++) codes.set([scaled(k, tensors.length), scaled(r, rows), scaled(c, cols)], t * 3);
  });
  return codes;
}

/** What a forward pass over the T = shape.count steps keeps for the backward pass. */
interface Activations {
  /** Layer 0's inputs [T × (1 + d)]: x_t, then the position code. */
  xs: Float64Array;
  /** Per layer [(T+1) × h]: row t+1 is h_t, row 0 the zero initial state. */
  hs: Float64Array[];
  /** Per layer [(T+1) × h]: the LSTM's cell state c_t, rows as in hs. */
  cs: Float64Array[];
  /** Per layer [T × G·h]: LSTM i,f,g,o / GRU r,z,n after their nonlinearity. */
  gates: Float64Array[];
  /** Per layer [T × h]: LSTM tanh(c_t) / GRU W_hn·h + b_hn. */
  aux: Float64Array[];
  /** [T × h]: the mlp head's layer-normalised fc·h_top, before the ReLU. */
  uhat: Float64Array;
  /** [T]: 1/std of the mlp head's layer norm. */
  invStd: Float64Array;
  /** Scratch [2·G·h] of the step being computed: W_ih·in + b_ih, then W_hh·h_prev + b_hh. */
  pre: Float64Array;
}

function allocateActivations({ h, G, count: T, layers }: Shape): Activations {
  const perLayer = (size: number) => layers.map(() => new Float64Array(size));
  return {
    xs: new Float64Array(T * layers[0].inSize),
    hs: perLayer((T + 1) * h),
    cs: perLayer((T + 1) * h),
    gates: perLayer(T * G * h),
    aux: perLayer(T * h),
    uhat: new Float64Array(T * h),
    invStd: new Float64Array(T),
    pre: new Float64Array(2 * G * h),
  };
}

// ── The data and the forward pass ──────────────────────────────────────────────────────────────

/**
 * The input x_t of step t: teacher forcing feeds the true previous parameter p[t−1], free running
 * the previous output y[t−1]; the first step gets 0. The target of step t is p[t].
 */
function inputAt(t: number, p: Float64Array, y: Float64Array, teacher: boolean): number {
  return t === 0 ? 0 : teacher ? p[t - 1] : y[t - 1];
}

/** Runs the sequence: the predictions y [T] of the parameters p [T]; `a` keeps what the backward pass needs. */
function forward(shape: Shape, a: Activations, p: Float64Array, teacher: boolean): Float64Array {
  const { count: T, codes, layers } = shape;
  const inSize = layers[0].inSize;
  const y = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    a.xs[t * inSize] = inputAt(t, p, y, teacher);
    for (let k = 1; k < inSize; k++) a.xs[t * inSize + k] = codes[t * (inSize - 1) + k - 1];
    for (let l = 0; l < layers.length; l++) cellForward(shape, a, p, l, t);
    y[t] = headForward(shape, a, p, t);
  }
  return y;
}

/** Layer l at step t: h_t [h] (and the LSTM's c_t [h]) from the layer's input [inSize] and h_{t−1} [h]. */
function cellForward({ cell, h, G, layers }: Shape, a: Activations, p: Float64Array, l: number, t: number): void {
  const { inSize, wih, whh, bih, bhh } = layers[l];
  const { pre } = a;
  const inp = l === 0 ? a.xs : a.hs[l - 1];
  const inAt = l === 0 ? t * inSize : (t + 1) * h;
  const hp = a.hs[l];
  const hpAt = t * h;
  // pre[0..G·h) = W_ih·in + b_ih, pre[G·h..2G·h) = W_hh·h_prev + b_hh
  for (let g = 0; g < G * h; g++) {
    let si = p[bih + g];
    for (let k = 0; k < inSize; k++) si += p[wih + g * inSize + k] * inp[inAt + k];
    let sh = p[bhh + g];
    for (let k = 0; k < h; k++) sh += p[whh + g * h + k] * hp[hpAt + k];
    pre[g] = si;
    pre[G * h + g] = sh;
  }
  const gt = a.gates[l];
  const gAt = t * G * h;
  for (let j = 0; j < h; j++) {
    if (cell === "lstm") {
      const s = (q: number) => pre[q * h + j] + pre[G * h + q * h + j];
      const i = sigmoid(s(0)), f = sigmoid(s(1)), gg = Math.tanh(s(2)), o = sigmoid(s(3));
      const c = f * a.cs[l][t * h + j] + i * gg;
      const tc = Math.tanh(c);
      a.cs[l][(t + 1) * h + j] = c;
      a.aux[l][t * h + j] = tc;
      hp[(t + 1) * h + j] = o * tc;
      gt[gAt + j] = i; gt[gAt + h + j] = f; gt[gAt + 2 * h + j] = gg; gt[gAt + 3 * h + j] = o;
    } else {
      const r = sigmoid(pre[j] + pre[G * h + j]);
      const z = sigmoid(pre[h + j] + pre[G * h + h + j]);
      const ghn = pre[G * h + 2 * h + j];
      const n = Math.tanh(pre[2 * h + j] + r * ghn);
      hp[(t + 1) * h + j] = (1 - z) * n + z * hp[t * h + j];
      a.aux[l][t * h + j] = ghn;
      gt[gAt + j] = r; gt[gAt + h + j] = z; gt[gAt + 2 * h + j] = n;
    }
  }
}

/** The head at step t: y_t = fc2·ReLU(layernorm(fc·h_top)) + b, or fc2·h_top + b [1], from the top layer's h_t [h]. */
function headForward({ h, head, layers, fc, fc2w, fc2b }: Shape, a: Activations, p: Float64Array, t: number): number {
  const { uhat } = a;
  const hTop = a.hs[layers.length - 1];
  if (head === "linear") {
    let out = p[fc2b];
    for (let j = 0; j < h; j++) out += p[fc2w + j] * hTop[(t + 1) * h + j];
    return out;
  }
  let mean = 0;
  for (let j = 0; j < h; j++) {
    let s = 0;
    for (let k = 0; k < h; k++) s += p[fc + j * h + k] * hTop[(t + 1) * h + k];
    uhat[t * h + j] = s;
    mean += s;
  }
  mean /= h;
  let variance = 0;
  for (let j = 0; j < h; j++) variance += (uhat[t * h + j] - mean) ** 2;
  const inv = 1 / Math.sqrt(variance / h + NORM_EPS);
  a.invStd[t] = inv;
  let out = p[fc2b];
  for (let j = 0; j < h; j++) {
    const u = (uhat[t * h + j] - mean) * inv;
    uhat[t * h + j] = u;
    if (u > 0) out += p[fc2w + j] * u;
  }
  return out;
}

// ── Training: the gradient, by backpropagation through time ────────────────────────────────────

/** The gradients carried from step t+1 back to step t, and per-step scratch. */
interface Carried {
  /** Per layer [h]: dL/dh_t flowing back from step t+1. */
  dNext: Float64Array[];
  /** Per layer [h]: dL/dc_t from step t+1 (LSTM). */
  dCell: Float64Array[];
  /** Scratch [h]: dL/dh_top from the head. */
  dTop: Float64Array;
  /** Scratch [h]: dL/du of the head's ReLU input. */
  du: Float64Array;
  /** Scratch [G·h]: the gradient at the input-side pre-activations. */
  dG: Float64Array;
  /** Scratch [G·h]: and at the hidden-side ones (they differ only for GRU's n gate). */
  dGh: Float64Array;
}

/** The gradient [T] of mean((y − p)²) with respect to p, after a teacher-forced forward pass that gave y [T]. */
function backward(shape: Shape, a: Activations, p: Float64Array, y: Float64Array): Float64Array {
  const { h, G, count: T, layers } = shape;
  const grad = new Float64Array(T);
  const carried: Carried = {
    dNext: layers.map(() => new Float64Array(h)),
    dCell: layers.map(() => new Float64Array(h)),
    dTop: new Float64Array(h),
    du: new Float64Array(h),
    dG: new Float64Array(G * h),
    dGh: new Float64Array(G * h),
  };
  for (let t = T - 1; t >= 0; t--) {
    const dy = (2 * (y[t] - p[t])) / T;
    grad[t] -= dy; // the target is a parameter too
    let dAbove = headBackward(shape, a, carried, p, t, dy, grad);
    for (let l = layers.length - 1; l >= 0; l--) {
      const dIn = cellBackward(shape, a, carried, p, l, t, dAbove, grad);
      if (l === 0) {
        if (t > 0) grad[t - 1] += dIn[0]; // the input was parameter t−1 (the position code is no parameter)
      } else dAbove = dIn;
    }
  }
  return grad;
}

/** The head at step t backward, given dL/dy_t: adds to fc's and fc2's gradients in grad [T]; returns dL/dh_top [h]. */
function headBackward({ h, head, layers, fc, fc2w, fc2b }: Shape, a: Activations, carried: Carried, p: Float64Array, t: number, dy: number, grad: Float64Array): Float64Array {
  const { uhat, invStd } = a;
  const { du, dTop } = carried;
  const hTop = a.hs[layers.length - 1];
  grad[fc2b] += dy;
  if (head === "linear") {
    for (let j = 0; j < h; j++) {
      grad[fc2w + j] += dy * hTop[(t + 1) * h + j];
      dTop[j] = dy * p[fc2w + j];
    }
    return dTop;
  }
  let meanD = 0, meanDU = 0;
  for (let j = 0; j < h; j++) {
    const u = uhat[t * h + j];
    const d = u > 0 ? dy * p[fc2w + j] : 0;
    if (u > 0) grad[fc2w + j] += dy * u;
    du[j] = d;
    meanD += d;
    meanDU += d * u;
  }
  meanD /= h;
  meanDU /= h;
  dTop.fill(0);
  for (let j = 0; j < h; j++) {
    const d = invStd[t] * (du[j] - meanD - uhat[t * h + j] * meanDU);
    for (let k = 0; k < h; k++) {
      grad[fc + j * h + k] += d * hTop[(t + 1) * h + k];
      dTop[k] += p[fc + j * h + k] * d;
    }
  }
  return dTop;
}

/**
 * Layer l at step t backward, given dL/dh_t [h] from above: adds to the layer's gradients in
 * grad [T], updates what it carries to step t−1, and returns dL/d(its input) [inSize].
 */
function cellBackward({ cell, h, G, layers }: Shape, a: Activations, carried: Carried, p: Float64Array, l: number, t: number, dAbove: Float64Array, grad: Float64Array): Float64Array {
  const { inSize, wih, whh, bih, bhh } = layers[l];
  const { dG, dGh } = carried;
  const gt = a.gates[l];
  const gAt = t * G * h;
  const hp = a.hs[l];
  const dn = carried.dNext[l];
  for (let j = 0; j < h; j++) {
    const dh = dAbove[j] + dn[j];
    if (cell === "lstm") {
      const i = gt[gAt + j], f = gt[gAt + h + j], gg = gt[gAt + 2 * h + j], o = gt[gAt + 3 * h + j];
      const tc = a.aux[l][t * h + j];
      const dc = carried.dCell[l][j] + dh * o * (1 - tc * tc);
      carried.dCell[l][j] = dc * f;
      dG[j] = dc * gg * i * (1 - i);
      dG[h + j] = dc * a.cs[l][t * h + j] * f * (1 - f);
      dG[2 * h + j] = dc * i * (1 - gg * gg);
      dG[3 * h + j] = dh * tc * o * (1 - o);
      dGh[j] = dG[j]; dGh[h + j] = dG[h + j]; dGh[2 * h + j] = dG[2 * h + j]; dGh[3 * h + j] = dG[3 * h + j];
    } else {
      const r = gt[gAt + j], z = gt[gAt + h + j], n = gt[gAt + 2 * h + j];
      const hPrev = hp[t * h + j];
      const dan = dh * (1 - z) * (1 - n * n);
      const dar = dan * a.aux[l][t * h + j] * r * (1 - r);
      const daz = dh * (hPrev - n) * z * (1 - z);
      dG[j] = dar; dG[h + j] = daz; dG[2 * h + j] = dan;
      dGh[j] = dar; dGh[h + j] = daz; dGh[2 * h + j] = dan * r;
      dn[j] = dh * z; // direct path h_prev → h; the W_hh path is added below
    }
  }
  if (cell === "lstm") dn.fill(0);
  const inp = l === 0 ? a.xs : a.hs[l - 1];
  const inAt = l === 0 ? t * inSize : (t + 1) * h;
  const dIn = new Float64Array(inSize);
  for (let g = 0; g < G * h; g++) {
    const di = dG[g], dhh = dGh[g];
    grad[bih + g] += di;
    grad[bhh + g] += dhh;
    for (let k = 0; k < inSize; k++) {
      grad[wih + g * inSize + k] += di * inp[inAt + k];
      dIn[k] += p[wih + g * inSize + k] * di;
    }
    for (let k = 0; k < h; k++) {
      grad[whh + g * h + k] += dhh * hp[t * h + k];
      dn[k] += p[whh + g * h + k] * dhh;
    }
  }
  return dIn;
}
