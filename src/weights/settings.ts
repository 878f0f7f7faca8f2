// A weight-quine run's settings, defined once: this schema gives their type, their check, the
// `weights` command's options and help (src/options.ts) and the settings recorded in metrics.json.
// Defaults depend on the variant (VARIANT_DEFAULTS in ./variants.ts), apart from COMMON_DEFAULTS.
import { z } from "zod";
import { OPTIMIZERS } from "./optim";

export const VARIANTS = ["coords", "coords-bn", "coords-in", "onehot", "recurrent", "recurrent-position", "vanilla", "auxiliary"] as const;
export type VariantName = (typeof VARIANTS)[number];
export const CELLS = ["lstm", "gru"] as const;
export type Cell = (typeof CELLS)[number];
/** What a recurrent net is told of the index it is writing, beside its previous output (./recurrent.ts). */
export const POSITIONS = ["none", "coords", "sinusoids"] as const;
export type Position = (typeof POSITIONS)[number];
export const OBJECTIVES = ["mse", "relative", "spread"] as const;
export type Objective = (typeof OBJECTIVES)[number];

export const WeightSettingsSchema = z.object({
  variant: z.enum(VARIANTS).describe("the network"),
  size: z.number().int().positive().describe("N of the N×N trainable layer; hidden units (recurrent) or width (vanilla); default per variant"),
  epochs: z.number().int().nonnegative().describe("training steps (default per variant: the original's); 0 = none, straight to the solvers"),
  optimizer: z.enum(OPTIMIZERS).describe("the optimizer (default per variant)"),
  lr: z.number().positive().describe("learning rate (default per variant, or the optimizer's PyTorch default)"),
  regenerate: z.number().int().nonnegative().describe("every K-th step replaces the weights by their own predictions; 0 = never (default per variant)"),
  anderson: z.number().int().nonnegative().describe("Anderson acceleration of regeneration over the last M steps; 0 = plain (default per variant)"),
  tries: z.number().int().positive().describe("networks to try (seeds seed, seed+1, …) until one reaches the target (default per variant)"),
  target: z.number().nonnegative().describe("relative error (RMSE / RMS of the weights; for the recurrent variants the spread error, RMSE / std) that ends the search over networks (default per variant)"),
  patience: z.number().int().nonnegative().describe("stop a run once its relative error has not improved by 1% in N steps; 0 = never (default per variant)"),
  refine: z.number().int().nonnegative().describe("float64 fixed-point refinement steps at the end (default per variant)"),
  newton: z.number().int().nonnegative().describe("then up to N Newton–Krylov steps on f(W) − W, deflated away from the trivial fixpoints (default per variant)"),
  levenberg: z.number().int().nonnegative().describe("then up to N Levenberg–Marquardt steps on f(W) − W with the whole Jacobian, deflated away from the trivial fixpoints; for networks of a few hundred parameters (default per variant)"),
  objective: z.enum(OBJECTIVES).describe("mse, relative (mse / mean(weights²)) or spread (mse / variance of the weights) for optimizer steps (default per variant)"),
  accumulateGradients: z.boolean().describe("never zero the gradients, as the original onehot script (each step uses their running sum)"),
  cell: z.enum(CELLS).describe("recurrent only: the cell"),
  position: z.enum(POSITIONS).describe("recurrent only: the code of the index being written, fed beside the previous output (default per variant)"),
  tradeoff: z.number().nonnegative().describe("auxiliary only: λ in the loss cross-entropy + λ·ρ (ρ = relative error²); 0 = the pure classifier"),
  seed: z.number().int().nonnegative().describe("random seed"),
  robustness: z.boolean().describe("then perturb the quine by several ε, regenerate repeatedly, and write robustness.json and robustness.png (docs/weights.md, \"Robustness\")"),
});
export type WeightSettings = z.infer<typeof WeightSettingsSchema>;

/** The defaults that do not depend on the variant. */
export const COMMON_DEFAULTS = { accumulateGradients: false, cell: "lstm", tradeoff: 1, seed: 1337, robustness: false } as const satisfies Partial<WeightSettings>;
