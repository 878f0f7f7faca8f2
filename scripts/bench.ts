// The benchmark (npm run bench): time-to-exact, from a cold process, on the bundle quine/quine.js and
// three fixed texts in bench/texts/ (about 1 kB of JavaScript, 4 kB of English prose, 10 kB mixed).
// For each: epochs, wall time, training characters per second, peak memory, backend, decode time,
// and, in the same process and on the same text, the throughput of a plain TensorFlow.js baseline
// (tf.layers.lstm through model.fit, same sizes) for a fixed number of steps. Writes
// docs/bench.json and the tables in docs/bench.md (between its bench markers). Speed is judged here, never in the tests.
//
// The bundle runs for real (`node quine/quine.js`, its output compared byte for byte); each text
// runs in a fresh child process of this script (`--train <file>`). Run from dist (see package.json).
//
// Then the kernels side by side (`--kernels` runs only this): the same training on the bundle's text
// with the JavaScript LSTM kernel and the WebAssembly one on one and on two threads, alternating in
// one process so that the load of a shared machine falls on all alike; characters/s and CPU seconds
// over wall seconds for each. And the sandbox beside a plain process (`--sandbox` runs only this):
// the bundle, its epoch budget cut, in the sandbox (one thread: it allows no worker threads) and
// standalone on one thread and on two, alternating rounds; characters/s of each. And the cold start
// (`--cold` runs only this): where a fresh `node quine/quine.js` spends its time until its first
// epoch is done, phase by phase, wall and CPU, the median of COLD_RUNS runs stopped there.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { QUINE_PATH, ROOT } from "../src/paths";
import { encode, makeVocab } from "../src/quine/data";
import { decodeGreedy } from "../src/quine/sample";
import { settings, trainUntilExact } from "../src/quine/train";
import { check, readJsonFile } from "../src/files/json";
import { DEFAULT_LIMITS, runInSandbox } from "../src/sandbox";
import { publicationLimits, readStoredModel } from "../src/sandbox/publication";
import { decodeModel, decoderSteps, type DecoderKernel } from "../src/runtime/decoder";
import * as rt from "../src/runtime";
import { EpochSchema, TrainingRecordSchema, type Epoch } from "../src/runtime/epoch";
import { writeReadmeSection } from "./readme-section";
import { readArguments } from "./arguments";

const BASELINE_STEPS = 8; // timed model.fit steps, after one untimed warm-up step
const MAX_SECONDS = 900; // training budget per text: a run that needs more is reported as not exact
const KERNEL_EPOCHS = 6; // epochs of the bundle's text per kernel and round in the side-by-side comparison
const KERNEL_ROUNDS = 3; // rounds of js then wasm
const SANDBOX_EPOCHS = 10; // epochs of the bundle per run in the sandbox comparison
const SANDBOX_ROUNDS = 3; // rounds of sandbox, standalone on one thread, standalone on two
const COLD_RUNS = 5; // cold starts of the bundle, each stopped after its first epoch

const TEXTS = [
  { name: "bundle quine/quine.js", path: QUINE_PATH },
  { name: "JavaScript bench/texts/code.js", path: join(ROOT, "bench", "texts", "code.js") },
  { name: "English prose bench/texts/prose.txt", path: join(ROOT, "bench", "texts", "prose.txt") },
  { name: "mixed bench/texts/mixed.md", path: join(ROOT, "bench", "texts", "mixed.md") },
];

/** One text's result; seconds are wall-clock. */
interface Result {
  text: string;
  bytes: number;
  exact: boolean;
  epochs: number;
  wallSeconds: number; // cold: from spawning the process until it has the exact text
  cpuSeconds: number; // CPU time of that process over the same span: what a busy machine does not inflate
  trainSeconds: number;
  charsPerSecond: number; // training characters (positions) per second, over the whole training
  peakMB: number; // peak resident memory of the process that trained
  backend: string;
  kernel: string; // the LSTM kernel that trained, and its threads: "wasm, 2 threads"
  decodeSeconds: number; // greedy decoding of the whole text from the trained model
  parentDecodeSeconds?: Record<DecoderKernel, number>; // the bundle only: the parent's decoder (float64) on its model, wasm and JavaScript
  baselineCharsPerSecond: number;
  ratio: number; // ours / baseline
}

