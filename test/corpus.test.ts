// The corpus benchmark's texts: picked from node_modules by a fixed rule (the same every time), of
// every kind and 1–10 kB; a text whose bytes no longer match the manifest is reported and skipped.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../src/paths";

interface Entry { kind: string; package: string; path: string; offset: number; length: number; sha256: string }

function corpus(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "corpus.ts"), ...args], { encoding: "utf8", cwd: ROOT });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("--pick chooses at least 30 texts of 1-10 kB, of every kind, the same ones every time, each cut from node_modules as hashed", () => {
  const dir = mkdtempSync(join(tmpdir(), "nq-corpus-"));
  const picks = [join(dir, "a.json"), join(dir, "b.json")].map((file) => {
    const run = corpus("--pick", "--manifest", file);
    assert.equal(run.status, 0, run.stderr);
    return readFileSync(file, "utf8");
  });
  assert.equal(picks[0], picks[1]);
  const entries = JSON.parse(picks[0]) as Entry[];
  assert.ok(entries.length >= 30, `${entries.length} texts`);
  const kinds = new Set(entries.map((e) => e.kind));
  for (const kind of ["js", "bundle", "dts", "package.json", "lockfile", "readme", "license", "css", "repetitive"]) assert.ok(kinds.has(kind), kind);
  for (const e of entries) {
    assert.ok(e.length >= 1024 && e.length <= 10240, `${e.path}: ${e.length} bytes`);
    const bytes = readFileSync(join(ROOT, "node_modules", e.package.replace(/@[^@]*$/, ""), e.path)).subarray(e.offset, e.offset + e.length);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), e.sha256, e.path);
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
