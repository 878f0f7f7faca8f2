#!/usr/bin/env node
// The neural-quine command line: parses arguments and calls into src/. No logic lives here.
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { bundleQuine, QUINE_PATH, writeQuine } from "./bundle";
import { emitModel, memorizeFile } from "./memorize";
import { settings } from "./quine/train";
import { parseBackend, type BackendName } from "./runtime";

const program = new Command("neural-quine")
  .description("Neural networks that reproduce themselves: an LSTM that prints its own trainer, generations of it, and weight quines.")
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

backendOption(program.command("emit <model-dir>")
  .description("decode a saved model back to its text, on stdout"))
  .action(run(async (dir: string, opts: { backend: BackendName }) => {
    const { text, minMargin, backend } = await emitModel(dir, opts.backend);
    process.stdout.write(text);
    process.stderr.write(`backend: ${backend}; ${text.length} characters; smallest margin ${minMargin.toFixed(2)}\n`);
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
  .option("--cell <type>", "recurrent only: lstm or gru", "lstm")
  .option("--seed <n>", "random seed", int, 1337)
  .option("--out <dir>", "output folder (default: generations/weights-<variant>-<size>)")
  .option("--json", "print the metrics record as JSON on stdout"))
  .action(run(async (opts: { variant: string; size?: number; epochs?: number; optimizer?: string; lr?: number; regenerate?: number; cell: string; seed: number; out?: string; json?: boolean; backend: BackendName }) => {
    const { runWeightQuine } = require("./weights") as typeof import("./weights"); // loaded only for this command
    const { metrics, dir } = await runWeightQuine({ ...opts, log: (line) => process.stderr.write(`${line}\n`) });
    if (opts.json) process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
    else process.stdout.write(`${metrics.variant} ${metrics.size}: ${metrics.verdict}; rmse ${metrics.rmse.toExponential(2)}, relative error ${metrics.relativeError?.toExponential(2) ?? "undefined (every weight is 0)"}; ${metrics.wallSeconds} s; wrote ${dir}\n`);
  }));

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`neural-quine: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

