// Features of the prefix (issue 25): what the LSTM reads besides the character, computed by the
// runtime alike in training and in every decoder. What they compute; the kernels on multi-hot input
// (against tf autodiff, and the wasm kernel against the JavaScript one); texts that need them (a
// count of 77, a context 1,000 characters back, a run that opens a comment and one that closes it)
// trained exact; every decoder giving the same text for a featured model; models saved with older
// feature lists decoding as they did; malformed feature lists refused at load and at the
// publication check.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { checkModelFiles, decodeModel } from "../src/runtime/decoder";
import { checkPublication, publicationLimits } from "../src/sandbox/publication";
import { decodeGreedy } from "../src/quine/sample";
import { trainUntilExact } from "../src/quine/train";
import { ROOT } from "../src/paths";
import * as rt from "../src/runtime";
import { cli, tempDir } from "./helpers";

const LIMITS = { maxChars: 10_000, maxSeconds: 60, maxParameters: 1_000_000 };

/** A license banner: the newline after a run of 77 `=` (and of 76 `-`) is decided by the count alone. */
const COUNT_TEXT = `/**\n * ${"=".repeat(77)}\n * @license MIT\n * ${"-".repeat(76)}\n * ${"=".repeat(77)}\n */\n`;

/** About n characters of words from a seeded generator. */
function words(n: number, seed: number): string {
  const list = ["alpha", "beta", "gamma", "delta", "the", "of", "and", "model", "text", "run", "quine", "state", "line", "to", "in"];
  let [x, out] = [seed, ""];
  while (out.length < n) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += list[x % list.length] + ((x >> 8) % 7 ? " " : "\n");
  }
  return out;
}

/** A block of 1,000 characters twice: what follows the second copy ("2") was decided before the first character of it. */
const FAR_TEXT = `A\n${words(1000, 7)}1\nB\n${words(1000, 7)}2\n`;

/** The kernel rows each position of `text` reads (rows [N,width]), with every feature. */
function rowsOf(text: string, V: number, symbols: (c: string) => number) {
  return rt.inputRows(Int32Array.from([...text], symbols), V, { run: 1, match: 1, before: 1, seen: 1 });
}

test("the features say how often the symbol has repeated (exact to 127, then octaves) and what followed the context before", () => {
  const V = 5; // symbols 1..4: a b c d
  const code = (c: string) => "abcd".indexOf(c) + 1;
  const runOnly = rt.inputReader(["run/1"], V);
  assert.equal(runOnly.width, 2);
  const runs = [0, ...Array(300).fill(1), 2].map((symbol) => runOnly.next(symbol)[1] - V); // the boundary first
  assert.deepEqual(runs.slice(0, 4), [0, 0, 1, 2], "lengths 1, 1, 2, 3");
  assert.equal(runs[77], 76, "the 77th repetition has a row of its own");
  assert.equal(runs[127], 126);
  assert.deepEqual([runs[128], runs[255], runs[256], runs[300]], [127, 127, 128, 128], "128-255 share a row, 256-511 the next");
  assert.equal(runs[301], 0, "another symbol starts a new run");
  assert.equal(rt.featureRows(["run/1"], V), 127 + 8);

  // "abcabdcbd" + "abcabd": the second time the last six symbols occurred, the match predicts what followed.
  const text = "abcabdcbdabcabdc";
  const { rows, width, extra, features } = rowsOf(text, V, code);
  assert.deepEqual(features, ["run/1", "match/1", "before/1", "seen/1"]);
  assert.equal(width, 6);
  assert.equal(extra, 127 + 8 + V + 26 + V + 32 + 8);
  const matchAt = (p: number) => ({ predicted: rows[p * width + 2] - V - 135, length: rows[p * width + 3] - V - 135 - V });
  assert.deepEqual(matchAt(5), { predicted: 0, length: 0 }, "no match before the context repeats");
  assert.deepEqual(matchAt(15), { predicted: code("c"), length: 6 }, "after the second abcabd: c, as after the first; a match of 6");
  assert.deepEqual(matchAt(16), { predicted: code("b"), length: 7 }, "and it goes on");
  assert.equal(rt.matchLengthRow(1000), 25, "long matches share the last row");
  assert.equal(rows[3 * width + 4] - (V + 135 + V + 26), code("b"), "before/1, after the match: position 3 reads the c after b");
});

