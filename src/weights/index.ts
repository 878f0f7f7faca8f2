// neural-quine weights: trains one weight-quine variant, judges it, and writes metrics.json and
// image.png into the output folder. See docs/weights.md for the variants and the results.
import * as fs from "node:fs";
import * as path from "node:path";
import { round } from "../format";
import { initBackend, parseBackend } from "../runtime/backend";
import { VARIANTS, VARIANT_DEFAULTS, buildNet, type VariantName } from "./variants";
import { CELLS, type Cell } from "./recurrent";
import { DEFAULT_LR, OPTIMIZERS, type OptimizerName } from "./optim";
import type { QuineNet } from "./net";
import { assess, meanSquaredError, train, NONTRIVIAL_RELATIVE_ERROR, NONTRIVIAL_SPREAD, OBJECTIVES, ZERO_QUINE_SCALE, type Assessment, type Objective, type StopReason, type TrainResult, type Verdict } from "./train";
import { formatNumber, renderQuineImage } from "./image";

export { VARIANTS, VARIANT_DEFAULTS, CELLS, OPTIMIZERS, OBJECTIVES };
export type { VariantName, Cell, OptimizerName, Objective, Verdict };

/** Largest --size per variant: beyond these a run takes far longer than minutes or a lot of memory. */
const MAX_SIZE: Record<VariantName, number> = { coords: 256, "coords-bn": 256, "coords-in": 256, onehot: 256, recurrent: 128, vanilla: 400 };

export interface WeightQuineOptions {
  variant: string;
  /** N for the matrix variants, hidden units for recurrent, hidden width for vanilla. */
  size?: number;
  epochs?: number;
  optimizer?: string;
  /** Defaults to the variant's original setting, or PyTorch's default for another optimizer. */
  lr?: number;
  regenerate?: number;
  /** Anderson memory for regeneration steps (0 = plain regeneration). */
  anderson?: number;
  /** Networks to try (seeds seed, seed+1, …) until one reaches the target. */
  tries?: number;
  /** The search over networks stops at the first whose relative error is at most this. */
  target?: number;
  /** Steps without a 1% gain in relative error before a run stops; 0 = never. */
  patience?: number;
  /** Float64 refinement steps at the end. */
  refine?: number;
  /** "mse" or "relative" (mse / mean(weights²)) for the optimizer steps. */
  objective?: string;
  /** Reproduce the original onehot script: every step uses the sum of all gradients so far. */
  accumulateGradients?: boolean;
  seed?: number;
  backend?: string;
  /** LSTM or GRU, for the recurrent variant. */
  cell?: string;
  /** Output folder; default generations/weights-<variant>-<size>. */
  out?: string;
  /** Progress lines (about one a second); nothing when absent. */
  log?: (line: string) => void;
}

/** The record written to metrics.json. */
export interface WeightQuineMetrics {
  kind: "weight-quine";
  variant: VariantName;
  size: number;
  cell?: Cell;
  network: string;
  parameters: number;
  /** RMSE between the kept weights and their predictions, computed in float64 from the stored numbers. */
  rmse: number;
  /** The same with the prediction computed in the training arithmetic (float32 for the tfjs variants, as the originals). */
  rmseTrainingPrecision: number;
  /** The best RMSE the training loop measured, before refinement. */
  trainingRmse: number;
  trainingPrecision: "float32" | "float64";
  relativeError: number | null;
  errorOverSpread: number | null;
  weightRange: [number, number];
  weightRms: number;
  initialWeightRms: number;
  verdict: Verdict;
  verdictReason: string;
  thresholds: { zeroQuineScale: number; nonTrivialRelativeError: number; nonTrivialSpread: number };
  /** Variant-specific numbers, e.g. the recurrent net's teacher-forced RMSE (its rmse is free-running). */
  extra: Record<string, number>;
  epochs: number;
  stepsRun: number;
  bestStep: number;
  optimizer: OptimizerName;
  lr: number;
  regenerate: number;
  anderson: number;
  objective: Objective;
  accumulateGradients: boolean;
  tries: number;
  triesRun: number;
  target: number;
  patience: number;
  /** Why the kept try's training stopped: "epochs", "fixed point", "plateau" (--patience) or "diverged". */
  stopReason: StopReason;
  refine: number;
  refineSteps: number;
  /** Whether the float64 refinement's weights replaced the trained ones. */
  refined: boolean;
  seed: number;
  /** The seed of the network kept: seed + (its try − 1). */
  networkSeed: number;
  backend: string;
  trainSeconds: number;
  wallSeconds: number;
  image: "image.png";
}

