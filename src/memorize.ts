// Memorizing any text file: check it is text, train until exact, save the model and its metrics;
// and the reverse, decoding a saved model back to its text.
import { existsSync, readFileSync, statSync } from "node:fs";
import { describeIssue } from "./files/json";
import { writeFileSafely } from "./files/write";
import { codePointName, isTextCharacter } from "./format";
import { basename, join } from "node:path";
import { z } from "zod";
import * as rt from "./runtime";
import { DECODE_LIMIT_RULE, decodeLimit } from "./runtime/decoder";
import type { Epoch as RecordedEpoch } from "./runtime/epoch";
import { settings as defaults, trainUntilExact, type Epoch, type Settings } from "./quine/train";
import { decodeGreedy } from "./quine/sample";

/**
 * The trainer's settings (src/quine/train.ts), checked from outside: the bundle cannot carry a
 * schema library. `train`'s options and their help are generated from this (src/options.ts).
 */
export const SettingsSchema = z.object({
  hidden: z.number().int().positive().describe("LSTM units"),
  streams: z.number().int().positive().describe("parallel pieces of the text"),
  window: z.number().int().positive().describe("steps per truncated-BPTT window (one optimizer step each)"),
  shift: z.number().int().nonnegative().describe("steps by which the windows' boundaries move each pass"),
  learningRate: z.number().positive().describe("Adam's learning rate"),
  patience: z.number().int().positive().describe("passes without a new best before the window grows"),
  grow: z.number().int().positive().describe("window factor then"),
  clipNorm: z.number().positive().describe("global gradient norm"),
  settled: z.number().nonnegative().describe("loss weight of positions already right by twice the margin"),
  margin: z.number().nonnegative().describe("logit lead the right character must have at every position"),
  final: z.number().int().nonnegative().describe("wrong positions at most for the final phase: one stream over the whole text, the decoding trajectory"),
  run: z.number().int().min(0).max(1).describe("1: the input also names how often its character has repeated in a row"),
  match: z.number().int().min(0).max(1).describe("1: the input also names the character that followed the last occurrence of the context, and the match's length"),
  before: z.number().int().min(0).max(1).describe("1: the input also names the character before the run it is in"),
  seen: z.number().int().min(0).max(1).describe("1: the input also names how often its context occurred before (which copy of a repeated block it is in)"),
  seed: z.number().int().nonnegative().describe("random seed for initialisation"),
  maxEpochs: z.number().int().positive().describe("give up after this many passes over the text"),
  maxSeconds: z.number().positive().describe("give up after this much training time, in seconds"),
});

// Compile-time checks that the schemas and the trainer's own types describe the same records.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const settingsMatch: Same<z.infer<typeof SettingsSchema>, Settings> = true;
const epochsMatch: Same<RecordedEpoch, Epoch> = true;
void [settingsMatch, epochsMatch];

/** Most distinct characters one model represents (its vocabulary, boundary symbol aside). */
const MAX_SYMBOLS = 1024;
/** Longest text emit decodes before it calls the output runaway, for a model that does not record its text's length. */
const MAX_DECODE = 1_000_000;

