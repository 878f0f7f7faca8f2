// Text diffs: the unified diff a person reads (diff.patch, `diff`, the report) and the count of changed
// lines a generation records. One place, so that what bounds them holds for every caller.
import { createTwoFilesPatch, structuredPatch } from "diff";

/** Unified diff of `emitted` against `program` ("" when equal). */
export function unifiedDiff(program: string, emitted: string, from = "program.js", to = "emitted.js"): string {
  return program === emitted ? "" : createTwoFilesPatch(from, to, program, emitted, undefined, undefined, { context: 3 });
}

/** Lines added plus lines removed between two texts. */
export function countChangedLines(before: string, after: string): number {
  let changed = 0;
  for (const hunk of structuredPatch("a", "b", before, after, undefined, undefined, { context: 0 }).hunks) {
    changed += hunk.lines.filter((line) => line.startsWith("+") || line.startsWith("-")).length;
  }
  return changed;
}