export async function runWeightQuine(options: WeightQuineOptions): Promise<{ metrics: WeightQuineMetrics; dir: string }> {
  const wallStart = performance.now();
  const variant = pick(options.variant, VARIANTS, "variant");
  const defaults = VARIANT_DEFAULTS[variant];
  const size = options.size ?? defaults.size;
  if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE[variant])
    throw new Error(`--size must be an integer from 1 to ${MAX_SIZE[variant]} for ${variant}, not ${size}.`);
  const epochs = options.epochs ?? defaults.epochs;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`--epochs must be a positive integer, not ${epochs}.`);
  const optimizer = options.optimizer === undefined ? defaults.optimizer : pick(options.optimizer, OPTIMIZERS, "optimizer");
  const lr = options.lr ?? (optimizer === defaults.optimizer ? defaults.lr : DEFAULT_LR[optimizer]);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`--lr must be a positive number, not ${lr}.`);
  const regenerate = options.regenerate ?? defaults.regenerate;
  if (!Number.isInteger(regenerate) || regenerate < 0) throw new Error(`--regenerate must be a non-negative integer, not ${regenerate}.`);
  const anderson = options.anderson ?? defaults.anderson;
  const tries = options.tries ?? defaults.tries;
  const refine = options.refine ?? defaults.refine;
  const patience = options.patience ?? defaults.patience;
  for (const [name, value, least] of [["anderson", anderson, 0], ["tries", tries, 1], ["refine", refine, 0], ["patience", patience, 0]] as const)
    if (!Number.isInteger(value) || value < least) throw new Error(`--${name} must be an integer of at least ${least}, not ${value}.`);
  const target = options.target ?? defaults.target;
  if (!(target >= 0) || !Number.isFinite(target)) throw new Error(`--target must be a non-negative number, not ${target}.`);
  const objective = options.objective === undefined ? defaults.objective : pick(options.objective, OBJECTIVES, "objective");
  const accumulateGradients = options.accumulateGradients ?? false;
  const seed = options.seed ?? 1337;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, not ${seed}.`);
  const cell = pick(options.cell ?? "lstm", CELLS, "cell");
  const dir = path.resolve(options.out ?? path.join("generations", `weights-${variant}-${size}`));

  // The recurrent variant is hand-written float64 JavaScript and does not use TensorFlow.js.
  const backend = variant === "recurrent" ? "js-float64" : await initBackend(parseBackend(options.backend ?? "auto"));
  const log = options.log;
  log?.(`${epochs} steps, ${optimizer} lr ${lr} (${objective} loss), regenerate ${regenerate === 0 ? "never" : `every ${regenerate}`}, anderson ${anderson}, refine ${refine}, up to ${tries} tries to reach relative error ${target}${patience > 0 ? `, patience ${patience}` : ""}, seed ${seed}, backend ${backend}`);
  // Try k trains the network drawn from seed + k − 1 (projections and initial weights); the search
  // stops at the first that reaches the target and keeps the try with the lowest relative error.
  let chosen: { net: QuineNet; networkSeed: number; result: TrainResult; predicted: Float64Array; extra: Record<string, number>; verdict: Assessment } | null = null;
  let triesRun = 0;
  const errorOf = (v: Assessment) => v.relativeError ?? Infinity;
  while (triesRun < tries && !(chosen && errorOf(chosen.verdict) <= target)) {
    const networkSeed = seed + triesRun++;
    const net = buildNet({ variant, size, seed: networkSeed, cell });
    if (triesRun === 1) log?.(`${variant} ${size}: ${net.summary}`);
    if (tries > 1) log?.(`try ${triesRun}: the network of seed ${networkSeed}`);
    try {
      const result = train(net, {
        epochs,
        optimizer,
        lr,
        regenerate,
        anderson,
        refine,
        patience,
        objective,
        accumulateGradients,
        onProgress: log && (({ step, loss, bestLoss, seconds }) =>
          log(`step ${step}/${epochs}  rmse ${Math.sqrt(loss).toExponential(3)}  best ${Math.sqrt(bestLoss).toExponential(3)}  ${seconds.toFixed(1)} s`)),
      });
      const { predicted, extra } = net.evaluate();
      const verdict = assess(net.params, predicted, result.initialRms);
      if (tries > 1) log?.(`try ${triesRun}: relative error ${verdict.relativeError?.toExponential(2)} after ${result.steps} steps (stopped: ${result.stopReason})`);
      if (chosen && errorOf(chosen.verdict) <= errorOf(verdict)) net.dispose();
      else {
        chosen?.net.dispose();
        chosen = { net, networkSeed, result, predicted, extra, verdict };
      }
    } catch (error) {
      net.dispose();
      throw error;
    }
  }
  if (!chosen) throw new Error("no try ran."); // unreachable: tries ≥ 1
  const { net, networkSeed, result, predicted, extra, verdict } = chosen;
  try {
    const metrics: WeightQuineMetrics = {
      kind: "weight-quine",
      variant,
      size,
      ...(variant === "recurrent" ? { cell } : {}),
      network: net.summary,
      parameters: net.params.length,
      rmse: verdict.rmse,
      rmseTrainingPrecision: Math.sqrt(meanSquaredError(net.predict(), net.params)),
      trainingRmse: Math.sqrt(result.bestLoss),
      trainingPrecision: net.precision,
      relativeError: verdict.relativeError,
      errorOverSpread: verdict.errorOverSpread,
      weightRange: verdict.weightRange,
      weightRms: verdict.weightRms,
      initialWeightRms: result.initialRms,
      verdict: verdict.verdict,
      verdictReason: verdict.reason,
      thresholds: { zeroQuineScale: ZERO_QUINE_SCALE, nonTrivialRelativeError: NONTRIVIAL_RELATIVE_ERROR, nonTrivialSpread: NONTRIVIAL_SPREAD },
      extra,
      epochs,
      stepsRun: result.steps,
      bestStep: result.bestStep,
      optimizer,
      lr,
      regenerate,
      anderson,
      objective,
      accumulateGradients,
      tries,
      triesRun,
      target,
      patience,
      stopReason: result.stopReason,
      networkSeed,
      refine,
      refineSteps: result.refineSteps,
      refined: result.refined,
      seed,
      backend,
      trainSeconds: round(result.seconds),
      wallSeconds: 0,
      image: "image.png",
    };
    const sizeText = variant === "recurrent" || variant === "vanilla" ? `${cell === "gru" && variant === "recurrent" ? "GRU " : ""}H=${size}` : `${size}x${size}`;
    const png = renderQuineImage({
      title: [
        `${variant.toUpperCase()} ${sizeText}  RMSE ${formatNumber(verdict.rmse)}  RELATIVE ${verdict.relativeError === null ? "-" : formatNumber(verdict.relativeError)}`,
        `${verdict.verdict.toUpperCase()}  WEIGHTS [${formatNumber(verdict.weightRange[0])}, ${formatNumber(verdict.weightRange[1])}]  ${result.steps} STEPS`,
      ],
      weights: net.params,
      predicted,
      layout: net.layout,
    });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "image.png"), png);
    metrics.wallSeconds = round((performance.now() - wallStart) / 1000);
    fs.writeFileSync(path.join(dir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
    log?.(`${metrics.verdict}: ${metrics.verdictReason}`);
    log?.(`rmse ${metrics.rmse.toExponential(3)} (float64), weights in [${formatNumber(metrics.weightRange[0])}, ${formatNumber(metrics.weightRange[1])}], ${metrics.wallSeconds} s → ${dir}`);
    return { metrics, dir };
  } finally {
    net.dispose();
  }
}

function pick<T extends string>(value: string, choices: readonly T[], what: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new Error(`Unknown ${what} "${value}": choose one of ${choices.join(", ")}.`);
}
