// The ouroboros: a lineage from the tiny quine, resuming, the lock, damaged folders, kill -9 in the
// middle of a generation, hostile programs, and the inspection commands' error paths.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { lockSync } from "proper-lockfile";
import { sha256 } from "../src/files/hash";
import { readGeneration, type GenerationMetrics } from "../src/ouroboros/store";
import { ageLock, assertCleanError, CLI, cli, TINY_QUINE, tempDir } from "./helpers";

const TINY = TINY_QUINE;
const scratch = tempDir();

function metrics(dir: string, generation: number): GenerationMetrics {
  return JSON.parse(readFileSync(join(dir, `gen-${String(generation).padStart(4, "0")}`, "metrics.json"), "utf8")) as GenerationMetrics;
}

function program(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

// A stand-in program for the lineage's mechanics (store, lock, kill, resume): after pretending to
// train for two seconds (20 passes reported with rt.progress, none published), it publishes a model built, not trained, to spell its text (a shift
// register: unit j is on at step j and votes for character j), with "mark: one" changed into
// "mark: two" on the way, so its generation 0 is mutated and the next ones are exact.
const FAKE = `// mark: one
const tf = require("@tensorflow/tfjs-core"), rt = require("neural-quine/runtime"), fs = require("fs");
rt.start().then(async () => {
  const t = fs.readFileSync(__filename, "utf8").replace("mark: " + "one", "mark: " + "two"), v = ["", ...new Set(t)];
  for (let e = 1; e <= 20; e++) await new Promise((r) => setTimeout(r, 100)), rt.progress({ epoch: e, loss: 1 / e, exact: e, minMargin: -1, seconds: e / 10 }, 21);
  const V = v.length, H = t.length + 1, Z = (n) => tf.zeros([n, 3 * H]), on = (a, n, x) => tf.mul(tf.oneHot(tf.tensor1d(a, "int32"), n), x);
  return rt.publish({ text: t, epochs: 20, seed: 0, exact: true, history: [], model: { vocab: v, weights: {
    kernel: tf.concat([Z(V), on(v.map((s) => (s ? H : 0)), H, 40)], 1), bias: tf.concat([20, -20, 20, -20].map((x) => tf.fill([H], x))),
    recurrent: tf.concat([Z(H), on([...Array(H).keys()].map((j) => j + 1), H, 40 / Math.tanh(1))], 1),
    outKernel: on([...t].map((c) => v.indexOf(c)).concat(0), V, 10), outBias: tf.zeros([V]) } } });
});
`;
const fake = program("fake.js", FAKE);
// Its model has a unit per character, more weights than a publication may have by default.
const FAKE_LIMITS = ["--max-parameters", "5000000"];

/** Three generations of the stand-in program (mutated, exact, exact), run once and shared. */
let fakeDir: string | undefined;
function fakeLineage(): string {
  if (fakeDir) return fakeDir;
  const dir = join(scratch, "fake");
  const run = cli("bootstrap", "--from", fake, "--dir", dir, "--generations", "3", ...FAKE_LIMITS);
  assert.equal(run.status, 0, run.stderr);
  return (fakeDir = dir);
}

// One lineage of two generations from the tiny quine, built in two runs: the second resumes.
const lineage = join(scratch, "lineage");
let firstRun: ReturnType<typeof cli>;
let resumed: ReturnType<typeof cli>;
let gen0Before: string;
describe("a lineage of two generations from the tiny quine", () => {
  before(() => {
    firstRun = cli("bootstrap", "--from", TINY, "--dir", lineage, "--generations", "1");
    gen0Before = readFileSync(join(lineage, "gen-0000", "metrics.json"), "utf8");
    resumed = cli("bootstrap", "--from", TINY, "--dir", lineage, "--generations", "2");
  });

  test("a lineage from the tiny quine: every generation exact, text and weights fixpoints, all files stored", () => {
    assert.equal(firstRun.status, 0, firstRun.stderr);
    assert.equal(resumed.status, 0, resumed.stderr);
    const gen0 = metrics(lineage, 0);
    const gen1 = metrics(lineage, 1);
    assert.equal(gen0.status, "exact");
    assert.equal(gen1.status, "exact");
    assert.equal(gen0.parent, null);
    assert.equal(gen1.parent, 0);
    assert.equal(gen0.textFixpoint, true);
    assert.equal(gen0.weightsFixpoint, null, "generation 0 has no parent weights");
    assert.equal(gen1.textFixpoint, true);
    assert.equal(gen1.weightsFixpoint, true, "a seeded trainer on the same text gives the same weights");
    assert.equal(gen1.weightsHash, gen0.weightsHash);
    assert.equal(gen1.parentWeightsHash, gen0.weightsHash);
    assert.equal(gen0.programHash, sha256(readFileSync(TINY)));
    for (const gen of ["gen-0000", "gen-0001"]) {
      for (const file of ["program.js", "emitted.js", "model/model.json", "model/weights.bin", "diff.patch", "metrics.json"]) {
        assert.ok(existsSync(join(lineage, gen, file)), `${gen}/${file}`);
      }
      assert.equal(readFileSync(join(lineage, gen, "diff.patch"), "utf8"), "", "exact: an empty diff");
    }
    assert.equal(readFileSync(join(lineage, "gen-0001", "program.js"), "utf8"), readFileSync(join(lineage, "gen-0000", "emitted.js"), "utf8"));
    assert.ok(gen0.epochs > 0 && gen0.charsPerSecond > 0 && gen0.wallSeconds > 0);
    assert.deepEqual(gen0.kernel, { name: "wasm", threads: 1 }, "the kernel it trained on is recorded");
    // The work the sandbox's kernel counted: every epoch passes the whole text through it at least once,
    // and the same program on the same text counts the same (it is what evolution selects on).
    assert.ok(gen0.work && gen0.work.chars >= gen0.epochs * [...readFileSync(TINY, "utf8")].length, `counted ${JSON.stringify(gen0.work)}`);
    assert.ok(gen0.work.multiplyAdds > gen0.work.chars);
    assert.deepEqual(gen1.work, gen0.work);
    const summary = JSON.parse(readFileSync(join(lineage, "lineage.json"), "utf8")) as { generations: { generation: number; status: string; weightsFixpoint: boolean | null }[]; updated: string };
    assert.deepEqual(summary.generations.map((g) => [g.generation, g.status, g.weightsFixpoint]), [[0, "exact", null], [1, "exact", true]]);
    assert.ok(!Number.isNaN(Date.parse(summary.updated)));
    assert.ok(!existsSync(join(lineage, ".lock")), "the lock is released");
  });

  test("bootstrap run again continues after the last finished generation and leaves it untouched", () => {
    assert.match(resumed.stderr, /continuing after gen-0000/);
    assert.doesNotMatch(resumed.stderr, /gen-0000: running/);
    assert.equal(readFileSync(join(lineage, "gen-0000", "metrics.json"), "utf8"), gen0Before);
    const again = cli("bootstrap", "--from", TINY, "--dir", lineage, "--generations", "2");
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /no new generations/);
  });

  test("emit --check decodes each generation's saved weights back to its stored emitted text", () => {
    const check = cli("emit", "1", "--dir", lineage, "--check");
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /gen-0001: the saved weights decode to the stored emitted text/);
    const emitted = cli("emit", join(lineage, "gen-0000"));
    assert.equal(emitted.status, 0, emitted.stderr);
    assert.equal(emitted.stdout, readFileSync(join(lineage, "gen-0000", "emitted.js"), "utf8"));
    assert.equal(cli("emit", join(lineage, "gen-0000", "model")).stdout, emitted.stdout, "a plain model directory works too");
    const rows = JSON.parse(cli("generations", "--dir", lineage, "--json").stdout) as { generation: number; status: string; textFixpoint: boolean; weightsFixpoint: boolean | null; damage: string | null }[];
    assert.deepEqual(rows.map((r) => [r.generation, r.status, r.textFixpoint, r.weightsFixpoint, r.damage]), [[0, "exact", true, null, null], [1, "exact", true, true, null]]);
  });
});

