// The shape every weight-quine network has, shared by the networks (./variants.ts, ./recurrent.ts)
// and the trainer (./train.ts), so that none of them imports another for it.

/** What the trainer needs from a network that predicts its own parameters. */
export interface QuineNet {
  /** The architecture in one line, with tensor shapes. */
  readonly summary: string;
  /** Every trainable parameter, flattened; both the weights and the targets. Updated in place by the trainer. */
  readonly params: Float32Array | Float64Array;
  /** Rows × columns for drawing the parameters as an image. */
  readonly layout: [number, number];
  /** Arithmetic used in training: "float32" (tfjs) or "float64" (hand-written). */
  readonly precision: "float32" | "float64";
  /** The network's prediction of each of its parameters, in the training arithmetic. */
  predict(): ArrayLike<number>;
  /** Self-replication loss mean((prediction − params)²) and its gradient with respect to params (through both sides). */
  lossAndGrad(): { loss: number; grad: ArrayLike<number> };
  /** The prediction recomputed in float64 from the same stored numbers, for reporting; extra holds variant-specific numbers. */
  evaluate(): { predicted: Float64Array; extra: Record<string, number> };
  /** The self-application f(θ) in float64 for any weights θ: the map whose fixed points are quines (refinement, end states, robustness). */
  predict64(theta: ArrayLike<number>): Float64Array;
  /** The fixpoints that every weights of this network's kind has and that are no quine worth the name: 0, or every constant vector (recurrent: layer norm sends equal units to 0, leaving the output bias). */
  readonly trivial: "zero" | "constants";
  dispose(): void;
}

/** SELU constants (Klambauer et al. 2017), as tf.selu uses them; vanilla and auxiliary share them. */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;
/** SELU in float64, for the networks' float64 predictions. */
export const selu64 = (x: number): number => (x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * (Math.exp(x) - 1));
