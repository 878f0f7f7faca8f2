// The corpus benchmark's texts: picked from node_modules by a fixed rule (the same every time), of
// every kind and 1–10 kB; a text whose bytes no longer match the manifest is reported and skipped.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readTextFile } from "../src/memorize";
import { ROOT } from "../src/paths";
import { chart, FILE, markdown, type SliceResult } from "../scripts/scaling";

interface Entry { kind: string; package: string; path: string; offset: number; length: number; sha256: string }

function corpus(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "corpus.ts"), ...args], { encoding: "utf8", cwd: ROOT });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The bytes an entry names, cut from node_modules. */
const bytesOf = (e: Entry) => readFileSync(join(ROOT, "node_modules", e.package.replace(/@[^@]*$/, ""), e.path)).subarray(e.offset, e.offset + e.length);
const hashOf = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const readManifest = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Entry[];

test("--pick chooses at least 45 texts of 1-10 kB, of every kind, the same ones every time, each cut from node_modules as hashed", () => {
  const dir = mkdtempSync(join(tmpdir(), "nq-corpus-"));
  const picks = ["a", "b"].map((name) => {
    const run = corpus("--pick", "--fresh", "--manifest", join(dir, `${name}.json`), "--large-manifest", join(dir, `${name}-large.json`));
    assert.equal(run.status, 0, run.stderr);
    return [readFileSync(join(dir, `${name}.json`), "utf8"), readFileSync(join(dir, `${name}-large.json`), "utf8")];
  });
  assert.deepEqual(picks[0], picks[1]);
  const entries = JSON.parse(picks[0][0]) as Entry[];
  assert.ok(entries.length >= 45, `${entries.length} texts`);
  const kinds = new Set(entries.map((e) => e.kind));
  for (const kind of ["js", "bundle", "dts", "package.json", "lockfile", "readme", "license", "css", "repetitive", "minified", "sourcemap", "data", "unicode"]) assert.ok(kinds.has(kind), kind);
  for (const e of entries) {
    assert.ok(e.length >= 1024 && e.length <= 10240, `${e.path}: ${e.length} bytes`);
    assert.equal(hashOf(bytesOf(e)), e.sha256, e.path);
  }
  const large = JSON.parse(picks[0][1]) as Entry[];
  assert.deepEqual(large.map((e) => e.kind), ["js", "readme", "dts"]);
  for (const e of large) assert.ok(e.length >= 20480 && e.length <= 40960, `${e.path}: ${e.length} bytes`);
});

test("the committed manifests are what --pick keeps, and their new kinds are what they say", () => {
  // Applying the rule to the committed manifests changes nothing: kinds picked before a dependency
  // was added stay as they were, so earlier results stay comparable.
  const dir = mkdtempSync(join(tmpdir(), "nq-corpus-"));
  const [main, large] = ["corpus.json", "corpus-large.json"].map((name) => readFileSync(join(ROOT, "bench", name), "utf8"));
  writeFileSync(join(dir, "main.json"), main);
  writeFileSync(join(dir, "large.json"), large);
  const run = corpus("--pick", "--manifest", join(dir, "main.json"), "--large-manifest", join(dir, "large.json"));
  assert.equal(run.status, 0, run.stderr);
  assert.equal(readFileSync(join(dir, "main.json"), "utf8"), main);
  assert.equal(readFileSync(join(dir, "large.json"), "utf8"), large);

  const entries = readManifest(join(ROOT, "bench", "corpus.json"));
  for (const e of [...entries, ...readManifest(join(ROOT, "bench", "corpus-large.json"))]) assert.equal(hashOf(bytesOf(e)), e.sha256, e.path);
  const textsOf = (kind: string) => entries.filter((e) => e.kind === kind).map((e) => bytesOf(e).toString("utf8"));
  for (const text of textsOf("minified")) assert.ok(text.length / text.split("\n").length > 200, "minified: long lines");
  for (const text of textsOf("sourcemap")) assert.equal(typeof (JSON.parse(text) as { mappings: unknown }).mappings, "string");
  for (const text of textsOf("data")) assert.doesNotThrow(() => JSON.parse(text));
  // One text rich in each class of non-ASCII characters, all of which the trainer takes as text.
  const unicode = textsOf("unicode").join("");
  for (const [name, pattern] of Object.entries({ accents: /[\u00c0-\u024f\u1e00-\u1eff]/gu, alphabets: /[\u0370-\u1dff]/gu, cjk: /[\u3040-\u30ff\u3400-\u9fff]/gu, emoji: /[\u{1f000}-\u{1faff}]/gu })) {
    assert.ok((unicode.match(pattern)?.length ?? 0) >= 5, name);
  }
  for (const e of entries.filter((e) => e.kind === "unicode")) {
    const file = join(dir, "text");
    writeFileSync(file, bytesOf(e));
    assert.doesNotThrow(() => readTextFile(file), e.path);
  }
});

test("a text whose bytes changed is reported and skipped, not trained", () => {
  const dir = mkdtempSync(join(tmpdir(), "nq-corpus-"));
  const [first] = JSON.parse(readFileSync(join(ROOT, "bench", "corpus.json"), "utf8")) as Entry[];
  writeFileSync(join(dir, "manifest.json"), JSON.stringify([{ ...first, sha256: "0".repeat(64) }]));
  const run = corpus("--manifest", join(dir, "manifest.json"), "--out", join(dir, "out"));
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /skipped: .* has changed \(sha256 differs\)/);
  const out = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as { summary: { runs: number; skipped: number }; results: { note?: string }[] };
  assert.deepEqual([out.summary.runs, out.summary.skipped], [0, 1]);
  assert.match(readFileSync(join(dir, "out.md"), "utf8"), /skipped: .* has changed/);
});

test("the scaling script's file is installed as hashed, and a slice not exact within its cap is marked so in its table", () => {
  const path = join(ROOT, "node_modules", FILE.package.replace(/@[^@]*$/, ""), FILE.path);
  const bytes = readFileSync(path);
  assert.equal(hashOf(bytes), FILE.sha256);
  assert.ok(bytes.length >= 32 * 1024, `${bytes.length} bytes`);
  const slice = (kB: number, exact: boolean): SliceResult => ({ kB, bytes: kB * 1024, cap: 300, longestContext: 60, beyondWindow: 2, load: 1, exact, epochs: 400, seconds: 50, cpuSeconds: 55, bestRight: 1020, positions: 1025 });
  const table = markdown([slice(1, true), slice(2, false)], "# scaling");
  assert.match(table, /\| 1 \| 1024 \| 60 \| 2 \| yes \| 400 \|/);
  assert.match(table, /\| 2 \| 2048 \| 60 \| 2 \| \*\*no\*\* within 300 s \(1020\/1025\) \| 400 \|/);
  assert.deepEqual([...chart([slice(1, true), slice(2, false)], "t").subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""), "PNG");
});
