// The parent's side holds too (issue 23): what a program publishes and what it says can neither
// crash, hang, flood nor paint the parent. Each attack is a program (or a queue's job, or a text) that
// once did: a huge claimed text, a flood of training records, epochs of -1.5, a diff bomb, terminal
// escapes in a death reason, a log line and a vocabulary. The ones that reach the parent through the
// sandbox run in the three wall modes; the ones about what the parent does with a publication run
// through bootstrap as a user runs it, and what it prints is searched for raw control characters.
import assert from "node:assert/strict";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { boundedPatch, countChangedLines, unifiedDiff } from "../src/diff";
import { evolveProgressLine } from "../src/terminal/population";
import { printable, printableJson, printableLine } from "../src/format";
import { bootstrap } from "../src/ouroboros/bootstrap";
import { readGeneration, type GenerationMetrics } from "../src/ouroboros/store";
import { TrainingCountsSchema } from "../src/runtime/epoch";
import { JobResultSchema } from "../src/queue/jobs";
import { workerProgressLine } from "../src/queue/worker";
import { diffBlock } from "../src/report/html";
import { checkPublication, DEFAULT_LIMITS, publicationLimits, runAndCheck, type SandboxLimits, type WallMode } from "../src/sandbox";
import { cli, tempDir } from "./helpers";

const scratch = tempDir();
const QUICK: SandboxLimits = { ...DEFAULT_LIMITS, timeoutMs: 120_000, backend: "wasm" };
const MODES: WallMode[] = ["both", "outer", "inner"];

/** What no terminal may receive from a program: C0 controls but newline and tab, DEL, C1, bidi controls, line separators. */
// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Everything a terminal could be painted with at once: OSC 52 (clipboard), OSC 8 (a link), a line wiped and forged, a C1 CSI, a bidi override. */
const PAINT = "\x1b]52;c;ZXZpbA==\x07\x1b]8;;http://evil.example\x07link\x1b]8;;\x07\r\x1b[2Kgen-0000 exact \u009b31m\u202eevil";

function assertPrintable(text: string, what: string): void {
  const raw = RAW.exec(text);
  assert.equal(raw, null, `${what} holds a raw U+${raw?.[0].charCodeAt(0).toString(16).padStart(4, "0")}: ${JSON.stringify(text.slice(0, 300))}`);
}

/**
 * A program that publishes a tiny model at once, through the runtime as a quine does. Its pieces are
 * JavaScript expressions: the claimed text, the vocabulary, epochs, the history; `before` runs first.
 */
function publisher(name: string, { text = `"a"`, vocab = `["", "a"]`, epochs = "0", history = "[]", before = "" } = {}): { path: string; source: string } {
  const source = `const tf = require("@tensorflow/tfjs-core"), rt = require("neural-quine/runtime");
rt.start().then(async () => {
  ${before}
  const vocab = ${vocab}, V = vocab.length, H = 1;
  const weights = { kernel: tf.zeros([V, 4 * H]), recurrent: tf.zeros([H, 4 * H]), bias: tf.zeros([4 * H]), outKernel: tf.zeros([H, V]), outBias: tf.zeros([V]) };
  return rt.publish({ text: ${text}, model: { vocab, weights }, epochs: ${epochs}, seed: 7, exact: false, history: ${history} });
});
`;
  const path = join(scratch, name);
  writeFileSync(path, source, { mode: 0o644 });
  return { path, source };
}

const HUGE = publisher("huge-claim.js", { text: `"a".repeat(120_000_000)` });
const NEGATIVE_EPOCHS = publisher("negative-epochs.js", { epochs: "-1.5" });
const CONTROL_VOCAB = publisher("control-vocabulary.js", { vocab: `["", "a", "\\x1b", "\\x07"]` });
const PAINTED_DEATH = join(scratch, "painted-death.js");
writeFileSync(PAINTED_DEATH, `require("neural-quine/runtime").log(${JSON.stringify(PAINT)});\nthrow new Error(${JSON.stringify(PAINT)});\n`, { mode: 0o644 });