test("a mutated generation keeps its diff, and its text runs as the next program; generations, show and diff show it", () => {
  const dir = fakeLineage();
  const gen0 = metrics(dir, 0);
  assert.equal(gen0.status, "mutated");
  assert.equal(gen0.textFixpoint, false);
  assert.equal(gen0.changedLines, 2);
  // It published no history: the passes it reported with rt.progress stand in, as records.
  assert.deepEqual(gen0.history.map((e) => [e.epoch, e.exact, e.seconds]), Array.from({ length: 20 }, (_, i) => [i + 1, i + 1, (i + 1) / 10]));
  assert.match(readFileSync(join(dir, "gen-0000", "diff.patch"), "utf8"), /^-\/\/ mark: one\n\+\/\/ mark: two$/m);
  assert.equal(readFileSync(join(dir, "gen-0001", "program.js"), "utf8"), readFileSync(join(dir, "gen-0000", "emitted.js"), "utf8"));
  assert.deepEqual([metrics(dir, 1).status, metrics(dir, 2).status], ["exact", "exact"]);
  assert.equal(metrics(dir, 2).weightsFixpoint, true);

  const table = cli("generations", "--dir", dir);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^gen\s+status\s+bytes\s+epochs\s+time\s+text fixpoint\s+weights fixpoint\s+changed lines$/m);
  assert.match(table.stdout, /^0\s+mutated\s+\d+\s+20\s+[\d.]+ s\s+no\s+–\s+2$/m);
  assert.match(table.stdout, /^2\s+exact\s+\d+\s+20\s+[\d.]+ s\s+yes\s+yes\s+0$/m);

  const show = cli("show", "0", "--dir", dir);
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /^status\s+mutated$/m);
  assert.ok(show.stdout.endsWith(FAKE), "the program comes last");
  const json = JSON.parse(cli("show", "gen-0001", "--dir", dir, "--json").stdout) as { metrics: GenerationMetrics; program: string };
  assert.equal(json.metrics.generation, 1);

  const diff = cli("diff", "0", "--dir", dir);
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stdout, /^--- gen-0000\/program\.js\n\+\+\+ gen-0000\/emitted\.js$/m);
  assert.ok(!diff.stdout.includes("\u001b["), "no colour when stdout is not a terminal");
  assert.match(cli("diff", "0", "2", "--dir", dir).stdout, /^\+\/\/ mark: two$/m);
  const same = cli("diff", "1", "--dir", dir);
  assert.equal(same.stdout, "");
  assert.match(same.stderr, /no differences/);
  assert.match(cli("diff", "0", "--original", "--dir", dir).stdout, /^--- quine\/quine\.js/m);
});

