#!/usr/bin/env node
// The neural-quine command line: parses arguments and calls into src/. No logic lives here.
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { join } from "node:path";
import { bundleQuine, QUINE_PATH, ROOT, writeQuine } from "./bundle";
import { analyzeFile, emitModel, memorizeFile } from "./memorize";
import {
  bootstrapSummary, colorizeDiff, emitCheck, findEmitTarget, findGeneration, generationDiff, generationsRecords,
  generationsTable, originalDiff, progressPrinter, requireIntact, requireStore, showGeneration,
} from "./ouroboros/inspect";
import { bootstrap, DEFAULT_DIR, DEFAULT_GENERATIONS } from "./ouroboros/lineage";
import { DEFAULT_LIMITS } from "./ouroboros/sandbox";
import { readLineage } from "./ouroboros/store";
import { settings } from "./quine/train";
import { parseBackend, type BackendName } from "./runtime";

const program = new Command("neural-quine")
  .description("Neural networks that reproduce themselves: an LSTM that prints its own trainer, generations of it, and weight quines.")
  .version((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version)
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text.startsWith("error:") ? `neural-quine: ${text}` : text) });

/** Commander argument parser for positive integers. */
function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer.");
  return n;
}

/** Commander argument parser for positive numbers. */
function num(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a non-negative number.");
  return n;
}

/** Runs a command body; a failure prints one clear sentence and exits non-zero (stack with NQ_DEBUG=1). */
function run<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`neural-quine: ${message}\n`);
      if (process.env.NQ_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
    }
  };
}

// ---- commands -------------------------------------------------------------------------------

// The code quine: memorize a text, decode it back, build the bundle.
const backendOption = (cmd: Command): Command =>
  cmd.option("--backend <name>", "TensorFlow.js backend: auto, node, wasm or cpu", parseBackend, "auto" as BackendName);

backendOption(program.command("train <file>")
  .description("train an LSTM on a UTF-8 text file until greedy decoding gives it back exactly; save the model")
  .option("--out <dir>", "where model.json, weights.bin and metrics.json go (default: <file>.model)")
  .option("--seed <n>", "random seed for initialisation", int, settings.seed)
  .option("--margin <x>", "logit lead the right character must have at every position", num, settings.margin)
  .option("--hidden <n>", "LSTM units", int, settings.hidden)
  .option("--max-epochs <n>", "give up after this many passes over the text", int, settings.maxEpochs)
  .option("--max-seconds <n>", "give up after this much training time", num, settings.maxSeconds)
  .option("--json", "print the metrics as JSON on stdout"))
  .action(run(async (file: string, opts: { out?: string; seed: number; margin: number; hidden: number; maxEpochs: number; maxSeconds: number; json?: boolean; backend: BackendName }) => {
    const { out, metrics } = await memorizeFile(file, opts.out, opts);
    if (opts.json) process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
    else process.stdout.write(`${metrics.exact ? "exact" : "NOT exact"}: ${metrics.characters} characters in ${metrics.epochs} epochs, ${metrics.trainSeconds.toFixed(1)} s on ${metrics.backend} (${metrics.charsPerSecond} chars/s); smallest margin ${metrics.minMargin.toFixed(2)}; weights ${metrics.weightsHash.slice(0, 16)}; saved to ${out}\n`);
    if (!metrics.exact) throw new Error(`Training did not reach an exact model within its budget; the best model so far is saved in ${out}.`);
  }));

program.command("analyze <file>")
  .description("which positions of a text need the longest context to predict, and how hard training will find it")
  .option("--top <n>", "how many of the hardest positions to list", int, 10)
  .option("--json", "print the analysis as JSON")
  .action(run(async (file: string, opts: { top: number; json?: boolean }) => {
    process.stdout.write(analyzeFile(file, opts.top, opts.json));
  }));

backendOption(program.command("emit <gen-or-model-dir>")
  .description("decode a saved model back to its text, on stdout: a model directory, a generation folder, or a generation number in --dir")
  .option("--dir <dir>", "the generations folder a generation number refers to", DEFAULT_DIR)
  .option("--max-chars <n>", "stop decoding after this many characters (default: twice the length the model was trained on, plus 1000)", int)
  .option("--check", "instead of printing the text, check that it equals the generation's stored emitted text"))
  .action(run(async (value: string, opts: { dir: string; maxChars?: number; check?: boolean; backend: BackendName }) => {
    const target = findEmitTarget(value, opts.dir);
    const { text, minMargin, backend, stopped } = await emitModel(target.modelDir, opts.backend, opts.maxChars);
    if (stopped && !opts.check) {
      process.stdout.write(text);
      throw new Error(stopped);
    }
    if (opts.check) {
      const { ok, message } = emitCheck(target, text);
      if (!ok) throw new Error(message);
      process.stdout.write(`${message}\n`);
      return;
    }
    process.stdout.write(text);
    process.stderr.write(`backend: ${backend}; ${text.length} characters; smallest margin ${minMargin.toFixed(2)}\n`);
  }));