/** A generation folder's size in bytes, all files. */
function folderBytes(path: string): number {
  return readdirSync(path).reduce((sum, name) => {
    const file = join(path, name);
    return sum + (statSync(file).isDirectory() ? folderBytes(file) : statSync(file).size);
  }, 0);
}

/** A generation's metrics as the store reads them back (checked by its schema): a record it cannot read back fails here. */
function metricsOf(dir: string, generation = 0): GenerationMetrics {
  const stored = readGeneration(dir, generation);
  assert.equal(stored.damage, null);
  return stored.metrics as GenerationMetrics;
}

describe("printable: one sanitizer for the terminal", () => {
  test("every control a terminal acts on is shown as its escape; text, newlines and tabs stay", () => {
    assert.equal(printable("a\tb\nc"), "a\tb\nc");
    assert.equal(printable("\x1b[2K\r\x07\x00\x7f"), "\\x1b[2K\\x0d\\x07\\x00\\x7f");
    assert.equal(printable("\u009b31m \u202eabc\u2066\u200f\u061c\u2028"), "\\x9b31m \\u202eabc\\u2066\\u200f\\u061c\\u2028");
    assert.equal(printable("ünïcødé ✓ 𝄞"), "ünïcødé ✓ 𝄞");
    assert.equal(printableLine("one\ngen-0000 exact\tx"), "one\\x0agen-0000 exact\\x09x", "a line cannot forge another");
    assertPrintable(printable(PAINT), "printable");
    const json = printableJson({ reason: PAINT });
    assertPrintable(json, "printableJson");
    assert.deepEqual(JSON.parse(json), { reason: PAINT }, "still JSON, and the same value");
  });

  test("evolve's progress, the worker's lines and the coordinator's notes show a painted reason or name escaped", () => {
    assertPrintable(evolveProgressLine({ type: "run", generation: 1, programHash: "ab".repeat(32), status: "dead", reason: PAINT, seconds: 1 }), "evolve's run line");
    assertPrintable(evolveProgressLine({ type: "note", message: `ran on ${PAINT}` }), "evolve's note");
    const counts = { done: 0, running: 0, failed: 1 };
    assertPrintable(workerProgressLine({ type: "failed", jobId: PAINT, reason: PAINT, counts }), "the worker's failed line");
    assertPrintable(workerProgressLine({ type: "finished", jobId: "1", programHash: PAINT, status: "dead", reason: PAINT, seconds: 1, counts }), "the worker's finished line");
  });
});

describe("no unbounded work in the parent: a diff bomb", () => {
  // A program of 10,000 "//" lines whose model decodes to 21,000 newlines: Myers' diff once ran 11 minutes on it.
  const program = "//\n".repeat(10_000);
  const emitted = "\n".repeat(21_000);

  test("diff, diff.patch, the changed-line count and the report give the fallback, with the lines that differ at least", () => {
    assert.equal(boundedPatch(program, emitted, "a", "b"), null);
    assert.match(unifiedDiff(program, emitted), /^diff too large: at least 31,000 lines differ \(a diff is computed for at most 1,000 changed lines\)\n$/);
    assert.equal(countChangedLines(program, emitted), 31_000);
    assert.match(diffBlock("diff", "program.js", program, "emitted.js", emitted), /<p class="note">diff too large: at least 31,000 lines differ/);
    // An ordinary change still gives its diff.
    assert.match(unifiedDiff("a\nb\nc\n", "a\nB\nc\n"), /^-b\n\+B$/m);
    assert.equal(countChangedLines("a\nb\nc\n", "a\nB\nc\n"), 2);
  });
});

