// What the report shows, read from a generations folder: every generation with its files, and any
// weight-quine runs beside them. The store (src/ouroboros/store.ts) reads and checks each
// generation; a damaged one is shown with its reason, so one bad folder cannot stop the report of
// the others. The report adds one check of its own: that each model loads as TensorFlow.js will
// load it in the page.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { z } from "zod";
import { check, readJsonFile } from "../files/json";
import type { Claim, DecodeRecord, Walls } from "../sandbox";
import { generationName } from "../files/generations";
import { LineageFileSchema, readLineage as readStore, type LineageEntry, type StoredGeneration } from "../ouroboros/store";
import * as rt from "../runtime";
import { WeightQuineMetricsSchema, type WeightQuineMetrics } from "../weights/metrics";
import { EpochSchema } from "../runtime/epoch";
import { errorMessage } from "../format";

type GenerationStatus = "exact" | "mutated" | "dead" | "damaged";

/** One generation as the report sees it. Texts are absent when their files are. */
export interface Generation {
  name: string; // its folder, e.g. gen-0003
  generation: number;
  status: GenerationStatus;
  recordedStatus?: string; // what metrics.json says, when the report had to call it damaged
  reason?: string; // why it died, or what is damaged
  parent: number | null;
  metrics: Record<string, unknown>; // metrics.json as stored (history, walls, claim and decode aside), or the lineage.json row
  walls: Walls | null; // which sandbox walls stood
  claim: Claim | null; // the program's claimed text against its model's decoding
  decode: DecodeRecord | null; // how the parent's decoding went
  history: rt.Epoch[];
  program?: string;
  emitted?: string;
  model?: { json: string; weights: string }; // paths of a model that loads, relative to the folder
}

/** A weight-quine run: its metrics.json (checked; when it is not what `weights` writes, as stored with the reason) and heatmap. */
export type WeightRun = {
  path: string; // its folder, relative to the generations folder
  image?: string; // path of its image, relative to the generations folder
} & ({ metrics: WeightQuineMetrics; damage?: undefined } | { metrics: Record<string, unknown>; damage: string });

export interface Lineage {
  dir: string;
  updated?: string;
  generations: Generation[];
  weightRuns: WeightRun[];
}

const GEN_FOLDER = /^gen-\d+$/; // a generation's folder, searched by the store, not for weight runs

const JsonObject = z.record(z.string(), z.unknown());
type Json = z.infer<typeof JsonObject>;

/** A JSON object from a file (shown field by field, whatever it holds); throws if it is not one. */
function readJson(path: string): Json {
  return readJsonFile(path, JsonObject);
}

