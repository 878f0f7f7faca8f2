// The real-world corpus (npm run corpus): texts nobody here wrote, cut from the installed
// dependencies, memorized one by one until exact (or a cap), with a budget for the whole run. Only a
// manifest is committed (bench/corpus.json: package@version, path, offset, length, sha256); the
// texts are cut from node_modules at run time, and a text whose hash no longer matches is reported
// and skipped. Writes docs/corpus.{md,json} and the README's corpus section, result by result
// (--large: docs/corpus-large.{md,json}). scripts/scaling.ts uses the same child to train slices of one file.
//
//   npm run corpus                       every text, 5 min cap each, 1 h budget
//   npm run corpus -- --quick            4 small texts of different kinds, 60 s cap, 5 min budget
//   npm run corpus -- --large            the large tier (bench/corpus-large.json: 3 texts of 20–40 kB), 15 min cap each
//   npm run corpus -- --pick             apply the fixed rule again (both manifests): kinds whose texts are all still
//                                        installed as hashed are kept, the others picked anew (--fresh: all anew)
//   npm run corpus -- --render --readme  the tables again from docs/corpus.json (--resume continues a run)
//   npm run corpus -- --compare before.json after.json   two runs side by side
//   npm run corpus -- --only dts,css --seeds 1,2,3 --set hidden=192 --out /tmp/x   experiments
//   npm run corpus -- --keep-models /tmp/m   also keep each run's model (model.json, weights.bin), its text
//                                        (text.txt) and what the trainer's greedy check decoded (greedy.txt)
//
// Each text trains in a fresh child process of this script (`--child`), as a user's `train` would.
// A model that trains exact is then decoded by the parent's decoder (src/runtime/decoder.ts, plain
// JavaScript in float64, as bootstrap's parent decodes a publication): each run records whether
// it gives the text back too.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { deflateRawSync } from "node:zlib";
import { z } from "zod";
import { parseJson } from "../src/files/json";
import { writeFileSafely } from "../src/files/write";
import { sha256 } from "../src/files/hash";
import { ROOT } from "../src/paths";
import { readTextFile } from "../src/memorize";
import { settings, trainUntilExact, type Settings } from "../src/quine/train";
import * as rt from "../src/runtime";
import { checkModelFiles, decodeLimit, decodeModel } from "../src/runtime/decoder";
import { publicationLimits } from "../src/sandbox/publication";
import { writeReadmeSection } from "./readme-section";
import { readArguments } from "./arguments";

const MANIFEST = join(ROOT, "bench", "corpus.json");
const NODE_MODULES = join(ROOT, "node_modules");
const MIN_BYTES = 1024;
const MAX_BYTES = 10240;

/**
 * How many texts of each kind the rule picks; sizes spread geometrically over 1–10 kB within a kind.
 * The kinds after `repetitive` were added later (issue 25); they are picked after the others, so the
 * texts picked before them stay the same and earlier results stay comparable.
 */
const QUOTAS = {
  js: 6, bundle: 4, dts: 5, "package.json": 3, lockfile: 2, readme: 5, license: 3, css: 3, repetitive: 3,
  minified: 3, sourcemap: 3, data: 3, unicode: 4,
} as const;
type Kind = keyof typeof QUOTAS;
/** The kinds the first version of the rule had: the pool the repetitive texts are drawn from. */
const FIRST_KINDS = new Set<Kind>(["js", "bundle", "dts", "package.json", "lockfile", "readme", "license", "css"]);

/** The non-ASCII texts: for each class of characters, the text with the most of them (any kind). */
const UNICODE_CLASSES: Record<string, RegExp> = {
  accents: /[\u00c0-\u024f\u1e00-\u1eff]/gu, // Latin letters with diacritics
  alphabets: /[\u0370-\u1dff]/gu, // Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic, Thai, Georgian, …
  cjk: /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/gu, // kana, Han ideographs, Hangul
  emoji: /[\u2600-\u27bf\u{1f000}-\u{1faff}]/gu, // pictographs (most outside the BMP: surrogate pairs in JavaScript)
};