test("before/1 names the symbol before the run a position is in: the boundary while the first run lasts", () => {
  const V = 5;
  const code = (c: string) => " *\n/".indexOf(c) + 1;
  const reader = rt.inputReader(["before/1"], V);
  const preceding = [0, ..."/** \n**".split("").map(code)].map((symbol) => reader.next(symbol)[1] - V);
  assert.deepEqual(preceding, [0, 0, code("/"), code("/"), code("*"), code(" "), code("\n"), code("\n")]);
});

test("seen/1 counts how often the last 12 symbols occurred before: exact to 31, then octaves", () => {
  const V = 3;
  const reader = rt.inputReader(["seen/1"], V);
  assert.equal(reader.width, 2);
  assert.equal(rt.featureRows(["seen/1"], V), 32 + 8);
  const seen = [0, ...Array(120).fill(1)].map((symbol) => reader.next(symbol)[1] - V); // the boundary, then a run of one symbol
  assert.deepEqual(seen.slice(0, 14), Array(13).fill(0).concat(1), "0 until 12 symbols were read and while each context is new; then 1");
  assert.equal(seen[13 + 30], 31, "31 earlier occurrences: a row of its own");
  assert.deepEqual([seen[13 + 31], seen[13 + 62], seen[13 + 63], seen[13 + 106]], [32, 32, 33, 33], "32-63 share a row, 64-127 the next");
  const long = rt.inputReader(["seen/1"], V);
  const counts = [0, ...Array(4200).fill(1)].map((symbol) => long.next(symbol)[1] - V);
  assert.deepEqual([counts[13 + 4094], counts[13 + 4095], counts[4200]], [32 + 6, 32 + 7, 32 + 7], "2048-4095 share the seventh octave's row; 4096 and more the last");
  // The context is ordered: the same twelve symbols in another order are another context.
  const ordered = rt.inputReader(["seen/1"], V);
  const twelve = [1, 2, 1, 1, 2, 2, 1, 2, 2, 1, 1, 1];
  const read = [...twelve, ...twelve, ...[...twelve].reverse()].map((symbol) => ordered.next(symbol)[1] - V);
  assert.deepEqual([read[11], read[23], read[35]], [0, 1, 0], "seen once before in this order; never in the reverse order");
});

test("three copies of a line, the third going on differently: seen/1 tells the second from the third, and the text trains exact", async () => {
  const line = words(160, 11).replace(/\n/g, " ");
  const text = `1\n${line}A\n2\n${line}A\n3\n${line}B\n`; // after the line: A, A, then B
  const vocab = ["", ...new Set(text)];
  const V = vocab.length;
  const ids = Int32Array.from([...text], (c) => vocab.indexOf(c));
  const parts = [text.indexOf("A\n3"), text.indexOf("B\n")]; // the positions that predict the second copy's A and the third's B
  const rowsAt = (choice: rt.FeatureChoice) => {
    const { rows, width } = rt.inputRows(ids, V, choice);
    return parts.map((p) => [...rows.subarray(p * width, (p + 1) * width)]);
  };
  const [second, third] = rowsAt({ run: 1, match: 1, before: 1 });
  assert.deepEqual(second, third, "with the count, the match and what came before the run, both read the same rows (the match predicts A both times)");
  const [secondSeen, thirdSeen] = rowsAt({ run: 1, match: 1, before: 1, seen: 1 });
  assert.deepEqual(secondSeen.slice(0, 5), thirdSeen.slice(0, 5));
  const seenOffset = V + 127 + 8 + V + 26 + V;
  assert.deepEqual([secondSeen[5] - seenOffset, thirdSeen[5] - seenOffset], [1, 2], "seen/1: the line's end seen once before, then twice");

  await rt.initBackend("wasm");
  const trained = trainUntilExact(text, { hidden: 32, maxEpochs: 400 });
  assert.equal(trained.exact, true, `${Math.max(...trained.history.map((e) => e.exact))}/${text.length + 1} right after ${trained.epochs} epochs`);
  tf.dispose(Object.values(trained.model.weights));
});

