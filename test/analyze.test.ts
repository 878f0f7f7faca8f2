// The context analysis: on texts whose hard positions are known by construction, it names them,
// with the context they need and the continuations that compete; on random texts it agrees with a
// brute-force search of the definition.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../src/paths";
import { analyzeText, difficultySummary } from "../src/runtime/analyze";

const CLI = join(ROOT, "dist", "src", "cli.js");

/** The definition, by brute force: the shortest context (start boundary included) always followed by the same symbol. */
function bruteContexts(text: string): number[] {
  const x = ["\u0001START", ...text, "\u0001END"];
  const needs: number[] = [];
  for (let p = 1; p < x.length; p++) {
    for (let k = 0; k <= p; k++) {
      const context = x.slice(p - k, p);
      const followers = new Set<string>();
      for (let q = k; q < x.length; q++) {
        if (x.slice(q - k, q).every((s, j) => s === context[j])) followers.add(x[q]);
      }
      if (followers.size === 1) {
        needs.push(k);
        break;
      }
    }
  }
  return needs;
}

test("two identical lines followed by different characters: the deciding characters need the whole line and more", () => {
  const line = "the same long line of text, word for word, ";
  const text = `${line}A\n${line}B\n`;
  const a = analyzeText(text, 2);
  // 'A' is decided only by the start boundary before the line; 'B' by the newline before it.
  assert.deepEqual(a.hardest.map((h) => [h.symbol, h.line, h.column, h.context]), [
    ["A", 1, line.length + 1, line.length + 1],
    ["B", 2, line.length + 1, line.length + 1],
  ]);
  assert.deepEqual(a.hardest[0].competitors.map((c) => c.symbol).sort(), ["A", "B"]);
  assert.equal(a.longest, line.length + 1);
  assert.equal(a.over[32], 2);
});

test("a text with no repetition needs at most a few characters of context everywhere", () => {
  const a = analyzeText("abcdefghijklmnopqrstuvwxyz");
  assert.equal(a.longest, 1);
  assert.match(difficultySummary(a, 32), /^predicted difficulty: easy/);
});

test("a table of repeated rows with one differing cell: that cell and the same cell a row before are the hardest", () => {
  const row = "| name | value | value | value |\n";
  const text = row.repeat(6) + row.replace("name", "nAme") + row.repeat(3);
  const a = analyzeText(text, 2);
  // Rows 6 and 7 both start "| n" after five identical rows: only what precedes those (the start, or a row) decides 'a' or 'A'.
  const context = 1 + 5 * row.length + 3;
  assert.deepEqual(a.hardest.map((h) => [h.line, h.column, h.symbol, h.context]), [[6, 4, "a", context], [7, 4, "A", context]]);
  assert.match(difficultySummary(a, 32), new RegExp(`^predicted difficulty: (hard|moderate).*longest context needed is ${context} \\(line 6, column 4\\)`));
});

test("on random texts every position's context equals the brute-force definition", () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let trial = 0; trial < 30; trial++) {
    const alphabet = "ab\nc".slice(0, 2 + (trial % 3));
    const text = Array.from({ length: 5 + Math.floor(random() * 60) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    assert.deepEqual(Array.from(analyzeText(text).contexts), bruteContexts(text), JSON.stringify(text));
  }
});

test("code points, not UTF-16 units: a character outside the BMP is one symbol", () => {
  const a = analyzeText("x😀y x😀z");
  assert.equal(a.symbols, 7);
  const z = a.hardest.find((h) => h.symbol === "z");
  assert.equal(z?.column, 7);
});

test("CLI: analyze lists the hard positions; train predicts the difficulty and, when it gives up, names the positions still wrong", () => {
  const dir = mkdtempSync(join(tmpdir(), "nq-analyze-"));
  const file = join(dir, "two.txt");
  const line = "the same long line of text, word for word, ";
  writeFileSync(file, `${line}A\n${line}B\n`);
  const analyzed = spawnSync(process.execPath, [CLI, "analyze", file, "--top", "2"], { encoding: "utf8" });
  assert.equal(analyzed.status, 0, analyzed.stderr);
  assert.match(analyzed.stdout, /predicted difficulty: moderate: 90 characters; the longest context needed is 44 \(line 1, column 44\)/);
  assert.match(analyzed.stdout, /\n {2}1:44 +context +44 +"A", competing: "A" ×1, "B" ×1\n {2}2:44 +context +44 +"B"/);
  const trained = spawnSync(process.execPath, [CLI, "train", file, "--hidden", "8", "--max-epochs", "3", "--out", join(dir, "model")], { encoding: "utf8" });
  assert.notEqual(trained.status, 0);
  assert.match(trained.stderr, /^backend: \w+\npredicted difficulty: moderate/);
  assert.match(trained.stderr, /positions still wrong \(\d+, line:column and the context each needs\): \d+:\d+ \(context \d+\)/);
});