/** The "large" tier (npm run corpus -- --large): one text of each of these kinds, 20–40 kB. */
const LARGE_KINDS = ["js", "readme", "dts"] as const;
const LARGE_MIN_BYTES = 20480;
const LARGE_MAX_BYTES = 40960;
const LARGE_MANIFEST = join(ROOT, "bench", "corpus-large.json");

/** One text of the corpus: where to cut it and what it must hash to. */
export interface Entry {
  kind: Kind;
  package: string; // name@version
  path: string; // inside the package
  offset: number; // bytes
  length: number; // bytes
  sha256: string;
}

/** One training run of one text (a row of docs/corpus.json). */
export interface Result {
  text: string; // package@version/path[@offset]
  kind: Kind;
  bytes: number;
  seed: number;
  exact: boolean;
  epochs: number;
  seconds: number; // training time to exact (or until the cap)
  cpuSeconds: number;
  longestContext: number; // from rt.analyzeText: the hardest position's deciding context
  beyondWindow: number; // positions whose context exceeds the trainer's window
  note?: string; // skipped, crashed, over budget
  bestRight?: number; // most positions right (by the margin) in any pass: how close a failed run came
  positions?: number;
  load?: number; // the 1-minute load average when the run ended (runs before issue 25 lack it)
  parentExact?: boolean; // exact runs: the parent's decoder gives the text back too (runs before issue 25 lack it)
  parentSeconds?: number; // how long the parent's decoder took
}

// ---- picking: the fixed rule ------------------------------------------------------------------


/** The top-level packages in node_modules (scoped ones included), sorted by name. */
function packages(): { name: string; version: string; dir: string }[] {
  const names = readdirSync(NODE_MODULES).filter((n) => !n.startsWith(".")).sort()
    .flatMap((n) => (n.startsWith("@") ? readdirSync(join(NODE_MODULES, n)).sort().map((m) => `${n}/${m}`) : [n]));
  return names.flatMap((name) => {
    const pkg = join(NODE_MODULES, name, "package.json");
    if (!existsSync(pkg)) return [];
    const { version } = JSON.parse(readFileSync(pkg, "utf8")) as { version?: string };
    return [{ name, version: version ?? "0.0.0", dir: join(NODE_MODULES, name) }];
  });
}

/** A package's files, sorted, without nested node_modules. */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((d) => {
    const path = join(d.parentPath ?? dir, d.name);
    if (d.isDirectory()) return d.name === "node_modules" ? [] : filesOf(path);
    return d.isFile() ? [path] : [];
  });
}

/** The kind of a whole file, or undefined when the corpus takes no such file. */
function kindOf(path: string, rel: string, head: string): Kind | "lockfile" | undefined {
  const name = basename(path);
  if (/^(licen[cs]e|copying)(\.md|\.txt)?$/i.test(name)) return "license";
  if (/^readme\.md$/i.test(name)) return "readme";
  if (rel === "package.json") return "package.json";
  if (name === "yarn.lock" || name === "package-lock.json") return "lockfile";
  if (name.endsWith(".map") && head.startsWith("{")) return "sourcemap";
  if (name.endsWith(".json") && name !== "package.json") return "data";
  if (/\.d\.[cm]?ts$/.test(name)) return "dts";
  if (name.endsWith(".css")) return "css";
  if (!/\.[cm]?js$/.test(name)) return undefined;
  if (/^var __(defProp|commonJS|getOwnPropNames) = /m.test(head)) return "bundle"; // esbuild's helpers header
  const lines = head.split("\n").filter((line) => !line.startsWith("//# sourceMappingURL=")); // an inline map is no code
  if (lines.every((line) => line.length <= 200)) return "js";
  return head.length / lines.length > 200 ? "minified" : undefined; // some long lines: neither source nor minified
}

/** True when the trainer takes these bytes as text (what `train` checks). */
function isText(path: string): boolean {
  try {
    readTextFile(path);
    return true;
  } catch {
    return false;
  }
}

/** Lockfile fragments: whole entries (blank-line separated) from the i-th of n even starting points until `target` bytes. */
function lockfileFragments(bytes: Buffer, targets: number[]): { offset: number; length: number }[] {
  const starts = [0];
  for (let i = bytes.indexOf("\n\n"); i >= 0; i = bytes.indexOf("\n\n", i + 1)) starts.push(i + 2);
  return targets.map((target, i) => {
    const first = starts[Math.floor(((i + 1) * starts.length) / (targets.length + 1))];
    const end = starts.find((s) => s - first >= target) ?? bytes.length;
    return { offset: first, length: Math.min(end, first + MAX_BYTES) - first };
  });
}