test("a second run on the same directory refuses while the first holds the lock; a stale lock is taken over", () => {
  const dir = join(scratch, "locked");
  mkdirSync(dir);
  const release = lockSync(dir, { lockfilePath: join(dir, ".lock"), realpath: false }); // a live run's lock, as bootstrap takes it
  assertCleanError(cli("bootstrap", "--from", fake, "--dir", dir, "--generations", "1"), /in use by another run \(its lock was refreshed \d+ s ago\)/);
  assert.deepEqual(readdirSync(dir), [".lock"], "nothing was run");
  release();

  mkdirSync(join(dir, ".lock")); // a run that died holding it: not refreshed for longer than the timeout
  ageLock(dir);
  const quick = program("quick-death.js", "throw new Error('stop here');\n");
  const taken = cli("bootstrap", "--from", quick, "--dir", dir, "--generations", "1");
  assert.equal(taken.status, 0, taken.stderr);
  assert.match(taken.stderr, /took over the lock of an earlier run that stopped refreshing it \d+ s ago/);
  assert.ok(!existsSync(join(dir, ".lock")));
});

test("a damaged generation folder is reported as such, never a crash", () => {
  const dir = join(scratch, "damaged");
  cpSync(fakeLineage(), dir, { recursive: true });
  rmSync(join(dir, "gen-0002"), { recursive: true });
  rmSync(join(dir, "gen-0001", "emitted.js"));
  const table = cli("generations", "--dir", dir);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^1\s+damaged\s+emitted\.js is missing$/m);
  assert.match(table.stderr, /1 damaged generation folder/);
  assertCleanError(cli("show", "1", "--dir", dir), /gen-0001 is damaged: emitted\.js is missing\./);
  assertCleanError(cli("emit", "1", "--dir", dir, "--check"), /gen-0001 is damaged: emitted\.js is missing\./);
  assertCleanError(cli("bootstrap", "--from", fake, "--dir", dir, "--generations", "3"), /gen-0001 in .* is damaged \(emitted\.js is missing\).*remove that folder/);

  writeFileSync(join(dir, "gen-0000", "metrics.json"), "{ half a record");
  const rows = JSON.parse(cli("generations", "--dir", dir, "--json").stdout) as { status: string; damage: string | null }[];
  assert.deepEqual(rows.map((r) => [r.status, r.damage]), [["damaged", "metrics.json is not valid JSON"], ["damaged", "emitted.js is missing"]]);
  assertCleanError(cli("diff", "0", "--dir", dir), /gen-0000 is damaged: metrics\.json is not valid JSON\./);

  const foreign = metrics(fakeLineage(), 0);
  writeFileSync(join(dir, "gen-0000", "metrics.json"), JSON.stringify({ ...foreign, history: [{ ...foreign.history[0], loss: "low" }] }));
  assert.equal(readGeneration(dir, 0).damage, `metrics.json is not a generation's record (field "history[0].loss": expected number, received string)`);
  writeFileSync(join(dir, "gen-0000", "metrics.json"), JSON.stringify(foreign));
  writeFileSync(join(dir, "gen-0000", "program.js"), "// edited by hand\n");
  assert.equal(readGeneration(dir, 0).damage, "program.js does not match the hash in metrics.json");
});

