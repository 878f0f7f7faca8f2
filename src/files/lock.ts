// The lock that keeps a second run out of a store (the lineage's or the population's): <dir>/.lock/,
// a folder made atomically (mkdir) holding owner.json, which says which process holds it: its host,
// its PID and when that process started. The holder refreshes the folder's time every LOCK_STALE_MS / 2.
//
// A lock whose holder is known to be gone is taken over at once. That can be known on the same host
// (same host name, boot and PID namespace): no process has the PID, or one has but started at another
// time (the PID was reused). Across hosts (a shared file system) it cannot: there, and for a lock
// without a readable owner.json, a lock is stale when it was not refreshed for LOCK_STALE_MS.
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { parseJson } from "./json";
import { noSpaceMessage } from "./write";

/** A lock not refreshed for this long is stale, wherever its holder runs. */
export const LOCK_STALE_MS = 30_000;

/** .lock/owner.json: who holds the lock. `started` is null where a process's start time cannot be read. */
export const LockOwnerSchema = z.object({
  host: z.string(),
  boot: z.string().nullable(), // Linux's boot id: PIDs and start times mean something within one boot only
  pidNamespace: z.string().nullable(), // PIDs mean something within one namespace only (containers)
  pid: z.number().int().positive(),
  started: z.string().nullable(), // Linux: field 22 of /proc/<pid>/stat, clock ticks after boot
});
export type LockOwner = z.infer<typeof LockOwnerSchema>;

/** A line of /proc, or null where there is none (not Linux, or no such process). */
function readProc(path: string, read: (path: string) => string = (p) => readFileSync(p, "utf8")): string | null {
  try {
    return read(path).trim();
  } catch {
    return null;
  }
}

/** When process `pid` started (field 22 of /proc/<pid>/stat); "gone" if it does not exist; null if that cannot be known here. */
export function processStart(pid: number): string | "gone" | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === null) {
    if (existsSync("/proc/self/stat")) return "gone"; // Linux: no such process
    try {
      process.kill(pid, 0); // elsewhere: it exists (or is someone else's), start unknown
      return null;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH" ? "gone" : null;
    }
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[3 - 3] === "Z" || fields[3 - 3] === "X") return "gone"; // state: dead, not yet reaped by its parent
  return fields[22 - 3] ?? null;
}

/** This process, as owner.json records it. */
function thisProcess(): LockOwner {
  return {
    host: hostname(),
    boot: readProc("/proc/sys/kernel/random/boot_id"),
    pidNamespace: readProc("/proc/self/ns/pid", readlinkSync),
    pid: process.pid,
    started: (() => {
      const started = processStart(process.pid);
      return started === "gone" ? null : started;
    })(),
  };
}

/** The lock's owner.json, or null if it is missing or not one (an older lock, or one being made). */
function readOwner(lockPath: string): LockOwner | null {
  const parsed = parseJson(readProc(join(lockPath, "owner.json")) ?? "", LockOwnerSchema);
  return parsed.error === undefined ? parsed.data : null;
}

/** Why the lock's holder is known to be gone (the note), or null if it may be alive. */
function goneHolder(owner: LockOwner, me: LockOwner): string | null {
  const samePidSpace = owner.host === me.host && owner.boot === me.boot && owner.pidNamespace === me.pidNamespace && me.boot !== null;
  if (!samePidSpace) return null;
  const started = processStart(owner.pid);
  if (started === "gone") return `its previous run (PID ${owner.pid}) is gone; took over the lock`;
  if (started !== null && owner.started !== null && started !== owner.started) {
    return `its previous run (PID ${owner.pid}) is gone, the PID now belongs to another process; took over the lock`;
  }
  return null;
}

/** What holds `lockPath`, judged: a note if it can be taken over, else the sentence refusing. */
function judge(dir: string, lockPath: string, me: LockOwner): { note: string } | { refusal: string } {
  const owner = readOwner(lockPath);
  if (owner) {
    const gone = goneHolder(owner, me);
    if (gone) return { note: gone };
    if (owner.host === me.host && owner.boot === me.boot && owner.pidNamespace === me.pidNamespace && owner.started !== null) {
      return { refusal: `${dir} is in use by another run (PID ${owner.pid} on this machine); wait for it to finish or stop it first.` };
    }
  }
  // Elsewhere, or unknown: the refresh-age rule. The lock may be dated a moment ahead of this clock: an age is never negative.
  let age: number;
  try {
    age = Math.max(0, Date.now() - statSync(lockPath).mtimeMs);
  } catch {
    return { note: "" }; // released meanwhile: try again
  }
  const seconds = Math.round(age / 1000);
  if (age > LOCK_STALE_MS) return { note: `took over the lock of an earlier run that stopped refreshing it ${seconds} s ago` };
  const where = owner ? ` on ${owner.host}` : "";
  return { refusal: `${dir} is in use by another run${where} (its lock was refreshed ${seconds} s ago); wait for it to finish or stop it first.` };
}

/**
 * Takes `<dir>/.lock` for this process and keeps it fresh until released. Another live run holding
 * it is an error; a dead one's lock is taken over, and `note` says so.
 */
export function acquireLock(dir: string): { release: () => void; note: string | null } {
  const lockPath = join(dir, ".lock");
  const me = thisProcess();
  let note: string | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const judged = judge(dir, lockPath, me);
    if ("refusal" in judged) throw new Error(judged.refusal);
    if (attempt === 2) throw new Error(`${dir} is in use by another run that took its lock just now; wait for it to finish or stop it first.`);
    if (judged.note) note = judged.note;
    // Judged again just before removing it: another run taking it over at the same moment is refused.
    const again = judge(dir, lockPath, me);
    if ("refusal" in again) throw new Error(again.refusal);
    rmSync(lockPath, { recursive: true, force: true });
  }
  try {
    // Not through writeFileSafely: a lock need not survive a power cut (its holder does not), and the
    // crash tests count the store's own writes. Until owner.json exists the lock is judged by its age.
    writeFileSync(join(lockPath, "owner.json"), `${JSON.stringify(me)}\n`);
  } catch (error) {
    rmSync(lockPath, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw code === "ENOSPC" || code === "EDQUOT" ? new Error(noSpaceMessage(join(lockPath, "owner.json")), { cause: error }) : error;
  }
  const refresh = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(lockPath, now, now);
    } catch {
      // Removed under us (by hand): nothing to refresh; release will find it gone.
    }
  }, LOCK_STALE_MS / 2);
  refresh.unref();
  const release = (): void => {
    clearInterval(refresh);
    const owner = readOwner(lockPath);
    if (owner?.pid === me.pid && owner.started === me.started && owner.host === me.host) rmSync(lockPath, { recursive: true, force: true });
  };
  return { release, note };
}
