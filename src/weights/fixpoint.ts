// Where a weight state stands under its own self-application W ← f(W): the one vocabulary that
// describes every run's end state (after Gabor, Illium et al., Artificial Life 2022).
//
//   divergent             an iterate f^j(W), j ≤ maxOrder, is not finite or its RMS grew past
//                         divergenceGrowth × max(RMS(W), the reference RMS)
//   zero fixpoint         RMS(W) ≤ zeroScale × the reference RMS (the run's initial weights); every
//                         network here maps 0 to 0 (or next to it), the trivial quine
//   constant fixpoint     a fixpoint (as below) whose weights are all equal, std(W) ≤ zeroScale × RMS(W), or
//                         nearly so and reproduced no better than by a constant: the spread error
//                         ‖f(W) − W‖ ÷ std(W) is at least constantSpread (a constant prediction scores ≥ 1).
//                         Not in Gabor et al.'s list, but the recurrent net has a whole line of them
//                         (layer norm sends equal units to 0, leaving the output bias), as trivial as 0
//   non-trivial fixpoint  ‖f(W) − W‖ ≤ tolerance × ‖W‖ (relative error, RMSE ÷ RMS, within tolerance)
//   fixpoint of order k   the smallest k in 2..maxOrder with ‖f^k(W) − W‖ ≤ tolerance × ‖W‖
//   other                 none of these within maxOrder applications
//
// The tolerance is on the relative error, so it does not depend on the weights' scale. 1e-2 is the
// precision of the originals' best results (about 1% relative error): tighter would call them all
// "other"; the float32 fixed points found here are at 1e-7 to 1e-8, far inside it.
export const FIXPOINT_SETTINGS = {
  /** Relative error ‖f^k(W) − W‖ / ‖W‖ within which W counts as a fixpoint (of order k). */
  tolerance: 1e-2,
  /** Largest order k tried, which is also how many times f is applied. */
  maxOrder: 8,
  /** Zero fixpoint: RMS(W) at most this fraction of the reference RMS; constant fixpoint: std(W) at most this fraction of RMS(W). */
  zeroScale: 1e-3,
  /** Constant fixpoint too: a fixpoint whose error is at least this fraction of the weights' standard deviation (its weights then vary by at most tolerance ÷ constantSpread of their RMS). */
  constantSpread: 0.5,
  /** Divergent: an iterate's RMS beyond this many times max(RMS(W), reference RMS). */
  divergenceGrowth: 100,
};
export type FixpointSettings = typeof FIXPOINT_SETTINGS;

export const END_STATES = ["divergent", "zero fixpoint", "constant fixpoint", "non-trivial fixpoint", "fixpoint of order k", "other"] as const;
export type EndState = (typeof END_STATES)[number];

/** A map from weights to weights: a network's self-application, in float64. */
export type SelfMap = (weights: Float64Array) => ArrayLike<number>;

export interface Classification {
  state: EndState;
  /** k for "fixpoint of order k" (1 for a non-trivial or constant fixpoint), else null. */
  order: number | null;
  /** ‖f(W) − W‖ / ‖W‖ (null when W is all zeros or not finite). */
  relativeError: number | null;
  /** One sentence saying why. */
  reason: string;
}

/** Classifies the state W under f, applying f at most settings.maxOrder times; referenceRms is the scale W started at. */
export function classifyState(f: SelfMap, weights: ArrayLike<number>, referenceRms: number, settings: FixpointSettings = FIXPOINT_SETTINGS): Classification {
  const { tolerance, maxOrder, zeroScale, constantSpread, divergenceGrowth } = settings;
  const w = Float64Array.from(weights);
  const scale = rms(w);
  const fmt = (x: number) => x.toExponential(2);
  if (!Number.isFinite(scale)) return { state: "divergent", order: null, relativeError: null, reason: "the weights are not finite." };
  if (scale <= zeroScale * referenceRms) {
    return { state: "zero fixpoint", order: null, relativeError: scale > 0 ? rms(diff(f(w), w)) / scale : null, reason: `the weights' RMS ${fmt(scale)} is at most ${zeroScale} × the initial ${fmt(referenceRms)}.` };
  }
  const limit = divergenceGrowth * Math.max(scale, referenceRms);
  let iterate: Float64Array = w;
  let relativeError: number | null = null;
  for (let k = 1; k <= maxOrder; k++) {
    iterate = Float64Array.from(f(iterate));
    const size = rms(iterate);
    if (!(size <= limit)) {
      return { state: "divergent", order: null, relativeError, reason: `f applied ${k} time${k > 1 ? "s" : ""} gives weights of RMS ${fmt(size)}, past ${divergenceGrowth} × ${fmt(Math.max(scale, referenceRms))}.` };
    }
    const error = rms(diff(iterate, w)) / scale;
    if (k === 1) relativeError = error;
    if (error <= tolerance) {
      const spread = std(w);
      if (k === 1 && spread <= zeroScale * scale) {
        return { state: "constant fixpoint", order: 1, relativeError, reason: `relative error ${fmt(error)} ≤ ${tolerance}, but the weights are all about ${fmt(w[0])}: standard deviation ${fmt(spread)}, at most ${zeroScale} × their RMS.` };
      }
      if (k === 1 && error * scale >= constantSpread * spread) {
        return { state: "constant fixpoint", order: 1, relativeError, reason: `relative error ${fmt(error)} ≤ ${tolerance}, but the weights are nearly constant (standard deviation ${fmt(spread)}, ${fmt(spread / scale)} × their RMS) and their error is ${fmt((error * scale) / spread)} × that: no better than a constant.` };
      }
      return k === 1
        ? { state: "non-trivial fixpoint", order: 1, relativeError, reason: `relative error ${fmt(error)} ≤ ${tolerance} on weights of RMS ${fmt(scale)}.` }
        : { state: "fixpoint of order k", order: k, relativeError, reason: `f applied ${k} times returns the weights to relative error ${fmt(error)} ≤ ${tolerance} (once: ${fmt(relativeError ?? NaN)}).` };
    }
  }
  return { state: "other", order: null, relativeError, reason: `relative error ${fmt(relativeError ?? NaN)} > ${tolerance}, and no f^k with k ≤ ${maxOrder} returns the weights within it.` };
}

/** An end state as one phrase: "fixpoint of order 2" rather than "fixpoint of order k". */
export function describeState(state: EndState, order: number | null): string {
  return state === "fixpoint of order k" ? `fixpoint of order ${order}` : state;
}

function diff(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/** Standard deviation (biased, as the weights are the whole population). */
export function std(a: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < a.length; i++) mean += a[i] / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2 / a.length;
  return Math.sqrt(v);
}

export function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / a.length);
}
