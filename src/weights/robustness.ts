// How a quine survives noise (after Gabor, Illium et al., Artificial Life 2022): perturb its weights
// W* by ε (relative: each weight gets ε × RMS(W*) × a standard normal draw), regenerate repeatedly
// (W ← f(W), in float64), and record how long the iterate stays a fixpoint and where it ends.
//
//   steps as fixpoint  regenerations, from the start, during which ‖f(W) − W‖ ≤ tolerance × ‖W‖
//                      (the classifier's tolerance, ./fixpoint.ts); all of them when it never leaves
//   steps near quine   how many of the regenerations end within tolerance × ‖W*‖ of W* (a perturbation
//                      that decays back counts its steps after the return)
//   end state          the classifier's verdict on the last iterate (or "divergent" once an iterate
//                      is not finite or its RMS passes divergenceGrowth × RMS(W*), where it stops)
import { z } from "zod";
import { FIXPOINT_SETTINGS, END_STATES, classifyState, describeState, rms, type SelfMap } from "./fixpoint";
import { Random } from "./random";
import { renderLineChart } from "../plot/chart";

export const ROBUSTNESS_SETTINGS = {
  /** Relative perturbations ε. */
  epsilons: [1e-8, 1e-6, 1e-4, 1e-2, 1e-1],
  /** Noise draws per ε (seeded: seed, seed + 1, …). */
  trials: 5,
  /** Regenerations after each perturbation. */
  steps: 200,
  /** Seed of the first noise draw. */
  seed: 1,
};

const TrialSchema = z.object({
  stepsAsFixpoint: z.number().int().nonnegative(),
  stepsNearQuine: z.number().int().nonnegative(),
  /** ‖W_t − W*‖ / ‖W*‖ after each regeneration t = 0 (the perturbed weights), 1, …; shorter when it diverged. */
  distance: z.array(z.number()),
  endState: z.enum(END_STATES),
  order: z.number().int().positive().nullable(),
  finalDistance: z.number(),
});
export const RobustnessSchema = z.object({
  settings: z.object({ epsilons: z.array(z.number().positive()), trials: z.number().int().positive(), steps: z.number().int().positive(), seed: z.number().int(), tolerance: z.number() }),
  /** The unperturbed quine's own end state and relative error. */
  quine: z.object({ endState: z.enum(END_STATES), order: z.number().int().positive().nullable(), relativeError: z.number().nullable() }),
  runs: z.array(z.object({ epsilon: z.number(), trials: z.array(TrialSchema) })),
});
export type Robustness = z.infer<typeof RobustnessSchema>;
type Trial = z.infer<typeof TrialSchema>;

/** Perturbs the quine W* = `quine` under f by each ε, `trials` times, and regenerates `steps` times. */
export function measureRobustness(f: SelfMap, quine: ArrayLike<number>, settings = ROBUSTNESS_SETTINGS): Robustness {
  const { epsilons, trials, steps, seed } = settings;
  const { tolerance } = FIXPOINT_SETTINGS;
  const center = Float64Array.from(quine);
  const scale = rms(center);
  const own = classifyState(f, center, scale);
  const runs = epsilons.map((epsilon) => ({
    epsilon,
    trials: Array.from({ length: trials }, (_, k): Trial => {
      const rng = new Random(seed + k);
      const start = center.map((w) => w + epsilon * scale * rng.normal());
      return regenerate(f, center, start, steps, tolerance);
    }),
  }));
  return { settings: { epsilons, trials, steps, seed, tolerance }, quine: { endState: own.state, order: own.order, relativeError: own.relativeError }, runs };
}

function regenerate(f: SelfMap, center: Float64Array, start: Float64Array, steps: number, tolerance: number): Trial {
  const scale = rms(center);
  const limit = FIXPOINT_SETTINGS.divergenceGrowth * scale;
  const distanceOf = (w: ArrayLike<number>) => rmsDiff(w, center) / scale;
  let w = start;
  const distance = [distanceOf(w)];
  let stepsAsFixpoint = 0, stepsNearQuine = 0, leftFixpoint = false;
  for (let t = 0; t < steps; t++) {
    const next = Float64Array.from(f(w));
    const size = rms(next);
    if (!leftFixpoint && rmsDiff(next, w) <= tolerance * rms(w)) stepsAsFixpoint++;
    else leftFixpoint = true;
    w = next;
    distance.push(distanceOf(w));
    if (distance[distance.length - 1] <= tolerance) stepsNearQuine++;
    if (!(size <= limit)) return { stepsAsFixpoint, stepsNearQuine, distance, endState: "divergent", order: null, finalDistance: distance[distance.length - 1] };
  }
  const end = classifyState(f, w, scale);
  return { stepsAsFixpoint, stepsNearQuine, distance, endState: end.state, order: end.order, finalDistance: distance[distance.length - 1] };
}

function rmsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

/** The record as a markdown table: one row per ε, the trials' steps and end states summarised. */
export function robustnessTable(record: Robustness): string {
  const { steps, tolerance } = record.settings;
  const rows = record.runs.map(({ epsilon, trials }) => {
    const fix = trials.map((t) => t.stepsAsFixpoint);
    const near = trials.map((t) => t.stepsNearQuine);
    const ends = new Map<string, number>();
    for (const t of trials) {
      const name = describeState(t.endState, t.order);
      ends.set(name, (ends.get(name) ?? 0) + 1);
    }
    const endText = [...ends].map(([name, n]) => `${n}× ${name}`).join(", ");
    const finals = trials.map((t) => t.finalDistance);
    return `| ${epsilon.toExponential(0)} | ${span(fix, steps)} | ${span(near, steps)} | ${endText} | ${span(finals.map((d) => Number(d.toPrecision(2))), NaN)} |`;
  });
  return [
    `| ε | steps as fixpoint, from the start (of ${steps}) | steps ending within ${tolerance} of the quine | end state (of ${record.settings.trials} trials) | final distance from the quine |`,
    "|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** min–max of a few numbers, "all" when every one is `all`. */
function span(values: number[], all: number): string {
  const lo = Math.min(...values), hi = Math.max(...values);
  if (lo === all && hi === all) return `all ${all}`;
  const text = (x: number) => (Number.isInteger(x) ? String(x) : x.toExponential(1));
  return lo === hi ? text(lo) : `${text(lo)}–${text(hi)}`;
}

/** The distance from the quine after each regeneration, the median over the trials, one line per ε (PNG bytes). */
export function robustnessChart(record: Robustness, title: string): Buffer {
  const series = record.runs.map(({ epsilon, trials }) => {
    const longest = Math.max(...trials.map((t) => t.distance.length));
    const points: [number, number][] = [];
    for (let step = 0; step < longest; step++) {
      const values = trials.filter((t) => step < t.distance.length).map((t) => t.distance[step]).sort((a, b) => a - b);
      points.push([step, values[Math.floor(values.length / 2)]]);
    }
    return { name: `eps ${epsilon.toExponential(0)}`, points };
  });
  return renderLineChart({ title, x: { label: "regenerations (W replaced by f(W))" }, y: { label: "distance from the quine (relative)", log: true }, series });
}
