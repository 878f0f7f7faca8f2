// A backend or kernel that cannot run here is not dropped in silence: an explicit choice fails with
// the reason, and a fallback to a slower one is said once on stderr.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { assertCleanError, cli, CLI, tempDir } from "./helpers";
import { ROOT } from "../src/paths";

test("an explicit backend that cannot load fails with the reason it did not", { skip: hasTfjsNode() && "@tensorflow/tfjs-node is installed here" }, () => {
  const dir = tempDir();
  writeFileSync(join(dir, "a.txt"), "ab\n");
  const result = cli("train", join(dir, "a.txt"), "--out", join(dir, "m"), "--backend", "node");
  assertCleanError(result, /the node backend is not available: @tensorflow\/tfjs-node did not load \(Cannot find module '@tensorflow\/tfjs-node'/i);
});

test("without WebAssembly, the wasm kernel and backend fall back to the slower ones and say so once each", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "a.txt"), "ab\n");
  // --jitless: V8 without WebAssembly, as on a runtime that refuses to compile it.
  const result = spawnSync(process.execPath, ["--jitless", CLI, "train", join(dir, "a.txt"), "--out", join(dir, "m"), "--max-epochs", "2"],
    { encoding: "utf8", cwd: ROOT, env: { ...process.env, NQ_DEBUG: "" } });
  const kernelNotes = result.stderr.match(/note: the wasm kernel cannot run here \(no WebAssembly\); the slower JavaScript kernel is used instead/g) ?? [];
  const backendNotes = result.stderr.match(/note: the wasm backend did not initialise \([^)]+\); using the slower cpu backend/g) ?? [];
  assert.equal(kernelNotes.length, 1, result.stderr);
  assert.equal(backendNotes.length, 1, result.stderr);
  assert.match(result.stderr, /backend: cpu/);
});

function hasTfjsNode(): boolean {
  try {
    require.resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
}
