// Reruns the weight-quine configurations of docs/weights.md and rewrites that file (the table, the
// auxiliary quine's trade-off, the robustness table, the recurrent quine's table) and
// docs/images/weights-*.png. Run: npm run weights-table (28 minutes on 2 cores shared with other
// jobs, load average above 30; less on a quiet machine); `npm run weights-table -- recurrent`
// reruns only the recurrent quine's section.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runWeightQuine, type WeightQuineMetrics, type WeightQuineOptions } from "../src/weights";
import { describeState } from "../src/weights/fixpoint";
import { robustnessTable, type Robustness } from "../src/weights/robustness";
import { errorMessage } from "../src/format";
import { renderLineChart } from "../src/plot/chart";
import { writeReadmeSection } from "./readme-section";
import { readArguments } from "./arguments";

const DOC = "docs/weights.md";
const IMAGES = "docs/images";

/** The original onehot script's settings: RMSprop, the plain loss, one network, all 10,000 steps. */
const ONEHOT_ORIGINAL = { optimizer: "rmsprop", lr: 1e-2, objective: "mse", tries: 1, patience: 0 } as const;
/** name (for the image file), what it is, and the options. */
const RUNS: { name: string; note: string; options: WeightQuineOptions }[] = [
  { name: "coords-16", note: "regeneration every step (original)", options: { variant: "coords", size: 16, epochs: 1000, regenerate: 1 } },
  { name: "coords-bn-16", note: "defaults: Anderson-accelerated regeneration, float64 refinement, tries", options: { variant: "coords-bn", size: 16 } },
  { name: "coords-bn-16-original", note: "the original's settings as written: regenerate on alternate steps, RMSprop between", options: { variant: "coords-bn", size: 16, epochs: 20000, regenerate: 2, anderson: 0, tries: 1, refine: 0 } },
  { name: "coords-bn-64", note: "defaults", options: { variant: "coords-bn", size: 64 } },
  { name: "coords-in-16", note: "defaults", options: { variant: "coords-in", size: 16 } },
  { name: "onehot-64", note: "defaults: relative loss, Adam, networks tried until relative error ≤ 1e-2", options: { variant: "onehot", size: 64 } },
  { name: "onehot-64-original", note: "the original's settings with correct gradients", options: { variant: "onehot", size: 64, ...ONEHOT_ORIGINAL } },
  { name: "onehot-64-accumulate", note: "the original's gradient accumulation", options: { variant: "onehot", size: 64, ...ONEHOT_ORIGINAL, accumulateGradients: true } },
  { name: "recurrent-16", note: "2-layer LSTM, Adam 1e-2, teacher forcing; RMSE of the free run", options: { variant: "recurrent", size: 16, epochs: 300 } },
  { name: "recurrent-16-anderson", note: "Anderson-accelerated teacher-forced regeneration: a constant fixpoint", options: { variant: "recurrent", size: 16, epochs: 300, regenerate: 1, anderson: 10 } },
  { name: "recurrent-8-spread", note: "2-layer LSTM, Adam on the spread loss (teacher forcing)", options: { variant: "recurrent", size: 8, epochs: 2500, lr: 3e-3, objective: "spread" } },
  { name: "recurrent-4-gru-spread", note: "2-layer GRU, Adam on the spread loss, then deflated Newton–Krylov on the free run", options: { variant: "recurrent", size: 4, cell: "gru", epochs: 4000, lr: 1e-2, objective: "spread", newton: 10 } },
  { name: "vanilla-100", note: "Chang & Lipson, defaults", options: { variant: "vanilla", size: 100 } },
  { name: "vanilla-30-newton", note: "Chang & Lipson at h=30, defaults then deflated Newton–Krylov", options: { variant: "vanilla", size: 30, newton: 80 } },
];
/** The recurrent quine told the index it writes (docs/weights.md, "A recurrent quine that is not a constant"): the defaults, then each method alone on the same networks, and without the position input. */
const RECURRENT_RUNS: { name: string; note: string; options: WeightQuineOptions }[] = [
  { name: "recurrent-position-4", note: "defaults: deflated Levenberg–Marquardt on the free run, networks tried until spread error ≤ 1e-2", options: { variant: "recurrent-position", robustness: true } },
  { name: "recurrent-position-4-none", note: "the same without the position input", options: { variant: "recurrent-position", position: "none" } },
  { name: "recurrent-position-4-sinusoids", note: "sinusoids of the index instead of coordinates", options: { variant: "recurrent-position", position: "sinusoids" } },
  { name: "recurrent-position-4-newton", note: "deflated Newton–Krylov instead of Levenberg–Marquardt", options: { variant: "recurrent-position", levenberg: 0, newton: 30 } },
  { name: "recurrent-position-4-anderson", note: "Anderson-accelerated teacher-forced regeneration instead", options: { variant: "recurrent-position", levenberg: 0, epochs: 2000, regenerate: 1, anderson: 10, objective: "spread" } },
  { name: "recurrent-position-4-regenerate", note: "plain teacher-forced regeneration instead", options: { variant: "recurrent-position", levenberg: 0, epochs: 2000, regenerate: 1, objective: "spread" } },
  { name: "recurrent-position-4-adam", note: "Adam on the teacher-forced spread loss instead", options: { variant: "recurrent-position", levenberg: 0, epochs: 2000, objective: "spread" } },
  { name: "recurrent-position-3", note: "defaults at h = 3", options: { variant: "recurrent-position", size: 3 } },
];
/** The auxiliary quine's trade-off weights λ (0: the pure classifier, trained the same way). */
const TRADEOFFS = [0, 0.1, 1, 10, 100];
/** Quines whose robustness is measured (--robustness), by name, with what they are. */
const ROBUSTNESS_RUNS: { name: string; note: string; options: WeightQuineOptions }[] = [
  { name: "coords-bn-16", note: "coords-bn 16×16, defaults", options: { variant: "coords-bn", size: 16 } },
  { name: "coords-in-16", note: "coords-in 16×16, defaults", options: { variant: "coords-in", size: 16 } },
];
/** Seeds for the sweep showing how many tries the coords-bn defaults need at 16×16. */
const SWEEP_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

