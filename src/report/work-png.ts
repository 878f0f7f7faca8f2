// The work curve as a PNG (`neural-quine population --png FILE`): per generation, the kept programs'
// training work as the sandbox counted it (multiply-adds through the kernel; min, mean, max), the
// quantity selection ranks after exact copying. Does it fall, and in which steps?
import { readPopulation, readRunRecord, type Generation } from "../evolution/population-store";
import { renderLineChart, type Series } from "../plot/chart";

/** The kept programs' counted work per generation of the population store in `dir`, as a PNG; one sentence if none was counted. */
export function populationWorkPng(dir: string): Buffer {
  const statistics = readPopulation(dir).filter((g): g is Generation => typeof g !== "string").map((g) => g.statistics);
  const counted = statistics.filter((s) => s.work !== null);
  if (counted.length === 0) throw new Error(`No generation in ${dir} has counted work to plot (stores from before the kernel counted it have none).`);
  const record = readRunRecord(dir);
  const operators = Object.entries(record?.operators ?? {}).filter(([, rate]) => rate > 0).map(([name, rate]) => ` ${name}=${rate}`).join("");
  const settings = record ? `, K=${record.population} C=${record.children} T=${record.temperature} M=${record.mutationRate}${operators}` : "";
  const series: Series[] = (["min", "mean", "max"] as const).map((name) => ({
    name,
    points: counted.map((s) => [s.generation, (s.work?.[name] ?? NaN) / 1e9]),
  }));
  return renderLineChart({
    title: `Work of the kept${settings}`,
    x: { label: "generation" },
    y: { label: "training work: G multiply-adds, counted" },
    series,
  });
}