test("a malformed or unknown feature list is refused with a reason: checked alone, at load, and at the publication check", async () => {
  await rt.initBackend("wasm");
  assert.deepEqual(rt.checkFeatures(undefined), [], "a model without features");
  assert.deepEqual(rt.checkFeatures(["match/1", "run/1"]), ["match/1", "run/1"]);
  assert.throws(() => rt.checkFeatures("run/1"), /malformed feature list/);
  assert.throws(() => rt.checkFeatures(["run/1", "match/1", "before/1", "seen/1", "run/1"]), /malformed feature list/);
  assert.throws(() => rt.checkFeatures(["run/2"]), /a feature this runtime does not know \(its feature 1;/);
  assert.throws(() => rt.checkFeatures([7]), /does not know/);
  assert.throws(() => rt.checkFeatures(["run/1", "run/1"]), /names the feature run\/1 twice/);

  const trained = trainUntilExact("aaaa bbbb\n", { hidden: 8, maxEpochs: 2 });
  const files = await rt.modelFiles(trained.model);
  tf.dispose(Object.values(trained.model.weights));
  assert.deepEqual(JSON.parse(files["model.json"]).userDefinedMetadata.features, ["run/1", "match/1", "before/1", "seen/1"]);
  const withFeatures = (features: unknown) => {
    const json = JSON.parse(files["model.json"]);
    json.userDefinedMetadata.features = features;
    return { ...files, "model.json": JSON.stringify(json) };
  };
  for (const [features, reason] of [[["run/1", "peephole/1"], /does not know/], [{ run: 1 }, /malformed/], [["run/1"], /weight 0 has shape/], [undefined, /weight 0 has shape/]] as const) {
    const bad = withFeatures(features);
    assert.throws(() => checkModelFiles(bad, LIMITS), reason);
    const checked = await checkPublication("x", "x", bad, publicationLimits);
    assert.equal(checked.ok, false);
    assert.match(checked.ok ? "" : checked.reason, /^its published model was refused: /);
    const dir = tempDir();
    await rt.saveModel(dir, bad);
    await assert.rejects(rt.loadModel(dir), features === undefined || Array.isArray(features) && features.length === 1 ? /not a neural-quine model/ : reason);
  }
});

/** The same LSTM from tf ops on the multi-hot input (rows [B,T,K] of an R-row kernel): hs [B*T,H], rows b*T+t. */
function referenceLstm(rows: Int32Array, B: number, T: number, K: number, R: number, kernel: tf.Tensor2D, recurrent: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const H = recurrent.shape[0];
  let h: tf.Tensor2D = tf.zeros([B, H]);
  let c: tf.Tensor2D = tf.zeros([B, H]);
  const steps: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    const hot = new Float32Array(B * R);
    for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) hot[b * R + rows[(b * T + t) * K + k]] += 1;
    const z = tf.add(tf.add(tf.matMul(tf.tensor2d(hot, [B, R]), kernel), tf.matMul(h, recurrent)), bias);
    const [i, f, g, o] = tf.split(z, 4, 1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    steps.push(h);
  }
  return tf.reshape(tf.stack(steps, 1), [B * T, H]);
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let [diff, norm] = [0, 0];
  for (let k = 0; k < expected.length; k++) [diff, norm] = [diff + (actual[k] - expected[k]) ** 2, norm + expected[k] ** 2];
  return Math.sqrt(diff / Math.max(norm, 1e-30));
}

