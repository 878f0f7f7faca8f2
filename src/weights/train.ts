// Training a weight quine, and judging the result.
//
// Step t (0-based) is a regeneration step when --regenerate K > 0 and t % K == 0: the trainable
// weights are replaced by the network's own predictions of them (with --anderson M, by Anderson's
// combination of the last M regenerations, ./anderson.ts). Every other step is one optimizer step on
// the self-replication loss mean((prediction − weights)²), whose gradient flows through both the
// prediction and the weights as targets (--objective relative divides that loss by mean(weights²),
// so shrinking the weights no longer lowers it). So K = 1 is pure regeneration, K = 2 alternates
// regeneration and optimization (the originals' settings), K = 0 never regenerates.
// The loss of every weight state is measured once, before it changes, and the best state is kept.
//
// Training stops early at a fixed point W = f(W) at float32 precision (relative error, RMSE / RMS of
// the weights, ≤ FIXED_POINT_TOLERANCE), or, with --patience P, once the relative error has not
// improved by 1% in P steps. Refinement then continues the Anderson
// iteration in float64 from the best weights, so the float32 weights finally stored are the float64
// fixed point rounded, not a point where float32 arithmetic stalled.
import type { QuineNet } from "./net";
import { makeOptimizer } from "./optim";
import type { WeightSettings } from "./settings";
import { Anderson } from "./anderson";
import { classifyState, rms, std, type Classification, type SelfMap } from "./fixpoint";
import { NEWTON_SETTINGS, deflate, fixpointResidual, newtonKrylov } from "./newton";
import { LEVENBERG_SETTINGS, levenbergMarquardt } from "./levenberg";

/** Training has found a fixed point when its relative error is below this (float32 arithmetic stalls near 1e-7). */
export const FIXED_POINT_TOLERANCE = 1e-5;
/** With --patience P, a step "improves" when it lowers the best relative error by at least 1%. */
const PLATEAU_GAIN = 0.99;
/** Damping β of the Anderson mixing (1 = none); 0.5 converged more often than 1 at 64×64. */
const ANDERSON_MIX = 0.5;

export const STOP_REASONS = ["epochs", "fixed point", "plateau", "diverged"] as const;
export type StopReason = (typeof STOP_REASONS)[number];
/** The run's settings training uses (./settings.ts), and a progress callback, called about once a second. */
export type TrainSettings = Pick<WeightSettings, "epochs" | "optimizer" | "lr" | "regenerate" | "anderson" | "refine" | "newton" | "levenberg" | "patience" | "objective" | "accumulateGradients"> & {
  onProgress?: (p: { step: number; loss: number; bestLoss: number; seconds: number }) => void;
  /** One line per solver step (Levenberg–Marquardt), when given. */
  log?: (line: string) => void;
};

export interface TrainResult {
  /** The best weights seen (lowest loss); also left in net.params. */
  best: Float64Array;
  /** The best loss of the training arithmetic, before refinement (mean squared error even with --objective relative). */
  bestLoss: number;
  bestStep: number;
  initialRms: number;
  /** Steps actually run, and why training stopped. */
  steps: number;
  stopReason: StopReason;
  /** Float64 refinement steps run, and whether their result replaced the trained weights. */
  refineSteps: number;
  refined: boolean;
  /** Newton–Krylov steps run (./newton.ts), and whether their result replaced the weights before them. */
  newtonSteps: number;
  newtonKept: boolean;
  /** Levenberg–Marquardt steps run (./levenberg.ts), and whether their result replaced the weights before them. */
  levenbergSteps: number;
  levenbergKept: boolean;
  seconds: number;
}

