#!/usr/bin/env node
// The neural-quine command line: parses arguments, calls into src/ and prints what comes back.
import { readFileSync, writeFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { join } from "node:path";
import { bundleQuine, writeQuine } from "./bundle";
import { QUINE_PATH, ROOT } from "./paths";
import { analyzeFile, emitModel, memorizeFile, SettingsSchema } from "./memorize";
import { addOptions, readOptions } from "./options";
import { COMMON_DEFAULTS, WeightSettingsSchema } from "./weights/settings";
import {
  bootstrapSummary, colorizeDiff, emitCheck, findEmitTarget, findGeneration, generationDiff, generationsRecords,
  generationsTable, originalDiff, progressPrinter, requireIntact, requireStore, showGeneration,
} from "./terminal/inspect";
import { evolve, type EvolveEvent } from "./evolution/evolve";
import { QUEUE_URL_VARIABLE, queueUrl } from "./queue/connection";
import { QueueConnectionSchema, WorkerSettingsSchema, workerSettings } from "./queue/settings";
import {
  evolveProgressLine, exportIndividual, findIndividual, individualDiff, populationLineage, populationStatistics, populationTable, populationTree, showIndividual,
} from "./terminal/population";
import { statisticsTable } from "./evolution/statistics";
import { EvolveSettingsSchema, evolveSettings } from "./evolution/settings";
import { populationTreePng } from "./report/tree-png";
import { populationWorkPng } from "./report/work-png";
import { BOOTSTRAP_DEFAULTS, BootstrapSettingsSchema, bootstrap, DEFAULT_DIR, publicationLimitsOf } from "./ouroboros/bootstrap";
import { decodeStoredModel, publicationLimits, sandboxLimits } from "./sandbox";
import { readLineage } from "./ouroboros/store";
import { DECODE_LIMIT_RULE } from "./runtime/decoder";
import { settings } from "./quine/train";
import { parseBackend, type BackendName } from "./runtime";
import { errorMessage, printable, printableJson } from "./format";

const program = new Command("neural-quine")
  .description("Neural networks that reproduce themselves: an LSTM that prints its own trainer, generations of it, and weight quines.")
  .version((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version)
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text.startsWith("error:") ? `neural-quine: ${text}` : text) });

/** Runs a command body; a failure prints one clear sentence and exits non-zero (stack with NQ_DEBUG=1). */
function run<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      const message = printable(errorMessage(error)); // it may quote a reason, a name or a path from a program or the queue
      process.stderr.write(`neural-quine: ${message}\n`);
      if (process.env.NQ_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
    }
  };
}

/** Commander's parser for a TCP port given on the command line. */
function servePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port number, 0 to 65535.");
  return n;
}

/** Commander's parser for a count given on the command line. */
function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer.");
  return n;
}

// ---- commands -------------------------------------------------------------------------------

// The code quine: memorize a text, decode it back, build the bundle.
const backendOption = (cmd: Command): Command =>
  cmd.option("--backend <name>", "TensorFlow.js backend: auto, node, wasm or cpu", parseBackend, "auto" as BackendName);

backendOption(addOptions(program.command("train <file>")
  .description("train an LSTM on a UTF-8 text file until greedy decoding gives it back exactly; save the model")
  .option("--out <dir>", "where model.json, weights.bin and metrics.json go (default: <file>.model)")
  .option("--json", "print the metrics as JSON on stdout"), SettingsSchema, settings))
  .action(run(async (file: string, opts: { out?: string; json?: boolean; backend: BackendName } & Record<string, unknown>) => {
    const { out, metrics } = await memorizeFile(file, opts.out, readOptions(SettingsSchema, opts), opts.backend);
    if (opts.json) process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
    else process.stdout.write(`${metrics.exact ? "exact" : "NOT exact"}: ${metrics.characters} characters in ${metrics.epochs} epochs, ${metrics.trainSeconds.toFixed(1)} s on ${metrics.backend} (${metrics.charsPerSecond} chars/s); smallest margin ${metrics.minMargin.toFixed(2)}; weights ${metrics.weightsHash.slice(0, 16)}; saved to ${out}\n`);
    if (!metrics.exact) throw new Error(`Training did not reach an exact model within its budget; the best model so far is saved in ${out}.`);
  }));