const e = (x: number | null) => (x === null ? "— (0/0)" : x === 0 ? "0" : x.toExponential(2));
const percent = (x: number) => `${(100 * x).toFixed(2)}%`;
const state = (m: WeightQuineMetrics) => describeState(m.verdict, m.order);
const range = ([lo, hi]: [number, number]) => `[${lo.toPrecision(3)}, ${hi.toPrecision(3)}]`;
const recurrent = (m: WeightQuineMetrics) => m.settings.variant === "recurrent" || m.settings.variant === "recurrent-position";
const sizeOf = (m: WeightQuineMetrics) => (recurrent(m) || m.settings.variant === "vanilla" ? `h=${m.settings.size} (${m.parameters} params)` : `${m.settings.size}×${m.settings.size}`);
const TABLE_HEAD = [
  "| variant | size | steps | settings | RMSE | RMSE, float32 prediction | relative error | ρ | spread error | std ÷ RMS | SSE | weight range | end state | time | |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
];

async function main(): Promise<void> {
  if (!readArguments(__filename, process.argv.slice(2), [])) return;
  const started = performance.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nq-weights-table-"));
  fs.mkdirSync(IMAGES, { recursive: true });
  if (process.argv[2] === "recurrent") {
    writeReadmeSection("weights-recurrent", await recurrentSection(tmp), DOC);
    process.stderr.write(`\nwrote the recurrent section of ${DOC} in ${((performance.now() - started) / 60000).toFixed(1)} min (load average now ${load()})\n`);
    return;
  }
  const rows: string[] = [];
  for (const run of RUNS) rows.push(tableRow(run.name, (await runTo(tmp, run)).metrics));
  process.stderr.write(`\n== seed sweep: coords-bn 16×16, defaults\n`);
  const sweep: string[] = [];
  let met = 0;
  for (const seed of SWEEP_SEEDS) {
    const { metrics: m } = await runWeightQuine({ variant: "coords-bn", size: 16, seed, out: path.join(tmp, `sweep-${seed}`) });
    if (m.rmse <= 1.3e-4 && m.verdict === "non-trivial fixpoint") met++;
    sweep.push(`${seed}: ${e(m.rmse)} (try ${m.triesRun})`);
  }
  const table = [...TABLE_HEAD, ...rows].join("\n");
  const generated = [
    `Measured by \`npm run weights-table\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus().length} cores, Node ${process.version}, load average ${load()}; times are wall-clock, so they depend on what else the machine was running). ${COLUMNS}`,
    "",
    table,
    "",
    `Seed sweep, coords-bn 16×16 with the defaults: ${met} of ${SWEEP_SEEDS.length} seeds give a non-trivial fixpoint with RMSE ≤ 1.3e-4 — RMSE (and the try that found it) per seed: ${sweep.join(", ")}.`,
  ].join("\n");
  writeReadmeSection("weights-table", generated, DOC);
  writeReadmeSection("weights-auxiliary", await auxiliarySection(tmp), DOC);
  writeReadmeSection("weights-robustness", await robustnessSection(tmp), DOC);
  writeReadmeSection("weights-recurrent", await recurrentSection(tmp), DOC);
  process.stderr.write(`\nwrote ${DOC} and the images in ${IMAGES}/ in ${((performance.now() - started) / 60000).toFixed(1)} min (load average now ${load()})\n`);
}

