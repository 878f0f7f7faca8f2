// Stability on the bundle (npm run edits): the bundle quine/quine.js with small edits, as a
// mutated generation would be (a comment's word changed, a variable renamed), each memorized from
// a fresh process; epochs to exact for each, and the spread (worst against median). Seeded: the
// same seed gives the same edits. Results go to docs/edits.{md,json} as they come.
//
//   npm run edits                         20 edits, seed 1
//   npm run edits -- --count 3 --seed 2 --max-seconds 900
//   npm run edits -- --jobs 4             four trainings at once (each on one kernel thread: the same bits)
//   npm run edits -- --from 11 --out /tmp/b   edits 11 to 20 only, results to /tmp/b.{json,md}
//   npm run edits -- --merge docs/edits.json /tmp/b.json   the union of two runs into docs/edits
//   npm run edits -- --dry                list the edits only
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileSafely } from "../src/files/write";
import { QUINE_PATH, ROOT } from "../src/paths";
import { readArguments } from "./arguments";

interface Edit {
  what: string;
  text: string;
}

/** Deterministic pseudo-random integers in [0, n). */
function generator(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const KEYWORDS = new Set("break case catch class const continue default do else export for function if import in let new of return switch this throw try typeof var void while async await true false null undefined require module exports Math Number Object Array String JSON".split(" "));

/** One small edit of `source`: a word in a comment replaced by another word of the text, or an identifier renamed everywhere. */
function edit(source: string, random: (n: number) => number): Edit {
  const words = [...new Set(source.match(/\b[a-z]{4,}\b/g) ?? [])].sort();
  if (random(2) === 0) {
    const comments = [...source.matchAll(/\/\/[^\n]*/g)].filter((c) => /\b[a-z]{4,}\b/.test(c[0]));
    const comment = comments[random(comments.length)];
    const inside = [...comment[0].matchAll(/\b[a-z]{4,}\b/g)];
    const old = inside[random(inside.length)];
    const word = words[random(words.length)];
    const at = (comment.index ?? 0) + (old.index ?? 0);
    return { what: `comment at offset ${at}: "${old[0]}" → "${word}"`, text: source.slice(0, at) + word + source.slice(at + old[0].length) };
  }
  // Identifiers that are declared here (const/let/var/function/parameter-like), not properties or keywords.
  const declared = [...new Set([...source.matchAll(/\b(?:const|let|var|function)\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]))].filter((n) => !KEYWORDS.has(n)).sort();
  const name = declared[random(declared.length)];
  const fresh = `${name}${words[random(words.length)].replace(/^./, (c) => c.toUpperCase())}`;
  const pattern = new RegExp(`(?<![\\w$.])${name.replace(/\$/g, "\\$")}(?![\\w$])`, "g");
  return { what: `renamed ${name} → ${fresh} (${source.match(pattern)?.length ?? 0} places)`, text: source.replace(pattern, fresh) };
}

/**
 * `count` distinct edits of `source`, seeded: a draw that gives the source or a text already in
 * the list is drawn again (two equal edits would count one text twice). The same list whatever --from says.
 */
function drawEdits(source: string, count: number, seed: number): Edit[] {
  const random = generator(seed);
  const edits: Edit[] = [];
  const texts = new Set([source]); // an edit that changes nothing is no edit
  for (let draws = 0; edits.length < count; draws++) {
    if (draws > 100 * count) throw new Error(`only ${edits.length} distinct edits in ${draws} draws`);
    const next = edit(source, random);
    if (texts.has(next.text)) continue;
    texts.add(next.text);
    edits.push(next);
  }
  return edits;
}

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/** Trains `file` in a fresh `neural-quine train` process; resolves with what its metrics say. */
function train(file: string, maxSeconds: number, threads: string): Promise<{ exact?: boolean; epochs?: number; trainSeconds?: number }> {
  return new Promise((resolve) => {
    const args = [join(ROOT, "dist", "src", "cli.js"), "train", file, "--out", `${file}.model`, "--json", "--max-seconds", String(maxSeconds), "--max-epochs", "100000"];
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, NQ_THREADS: threads } });
    let out = "";
    proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    proc.on("close", () => {
      try {
        resolve(JSON.parse(out) as { exact?: boolean; epochs?: number; trainSeconds?: number });
      } catch {
        resolve({});
      }
    });
  });
}

interface EditResult {
  n: number; // the edit's place in the list (1-based)
  edit: string;
  bytes: number;
  exact: boolean;
  epochs: number;
  seconds: number;
}