test("multi-hot input: both kernels give tf autodiff's outputs and gradients, and the wasm kernel's fused loss the JavaScript one's", async () => {
  await rt.initBackend("wasm");
  const before = tf.memory().numTensors;
  const text = "==== ab ==== abc ==== ab ==== abc =\n"; // runs and repeats: every feature row varies
  const vocab = ["", ...new Set(text)];
  const V = vocab.length;
  const { rows, width: K, extra } = rowsOf(text, V, (c) => vocab.indexOf(c));
  const [B, T, H, R] = [2, 18, 8, V + extra]; // the text's 37 positions, less one, in 2 streams
  const tokens = rows.subarray(0, B * T * K);
  const random = (n: number, seed: number, scale: number) => tf.randomUniform([n], -scale, scale, "float32", seed);
  const init = tf.tidy(() => [tf.reshape(random(R * 4 * H, 1, 0.8), [R, 4 * H]), tf.reshape(random(H * 4 * H, 2, 0.5), [H, 4 * H]),
    random(4 * H, 3, 0.5), tf.reshape(random(H * V, 4, 2), [H, V]), random(V, 5, 1)]);
  const [kernel, recurrent, bias, outKernel, outBias] = init.map((t) => tf.variable(t));
  tf.dispose(init);
  const w = { kernel: kernel as tf.Variable<tf.Rank.R2>, recurrent: recurrent as tf.Variable<tf.Rank.R2>, bias: bias as tf.Variable<tf.Rank.R1>,
    outKernel: outKernel as tf.Variable<tf.Rank.R2>, outBias: outBias as tf.Variable<tf.Rank.R1> };
  const upstream = tf.randomUniform([B * T, H], -1, 1, "float32", 6);
  const lossOf = (lstm: () => tf.Tensor2D) => tf.variableGrads(() => tf.sum(tf.mul(lstm(), upstream)) as tf.Scalar, [w.kernel, w.recurrent, w.bias]);
  const reference = lossOf(() => referenceLstm(tokens, B, T, K, R, w.kernel, w.recurrent, w.bias));
  for (const kernel of ["wasm", "js"] as const) {
    rt.setKernel(kernel);
    const fused = lossOf(() => rt.lstmSequence(tokens, B, rt.zeroState(B, H), w.kernel, w.recurrent, w.bias, K));
    assert.ok(relativeError(fused.value.dataSync(), reference.value.dataSync()) < 1e-4, `loss on ${kernel}`);
    for (const name of ["kernel", "recurrent", "bias"]) {
      const error = relativeError(fused.grads[w[name as "kernel"].name].dataSync(), reference.grads[w[name as "kernel"].name].dataSync());
      assert.ok(error < 1e-4, `gradient of ${name} on ${kernel}: relative error ${error}`);
    }
    tf.dispose([fused.value, ...Object.values(fused.grads)]);
  }
  // The trainer's fused loss: gradients of all five weights, the feature rows' included.
  const targets = Int32Array.from({ length: B * T }, (_, i) => vocab.indexOf(text[i % text.length]));
  const mask = new Float32Array(B * T).fill(1);
  const fusedLoss = (kernel: "wasm" | "js") => {
    rt.setKernel(kernel);
    const state = rt.zeroState(B, H);
    const { value, grads } = tf.variableGrads(() => rt.windowLoss(w, tokens, B, state, targets, mask, { margin: 0.3, settled: 0.02 }).loss, Object.values(w));
    const out = { loss: value.dataSync()[0], h: state.h, grads: Object.values(w).map((v) => grads[v.name].dataSync()) };
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };
  const [wasm, js] = [fusedLoss("wasm"), fusedLoss("js")];
  rt.setKernel("auto");
  assert.ok(Math.abs(wasm.loss - js.loss) < 1e-5 * js.loss, `loss ${wasm.loss} against ${js.loss}`);
  assert.ok(relativeError(wasm.h, js.h) < 1e-5, "final state");
  wasm.grads.forEach((g, k) => assert.ok(relativeError(g, js.grads[k]) < 1e-5, `gradient ${k}: ${relativeError(g, js.grads[k])}`));
  assert.ok(wasm.grads[0].subarray(V * 4 * H).some((x) => x !== 0), "the feature rows get a gradient");
  tf.dispose([reference.value, ...Object.values(reference.grads), upstream, ...Object.values(w)]);
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
});

test("a count of 77: the banner's lines train exact with the features", async () => {
  await rt.initBackend("wasm");
  const trained = trainUntilExact(COUNT_TEXT, { hidden: 32, maxEpochs: 400 });
  assert.equal(trained.exact, true, `${Math.max(...trained.history.map((e) => e.exact))}/${COUNT_TEXT.length + 1} right after ${trained.epochs} epochs`);
  assert.deepEqual(trained.model.features, ["run/1", "match/1", "before/1", "seen/1"]);
  tf.dispose(Object.values(trained.model.weights));
});

test("two runs of 77 `*`, one opening a comment and one closing it: before/1 tells them apart, and the text trains exact", async () => {
  const text = `/*! ${"*".repeat(77)}\nCopyright (c) the authors.\n${"*".repeat(77)} */\n"use strict";\n`; // a newline after the first, " */" after the second
  const vocab = ["", ...new Set(text)];
  const V = vocab.length;
  const ids = Int32Array.from([...text], (c) => vocab.indexOf(c));
  const last = [text.indexOf("*".repeat(77)) + 77, text.lastIndexOf("*".repeat(77)) + 77]; // the positions that read each run's 77th `*`
  const rowsAt = (choice: rt.FeatureChoice) => {
    const { rows, width } = rt.inputRows(ids, V, choice);
    return last.map((p) => [...rows.subarray(p * width, (p + 1) * width)]);
  };
  const [opening, closing] = rowsAt({ run: 1, match: 1, before: 0 });
  assert.deepEqual(opening, closing, "with the count and the match alone, the two 77th `*` read the same rows");
  const [opened, closed] = rowsAt({ run: 1, match: 1, before: 1 });
  assert.deepEqual(opened.slice(0, 4), closed.slice(0, 4));
  const beforeOffset = V + 127 + 8 + V + 26;
  assert.deepEqual([opened[4] - beforeOffset, closed[4] - beforeOffset], [vocab.indexOf(" "), vocab.indexOf("\n")], "before/1: a space before the first run, a newline before the second");

  await rt.initBackend("wasm");
  const trained = trainUntilExact(text, { hidden: 32, maxEpochs: 400, seen: 0 }); // seen/1 would tell the two runs apart too (their counts differ)
  assert.equal(trained.exact, true, `${Math.max(...trained.history.map((e) => e.exact))}/${text.length + 1} right after ${trained.epochs} epochs`);
  tf.dispose(Object.values(trained.model.weights));
});

