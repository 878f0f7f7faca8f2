// The report: a self-contained static site for a generations folder (or a population store: ./population). index.html (rendered here),
// assets/page.js (the page's code with TensorFlow.js, bundled by esbuild from our dependencies),
// assets/style.css, and each generation's program, emitted text and model files, which the page's
// "decode live" loads. Nothing is fetched from the network; any static file server serves it.
import { buildSync } from "esbuild";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { plural } from "../format";
import { ROOT } from "../paths";
import { renderPage } from "./html";
import { collectLineage, type Lineage } from "./collect";
import { collectPopulation, isPopulationStore, populationSummary } from "./population";
import { writePopulationSite } from "./population-html";

/** Left in every report folder, so a later report may replace it (and nothing else). */
const MARKER = ".neural-quine-report";

/** Bundles the page's code and stylesheet into `assets` (page.js, style.css). */
export function bundleAssets(assets: string): void {
  buildSync({
    entryPoints: { page: join(ROOT, "src", "report", "page.ts"), style: join(ROOT, "src", "report", "style.css") },
    absWorkingDir: ROOT,
    outdir: assets,
    bundle: true,
    platform: "browser",
    format: "iife",
    target: ["chrome100", "firefox100", "safari15"],
    minify: true,
    legalComments: "none",
    logLevel: "silent",
  });
}

/** Empties `out` if it is an earlier report; refuses a folder that holds anything else. */
function prepareOut(out: string): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new Error(`${out} exists and is not a folder: choose another --out.`);
    if (readdirSync(out).length > 0 && !existsSync(join(out, MARKER))) {
      throw new Error(`${out} is not empty and was not written by neural-quine report: choose another --out.`);
    }
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, MARKER), "This folder is a neural-quine report; neural-quine report replaces it whole.\n");
}

function copy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

/** Writes the report of the generations in `dir` into `out` and returns what it read. */
async function writeReport(dir: string, out: string): Promise<Lineage> {
  if (resolve(dir) === resolve(out)) throw new Error("--out must not be the generations folder itself.");
  const lineage = await collectLineage(dir, [resolve(out)]);
  prepareOut(out);
  bundleAssets(join(out, "assets"));
  for (const g of lineage.generations) {
    // The page compares what it decodes with program.js and emitted.js, and decodes the model files.
    for (const file of ["program.js", "emitted.js"]) {
      if (existsSync(join(dir, g.name, file))) copy(join(dir, g.name, file), join(out, g.name, file));
    }
    if (g.model) for (const file of ["model.json", "weights.bin"]) copy(join(dir, g.name, "model", file), join(out, g.name, "model", file));
  }
  const images = new Map<string, string>();
  lineage.weightRuns.forEach((run, i) => {
    if (!run.image) return;
    const target = `weights/${i}-${run.path.replace(/[^\w.-]+/g, "_")}${extname(run.image)}`;
    copy(join(dir, run.image), join(out, target));
    images.set(run.path, target);
  });
  writeFileSync(join(out, "index.html"), renderPage(lineage, images));
  return lineage;
}

/** Writes the report of `dir`, a generations folder or a population store, into `out`; returns what the command prints. */
export async function writeSite(dir: string, out: string): Promise<string> {
  if (!isPopulationStore(dir)) return reportSummary(await writeReport(dir, out));
  if (resolve(dir) === resolve(out)) throw new Error("--out must not be the population store itself.");
  const population = await collectPopulation(dir);
  prepareOut(out);
  bundleAssets(join(out, "assets"));
  writePopulationSite(population, out);
  return populationSummary(population);
}

/** "3 generations (1 damaged), 1 weight-quine run": what the command prints. */
function reportSummary(lineage: Lineage): string {
  const damaged = lineage.generations.filter((g) => g.status === "damaged").length;
  return `${plural(lineage.generations.length, "generation")}${damaged ? ` (${damaged} damaged)` : ""}, ${plural(lineage.weightRuns.length, "weight-quine run")}`;
}

export const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".bin": "application/octet-stream",
};

/** The file a request's URL names inside a site folder; 403 outside it, 404 when there is none. */
export function siteFile(root: string, url: string | undefined): string | 403 | 404 {
  const base = resolve(root);
  let path: string;
  try {
    path = decodeURIComponent(new URL(url ?? "/", "http://localhost").pathname);
  } catch {
    return 404; // a malformed escape
  }
  let file = normalize(join(base, path));
  if (file !== base && !file.startsWith(base + sep)) return 403;
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
  return existsSync(file) ? file : 404;
}

/** A plain static file server for a report folder on 127.0.0.1 (`port` 0: any free port). */
export async function serveSite(root: string, port = 0): Promise<{ server: Server; url: string }> {
  return listen(createServer((request, response) => {
    const file = siteFile(root, request.url);
    if (typeof file === "number") {
      response.writeHead(file).end(file === 404 ? "not found" : undefined);
      return;
    }
    response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    response.end(readFileSync(file));
  }), port);
}

/** Starts `server` on 127.0.0.1:`port` (0: any free port); its URL. */
export async function listen(server: Server, port: number): Promise<{ server: Server; url: string }> {
  await new Promise<void>((ready, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ready());
  });
  const { port: bound } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${bound}/` };
}

/** Opens `url` in the desktop's browser; false when there is no opener to run. */
export function openInBrowser(url: string): Promise<boolean> {
  const [command, ...args] = process.platform === "darwin" ? ["open", url] : process.platform === "win32" ? ["cmd", "/c", "start", "", url] : ["xdg-open", url];
  return new Promise((done) => {
    const child = spawn(command, args, { stdio: "ignore", detached: true });
    child.once("error", () => done(false));
    child.once("spawn", () => {
      child.unref();
      done(true);
    });
  });
}