describe("a publication is bounded before it is touched", () => {
  test("a claimed text of 120 million characters is refused by its length before it is counted or copied", async () => {
    const files = { "model.json": "{}", "weights.bin": new Uint8Array(0) };
    const checked = await checkPublication("a", "a".repeat(120_000_000), files, publicationLimits);
    assert.equal(checked.ok, false);
    if (!checked.ok) assert.equal(checked.reason, "published a text of at least 60,000,000 characters, more than the 1,000,000 a publication may have (--max-text).");
  });

  test("epochs and seeds are what they mean in every record that holds them: the lineage, the population and the queue", () => {
    const result = { status: "published", programHash: "a".repeat(64), text: "a", modelJson: "{}", weightsBase64: "", work: 0, seconds: 1, worker: "w", missingWalls: [], log: "" };
    assert.equal(JobResultSchema.safeParse({ ...result, epochs: 3 }).success, true);
    for (const epochs of [-1.5, -1, 1.5, Infinity, NaN]) {
      assert.equal(JobResultSchema.safeParse({ ...result, epochs }).success, false, `a queue's result with ${epochs} epochs`);
      // The one schema the sandbox's message, a generation's metrics and a program's run take their epochs from.
      assert.equal(TrainingCountsSchema.shape.epochs.safeParse(epochs).success, false, `${epochs} epochs`);
    }
    assert.equal(TrainingCountsSchema.shape.seed.safeParse(0.5).success, false);
  });

  for (const mode of MODES) {
    test(`walls ${mode}: a huge claim, epochs of -1.5 and a vocabulary of control characters are refused with their reasons`, async () => {
      const limits = publicationLimits;
      const refused = async (program: { path: string; source: string }, reason: RegExp): Promise<void> => {
        const verdict = await runAndCheck(program.path, program.source, QUICK, limits, { mode });
        assert.equal(verdict.status, "dead", program.path);
        if (verdict.status === "dead") assert.match(verdict.reason, reason);
      };
      await refused(HUGE, /^published a text of at least 60,000,000 characters, more than the 1,000,000 a publication may have \(--max-text\)\.$/);
      await refused(NEGATIVE_EPOCHS, /^broke a rule: sent a malformed message \(epochs: Invalid input: expected int, received number\)\.$/);
      await refused(CONTROL_VOCAB, /^its published model was refused: its vocabulary holds the control character U\+001B, which train does not accept in a text\.$/);
    });
  }
});

