// The README is a front door a newcomer reads in ten minutes, and the figures it quotes come from
// where they are measured or defined: a change there that leaves the README stale fails here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../src/paths";
import { settings } from "../src/quine/train";
import { QueueConnectionSchema, WorkerSettingsSchema, workerSettings } from "../src/queue/settings";

const README = readFileSync(join(ROOT, "README.md"), "utf8");

test("the README is at most 250 lines", () => {
  assert.ok(README.split("\n").length <= 250, `${README.split("\n").length} lines`);
});

test("the README's figures are the trainer's settings, the bench's results and the worker's defaults", () => {
  assert.match(README, new RegExp(`all ${Object.keys(settings).length} of \`src/quine/train.ts\``), "the number of trainer settings");
  const bench = JSON.parse(readFileSync(join(ROOT, "docs", "bench.json"), "utf8")) as { results: { text: string; epochs: number; wallSeconds: number }[] };
  const result = (name: string) => bench.results.find((r) => r.text.includes(name)) ?? assert.fail(`docs/bench.json has no ${name}`);
  const mixed = result("mixed.md");
  assert.match(README, new RegExp(`10 kB text of the bench is exact in ${Math.round(mixed.wallSeconds)} s\\s+\\(${mixed.epochs} epochs\\)`));
  assert.match(README, new RegExp(`the bundle is exact in\\s+${Math.round(result("quine/quine.js").wallSeconds)} s`));
  const { maxJobSeconds, maxJobMemory } = workerSettings;
  assert.ok(README.includes(`(${maxJobSeconds.toLocaleString("en")} s, ${maxJobMemory.toLocaleString("en")} MB)`), "the worker's job limits");
});

test("the README's worker line names every option the worker has", () => {
  const usage = README.split("\n").filter((line) => line.includes("neural-quine worker") || /^\s+\[--max-job/.test(line)).join(" ");
  for (const key of [...Object.keys(QueueConnectionSchema.shape), ...Object.keys(WorkerSettingsSchema.shape)]) {
    const option = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    assert.ok(usage.includes(option), `${option} is missing from the README's worker line`);
  }
});
