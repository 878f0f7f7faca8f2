// The code quine's trainer: exact memorization, determinism, backends, model files, bad inputs.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { bundleQuine } from "../src/bundle";
import { QUINE_PATH } from "../src/paths";
import { decodeGreedy } from "../src/quine/sample";
import { settings, trainUntilExact } from "../src/quine/train";
import * as rt from "../src/runtime";
import { CLI, cli, tempDir } from "./helpers";

const SMALL = { hidden: 32, maxEpochs: 400 };
const TEXT = "function hello(name) {\n  return `hello, ${name}!`;\n}\n";


function dispose(model: rt.QuineModel): void {
  tf.dispose(Object.values(model.weights));
}

test("memorizes a small text exactly: decoding gives it back byte for byte", async () => {
  await rt.initBackend("wasm");
  const trained = trainUntilExact(TEXT, SMALL);
  assert.equal(trained.exact, true);
  assert.equal(trained.text, TEXT);
  assert.ok(trained.minMargin >= 1, `margin ${trained.minMargin}`);
  assert.equal(decodeGreedy(trained.model, 1000).text, TEXT);
  assert.equal(trained.history.length, trained.epochs);
  dispose(trained.model);
});

test("memorizes non-ASCII text", async () => {
  await rt.initBackend("wasm");
  const text = "Grüße, 世界! ✓ naïve café — ok\n";
  const trained = trainUntilExact(text, SMALL);
  assert.equal(trained.text, text);
  dispose(trained.model);
});

test("is deterministic: the same text, seed and backend give bitwise-identical weights", async () => {
  await rt.initBackend("wasm");
  const hashes = [1, 2].map(() => {
    const trained = trainUntilExact(TEXT, { ...SMALL, maxEpochs: 20 });
    const hash = rt.weightsHash(trained.model.weights);
    dispose(trained.model);
    return hash;
  });
  assert.equal(hashes[0], hashes[1]);
  const other = trainUntilExact(TEXT, { ...SMALL, maxEpochs: 20, seed: 7 });
  assert.notEqual(rt.weightsHash(other.model.weights), hashes[0]);
  dispose(other.model);
});

test("does not leak tensors across epochs", async () => {
  await rt.initBackend("wasm");
  const leaked = [3, 12].map((maxEpochs) => {
    const before = tf.memory().numTensors;
    const trained = trainUntilExact(TEXT, { ...SMALL, maxEpochs });
    dispose(trained.model);
    return tf.memory().numTensors - before;
  });
  assert.deepEqual(leaked, [0, 0]);
});

test("gives up within its epoch budget with the best model so far", async () => {
  await rt.initBackend("wasm");
  const trained = trainUntilExact(TEXT.repeat(3), { ...SMALL, hidden: 8, maxEpochs: 3 });
  assert.equal(trained.exact, false);
  assert.equal(trained.epochs, 3);
  dispose(trained.model);
});

test("a model trained on wasm decodes the same text on cpu", async () => {
  await rt.initBackend("wasm");
  const trained = trainUntilExact(TEXT, SMALL);
  const dir = tempDir();
  await rt.saveModel(dir, trained.model);
  dispose(trained.model);
  for (const backend of ["cpu", "wasm"] as const) {
    await rt.initBackend(backend);
    assert.equal(rt.currentBackend(), backend);
    const model = await rt.loadModel(dir);
    assert.equal(decodeGreedy(model, 1000).text, TEXT, backend);
    dispose(model);
  }
});

test("saved models are standard TensorFlow.js layers models", async () => {
  await rt.initBackend("wasm");
  const trained = trainUntilExact(TEXT, SMALL);
  const dir = tempDir();
  await rt.saveModel(dir, trained.model);
  const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const layers = await tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: new Uint8Array(readFileSync(join(dir, "weights.bin"))).buffer,
  }));
  // tf.layers' own LSTM, fed the boundary and the text (multi-hot: each symbol's row and its
  // features' rows, as the runtime computes them), predicts every next character.
  const vocab: string[] = json.userDefinedMetadata.vocab;
  const features = rt.checkFeatures(json.userDefinedMetadata.features);
  assert.deepEqual(features, ["run/1", "match/1", "before/1", "seen/1"]);
  const R = vocab.length + rt.featureRows(features, vocab.length);
  const ids = [0, ...[...TEXT].map((ch) => vocab.indexOf(ch))];
  const reader = rt.inputReader(features, vocab.length);
  const multiHot = new Float32Array(ids.length * R);
  ids.forEach((id, p) => reader.next(id).forEach((row) => (multiHot[p * R + row] += 1)));
  const predicted = tf.tidy(() => {
    const input = tf.tensor3d(multiHot, [1, ids.length, R]); // [1, N+1, R]
    return tf.argMax(layers.predict(input) as tf.Tensor, -1).dataSync();
  });
  assert.equal([...predicted].map((id) => vocab[id]).join(""), TEXT);
  layers.dispose();
  dispose(trained.model);
});

