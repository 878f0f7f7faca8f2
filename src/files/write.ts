// Writing a file so that a crash leaves either the old file or the whole new one: the data goes into
// <path>.tmp-<pid>, is fsynced and renamed into place, and the folder is fsynced after, so the rename
// itself survives a power cut too. Every file the stores, `train` and `weights` write goes here, and
// every rename that puts a finished folder in place: the one place a crash or a full disk can strike
// a store, and so the one place test/crash.test.ts strikes it (see `faults` below).
import { appendFileSync, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

// For tests of crashes and full disks, read from the environment once, here only:
//   NEURAL_QUINE_CRASH_AFTER=N        the process kills itself (SIGKILL) right after its N-th durable operation
//   NEURAL_QUINE_FAIL_WRITE_AFTER=N   its N-th file write fails as on a full disk (ENOSPC)
//   NEURAL_QUINE_FILE_OPERATIONS=path each durable operation is appended to that file, one line each
// A durable operation is a file written and fsynced under its temporary name, or a rename done.
const faults = {
  crashAfter: Number(process.env.NEURAL_QUINE_CRASH_AFTER) || 0,
  failWriteAfter: Number(process.env.NEURAL_QUINE_FAIL_WRITE_AFTER) || 0,
  log: process.env.NEURAL_QUINE_FILE_OPERATIONS || null,
};
let operations = 0;
let writes = 0;

function done(operation: string): void {
  operations++;
  if (faults.log) appendFileSync(faults.log, `${operation}\n`);
  if (operations === faults.crashAfter) process.kill(process.pid, "SIGKILL");
}

/** The error a full disk gives, for a write the tests make fail. */
function injectedFullDisk(): NodeJS.ErrnoException {
  return Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
}

/** What a user is told when the disk is full: the folder being written (a generation's, without its .tmp-<pid>) or the file. */
export function noSpaceMessage(path: string): string {
  const staging = /^(.*?)\.tmp-\d+(?=\/|$)/.exec(path);
  return `No space left to write ${staging ? staging[1] : path}: free space and rerun; nothing was damaged.`;
}

/** A full disk (or quota) as one clear sentence; anything else as it was. */
function explained(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOSPC" || code === "EDQUOT" ? new Error(noSpaceMessage(path), { cause: error }) : error;
}

/** Writes `data` to `path` atomically and durably. */
export function writeFileSafely(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  try {
    const fd = openSync(tmp, "w");
    try {
      if (++writes === faults.failWriteAfter) {
        writeSync(fd, bytes, 0, Math.floor(bytes.byteLength / 2)); // as far as a full disk lets it go
        throw injectedFullDisk();
      }
      for (let written = 0; written < bytes.byteLength;) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    rmSync(tmp, { force: true }); // a half-written temporary file only takes the space someone must free
    throw explained(error, path);
  }
  done(`write ${tmp}`);
  renameSafely(tmp, path);
}

/** Renames a finished file or folder into place, durably (both folders fsynced). */
export function renameSafely(from: string, to: string): void {
  try {
    renameSync(from, to);
    fsyncFolder(dirname(to));
    if (dirname(from) !== dirname(to)) fsyncFolder(dirname(from));
  } catch (error) {
    throw explained(error, to);
  }
  done(`rename ${from} ${to}`);
}

/** Makes a folder's entries (a file created or renamed in it) durable. */
function fsyncFolder(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
