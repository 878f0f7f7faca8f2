// A failed model fails fast: models record the length of the text they were trained on, and emit
// stops a model that never ends its text at twice that length (or --max-chars), saying why.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { ROOT } from "../src/paths";
import { emitLimit, emitModel } from "../src/memorize";
import * as rt from "../src/runtime";

const CLI = join(ROOT, "dist", "src", "cli.js");

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, NQ_DEBUG: "" } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A model over "", "a", "b" whose boundary logit is hopeless: it never ends its text. */
function runawayModel(textLength?: number): rt.QuineModel {
  const [V, H] = [3, 4];
  const fill = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1) * scale);
  return {
    vocab: ["", "a", "b"],
    weights: {
      kernel: tf.tensor2d(fill(V * 4 * H, 0.5), [V, 4 * H]),
      recurrent: tf.tensor2d(fill(H * 4 * H, 0.3), [H, 4 * H]),
      bias: tf.tensor1d(new Float32Array(4 * H)),
      outKernel: tf.tensor2d(fill(H * V, 1), [H, V]),
      outBias: tf.tensor1d([-1000, 0, 0]),
    },
    ...(textLength === undefined ? {} : { textLength }),
  };
}

async function saved(model: rt.QuineModel): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "nq-emit-"));
  await rt.saveModel(dir, model);
  tf.dispose(Object.values(model.weights));
  return dir;
}

test("emit stops a model that never ends at twice the recorded text length plus 1000, and says why", async () => {
  await rt.initBackend("wasm");
  const dir = await saved(runawayModel(40));
  assert.equal((await rt.loadModel(dir)).textLength, 40);
  const emitted = await emitModel(dir, "wasm");
  assert.equal(emitted.text.length, emitLimit(40) + 1);
  assert.equal(emitLimit(40), 1080);
  assert.match(emitted.stopped ?? "", /did not end its text: decoding stopped after 1081 characters, the limit of 1080 for a text of 40 \(twice the text's length plus 1,000 characters\)/);
  const run = cli("emit", dir);
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /did not end its text.*--max-chars/);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
  const raised = cli("emit", dir, "--max-chars", "3000");
  assert.match(raised.stderr, /stopped after 3001 characters, the --max-chars limit/);
});

test("models saved without a text length (older ones) still load and emit, with the old limit; a bad length is refused", async () => {
  await rt.initBackend("wasm");
  const dir = await saved(runawayModel());
  const model = await rt.loadModel(dir);
  assert.equal(model.textLength, undefined);
  tf.dispose(Object.values(model.weights));
  const emitted = await emitModel(dir, "wasm", 100);
  assert.equal(emitted.text.length, 101);
  const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  json.userDefinedMetadata.textLength = -5;
  writeFileSync(join(dir, "model.json"), JSON.stringify(json));
  await assert.rejects(rt.loadModel(dir), /model\.json's field "userDefinedMetadata\.textLength": Too small: expected number to be >=0\./);
});

test("train records the text's length in the model; an exact model emits its text and no complaint", () => {
  const dir = mkdtempSync(join(tmpdir(), "nq-emit-"));
  const file = join(dir, "short.txt");
  writeFileSync(file, "héllo, héllo\n");
  const trained = cli("train", file, "--out", join(dir, "model"), "--hidden", "32");
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stderr, /predicted difficulty: easy/);
  const json = JSON.parse(readFileSync(join(dir, "model", "model.json"), "utf8"));
  assert.equal(json.userDefinedMetadata.textLength, 13);
  const emitted = cli("emit", join(dir, "model"));
  assert.equal(emitted.status, 0, emitted.stderr);
  assert.equal(emitted.stdout, "héllo, héllo\n");
});