test("a context 1,000 characters back trains exact with the features; every decoder gives the same text; no tensors left", async () => {
  await rt.initBackend("wasm");
  const before = tf.memory().numTensors;
  const trained = trainUntilExact(FAR_TEXT, { hidden: 32, maxEpochs: 800 });
  assert.equal(trained.exact, true, `${Math.max(...trained.history.map((e) => e.exact))}/${FAR_TEXT.length + 1} right after ${trained.epochs} epochs`);
  assert.equal(trained.text, FAR_TEXT, "the trainer's greedy check");
  const dir = tempDir();
  await rt.saveModel(dir, trained.model);
  tf.dispose(Object.values(trained.model.weights));
  // The parent's decoder: plain float64 JavaScript over the files.
  const files = { "model.json": readFileSync(join(dir, "model.json"), "utf8"), "weights.bin": new Uint8Array(readFileSync(join(dir, "weights.bin"))) };
  const checked = checkModelFiles(files, LIMITS);
  assert.deepEqual(checked.features, ["run/1", "match/1", "before/1", "seen/1"]);
  assert.equal(decodeModel(checked, LIMITS).text, FAR_TEXT, "the parent's decoder");
  // The stepper on a loaded model, on another backend; and emit, as a user runs it.
  const loaded = await rt.loadModel(dir);
  await rt.initBackend("cpu");
  assert.equal(decodeGreedy(loaded, 5000).text, FAR_TEXT, "the stepper on cpu");
  await rt.initBackend("wasm");
  tf.dispose(Object.values(loaded.weights));
  const emitted = cli("emit", dir);
  assert.equal(emitted.status, 0, emitted.stderr);
  assert.equal(emitted.stdout, FAR_TEXT, "emit");
  assert.equal(tf.memory().numTensors, before);
});

for (const [name, features] of [["model-without-features", undefined], ["model-run-match", ["run/1", "match/1"]],
  ["model-run-match-before", ["run/1", "match/1", "before/1"]]] as const) {
  test(`a model saved with an older feature list (${features?.join(", ") ?? "none"}) loads and decodes as it did, with every decoder`, async () => {
    await rt.initBackend("wasm");
    const dir = join(ROOT, "test", "fixtures", name); // each trained before the next feature existed (--before 0 --seen 0, --seen 0 give those trainers)
    const text = readFileSync(join(dir, "text.txt"), "utf8"); // what its trainer decoded, then and now
    const json = readFileSync(join(dir, "model.json"), "utf8");
    assert.deepEqual(JSON.parse(json).userDefinedMetadata.features, features);
    const loaded = await rt.loadModel(dir);
    assert.deepEqual(loaded.features, features);
    assert.equal(loaded.weights.kernel.shape[0], loaded.vocab.length + rt.featureRows([...(features ?? [])], loaded.vocab.length));
    assert.equal(decodeGreedy(loaded, 1000).text, text, "the stepper");
    const files = { "model.json": json, "weights.bin": new Uint8Array(readFileSync(join(dir, "weights.bin"))) };
    assert.equal(decodeModel(checkModelFiles(files, LIMITS), LIMITS).text, text, "the parent's decoder");
    // Saved again, it keeps its feature list: the metadata says nothing new.
    const again = tempDir();
    await rt.saveModel(again, loaded);
    assert.deepEqual(JSON.parse(readFileSync(join(again, "model.json"), "utf8")).userDefinedMetadata.features, features);
    tf.dispose(Object.values(loaded.weights));
  });
}