/** Writes `out`.json and `out`.md from the results so far (any order); returns the summary. */
function render(results: EditResult[], machine: string, seed: number, out: string) {
  const finished = [...results].sort((a, b) => a.n - b.n);
  const done = finished.filter((r) => r.exact).map((r) => r.epochs).sort((a, b) => a - b);
  const median = done[Math.floor((done.length - 1) / 2)] ?? NaN;
  const worst = finished.some((r) => !r.exact) ? Infinity : (done.at(-1) ?? NaN);
  const summary = { edits: finished.length, exact: done.length, medianEpochs: median, worstEpochs: worst, worstOverMedian: worst / median };
  writeFileSafely(`${out}.json`, `${JSON.stringify({ machine, seed, summary, results: finished }, null, 2)}\n`);
  const rows = finished.map((r) => `| ${r.n} | ${r.edit} | ${r.bytes} | ${r.exact ? "yes" : "**no**"} | ${r.epochs} | ${r.seconds.toFixed(1)} |`);
  writeFileSync(`${out}.md`, [
    "# Stability: the bundle with small edits",
    "",
    `Written by \`npm run edits\` (scripts/edits.ts), seed ${seed}, ${machine}. The unedited bundle takes the epochs in docs/bench.md.`,
    "",
    "| # | edit | bytes | exact | epochs | seconds |",
    "|--:|---|--:|:-:|--:|--:|",
    ...rows,
    "",
    `**Summary:** ${summary.exact}/${summary.edits} exact; epochs to exact: median ${median}, worst ${worst} (${summary.worstOverMedian.toFixed(2)}× the median; target ≤ 2×).`,
    "",
  ].join("\n"));
  return summary;
}

async function main(args: string[]): Promise<void> {
  const count = option(args, "--count", 20);
  const from = option(args, "--from", 1);
  const jobs = option(args, "--jobs", 1);
  const seed = option(args, "--seed", 1);
  const maxSeconds = option(args, "--max-seconds", 1800);
  const outIndex = args.indexOf("--out");
  const out = outIndex >= 0 ? args[outIndex + 1] : join(ROOT, "docs", "edits");
  const source = readFileSync(QUINE_PATH, "utf8");
  const dir = mkdtempSync(join(tmpdir(), "nq-edits-"));
  const results: EditResult[] = [];
  const machine = `load average ${loadavg()[0].toFixed(1)} at the start, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC${jobs > 1 ? `, ${jobs} trainings at once` : ""}`;
  const edits = drawEdits(source, count, seed);
  let next = from - 1;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const { what, text } = edits[i];
      const file = join(dir, `edit-${i + 1}.js`);
      writeFileSync(file, text);
      const metrics = await train(file, maxSeconds, jobs > 1 ? "1" : (process.env.NQ_THREADS ?? "2"));
      results.push({ n: i + 1, edit: what, bytes: Buffer.byteLength(text), exact: metrics.exact ?? false, epochs: metrics.epochs ?? 0, seconds: metrics.trainSeconds ?? 0 });
      const s = render(results, machine, seed, out);
      process.stderr.write(`[${i + 1}/${count}] ${what}: ${metrics.exact ? `exact in ${metrics.epochs} epochs` : "not exact"}, ${(metrics.trainSeconds ?? 0).toFixed(0)} s; median so far ${s.medianEpochs}\n`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
}

/** --merge a.json b.json ...: the union of runs (e.g. two halves run at once with --from and --out) into docs/edits. */
function merge(files: string[]): void {
  const runs = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as { machine: string; seed: number; results: EditResult[] });
  const results = [...new Map(runs.flatMap((r) => r.results).map((r) => [r.n, r])).values()];
  const machines = [...new Set(runs.map((r) => r.machine))].join("; ");
  const s = render(results, `${runs.length} runs united (${machines})`, runs[0]?.seed ?? 1, join(ROOT, "docs", "edits"));
  process.stdout.write(`${JSON.stringify(s)}\n`);
}

async function run(argv: string[]): Promise<void> {
  if (!readArguments(__filename, argv, ["--count", "--seed", "--max-seconds", "--jobs", "--from", "--out", "--dry", "--merge"])) return;
  if (argv.includes("--dry")) {
    // Only list the edits.
    const source = readFileSync(QUINE_PATH, "utf8");
    for (const { what } of drawEdits(source, option(argv, "--count", 20), option(argv, "--seed", 1))) process.stdout.write(`${what}\n`);
  } else if (argv.includes("--merge")) {
    merge(argv.slice(argv.indexOf("--merge") + 1));
  } else {
    await main(argv);
  }
}

run(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`edits: ${error.message}\n`);
  process.exit(1);
});