// The ouroboros: generations of programs, each emitted by its parent's model (src/ouroboros/).
const dirOption = (cmd: Command): Command => cmd.option("--dir <dir>", "the generations folder", DEFAULT_DIR);

dirOption(backendOption(program.command("bootstrap")
  .description("run the ouroboros: each generation's program trains on its own text in the sandbox; what it emits is the next program")
  .option("--generations <n>", "run until the lineage has this many generations (finished ones are kept)", int, DEFAULT_GENERATIONS)
  .option("--from <file>", "start the lineage from this program instead of the bundle quine/quine.js")
  .option("--timeout <seconds>", "a program's time limit", num, DEFAULT_LIMITS.timeoutMs / 1000)
  .option("--max-memory <MB>", "a program's memory limit", num, DEFAULT_LIMITS.maxMemoryMb)
  .option("--json", "print the lineage as JSON on stdout when done")))
  .action(run(async (opts: { generations: number; from?: string; timeout: number; maxMemory: number; dir: string; json?: boolean; backend: BackendName }) => {
    const started = Date.now();
    const result = await bootstrap({
      dir: opts.dir,
      generations: opts.generations,
      from: opts.from,
      limits: { timeoutMs: opts.timeout * 1000, maxMemoryMb: opts.maxMemory, backend: opts.backend },
      onEvent: progressPrinter(process.stderr),
    });
    if (opts.json) process.stdout.write(`${JSON.stringify({ generations: generationsRecords(result.lineage), stopped: result.stopped }, null, 2)}\n`);
    else process.stdout.write(bootstrapSummary(result, opts.dir, (Date.now() - started) / 1000));
  }));

dirOption(program.command("generations")
  .description("a table of the lineage: status, bytes, epochs, time, text and weights fixpoints, changed lines")
  .option("--json", "print the rows as JSON"))
  .action(run(async (opts: { dir: string; json?: boolean }) => {
    requireStore(opts.dir);
    const lineage = readLineage(opts.dir);
    if (opts.json) process.stdout.write(`${JSON.stringify(generationsRecords(lineage), null, 2)}\n`);
    else process.stdout.write(lineage.length ? generationsTable(lineage) : `No generations in ${opts.dir} yet.\n`);
    const damaged = lineage.filter((g) => g.damage).length;
    if (damaged) process.stderr.write(`neural-quine: ${damaged} damaged generation folder${damaged === 1 ? "" : "s"} in ${opts.dir} (see the table).\n`);
  }));

dirOption(program.command("show <gen>")
  .description("a generation's metrics and program")
  .option("--json", "print the metrics record and the program as JSON"))
  .action(run(async (gen: string, opts: { dir: string; json?: boolean }) => {
    const stored = findGeneration(opts.dir, gen);
    requireIntact(stored);
    if (opts.json) process.stdout.write(`${JSON.stringify({ metrics: stored.metrics, program: stored.program }, null, 2)}\n`);
    else process.stdout.write(showGeneration(stored));
  }));

dirOption(program.command("diff <gen> [other]")
  .description("unified diff of what a generation emitted against its program, or of two generations' programs")
  .option("--original", "diff the generation's program against the bundle quine/quine.js"))
  .action(run(async (gen: string, other: string | undefined, opts: { dir: string; original?: boolean }) => {
    const stored = findGeneration(opts.dir, gen);
    if (opts.original && other !== undefined) throw new Error("Give either a second generation or --original, not both.");
    const patch = opts.original ? originalDiff(stored, QUINE_PATH) : generationDiff(stored, other === undefined ? undefined : findGeneration(opts.dir, other));
    if (!patch) process.stderr.write("no differences\n");
    process.stdout.write(process.stdout.isTTY ? colorizeDiff(patch) : patch);
  }));

