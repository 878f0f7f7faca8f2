// Selection. A child is dead if its run died (it did not parse, threw, broke a sandbox rule, ran out
// of time or memory) or its publication was refused; the living are ranked by a fitness the parent
// verifies itself and the machine does not change, and the first K are kept:
//   1. distance to self: Levenshtein between the program and its model's greedy decoding (0 = it copies itself exactly)
//   2. training work, less first: the multiply-adds the kernel did while the program ran, counted by
//      the sandbox's runtime (src/runtime/lstm.ts kernelWork), the same on any machine; a program
//      that trains faster (fewer epochs, a smaller net, a shorter text) does less. A program could
//      avoid the kernel with its own TensorFlow.js ops and go uncounted; a copying error will not.
//   3. size in bytes, smaller first
//   4. the greedy decoding's smallest logit lead, larger first: a wider margin copies more faithfully under sampling
//   5. program hash, then the child's index: a total order, so ties never depend on scheduling
// Never wall time or the program's own word (its epochs, its claimed text).
import type { ProgramRun } from "./population-store";

export interface Candidate {
  index: number;
  run: ProgramRun;
}

/** Negative if `a` is fitter than `b`. */
export function compareFitness(a: Candidate, b: Candidate): number {
  return (a.run.distanceToSelf ?? Infinity) - (b.run.distanceToSelf ?? Infinity)
    || (a.run.work ?? Infinity) - (b.run.work ?? Infinity)
    || a.run.bytes - b.run.bytes
    || (b.run.minMargin ?? -Infinity) - (a.run.minMargin ?? -Infinity)
    || (a.run.programHash < b.run.programHash ? -1 : a.run.programHash > b.run.programHash ? 1 : 0)
    || a.index - b.index;
}

/** The indices of the K fittest living candidates, in ascending index order. */
export function select(candidates: Candidate[], keep: number): Set<number> {
  const living = candidates.filter((candidate) => candidate.run.status === "alive");
  return new Set(living.sort(compareFitness).slice(0, keep).map((candidate) => candidate.index));
}