const COLUMNS = "RMSE is computed in float64 from the stored float32 weights, the next column with the prediction in the training arithmetic (float32 on tfjs, float64 for recurrent); relative error = RMSE ÷ RMS of the weights, ρ = its square = L_SR / Σθ²; spread error = RMSE ÷ standard deviation of the weights (1 for predicting their mean); SSE = sum of squared errors (Chang & Lipson's self-replication loss) = RMSE² × parameters; end state: docs/weights.md, \"End states\"; time is the whole run (build, train, evaluate, draw).";

/** Runs one configuration into tmp, logging to stderr, and copies its image (and robustness chart) into docs/images. */
async function runTo(tmp: string, run: { name: string; note: string; options: WeightQuineOptions }): Promise<{ metrics: WeightQuineMetrics; robustness?: Robustness }> {
  process.stderr.write(`\n== ${run.name}: ${run.note}\n`);
  const { metrics, dir, robustness } = await runWeightQuine({ ...run.options, out: path.join(tmp, run.name), log: (line) => process.stderr.write(`${line}\n`) });
  fs.copyFileSync(path.join(dir, "image.png"), path.join(IMAGES, `weights-${run.name}.png`));
  if (robustness) fs.copyFileSync(path.join(dir, "robustness.png"), path.join(IMAGES, `weights-robustness-${run.name}.png`));
  return { metrics, robustness };
}

