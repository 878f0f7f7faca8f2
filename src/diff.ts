// Text diffs: the unified diff a person reads (diff.patch, `diff`, `population diff`, the report) and
// the count of changed lines a generation records. One place, so that what bounds them holds for
// every caller: the texts come from programs and models, and Myers' diff costs time that grows with
// the number of changed lines times the texts' length. Past MAX_DIFF_EDITS changed lines the diff is
// not computed: the fallback says so, with a count of lines that differ at least (linear to compute).
import { createTwoFilesPatch, structuredPatch } from "diff";

/** Most changed lines a diff is computed for; past it, "diff too large" (a bound on work, not on time: the same on every machine). */
export const MAX_DIFF_EDITS = 1000;

/**
 * Lines that differ at least: how often each line occurs in one text and not in the other, summed
 * (every such line is added or removed by any diff). Linear in the texts' length.
 */
export function linesDifferAtLeast(before: string, after: string): number {
  const counts = new Map<string, number>();
  for (const line of before.split("\n")) counts.set(line, (counts.get(line) ?? 0) + 1);
  for (const line of after.split("\n")) counts.set(line, (counts.get(line) ?? 0) - 1);
  let differ = 0;
  for (const count of counts.values()) differ += Math.abs(count);
  return differ;
}

/** The fallback's sentence, one line: what a person sees instead of a diff too large to compute. */
export function diffTooLarge(before: string, after: string): string {
  return `diff too large: at least ${linesDifferAtLeast(before, after).toLocaleString("en")} lines differ (a diff is computed for at most ${MAX_DIFF_EDITS.toLocaleString("en")} changed lines)`;
}

/** Unified diff of `after` against `before`; null when it would change more than MAX_DIFF_EDITS lines. */
export function boundedPatch(before: string, after: string, from: string, to: string, header?: string): string | null {
  if (before === after) return "";
  return createTwoFilesPatch(from, to, before, after, header, header, { context: 3, maxEditLength: MAX_DIFF_EDITS }) ?? null;
}

/** Unified diff of `emitted` against `program` ("" when equal); past the bound, the fallback's sentence as one line. */
export function unifiedDiff(program: string, emitted: string, from = "program.js", to = "emitted.js"): string {
  return boundedPatch(program, emitted, from, to) ?? `${diffTooLarge(program, emitted)}\n`;
}

/** Lines added plus lines removed between two texts; past the bound, the lines that differ at least (linesDifferAtLeast). */
export function countChangedLines(before: string, after: string): number {
  if (before === after) return 0;
  const patch = structuredPatch("a", "b", before, after, undefined, undefined, { context: 0, maxEditLength: MAX_DIFF_EDITS });
  if (!patch) return linesDifferAtLeast(before, after);
  let changed = 0;
  for (const hunk of patch.hunks) changed += hunk.lines.filter((line) => line.startsWith("+") || line.startsWith("-")).length;
  return changed;
}
