// The quine itself: `node quine/quine.js` trains on its own file and prints exactly that file.
// About a minute on two cores; the benchmark, not this test, judges its speed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { QUINE_PATH } from "../src/paths";

test("node quine/quine.js prints exactly its own source (progress on stderr only)", () => {
  const run = spawnSync(process.execPath, [QUINE_PATH], { maxBuffer: 1 << 26 });
  const stderr = run.stderr.toString();
  assert.equal(run.status, 0, stderr.slice(-2000));
  assert.ok(run.stdout.equals(readFileSync(QUINE_PATH)), "stdout differs from quine/quine.js");
  assert.match(stderr, /^backend: (wasm|node|cpu)\n/);
  assert.match(stderr, /epoch \d+ +loss [\d.]+ +exact (\d+)\/\1 +margin/);
});