/** One row of the results table. */
function tableRow(name: string, m: WeightQuineMetrics): string {
  const settings = [
    ...(m.settings.epochs === 0 ? ["no training, solver only"] : [
      `${m.settings.optimizer} ${m.settings.lr}${m.settings.objective === "mse" ? "" : ` (${m.settings.objective} loss)`}`,
      `regenerate ${m.settings.regenerate === 0 ? "never" : m.settings.regenerate === 1 ? "every step" : `every ${m.settings.regenerate}`}`,
    ]),
    ...(m.settings.anderson > 0 ? [`Anderson ${m.settings.anderson}`] : []),
    ...(m.settings.refine > 0 ? [`refine ${m.settings.refine}${m.refined ? ` (${m.refineSteps} used)` : " (not used)"}`] : []),
    ...((m.settings.levenberg ?? 0) > 0 ? [`Levenberg–Marquardt ${m.settings.levenberg}${m.levenbergKept ? ` (${m.levenbergSteps} used)` : " (not used)"}`] : []),
    ...(m.settings.newton > 0 ? [`Newton–Krylov ${m.settings.newton}${m.newtonKept ? ` (${m.newtonSteps} used)` : " (not used)"}`] : []),
    ...(m.settings.patience > 0 ? [`patience ${m.settings.patience}`] : []),
    ...(m.settings.tries > 1 ? [`try ${m.triesRun} of ${m.settings.tries} (network seed ${m.networkSeed})`] : []),
    ...(m.settings.accumulateGradients ? ["**gradients accumulated** (the original's bug)"] : []),
    ...(recurrent(m) ? [`${(m.settings.cell ?? "lstm").toUpperCase()}${(m.settings.position ?? "none") === "none" ? "" : `, position ${m.settings.position}`}; teacher-forced spread error ${e(m.extra.teacherForcedRmse / m.weightStd)}`] : []),
  ].join(", ");
  return `| ${m.settings.variant} | ${sizeOf(m)} | ${m.stepsRun} | ${settings} | ${e(m.rmse)} | ${e(m.rmseTrainingPrecision)} | ${e(m.relativeError)} | ${e(m.rho)} | ${e(m.spreadError)} | ${(m.weightStd / m.weightRms).toFixed(2)} | ${e(m.rmse ** 2 * m.parameters)} | ${range(m.weightRange)} | **${state(m)}** | ${m.wallSeconds.toFixed(1)} s | [image](images/weights-${name}.png) |`;
}

/**
 * The recurrent quine told the index it writes: a table of RECURRENT_RUNS beside the original (which
 * never ran), the tries each row took, and the robustness of the defaults' quine.
 */
async function recurrentSection(tmp: string): Promise<string> {
  const rows: string[] = [];
  const tries: string[] = [];
  let robust: { metrics: WeightQuineMetrics; robustness: Robustness } | null = null;
  for (const run of RECURRENT_RUNS) {
    const { metrics: m, robustness } = await runTo(tmp, run);
    rows.push(tableRow(run.name, m));
    tries.push(`- \`${run.name}\` (${run.note}): ${m.triesRun} ${m.triesRun === 1 ? "try" : "tries"}, kept network seed ${m.networkSeed}, ${m.wallSeconds.toFixed(1)} s`);
    if (robustness) robust = { metrics: m, robustness };
  }
  const original = "| recurrent (original PyTorch script) | h=16 | — | never ran: its forward pass references an undefined variable | — | — | — | — | — | — | — | — | — | — | |";
  return [
    `Measured by \`npm run weights-table -- recurrent\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus().length} cores, Node ${process.version}, load average ${load()}, under \`nice\`; times are wall-clock). Columns as in the table above: every row's RMSE is the free run's, the column "RMSE, float32 prediction" here the teacher-forced one (each step fed the true previous parameter).`,
    "",
    [...TABLE_HEAD, original, ...rows].join("\n"),
    "",
    ...tries,
    ...(robust ? ["", `Robustness of the defaults' quine (network seed ${robust.metrics.networkSeed}; ${state(robust.metrics)}, spread error ${e(robust.metrics.spreadError)}), ${robust.robustness.settings.trials} noise draws per ε, ${robust.robustness.settings.steps} free-run regenerations each:`, "", robustnessTable(robust.robustness), "", `![robustness of recurrent-position 4](images/weights-robustness-recurrent-position-4.png)`] : []),
    "",
    "![recurrent-position 4, defaults](images/weights-recurrent-position-4.png)",
  ].join("\n");
}

/** The 1-minute load average, what else the machine was running. */
function load(): string {
  return os.loadavg()[0].toFixed(1);
}