/** Throughput of plain TensorFlow.js on `text`: tf.layers.lstm + dense through model.fit, our sizes. */
async function baseline(text: string): Promise<number> {
  const vocab = makeVocab(text);
  const ids = encode(text, vocab);
  const [B, T, H, V] = [settings.streams, settings.window, settings.hidden, vocab.length];
  const model = tfl.sequential({
    layers: [
      // Glorot rather than the default orthogonal recurrent initializer: only throughput is measured,
      // and tfjs's orthogonal initializer needs the chained ops (tensor.flatten()), which the runtime does not register.
      tfl.layers.lstm({ units: H, returnSequences: true, recurrentActivation: "sigmoid", recurrentInitializer: "glorotUniform", inputShape: [T, V] }),
      tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: V, activation: "softmax" }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(settings.learningRate), loss: "categoricalCrossentropy" });
  // B windows of T characters from the text, one-hot [B,T,V]; each target is one ahead of its input.
  const oneHot = (ahead: number) => {
    const values = new Float32Array(B * T * V);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) values[(b * T + t) * V + ids[(b * T + t + ahead) % ids.length]] = 1;
    return tf.tensor3d(values, [B, T, V]);
  };
  const [x, y] = [oneHot(0), oneHot(1)];
  await model.fit(x, y, { batchSize: B, epochs: 1, verbose: 0 }); // warm-up: kernels, weights
  const start = performance.now();
  await model.fit(x, y, { batchSize: B, epochs: BASELINE_STEPS, verbose: 0 });
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([x, y]);
  model.dispose();
  return (BASELINE_STEPS * B * T) / seconds;
}

/** Greedy decoding of the whole text, timed; throws unless it gives the text back exactly. */
function timedDecode(model: rt.QuineModel, text: string): number {
  const start = performance.now();
  const decoded = decodeGreedy(model, [...text].length + 1);
  const seconds = (performance.now() - start) / 1000;
  if (decoded.text !== text) throw new Error("decoding did not give the text back");
  return seconds;
}

/** The kernel this process trains on, as the tables write it: "wasm, 2 threads". */
function kernelLabel(): string {
  const threads = rt.kernelThreads();
  return `${rt.kernelName()}, ${threads} thread${threads > 1 ? "s" : ""}`;
}

/** CPU seconds (user + system) this process has used. */
function cpuTime(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Child: train on one file from this cold process, then decode and run the baseline. */
async function trainChild(path: string): Promise<void> {
  const backend = await rt.initBackend(rt.parseBackend(process.env.NQ_BACKEND ?? "auto"));
  const text = readFileSync(path, "utf8");
  const trained = trainUntilExact(text, { maxSeconds: MAX_SECONDS });
  const wallSeconds = process.uptime();
  const cpuSeconds = cpuTime();
  const peakMB = process.resourceUsage().maxRSS / 1024;
  const decodeSeconds = trained.exact ? timedDecode(trained.model, text) : NaN;
  const positions = [...text].length + 1;
  const charsPerSecond = (trained.epochs * positions) / trained.seconds;
  const report = { exact: trained.exact, epochs: trained.epochs, wallSeconds, cpuSeconds, trainSeconds: trained.seconds, charsPerSecond, peakMB, backend, kernel: kernelLabel(), decodeSeconds, baselineCharsPerSecond: await baseline(text) };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * Child: decode the bundle's saved model (timed), then as the parent decodes a publication, on the
 * wasm kernel and in JavaScript (each must give the text back), then run the baseline on the bundle.
 */
async function decodeChild(modelDir: string, path: string): Promise<void> {
  await rt.initBackend(rt.parseBackend(process.env.NQ_BACKEND ?? "auto"));
  const text = readFileSync(path, "utf8");
  const model = await rt.loadModel(modelDir);
  const decodeSeconds = timedDecode(model, text);
  const published = readStoredModel(modelDir, publicationLimits);
  const parentDecodeSeconds = { wasm: NaN, js: NaN };
  const probe = decoderSteps(published, 1, "wasm");
  probe.release();
  if (probe.kernel !== "wasm") throw new Error("the parent's decoder cannot run on the wasm kernel here: nothing to compare");
  for (const kernel of ["wasm", "js"] as const) {
    const decoded = decodeModel(published, { maxChars: [...text].length, maxSeconds: publicationLimits.decodeSeconds }, undefined, kernel);
    if (decoded.text !== text) throw new Error(`the parent's decoder (${kernel}) did not give the bundle back`);
    parentDecodeSeconds[kernel] = decoded.seconds;
  }
  process.stdout.write(`${JSON.stringify({ decodeSeconds, parentDecodeSeconds, baselineCharsPerSecond: await baseline(text) })}\n`);
}

/**
 * Runs a node process; its stderr goes on to ours as it comes. Resolves with its output and wall
 * time. `ownSession`: in a session of its own, as the sandbox starts its child, since Linux shares
 * the CPU between sessions first (autogroups), which on a busy machine favours a process alone in one.
 */
function runNode(args: string[], env: NodeJS.ProcessEnv = {}, ownSession = false): Promise<{ stdout: string; stderr: string; status: number | null; seconds: number }> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, detached: ownSession });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      err.push(chunk);
      process.stderr.write(chunk);
    });
    child.on("close", (status) => resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), status, seconds: (performance.now() - start) / 1000 }));
  });
}

