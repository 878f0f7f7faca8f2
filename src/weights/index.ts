// neural-quine weights: trains one weight-quine variant, judges it, and writes metrics.json and
// image.png into the output folder. See docs/weights.md for the variants and the results.
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileSafely } from "../files/write";
import { round } from "../format";
import { readOptions } from "../options";
import { initBackend, parseBackend } from "../runtime/backend";
import { VARIANT_DEFAULTS, buildNet } from "./variants";
import { DEFAULT_LR, OPTIMIZERS, type OptimizerName } from "./optim";
import type { QuineNet } from "./net";
import { CELLS, COMMON_DEFAULTS, OBJECTIVES, POSITIONS, VARIANTS, WeightSettingsSchema, type Cell, type Objective, type Position, type VariantName, type WeightSettings } from "./settings";
import { assess, meanSquaredError, train, type Assessment, type TrainResult } from "./train";
import { FIXPOINT_SETTINGS, describeState, type EndState } from "./fixpoint";
import { WeightQuineMetricsSchema, type WeightQuineMetrics } from "./metrics";
import { formatNumber } from "../plot/canvas";
import { renderQuineImage } from "./image";
import { isAuxiliary, trainAuxiliary } from "./auxiliary";
import { measureRobustness, robustnessChart, robustnessTable, type Robustness } from "./robustness";

export { VARIANTS, VARIANT_DEFAULTS, CELLS, POSITIONS, OPTIMIZERS, OBJECTIVES, WeightSettingsSchema, WeightQuineMetricsSchema };
export type { VariantName, Cell, Position, OptimizerName, Objective, EndState, WeightSettings, WeightQuineMetrics };

/** Largest --size per variant: beyond these a run takes far longer than minutes or a lot of memory. */
const MAX_SIZE: Record<VariantName, number> = { coords: 256, "coords-bn": 256, "coords-in": 256, onehot: 256, recurrent: 128, "recurrent-position": 128, vanilla: 400, auxiliary: 128 };
const isRecurrent = (variant: VariantName) => variant === "recurrent" || variant === "recurrent-position";

/** What runWeightQuine takes: any of the settings (checked against WeightSettingsSchema; absent ones default per variant). */
export type WeightQuineOptions = { [K in keyof WeightSettings]?: unknown } & {
  backend?: string;
  /** Output folder; default generations/weights-<variant>-<size>. */
  out?: string;
  /** Progress lines (about one a second); nothing when absent. */
  log?: (line: string) => void;
};

/** The settings of a run: `options` checked, the rest from the variant's defaults; anything wrong throws one sentence naming the option. */
export function resolveSettings(options: WeightQuineOptions): WeightSettings {
  const { variant } = readOptions(WeightSettingsSchema.pick({ variant: true }), options);
  const defaults = VARIANT_DEFAULTS[variant];
  const { optimizer } = readOptions(WeightSettingsSchema.pick({ optimizer: true }), { optimizer: options.optimizer ?? defaults.optimizer });
  const lr = options.lr ?? (optimizer === defaults.optimizer ? defaults.lr : DEFAULT_LR[optimizer]);
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const settings = readOptions(WeightSettingsSchema, { ...COMMON_DEFAULTS, ...defaults, ...given, lr });
  if (settings.size > MAX_SIZE[variant]) throw new Error(`--size must be at most ${MAX_SIZE[variant]} for ${variant}, not ${settings.size}.`);
  if (settings.position !== "none" && !isRecurrent(variant)) throw new Error(`--position applies to the recurrent variants only, not to ${variant}.`);
  return settings;
}

/** A try that ran: the network (not yet disposed), its training and its verdict. */
interface Try {
  net: QuineNet;
  networkSeed: number;
  result: TrainResult;
  predicted: Float64Array;
  extra: Record<string, number>;
  verdict: Assessment;
}