/** Geometric size targets over 1–10 kB, one per text of a kind. */
const targetsFor = (n: number) => Array.from({ length: n }, (_, i) => Math.round(MIN_BYTES * 10 ** (n === 1 ? 0.5 : i / (n - 1))));

/**
 * The fixed rule: for each kind and size target, the unpicked file closest in size, distinct in
 * content, from a package not yet used for that kind if any; kinds the previous manifests have
 * complete and intact are kept.
 */
function pick(previous: { entries: Entry[]; large: Entry[] }): { entries: Entry[]; large: Entry[] } {
  type Candidate = Entry & { ratio: number; text: string };
  const candidates: Candidate[] = [];
  const largeCandidates: Candidate[] = [];
  const lockfiles: Entry[] = [];
  for (const pkg of packages()) {
    for (const path of filesOf(pkg.dir)) {
      const rel = relative(pkg.dir, path);
      const size = statSync(path).size;
      const large = size >= LARGE_MIN_BYTES && size <= LARGE_MAX_BYTES;
      if (size < MIN_BYTES || (size > MAX_BYTES && !large && !/(yarn\.lock|package-lock\.json)$/.test(path))) continue;
      const bytes = readFileSync(path);
      const kind = kindOf(path, rel, bytes.subarray(0, 4096).toString("utf8"));
      if (!kind || !isText(path)) continue;
      const entry = { kind, package: `${pkg.name}@${pkg.version}`, path: rel, offset: 0, length: size, sha256: sha256(bytes) };
      if (kind === "lockfile") {
        for (const f of lockfileFragments(bytes, targetsFor(QUOTAS.lockfile))) {
          lockfiles.push({ ...entry, ...f, sha256: sha256(bytes.subarray(f.offset, f.offset + f.length)) });
        }
      } else (size <= MAX_BYTES ? candidates : largeCandidates).push({ ...entry, ratio: deflateRawSync(bytes).length / size, text: bytes.toString("utf8") });
    }
  }
  const picked: Entry[] = [];
  const taken = new Set<string>();
  const take = (pool: Candidate[], target: number | undefined, kind: Kind, into = picked) => {
    const usedPackages = new Set(into.filter((e) => e.kind === kind).map((e) => e.package));
    const unpicked = pool.filter((c) => !taken.has(c.sha256));
    // Another package when there is one; a kind found in few packages may take two from one.
    const fresh = unpicked.some((c) => !usedPackages.has(c.package)) ? unpicked.filter((c) => !usedPackages.has(c.package)) : unpicked;
    const best = target === undefined ? fresh[0] : fresh.reduce<Candidate | undefined>((a, c) => (!a || Math.abs(c.length - target) < Math.abs(a.length - target) ? c : a), undefined);
    if (!best) return;
    taken.add(best.sha256);
    const { ratio: _ratio, text: _text, ...entry } = best;
    into.push({ ...entry, kind });
  };
  // A kind the previous manifest has complete, every text still installed as hashed, is kept as it is:
  // a dependency added later does not swap texts already measured (their results stay comparable).
  const keep = (previousEntries: Entry[], kind: Kind, quota: number) => {
    const entries = previousEntries.filter((e) => e.kind === kind);
    return entries.length === quota && entries.every((e) => "text" in cut(e)) ? entries : undefined;
  };
  const kept = new Map((Object.keys(QUOTAS) as Kind[]).map((kind) => [kind, keep(previous.entries, kind, QUOTAS[kind])] as const));
  const keptLarge = new Map(LARGE_KINDS.map((kind) => [kind, keep(previous.large, kind, 1)] as const));
  for (const e of [...kept.values(), ...keptLarge.values()].flat()) if (e) taken.add(e.sha256);
  const pickKind = (kind: Kind, choose: () => void) => {
    const entries = kept.get(kind);
    if (entries) picked.push(...entries);
    else choose();
  };
  const bySize = (kind: Kind) => pickKind(kind, () => {
    if (kind === "lockfile") picked.push(...lockfiles.slice(0, QUOTAS.lockfile));
    else for (const target of targetsFor(QUOTAS[kind])) take(candidates.filter((c) => c.kind === kind), target, kind);
  });
  for (const kind of FIRST_KINDS) bySize(kind);
  // The texts that repeat themselves most: the lowest deflate ratio among texts of at least 2 kB of the first kinds.
  pickKind("repetitive", () => {
    const repetitive = candidates.filter((c) => c.length >= 2 * MIN_BYTES && FIRST_KINDS.has(c.kind)).sort((a, b) => a.ratio - b.ratio);
    for (let i = 0; i < QUOTAS.repetitive; i++) take(repetitive, undefined, "repetitive");
  });
  for (const kind of ["minified", "sourcemap", "data"] as const) bySize(kind);
  // One text per class of non-ASCII characters: the most characters of that class, from any package
  // (the texts rich in a script are few; the first such file wins a tie).
  pickKind("unicode", () => {
    for (const pattern of Object.values(UNICODE_CLASSES)) {
      const count = (c: Candidate) => c.text.match(pattern)?.length ?? 0;
      const best = candidates.filter((c) => !taken.has(c.sha256) && count(c) > 0).sort((a, b) => count(b) - count(a))[0];
      if (best) take([best], undefined, "unicode");
    }
  });
  // The large tier: per kind, the file closest to a size spread geometrically over 20–40 kB.
  const large: Entry[] = [];
  LARGE_KINDS.forEach((kind, i) => {
    const entry = keptLarge.get(kind)?.[0];
    const target = Math.round(LARGE_MIN_BYTES * (LARGE_MAX_BYTES / LARGE_MIN_BYTES) ** (i / (LARGE_KINDS.length - 1)));
    if (entry) large.push(entry);
    else take(largeCandidates.filter((c) => c.kind === kind), target, kind, large);
  });
  return { entries: picked, large };
}

