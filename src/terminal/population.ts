// What `neural-quine evolve` and `neural-quine population` print: evolve's progress lines, the
// statistics table, one individual, an individual's diff, the tree.
import { existsSync, writeFileSync } from "node:fs";
import { formatWork, printable, printableLine, ranges } from "../format";
import { unifiedDiff } from "../diff";
import { readGeneration, readPopulation, readProgram, type Generation, type Individual, type StoredProgram } from "../evolution/population-store";
import { compact, statisticsTable, type Statistics } from "../evolution/statistics";
import type { EvolveEvent } from "../evolution/evolve";
import { phylogeny, type Genotype } from "../evolution/phylogeny";
import { describeChange, fittest, lineOfDescent } from "../evolution/lineage";


/** "sampling, number" or "nothing (an exact copy)". */
export const changedByText = (changedBy: string[]): string => (changedBy.length ? changedBy.join(", ") : "nothing (an exact copy)");

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
  return table + damaged.map((line) => `damaged: ${printableLine(line)}\n`).join("");
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
    `individual ${i.id}: ${i.status}${i.reason ? ` (${printableLine(i.reason)})` : ""}`,
    `  parent            ${i.parent ?? "none (a copy of the ancestor)"}${i.seed === null ? "" : `, copied with seed ${i.seed}`}`,
    `  program           ${i.bytes} bytes, sha256 ${i.programHash.slice(0, 16)}…, ${i.mutations} point mutation(s)`,
    ...(i.parent === null ? [] : [`  changed by        ${changedByText(i.changedBy)}${i.edits.length ? ":" : ""}`,
      ...i.edits.map((edit) => `    ${edit.operator.padEnd(6)} line ${edit.line}: ${printableLine(edit.description)}`)]),
    `  distance          ${i.distanceToParent ?? "-"} to its parent, ${i.distanceToAncestor} to the ancestor${i.exactCopy ? " (an exact copy)" : ""}`,
    `  run               ${run.status}, ${run.seconds.toFixed(1)} s on ${printableLine(run.backend)}${i.cached ? " (cached: its program had run before)" : ""}`,
    ...(run.status === "alive"
      ? [`  copies itself     greedy decoding at distance ${run.distanceToSelf} from its program, smallest margin ${run.minMargin?.toFixed(3)}`,
        run.worker === null ? `  training work     ${formatWork(run.work)} through the kernel, counted by the sandbox`
          : `  training work     ${formatWork(run.work)} through the kernel, as worker ${printableLine(run.worker)}'s sandbox counted it: not verified here (the coordinator decodes the model itself, so the text is checked; the training work and epochs are the worker's word)`,
        `  model             ${run.parameters} parameters, programs/${run.programHash}/model`]
      : []),
    "",
    printable(stored.program),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Writes an individual's program to `file` (never over an existing file), so that the replicator can
 * run on its own: `neural-quine bootstrap --from <file>`. Returns the line to print.
 */
export function exportIndividual(dir: string, id: string, file: string): string {
  if (!existsSync(dir)) throw new Error(`${dir} does not exist: run \`neural-quine evolve --dir ${dir}\` first.`);
  const { individual, stored } = findIndividual(dir, id);
  try {
    writeFileSync(file, stored.program, { flag: "wx" }); // wx: refused if the file exists
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = printableLine(file);
    if (code === "EEXIST") throw new Error(`${where} already exists: give another file or remove it first.`);
    if (code === "ENOENT") throw new Error(`Cannot write ${where}: its folder does not exist.`);
    if (code === "ENOTDIR") throw new Error(`Cannot write ${where}: part of its path is a file, not a folder.`);
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw new Error(`Cannot write ${where}: permission denied.`);
    if (code === "EISDIR") throw new Error(`${where} is a folder: give a file name.`);
    throw error;
  }
  const run = stored.run.status === "dead" ? `it died: ${printableLine(stored.run.reason ?? "")}`
    : stored.run.distanceToSelf === 0 ? "an exact copier" : `its model decodes to a text at distance ${stored.run.distanceToSelf} from it`;
  return `wrote ${id}'s program (${individual.bytes} bytes, ${individual.status}, ${run}) to ${printableLine(file)}; ` +
    `run it alone: neural-quine bootstrap --from ${printableLine(file)}\n`;
}

/** Unified diff of an individual's program against its parent's (against the ancestor in generation 0: empty). */
export function individualDiff(dir: string, id: string): string {
  const { individual, stored } = findIndividual(dir, id);
  if (individual.parent === null) return "";
  const parent = findIndividual(dir, individual.parent);
  return printable(unifiedDiff(parent.stored.program, stored.program, `${individual.parent}/program.js`, `${id}/program.js`));
}

