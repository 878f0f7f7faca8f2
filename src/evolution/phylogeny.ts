// The phylogeny by genotype: every program ever kept, under the genotype it first came from, with
// its dead and culled offspring counted. `population tree` prints it; the report draws it.
import type { Generation, Individual } from "./population-store";
import type { Change } from "./variation";

export interface Genotype {
  hash: string;
  bytes: number;
  parent: string | null; // the genotype it first came from (null: the ancestor)
  firstId: string; // the first individual with this program
  born: number; // that individual's generation
  distance: number | null; // to the parent genotype's program
  changedBy: Change[]; // what made its first individual differ from its parent (sampling, point, operators)
  keptIn: number[]; // generations in which it was kept
  living: boolean; // kept in the last generation
  livingBranch: boolean; // it or a descendant is living; false: a dead branch
  deadChildren: number; // children of it (individuals) that died
  culledChildren: number; // other genotypes from it that lived but were never kept
  children: Genotype[]; // the genotypes from it that were kept at least once, by birth
}

/** The kept genotypes as trees (usually one, rooted in the ancestor), children in order of birth. */
export function phylogeny(generations: Pick<Generation, "generation" | "individuals">[]): Genotype[] {
  const byId = new Map<string, Individual>();
  const genotypes = new Map<string, Genotype & { alive: boolean }>();
  const last = generations.at(-1)?.generation;
  for (const individual of generations.flatMap((g) => g.individuals)) {
    byId.set(individual.id, individual);
    const parentHash = individual.parent === null ? null : (byId.get(individual.parent)?.programHash ?? null);
    let genotype = genotypes.get(individual.programHash);
    if (!genotype) {
      genotype = {
        hash: individual.programHash, bytes: individual.bytes, parent: parentHash, firstId: individual.id, born: individual.generation,
        distance: individual.distanceToParent, changedBy: individual.changedBy, keptIn: [], living: false, livingBranch: false, alive: individual.status !== "dead",
        deadChildren: 0, culledChildren: 0, children: [],
      };
      genotypes.set(individual.programHash, genotype);
    }
    if (individual.status === "kept" && !genotype.keptIn.includes(individual.generation)) genotype.keptIn.push(individual.generation);
    if (individual.status === "dead" && parentHash !== null) {
      const parent = genotypes.get(parentHash);
      if (parent) parent.deadChildren++;
    }
  }
  const kept = [...genotypes.values()].filter((g) => g.keptIn.length > 0);
  for (const genotype of genotypes.values()) {
    const parent = genotype.parent === null ? undefined : genotypes.get(genotype.parent);
    if (parent && genotype.alive && genotype.keptIn.length === 0) parent.culledChildren++;
  }
  for (const genotype of kept) {
    genotype.living = genotype.keptIn.at(-1) === last;
    const parent = genotype.parent === null ? undefined : genotypes.get(genotype.parent);
    if (parent && parent.hash !== genotype.hash) parent.children.push(genotype);
  }
  const markLiving = (genotype: Genotype): boolean => {
    const below = genotype.children.map(markLiving).some(Boolean);
    genotype.livingBranch = genotype.living || below;
    return genotype.livingBranch;
  };
  const roots = kept.filter((g) => g.parent === null);
  roots.forEach(markLiving);
  return roots;
}

/** Every genotype of the trees, depth first (a parent before its children). */
export function flatten(roots: Genotype[]): Genotype[] {
  return roots.flatMap((root) => [root, ...flatten(root.children)]);
}