/** The last JSON line a child printed, or a clear error with its exit status. */
function lastJson<T>(run: { stdout: string; status: number | null }, what: string): T {
  const line = run.stdout.trim().split("\n").pop() ?? "";
  if (run.status !== 0 || !line.startsWith("{")) throw new Error(`${what} failed (exit status ${run.status}).`);
  return JSON.parse(line) as T;
}

/** The bundle, for real: `node quine/quine.js` from a cold process, its output compared byte for byte. */
async function benchBundle(): Promise<Result> {
  const text = readFileSync(QUINE_PATH, "utf8");
  const dir = mkdtempSync(join(tmpdir(), "nq-bench-"));
  // A preloaded hook reports the process's peak memory and CPU time as it exits.
  const usageFile = join(dir, "usage.json");
  const hook = join(dir, "usage.cjs");
  writeFileSync(hook, `process.on("exit", () => { const { user, system } = process.cpuUsage(); require("fs").writeFileSync(${JSON.stringify(usageFile)}, JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, cpuSeconds: (user + system) / 1e6 })); });\n`);
  const run = await runNode(["--require", hook, QUINE_PATH], { NQ_MODEL_DIR: join(dir, "model") });
  const exact = run.status === 0 && run.stdout === text;
  if (run.status !== 0) throw new Error(`the bundle failed (exit status ${run.status}).`);
  const training = readJsonFile(join(dir, "model", "training.json"), TrainingRecordSchema, "the bundle's training.json");
  const trainSeconds = training.history.at(-1)?.seconds ?? NaN;
  const decoded = exact ? lastJson<{ decodeSeconds: number; parentDecodeSeconds: Record<DecoderKernel, number>; baselineCharsPerSecond: number }>(
    await runNode([__filename, "--decode", join(dir, "model"), QUINE_PATH]), "decoding the bundle's model") : { decodeSeconds: NaN, baselineCharsPerSecond: NaN };
  const charsPerSecond = Math.round((training.epochs * ([...text].length + 1)) / trainSeconds);
  const usage = JSON.parse(readFileSync(usageFile, "utf8")) as { maxRSS: number; cpuSeconds: number };
  return {
    text: TEXTS[0].name,
    bytes: Buffer.byteLength(text),
    exact,
    epochs: training.epochs,
    wallSeconds: run.seconds,
    cpuSeconds: usage.cpuSeconds,
    trainSeconds,
    charsPerSecond,
    peakMB: usage.maxRSS / 1024,
    backend: training.backend,
    kernel: kernelLabel(), // the child chose as this process does: NQ_KERNEL and NQ_THREADS, else wasm on two threads where it runs
    ...decoded,
    ratio: charsPerSecond / decoded.baselineCharsPerSecond,
  };
}

async function benchText(name: string, path: string): Promise<Result> {
  const run = await runNode([__filename, "--train", path]);
  const r = lastJson<Omit<Result, "text" | "bytes" | "ratio">>(run, `training on ${path}`);
  return { text: name, bytes: readFileSync(path).length, ...r, ratio: r.charsPerSecond / r.baselineCharsPerSecond };
}

/** One kernel's share of the side-by-side comparison. */
interface KernelResult {
  kernel: string;
  epochs: number;
  charsPerSecond: number; // training characters over the training's wall seconds
  cpuPerWall: number; // CPU seconds of this process over wall seconds (final decoding included): cores kept busy
}

