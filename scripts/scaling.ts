// How the cost of an exact memorization grows with the text's length (npm run scaling): the first
// 1, 2, 4, 8, 16 and 32 kB of one fixed file from node_modules, each trained in a fresh process (the
// corpus's child, scripts/corpus.ts) until greedy decoding gives it back exactly or its cap is spent.
// Writes a table (docs/scaling.{md,json}) and a chart (docs/images/scaling.png); a slice that is not
// exact within its cap is marked so in both, with the time and epochs it ran.
//
//   npm run scaling                                  every slice, seed 1
//   npm run scaling -- --out docs/scaling-x --image docs/images/scaling-x.png --seed 2 --set hidden=192
//   npm run scaling -- --render                      the table and chart again from docs/scaling.json
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, relative, resolve } from "node:path";
import { writeFileSafely } from "../src/files/write";
import { sha256 } from "../src/files/hash";
import { ROOT } from "../src/paths";
import { renderLineChart } from "../src/plot/chart";
import { publicationLimits } from "../src/sandbox/publication";
import { settings, type Settings } from "../src/quine/train";
import * as rt from "../src/runtime";
import { childResult, fmt, runChild, type ChildResult, type Entry } from "./corpus";
import { readArguments } from "./arguments";

/** The file sliced: ordinary JavaScript source, ASCII only (a slice ends on a character), over 32 kB. */
export const FILE = { package: "js-yaml@4.3.2", path: "lib/loader.js", sha256: "88a97ccd655f8eb9d81af9b51ab9ddafbab9dc545337e772ba922ab062f8b72d" };
const SLICES_KB = [1, 2, 4, 8, 16, 32];
/** Caps as the corpus's tiers have them: 5 minutes up to 10 kB, 15 minutes for the large tier. */
const capFor = (bytes: number) => (bytes <= 10240 ? 300 : 900);

