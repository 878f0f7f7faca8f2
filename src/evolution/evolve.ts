// The loop of `neural-quine evolve`. Generation 0 is K copies of the ancestor. Each generation after
// it: every kept individual (in index order) makes C children from its model (sampling at T, point
// mutations at M, seeded by run seed, generation and child index); the children's programs not run
// before are run in the sandbox (./reproduce: W at a time here, or by a job queue's workers); the
// dead are marked, the K fittest living are kept (./select); the generation and its statistics are
// written whole. Nothing here depends on which worker finished first, so the same seed gives the
// same population with any --workers (or queue), and a run killed at any point resumes where the
// last written generation ends.
import { existsSync, readFileSync, statSync } from "node:fs";
import { generationName } from "../files/generations";
import { sha256 } from "../files/hash";
import { acquireLock } from "../files/lock";
import type { CheckedModel } from "../runtime/decoder";
import {
  openStore, readPopulation, removeStoreLeftovers, readProgram, readRunRecord, writeGeneration, writeRunRecord, type Generation, type Individual, type StoredProgram,
} from "./population-store";
import { childLimits, loadModel, localReproducer, readStoredProgram, type Reproducer } from "./reproduce";
import { select } from "./select";
import { runRecord, variationRates, type EvolveSettings } from "./settings";
import { generationStatistics, levenshtein, type Statistics } from "./statistics";
import { makeChild, MAX_EDITS, seedFor, type Change, type Edit } from "./variation";

export type EvolveEvent =
  | { type: "note"; message: string }
  | { type: "run"; generation: number; programHash: string; status: "alive" | "dead"; reason: string | null; seconds: number }
  | { type: "generation"; statistics: Statistics };

interface EvolveResult {
  statistics: Statistics[]; // every generation in the store
  extinct: boolean;
  stoppedByTime: boolean; // --minutes ran out before the last generation
}

/** A child before it is judged. */
interface Newborn {
  index: number;
  parent: Individual | null;
  seed: number | null;
  program: string;
  mutations: number;
  changedBy: Change[];
  edits: Edit[];
}

/**
 * Runs (or resumes) a population in settings.dir until it has settings.generations generations, dies out or runs out of settings.minutes.
 * Reproductions run on `reproducer`: the local pool of settings.workers sandboxes, or a job queue (src/queue/).
 */
export async function evolve(settings: EvolveSettings, onEvent: (event: EvolveEvent) => void = () => {},
  reproducer: Reproducer = localReproducer(settings)): Promise<EvolveResult> {
  const { dir } = settings;
  const deadline = settings.minutes === undefined ? Infinity : Date.now() + settings.minutes * 60_000;
  let stoppedByTime = false;
  if (!existsSync(settings.from) || statSync(settings.from).isDirectory()) throw new Error(`The ancestor ${settings.from} is not a file.`);
  const ancestor = readFileSync(settings.from, "utf8");
  openStore(dir);
  const lock = acquireLock(dir);
  try {
    if (lock.note) onEvent({ type: "note", message: lock.note });
    for (const name of removeStoreLeftovers(dir)) onEvent({ type: "note", message: `removed ${name}, left half-written by an interrupted run` });
    const record = runRecord(settings, sha256(ancestor));
    const recorded = readRunRecord(dir);
    if (recorded && JSON.stringify(recorded) !== JSON.stringify(record)) {
      throw new Error(`${dir} holds a run with other settings (${JSON.stringify(recorded)}); use another --dir or the same settings.`);
    }
    if (!recorded) writeRunRecord(dir, record);

    const generations = readPopulation(dir);
    const last = generations.at(-1);
    generations.slice(0, -1).forEach((g, n) => {
      if (typeof g === "string") onEvent({ type: "note", message: `${generationName(n)} is damaged (${g}); continuing from the last generation` });
    });
    if (typeof last === "string") {
      throw new Error(`${generationName(generations.length - 1)} in ${dir} is damaged (${last}), so the population cannot continue from it; remove that folder to run it again.`);
    }
    if (last) onEvent({ type: "note", message: `continuing after ${generationName(last.generation)}` });

    const programs = new Map<string, StoredProgram>(); // by hash: runs read or made during this call
    const models = new Map<string, CheckedModel>();
    let population = last;
    for (let generation = generations.length; generation < settings.generations; generation++) {
      if (population && !population.individuals.some((i) => i.status === "kept")) break;
      if (Date.now() >= deadline) {
        stoppedByTime = true;
        onEvent({ type: "note", message: `${settings.minutes} minute(s) are up: stopping before ${generationName(generation)}; run again to continue` });
        break;
      }
      const newborns = population ? breed(population, settings, programs, models, dir) : founders(ancestor, settings.population);
      population = await judge(generation, newborns, ancestor, settings, programs, reproducer, onEvent);
      writeGeneration(dir, population);
      onEvent({ type: "generation", statistics: population.statistics });
    }
    const statistics = readPopulation(dir).filter((g): g is Generation => typeof g !== "string").map((g) => g.statistics);
    return { statistics, extinct: statistics.at(-1)?.population === 0, stoppedByTime };
  } finally {
    lock.release();
  }
}