// ---- running ----------------------------------------------------------------------------------

export const nameOf = (e: Entry) => `${e.package}/${e.path}${e.offset || e.kind === "lockfile" ? `@${e.offset}` : ""}`;

/** The entry's text cut from node_modules, or why it cannot be had. */
function cut(e: Entry): { text: string } | { problem: string } {
  const path = join(NODE_MODULES, e.package.replace(/@[^@]*$/, ""), e.path);
  if (!existsSync(path)) return { problem: `${path} is missing` };
  const bytes = readFileSync(path).subarray(e.offset, e.offset + e.length);
  if (sha256(bytes) !== e.sha256) return { problem: `${nameOf(e)} has changed (sha256 differs): is another version installed?` };
  return { text: bytes.toString("utf8") };
}

/** What a child prints, as the last line of its stdout: one training's outcome. The parent checks it against this schema. */
export const ChildResultSchema = z.object({
  exact: z.boolean(),
  epochs: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(), // training only; the parent's decoding is not in it
  cpuSeconds: z.number().nonnegative(), // the child's, the parent's decoding included
  bestRight: z.number().int().nonnegative(),
  positions: z.number().int().positive(),
  parentExact: z.boolean().optional(), // only when exact: the parent's decoder gives the text back too
  parentSeconds: z.number().nonnegative().optional(),
});
export type ChildResult = z.infer<typeof ChildResultSchema>;

/** What a child was asked to do (the JSON after --child). */
interface ChildSpec {
  entry: Entry;
  seed: number;
  cap: number; // seconds of training
  overrides: Partial<Settings>;
  keep?: string; // a folder: keep the model, the text and the trainer's greedy decoding in a subfolder of it
}

/**
 * The parent's decoder on a trained model, as bootstrap's parent decodes a publication: the model
 * serialized to its two files, checked, and decoded in plain JavaScript. Bounded as there: at most
 * decodeLimit(length) characters and publicationLimits.decodeSeconds; a model stopped by either is not exact.
 */