describe("bootstrap against a hostile publication: the parent lives, the store stays within its limit, nothing raw reaches the terminal", () => {
  test("a huge claimed text: a clean dead generation, not an out-of-memory crash; the rerun goes on", () => {
    const dir = join(scratch, "huge");
    const run = cli("bootstrap", "--from", HUGE.path, "--dir", dir, "--generations", "2");
    assert.equal(run.status, 0, run.stderr);
    const m = metricsOf(dir);
    assert.equal(m.status, "dead");
    assert.match(m.reason ?? "", /^published a text of at least 60,000,000 characters/);
    assert.ok(!readdirSync(dir).some((name) => name.includes(".tmp-")), "nothing half-written is left");
    const again = cli("bootstrap", "--from", HUGE.path, "--dir", dir, "--generations", "2");
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /no new generations/);
  });

  test("epochs of -1.5: refused and recorded dead with the reason; the store reads back and the rerun goes on", () => {
    const dir = join(scratch, "negative-epochs");
    const run = cli("bootstrap", "--from", NEGATIVE_EPOCHS.path, "--dir", dir, "--generations", "2");
    assert.equal(run.status, 0, run.stderr);
    assert.match(metricsOf(dir).reason ?? "", /epochs: Invalid input: expected int/);
    const table = cli("generations", "--dir", dir);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^0\s+dead/m);
    const again = cli("bootstrap", "--from", NEGATIVE_EPOCHS.path, "--dir", dir, "--generations", "2");
    assert.equal(again.status, 0, again.stderr);
  });

  // The attack published 500,000 records; 30,000 show the same (fewer to build and send).
  test("30,000 published training records: the generation keeps the last 10,000 and says so, and --max-store-mb counts them", () => {
    const flood = publisher("history-flood.js", { history: "Array.from({ length: 30_000 }, (_, i) => ({ epoch: i + 1, loss: 1, exact: 0, minMargin: -1, seconds: i / 1000 }))" });
    const kept = join(scratch, "history-kept");
    const run = cli("bootstrap", "--from", flood.path, "--dir", kept, "--generations", "1");
    assert.equal(run.status, 0, run.stderr);
    const m = metricsOf(kept);
    assert.equal(m.status, "mutated");
    assert.equal(m.history.length, 10_000);
    assert.equal(m.historyDropped, 20_000);
    assert.equal(m.history[0].epoch, 20_001, "the last records are kept");
    // With a store limit of 1 MB, 10,000 records are too many: the generation dies for it, and the store stays within the limit.
    const small = join(scratch, "history-small");
    const limited = cli("bootstrap", "--from", flood.path, "--dir", small, "--generations", "1", "--max-store-mb", "1");
    assert.equal(limited.status, 0, limited.stderr);
    assert.match(metricsOf(small).reason ?? "", /^its publication would add 1\.\d MB to the store, more than the 1 MB a generation may \(--max-store-mb\)\.$/);
    assert.ok(folderBytes(join(small, "gen-0000")) < 1024 * 1024, "the store within its limit");
  });

  test("training records reported as it goes, under the rate limit: only the last ones are kept, in memory and in the store", async () => {
    const reporter = publisher("progress-flood.js", {
      before: "for (let e = 1; e <= 300; e++) { rt.progress({ epoch: e, loss: 1, exact: 0, minMargin: -1, seconds: e / 100 }, 2); if (e % 100 === 0) await new Promise((r) => setTimeout(r, 1100)); }",
    });
    const dir = join(scratch, "progress-flood");
    const result = await bootstrap({ dir, generations: 1, from: reporter.path, limits: QUICK, publication: { ...publicationLimits, historyKept: 50 } });
    const m = result.ran[0];
    assert.equal(m.status, "mutated", m.reason ?? "");
    assert.deepEqual([m.history.length, m.historyDropped, m.history[0].epoch, m.history.at(-1)?.epoch], [50, 250, 251, 300]);
  });

  test("terminal escapes in a death reason and a log line: bootstrap, show, generations and their JSON print none raw", () => {
    const dir = join(scratch, "painted");
    const run = cli("bootstrap", "--from", PAINTED_DEATH, "--dir", dir, "--generations", "2");
    assert.equal(run.status, 0, run.stderr);
    assert.ok((metricsOf(dir).reason ?? "").includes("\x1b]52"), "the store keeps the reason as it was");
    const outputs = [run, cli("show", "0", "--dir", dir), cli("show", "0", "--dir", dir, "--json"), cli("generations", "--dir", dir),
      cli("generations", "--dir", dir, "--json"), cli("diff", "0", "--dir", dir), cli("emit", "0", "--dir", dir)];
    for (const [i, output] of outputs.entries()) {
      assertPrintable(output.stdout, `stdout of command ${i}`);
      assertPrintable(output.stderr, `stderr of command ${i}`);
    }
    assert.match(run.stderr, /\\x1b\]52;c;/, "shown, escaped");
    assert.doesNotMatch(outputs[3].stdout, /^gen-0000 exact/m, "no forged line");
  });

  test("a vocabulary of control characters is refused at the publication check, with the reason; nothing raw is printed", () => {
    const dir = join(scratch, "control-vocabulary");
    const run = cli("bootstrap", "--from", CONTROL_VOCAB.path, "--dir", dir, "--generations", "2");
    assert.equal(run.status, 0, run.stderr);
    assert.match(metricsOf(dir).reason ?? "", /its vocabulary holds the control character U\+001B, which train does not accept/);
    assertPrintable(run.stdout + run.stderr, "bootstrap's output");
  });
});