program.command("analyze <file>")
  .description("which positions of a text need the longest context to predict, and how hard training will find it")
  .option("--top <n>", "how many of the hardest positions to list", positiveInt, 10)
  .option("--json", "print the analysis as JSON")
  .action(run(async (file: string, opts: { top: number; json?: boolean }) => {
    process.stdout.write(analyzeFile(file, opts.top, opts.json));
  }));

backendOption(program.command("emit <gen-or-model-dir>")
  .description("decode a saved model back to its text, on stdout: a model directory, a generation folder, or a generation number in --dir")
  .option("--dir <dir>", "the generations folder a generation number refers to", DEFAULT_DIR)
  .option("--max-chars <n>", `stop decoding after this many characters (default: ${DECODE_LIMIT_RULE} the model was trained on)`, positiveInt)
  .option("--check", "instead of printing the text, check that the parent's decoder (as bootstrap used it) gives the stored emitted text"))
  .action(run(async (value: string, opts: { dir: string; maxChars?: number; check?: boolean; backend: BackendName }) => {
    const target = findEmitTarget(value, opts.dir);
    if (opts.check) {
      // As bootstrap recorded it: the parent's own decoder, the same on every machine and backend.
      // A stored model was accepted when its generation ran, under the limits of that run.
      const { ok, message } = emitCheck(target, (dir) => decodeStoredModel(dir, { ...publicationLimits, maxParameters: Infinity }).text);
      if (!ok) throw new Error(message);
      process.stdout.write(`${message}\n`);
      return;
    }
    const { text, minMargin, backend, stopped } = await emitModel(target.modelDir, opts.backend, opts.maxChars);
    process.stdout.write(process.stdout.isTTY ? printable(text) : text); // byte for byte into a file or a pipe
    if (stopped) throw new Error(stopped);
    process.stderr.write(`backend: ${backend}; ${text.length} characters; smallest margin ${minMargin.toFixed(2)}\n`);
  }));

// The ouroboros: generations of programs, each emitted by its parent's model (src/ouroboros/).
const dirOption = (cmd: Command): Command => cmd.option("--dir <dir>", "the generations folder", DEFAULT_DIR);

dirOption(backendOption(addOptions(program.command("bootstrap")
  .description("run the ouroboros: each generation's program trains on its own text in the sandbox; what it emits is the next program")
  .option("--from <file>", "start the lineage from this program instead of the bundle quine/quine.js (for example one written by `population export`)")
  .option("--json", "print the lineage as JSON on stdout when done"), BootstrapSettingsSchema, BOOTSTRAP_DEFAULTS)))
  .action(run(async (opts: { from?: string; dir: string; json?: boolean; backend: BackendName } & Record<string, unknown>) => {
    const started = Date.now();
    const settings = readOptions(BootstrapSettingsSchema, opts);
    const result = await bootstrap({
      dir: opts.dir,
      generations: settings.generations,
      from: opts.from,
      limits: sandboxLimits(settings, opts.backend),
      publication: publicationLimitsOf(settings),
      onEvent: progressPrinter(process.stderr),
    });
    if (opts.json) process.stdout.write(`${printableJson({ generations: generationsRecords(result.lineage), stopped: result.stopped })}\n`);
    else process.stdout.write(bootstrapSummary(result, opts.dir, (Date.now() - started) / 1000));
  }));