function readText(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

const isEpoch = (value: unknown): value is rt.Epoch => EpochSchema.safeParse(value).success;

/** The checks the store does not make: that the model loads as a neural-quine model, as the browser will load it. */
export async function checkModel(dir: string): Promise<string | undefined> {
  try {
    const model = await rt.loadModel(dir);
    for (const tensor of Object.values(model.weights)) tensor.dispose();
    return undefined;
  } catch (error) {
    return errorMessage(error).replace(/\.$/, "");
  }
}

/** What the report shows of a metrics.json the store could not use: whatever parses. */
function rawMetrics(folder: string): Json {
  try {
    return readJson(join(folder, "metrics.json"));
  } catch {
    return {};
  }
}

/** One generation, as the store reads it (its damage check included), plus the model check. */
async function readGeneration(dir: string, stored: StoredGeneration, row: LineageEntry | undefined): Promise<Generation> {
  const name = generationName(stored.generation);
  const folder = join(dir, name);
  const { history: rawHistory, walls: _walls, claim: _claim, decode: _decode, ...shown }: Json = stored.metrics ?? { ...row, ...rawMetrics(folder) };
  const recorded = typeof shown.status === "string" ? shown.status : undefined;
  const generation: Generation = {
    name,
    generation: stored.generation,
    status: recorded === "exact" || recorded === "mutated" || recorded === "dead" ? recorded : "damaged",
    reason: typeof shown.reason === "string" && shown.reason ? shown.reason : undefined,
    parent: typeof shown.parent === "number" ? shown.parent : stored.generation > 0 ? stored.generation - 1 : null,
    metrics: shown,
    walls: stored.metrics?.walls ?? null,
    claim: stored.metrics?.claim ?? null,
    decode: stored.metrics?.decode ?? null,
    history: Array.isArray(rawHistory) ? rawHistory.filter(isEpoch) : [], // a damaged one's: the passes that check
    // A damaged generation still shows the texts that are there.
    program: stored.program ?? readText(join(folder, "program.js")),
    emitted: stored.emitted ?? readText(join(folder, "emitted.js")),
  };
  let damage = stored.damage ?? undefined;
  const hasModel = existsSync(join(folder, "model", "model.json"));
  if (existsSync(folder) && (generation.status !== "dead" || hasModel)) {
    // Said of the generation's own files, without the folder the report was made from.
    const modelDamage = (await checkModel(join(folder, "model")))?.split(join(folder, "model")).join("model/")
      .replace(/^./, (c) => (damage ? c.toLowerCase() : c));
    if (modelDamage === undefined) generation.model = { json: `${name}/model/model.json`, weights: `${name}/model/weights.bin` };
    else if (generation.status !== "dead") damage = damage ? `${damage}; ${modelDamage}` : modelDamage;
  }
  if (damage) {
    generation.recordedStatus = recorded;
    generation.status = "damaged";
    generation.reason = `${damage.replace(/\.$/, "")}.`;
  }
  return generation;
}

/** Folders under `dir` (two levels down at most) whose metrics.json says kind "weight-quine". */
function findWeightRuns(dir: string, skip: string[], depth = 2): WeightRun[] {
  const runs: WeightRun[] = [];
  const walk = (folder: string, level: number): void => {
    if (skip.includes(folder)) return;
    const metricsPath = join(folder, "metrics.json");
    if (existsSync(metricsPath)) {
      try {
        const metrics = readJson(metricsPath);
        if (metrics.kind === "weight-quine") {
          const image = typeof metrics.image === "string" ? join(folder, metrics.image) : undefined;
          const where = { path: relative(dir, folder) || ".", image: image && existsSync(image) ? relative(dir, image) : undefined };
          const checked = check(WeightQuineMetricsSchema, metrics);
          runs.push(checked.error === undefined ? { ...where, metrics: checked.data } : { ...where, metrics, damage: `metrics.json is damaged or not ours: ${checked.error}.` });
          return;
        }
      } catch {
        // Not a weight-quine record (or a damaged generation's, reported with its generation).
      }
    }
    if (level >= depth) return;
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && !entry.name.startsWith(".") && !GEN_FOLDER.test(entry.name) && entry.name !== "node_modules") {
        walk(join(folder, entry.name), level + 1);
      }
    }
  };
  walk(dir, 0);
  return runs;
}

/** Reads a generations folder for the report. Throws only when `dir` itself is unusable. `skip`: folders not to search (the report's own output). */
export async function collectLineage(dir: string, skip: string[] = []): Promise<Lineage> {
  if (!existsSync(dir)) throw new Error(`No generations folder at ${dir}.`);
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder.`);
  await rt.initBackend("auto"); // only to check that models load; nothing heavy is computed
  let rows: LineageEntry[] = [];
  let updated: string | undefined;
  try {
    ({ generations: rows, updated } = readJsonFile(join(dir, "lineage.json"), LineageFileSchema));
  } catch {
    // No, an unreadable or a foreign lineage.json: the generation folders are the record anyway.
  }
  const generations: Generation[] = [];
  for (const stored of readStore(dir)) {
    generations.push(await readGeneration(dir, stored, rows.find((row) => row.generation === stored.generation)));
  }
  return { dir, updated, generations, weightRuns: findWeightRuns(dir, skip) };
}