/** Trains one weight quine, judges it, and writes metrics.json and image.png into its folder. */
export async function runWeightQuine(options: WeightQuineOptions): Promise<{ metrics: WeightQuineMetrics; dir: string; robustness?: Robustness }> {
  const wallStart = performance.now();
  const settings = resolveSettings(options);
  const { variant, size, epochs, optimizer, lr, regenerate, anderson, refine, tries, target, patience, objective, seed } = settings;
  const dir = path.resolve(options.out ?? path.join("generations", `weights-${variant}-${size}`));
  // The recurrent variants are hand-written float64 JavaScript and do not use TensorFlow.js.
  const backend = isRecurrent(variant) ? "js-float64" : await initBackend(parseBackend(options.backend ?? "auto"));
  const log = options.log;
  log?.(`${epochs} steps, ${optimizer} lr ${lr} (${objective} loss), regenerate ${regenerate === 0 ? "never" : `every ${regenerate}`}, anderson ${anderson}, refine ${refine}, newton ${settings.newton}, levenberg ${settings.levenberg}, up to ${tries} tries to reach ${isRecurrent(variant) ? "spread" : "relative"} error ${target}${patience > 0 ? `, patience ${patience}` : ""}, seed ${seed}, backend ${backend}`);
  const { chosen, triesRun } = searchNetworks(settings, log);
  try {
    const metrics = measure(settings, chosen, triesRun, backend);
    writeRun(dir, metrics, chosen);
    const robustness = settings.robustness ? writeRobustness(dir, metrics, chosen, log) : undefined;
    metrics.wallSeconds = round((performance.now() - wallStart) / 1000);
    writeFileSafely(path.join(dir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
    log?.(`${describeState(metrics.verdict, metrics.order)}: ${metrics.verdictReason}`);
    log?.(`rmse ${metrics.rmse.toExponential(3)} (float64), weights in [${formatNumber(metrics.weightRange[0])}, ${formatNumber(metrics.weightRange[1])}], ${metrics.wallSeconds} s → ${dir}`);
    return { metrics, dir, robustness };
  } finally {
    chosen.net.dispose();
  }
}

/**
 * Try k trains the network drawn from seed + k − 1 (projections and initial weights); the search
 * stops at the first that reaches the target and keeps the try with the lowest error (relative; spread for the recurrent variants).
 */
function searchNetworks(settings: WeightSettings, log: ((line: string) => void) | undefined): { chosen: Try; triesRun: number } {
  const { variant, size, cell, position, seed, tries, target, epochs } = settings;
  let chosen: Try | null = null;
  let triesRun = 0;
  // the recurrent nets' trivial fixpoints are the constants, so their error is measured against the weights' spread
  const errorOf = (v: Assessment) => (isRecurrent(variant) ? v.spreadError : v.relativeError) ?? Infinity;
  while (triesRun < tries && !(chosen && errorOf(chosen.verdict) <= target)) {
    const networkSeed = seed + triesRun++;
    const net = buildNet({ variant, size, seed: networkSeed, cell, position });
    if (triesRun === 1) log?.(`${variant} ${size}: ${net.summary}`);
    if (tries > 1) log?.(`try ${triesRun}: the network of seed ${networkSeed}`);
    try {
      const result = isAuxiliary(net) ? trainAuxiliary(net, settings, log) : train(net, {
        ...settings,
        log,
        onProgress: log && (({ step, loss, bestLoss, seconds }) =>
          log(`step ${step}/${epochs}  rmse ${Math.sqrt(loss).toExponential(3)}  best ${Math.sqrt(bestLoss).toExponential(3)}  ${seconds.toFixed(1)} s`)),
      });
      const { predicted, extra } = net.evaluate();
      const verdict = assess((theta) => net.predict64(theta), net.params, predicted, result.initialRms);
      if (tries > 1) log?.(`try ${triesRun}: ${isRecurrent(variant) ? `spread error ${verdict.spreadError?.toExponential(2)}` : `relative error ${verdict.relativeError?.toExponential(2)}`} after ${result.steps} steps (stopped: ${result.stopReason})`);
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
  return { chosen, triesRun };
}

/** The metrics record of the kept try (wallSeconds is filled in last). */
function measure(settings: WeightSettings, chosen: Try, triesRun: number, backend: string): WeightQuineMetrics {
  const { net, networkSeed, result, extra, verdict } = chosen;
  const { cell, position, tradeoff, ...rest } = settings;
  return {
    kind: "weight-quine",
    settings: { ...rest, ...(isRecurrent(settings.variant) ? { cell, position } : {}), ...(settings.variant === "auxiliary" ? { tradeoff } : {}) },
    network: net.summary,
    parameters: net.params.length,
    rmse: verdict.rmse,
    rmseTrainingPrecision: Math.sqrt(meanSquaredError(net.predict(), net.params)),
    trainingRmse: Math.sqrt(result.bestLoss),
    trainingPrecision: net.precision,
    relativeError: verdict.relativeError,
    rho: verdict.relativeError === null ? null : verdict.relativeError ** 2,
    spreadError: verdict.spreadError,
    weightRange: verdict.weightRange,
    weightRms: verdict.weightRms,
    weightStd: verdict.weightStd,
    initialWeightRms: result.initialRms,
    verdict: verdict.endState.state,
    order: verdict.endState.order,
    verdictReason: verdict.endState.reason,
    thresholds: FIXPOINT_SETTINGS,
    extra,
    stepsRun: result.steps,
    bestStep: result.bestStep,
    triesRun,
    stopReason: result.stopReason,
    networkSeed,
    refineSteps: result.refineSteps,
    refined: result.refined,
    newtonSteps: result.newtonSteps,
    newtonKept: result.newtonKept,
    levenbergSteps: result.levenbergSteps,
    levenbergKept: result.levenbergKept,
    backend,
    trainSeconds: round(result.seconds),
    wallSeconds: 0,
    image: "image.png",
  };
}

/** Draws the kept weights against their predictions into image.png in `dir`. */
function writeRun(dir: string, metrics: WeightQuineMetrics, chosen: Try): void {
  const { variant, size, cell } = metrics.settings;
  const sizeText = isRecurrent(variant) || variant === "vanilla" ? `${cell === "gru" ? "GRU " : ""}H=${size}` : `${size}x${size}`;
  const png = renderQuineImage({
    title: [
      `${variant.toUpperCase()} ${sizeText}  RMSE ${formatNumber(metrics.rmse)}  RELATIVE ${metrics.relativeError === null ? "-" : formatNumber(metrics.relativeError)}`,
      `${describeState(metrics.verdict, metrics.order).toUpperCase()}  WEIGHTS [${formatNumber(metrics.weightRange[0])}, ${formatNumber(metrics.weightRange[1])}]  ${metrics.stepsRun} STEPS`,
    ],
    weights: chosen.net.params,
    predicted: chosen.predicted,
    layout: chosen.net.layout,
  });
  fs.mkdirSync(dir, { recursive: true });
  writeFileSafely(path.join(dir, "image.png"), png);
}

/** --robustness: perturbs the kept weights, regenerates, and writes robustness.json and robustness.png into `dir`. */
function writeRobustness(dir: string, metrics: WeightQuineMetrics, chosen: Try, log: ((line: string) => void) | undefined): Robustness {
  const { net } = chosen;
  const record = measureRobustness((theta) => net.predict64(theta), net.params);
  const { variant, size } = metrics.settings;
  writeFileSafely(path.join(dir, "robustness.json"), JSON.stringify(record) + "\n");
  writeFileSafely(path.join(dir, "robustness.png"), robustnessChart(record, `${variant} ${size}: perturbed by eps, then regenerated (median of ${record.settings.trials})`));
  log?.(`robustness (${describeState(record.quine.endState, record.quine.order)} perturbed, then regenerated):\n${robustnessTable(record)}`);
  return record;
}
