// The line of descent: an individual's parent, its parent's parent, … back to a copy of the ancestor,
// with what changed at each step. `population lineage` prints it; it is how a discovery is traced.
import type { Generation, Individual } from "./population-store";
import { compareFitness, type Candidate } from "./select";
import { quote } from "./variation";

/** The individuals from generation 0 down to `id`, parent before child; a phrase if a step is missing. */
export function lineOfDescent(generations: Pick<Generation, "individuals">[], id: string): Individual[] | string {
  const byId = new Map(generations.flatMap((g) => g.individuals).map((i) => [i.id, i]));
  const line: Individual[] = [];
  for (let at: string | null = id; at !== null;) {
    const individual = byId.get(at);
    if (!individual) return line.length ? `${at}, an ancestor of ${id}, is not in a readable generation` : `there is no individual ${id}`;
    line.unshift(individual);
    at = individual.parent;
  }
  return line;
}

/** The fittest kept individual of a generation, by selection's order (`runs` gives each program's run). */
export function fittest(generation: Pick<Generation, "individuals">, run: (hash: string) => Candidate["run"] | null): Individual | null {
  const kept = generation.individuals.filter((i) => i.status === "kept").flatMap((i) => {
    const found = run(i.programHash);
    return found ? [{ individual: i, candidate: { index: i.index, run: found } }] : [];
  });
  kept.sort((a, b) => compareFitness(a.candidate, b.candidate));
  return kept[0]?.individual ?? null;
}

/** One line saying how `child` differs from `parent`: its first changed line, quoted and cut short, and how many lines changed. */
export function describeChange(parent: string, child: string): string {
  if (parent === child) return "no change (an exact copy)";
  const before = parent.split("\n"), after = child.split("\n");
  let first = 0;
  while (first < before.length && first < after.length && before[first] === after[first]) first++;
  let tail = 0;
  while (tail < before.length - first && tail < after.length - first && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  const removed = before.slice(first, before.length - tail), added = after.slice(first, after.length - tail);
  const what = removed.length === 1 && added.length === 1 ? changedLine(removed[0], added[0])
    : `${removed.length} line(s) → ${added.length} line(s)${removed.length && added.length ? `, first ${changedLine(removed[0], added[0])}` : added.length ? `, first ${quote(added[0])}` : ""}`;
  return `line ${first + 1}: ${what}`;
}

/** One changed line as `"…before" → "…after"`, both quoted from a little before their first difference. */
function changedLine(before: string, after: string): string {
  let at = 0;
  while (at < before.length && before[at] === after[at]) at++;
  const from = Math.max(0, at - 12);
  const cut = (line: string): string => `${from > 0 ? "…" : ""}${quote(line.slice(from))}`;
  return `${cut(before)} → ${cut(after)}`;
}
