// Writing a file so that a crash leaves either the old file or the whole new one: write-file-atomic
// writes a temporary file, fsyncs it and renames it into place; the folder is fsynced after, so the
// rename itself survives a power cut too. Every file the store, `train` and `weights` write goes here.
import { closeSync, fsyncSync, openSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import writeFileAtomic from "write-file-atomic";

/** Writes `data` to `path` atomically and durably. */
export function writeFileSafely(path: string, data: string | Uint8Array): void {
  writeFileAtomic.sync(path, typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), { fsync: true });
  fsyncFolder(dirname(path));
}

/** Renames a finished file or folder into place, durably (both folders fsynced). */
export function renameSafely(from: string, to: string): void {
  renameSync(from, to);
  fsyncFolder(dirname(to));
  if (dirname(from) !== dirname(to)) fsyncFolder(dirname(from));
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
