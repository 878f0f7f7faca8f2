// Numbered generation folders, gen-0000, gen-0001, …, each written under a .tmp-<pid> name and renamed
// into place last: the layout both stores (the lineage's and the population's) keep their generations in.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const GEN_PATTERN = /^gen-(\d{4,})$/;

/** gen-0007 for 7. */
export function generationName(generation: number): string {
  return `gen-${String(generation).padStart(4, "0")}`;
}

export function generationPath(dir: string, generation: number): string {
  return join(dir, generationName(generation));
}

/** The generation numbers present in `dir` (finished folders only), ascending. */
export function listGenerations(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => GEN_PATTERN.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
}

/** Where this process builds something (a generation's folder, a file) before renaming it into place. */
export function stagingName(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Removes what a killed run left half-written in `dir`: .tmp-<pid> folders and files, and write-file-atomic's <name>.json.<hash> files. */
export function removeLeftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const leftovers = readdirSync(dir).filter((name) => /\.tmp-\d+$|\.json\.[0-9a-f]+$/.test(name));
  for (const name of leftovers) rmSync(join(dir, name), { recursive: true, force: true });
  return leftovers;
}