/**
 * The same training on the bundle's text with each kernel in turn, in this one process, rounds
 * alternating js and wasm: on a shared machine both see the same load, so their ratio holds when
 * the absolute numbers do not. Each round trains from the same seed for KERNEL_EPOCHS epochs. Then
 * the wasm kernel on one thread and on two in the one-stream phase alone (the trainer's last
 * phase, one stream through the whole text, from the second epoch on: `final` set high).
 */
async function compareKernels(): Promise<{ results: KernelResult[]; load: number }> {
  await rt.initBackend(rt.parseBackend(process.env.NQ_BACKEND ?? "auto"));
  const text = readFileSync(QUINE_PATH, "utf8");
  const positions = [...text].length + 1;
  const load = loadavg()[0];
  const totals = new Map<string, { epochs: number; trainWall: number; cpu: number; wall: number }>();
  const kernels: { kernel: "js" | "wasm"; threads: 1 | 2; oneStream?: boolean }[] = [{ kernel: "js", threads: 1 }];
  if (rt.setKernel("wasm", 1) === "wasm") kernels.push({ kernel: "wasm", threads: 1 });
  if (rt.setKernel("wasm", 2) === "wasm" && rt.kernelThreads() === 2) kernels.push({ kernel: "wasm", threads: 2 });
  kernels.push(...kernels.filter((k) => k.kernel === "wasm").map((k) => ({ ...k, oneStream: true })));
  for (let round = 0; round < KERNEL_ROUNDS; round++) {
    for (const { kernel: name, threads, oneStream } of kernels) {
      rt.setKernel(name, threads);
      const kernel = `${kernelLabel()}${oneStream ? ", one stream" : ""}`;
      const [cpu0, wall0] = [cpuTime(), performance.now()];
      const trained = trainUntilExact(text, { maxEpochs: KERNEL_EPOCHS, ...(oneStream ? { final: Infinity } : {}) });
      // The training's own clock stops before the final decoding, which is the same for both kernels.
      // One stream: from the end of the first epoch, which ran on 8 streams.
      const trainWall = trained.history[trained.history.length - 1].seconds - (oneStream ? trained.history[0].seconds : 0);
      const epochs = trained.epochs - (oneStream ? 1 : 0);
      const [cpu, wall] = [cpuTime() - cpu0, (performance.now() - wall0) / 1000];
      const total = totals.get(kernel) ?? { epochs: 0, trainWall: 0, cpu: 0, wall: 0 };
      totals.set(kernel, { epochs: total.epochs + epochs, trainWall: total.trainWall + trainWall, cpu: total.cpu + cpu, wall: total.wall + wall });
      process.stderr.write(`kernels: round ${round + 1} ${kernel}: ${Math.round(epochs * positions / trainWall)} chars/s\n`);
    }
  }
  rt.setKernel("auto", 2);
  const results = [...totals].map(([kernel, t]) => ({ kernel, epochs: t.epochs, charsPerSecond: t.epochs * positions / t.trainWall, cpuPerWall: t.cpu / t.wall }));
  return { results, load };
}

function kernelMarkdown({ results, load }: { results: KernelResult[]; load: number }): string {
  const js = results.find((r) => r.kernel.startsWith("js"));
  return [
    `The LSTM kernels side by side on the bundle's text (${KERNEL_ROUNDS} alternating rounds of ${KERNEL_EPOCHS} epochs each, one process, load average ${load.toFixed(1)} at the start):`,
    "",
    "| kernel | epochs | chars/s | CPU s / wall s | vs js |",
    "|---|--:|--:|--:|--:|",
    ...results.map((r) => `| ${r.kernel} | ${r.epochs} | ${fmt(r.charsPerSecond, 0)} | ${fmt(r.cpuPerWall, 2)} | ${js ? fmt(r.charsPerSecond / js.charsPerSecond, 2) : "–"}× |`),
    "",
    "\"One stream\": the trainer's last phase alone (one stream through the whole text, in windows as long as the text), timed from",
    "the second epoch on; the second thread follows the recurrence and takes the output layer and half the weight gradients (the",
    "recurrence itself stays on one). CPU s / wall s there counts the whole training, first epoch and decoding included.",
    "",
  ].join("\n");
}