async function decodeAsParent(model: rt.QuineModel, text: string): Promise<{ parentExact: boolean; parentSeconds: number }> {
  const characters = [...text].length;
  const files = await rt.modelFiles({ ...model, textLength: characters });
  try {
    // Any size: --set may train a model larger than a publication may be, and its training is what is measured.
    const checked = checkModelFiles(files, { maxParameters: Infinity });
    const decoded = decodeModel(checked, { maxChars: decodeLimit(characters), maxSeconds: publicationLimits.decodeSeconds });
    return { parentExact: decoded.stopped === "end" && decoded.text === text, parentSeconds: decoded.seconds };
  } catch (error) {
    // A refusal of our own model is a bug to see in the table, not a crash that loses the training's result.
    rt.log(`the parent's decoder refused the model: ${error instanceof Error ? error.message : String(error)}`);
    return { parentExact: false, parentSeconds: 0 };
  }
}

/** A run's folder name under --keep-models: the text's name and the seed, as a plain file name. */
export const keptName = (e: Entry, seed: number) => `${nameOf(e).replace(/[^\w.@-]+/g, "_")}-seed${seed}`;

/** Child: trains one text from a cold process, prints its result (a ChildResult) as a JSON line. */
async function child(spec: string): Promise<void> {
  const { entry, seed, cap, overrides, keep } = JSON.parse(spec) as ChildSpec;
  await rt.initBackend(rt.parseBackend(process.env.NQ_BACKEND ?? "auto"));
  const got = cut(entry);
  if ("problem" in got) throw new Error(got.problem);
  const trained = trainUntilExact(got.text, { ...overrides, seed, maxSeconds: cap });
  // Only an exact model is the parent's to decode: one that is not was never going to give the text back.
  const parent = trained.exact ? await decodeAsParent(trained.model, got.text) : {};
  if (keep) {
    const dir = join(keep, keptName(entry, seed));
    await rt.saveModel(dir, { ...trained.model, textLength: [...got.text].length });
    writeFileSafely(join(dir, "text.txt"), got.text);
    writeFileSafely(join(dir, "greedy.txt"), trained.text);
  }
  const { user, system } = process.cpuUsage();
  const bestRight = Math.max(0, ...trained.history.map((e) => e.exact));
  const result: ChildResult = {
    exact: trained.exact, epochs: trained.epochs, seconds: trained.seconds, cpuSeconds: (user + system) / 1e6, bestRight, positions: [...got.text].length + 1, ...parent,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Runs this script as a child; resolves with its last stdout line (or undefined) and its stderr tail. */
export function runChild(spec: string, killAfterSeconds: number, verbose: boolean): Promise<{ line?: string; tail: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [...process.execArgv, __filename, "--child", spec], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let tail = "";
    proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr.on("data", (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-2000);
      if (verbose) process.stderr.write(chunk);
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), killAfterSeconds * 1000);
    proc.on("close", () => {
      clearTimeout(timer);
      resolve({ line: out.trim().split("\n").pop()?.startsWith("{") ? out.trim().split("\n").pop() : undefined, tail });
    });
  });
}

/** A child's result, checked against its schema; else why there is none (the child crashed or printed something else). */
export function childResult(run: { line?: string; tail: string }): ChildResult | { problem: string } {
  if (run.line === undefined) return { problem: `crashed: ${run.tail.trim().split("\n").pop() ?? "?"}` };
  const parsed = parseJson(run.line, ChildResultSchema);
  return parsed.error === undefined ? parsed.data : { problem: `crashed: its result is not one (${parsed.error})` };
}

/** The p-th quantile of times to exact, a text that never got there counting as infinitely slow. */
function quantile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

export const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "∞");

function summaryOf(results: Result[], cap: number) {
  // A text skipped (its hash changed) or left out by the budget is no run; a crash is a failed one.
  const ran = results.filter((r) => !r.note?.startsWith("skipped") && !r.note?.startsWith("not run"));
  const times = ran.map((r) => (r.exact ? r.seconds : Infinity));
  const worstUpTo = (bytes: number) => Math.max(-Infinity, ...ran.filter((r) => r.bytes <= bytes).map((r) => (r.exact ? r.seconds : Infinity)));
  return {
    runs: ran.length,
    skipped: results.length - ran.length,
    exact: ran.filter((r) => r.exact).length,
    shareExact: ran.length ? ran.filter((r) => r.exact).length / ran.length : NaN,
    medianSeconds: quantile(times, 0.5),
    p90Seconds: quantile(times, 0.9),
    worstSeconds: quantile(times, 1),
    worstUpTo4kB: worstUpTo(4096),
    worstUpTo10kB: worstUpTo(MAX_BYTES),
    cap,
    loads: ran.flatMap((r) => (r.load === undefined ? [] : [r.load])),
    // Exact runs the parent's decoder checked (runs before issue 25 were not), and how many it gives back.
    parentChecked: ran.filter((r) => r.exact && r.parentExact !== undefined).length,
    parentExact: ran.filter((r) => r.exact && r.parentExact === true).length,
  };
}