test("kill -9 in the middle of a generation loses no finished generation, and a rerun continues", async () => {
  const dir = join(scratch, "killed");
  // Its own process group, so that the kill takes the sandboxed program with it.
  const child = spawn(process.execPath, [CLI, "bootstrap", "--from", fake, "--dir", dir, "--generations", "3", ...FAKE_LIMITS], { detached: true, stdio: "ignore" });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const midway = (): boolean => existsSync(join(dir, "gen-0000")) && existsSync(dir) && readdirSync(dir).some((name) => name.startsWith("gen-0001.tmp-"));
  for (let waited = 0; !midway(); waited += 100) {
    assert.ok(waited < 60_000, "generation 1 never started");
    assert.equal(child.exitCode, null, "bootstrap ended before generation 1 started");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.kill(-(child.pid as number), "SIGKILL");
  await exited;
  ageLock(dir); // as if the stale timeout had passed since the kill
  const gen0 = readFileSync(join(dir, "gen-0000", "metrics.json"), "utf8");
  assert.equal(readGeneration(dir, 0).damage, null);
  assert.ok(!existsSync(join(dir, "gen-0001")), "the unfinished generation is not there under its final name");

  const rerun = cli("bootstrap", "--from", fake, "--dir", dir, "--generations", "2", ...FAKE_LIMITS);
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stderr, /took over the lock/);
  assert.match(rerun.stderr, /removed gen-0001\.tmp-\d+/);
  assert.equal(readFileSync(join(dir, "gen-0000", "metrics.json"), "utf8"), gen0);
  assert.equal(metrics(dir, 1).status, "exact");
  assert.ok(!readdirSync(dir).some((name) => name.includes(".tmp-")));
});

