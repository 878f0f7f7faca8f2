// Newton–Krylov on F(W) = f(W) − W: each step solves J·δ = −F(W) approximately by GMRES, where a
// product J·v is one more evaluation of f, (F(W + hv) − F(W)) / h, so the Jacobian is never formed.
// A backtracking line search on ‖F‖ keeps a step only if it lowers the residual. Where Anderson's
// multisecant model is too crude (vanilla, recurrent: ./anderson.ts), Newton converges
// quadratically once it is near a root; far from one it may stall (then the result says so).
import { rms, type SelfMap } from "./fixpoint";

export const NEWTON_SETTINGS = {
  /** Newton steps at most. */
  steps: 30,
  /** GMRES iterations (Krylov dimension) per step, without restarts. */
  krylov: 40,
  /** GMRES stops once its residual is this fraction of ‖F‖. */
  forcing: 1e-3,
  /** Finite-difference step, relative to the weights' RMS. */
  differenceStep: 1e-7,
  /** Stop once ‖F(W)‖ / ‖W‖ is below this. */
  tolerance: 1e-12,
  /** Halvings of the step the line search tries. */
  halvings: 10,
  /** Deflation strength s, in units of the starting weights' RMS (or spread): larger pushes harder away from the trivial fixpoints. */
  deflation: 4,
};
export type NewtonSettings = typeof NEWTON_SETTINGS;

export interface NewtonResult {
  /** The weights with the smallest relative residual seen. */
  weights: Float64Array;
  /** ‖F(W)‖ / ‖W‖ (RMS) after each step (index 0: the start). */
  residuals: number[];
  evaluations: number;
}

/** F(W) = f(W) − W, whose roots are f's fixed points. */
export function fixpointResidual(f: SelfMap): (w: Float64Array) => Float64Array {
  return (w) => {
    const y = f(w);
    return w.map((wi, i) => y[i] - wi);
  };
}

/**
 * F deflated (Farrell, Birkisson & Funke 2015) away from the zero vector, or from every constant
 * vector: F(W) · (1 + s² / d²), d² = mean(W²) or the weights' variance. Its roots are F's other
 * roots; near a deflated one it grows without bound, so Newton is pushed away from the trivial
 * fixpoints (vanilla has 0, the recurrent net a whole line of constants).
 */
export function deflate(F: (w: Float64Array) => Float64Array, s: number, around: "zero" | "constants"): (w: Float64Array) => Float64Array {
  return (w) => {
    const n = w.length;
    let mean = 0;
    if (around === "constants") for (let i = 0; i < n; i++) mean += w[i] / n;
    let d2 = 0;
    for (let i = 0; i < n; i++) d2 += (w[i] - mean) ** 2 / n;
    const factor = 1 + (s * s) / d2;
    return F(w).map((v) => v * factor);
  };
}

/** Newton–Krylov from `start` for a root of `residual` (fixpointResidual(f) for a fixed point of f); `log` gets one line a step. */
export function newtonKrylov(residual: (w: Float64Array) => Float64Array, start: ArrayLike<number>, settings: NewtonSettings = NEWTON_SETTINGS, log?: (line: string) => void): NewtonResult {
  const { steps, krylov, forcing, differenceStep, tolerance, halvings } = settings;
  let evaluations = 0;
  const F = (x: Float64Array): Float64Array => {
    evaluations++;
    return residual(x);
  };
  let x = Float64Array.from(start);
  let fx = F(x);
  const relative = (r: Float64Array, w: Float64Array) => rms(r) / rms(w);
  const residuals = [relative(fx, x)];
  for (let step = 0; step < steps && residuals[residuals.length - 1] > tolerance; step++) {
    const h = differenceStep * Math.max(rms(x), 1e-12);
    const jv = (v: Float64Array): Float64Array => {
      const norm = Math.sqrt(dot(v, v));
      if (norm === 0) return new Float64Array(v.length);
      const scale = h / norm; // v scaled to a step of size h
      const moved = x.map((xi, i) => xi + scale * v[i]);
      const fm = F(moved);
      return fm.map((value, i) => (value - fx[i]) / scale);
    };
    const delta = gmres(jv, fx.map((v) => -v), krylov, forcing);
    let t = 1;
    let accepted = false;
    const now = Math.sqrt(dot(fx, fx));
    for (let k = 0; k <= halvings; k++, t /= 2) {
      const trial = x.map((xi, i) => xi + t * delta[i]);
      const ft = F(trial);
      if (Math.sqrt(dot(ft, ft)) < (1 - 1e-4 * t) * now) {
        [x, fx] = [trial, ft];
        accepted = true;
        break;
      }
    }
    residuals.push(relative(fx, x));
    log?.(`newton step ${step + 1}: relative residual ${residuals[residuals.length - 1].toExponential(3)}${accepted ? ` (step ${t})` : ", no step lowers it: stopped"}, ${evaluations} evaluations of f`);
    if (!accepted) break;
  }
  return { weights: x, residuals, evaluations };
}

/** GMRES without restarts from 0: about argmin ‖A·δ − b‖ over the Krylov space of A and b. */
function gmres(A: (v: Float64Array) => Float64Array, b: Float64Array, m: number, forcing: number): Float64Array {
  const beta = Math.sqrt(dot(b, b));
  const n = b.length;
  if (beta === 0) return new Float64Array(n);
  const V: Float64Array[] = [b.map((v) => v / beta)];
  const H: number[][] = []; // H[j] = column j of the Hessenberg matrix (j + 2 entries)
  const cs: number[] = [], sn: number[] = [];
  const g = [beta];
  let k = 0;
  for (; k < m; k++) {
    const w = A(V[k]);
    const column: number[] = [];
    for (let i = 0; i <= k; i++) {
      const hik = dot(w, V[i]);
      column.push(hik);
      for (let j = 0; j < n; j++) w[j] -= hik * V[i][j];
    }
    const norm = Math.sqrt(dot(w, w));
    column.push(norm);
    for (let i = 0; i < k; i++) { // earlier rotations
      const a = column[i], c = column[i + 1];
      column[i] = cs[i] * a + sn[i] * c;
      column[i + 1] = -sn[i] * a + cs[i] * c;
    }
    const r = Math.hypot(column[k], column[k + 1]);
    cs.push(r === 0 ? 1 : column[k] / r);
    sn.push(r === 0 ? 0 : column[k + 1] / r);
    column[k] = r;
    column[k + 1] = 0;
    g.push(-sn[k] * g[k]);
    g[k] = cs[k] * g[k];
    H.push(column);
    if (Math.abs(g[k + 1]) <= forcing * beta || norm === 0) {
      k++;
      break;
    }
    V.push(w.map((v) => v / norm));
  }
  // back substitution: H[0..k) y = g[0..k)
  const y = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    let s = g[i];
    for (let j = i + 1; j < k; j++) s -= H[j][i] * y[j];
    y[i] = s / H[i][i];
  }
  const out = new Float64Array(n);
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) out[i] += y[j] * V[j][i];
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
