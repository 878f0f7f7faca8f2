// What the test files share: the built CLI run as a user runs it, the check that a user's mistake
// ends in one clear sentence, scratch folders (removed after the run) and the fixtures' paths.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { LOCK_STALE_MS } from "../src/files/lock";
import { ROOT } from "../src/paths";

export const CLI = join(ROOT, "dist", "src", "cli.js");
export const TINY_QUINE = join(ROOT, "test", "fixtures", "tiny-quine.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `neural-quine <args>` from dist/ in the package folder (no NQ_DEBUG, so no stack traces). */
export function cli(...args: string[]): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: ROOT, env: { ...process.env, NQ_DEBUG: "" } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A failure a user can cause: exit 1, one "neural-quine: ..." message, no stack trace. */
export function assertCleanError(result: CliResult, pattern: RegExp): void {
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
}

const temps: string[] = [];
after(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A new scratch folder, removed when the test file ends. */
export function tempDir(): string {
  temps.push(mkdtempSync(join(tmpdir(), "nq-test-")));
  return temps[temps.length - 1];
}

/** Makes `dir`'s lock look as a run killed with -9 leaves it: not refreshed for longer than LOCK_STALE_MS. */
export function ageLock(dir: string): void {
  const past = new Date(Date.now() - LOCK_STALE_MS - 5000);
  utimesSync(join(dir, ".lock"), past, past);
}
