// The report of a population store (src/evolution/population-store.ts): index.html with the
// statistics as plots, the phylogeny and every generation's individuals; one page per individual
// (individuals/<id>.html) with its diff against its parent and "decode live"; and each living
// program's files (programs/<hash>/), which decode live loads. The store checks what it reads; a
// damaged generation or program is shown with its reason, never a crash.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readPopulation, readProgram, readRunRecord, type Generation, type Individual, type StoredProgram } from "../evolution/population-store";
import type { RunRecord } from "../evolution/settings";
import { plural } from "../format";
import * as rt from "../runtime";
import { checkModel } from "./collect";
import { individualPage, populationPage } from "./population-html";

/** A program as the report sees it: read and checked by the store, and its model loaded as the browser will. */
export type ReportProgram = { stored: StoredProgram; model: boolean } | { damage: string };

export interface PopulationReport {
  dir: string;
  record: RunRecord;
  generations: Generation[]; // the readable ones, in order
  damaged: { generation: number; reason: string }[];
  programs: Map<string, ReportProgram>; // by hash, every program an individual has
}

/** True when `dir` is a population store (evolve writes evolution.json first). */
export const isPopulationStore = (dir: string): boolean => existsSync(join(dir, "evolution.json"));

/** Reads a population store for the report. Throws one sentence only when the store itself is unusable. */
export async function collectPopulation(dir: string): Promise<PopulationReport> {
  const record = readRunRecord(dir);
  if (!record) throw new Error(`${dir} is not a population store (no evolution.json).`);
  const generations: Generation[] = [];
  const damaged: { generation: number; reason: string }[] = [];
  readPopulation(dir).forEach((g, generation) => (typeof g === "string" ? damaged.push({ generation, reason: g }) : generations.push(g)));
  await rt.initBackend("auto"); // only to check that models load, as the browser will load them
  const programs = new Map<string, ReportProgram>();
  for (const hash of new Set(generations.flatMap((g) => g.individuals.map((i) => i.programHash)))) {
    const stored = readProgram(dir, hash);
    if (stored === null || typeof stored === "string") {
      programs.set(hash, { damage: stored ?? "its folder is missing" });
      continue;
    }
    const damage = stored.modelDir ? await checkModel(stored.modelDir) : undefined;
    programs.set(hash, damage ? { damage: `its model does not load (${damage})` } : { stored, model: stored.modelDir !== null });
  }
  return { dir, record, generations, damaged, programs };
}

/** Writes the site's pages and program files into `out` (prepared, with its assets, by site.ts). */
export function writePopulationSite(report: PopulationReport, out: string): void {
  for (const [hash, program] of report.programs) {
    if ("damage" in program) continue;
    const folder = join(out, "programs", hash);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "program.js"), program.stored.program);
    if (program.stored.emitted !== null) writeFileSync(join(folder, "emitted.js"), program.stored.emitted);
    if (program.model && program.stored.modelDir) {
      for (const file of ["model.json", "weights.bin"]) copyFileSync(join(program.stored.modelDir, file), join(folder, file));
    }
  }
  mkdirSync(join(out, "individuals"), { recursive: true });
  const all = report.generations.flatMap((g) => g.individuals);
  const byId = new Map(all.map((i) => [i.id, i]));
  const children = new Map<string, Individual[]>();
  for (const i of all) if (i.parent !== null) children.set(i.parent, [...(children.get(i.parent) ?? []), i]);
  for (const individual of all) {
    const parent = individual.parent === null ? undefined : byId.get(individual.parent);
    writeFileSync(join(out, "individuals", `${individual.id}.html`), individualPage(report, individual, parent, children.get(individual.id) ?? []));
  }
  writeFileSync(join(out, "index.html"), populationPage(report));
}

/** "12 generations (1 damaged), 340 individuals, 41 programs": what the command prints. */
export function populationSummary(report: PopulationReport): string {
  const individuals = report.generations.reduce((n, g) => n + g.individuals.length, 0);
  const damaged = report.damaged.length ? ` (${report.damaged.length} damaged)` : "";
  return `${plural(report.generations.length + report.damaged.length, "generation")}${damaged}, ${plural(individuals, "individual")}, ${plural(report.programs.size, "program")}`;
}
