// A weight-quine run's metrics.json, described once: this schema gives the record's type (what
// `neural-quine weights` writes) and its check (what the report reads back).
import { z } from "zod";
import { WeightSettingsSchema } from "./settings";
import { STOP_REASONS, VERDICTS } from "./train";

const finite = z.number();

export const WeightQuineMetricsSchema = z.object({
  kind: z.literal("weight-quine"),
  /** The run's settings as resolved (./settings.ts); `cell` only for the recurrent variant, the one that has cells. */
  settings: WeightSettingsSchema.partial({ cell: true }),
  network: z.string(),
  parameters: z.number().int().nonnegative(),
  /** RMSE between the kept weights and their predictions, computed in float64 from the stored numbers. */
  rmse: finite,
  /** The same with the prediction computed in the training arithmetic (float32 for the tfjs variants, as the originals). */
  rmseTrainingPrecision: finite,
  /** The best RMSE the training loop measured, before refinement. */
  trainingRmse: finite,
  trainingPrecision: z.enum(["float32", "float64"]),
  /** Null when every weight is 0 (0/0). */
  relativeError: finite.nullable(),
  errorOverSpread: finite.nullable(),
  weightRange: z.tuple([finite, finite]),
  weightRms: finite,
  initialWeightRms: finite,
  verdict: z.enum(VERDICTS),
  verdictReason: z.string(),
  thresholds: z.object({ zeroQuineScale: finite, nonTrivialRelativeError: finite, nonTrivialSpread: finite }),
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
  backend: z.string(),
  trainSeconds: finite,
  wallSeconds: finite,
  image: z.literal("image.png"),
});
export type WeightQuineMetrics = z.infer<typeof WeightQuineMetricsSchema>;