/** One slice's training. */
export interface SliceResult extends Partial<ChildResult> {
  kB: number;
  bytes: number;
  cap: number;
  longestContext: number;
  beyondWindow: number;
  load: number; // 1-minute load average when the run ended
  note?: string; // crashed
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export function markdown(results: SliceResult[], header: string): string {
  const rows = results.map((r) => {
    const exact = r.note ?? (r.exact ? "yes" : `**no** within ${r.cap} s (${r.bestRight}/${r.positions})`);
    const perEpoch = r.epochs && r.seconds ? fmt((1000 * r.seconds) / r.epochs, 0) : "–";
    return `| ${r.kB} | ${r.bytes} | ${r.longestContext} | ${r.beyondWindow} | ${exact} | ${r.epochs ?? "–"} | ${r.seconds ? fmt(r.seconds) : "–"} | ${r.cpuSeconds ? fmt(r.cpuSeconds) : "–"} | ${perEpoch} | ${fmt(r.load)} |`;
  });
  return [
    header,
    "",
    "| slice (kB) | bytes | hardest context | positions beyond window | exact | epochs | seconds | CPU s | ms per epoch | load |",
    "|--:|--:|--:|--:|:-:|--:|--:|--:|--:|--:|",
    ...rows,
    "",
  ].join("\n");
}

/** Seconds and epochs against the slice's size, log–log; slices not exact within their cap as separate points. */
export function chart(results: SliceResult[], title: string): Buffer {
  const ran = results.filter((r) => r.epochs !== undefined);
  const series = (name: string, exact: boolean, value: (r: SliceResult) => number) => ({
    name,
    // A slice of the other outcome is a NaN point: it breaks the line rather than joining across it.
    points: ran.flatMap((r): [number, number][] => (r.exact === exact ? [[r.kB, value(r)]] : [[NaN, NaN]])),
  });
  return renderLineChart({
    title,
    x: { label: "slice of the file (kB)", log: true, min: 0.8, max: 40 },
    y: { label: "seconds, epochs", log: true },
    series: [
      series("seconds to exact", true, (r) => r.seconds ?? NaN),
      series("epochs to exact", true, (r) => r.epochs ?? NaN),
      series("not exact: seconds spent", false, (r) => r.seconds ?? NaN),
      series("not exact: epochs run", false, (r) => r.epochs ?? NaN),
    ],
  });
}

async function main(args: string[]): Promise<void> {
  if (!readArguments(__filename, args, ["--out", "--image", "--render", "--seed", "--set", "--verbose"])) return;
  const out = resolve(option(args, "--out") ?? join(ROOT, "docs", "scaling"));
  const image = resolve(option(args, "--image") ?? join(ROOT, "docs", "images", "scaling.png"));
  const seed = Number(option(args, "--seed") ?? settings.seed);
  const title = (seedOfRun: number) => `Time and epochs to exact, ${FILE.package.replace(/@[^@]*$/, "")}/${FILE.path} (seed ${seedOfRun})`;
  if (args.includes("--render")) {
    // The table and chart again from a run's JSON (e.g. after the chart's format changed), without training.
    const run = JSON.parse(readFileSync(`${out}.json`, "utf8")) as { seed: number; header: string; results: SliceResult[] };
    writeFileSafely(`${out}.md`, markdown(run.results, run.header));
    writeFileSafely(image, chart(run.results, title(run.seed)));
    process.stdout.write(`wrote ${out}.md and ${image}\n`);
    return;
  }
  const overrides = Object.fromEntries((option(args, "--set")?.split(",") ?? []).map((kv) => kv.split("=")).map(([k, v]) => [k, Number(v)])) as Partial<Settings>;
  const window = overrides.window ?? settings.window;
  const path = join(ROOT, "node_modules", FILE.package.replace(/@[^@]*$/, ""), FILE.path);
  const bytes = readFileSync(path);
  if (sha256(bytes) !== FILE.sha256) throw new Error(`${FILE.package}/${FILE.path} has changed (sha256 differs): is another version installed?`);

  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, load average ${loadavg()[0].toFixed(1)} at the start`;
  const header = [
    "# Scaling: the cost of exact against the text's length",
    "",
    `Written by \`npm run scaling${args.length ? ` -- ${args.map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a)).join(" ")}` : ""}\` (scripts/scaling.ts) on ${machine}.`,
    `The first 1, 2, 4, 8, 16 and 32 kB of ${FILE.package}/${FILE.path} (${bytes.length} bytes, ASCII), each trained in a fresh process until`,
    `greedy decoding gives it back exactly, capped at 300 s up to 10 kB and 900 s above (the corpus's tiers) and at ${overrides.maxEpochs ?? settings.maxEpochs} epochs; seed ${seed}.`,
    `Settings besides the seed and cap: ${JSON.stringify({ ...settings, ...overrides, seed: undefined, maxSeconds: undefined })}.`,
    `Seconds: wall-clock training time; CPU s: the training process's CPU time; load: the 1-minute load average on ${cpus().length} cores when the run ended.`,
    `"no (a/b)": not exact within the cap, a of b positions right at best. Chart: ${relative(join(ROOT, "docs"), image)}.`,
  ].join("\n");
  const results: SliceResult[] = [];
  const save = () => {
    writeFileSafely(`${out}.json`, `${JSON.stringify({ machine, file: FILE, seed, settings: { ...settings, ...overrides, seed }, header, results }, null, 2)}\n`);
    writeFileSafely(`${out}.md`, markdown(results, header));
    writeFileSafely(image, chart(results, title(seed)));
  };
  for (const kB of SLICES_KB) {
    const length = Math.min(kB * 1024, bytes.length);
    const slice = bytes.subarray(0, length);
    const entry: Entry = { kind: "js", package: FILE.package, path: FILE.path, offset: 0, length, sha256: sha256(slice) };
    const analysis = rt.analyzeText(slice.toString("utf8"), 0);
    const cap = capFor(length);
    const run = await runChild(JSON.stringify({ entry, seed, cap, overrides }), cap + publicationLimits.decodeSeconds + 120, args.includes("--verbose"));
    const base = { kB, bytes: length, cap, longestContext: analysis.longest, beyondWindow: Array.from(analysis.contexts).filter((k) => k > window).length, load: Number(loadavg()[0].toFixed(2)) };
    const r = childResult(run);
    const result: SliceResult = "problem" in r ? { ...base, note: r.problem } : { ...base, ...r };
    results.push(result);
    save();
    process.stderr.write(`${kB} kB (${length} B, context ${result.longestContext}): ${result.note ?? (result.exact ? `exact in ${result.epochs} epochs, ${fmt(result.seconds ?? NaN)} s` : `not exact within ${cap} s (${result.epochs} epochs)`)}\n`);
  }
  save();
  process.stdout.write(`${markdown(results, header)}wrote ${out}.md, ${out}.json and ${image}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`scaling: ${error.message}\n`);
    process.exit(1);
  });
}