export function train(net: QuineNet, settings: TrainSettings): TrainResult {
  const { epochs, optimizer, lr, regenerate, anderson, refine, newton, levenberg, patience, objective, accumulateGradients, onProgress, log } = settings;
  const params = net.params;
  const initialRms = rms(params);
  let best = Float64Array.from(params);
  let bestLoss = Infinity;
  let bestScore = Infinity; // what "best" means: the loss, or with --objective relative/spread the loss / mean(θ²) or / variance
  let bestStep = 0;
  let plateauFrom = { step: 0, relative: Infinity }; // the last step that improved the best relative error by 1%
  /** Records the loss of the current weights, keeps them if best; returns why to stop, if it is time to. */
  const consider = (loss: number, step: number): StopReason | null => {
    const scale = rms(params);
    const score = objective === "relative" ? loss / scale ** 2 : objective === "spread" ? loss / std(params) ** 2 : loss;
    if (score < bestScore) {
      bestScore = score;
      bestLoss = loss;
      bestStep = step;
      best = Float64Array.from(params);
    }
    if (!Number.isFinite(loss)) return "diverged";
    const relative = Math.sqrt(loss) / scale;
    if (!(relative > FIXED_POINT_TOLERANCE)) return "fixed point"; // also the zero quine's 0/0
    if (relative < PLATEAU_GAIN * plateauFrom.relative) plateauFrom = { step, relative };
    if (patience > 0 && step - plateauFrom.step >= patience) return "plateau";
    return null;
  };
  const start = performance.now();
  let lastReport = start;
  let step = 0;
  const opt = makeOptimizer(optimizer, lr, params.length);
  const mixer = anderson > 0 ? new Anderson(anderson, ANDERSON_MIX) : null;
  const gradientSum = new Float64Array(params.length);
  let loss = NaN;
  let stopped: StopReason | null = null;
  for (; step < epochs; step++) {
    if (regenerate > 0 && step % regenerate === 0) {
      const predicted = net.predict();
      loss = meanSquaredError(predicted, params);
      stopped = consider(loss, step);
      params.set(mixer ? mixer.next(params, predicted) : predicted);
    } else {
      const result = net.lossAndGrad();
      loss = result.loss;
      stopped = consider(loss, step);
      let grad = objective === "mse" ? result.grad : scaledGradient(params, result.loss, result.grad, objective);
      if (accumulateGradients) {
        for (let i = 0; i < grad.length; i++) gradientSum[i] += grad[i];
        grad = gradientSum;
      }
      opt.step(params, grad);
    }
    if (stopped) break;
    const now = performance.now();
    if (onProgress && now - lastReport > 1000) {
      lastReport = now;
      onProgress({ step, loss, bestLoss, seconds: (now - start) / 1000 });
    }
  }
  if (!stopped) consider(meanSquaredError(net.predict(), params), step); // the final state
  else step++; // count the step that ended training
  params.set(best);
  const { refineSteps, refined } = refine > 0 ? refine64(net, refine, anderson) : { refineSteps: 0, refined: false };
  const { levenbergSteps, levenbergKept } = levenberg > 0 ? levenberg64(net, levenberg, log) : { levenbergSteps: 0, levenbergKept: false };
  const { newtonSteps, newtonKept } = newton > 0 ? newton64(net, newton) : { newtonSteps: 0, newtonKept: false };
  return { best: Float64Array.from(params), bestLoss, bestStep, initialRms, steps: step, stopReason: stopped ?? "epochs", refineSteps, refined, newtonSteps, newtonKept, levenbergSteps, levenbergKept, seconds: (performance.now() - start) / 1000 };
}

/**
 * Anderson in float64 from the weights in net.params (the best trained); keeps its result only if,
 * rounded to the stored float32, it beats the trained weights in float64. Leaves the kept weights in net.params.
 */
function refine64(net: QuineNet, refine: number, anderson: number): { refineSteps: number; refined: boolean } {
  const params = net.params;
  const predict64 = (theta: ArrayLike<number>) => net.predict64(theta);
  const trained = Float64Array.from(params);
  const mixer = new Anderson(Math.max(anderson, 1), ANDERSON_MIX);
  let x: Float64Array = Float64Array.from(trained);
  let xBest = x, xBestLoss = Infinity;
  let refineSteps = 0;
  for (; refineSteps < refine; refineSteps++) {
    const g = predict64(x);
    const loss = meanSquaredError(g, x);
    if (loss < xBestLoss) [xBest, xBestLoss] = [x, loss];
    if (!(loss > 1e-30)) break; // zero or not finite
    x = mixer.next(x, g);
  }
  const trainedLoss = meanSquaredError(predict64(params), params);
  params.set(xBest);
  const refined = meanSquaredError(predict64(params), params) < trainedLoss;
  params.set(refined ? xBest : trained);
  return { refineSteps, refined };
}

/**
 * Newton–Krylov in float64 from the weights in net.params, on f(W) − W deflated away from the net's
 * trivial fixpoints (the deflation scale: NEWTON_SETTINGS.deflation × the weights' RMS or spread); keeps the result, rounded
 * to the stored precision, only if its relative error beats the weights before it.
 */
