// The sandbox: hostile and broken programs end dead with a clear reason and no effect outside;
// a real quine program runs there unchanged, as it does standalone, and its progress comes through.
// The child process runs from dist/ (built by `npm test`'s pretest).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, QUINE_PATH } from "../src/paths";
import { DEFAULT_LIMITS, runInSandbox, type SandboxLimits } from "../src/ouroboros/sandbox";

const FIXTURES = join(ROOT, "test", "fixtures");
const TINY_QUINE = join(FIXTURES, "tiny-quine.js");
const MARKER = "/tmp/neural-quine-hostile-marker"; // what the hostile fixtures try to leave behind
const QUICK: SandboxLimits = { ...DEFAULT_LIMITS, timeoutMs: 60_000, backend: "wasm" };

/** Runs a fixture in the sandbox and asserts it ended dead for `reason`, leaving nothing behind. */
async function assertDead(fixture: string, reason: RegExp, limits: SandboxLimits = QUICK): Promise<void> {
  rmSync(MARKER, { force: true });
  const result = await runInSandbox(join(FIXTURES, fixture), limits);
  assert.equal(result.status, "dead", `${fixture} should die, got ${JSON.stringify(result).slice(0, 300)}`);
  if (result.status !== "dead") return;
  assert.match(result.reason, reason);
  assert.doesNotMatch(result.reason, /\n/, "a reason is one line");
  assert.equal(existsSync(MARKER), false, `${fixture} left ${MARKER} behind`);
}

test("a program that starts a process dies: child_process is not there to require", async () => {
  await assertDead("hostile-child-process.js", /^forbidden: require\("child_process"\)/);
});

test("a program that reads another file dies naming the file", async () => {
  await assertDead("hostile-read-file.js", /^forbidden: reading \/etc\/passwd/);
});

test("a program that writes a file dies, and no file appears", async () => {
  // The fixture is real: run standalone, it does write the marker.
  rmSync(MARKER, { force: true });
  spawnSync(process.execPath, [join(FIXTURES, "hostile-write-file.js")]);
  assert.equal(existsSync(MARKER), true);
  await assertDead("hostile-write-file.js", /^forbidden: fs\.writeFileSync/);
});

test("a program that reads process.env dies: there is no process", async () => {
  await assertDead("hostile-process-env.js", /^forbidden: process/);
});

test("a program that opens a connection dies: neither net nor fetch is there", async () => {
  await assertDead("hostile-network.js", /^forbidden: require\("net"\)/);
  await assertDead("hostile-fetch.js", /^forbidden: fetch/);
});

test("constructor chains to the host's Function, from the program's objects or the harness's, lead nowhere", async () => {
  await assertDead("hostile-constructor-chain.js", /^forbidden: eval or new Function/);
  await assertDead("hostile-tf-environment.js", /^forbidden: tf\.env/);
});

test("tensor data reaches the program as its own typed arrays, with the right values", async () => {
  // Not proxies of the host's arrays: those cost ~0.4 µs per element read (3× slower training).
  await assertDead("tensor-data.js", /^threw Error: tensor data \{"float":"1.5,-2,3","int":"7,8","ownBuffer":true,"int32":true,"escaped":false\}$/);
});

test("an infinite loop dies at the time limit", async () => {
  await assertDead("infinite-loop.js", /^ran out of time: stopped after 3 s/, { ...QUICK, timeoutMs: 3000 });
});

test("memory bombs die at the memory limit, in the heap or outside it", async () => {
  await assertDead("memory-bomb.js", /^ran out of memory/, { ...QUICK, maxMemoryMb: 300 });
  await assertDead("memory-bomb-buffers.js", /^ran out of memory/, { ...QUICK, maxMemoryMb: 300 });
});

test("a syntax error, a throw and a program without a result each die with their own reason", async () => {
  await assertDead("syntax-error.js", /^does not parse: /);
  await assertDead("throws.js", /^threw Error: this generation gives up/);
  await assertDead("no-publish.js", /^ended without publishing a result/);
  const missing = await runInSandbox(join(FIXTURES, "no-such-program.js"), QUICK);
  assert.equal(missing.status, "dead");
});

test("the tiny quine runs unchanged standalone and in the sandbox, and its progress lines come through", async () => {
  const source = readFileSync(TINY_QUINE, "utf8");
  const standalone = spawnSync(process.execPath, [TINY_QUINE], { encoding: "utf8", env: { ...process.env, NQ_BACKEND: "wasm" } });
  assert.equal(standalone.status, 0, standalone.stderr);
  assert.equal(standalone.stdout, source);

  const lines: string[] = [];
  const result = await runInSandbox(TINY_QUINE, { ...QUICK, timeoutMs: 300_000 }, (line) => lines.push(line));
  assert.equal(result.status, "ok", result.status === "dead" ? result.reason : "");
  if (result.status !== "ok") return;
  assert.equal(result.text, source);
  assert.equal(result.exact, true);
  assert.equal(result.backend, "wasm");
  assert.equal(result.seed, 1);
  assert.ok(result.epochs > 0);
  assert.equal(typeof result.files["model.json"], "string");
  assert.ok(result.files["weights.bin"] instanceof Uint8Array && result.files["weights.bin"].length > 0);
  assert.equal(JSON.parse(result.files["model.json"]).format, "layers-model");
  assert.equal(lines[0], "backend: wasm");
  assert.match(lines[1], /^epoch 1 /);
  assert.equal(lines.filter((line) => line.startsWith("epoch ")).length, result.epochs);
  assert.match(result.stderr, /epoch 1 /);
});

test("the bundled quine runs unchanged in the sandbox (stopped after its first epochs)", async () => {
  const lines: string[] = [];
  const epochs: number[] = [];
  const result = await runInSandbox(QUINE_PATH, { ...QUICK, timeoutMs: 20_000 }, (line) => lines.push(line), (e) => epochs.push(e.epoch));
  assert.equal(result.status, "dead");
  if (result.status === "dead") assert.match(result.reason, /^ran out of time/);
  assert.equal(lines[0], "backend: wasm");
  assert.equal(epochs[0], 1, "its progress comes as records, the first pass first");
  assert.match(result.stderr, /^epoch 1 .* chars\/s/m);
});
