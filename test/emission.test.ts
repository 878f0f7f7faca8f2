// What a generation emits is what its published model decodes to in the parent, not what the
// program says: the parent's decoder, its checks of an untrusted model, and the publication limits.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { ROOT } from "../src/paths";
import type { GenerationMetrics } from "../src/ouroboros/store";
import { decodeGreedy } from "../src/quine/sample";
import { trainUntilExact } from "../src/quine/train";
import * as rt from "../src/runtime";
import { checkModelFiles, decodeModel, decodeModelInSlices, decoderSteps, SLICE_CHARS, type CheckedModel } from "../src/runtime/decoder";
import { featureRows, inputReader } from "../src/runtime/features";
import { greedyChoice } from "../src/runtime/stepper";

const CLI = join(ROOT, "dist", "src", "cli.js");
const scratch = mkdtempSync(join(tmpdir(), "nq-emission-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const LIMITS = { maxParameters: 2_000_000, maxChars: 10_000, maxSeconds: 10 };

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, NQ_DEBUG: "" } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function metrics(dir: string, generation: number): GenerationMetrics {
  return JSON.parse(readFileSync(join(dir, `gen-${String(generation).padStart(4, "0")}`, "metrics.json"), "utf8")) as GenerationMetrics;
}

/** A program that claims to have emitted `claim` (an expression over its own text `t`) beside a model of H zero-weight units. */
function cheat(name: string, claim: string, H = 4): string {
  const path = join(scratch, name);
  writeFileSync(path, `// ${name}: publishes a claim and a model that was never trained
const tf = require("@tensorflow/tfjs-core"), rt = require("neural-quine/runtime");
rt.start().then(() => {
  const t = require("fs").readFileSync(__filename, "utf8"), vocab = ["", ...new Set(t)], V = vocab.length, H = ${H};
  const weights = { kernel: tf.zeros([V, 4 * H]), recurrent: tf.zeros([H, 4 * H]), bias: tf.zeros([4 * H]), outKernel: tf.zeros([H, V]), outBias: tf.zeros([V]) };
  return rt.publish({ text: ${claim}, model: { vocab, weights }, epochs: 1, seed: 0, exact: true, history: [] });
});
`);
  return path;
}

/** The model files of a small trained model. */
async function trainedFiles(text: string): Promise<{ files: rt.ModelFiles; greedy: string }> {
  await rt.initBackend("wasm");
  const trained = trainUntilExact(text, { hidden: 32, maxEpochs: 400 });
  assert.equal(trained.exact, true);
  const files = await rt.modelFiles(trained.model);
  const greedy = decodeGreedy(trained.model, 1000).text;
  tf.dispose(Object.values(trained.model.weights));
  return { files, greedy };
}

test("the parent's decoder gives what the trainer's own greedy decoding gives, and stops at its limits", async () => {
  const text = "the parent decodes; the program only claims.\n";
  const { files, greedy } = await trainedFiles(text);
  const model = checkModelFiles(files, LIMITS);
  assert.equal(greedy, text);
  const decoded = decodeModel(model, LIMITS);
  assert.equal(decoded.text, text);
  assert.equal(decoded.stopped, "end");
  assert.ok(decoded.minMargin >= 1, `margin ${decoded.minMargin}`);
  const cut = decodeModel(model, { ...LIMITS, maxChars: 10 });
  assert.deepEqual([cut.text, cut.stopped], [text.slice(0, 10), "length"]);
});

test("the parent's decoder gives the same bits on the wasm kernel and in JavaScript, step by step", () => {
  // Random weights (seeded), the features on, an odd number of units and of symbols (the kernel's
  // pairs of float64 and the odd one), and units whose output is exactly 0 (both skip those rows).
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const [H, V, features] = [13, 9, ["run/1", "match/1", "before/1", "seen/1"]];
  const R = V + featureRows(features, V);
  const fill = (n: number, scale: number) => Float64Array.from({ length: n }, () => Math.fround(random() * scale));
  const model: CheckedModel = {
    vocab: ["", ..."abcdefgh"], features, hidden: H, parameters: (R + H + 1) * 4 * H + (H + 1) * V,
    kernel: fill(R * 4 * H, 1.5), recurrent: fill(H * 4 * H, 0.8), bias: fill(4 * H, 0.5), outKernel: fill(H * V, 2), outBias: fill(V, 0.5),
  };
  model.bias[3 * H + 2] = -1e3; // unit 2's output gate shut: its h is 0
  const reader = inputReader(features, V);
  const [wasm, js] = [decoderSteps(model, reader.width, "wasm"), decoderSteps(model, reader.width, "js")];
  assert.deepEqual([wasm.kernel, js.kernel], ["wasm", "js"]);
  try {
    let token = 0;
    for (let step = 0; step < 3000; step++) {
      const rows = reader.next(token);
      const [ours, reference] = [wasm.step(rows), js.step(rows)];
      assert.deepEqual(Buffer.from(ours.buffer, ours.byteOffset, ours.byteLength), Buffer.from(reference.buffer, reference.byteOffset, reference.byteLength), `logits at step ${step}`);
      token = greedyChoice(reference).best || 1 + (step % (V - 1)); // never the boundary: decoding goes on
    }
  } finally {
    wasm.release();
  }
});

test("a published model is checked before any arithmetic: each kind of damage is one sentence", async () => {
  const { files } = await trainedFiles("the model files are untrusted input.\n");
  const json = JSON.parse(files["model.json"]) as { userDefinedMetadata: { vocab: string[]; features?: string[] }; weightsManifest: { weights: { shape: number[] }[] }[] };
  const withJson = (edit: (j: typeof json) => void): rt.ModelFiles => {
    const copy = structuredClone(json);
    edit(copy);
    return { ...files, "model.json": JSON.stringify(copy) };
  };
  const nan = new Uint8Array(files["weights.bin"]);
  new Float32Array(nan.buffer)[7] = NaN;
  const cases: [rt.ModelFiles, RegExp][] = [
    [{ ...files, "model.json": "{ not json" }, /model\.json is not valid JSON\.$/],
    [withJson((j) => { j.userDefinedMetadata.vocab[2] = j.userDefinedMetadata.vocab[1]; }), /a character twice/],
    [withJson((j) => { j.userDefinedMetadata.vocab[1] = "ab"; }), /not one character/],
    [withJson((j) => { j.weightsManifest[0].weights[1].shape = [33, 128]; }), /weight 1 has shape \[33, 128\], expected \[32, 128\]/],
    [withJson((j) => { delete (j.userDefinedMetadata as Partial<typeof j.userDefinedMetadata>).vocab; }), /not a neural-quine model \(field "userDefinedMetadata\.vocab"/],
    [{ ...files, "weights.bin": files["weights.bin"].subarray(4) }, /weights\.bin has \d+ bytes where the model needs \d+/],
    [{ ...files, "weights.bin": nan }, /not a finite number/],
  ];
  for (const [damaged, pattern] of cases) assert.throws(() => checkModelFiles(damaged, LIMITS), pattern);
  const V = json.userDefinedMetadata.vocab.length;
  const R = V + rt.featureRows(rt.checkFeatures(json.userDefinedMetadata.features), V); // the kernel's rows: the symbols', then the features'
  const parameters = (4 * 32 * (R + 32 + 1) + 33 * V).toLocaleString("en"); // LSTM kernels and bias, then the output layer
  assert.throws(() => checkModelFiles(files, { maxParameters: 100 }), new RegExp(`has ${parameters} parameters, more than the 100 a publication may have`));
  assert.equal(checkModelFiles(files, LIMITS).vocab.length, V, "the undamaged files pass");
});

test("a program that claims its own text beside an untrained model is recorded by what the model decodes to", () => {
  const dir = join(scratch, "claim");
  const run = cli("bootstrap", "--from", cheat("claims-itself.js", "t"), "--dir", dir, "--generations", "2");
  assert.equal(run.status, 0, run.stderr);
  const gen0 = metrics(dir, 0);
  assert.equal(gen0.status, "mutated", "not exact: the model decodes to nothing");
  assert.equal(gen0.textFixpoint, false);
  assert.deepEqual(gen0.claim && [gen0.claim.matches, gen0.claim.chars], [false, Buffer.byteLength(readFileSync(join(dir, "gen-0000", "program.js")))]);
  assert.equal(gen0.decode?.stopped, "end");
  assert.equal(readFileSync(join(dir, "gen-0000", "emitted.js"), "utf8"), "", "the child is the model's decoding: the empty text");
  assert.equal(metrics(dir, 1).status, "dead", "the empty program publishes nothing");
  assert.match(run.stderr, /gen-0000 mutated .*claimed text DIFFERS/);
  const show = cli("show", "0", "--dir", dir);
  assert.match(show.stdout, /^claim\s+DIFFERS: the program published a text of \d+ characters/m);
  assert.match(show.stdout, /^walls\s+vm2, /m);
  const check = cli("emit", "0", "--dir", dir, "--check");
  assert.equal(check.status, 0, check.stderr);
});

test("a publication past the limits is refused with its reason, and nothing of it is stored", () => {
  const refused: [string, string[], RegExp][] = [
    ["many-weights.js", ["--max-parameters", "1000"], /its published model was refused: the model has [\d,]+ parameters, more than the 1,000 .*\(--max-parameters\)\.$/],
    ["long-text.js", ["--max-text", "1000"], /published a text of 1,500 characters, more than the 1,000 .*\(--max-text\)\.$/],
    ["fills-store.js", ["--max-store-mb", "0.001"], /would add [\d.]+ MB to the store, more than the 0\.001 MB .*\(--max-store-mb\)\.$/],
  ];
  for (const [name, flags, reason] of refused) {
    const dir = join(scratch, `${name}.generations`);
    const program = cheat(name, name === "long-text.js" ? '"x".repeat(1500)' : "t", name === "many-weights.js" ? 64 : 4);
    const run = cli("bootstrap", "--from", program, "--dir", dir, "--generations", "2", ...flags);
    assert.equal(run.status, 0, run.stderr);
    const gen0 = metrics(dir, 0);
    assert.equal(gen0.status, "dead", name);
    assert.match(gen0.reason ?? "", reason);
    assert.ok(!existsSync(join(dir, "gen-0000", "model")) && !existsSync(join(dir, "gen-0000", "emitted.js")), `${name}: nothing published is stored`);
  }
});

test("the parent's decoding lets the event loop run between slices, and gives the same text as in one go", async () => {
  // A model that always emits "a" and never the boundary: H = 1, every weight zero but the output bias.
  const model: CheckedModel = {
    vocab: ["\n", "a"], hidden: 1, parameters: 16,
    kernel: new Float64Array(2 * 4), recurrent: new Float64Array(4), bias: new Float64Array(4),
    outKernel: new Float64Array(2), outBias: Float64Array.from([0, 1]),
  };
  const limits = { maxChars: 10 * SLICE_CHARS, maxSeconds: 600 };
  // Another task of the parent (a signal's handler, the lock's refresh) asks for a turn on every pass of the loop.
  let [turns, done] = [0, false];
  const otherTask = (): void => {
    turns++;
    if (!done) setImmediate(otherTask);
  };
  setImmediate(otherTask);
  const sliced = await decodeModelInSlices(model, limits);
  done = true;
  assert.ok(turns >= 9, `another task ran ${turns} times during a decoding of ten slices`);
  const whole = decodeModel(model, limits);
  assert.deepEqual([sliced.text, sliced.stopped, sliced.minMargin], [whole.text, whole.stopped, whole.minMargin]);
  assert.equal(whole.text, "a".repeat(10 * SLICE_CHARS));
});
