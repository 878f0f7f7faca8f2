// The error threshold: the same population run at several copying-error rates (--mutation-rate M
// or --temperature T), each into its own store, and its fate after G generations: extinct,
// shrinking (fewer than K kept) or holding (K kept). Options as `neural-quine evolve`, plus
// --knob mutation-rate|temperature and --values a,b,c. Finished stores are resumed, not rerun, so
// running it again with --plot only draws: survival and fate per value (FILE.png) and the population
// kept per generation, one line per value (FILE-generations.png).
//   npm run evolve-sweep -- --from evolution/stand-in.js --values 0,0.002,0.005,0.01,0.02 --plot docs/images/evolve-sweep.png
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { evolve } from "../src/evolution/evolve";
import { evolveSettings } from "../src/evolution/settings";
import { mean, type Statistics } from "../src/evolution/statistics";
import { renderLineChart } from "../src/plot/chart";
import { errorMessage } from "../src/format";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: "string" }, knob: { type: "string", default: "mutation-rate" }, values: { type: "string", default: "0,0.001,0.002,0.005,0.01,0.02" },
      population: { type: "string" }, generations: { type: "string" }, children: { type: "string" }, temperature: { type: "string" },
      "mutation-rate": { type: "string" }, seed: { type: "string" }, workers: { type: "string" }, dir: { type: "string", default: "population-sweep" },
      plot: { type: "string" },
    },
  });
  const number = (name: keyof typeof values, fallback: number): number => {
    const value = values[name] === undefined ? fallback : Number(values[name]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} expects a non-negative number, not "${String(values[name])}".`);
    return value;
  };
  if (values.knob !== "mutation-rate" && values.knob !== "temperature") throw new Error(`--knob is mutation-rate or temperature, not "${values.knob}".`);
  const base = {
    ...evolveSettings, from: values.from ?? evolveSettings.from,
    population: number("population", evolveSettings.population), generations: number("generations", evolveSettings.generations),
    children: number("children", evolveSettings.children), temperature: number("temperature", evolveSettings.temperature),
    mutationRate: number("mutation-rate", evolveSettings.mutationRate), seed: number("seed", evolveSettings.seed), workers: number("workers", evolveSettings.workers),
  };
  const rows: string[] = [`${values.knob}  survival (mean)  kept at the end  genotypes  d(ancestor) mean  fate`];
  const results: { value: number; statistics: Statistics[] }[] = [];
  for (const value of (values.values ?? "").split(",").map(Number)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`--values expects non-negative numbers separated by commas, not "${values.values}".`);
    const knob = values.knob === "temperature" ? { temperature: value } : { mutationRate: value };
    const dir = join(values.dir ?? "population-sweep", `${values.knob}-${value}`);
    const started = Date.now();
    const { statistics } = await evolve({ ...base, ...knob, dir });
    results.push({ value, statistics });
    const last = statistics.at(-1);
    const kept = last?.population ?? 0;
    const fate = kept === 0 ? `extinct in generation ${last?.generation}` : kept < base.population ? "shrinking" : "holding";
    const row = `${String(value).padStart(values.knob.length)}  ${mean(statistics.slice(1).map((s) => s.survivalRate)).toFixed(2).padStart(15)}  ` +
      `${String(kept).padStart(15)}  ${String(last?.uniqueGenotypes ?? 0).padStart(9)}  ${(last?.distanceToAncestor ? last.distanceToAncestor.mean.toFixed(1) : "-").padStart(16)}  ${fate}`;
    rows.push(row);
    process.stderr.write(`${row}   (${((Date.now() - started) / 1000).toFixed(0)} s, ${dir})\n`);
  }
  process.stdout.write(`${rows.join("\n")}\n`);
  if (values.plot) plot(values.plot, values.knob, results, base.population, base.children, [...readFileSync(base.from, "utf8")].length);
}

/** The sweep as two PNG charts: survival and fate per value, and the population kept per generation for each value. */
function plot(path: string, knob: string, results: { value: number; statistics: Statistics[] }[], population: number, children: number, length: number): void {
  const label = knob === "temperature" ? "temperature T" : "mutation rate M (per character)";
  const series = [
    { name: "survival: alive / children (mean)", points: results.map(({ value, statistics }): [number, number] => [value, mean(statistics.slice(1).map((s) => s.survivalRate))]) },
    { name: "kept at the end / K (0: extinct)", points: results.map(({ value, statistics }): [number, number] => [value, (statistics.at(-1)?.population ?? 0) / population]) },
  ];
  // Eigen's threshold for lethal mutations: a population holds while C e^(-M L) >= 1, M <= ln C / L.
  if (knob === "mutation-rate") series.push({ name: "ln C / L", points: [[Math.log(children) / length, 0], [Math.log(children) / length, 1]] });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderLineChart({ title: `Error threshold: survival and fate after ${Math.max(...results.map((r) => r.statistics.length))} generations`, x: { label }, y: { label: "share", min: 0, max: 1 }, series }));
  writeFileSync(path.replace(/(\.png)?$/, "-generations.png"), renderLineChart({
    title: `Population kept per generation, one line per ${knob === "temperature" ? "T" : "M"}`,
    x: { label: "generation" }, y: { label: "kept", min: 0, max: population },
    series: results.map(({ value, statistics }) => ({ name: `${value}`, points: statistics.map((s): [number, number] => [s.generation, s.population]) })),
  }));
}

main().catch((error: unknown) => {
  process.stderr.write(`evolve-sweep: ${errorMessage(error)}\n`);
  process.exitCode = 1;
});
