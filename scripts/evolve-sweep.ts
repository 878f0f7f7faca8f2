// The error threshold: the same population run at several copying-error rates (--mutation-rate M
// or --temperature T), each into its own store, and its fate after G generations: extinct,
// shrinking (fewer than K kept) or holding (K kept). Options as `neural-quine evolve`, plus
// --knob mutation-rate|temperature and --values a,b,c. Finished stores are resumed, not rerun.
//   npm run evolve-sweep -- --from evolution/stand-in.js --values 0,0.002,0.005,0.01,0.02
import { join } from "node:path";
import { parseArgs } from "node:util";
import { evolve } from "../src/evolution/evolve";
import { evolveSettings } from "../src/evolution/settings";
import { mean } from "../src/evolution/statistics";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: "string" }, knob: { type: "string", default: "mutation-rate" }, values: { type: "string", default: "0,0.001,0.002,0.005,0.01,0.02" },
      population: { type: "string" }, generations: { type: "string" }, children: { type: "string" }, temperature: { type: "string" },
      "mutation-rate": { type: "string" }, seed: { type: "string" }, workers: { type: "string" }, dir: { type: "string", default: "population-sweep" },
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
  for (const value of (values.values ?? "").split(",").map(Number)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`--values expects non-negative numbers separated by commas, not "${values.values}".`);
    const knob = values.knob === "temperature" ? { temperature: value } : { mutationRate: value };
    const dir = join(values.dir ?? "population-sweep", `${values.knob}-${value}`);
    const started = Date.now();
    const { statistics } = await evolve({ ...base, ...knob, dir });
    const last = statistics.at(-1);
    const kept = last?.population ?? 0;
    const fate = kept === 0 ? `extinct in generation ${last?.generation}` : kept < base.population ? "shrinking" : "holding";
    const row = `${String(value).padStart(values.knob.length)}  ${mean(statistics.slice(1).map((s) => s.survivalRate)).toFixed(2).padStart(15)}  ` +
      `${String(kept).padStart(15)}  ${String(last?.uniqueGenotypes ?? 0).padStart(9)}  ${(last?.distanceToAncestor ? last.distanceToAncestor.mean.toFixed(1) : "-").padStart(16)}  ${fate}`;
    rows.push(row);
    process.stderr.write(`${row}   (${((Date.now() - started) / 1000).toFixed(0)} s, ${dir})\n`);
  }
  process.stdout.write(`${rows.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`evolve-sweep: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