function newton64(net: QuineNet, steps: number): { newtonSteps: number; newtonKept: boolean } {
  const params = net.params;
  const f = (theta: ArrayLike<number>) => net.predict64(theta);
  const relativeError = (w: ArrayLike<number>) => Math.sqrt(meanSquaredError(f(w), w)) / rms(w);
  const before = Float64Array.from(params);
  const scale = NEWTON_SETTINGS.deflation * (net.trivial === "zero" ? rms(before) : std(before));
  const { weights, residuals } = newtonKrylov(deflate(fixpointResidual(f), scale, net.trivial), before, { ...NEWTON_SETTINGS, steps });
  const errorBefore = relativeError(before);
  params.set(weights);
  const newtonKept = relativeError(params) < errorBefore;
  if (!newtonKept) params.set(before);
  return { newtonSteps: residuals.length - 1, newtonKept };
}

/** Levenberg–Marquardt forms a P × P Jacobian each step: beyond this many parameters a step takes minutes. */
export const LEVENBERG_MAX_PARAMETERS = 2000;

/**
 * Levenberg–Marquardt in float64 from the weights in net.params, on f(W) − W deflated as newton64's;
 * keeps the result, rounded to the stored precision, only if its relative error beats the weights before it.
 */
function levenberg64(net: QuineNet, steps: number, log?: (line: string) => void): { levenbergSteps: number; levenbergKept: boolean } {
  const params = net.params;
  if (params.length > LEVENBERG_MAX_PARAMETERS) throw new Error(`--levenberg needs a network of at most ${LEVENBERG_MAX_PARAMETERS} parameters; this one has ${params.length}.`);
  const f = (theta: ArrayLike<number>) => net.predict64(theta);
  const relativeError = (w: ArrayLike<number>) => Math.sqrt(meanSquaredError(f(w), w)) / rms(w);
  const before = Float64Array.from(params);
  const scale = LEVENBERG_SETTINGS.deflation * (net.trivial === "zero" ? rms(before) : std(before));
  const { weights, residuals } = levenbergMarquardt(deflate(fixpointResidual(f), scale, net.trivial), before, { ...LEVENBERG_SETTINGS, steps }, log);
  const errorBefore = relativeError(before);
  params.set(weights);
  const levenbergKept = relativeError(params) < errorBefore;
  if (!levenbergKept) params.set(before);
  return { levenbergSteps: residuals.length - 1, levenbergKept };
}

/**
 * Gradient of mse / mean(θ²) (relative) or mse / variance(θ) (spread) from that of mse: the loss no
 * longer falls when all weights shrink together, or (spread) when they all move toward one constant.
 */
function scaledGradient(params: ArrayLike<number>, mse: number, grad: ArrayLike<number>, objective: "relative" | "spread"): Float64Array {
  const n = params.length;
  let mean = 0;
  if (objective === "spread") for (let i = 0; i < n; i++) mean += params[i] / n;
  let scale = 0; // mean(θ²), or the variance
  for (let i = 0; i < n; i++) scale += (params[i] - mean) ** 2 / n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = grad[i] / scale - (2 * mse * (params[i] - mean)) / (n * scale * scale);
  return out;
}


export interface Assessment {
  rmse: number;
  /** rmse / RMS of the weights; null when every weight is exactly 0 (0/0). Its square is ρ = L_SR / Σθ². */
  relativeError: number | null;
  /** rmse / standard deviation of the weights (1 = no better than predicting their mean); null when they are all equal. */
  spreadError: number | null;
  weightRange: [number, number];
  weightRms: number;
  weightStd: number;
  /** Where the weights stand under their own self-application (./fixpoint.ts). */
  endState: Classification;
}

/** Compares weights with their predictions and classifies the weights' state under f (./fixpoint.ts). */
export function assess(f: SelfMap, weights: ArrayLike<number>, predicted: ArrayLike<number>, initialRms: number): Assessment {
  const n = weights.length;
  const rmse = Math.sqrt(meanSquaredError(predicted, weights));
  const weightRms = rms(weights);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, weights[i]);
    hi = Math.max(hi, weights[i]);
  }
  const weightStd = std(weights);
  const relativeError = weightRms > 0 ? rmse / weightRms : null;
  const spreadError = weightStd > 0 ? rmse / weightStd : null;
  return { rmse, relativeError, spreadError, weightRange: [lo, hi], weightRms, weightStd, endState: classifyState(f, weights, initialRms) };
}

export function meanSquaredError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

