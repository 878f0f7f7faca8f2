// The lock that keeps a second run out of a store (the lineage's or the population's): <dir>/.lock.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

/** A lock not refreshed for this long is stale: its run died (proper-lockfile refreshes it every LOCK_STALE_MS / 2). */
export const LOCK_STALE_MS = 30_000;

/**
 * Takes `<dir>/.lock` for this process (proper-lockfile: a folder made atomically, its time refreshed
 * while the run lives, safe on network file systems and not fooled by a reused PID). Another live run
 * holding it is an error; a stale one is taken over, and `note` says so.
 */
export function acquireLock(dir: string): { release: () => void; note: string | null } {
  const lockfilePath = join(dir, ".lock");
  const options = { lockfilePath, stale: LOCK_STALE_MS, realpath: false };
  // proper-lockfile may date the lock a moment ahead of this clock: an age is never negative.
  const age = existsSync(lockfilePath) ? Math.max(0, Date.now() - statSync(lockfilePath).mtimeMs) : null;
  // Loaded here, not at the top: proper-lockfile installs signal-exit's SIGINT/SIGTERM handlers when
  // loaded, and a JavaScript handler only runs between tasks, so every command (even `train`, whose
  // training never yields) would ignore Ctrl-C and kill. Only commands that take a lock load it.
  const { lockSync } = require("proper-lockfile") as typeof import("proper-lockfile");
  let release: () => void;
  try {
    release = lockSync(dir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    throw new Error(`${dir} is in use by another run (its lock was refreshed ${Math.round((age ?? 0) / 1000)} s ago); wait for it to finish or stop it first.`);
  }
  const note = age === null ? null : `took over the lock of an earlier run that stopped refreshing it ${Math.round(age / 1000)} s ago`;
  return { release, note };
}
