// The recurrent weight quine: a 2-layer LSTM or GRU and a small head that emit the flattened sequence
// of all their own parameters, one value per step. Training uses teacher forcing (input at step t is
// parameter t−1, 0 at the start); evaluation runs free, feeding back its own outputs.
//
//   x_t ─ LSTM/GRU(1→h) ─ LSTM/GRU(h→h) ─ linear h×h ─ layer norm (no parameters) ─ ReLU ─ linear h→1 (+bias) ─ y_t
//
// Parameter order is PyTorch's (per layer: weight_ih, weight_hh, bias_ih, bias_hh; then the head),
// gate order too (LSTM i,f,g,o; GRU r,z,n). Forward and backward are written out by hand in float64:
// a sequence of thousands of steps through tiny matrices costs tfjs ~7 µs per op, which would make
// one pass take seconds; plain loops make it tens of milliseconds. The gradient is the full gradient
// of the self-replication loss: through the weights, through the targets and through the inputs
// (which are parameters too).
import type { QuineNet } from "./net";
import type { Random } from "./random";
import type { Cell } from "./settings";


const LAYERS = 2;
const NORM_EPS = 1e-5;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function recurrentQuine(h: number, cell: Cell, rng: Random): QuineNet {
  const G = cell === "lstm" ? 4 : 3; // gates per unit
  const layers: { inSize: number; wih: number; whh: number; bih: number; bhh: number }[] = [];
  let count = 0;
  for (let l = 0; l < LAYERS; l++) {
    const inSize = l === 0 ? 1 : h;
    const wih = count;
    const whh = wih + G * h * inSize;
    const bih = whh + G * h * h;
    const bhh = bih + G * h;
    count = bhh + G * h;
    layers.push({ inSize, wih, whh, bih, bhh });
  }
  const fc = count;
  const fc2w = fc + h * h;
  const fc2b = fc2w + h;
  count = fc2b + 1;
  const T = count; // sequence length: one step per parameter

  // PyTorch initialises every LSTM/GRU parameter and both head layers U(±1/√h).
  const params = Float64Array.from(rng.uniformArray(count, 1 / Math.sqrt(h)));

  // Activations kept for the backward pass. hs[l] row t+1 is h_t (row 0 is the zero initial state).
  const xs = new Float64Array(T);
  const hs = layers.map(() => new Float64Array((T + 1) * h));
  const cs = layers.map(() => new Float64Array((T + 1) * h)); // LSTM cell state
  const gates = layers.map(() => new Float64Array(T * G * h)); // LSTM i,f,g,o / GRU r,z,n after their nonlinearity
  const aux = layers.map(() => new Float64Array(T * h)); // LSTM tanh(c_t) / GRU W_hn·h + b_hn
  const uhat = new Float64Array(T * h);
  const invStd = new Float64Array(T);
  const hTop = hs[LAYERS - 1];
  const pre = new Float64Array(2 * G * h);

  /** Runs the sequence; teacher forcing feeds the true previous parameter, free running the previous output. */
  function forward(p: Float64Array, teacher: boolean): Float64Array {
    const y = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      const x = t === 0 ? 0 : teacher ? p[t - 1] : y[t - 1];
      xs[t] = x;
      for (let l = 0; l < LAYERS; l++) {
        const { inSize, wih, whh, bih, bhh } = layers[l];
        const inp = l === 0 ? xs : hs[l - 1];
        const inAt = l === 0 ? t : (t + 1) * h;
        const hp = hs[l];
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
        const gt = gates[l];
        const gAt = t * G * h;
        for (let j = 0; j < h; j++) {
          if (cell === "lstm") {
            const s = (q: number) => pre[q * h + j] + pre[G * h + q * h + j];
            const i = sigmoid(s(0)), f = sigmoid(s(1)), gg = Math.tanh(s(2)), o = sigmoid(s(3));
            const c = f * cs[l][t * h + j] + i * gg;
            const tc = Math.tanh(c);
            cs[l][(t + 1) * h + j] = c;
            aux[l][t * h + j] = tc;
            hp[(t + 1) * h + j] = o * tc;
            gt[gAt + j] = i; gt[gAt + h + j] = f; gt[gAt + 2 * h + j] = gg; gt[gAt + 3 * h + j] = o;
          } else {
            const r = sigmoid(pre[j] + pre[G * h + j]);
            const z = sigmoid(pre[h + j] + pre[G * h + h + j]);
            const ghn = pre[G * h + 2 * h + j];
            const n = Math.tanh(pre[2 * h + j] + r * ghn);
            hp[(t + 1) * h + j] = (1 - z) * n + z * hp[t * h + j];
            aux[l][t * h + j] = ghn;
            gt[gAt + j] = r; gt[gAt + h + j] = z; gt[gAt + 2 * h + j] = n;
          }
        }
      }
      // head: u = fc·h_top, layer norm, ReLU, y = fc2·a + b
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
      invStd[t] = inv;
      let out = p[fc2b];
      for (let j = 0; j < h; j++) {
        const u = (uhat[t * h + j] - mean) * inv;
        uhat[t * h + j] = u;
        if (u > 0) out += p[fc2w + j] * u;
      }
      y[t] = out;
    }
    return y;
  }

  /** Backpropagation through time of mean((y − p)²) after a teacher-forced forward pass. */
  function backward(p: Float64Array, y: Float64Array): Float64Array {
    const grad = new Float64Array(count);
    const dNext = layers.map(() => new Float64Array(h)); // dL/dh_{t} flowing back from step t+1
    const dCell = layers.map(() => new Float64Array(h)); // dL/dc_{t} from step t+1 (LSTM)
    const dTop = new Float64Array(h);
    const du = new Float64Array(h);
    const dG = new Float64Array(G * h); // gradient at the input-side pre-activations
    const dGh = new Float64Array(G * h); // and at the hidden-side ones (they differ only for GRU's n gate)
    let dAbove = new Float64Array(h);
    for (let t = T - 1; t >= 0; t--) {
      const dy = (2 * (y[t] - p[t])) / T;
      grad[t] -= dy; // the target is a parameter too
      grad[fc2b] += dy;
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
      dAbove = dTop;
      for (let l = LAYERS - 1; l >= 0; l--) {
        const { inSize, wih, whh, bih, bhh } = layers[l];
        const gt = gates[l];
        const gAt = t * G * h;
        const hp = hs[l];
        const dn = dNext[l];
        for (let j = 0; j < h; j++) {
          const dh = dAbove[j] + dn[j];
          if (cell === "lstm") {
            const i = gt[gAt + j], f = gt[gAt + h + j], gg = gt[gAt + 2 * h + j], o = gt[gAt + 3 * h + j];
            const tc = aux[l][t * h + j];
            const dc = dCell[l][j] + dh * o * (1 - tc * tc);
            dCell[l][j] = dc * f;
            dG[j] = dc * gg * i * (1 - i);
            dG[h + j] = dc * cs[l][t * h + j] * f * (1 - f);
            dG[2 * h + j] = dc * i * (1 - gg * gg);
            dG[3 * h + j] = dh * tc * o * (1 - o);
            dGh[j] = dG[j]; dGh[h + j] = dG[h + j]; dGh[2 * h + j] = dG[2 * h + j]; dGh[3 * h + j] = dG[3 * h + j];
          } else {
            const r = gt[gAt + j], z = gt[gAt + h + j], n = gt[gAt + 2 * h + j];
            const hPrev = hp[t * h + j];
            const dan = dh * (1 - z) * (1 - n * n);
            const dar = dan * aux[l][t * h + j] * r * (1 - r);
            const daz = dh * (hPrev - n) * z * (1 - z);
            dG[j] = dar; dG[h + j] = daz; dG[2 * h + j] = dan;
            dGh[j] = dar; dGh[h + j] = daz; dGh[2 * h + j] = dan * r;
            dn[j] = dh * z; // direct path h_prev → h; the W_hh path is added below
          }
        }
        if (cell === "lstm") dn.fill(0);
        const inp = l === 0 ? xs : hs[l - 1];
        const inAt = l === 0 ? t : (t + 1) * h;
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
        if (l === 0) {
          if (t > 0) grad[t - 1] += dIn[0]; // the input was parameter t−1
        } else dAbove = dIn;
      }
    }
    return grad;
  }

  const rmse = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
    return Math.sqrt(s / a.length);
  };
  const side = Math.ceil(Math.sqrt(count));
  const unit = cell.toUpperCase();
  return {
    summary: `x_t[${T}×1] ─ ${unit}(1→${h}) ─ ${unit}(${h}→${h}) ─ linear ${h}×${h} ─ layernorm ─ ReLU ─ linear ${h}→1+bias: ${count} parameters, one per step`,
    params,
    layout: [Math.ceil(count / side), side],
    precision: "float64",
    predict: () => forward(params, true),
    lossAndGrad() {
      const y = forward(params, true);
      let loss = 0;
      for (let t = 0; t < T; t++) loss += (y[t] - params[t]) ** 2;
      return { loss: loss / T, grad: backward(params, y) };
    },
    evaluate() {
      const teacherForcedRmse = rmse(forward(params, true), params);
      return { predicted: forward(params, false), extra: { teacherForcedRmse } };
    },
    dispose() {},
  };
}
