// What `neural-quine population` prints: the statistics table, one individual, an individual's diff.
import { existsSync } from "node:fs";
import { unifiedDiff } from "../ouroboros/store";
import { readGeneration, readPopulation, readProgram, type Generation, type Individual, type StoredProgram } from "./population-store";
import { statisticsTable, type Statistics } from "./statistics";

/** The statistics of every readable generation, and the damaged ones as sentences. */
export function populationStatistics(dir: string): { statistics: Statistics[]; damaged: string[] } {
  if (!existsSync(dir)) throw new Error(`${dir} does not exist: run \`neural-quine evolve --dir ${dir}\` first.`);
  const generations = readPopulation(dir);
  return {
    statistics: generations.filter((g): g is Generation => typeof g !== "string").map((g) => g.statistics),
    damaged: generations.flatMap((g, n) => (typeof g === "string" ? [`generation ${n}: ${g}`] : [])),
  };
}

export function populationTable(dir: string): string {
  const { statistics, damaged } = populationStatistics(dir);
  const table = statistics.length ? statisticsTable(statistics) : `No generations in ${dir} yet.\n`;
  return table + damaged.map((line) => `damaged: ${line}\n`).join("");
}

/** An individual by id ("<generation>.<index>"), with its program's run; one sentence if there is none. */
export function findIndividual(dir: string, id: string): { individual: Individual; stored: StoredProgram } {
  const match = /^(\d+)\.(\d+)$/.exec(id);
  if (!match) throw new Error(`"${id}" is not an individual's id: give <generation>.<index>, e.g. 3.5.`);
  const generation = readGeneration(dir, Number(match[1]));
  if (typeof generation === "string") throw new Error(`Generation ${match[1]} cannot be read: ${generation}.`);
  const individual = generation.individuals.find((i) => i.id === id);
  if (!individual) throw new Error(`Generation ${match[1]} has no individual ${id}.`);
  const stored = readProgram(dir, individual.programHash);
  if (stored === null || typeof stored === "string") throw new Error(`${id}'s program folder programs/${individual.programHash} is ${stored ? `damaged (${stored})` : "missing"}.`);
  return { individual, stored };
}

export function showIndividual(found: { individual: Individual; stored: StoredProgram }): string {
  const { individual: i, stored } = found;
  const run = stored.run;
  const lines = [
    `individual ${i.id}: ${i.status}${i.reason ? ` (${i.reason})` : ""}`,
    `  parent            ${i.parent ?? "none (a copy of the ancestor)"}${i.seed === null ? "" : `, copied with seed ${i.seed}`}`,
    `  program           ${i.bytes} bytes, sha256 ${i.programHash.slice(0, 16)}…, ${i.mutations} point mutation(s)`,
    `  distance          ${i.distanceToParent ?? "-"} to its parent, ${i.distanceToAncestor} to the ancestor${i.exactCopy ? " (an exact copy)" : ""}`,
    `  run               ${run.status}, ${run.seconds.toFixed(1)} s on ${run.backend}${i.cached ? " (cached: its program had run before)" : ""}`,
    ...(run.status === "alive"
      ? [`  copies itself     greedy decoding at distance ${run.distanceToSelf} from its program, smallest margin ${run.minMargin?.toFixed(3)}`,
        `  model             ${run.parameters} parameters, programs/${run.programHash}/model`]
      : []),
    "",
    stored.program,
  ];
  return `${lines.join("\n")}\n`;
}

/** Unified diff of an individual's program against its parent's (against the ancestor in generation 0: empty). */
export function individualDiff(dir: string, id: string): string {
  const { individual, stored } = findIndividual(dir, id);
  if (individual.parent === null) return "";
  const parent = findIndividual(dir, individual.parent);
  return unifiedDiff(parent.stored.program, stored.program, `${individual.parent}/program.js`, `${id}/program.js`);
}