test("a hostile program dies with its reason in one sentence, and the lineage stops there", () => {
  const hostile: [string, string][] = [
    ["syntax.js", "this is not javascript (\n"],
    ["throws.js", "throw new Error('no quine here');\n"],
  ];
  for (const [name, text] of hostile) {
    const dir = join(scratch, `hostile-${name}`);
    const result = cli("bootstrap", "--from", program(name, text), "--dir", dir, "--generations", "3");
    assert.equal(result.status, 0, result.stderr);
    const gen0 = metrics(dir, 0);
    assert.equal(gen0.status, "dead", name);
    assert.ok(gen0.reason && /\.$/.test(gen0.reason) && !gen0.reason.includes("\n"), `one sentence: ${gen0.reason}`);
    assert.equal(gen0.emittedHash, null);
    assert.ok(!existsSync(join(dir, "gen-0000", "emitted.js")) && !existsSync(join(dir, "gen-0000", "model")));
    assert.ok(!existsSync(join(dir, "gen-0001")), "the lineage stops at a dead generation");
    assert.match(result.stdout, /The lineage cannot go on: the lineage died at gen-0000/);
    const again = cli("bootstrap", "--from", join(scratch, name), "--dir", dir, "--generations", "3");
    assert.match(again.stdout, /no new generations/);
    assertCleanError(cli("emit", "0", "--dir", dir), /gen-0000 has no model to decode: it died \(/);
  }
});

test("a program that writes a file or runs a command does so standalone, and cannot in the lineage", () => {
  const escapes: [string, (marker: string) => string, RegExp][] = [
    ["write-file.js", (marker) => `require("fs").writeFileSync(${JSON.stringify(marker)}, "escaped");\n`, /^forbidden: fs\.writeFileSync/],
    ["run-command.js", (marker) => `require("child_process").execFileSync("touch", [${JSON.stringify(marker)}]);\n`, /^forbidden: require\("child_process"\)/],
  ];
  for (const [name, source, reason] of escapes) {
    const marker = join(tempDir(), `${name}.escaped`); // a fresh folder: no stale marker can be there
    const path = program(name, source(marker));
    // Unwalled, the program does leave its marker: the check below can fail.
    assert.equal(spawnSync(process.execPath, [path]).status, 0, name);
    assert.ok(existsSync(marker), `${name} standalone`);
    rmSync(marker);
    const dir = join(scratch, `escape-${name}`);
    assert.equal(cli("bootstrap", "--from", path, "--dir", dir, "--generations", "2").status, 0);
    const gen0 = metrics(dir, 0);
    assert.equal(gen0.status, "dead", name);
    assert.match(gen0.reason ?? "", reason);
    assert.ok(!existsSync(marker), `${name} escaped the sandbox`);
  }
});

test("the inspection commands' error paths: unknown generation, missing directory, bad arguments", () => {
  const missing = join(scratch, "no-such-dir");
  assertCleanError(cli("generations", "--dir", missing), /No generations in .*no-such-dir: the directory does not exist/);
  assertCleanError(cli("show", "0", "--dir", missing), /the directory does not exist/);
  const dir = fakeLineage();
  assertCleanError(cli("show", "7", "--dir", dir), /No generation 7 in .*: it holds generations 0[–-]2\./);
  assertCleanError(cli("diff", "0", "9", "--dir", dir), /No generation 9/);
  assertCleanError(cli("diff", "zero", "--dir", dir), /"zero" is not a generation number/);
  assertCleanError(cli("diff", "0", "1", "--original", "--dir", dir), /either a second generation or --original/);
  assertCleanError(cli("emit", "4", "--dir", dir), /No generation 4/);
  assertCleanError(cli("emit", join(dir, "gen-0000", "model"), "--check"), /not a generation folder/);
  assertCleanError(cli("bootstrap", "--from", join(scratch, "nothing.js"), "--dir", join(scratch, "x")), /File not found/);
  assertCleanError(cli("bootstrap", "--from", program("other.js", "// another program\n"), "--dir", dir), /starts from a different program/);
  assertCleanError(cli("bootstrap", "--generations", "two"), /expected a non-negative integer/);
});