/** Where the sandbox comparison ran the bundle, and how fast it trained there. */
interface SandboxResult {
  where: string;
  epochs: number;
  charsPerSecond: number; // training characters over the training's own wall seconds (startup and decoding not counted)
}

/** A run's epochs and training seconds, from its history. */
function rateOf(history: Epoch[]): { epochs: number; seconds: number } {
  return { epochs: history.length, seconds: history.at(-1)?.seconds ?? NaN };
}

/**
 * The bundle in the sandbox beside the same program standalone on one thread (the sandbox's
 * count) and on two, in alternating rounds, each run a fresh process trained for SANDBOX_EPOCHS
 * epochs: the program is the bundle with its epoch budget cut, written inside the package so that
 * standalone it finds neural-quine/runtime as the bundle does.
 */
async function compareSandbox(): Promise<{ results: SandboxResult[]; load: number }> {
  const text = readFileSync(QUINE_PATH, "utf8");
  const budget = /maxEpochs: [^,\n]+/;
  if (!budget.test(text)) throw new Error("the bundle has no maxEpochs setting to cut.");
  const dir = mkdtempSync(join(ROOT, ".bench-sandbox-"));
  const program = join(dir, "quine.js");
  writeFileSync(program, text.replace(budget, `maxEpochs: ${SANDBOX_EPOCHS}`));
  const positions = [...readFileSync(program, "utf8")].length + 1;
  const load = loadavg()[0];
  const totals = new Map<string, { epochs: number; seconds: number }>();
  const add = (where: string, run: { epochs: number; seconds: number }) => {
    const total = totals.get(where) ?? { epochs: 0, seconds: 0 };
    totals.set(where, { epochs: total.epochs + run.epochs, seconds: total.seconds + run.seconds });
    process.stderr.write(`sandbox comparison: ${where}: ${Math.round(run.epochs * positions / run.seconds)} chars/s\n`);
  };
  try {
    for (let round = 0; round < SANDBOX_ROUNDS; round++) {
      const limits = { ...DEFAULT_LIMITS, backend: rt.parseBackend(process.env.NQ_BACKEND ?? "auto") };
      const result = await runInSandbox(program, limits);
      if (result.status !== "ok") throw new Error(`the bundle died in the sandbox: ${result.reason}`);
      const history = check(EpochSchema.array(), result.history);
      if (history.error !== undefined) throw new Error(`the bundle's history in the sandbox: ${history.error}.`);
      add(`sandbox, ${result.kernel.name}, ${result.kernel.threads} thread${result.kernel.threads > 1 ? "s" : ""}`, rateOf(history.data));
      for (const threads of ["1", "2"]) {
        const model = join(dir, `model-${threads}`);
        const run = await runNode([program], { NQ_THREADS: threads, NQ_MODEL_DIR: model }, true);
        if (run.status !== 0) throw new Error(`the bundle failed standalone (exit status ${run.status}).`);
        const training = readJsonFile(join(model, "training.json"), TrainingRecordSchema, "the cut bundle's training.json");
        add(`standalone, wasm, ${threads} thread${threads === "2" ? "s" : ""}`, rateOf(training.history));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { results: [...totals].map(([where, t]) => ({ where, epochs: t.epochs, charsPerSecond: t.epochs * positions / t.seconds })), load };
}

function sandboxMarkdown({ results, load }: { results: SandboxResult[]; load: number }): string {
  const alone = results.find((r) => r.where.startsWith("standalone") && r.where.endsWith(" 1 thread"));
  return [
    `The bundle in the sandbox and standalone (${SANDBOX_ROUNDS} alternating rounds of ${SANDBOX_EPOCHS} epochs each, a fresh process each, load average ${load.toFixed(1)} at the start):`,
    "",
    "| where, kernel | epochs | chars/s | vs standalone on one thread |",
    "|---|--:|--:|--:|",
    ...results.map((r) => `| ${r.where} | ${r.epochs} | ${fmt(r.charsPerSecond, 0)} | ${alone ? fmt(r.charsPerSecond / alone.charsPerSecond, 2) : "–"}× |`),
    "",
  ].join("\n");
}

/**
 * Preloaded into the bundle's process (--require): marks, in wall and CPU milliseconds since the
 * process started, the end of each phase before the first epoch — Node's own start, loading
 * TensorFlow.js and the runtime, rt.start (the backend), reading the text, the features' analysis
 * (rt.inputRows), the layout and the weights, rt.trainer (the kernel compiled, its helper thread,
 * its memory) — and the first epoch, by wrapping those functions as they load; at the first
 * epoch's progress line it writes the marks to COLD_FILE and ends the process.
 */
const COLD_HOOK = `
if (require("node:worker_threads").isMainThread) {
  const Module = require("node:module");
  const cpu = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };
  const marks = [["node started", performance.now(), cpu()]];
  const mark = (name) => marks.push([name, performance.now(), cpu()]);
  const wrap = (exports, name, before, after) => {
    const original = exports[name];
    exports[name] = function (...args) { if (before) mark(before); const result = original.apply(this, args); mark(after); return result; };
  };
  const load = Module._load;
  Module._load = function (request, parent, ...rest) {
    const exports = load.call(this, request, parent, ...rest);
    const from = parent && parent.filename ? parent.filename : "";
    if (request === "@tensorflow/tfjs-core" && !from.includes("node_modules") && marks.length === 1) mark("TensorFlow.js loaded");
    if (request === "neural-quine/runtime" && !marks.some(([name]) => name === "runtime loaded")) {
      mark("runtime loaded");
      const start = exports.start;
      exports.start = (...args) => start(...args).then((backend) => (mark("backend started (rt.start)"), backend));
      exports.progress = (record) => {
        const [, wall] = marks[marks.length - 1];
        marks.push(["first epoch", wall + record.seconds * 1000, null], ["first progress", performance.now(), cpu()]);
        require("node:fs").writeFileSync(process.env.COLD_FILE, JSON.stringify(marks));
        process.exit(0);
      };
    }
    if (request === "./features" && !exports.__cold) {
      exports.__cold = true;
      wrap(exports, "inputRows", "text read", "features analysed (rt.inputRows)");
    }
    if (request === "./trainer" && !exports.__cold) {
      exports.__cold = true;
      wrap(exports, "trainer", "layout and weights made", "trainer ready (rt.trainer: kernel, helper thread, memory)");
    }
    return exports;
  };
}
`;

/** One phase of the cold start: its median wall and CPU milliseconds over the runs. */
interface ColdPhase {
  phase: string;
  wallMs: number;
  cpuMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The bundle's cold start, COLD_RUNS times, each stopped after its first epoch: each phase's median. */
async function coldStart(): Promise<{ phases: ColdPhase[]; load: number; runs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "nq-cold-"));
  const hook = join(dir, "cold.cjs");
  writeFileSync(hook, COLD_HOOK);
  const load = loadavg()[0];
  const runs: [string, number, number | null][][] = [];
  try {
    for (let k = 0; k < COLD_RUNS; k++) {
      const file = join(dir, `marks-${k}.json`);
      const run = await runNode(["--require", hook, QUINE_PATH], { COLD_FILE: file });
      if (run.status !== 0) throw new Error(`the bundle's cold start failed (exit status ${run.status}).`);
      runs.push(JSON.parse(readFileSync(file, "utf8")) as [string, number, number | null][]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Phase k lasts from mark k-1 to mark k (the first from the process's start). The first epoch's
  // end has no CPU mark (null: it is known only from its record), so its CPU is counted with the progress line's.
  const cpuAt = (marks: [string, number, number | null][], k: number): number => marks[k][2] ?? cpuAt(marks, k - 1);
  const phases = runs[0].map(([phase, , cpu], k) => ({
    phase,
    wallMs: median(runs.map((marks) => marks[k][1] - (k ? marks[k - 1][1] : 0))),
    cpuMs: cpu === null ? NaN : median(runs.map((marks) => (marks[k][2] ?? NaN) - (k ? cpuAt(marks, k - 1) : 0))),
  }));
  return { phases, load, runs: runs.length };
}

function coldMarkdown({ phases, load, runs }: { phases: ColdPhase[]; load: number; runs: number }): string {
  const total = (key: "wallMs" | "cpuMs") => phases.reduce((sum, p) => sum + (Number.isFinite(p[key]) ? p[key] : 0), 0);
  return [
    `Cold start: \`node quine/quine.js\` from its process's start to the end of its first epoch, phase by phase (median of ${runs} runs, each stopped there; load average ${load.toFixed(1)} at the start). CPU counts every thread; the first epoch's CPU is in the row after it.`,
    "",
    "| phase (until) | wall ms | CPU ms |",
    "|---|--:|--:|",
    ...phases.map((p) => `| ${p.phase} | ${fmt(p.wallMs, 0)} | ${fmt(p.cpuMs, 0)} |`),
    `| **total** | ${fmt(total("wallMs"), 0)} | ${fmt(total("cpuMs"), 0)} |`,
    "",
  ].join("\n");
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "–");

function markdown(results: Result[], targets: { target: string; measured: string; met: boolean }[], machine: string, kernels: string, sandbox: string): string {
  const rows = results.map((r) => `| ${r.text} | ${r.bytes} | ${r.exact ? "yes" : "**no**"} | ${fmt(r.epochs, 0)} | ${fmt(r.wallSeconds)} | ${fmt(r.cpuSeconds)} | ${fmt(r.cpuSeconds / r.wallSeconds, 2)} | ${fmt(r.trainSeconds)} | ${fmt(r.charsPerSecond, 0)} | ${fmt(r.baselineCharsPerSecond, 0)} | ${fmt(r.ratio)}× | ${fmt(r.peakMB, 0)} | ${r.backend} | ${r.kernel} | ${fmt(r.decodeSeconds, 2)} |`);
  return [
    "# Benchmark: time to exact",
    "",
    `Written by \`npm run bench\` (scripts/bench.ts) on ${machine}. Wall time is from a cold process until it has`,
    "the exact text (for the bundle: `node quine/quine.js` until it exits, its output compared byte for byte).",
    "CPU s is that process's CPU time over the same span: on a busy machine wall time grows, CPU time hardly;",
    "CPU/wall is how many cores it kept busy (start-up and decoding, on one, included).",
    "Chars/s counts training positions over the whole training; the baseline is plain TensorFlow.js",
    `(tf.layers.lstm + dense through model.fit, the same sizes: ${settings.hidden} units, ${settings.streams} streams × ${settings.window} steps), run in the same process on the same text.`,
    "",
    "| text | bytes | exact | epochs | wall s (cold) | CPU s | CPU/wall | training s | chars/s | baseline chars/s | ratio | peak MB | backend | kernel | decode s |",
    "|---|--:|:-:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|--:|",
    ...rows,
    "",
    "| target | measured | met |",
    "|---|---|:-:|",
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`),
    "",
    kernels,
    sandbox,
  ].join("\n");
}

async function main(): Promise<void> {
  const load = loadavg()[0]; // other work on the machine slows every number here: say how busy it was
  const results: Result[] = [];
  for (const { name, path } of TEXTS) {
    process.stderr.write(`\n== ${name}\n`);
    try {
      results.push(path === QUINE_PATH ? await benchBundle() : await benchText(name, path));
    } catch (error) {
      // One failed text is a row that says so, not the end of the benchmark.
      process.stderr.write(`bench: ${(error as Error).message}\n`);
      results.push({ text: name, bytes: readFileSync(path).length, exact: false, epochs: NaN, wallSeconds: NaN, cpuSeconds: NaN, trainSeconds: NaN, charsPerSecond: NaN, peakMB: NaN, backend: "?", kernel: "?", decodeSeconds: NaN, baselineCharsPerSecond: NaN, ratio: NaN });
    }
  }
  process.stderr.write("\n== kernels side by side\n");
  const kernels = await compareKernels();
  process.stderr.write("\n== the sandbox beside standalone\n");
  const sandbox = await compareSandbox();
  process.stderr.write("\n== the cold start\n");
  const cold = await coldStart();
  const [bundle, , , mixed] = results;
  const minRatio = Math.min(...results.map((r) => r.ratio));
  const rateIn = (where: string) => sandbox.results.find((r) => r.where.startsWith(where))?.charsPerSecond ?? NaN;
  const sandboxRatio = rateIn("sandbox") / rateIn("standalone, wasm, 1 thread");
  const rateOfKernel = (kernel: string) => kernels.results.find((r) => r.kernel === kernel)?.charsPerSecond ?? NaN;
  const oneStreamRatio = rateOfKernel("wasm, 2 threads, one stream") / rateOfKernel("wasm, 1 thread, one stream");
  const parent = bundle.parentDecodeSeconds ?? { wasm: NaN, js: NaN };
  const targets = [
    { target: "bundle exact in ≤ 12 s wall, cold start included", measured: `${fmt(bundle.wallSeconds)} s wall (${fmt(bundle.cpuSeconds)} s CPU), ${bundle.epochs} epochs`, met: bundle.exact && bundle.wallSeconds <= 12 },
    { target: "bundle trains at ≥ 70,000 chars/s standalone", measured: `${fmt(bundle.charsPerSecond, 0)} chars/s (${bundle.kernel})`, met: bundle.charsPerSecond >= 70000 },
    { target: "bundle keeps ≥ 1.6 cores busy (CPU s / wall s)", measured: fmt(bundle.cpuSeconds / bundle.wallSeconds, 2), met: bundle.cpuSeconds / bundle.wallSeconds >= 1.6 },
    { target: "the one-stream phase faster on two threads than on one (same bits)", measured: `${fmt(oneStreamRatio, 2)}× (${fmt(rateOfKernel("wasm, 2 threads, one stream"), 0)} against ${fmt(rateOfKernel("wasm, 1 thread, one stream"), 0)} chars/s)`, met: oneStreamRatio > 1 },
    { target: "sandbox ≥ 0.95 × standalone on one thread (bundle)", measured: `${fmt(sandboxRatio, 2)}× (${fmt(rateIn("sandbox"), 0)} against ${fmt(rateIn("standalone, wasm, 1 thread"), 0)} chars/s)`, met: sandboxRatio >= 0.95 },
    { target: "the parent's decoder on the bundle's model faster in wasm than in JavaScript (same text)", measured: `${fmt(parent.wasm, 2)} s against ${fmt(parent.js, 2)} s (${fmt(parent.js / parent.wasm, 1)}×)`, met: parent.wasm < parent.js },
    { target: "training throughput ≥ 10× plain TensorFlow.js, same text", measured: `${fmt(minRatio)}× (lowest of the four texts)`, met: minRatio >= 10 },
    { target: "10 kB text exact in ≤ 5 minutes", measured: `${fmt(mixed.wallSeconds)} s wall (${fmt(mixed.cpuSeconds)} s CPU), ${mixed.epochs} epochs`, met: mixed.exact && mixed.wallSeconds <= 300 },
    { target: "decoding the bundle back ≤ 1 s", measured: `${fmt(bundle.decodeSeconds, 2)} s`, met: bundle.decodeSeconds <= 1 },
  ];
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load average ${load.toFixed(1)} at the start`;
  const page = markdown(results, targets, machine, kernelMarkdown(kernels), sandboxMarkdown(sandbox));
  writeFileSync(join(ROOT, "docs", "bench.json"), `${JSON.stringify({ machine, settings, results, targets, kernels, sandbox }, null, 2)}\n`);
  writeReadmeSection("bench", page.replace(/^# .*\n/, ""), join(ROOT, "docs", "bench.md"));
  process.stdout.write(page);
  await writeCold(cold);
}

/** Writes the cold start into docs/bench.md (its own section) and docs/bench.json (its `cold`), and prints it. */
async function writeCold(cold: Awaited<ReturnType<typeof coldStart>>): Promise<void> {
  const page = coldMarkdown(cold);
  const file = join(ROOT, "docs", "bench.json");
  const json = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  writeFileSync(file, `${JSON.stringify({ ...json, cold }, null, 2)}\n`);
  writeReadmeSection("cold", page, join(ROOT, "docs", "bench.md"));
  process.stdout.write(page);
}

async function run(argv: string[]): Promise<void> {
  if (!readArguments(__filename, argv, ["--train", "--decode", "--kernels", "--sandbox", "--cold"])) return;
  const [mode, ...args] = argv;
  if (mode === "--train") await trainChild(args[0]);
  else if (mode === "--decode") await decodeChild(args[0], args[1]);
  else if (mode === "--kernels") process.stdout.write(kernelMarkdown(await compareKernels()));
  else if (mode === "--sandbox") process.stdout.write(sandboxMarkdown(await compareSandbox()));
  else if (mode === "--cold") await writeCold(await coldStart());
  else await main();
}

run(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`bench: ${error.message}\n`);
  process.exit(1);
});