/** The phylogeny by genotype (../evolution/phylogeny), one line per genotype ever kept. */
export function populationTree(dir: string): string {
  const generations = readPopulation(dir).filter((g): g is Generation => typeof g !== "string");
  const lines: string[] = [];
  const walk = (genotype: Genotype, prefix: string, branch: string): void => {
    const origin = genotype.parent === null ? "the ancestor" : `from ${genotype.firstId}, ${genotype.distance} edit(s) by ${changedByText(genotype.changedBy)}`;
    lines.push(`${prefix}${branch}${genotype.hash.slice(0, 8)}  ${genotype.bytes} B  ${origin}; kept in ${ranges(genotype.keptIn)}; ` +
      `${genotype.deadChildren} dead, ${genotype.culledChildren} culled offspring${genotype.living ? "  ← living" : ""}`);
    const childPrefix = prefix + (branch === "" ? "" : branch === "└─ " ? "   " : "│  ");
    genotype.children.forEach((child, i) => walk(child, childPrefix, i === genotype.children.length - 1 ? "└─ " : "├─ "));
  };
  for (const root of phylogeny(generations)) walk(root, "", "");
  return lines.length ? `${lines.join("\n")}\n` : `No generations in ${dir} yet.\n`;
}

const DESCRIPTION = 160; // characters of a step's description in the lineage table

/**
 * The line of descent of `id` (default: the fittest kept individual of the last readable generation),
 * from the ancestor's copy down: one row per step that changed the program (and the first and last).
 */
export function populationLineage(dir: string, id?: string): string {
  if (!existsSync(dir)) throw new Error(`${dir} does not exist: run \`neural-quine evolve --dir ${dir}\` first.`);
  const generations = readPopulation(dir).filter((g): g is Generation => typeof g !== "string");
  if (generations.length === 0) return `No generations in ${dir} yet.\n`;
  const programs = new Map<string, StoredProgram | null>();
  const stored = (hash: string): StoredProgram | null => {
    if (!programs.has(hash)) {
      const read = readProgram(dir, hash);
      programs.set(hash, read === null || typeof read === "string" ? null : read);
    }
    return programs.get(hash) ?? null;
  };
  const lastKept = [...generations].reverse().find((g) => g.individuals.some((i) => i.status === "kept"));
  const target = id ?? (lastKept && fittest(lastKept, (hash) => stored(hash)?.run ?? null)?.id);
  if (!target) throw new Error(`No generation in ${dir} kept an individual: give an id, e.g. \`population lineage 3.5\`.`);
  if (id !== undefined && !/^\d+\.\d+$/.test(id)) throw new Error(`"${printableLine(id.slice(0, 40))}" is not an individual's id: give <generation>.<index>, e.g. 3.5.`);
  const line = lineOfDescent(generations, target);
  if (typeof line === "string") throw new Error(`No line of descent for ${target}: ${line}.`);
  const rows: string[][] = [];
  line.forEach((individual, step) => {
    const program = stored(individual.programHash)?.program;
    const parent = step > 0 ? stored(line[step - 1].programHash)?.program : undefined;
    const changed = parent !== undefined && program !== undefined && parent !== program;
    if (step > 0 && step < line.length - 1 && !changed) return;
    const run = stored(individual.programHash)?.run;
    const description = step === 0 ? "a copy of the ancestor"
      : parent === undefined || program === undefined ? "(a program folder is missing or damaged)"
        : [describeChange(parent, program), ...individual.edits.slice(0, 3).map((e) => `${e.operator}: ${e.description}`)].join("; ");
    rows.push([String(individual.generation), individual.id, step === 0 ? "-" : changedByText(individual.changedBy).replace(" (an exact copy)", ""),
      individual.distanceToParent === null ? "-" : String(individual.distanceToParent), String(individual.bytes), run?.work === null || run?.work === undefined ? "-" : compact(run.work),
      run?.minMargin === null || run?.minMargin === undefined ? "-" : run.minMargin.toFixed(2), printableLine(description).slice(0, DESCRIPTION)]);
  });
  const header = ["gen", "id", "changed by", "d(parent)", "bytes", "work", "margin", "edit"]; // work: multiply-adds counted by the sandbox
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const format = (cells: string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ").trimEnd();
  const changes = line.filter((individual, step) => step > 0 && individual.programHash !== line[step - 1].programHash).length;
  return `line of descent of ${target}: ${line.length} generation(s), ${changes} change(s) of program\n${[format(header), ...rows.map(format)].join("\n")}\n`;
}

/** One line of progress for the terminal. */
export function evolveProgressLine(event: EvolveEvent): string {
  if (event.type === "note") return `note: ${printableLine(event.message)}\n`;
  if (event.type === "run") {
    const what = event.status === "alive" ? "alive" : `dead: ${printableLine(event.reason ?? "")}`;
    return `  gen ${event.generation}  ran ${event.programHash.slice(0, 12)}  ${event.seconds.toFixed(1)} s  ${what}\n`;
  }
  const s = event.statistics;
  return `generation ${s.generation}: ${s.alive}/${s.children} alive, ${s.population} kept, ${s.uniqueGenotypes} genotype(s), ` +
    `${s.trainings} trained, ${s.cacheHits} cached${s.exactShare === null ? "" : `, ${Math.round(100 * s.exactShare)}% exact copies`}\n`;
}