function markdown(results: Result[], summary: ReturnType<typeof summaryOf>, header: string): string {
  const rows = results.map((r) => `| ${r.text} | ${r.kind} | ${r.bytes} | ${r.seed} | ${r.note && !r.note.startsWith("not exact") ? r.note : r.exact ? (r.parentExact === false ? "yes, **not by the parent's decoder**" : "yes") : `**no**${r.bestRight ? ` (${r.bestRight}/${r.positions})` : ""}`} | ${r.epochs || "–"} | ${r.seconds ? fmt(r.seconds) : "–"} | ${r.cpuSeconds ? fmt(r.cpuSeconds) : "–"} | ${r.longestContext} | ${r.beyondWindow} |`);
  const s = summary;
  return [
    header,
    "",
    "| text | kind | bytes | seed | exact | epochs | seconds | CPU s | hardest context | positions beyond window |",
    "|---|---|--:|--:|:-:|--:|--:|--:|--:|--:|",
    ...rows,
    "",
    `**Summary:** ${s.exact}/${s.runs} runs exact within the ${s.cap} s cap (${fmt(100 * s.shareExact, 0)}%)${s.skipped ? `, ${s.skipped} not run` : ""}; time to exact: median ${fmt(s.medianSeconds)} s, 90th percentile ${fmt(s.p90Seconds)} s, worst ${fmt(s.worstSeconds)} s (∞: not exact within the cap).${
      s.worstUpTo10kB > -Infinity ? ` Worst text ≤ 4 kB: ${fmt(s.worstUpTo4kB)} s (target 60 s); worst ≤ 10 kB: ${fmt(s.worstUpTo10kB)} s (target 180 s).` : ` Target: each exact within its ${s.cap} s cap.`}${
      s.loads.length ? ` Load average (1 min) at the end of each run: ${fmt(Math.min(...s.loads))}–${fmt(Math.max(...s.loads))} on ${cpus().length} cores.` : ""}${
      s.parentChecked ? ` The parent's decoder (src/runtime/decoder.ts) exact on ${s.parentExact} of ${s.parentChecked} exact models.` : ""}`,
    "",
  ].join("\n");
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<void> {
  const known = ["--budget", "--cap", "--compare", "--fresh", "--keep-models", "--large", "--large-manifest", "--manifest", "--only", "--out", "--pick", "--quick", "--readme", "--render", "--resume", "--seeds", "--set", "--verbose"];
  if (!readArguments(__filename, args, known)) return;
  const manifestPath = option(args, "--manifest") ?? MANIFEST;
  if (args.includes("--pick")) {
    const largePath = option(args, "--large-manifest") ?? LARGE_MANIFEST;
    const previousOf = (path: string) => (existsSync(path) && !args.includes("--fresh") ? (JSON.parse(readFileSync(path, "utf8")) as Entry[]) : []);
    const { entries, large } = pick({ entries: previousOf(manifestPath), large: previousOf(largePath) });
    writeFileSafely(manifestPath, `${JSON.stringify(entries, null, 2)}\n`);
    writeFileSafely(largePath, `${JSON.stringify(large, null, 2)}\n`);
    process.stdout.write(`wrote ${manifestPath}: ${entries.length} texts (${Object.keys(QUOTAS).map((k) => `${entries.filter((e) => e.kind === k).length} ${k}`).join(", ")})\n`);
    process.stdout.write(`wrote ${largePath}: ${large.length} large texts (${large.map((e) => `${e.kind} ${e.length} B`).join(", ")})\n`);
    return;
  }
  if (args.includes("--compare")) {
    // Two runs on the same texts, side by side (e.g. a recipe before and after): Markdown on stdout.
    const [before, after] = [option(args, "--compare"), args[args.indexOf("--compare") + 2]].map((file) =>
      (JSON.parse(readFileSync(file ?? "", "utf8")) as { results: Result[] }).results);
    const cell = (r?: Result) => (!r ? "–" : r.note && !r.note.startsWith("not exact") ? r.note.split(":")[0]
      : `${r.exact ? "yes" : `no (${r.bestRight ?? "?"}/${r.positions ?? "?"})`}, ${r.epochs} ep, ${fmt(r.seconds)} s, ${fmt(r.cpuSeconds)} CPU s`);
    const rows = after.map((r) => `| ${r.text} | ${r.bytes} | ${r.longestContext} | ${cell(before.find((b) => b.text === r.text && b.seed === r.seed))} | ${cell(r)} |`);
    process.stdout.write(["| text | bytes | hardest context | before | after |", "|---|--:|--:|---|---|", ...rows, ""].join("\n"));
    return;
  }
  if (args.includes("--render")) {
    // Tables again from a run's JSON (e.g. after the table's format changed); --readme also rewrites the README's section.
    const out = option(args, "--out") ?? join(ROOT, "docs", "corpus");
    const run = JSON.parse(readFileSync(`${out}.json`, "utf8")) as { header: string; cap: number; results: Result[] };
    const doc = markdown(run.results, summaryOf(run.results, run.cap), run.header);
    writeFileSafely(`${out}.md`, doc);
    if (args.includes("--readme")) writeReadmeSection("corpus", doc.replace(/^# .*\n/, ""));
    process.stdout.write(doc);
    return;
  }
  const quick = args.includes("--quick");
  const large = args.includes("--large");
  const only = option(args, "--only")?.split(",");
  const cap = Number(option(args, "--cap") ?? (quick ? 60 : large ? 900 : 300));
  const budget = Number(option(args, "--budget") ?? (quick ? 300 : large ? 3000 : 3600));
  const seeds = (option(args, "--seeds") ?? String(settings.seed)).split(",").map(Number);
  const overrides = Object.fromEntries((option(args, "--set")?.split(",") ?? []).map((kv) => kv.split("=")).map(([k, v]) => [k, Number(v)])) as Partial<Settings>;
  const official = !quick && !large && !only && !option(args, "--out") && !option(args, "--set") && manifestPath === MANIFEST;
  const out = option(args, "--out") ?? join(ROOT, "docs", quick ? "corpus-quick" : large ? "corpus-large" : "corpus");
  const verbose = args.includes("--verbose");
  const keep = option(args, "--keep-models");
  const keepModels = keep === undefined ? undefined : resolve(keep);

  const manifestUsed = large ? (option(args, "--manifest") ?? LARGE_MANIFEST) : manifestPath;
  const manifest = JSON.parse(readFileSync(manifestUsed, "utf8")) as Entry[];
  // --quick: the smallest text of each of four kinds.
  const chosen = quick
    ? (["js", "dts", "readme", "bundle"] as Kind[]).map((k) => manifest.filter((e) => e.kind === k).sort((a, b) => a.length - b.length)[0])
    : manifest.filter((e) => !only || only.some((o) => e.kind === o || nameOf(e).includes(o)))
      .sort((a, b) => a.length - b.length); // smallest first: a run cut short by its budget still covers every kind
  // The trainer's settings as the runs use them; each run's seed is in its row.
  const { seed: _seed, ...recipe } = { ...settings, ...overrides, maxSeconds: cap };
  const resumed = args.includes("--resume") && existsSync(`${out}.json`) ? (JSON.parse(readFileSync(`${out}.json`, "utf8")) as { results: Result[] }).results : [];
  const results: Result[] = [];
  const started = Date.now();
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, load average ${loadavg()[0].toFixed(1)} at the start`;
  const header = [
    `# Corpus benchmark${large ? ", large tier (20–40 kB)" : ""}: time to exact on texts nobody here wrote`,
    "",
    `Written by \`npm run corpus${args.length ? ` -- ${args.map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a)).join(" ")}` : ""}\` (scripts/corpus.ts) on ${machine}. ${chosen.length} texts cut from the installed`,
    `dependencies by the fixed rule in scripts/corpus.ts (manifest: ${relative(ROOT, manifestUsed)}), each trained in a fresh process until`,
    `greedy decoding gives it back exactly, capped at ${cap} s each, ${budget} s for the whole run; seeds ${seeds.join(", ")}.`,
    `Settings besides the seed: ${JSON.stringify(recipe)}.`,
    `Seconds: wall-clock training time (the cap is wall-clock); CPU s: the training process's CPU time, which a busy machine inflates far less.`,
    `Hardest context: the longest left context (characters) that decides a position (\`neural-quine analyze\`); positions beyond window: how many need more than the ${recipe.window}-step BPTT window.`,
  ].join("\n");
  const save = () => {
    const summary = summaryOf(results, cap);
    writeFileSafely(`${out}.json`, `${JSON.stringify({ machine, cap, budget, seeds, settings: recipe, summary, header, results }, null, 2)}\n`);
    writeFileSafely(`${out}.md`, markdown(results, summary, header));
    return summary;
  };
  let i = 0;
  for (const entry of chosen) {
    for (const seed of seeds) {
      i++;
      const got = cut(entry);
      const text = "text" in got ? got.text : "";
      const analysis = rt.analyzeText(text, 0);
      const base = { text: nameOf(entry), kind: entry.kind, bytes: entry.length, seed, exact: false, epochs: 0, seconds: 0, cpuSeconds: 0, longestContext: analysis.longest, beyondWindow: Array.from(analysis.contexts).filter((k) => k > recipe.window).length };
      const done = resumed.find((r) => r.text === base.text && r.seed === seed && !r.note?.startsWith("not run"));
      const left = budget - (Date.now() - started) / 1000;
      let result: Result;
      if (done) result = done;
      else if ("problem" in got) result = { ...base, note: `skipped: ${got.problem}` };
      else if (left < Math.min(cap, 30)) result = { ...base, note: "not run: budget spent" };
      else {
        const spec: ChildSpec = { entry, seed, cap: Math.min(cap, left), overrides, keep: keepModels };
        // The kill is a backstop: the cap stops the training, and the parent's decoding stops within its own limit.
        const r = childResult(await runChild(JSON.stringify(spec), Math.min(cap, left) + publicationLimits.decodeSeconds + 120, verbose));
        // A run the budget stopped before its own cap is not a failure of the trainer: it is noted as
        // "not run" (which the summary leaves out and --resume runs again), though it trained.
        const cutByBudget = left < cap && !("problem" in r) && r.seconds >= 0.95 * left;
        result = "problem" in r ? { ...base, note: r.problem } : { ...base, ...r, note: r.exact ? undefined : cutByBudget ? `not run: budget spent after ${fmt(r.seconds)} s` : "not exact within the cap" };
        result.load = Number(loadavg()[0].toFixed(2));
      }
      results.push(result);
      const s = save();
      const elapsed = (Date.now() - started) / 1000;
      const parentSays = result.parentExact === undefined ? "" : result.parentExact ? ", the parent's decoder too" : ", NOT by the parent's decoder";
      process.stderr.write(`[${i}/${chosen.length * seeds.length}] ${result.kind} ${result.text} (${result.bytes} B, context ${result.longestContext}, seed ${seed}): ${result.note ?? `exact in ${result.epochs} epochs, ${fmt(result.seconds)} s${parentSays}`}; ${s.exact}/${s.runs} exact so far, ${fmt(elapsed, 0)} of ${budget} s spent\n`);
    }
  }
  const summary = save();
  const doc = markdown(results, summary, header);
  if (official) writeReadmeSection("corpus", doc.replace(/^# .*\n/, ""));
  process.stdout.write(doc);
  process.stdout.write(`wrote ${out}.md and ${out}.json${official ? " and the README's corpus section" : ""}\n`);
  if (!existsSync(dirname(out))) throw new Error(`${dirname(out)} does not exist.`);
}

// Run as a script (not when scripts/scaling.ts imports the child runner).
if (require.main === module) {
  const argv = process.argv.slice(2);
  (argv[0] === "--child" ? child(argv[1]) : main(argv)).catch((error: Error) => {
    process.stderr.write(`corpus: ${error.message}\n`);
    process.exit(1);
  });
}