/** Reads a UTF-8 text file for training; anything else throws one clear sentence. */
export function readTextFile(path: string): string {
  if (!existsSync(path)) throw new Error(`File not found: ${path}.`);
  if (statSync(path).isDirectory()) throw new Error(`${path} is a directory, not a text file.`);
  const bytes = readFileSync(path);
  if (bytes.length === 0) throw new Error(`${path} is empty: there is nothing to memorize.`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new Error(`${path} looks binary: it has a NUL byte at offset ${nul}.`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${path} is not valid UTF-8 text.`);
  }
  const seen = new Set<string>();
  let line = 1;
  let column = 1;
  for (const ch of text) {
    const where = `line ${line}, column ${column}`;
    const name = codePointName(ch);
    // Control characters other than tab, newline, carriage return and form feed mark binary data.
    if (!isTextCharacter(ch)) {
      throw new Error(`${path} has a control character the model does not represent, ${name} at ${where}: is it binary?`);
    }
    seen.add(ch);
    if (seen.size > MAX_SYMBOLS) {
      throw new Error(`${path} has more than ${MAX_SYMBOLS} distinct characters, one too many the model can represent: "${ch}" (${name}) at ${where}.`);
    }
    if (ch === "\n") [line, column] = [line + 1, 1];
    else column++;
  }
  return text;
}

/** What `train` records next to a model. */
export interface Metrics {
  file: string;
  bytes: number;
  characters: number;
  symbols: number;
  exact: boolean;
  epochs: number;
  wallSeconds: number;
  trainSeconds: number;
  charsPerSecond: number;
  backend: string;
  kernel: string; // the LSTM kernel that trained: "wasm" or "js"
  kernelThreads: number;
  seed: number;
  weightsHash: string;
  minMargin: number;
  settings: Settings;
  history: Epoch[];
}

/** Trains a model on a text file until exact and saves model.json, weights.bin and metrics.json in `out`. */
export async function memorizeFile(path: string, out: string | undefined, settings: Partial<Settings>, backendName: rt.BackendName = "auto"): Promise<{ out: string; metrics: Metrics }> {
  const wallStart = Date.now();
  const text = readTextFile(path);
  const checked = SettingsSchema.partial().safeParse(settings);
  if (!checked.success) throw new Error(`Bad settings: ${describeIssue(checked.error)}.`);
  const backend = await rt.initBackend(backendName);
  rt.log(`backend: ${backend}`);
  rt.log(rt.difficultySummary(rt.analyzeText(text), checked.data.window ?? defaults.window));
  const trained = trainUntilExact(text, checked.data);
  if (!trained.exact) rt.log(wrongPositionsReport(trained.model, text));
  const dir = out ?? `${basename(path)}.model`;
  const characters = [...text].length;
  await rt.saveModel(dir, { ...trained.model, textLength: characters });
  const metrics: Metrics = {
    file: path,
    bytes: Buffer.byteLength(text),
    characters,
    symbols: trained.model.vocab.length - 1,
    exact: trained.exact,
    epochs: trained.epochs,
    wallSeconds: (Date.now() - wallStart) / 1000,
    trainSeconds: trained.seconds,
    charsPerSecond: Math.round(((characters + 1) * trained.epochs) / trained.seconds),
    backend,
    kernel: rt.kernelName(),
    kernelThreads: rt.kernelThreads(),
    seed: trained.settings.seed,
    weightsHash: rt.weightsHash(trained.model.weights),
    minMargin: trained.minMargin,
    settings: trained.settings,
    history: trained.history,
  };
  writeFileSafely(join(dir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  tfDispose(trained.model);
  return { out: dir, metrics };
}

/**
 * The positions a model still gets wrong when it reads the text itself in one stream from the start
 * (the states decoding sees while it is still right), with their line:column and the context each needs.
 */
function wrongPositionsReport(model: rt.QuineModel, text: string, shown = 10): string {
  const chars = [...text];
  const vocab = new Map(model.vocab.map((symbol, i) => [symbol, i]));
  const stepper = rt.lstmStepper(model.weights, model.features);
  const wrong: number[] = [];
  for (let i = 0, token = 0; i <= chars.length; i++) {
    const logits = stepper.next(token);
    const target = i < chars.length ? vocab.get(chars[i]) ?? 0 : 0;
    if (logits.some((x, v) => v !== target && x >= logits[target])) wrong.push(i);
    token = target;
  }
  stepper.dispose();
  if (!wrong.length) return "reading the text in one stream, the model gets every position right: only decoding's own earlier choices went wrong";
  const contexts = rt.analyzeText(text, 0).contexts;
  const named = rt.positionsOf(text, wrong.slice(0, shown)).map((p) => `${p.line}:${p.column} (context ${contexts[p.index]})`);
  return `positions still wrong (${wrong.length}, line:column and the context each needs): ${named.join(", ")}${wrong.length > shown ? ", ..." : ""}`;
}

/** How many characters emit decodes before it calls the model runaway. */
export function emitLimit(textLength: number | undefined): number {
  return textLength === undefined ? MAX_DECODE : decodeLimit(textLength);
}

/**
 * Decodes a saved model back to its text (greedy, from the boundary symbol to the next one). A model
 * that has not ended after `maxChars` characters (default: `emitLimit` of the length it records)
 * is runaway: `stopped` says why.
 */
export async function emitModel(dir: string, backend: rt.BackendName = "auto", maxChars?: number): Promise<{ text: string; minMargin: number; backend: string; stopped?: string }> {
  const used = await rt.initBackend(backend);
  const model = await rt.loadModel(dir);
  const limit = maxChars ?? emitLimit(model.textLength);
  const decoded = decodeGreedy(model, limit);
  tfDispose(model);
  // decodeGreedy takes at most limit + 1 symbols; that many means it never chose the end.
  const length = [...decoded.text].length;
  if (length <= limit) return { ...decoded, backend: used };
  const why = maxChars !== undefined ? "the --max-chars limit" : model.textLength === undefined
    ? `the limit for models that do not record their text's length` : `the limit of ${limit} for a text of ${model.textLength} (${DECODE_LIMIT_RULE})`;
  return { ...decoded, backend: used, stopped: `the model did not end its text: decoding stopped after ${length} characters, ${why} (raise it with --max-chars).` };
}

function tfDispose(model: rt.QuineModel): void {
  for (const tensor of Object.values(model.weights)) tensor.dispose();
}

/** What `analyze` prints for a text file: the predicted difficulty and the hardest positions (or all of it as JSON). */
export function analyzeFile(path: string, top: number, json = false): string {
  const text = readTextFile(path);
  const analysis = rt.analyzeText(text, top);
  const summary = rt.difficultySummary(analysis, defaults.window);
  if (json) {
    const { contexts: _contexts, ...rest } = analysis;
    return `${JSON.stringify({ file: path, summary, ...rest }, null, 2)}\n`;
  }
  const show = (symbol: string) => (symbol === "" ? "(end)" : JSON.stringify(symbol));
  const rows = analysis.hardest.map((h) =>
    `  ${`${h.line}:${h.column}`.padEnd(10)} context ${String(h.context).padStart(5)}  ${show(h.symbol)}, competing: ${h.competitors.map((c) => `${show(c.symbol)} ×${c.count}`).join(", ")}`);
  return [`${path}: ${summary}`, `hardest positions (line:column, characters of left context that decide the next one, what follows the one-shorter context):`, ...rows, ""].join("\n");
}
