// The report of a population store (src/evolution/population-store.ts), what it is made of: the
// store read and checked (a damaged generation or program is kept with its reason, never a crash),
// and each program's model loaded as the browser will load it. ./population-html writes the pages.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readPopulation, readProgram, readRunRecord, type Generation, type StoredProgram } from "../evolution/population-store";
import type { RunRecord } from "../evolution/settings";
import { plural } from "../format";
import * as rt from "../runtime";
import { checkModel } from "./collect";

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

/** "12 generations (1 damaged), 340 individuals, 41 programs": what the command prints. */
export function populationSummary(report: PopulationReport): string {
  const individuals = report.generations.reduce((n, g) => n + g.individuals.length, 0);
  const damaged = report.damaged.length ? ` (${report.damaged.length} damaged)` : "";
  return `${plural(report.generations.length + report.damaged.length, "generation")}${damaged}, ${plural(individuals, "individual")}, ${plural(report.programs.size, "program")}`;
}