test("CLI: train then emit round-trips a file, with metrics", () => {
  const dir = tempDir();
  const file = join(dir, "poem.txt");
  writeFileSync(file, "Roses are red,\nviolets are blue.\n");
  const trained = cli("train", file, "--out", join(dir, "model"), "--hidden", "32", "--json");
  assert.equal(trained.status, 0, trained.stderr);
  const metrics = JSON.parse(trained.stdout);
  assert.equal(metrics.exact, true);
  assert.equal(metrics.backend, "wasm");
  assert.equal(metrics.kernel, "wasm"); // where WebAssembly SIMD runs (Node ≥ 16)
  assert.match(metrics.weightsHash, /^[0-9a-f]{64}$/);
  assert.deepEqual(Object.keys(metrics.settings).sort(), Object.keys(settings).sort(), "the trainer's settings, nothing else (no out, json, backend)");
  assert.equal(metrics.settings.hidden, 32);
  assert.match(trained.stderr, /backend: wasm/);
  assert.match(trained.stderr, /epoch \d+ +loss [\d.]+ +exact \d+\/\d+ +margin/);
  for (const backend of ["wasm", "cpu"]) {
    const emitted = cli("emit", join(dir, "model"), "--backend", backend);
    assert.equal(emitted.status, 0, emitted.stderr);
    assert.equal(emitted.stdout, readFileSync(file, "utf8"));
  }
});

test("CLI: bad inputs end with one clear sentence and a non-zero exit", () => {
  const dir = tempDir();
  const write = (name: string, data: string | Buffer) => {
    writeFileSync(join(dir, name), data);
    return join(dir, name);
  };
  const writeIn = (folder: string, name: string, data: string) => {
    mkdirSync(join(dir, folder));
    return write(join(folder, name), data);
  };
  const cases: [string[], RegExp][] = [
    [["train", join(dir, "missing.txt")], /File not found/],
    [["train", write("empty.txt", "")], /is empty/],
    [["train", write("binary.bin", Buffer.from([0x89, 0x50, 0x00, 0x01]))], /looks binary/],
    [["train", write("latin1.txt", Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]))], /not valid UTF-8/],
    [["train", write("bell.txt", "ding\u0007dong\n")], /U\+0007 at line 1, column 5/],
    [["train", dir], /is a directory/],
    [["train", write("ok.txt", "ok\n"), "--backend", "gpu"], /Unknown backend "gpu"/],
    [["train", write("ok2.txt", "ok\n"), "--seed", "-3"], /non-negative integer/],
    [["emit", tempDir()], /No model found/],
    [["train", write("ok3.txt", "ok\n"), "--hidden", "0"], /^neural-quine: --hidden must be a positive integer, not 0\.\n$/],
    [["emit", join(write("model.json", "{not json"), "..")], /damaged or not a neural-quine model/],
    [["emit", join(writeIn("foreign", "model.json", JSON.stringify({ format: "layers-model", modelTopology: {}, weightsManifest: [] })), "..")], /model\.json's field "modelTopology\.class_name": expected "Sequential"\.\n$/],
  ];
  for (const [args, message] of cases) {
    const result = cli(...args);
    assert.notEqual(result.status, 0, args.join(" "));
    assert.match(result.stderr, message, args.join(" "));
    assert.doesNotMatch(result.stderr, /\n\s+at /, `no stack trace for ${args.join(" ")}`);
  }
});

test("the committed bundle is up to date with src/quine", () => {
  assert.equal(readFileSync(QUINE_PATH, "utf8"), bundleQuine(), "quine/quine.js is stale: run npm run build");
});

test("train stops at once on Ctrl-C or SIGTERM, even in the middle of training", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const dir = tempDir();
    const text = join(dir, "long.txt");
    writeFileSync(text, readFileSync(QUINE_PATH, "utf8")); // hundreds of passes: it is still training when the signal comes after the first
    // --out and the cwd in a scratch folder: a test never writes into the repository.
    const child = spawn(process.execPath, [CLI, "train", text, "--out", join(dir, "long.model")], { cwd: dir, env: { ...process.env, NQ_BACKEND: "wasm" } });
    // The first pass's progress line says it is training.
    await new Promise<void>((resolve) => child.stderr.on("data", (chunk: Buffer) => /^epoch /m.test(chunk.toString()) && resolve()));
    const sent = Date.now();
    child.kill(signal);
    const [code, received] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
    assert.deepEqual([code, received], [null, signal], `${signal} ended it`);
    // Only a hang: the training it cut short would run for minutes.
    assert.ok(Date.now() - sent < 30_000, `${signal} took ${Date.now() - sent} ms`);
    assert.ok(!existsSync(join(dir, "long.model")), "no model saved");
  }
});
