// Levenberg–Marquardt on F(W) = f(W) − W: Newton's method with its step damped toward gradient
// descent, for small networks (a few hundred parameters) where the whole Jacobian is cheap. Each
// step forms J [P × P] by finite differences (P evaluations of f), then solves
// (JᵀJ + μ·diag(JᵀJ)) δ = −Jᵀ F by Cholesky, raising μ until ‖F‖ falls and lowering it after.
// Newton–Krylov (./newton.ts) takes the full Newton step and only shortens it; far from a root that
// step points nowhere useful and it stalls, while the damped step keeps descending ‖F‖².
import { rms } from "./fixpoint";
import type { NewtonResult } from "./newton";

export const LEVENBERG_SETTINGS = {
  /** Steps at most. */
  steps: 300,
  /** Initial damping μ. */
  damping: 1e-3,
  /** Times μ is raised (×4) within one step before giving up. */
  raises: 12,
  /** Finite-difference step, relative to the weights' RMS. */
  differenceStep: 1e-7,
  /** Stop once ‖F(W)‖ / ‖W‖ is below this. */
  tolerance: 1e-12,
  /** Give up once the relative residual is not below half what it was this many steps before: a local minimum of ‖F‖², no root (the search then tries another network). */
  patience: 30,
  /** Deflation strength s (./newton.ts, deflate), in units of the starting weights' spread (or RMS); 1 found more fixpoints of recurrent-position than 4. */
  deflation: 1,
};
export type LevenbergSettings = typeof LEVENBERG_SETTINGS;

/** Levenberg–Marquardt from `start` for a root of `residual` (fixpointResidual(f), deflated); `log` gets one line a step. */
export function levenbergMarquardt(residual: (w: Float64Array) => Float64Array, start: ArrayLike<number>, settings: LevenbergSettings = LEVENBERG_SETTINGS, log?: (line: string) => void): NewtonResult {
  const { steps, raises, differenceStep, tolerance, patience } = settings;
  const n = start.length;
  let evaluations = 0;
  const F = (x: Float64Array): Float64Array => {
    evaluations++;
    return residual(x);
  };
  let x = Float64Array.from(start);
  let fx = F(x);
  let mu = settings.damping;
  const residuals = [rms(fx) / rms(x)];
  for (let step = 0; step < steps && residuals[residuals.length - 1] > tolerance; step++) {
    const J = jacobian(F, x, fx, differenceStep * Math.max(rms(x), 1e-12)); // [n × n], row i = ∂F_i/∂W
    const { normal, gradient } = normalEquations(J, fx, n);
    let accepted = false;
    for (let k = 0; k <= raises && !accepted; k++, mu *= 4) {
      const damped = Float64Array.from(normal);
      for (let a = 0; a < n; a++) damped[a * n + a] += mu * normal[a * n + a] + 1e-300;
      const delta = choleskySolve(damped, gradient.map((g) => -g), n);
      if (!delta) continue;
      const trial = x.map((xi, i) => xi + delta[i]);
      const ft = F(trial);
      if (sumSquares(ft) < sumSquares(fx)) {
        [x, fx] = [trial, ft];
        accepted = true;
      }
    }
    if (accepted) mu = Math.max(mu / 12, 1e-15); // undo the last raise, then lower it
    residuals.push(rms(fx) / rms(x));
    log?.(`levenberg step ${step + 1}: relative residual ${residuals[residuals.length - 1].toExponential(3)}${accepted ? ` (μ ${mu.toExponential(1)})` : ", no damping lowers it: stopped"}, ${evaluations} evaluations of f`);
    if (!accepted) break;
    const last = residuals.length - 1;
    if (last >= patience && residuals[last] > 0.5 * residuals[last - patience]) {
      log?.(`levenberg: relative residual ${residuals[last].toExponential(3)}, not half of ${residuals[last - patience].toExponential(3)} ${patience} steps before: stuck, stopped`);
      break;
    }
  }
  return { weights: x, residuals, evaluations };
}

/** The Jacobian [n × n] of F at x (where F(x) = fx) by forward differences of step h. */
function jacobian(F: (x: Float64Array) => Float64Array, x: Float64Array, fx: Float64Array, h: number): Float64Array {
  const n = x.length;
  const J = new Float64Array(n * n);
  const moved = Float64Array.from(x);
  for (let j = 0; j < n; j++) {
    moved[j] = x[j] + h;
    const fm = F(moved);
    moved[j] = x[j];
    for (let i = 0; i < n; i++) J[i * n + j] = (fm[i] - fx[i]) / h;
  }
  return J;
}

/** JᵀJ [n × n] and Jᵀr [n] of J [n × n]. */
function normalEquations(J: Float64Array, r: Float64Array, n: number): { normal: Float64Array; gradient: Float64Array } {
  const normal = new Float64Array(n * n);
  const gradient = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let a = 0; a < n; a++) {
      const v = J[row + a];
      if (v === 0) continue;
      gradient[a] += v * r[i];
      for (let b = 0; b <= a; b++) normal[a * n + b] += v * J[row + b];
    }
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) normal[b * n + a] = normal[a * n + b];
  return { normal, gradient };
}

/** Solves A x = b for a symmetric positive definite A [n × n] by Cholesky; null when A is not. */
function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * z[k];
    z[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

function sumSquares(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}