/** The auxiliary quine for each λ: accuracy beside relative error, a table and the trade-off curve. */
async function auxiliarySection(tmp: string): Promise<string> {
  const runs: WeightQuineMetrics[] = [];
  for (const tradeoff of TRADEOFFS) {
    process.stderr.write(`\n== auxiliary, tradeoff ${tradeoff}\n`);
    const { metrics } = await runWeightQuine({ variant: "auxiliary", tradeoff, out: path.join(tmp, `auxiliary-${tradeoff}`), log: (line) => process.stderr.write(`${line}\n`) });
    runs.push(metrics);
  }
  const first = runs[0];
  const rows = runs.map((m) =>
    `| ${m.settings.tradeoff === 0 ? "0 (pure classifier)" : m.settings.tradeoff} | ${percent(m.extra.testAccuracy)} | ${percent(m.extra.trainAccuracy)} | ${e(m.relativeError)} | ${e(m.rho)} | ${e(m.spreadError)} | ${state(m)} | ${m.wallSeconds.toFixed(1)} s |`);
  const quines = runs.filter((m) => (m.settings.tradeoff ?? 0) > 0);
  const pure = runs.find((m) => m.settings.tradeoff === 0);
  const errors = runs.map((m) => m.relativeError ?? NaN).filter(Number.isFinite);
  const png = renderLineChart({
    title: "auxiliary quine: MNIST test accuracy against self-replication",
    x: { label: "relative self-replication error (RMSE / RMS)", log: true },
    y: { label: "test accuracy" },
    series: [
      { name: "auxiliary quine, one point per lambda", points: quines.map((m) => [m.relativeError ?? NaN, m.extra.testAccuracy]) },
      ...(pure ? [{ name: "pure classifier (lambda 0)", points: [[Math.min(...errors), pure.extra.testAccuracy], [Math.max(...errors), pure.extra.testAccuracy]] as [number, number][] }] : []),
    ],
  });
  fs.writeFileSync(path.join(IMAGES, "weights-auxiliary-tradeoff.png"), png);
  return [
    `Measured by \`npm run weights-table\` (load average ${load()}): ${first.network}; ${first.settings.epochs} Adam steps (lr ${first.settings.lr}) of 100 digits, trained on ${first.extra.trainSamples} digits and tested on ${first.extra.testSamples} of the \`mnist\` package (seed ${first.settings.seed}).`,
    "",
    "| λ | test accuracy | train accuracy | relative error | ρ | spread error | end state | time |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "![auxiliary quine: test accuracy against relative self-replication error](images/weights-auxiliary-tradeoff.png)",
  ].join("\n");
}

/** The robustness of a few quines: a table each and the plot of the median distance from the quine. */
async function robustnessSection(tmp: string): Promise<string> {
  const parts: string[] = [`Measured by \`npm run weights-table\` (load average ${load()}).`];
  for (const run of ROBUSTNESS_RUNS) {
    process.stderr.write(`\n== robustness: ${run.note}\n`);
    const { metrics: m, dir, robustness } = await runWeightQuine({ ...run.options, robustness: true, out: path.join(tmp, `robustness-${run.name}`), log: (line) => process.stderr.write(`${line}\n`) });
    if (!robustness) throw new Error("no robustness record."); // unreachable: robustness: true
    fs.copyFileSync(path.join(dir, "robustness.png"), path.join(IMAGES, `weights-robustness-${run.name}.png`));
    parts.push("", `**${run.note}** (network seed ${m.networkSeed}; ${state(m)}, relative error ${e(m.relativeError)}), ${robustness.settings.trials} noise draws per ε, ${robustness.settings.steps} regenerations each, ${m.wallSeconds.toFixed(1)} s in all:`, "", robustnessTable(robustness), "", `![robustness of ${run.note}](images/weights-robustness-${run.name}.png)`);
  }
  return parts.join("\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`weights-table: ${errorMessage(error)}\n`);
  process.exitCode = 1;
});