/** Generation 0: K copies of the ancestor. */
function founders(ancestor: string, count: number): Newborn[] {
  return Array.from({ length: count }, (_, index) => ({ index, parent: null, seed: null, program: ancestor, mutations: 0, changedBy: [], edits: [] }));
}

/** The children of a generation's kept individuals, C each, drawn from seeds that depend only on the run seed and the child's place. */
function breed(population: Generation, settings: EvolveSettings, programs: Map<string, StoredProgram>, models: Map<string, CheckedModel>, dir: string): Newborn[] {
  const generation = population.generation + 1;
  const parents = population.individuals.filter((i) => i.status === "kept").sort((a, b) => a.index - b.index);
  const { mutationRate, operators } = variationRates(settings);
  return parents.flatMap((parent, p) => {
    const stored = programs.get(parent.programHash) ?? readStoredProgram(dir, parent.programHash);
    programs.set(parent.programHash, stored);
    let model = models.get(parent.programHash);
    if (!model) models.set(parent.programHash, (model = loadModel(stored)));
    return Array.from({ length: settings.children }, (_, c) => {
      const index = p * settings.children + c;
      const seed = seedFor(settings.seed, generation, index);
      const child = makeChild(stored.program, model, seed, settings.temperature, mutationRate, childLimits(stored.program, model.parameters), operators);
      return { index, parent, seed, program: child.text, mutations: child.mutations, changedBy: child.changedBy, edits: child.edits.slice(0, MAX_EDITS) };
    });
  });
}

/** Runs the newborns' programs not run before, then marks the dead and keeps the K fittest. */
async function judge(generation: number, newborns: Newborn[], ancestor: string, settings: EvolveSettings,
  programs: Map<string, StoredProgram>, reproducer: Reproducer, onEvent: (event: EvolveEvent) => void): Promise<Generation> {
  const { dir } = settings;
  const cachedBefore = new Set<string>();
  const toRun = new Map<string, string>(); // hash → program, in first-appearance order
  for (const { program } of newborns) {
    const hash = sha256(program);
    if (programs.has(hash) || toRun.has(hash)) continue;
    const stored = readProgram(dir, hash);
    if (typeof stored === "string") onEvent({ type: "note", message: `programs/${hash} is damaged (${stored}); running it again` });
    else if (stored) {
      programs.set(hash, stored);
      continue;
    }
    toRun.set(hash, program);
  }
  for (const { program } of newborns) if (!toRun.has(sha256(program))) cachedBefore.add(sha256(program));
  const ran = await reproducer.reproduce([...toRun.values()], (stored) => {
    onEvent({ type: "run", generation, programHash: stored.run.programHash, status: stored.run.status, reason: stored.run.reason, seconds: stored.run.seconds });
  });
  for (const stored of ran) programs.set(stored.run.programHash, stored);

  const runs = newborns.map((n) => (programs.get(sha256(n.program)) as StoredProgram).run);
  const kept = select(newborns.map((n, i) => ({ index: n.index, run: runs[i] })), settings.population);
  const seen = new Set<string>();
  const individuals: Individual[] = newborns.map((n, i) => {
    const run = runs[i];
    const parentProgram = n.parent ? (programs.get(n.parent.programHash) as StoredProgram).program : null;
    const cached = cachedBefore.has(run.programHash) || seen.has(run.programHash);
    seen.add(run.programHash);
    return {
      id: `${generation}.${n.index}`, generation, index: n.index, parent: n.parent?.id ?? null, seed: n.seed,
      programHash: run.programHash, bytes: run.bytes, mutations: n.mutations, changedBy: n.changedBy, edits: n.edits,
      exactCopy: parentProgram === null ? null : parentProgram === n.program,
      distanceToParent: parentProgram === null ? null : levenshtein(n.program, parentProgram),
      distanceToAncestor: levenshtein(n.program, ancestor),
      cached, status: run.status === "dead" ? "dead" : kept.has(n.index) ? "kept" : "culled", reason: run.reason,
    };
  });
  const statistics = generationStatistics({
    generation,
    children: newborns.map((n, i) => ({
      program: n.program, parentProgram: n.parent ? (programs.get(n.parent.programHash) as StoredProgram).program : null,
      alive: runs[i].status === "alive", cached: individuals[i].cached,
    })),
    kept: newborns.filter((n) => kept.has(n.index)).map((n) => n.program),
    keptRuns: runs.filter((_, i) => kept.has(newborns[i].index)),
    ancestor,
    trainingSeconds: ran.reduce((sum, stored) => sum + stored.run.seconds, 0),
  });
  return { generation, individuals, statistics };
}
