// One training pass as a record: what a trainer reports with rt.progress, what the sandbox forwards to
// its parent, what a generation's metrics.json keeps as its history. Defined once, here; the quine's
// own `Epoch` (src/quine/train.ts, whose text cannot carry a schema library) is checked against it
// at compile time in src/memorize.ts. The runtime imports only the type: zod costs a program ~0.1-0.3 s to load.
import { z } from "zod";

export const EpochSchema = z.object({
  epoch: z.number().int().positive(),
  loss: z.number(),
  exact: z.number().int().nonnegative(), // positions whose right symbol leads by the margin
  minMargin: z.number(),
  seconds: z.number().nonnegative(),
});
export type Epoch = z.infer<typeof EpochSchema>;

/**
 * The numbers a program publishes about its training, as what they mean (zod's numbers are finite):
 * one schema for the sandbox's message, a generation's metrics, a program's run in a population and
 * a queue's result, so that what one accepts the others can read back.
 */
export const TrainingCountsSchema = z.object({
  epochs: z.number().int().nonnegative(),
  seed: z.number().int(),
});

/** training.json, which the runtime's publish writes beside the model in NQ_MODEL_DIR (npm run bench reads it). */
export const TrainingRecordSchema = z.object({
  ...TrainingCountsSchema.shape,
  exact: z.boolean(),
  backend: z.string(),
  history: z.array(EpochSchema),
});
