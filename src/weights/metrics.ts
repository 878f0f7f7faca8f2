// A weight-quine run's metrics.json, described once: this schema gives the record's type (what
// `neural-quine weights` writes) and its check (what the report reads back).
import { z } from "zod";
import { WeightSettingsSchema } from "./settings";
import { STOP_REASONS } from "./train";
import { END_STATES } from "./fixpoint";

const finite = z.number();

export const WeightQuineMetricsSchema = z.object({
  kind: z.literal("weight-quine"),
  /** The run's settings as resolved (./settings.ts); `cell` and `position` only for the recurrent variants, `tradeoff` only for auxiliary; `levenberg` absent in runs from before it existed. */
  settings: WeightSettingsSchema.partial({ cell: true, position: true, tradeoff: true, levenberg: true }),
  network: z.string(),
  parameters: z.number().int().nonnegative(),
  /** RMSE between the kept weights and their predictions, computed in float64 from the stored numbers. */
  rmse: finite,
  /** The same with the prediction computed in the training arithmetic (float32 for the tfjs variants, as the originals). */
  rmseTrainingPrecision: finite,
  /** The best RMSE the training loop measured, before refinement. */
  trainingRmse: finite,
  trainingPrecision: z.enum(["float32", "float64"]),
  /** RMSE ÷ RMS of the weights; null when every weight is 0 (0/0). */
  relativeError: finite.nullable(),
  /** ρ = L_SR / Σθ² = relativeError² (the measure of Chang & Lipson's reimplementers). */
  rho: finite.nullable(),
  /** RMSE ÷ standard deviation of the weights: 1 for predicting every weight as their mean; null when all are equal. */
  spreadError: finite.nullable(),
  weightRange: z.tuple([finite, finite]),
  weightRms: finite,
  weightStd: finite,
  initialWeightRms: finite,
  /** The end state of the weights under their own self-application (./fixpoint.ts); order k for "fixpoint of order k". */
  verdict: z.enum(END_STATES),
  order: z.number().int().positive().nullable(),
  verdictReason: z.string(),
  /** The classifier's settings (FIXPOINT_SETTINGS); constantSpread absent in runs from before it existed. */
  thresholds: z.object({ tolerance: finite, maxOrder: z.number().int().positive(), zeroScale: finite, constantSpread: finite.optional(), divergenceGrowth: finite }),
  /** Variant-specific numbers, e.g. the recurrent net's teacher-forced RMSE (its rmse is free-running). */
  extra: z.record(z.string(), finite),
  stepsRun: z.number().int().nonnegative(),
  bestStep: z.number().int().nonnegative(),
  triesRun: z.number().int().positive(),
  /** Why the kept try's training stopped: "epochs", "fixed point", "plateau" (--patience) or "diverged". */
  stopReason: z.enum(STOP_REASONS),
  /** The seed of the network kept: seed + (its try − 1). */
  networkSeed: z.number().int().nonnegative(),
  refineSteps: z.number().int().nonnegative(),
  /** Whether the float64 refinement's weights replaced the trained ones. */
  refined: z.boolean(),
  /** Newton–Krylov steps run after training (./newton.ts), and whether their weights replaced the trained ones. */
  newtonSteps: z.number().int().nonnegative(),
  newtonKept: z.boolean(),
  /** Levenberg–Marquardt steps run after training (./levenberg.ts), and whether their weights replaced the ones before (0 and false in older runs). */
  levenbergSteps: z.number().int().nonnegative().default(0),
  levenbergKept: z.boolean().default(false),
  backend: z.string(),
  trainSeconds: finite,
  wallSeconds: finite,
  image: z.literal("image.png"),
});
export type WeightQuineMetrics = z.infer<typeof WeightQuineMetricsSchema>;