program.command("build")
  .description("bundle the trainer into quine/quine.js with esbuild")
  .option("--check", "only check that quine/quine.js is up to date")
  .action(run(async (opts: { check?: boolean }) => {
    if (opts.check) {
      if (bundleQuine() !== readFileSync(QUINE_PATH, "utf8")) throw new Error(`${QUINE_PATH} is out of date: run npm run build.`);
      process.stdout.write(`${QUINE_PATH} is up to date\n`);
      return;
    }
    process.stdout.write(`wrote ${QUINE_PATH} (${writeQuine()} bytes)\n`);
  }));

// weights: networks that predict their own weights (src/weights/, docs/weights.md).
backendOption(program.command("weights")
  .description("train a weight quine, a network that predicts its own weights; write metrics.json and image.png")
  .requiredOption("--variant <name>", "coords, coords-bn, coords-in, onehot, recurrent or vanilla")
  .option("--size <n>", "N of the N×N trainable layer; hidden units (recurrent) or width (vanilla); default per variant", int)
  .option("--epochs <n>", "training steps (default per variant: the original's)", int)
  .option("--optimizer <name>", "rmsprop, adam, adamax or sgd (default per variant)")
  .option("--lr <x>", "learning rate (default per variant, or the optimizer's PyTorch default)", num)
  .option("--regenerate <k>", "every K-th step replaces the weights by their own predictions; 0 = never (default per variant)", int)
  .option("--anderson <m>", "Anderson acceleration of regeneration over the last M steps; 0 = plain (default per variant)", int)
  .option("--tries <n>", "networks to try (seeds seed, seed+1, …) until one reaches the target (default per variant)", int)
  .option("--target <x>", "relative error (RMSE / RMS of the weights) that ends the search over networks (default per variant)", num)
  .option("--patience <n>", "stop a run once its relative error has not improved by 1% in N steps; 0 = never (default per variant)", int)
  .option("--refine <n>", "float64 fixed-point refinement steps at the end (default per variant)", int)
  .option("--objective <name>", "mse, or relative (mse / mean(weights²)) for optimizer steps (default per variant)")
  .option("--accumulate-gradients", "never zero the gradients, as the original onehot script (each step uses their running sum)")
  .option("--cell <type>", "recurrent only: lstm or gru", "lstm")
  .option("--seed <n>", "random seed", int, 1337)
  .option("--out <dir>", "output folder (default: generations/weights-<variant>-<size>)")
  .option("--json", "print the metrics record as JSON on stdout"))
  .action(run(async (opts: { variant: string; size?: number; epochs?: number; optimizer?: string; lr?: number; regenerate?: number; anderson?: number; tries?: number; target?: number; patience?: number; refine?: number; objective?: string; accumulateGradients?: boolean; cell: string; seed: number; out?: string; json?: boolean; backend: BackendName }) => {
    const { runWeightQuine } = require("./weights") as typeof import("./weights"); // loaded only for this command
    const { metrics, dir } = await runWeightQuine({ ...opts, log: (line) => process.stderr.write(`${line}\n`) });
    if (opts.json) process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
    else process.stdout.write(`${metrics.variant} ${metrics.size}: ${metrics.verdict}; rmse ${metrics.rmse.toExponential(2)}, relative error ${metrics.relativeError?.toExponential(2) ?? "undefined (every weight is 0)"}; ${metrics.wallSeconds} s; wrote ${dir}\n`);
  }));

// report: a static site of a lineage, whose page decodes the models live (src/report/).
dirOption(program.command("report")
  .description("write a self-contained static site of a generations folder; its page decodes each model live with TensorFlow.js")
  .option("--out <dir>", "where the site goes (replaced whole if it is an earlier report)", "report")
  .option("--open", "serve the site on 127.0.0.1 and open it in the browser (until Ctrl-C)"))
  .action(run(async (opts: { dir: string; out: string; open?: boolean }) => {
    const { writeReport, serveSite, openInBrowser, reportSummary } = require("./report/site") as typeof import("./report/site"); // loaded only for this command
    const lineage = await writeReport(opts.dir, opts.out);
    process.stdout.write(`wrote ${opts.out}/index.html: ${reportSummary(lineage)}\n`);
    if (!opts.open) return;
    const { url } = await serveSite(opts.out);
    process.stdout.write(`serving ${url} (Ctrl-C stops)\n`);
    if (!(await openInBrowser(url))) process.stdout.write(`open ${url} in a browser\n`);
  }));

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`neural-quine: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