dirOption(program.command("generations")
  .description("a table of the lineage: status, bytes, epochs, time, text and weights fixpoints, changed lines")
  .option("--json", "print the rows as JSON"))
  .action(run(async (opts: { dir: string; json?: boolean }) => {
    requireStore(opts.dir);
    const lineage = readLineage(opts.dir);
    if (opts.json) process.stdout.write(`${printableJson(generationsRecords(lineage))}\n`);
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
    if (opts.json) process.stdout.write(`${printableJson({ metrics: stored.metrics, program: stored.program })}\n`);
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

// Evolution: populations of self-replicating programs under copying errors and selection (src/evolution/).
addOptions(addOptions(program.command("evolve")
  .description("run (or resume) a population: each individual trains on itself in the sandbox; the parent samples its children from the model")
  .option("--json", "print the statistics as JSON on stdout when done")
  .option("--serve [port]", "watch the run in a browser: serve its report on 127.0.0.1 (on any free port if none is given), written again after each generation", servePort),
EvolveSettingsSchema, evolveSettings), QueueConnectionSchema)
  .action(run(async (opts: { json?: boolean; serve?: number | true } & Record<string, unknown>) => {
    const settings = readOptions(EvolveSettingsSchema, opts);
    const url = queueUrl(readOptions(QueueConnectionSchema, opts));
    const live = opts.serve === undefined ? undefined : await (require("./report/population-live") as typeof import("./report/population-live")) // loaded only to serve
      .serveLive(settings.dir, opts.serve === true ? 0 : opts.serve, (message) => process.stderr.write(`note: ${message}\n`));
    if (live) process.stderr.write(`serving the live report at ${live.url}\n`);
    const onEvent = (event: EvolveEvent): void => {
      process.stderr.write(evolveProgressLine(event));
      if (event.type === "generation") void live?.update();
    };
    // With a queue, reproductions run on workers anywhere (src/queue/); without one, on the local pool.
    const reproducer = url === null ? undefined : await (require("./queue/coordinator") as typeof import("./queue/coordinator")) // loaded only for a queue
      .openQueueReproducer(url, settings, (message) => onEvent({ type: "note", message }));
    let result;
    try {
      result = await evolve(settings, onEvent, reproducer);
    } catch (error) {
      await live?.close();
      throw error;
    } finally {
      await reproducer?.close();
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(result.statistics, null, 2)}\n`);
    else process.stdout.write(statisticsTable(result.statistics));
    if (result.extinct) process.stderr.write("neural-quine: the population died out.\n");
    if (live) process.stderr.write(`the run is over; still serving ${live.url} (Ctrl-C stops)\n`);
  }));

// worker: runs reproductions from an evolve --queue coordinator, on any machine (src/queue/).
addOptions(addOptions(program.command("worker")
  .description("take reproductions off the job queue of `evolve --queue` and run each program in the sandbox; stops on SIGTERM"),
QueueConnectionSchema), WorkerSettingsSchema, workerSettings)
  .action(run(async (opts: Record<string, unknown>) => {
    const url = queueUrl(readOptions(QueueConnectionSchema, opts));
    if (url === null) throw new Error(`Give the job queue: --queue redis://:password@host:6379, --queue-file FILE or ${QUEUE_URL_VARIABLE}.`);
    const settings = readOptions(WorkerSettingsSchema, opts);
    const { runWorker, workerProgressLine } = require("./queue/worker") as typeof import("./queue/worker"); // loaded only for this command
    const { returned } = await runWorker(url, settings, (event) => {
      if (settings.json) process.stdout.write(`${printableJson(event, 0)}\n`);
      else process.stderr.write(workerProgressLine(event));
    });
    if (returned > 0) process.exit(); // the handed-back jobs' sandboxes end with this process
  }));

program.command("population [what] [id] [file]")
  .description("the population's statistics per generation; `population tree` its phylogeny by genotype; `population show <id>` an individual, `population diff <id>` its program against its parent's; `population lineage [id]` the edits on its line of descent (default: the fittest of the last generation); `population export <id> <file>` writes its program to a new file, to run alone with `bootstrap --from <file>`")
  .option("--dir <dir>", "the population store", evolveSettings.dir)
  .option("--json", "print JSON")
  .option("--png <file>", "also draw a PNG into this file: with `tree` the tree, alone the kept programs' counted work per generation")
  .action(run(async (what: string | undefined, id: string | undefined, file: string | undefined, opts: { dir: string; json?: boolean; png?: string }) => {
    if (file !== undefined && what !== "export") throw new Error(`\`population ${what}\` takes no file: only \`population export <id> <file>\` does.`);
    if (what === undefined) {
      if (opts.json) process.stdout.write(`${printableJson(populationStatistics(opts.dir))}\n`);
      else process.stdout.write(populationTable(opts.dir));
      if (opts.png) writeFileSync(opts.png, populationWorkPng(opts.dir));
      return;
    }
    if (what === "tree" && id === undefined) {
      process.stdout.write(populationTree(opts.dir));
      if (opts.png) writeFileSync(opts.png, populationTreePng(opts.dir));
      return;
    }
    if (what === "lineage") {
      process.stdout.write(populationLineage(opts.dir, id));
      return;
    }
    if (what === "export") {
      if (id === undefined || file === undefined) throw new Error("Give an individual and a file: `population export <id> <file>` (an id is <generation>.<index>).");
      process.stdout.write(exportIndividual(opts.dir, id, file));
      return;
    }
    if ((what !== "show" && what !== "diff") || id === undefined) throw new Error("Use `population`, `population tree`, `population show <id>`, `population diff <id>`, `population lineage [id]` or `population export <id> <file>` (an id is <generation>.<index>).");
    if (what === "diff") {
      const patch = individualDiff(opts.dir, id);
      if (!patch) process.stderr.write("no differences\n");
      process.stdout.write(process.stdout.isTTY ? colorizeDiff(patch) : patch);
      return;
    }
    const found = findIndividual(opts.dir, id);
    process.stdout.write(opts.json ? `${printableJson({ individual: found.individual, run: found.stored.run, program: found.stored.program })}\n` : showIndividual(found));
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
backendOption(addOptions(program.command("weights")
  .description("train a weight quine, a network that predicts its own weights; write metrics.json and image.png")
  .option("--out <dir>", "output folder (default: generations/weights-<variant>-<size>)")
  .option("--json", "print the metrics record as JSON on stdout"), WeightSettingsSchema, COMMON_DEFAULTS))
  .action(run(async (opts: { out?: string; json?: boolean; backend: BackendName } & Record<string, unknown>) => {
    const { runWeightQuine } = require("./weights") as typeof import("./weights"); // loaded only for this command
    const { metrics, dir } = await runWeightQuine({ ...opts, log: (line) => process.stderr.write(`${line}\n`) });
    if (opts.json) process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
    else process.stdout.write(`${metrics.settings.variant} ${metrics.settings.size}: ${metrics.verdict === "fixpoint of order k" ? `fixpoint of order ${metrics.order}` : metrics.verdict}; rmse ${metrics.rmse.toExponential(2)}, relative error ${metrics.relativeError?.toExponential(2) ?? "undefined (every weight is 0)"}; ${metrics.wallSeconds} s; wrote ${dir}\n`);
  }));

// report: a static site of a lineage, whose page decodes the models live (src/report/).
dirOption(program.command("report")
  .description("write a self-contained static site of a generations folder or a population store; its pages decode each model live with TensorFlow.js")
  .option("--out <dir>", "where the site goes (replaced whole if it is an earlier report)", "report")
  .option("--open", "serve the site on 127.0.0.1 and open it in the browser (until Ctrl-C)"))
  .action(run(async (opts: { dir: string; out: string; open?: boolean }) => {
    const { writeSite, serveSite, openInBrowser } = require("./report/site") as typeof import("./report/site"); // loaded only for this command
    process.stdout.write(`wrote ${opts.out}/index.html: ${await writeSite(opts.dir, opts.out)}\n`);
    if (!opts.open) return;
    const { url } = await serveSite(opts.out);
    process.stdout.write(`serving ${url} (Ctrl-C stops)\n`);
    if (!(await openInBrowser(url))) process.stdout.write(`open ${url} in a browser\n`);
  }));

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`neural-quine: ${printable(errorMessage(error))}\n`);
  process.exitCode = 1;
});

