// The population report's HTML: the statistics per generation as small SVG plots, the phylogeny by
// genotype as an SVG tree (dead branches marked), the individuals of every generation, and one page
// per individual with its diff against its parent and the decode-live button. Every value from the
// store is escaped. writePopulationSite writes them, with each living program's files (programs/<hash>/),
// which decode live loads.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Individual } from "../evolution/population-store";
import { flatten, phylogeny, type Genotype } from "../evolution/phylogeny";
import { statisticsTable, type Statistics } from "../evolution/statistics";
import { formatSeconds, formatWork, plural, ranges } from "../format";
import { badge, diffBlock, escapeHtml, fmt, programBlock } from "./html";
import type { PopulationReport, ReportProgram } from "./population";

type Point = [number, number];
interface Series { name: string; points: Point[] }

const COLORS = ["#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df"];

/** One statistic or a few, per generation, as a small line chart. */
function chartSvg(title: string, series: Series[], fromZero = true): string {
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) return "";
  const W = 400, H = 190, left = 48, right = 12, top = 26, bottom = 30;
  const plotW = W - left - right, plotH = H - top - bottom;
  const xs = points.map(([gx]) => gx), ys = points.map(([, gy]) => gy);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const y0 = fromZero ? Math.min(0, ...ys) : Math.min(...ys), y1 = Math.max(...ys) > y0 ? Math.max(...ys) : y0 + 1;
  const x = (v: number): number => left + (x1 === x0 ? plotW / 2 : ((v - x0) / (x1 - x0)) * plotW);
  const y = (v: number): number => top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  const text = (tx: number, ty: number, anchor: string, s: string, cls = "axis"): string =>
    `<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="${anchor}" class="${cls}">${escapeHtml(s)}</text>`;
  const lines = series.map((s, i) => {
    const color = COLORS[i % COLORS.length];
    const path = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(" ");
    const dots = s.points.length === 1 ? `<circle cx="${x(s.points[0][0]).toFixed(1)}" cy="${y(s.points[0][1]).toFixed(1)}" r="2.5" fill="${color}"/>` : "";
    return `<polyline points="${path}" style="stroke:${color}"><title>${escapeHtml(s.name)}</title></polyline>${dots}`;
  });
  const key = series.map((s, i) => `<span class="key" style="--color:${COLORS[i % COLORS.length]}">${escapeHtml(s.name)}</span>`).join(" ");
  return `<figure class="chart"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">
    ${text(left, 16, "start", title, "title")}
    <rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" class="frame"/>
    ${lines.join("")}
    ${text(left - 5, top + 9, "end", fmt(y1))}${text(left - 5, top + plotH, "end", fmt(y0))}
    ${text(left, H - 10, "start", `gen ${x0}`)}${text(left + plotW, H - 10, "end", `gen ${x1}`)}${text(left + plotW / 2, H - 10, "middle", "generation")}
  </svg><figcaption>${key}</figcaption></figure>`;
}

/** The per-generation statistics as plots, one idea per plot. */
function statisticsCharts(rows: Statistics[]): string {
  const of = (name: string, value: (s: Statistics) => number | null | undefined): Series => ({
    name, points: rows.flatMap((s): Point[] => { const v = value(s); return v === null || v === undefined ? [] : [[s.generation, v]]; }),
  });
  return `<div class="charts">
    ${chartSvg("Survival and exact copies (of the children)", [of("survival rate", (s) => s.survivalRate), of("exact copies", (s) => s.exactShare)])}
    ${chartSvg("Individuals", [of("children alive", (s) => s.alive), of("kept", (s) => s.population), of("unique genotypes kept", (s) => s.uniqueGenotypes)])}
    ${chartSvg("Levenshtein distance", [of("to the parent, median (children)", (s) => s.distanceToParent?.median), of("to the ancestor, mean (kept)", (s) => s.distanceToAncestor?.mean)])}
    ${chartSvg("Program size, bytes (kept)", [of("min", (s) => s.bytes?.min), of("mean", (s) => s.bytes?.mean), of("max", (s) => s.bytes?.max)], false)}
    ${chartSvg("Shannon diversity, nats (kept)", [of("diversity", (s) => s.diversity)])}
    ${chartSvg("High-order entropy, bits per byte (kept)", [of("high-order entropy", (s) => s.highOrderEntropy)], false)}
    ${chartSvg("Programs run and cache hits", [of("trained", (s) => s.trainings), of("cached", (s) => s.cacheHits)])}
    ${chartSvg("Counted training work, multiply-adds (kept)", [of("min", (s) => s.work?.min), of("mean", (s) => s.work?.mean), of("max", (s) => s.work?.max)])}
    ${chartSvg("Smallest margin of the greedy decoding (kept)", [of("min", (s) => s.margin?.min), of("mean", (s) => s.margin?.mean)])}
    ${chartSvg("Training time, s (reported, not selected on)", [of("summed over the programs run", (s) => s.trainingSeconds)])}
  </div>`;
}

/** The phylogeny as an SVG: a row per genotype ever kept, from its birth to the last generation it was kept; dead branches grey and crossed out. */
export function treeSvg(roots: Genotype[], lastGeneration: number): string {
  const rows = flatten(roots);
  if (rows.length === 0) return `<p class="note">No genotype was ever kept.</p>`;
  const step = Math.max(6, Math.min(40, 640 / Math.max(1, lastGeneration)));
  const left = 14, top = 12, rowH = 18, labelW = 420;
  const x = (generation: number): number => left + generation * step;
  const rowOf = new Map(rows.map((g, i) => [g.hash, i]));
  const y = (hash: string): number => top + (rowOf.get(hash) ?? 0) * rowH + rowH / 2;
  const labelX = x(lastGeneration) + 14;
  const W = labelX + labelW, H = top + rows.length * rowH + 30;
  const parts = rows.map((g) => {
    const cls = g.livingBranch ? "living" : "dead-branch";
    const end = Math.max(g.born, ...g.keptIn);
    const link = g.parent !== null && rowOf.has(g.parent)
      ? `<path class="link ${cls}" d="M${x(g.born - 1).toFixed(1)},${y(g.parent).toFixed(1)}V${y(g.hash).toFixed(1)}H${x(g.born).toFixed(1)}"/>` : "";
    const endMark = g.living ? `<circle class="living" cx="${x(end).toFixed(1)}" cy="${y(g.hash)}" r="3.5"/>`
      : `<text class="cross" x="${x(end).toFixed(1)}" y="${(y(g.hash) + 4).toFixed(1)}" text-anchor="middle">✕</text>`;
    const origin = g.parent === null ? "the ancestor" : `${g.distance} edit(s) from its parent`;
    const label = `${g.hash.slice(0, 8)}  ${g.bytes} B  kept ${ranges(g.keptIn)}  ${g.deadChildren} dead, ${g.culledChildren} culled offspring${g.living ? "  ← living" : ""}${g.changedBy.length ? `  by ${g.changedBy.join("+")}` : ""}`;
    return `${link}<a href="individuals/${escapeHtml(g.firstId)}.html" class="genotype ${cls}"><title>${escapeHtml(`${g.hash.slice(0, 12)}: first ${g.firstId}, ${origin}; kept in ${ranges(g.keptIn)}`)}</title>
      <line class="${cls}" x1="${x(g.born).toFixed(1)}" y1="${y(g.hash)}" x2="${x(end).toFixed(1)}" y2="${y(g.hash)}"/>
      <circle class="birth" cx="${x(g.born).toFixed(1)}" cy="${y(g.hash)}" r="2.5"/>${endMark}
      <line class="guide" x1="${(x(end) + 6).toFixed(1)}" y1="${y(g.hash)}" x2="${labelX - 4}" y2="${y(g.hash)}"/>
      <text class="label ${cls}" x="${labelX}" y="${(y(g.hash) + 4).toFixed(1)}">${escapeHtml(label)}</text></a>`;
  });
  const every = Math.max(1, Math.ceil(40 / step));
  const ticks = Array.from({ length: Math.floor(lastGeneration / every) + 1 }, (_, i) => i * every)
    .map((g) => `<text class="axis" x="${x(g).toFixed(1)}" y="${H - 8}" text-anchor="middle">${g}</text>`).join("");
  return `<figure class="tree"><svg viewBox="0 0 ${W} ${H}" width="${W}" role="img" aria-label="phylogenetic tree by genotype">${parts.join("\n")}${ticks}</svg>
    <figcaption>One row per genotype (program) ever kept, from the generation it was born in to the last one it was kept in, under the genotype it came from.
    <span class="key" style="--color:#1a7f37">a living branch (● living now)</span> <span class="key" style="--color:#8c959f">a dead branch (✕ last kept)</span>
    Dead offspring: children that died; culled: genotypes that lived but were never kept. Click a row for its first individual.</figcaption></figure>`;
}

/** Each generation's individuals as small linked chips. */
function generationsTable(report: PopulationReport): string {
  const rows = [
    ...report.generations.map((g) => ({ n: g.generation, html: `<tr><td class="num">${g.generation}</td><td>${g.statistics.population}/${g.individuals.length}</td><td class="chips">${g.individuals.map((i) =>
      `<a class="chip ${i.status}" href="individuals/${escapeHtml(i.id)}.html" title="${escapeHtml(`${i.id}: ${i.status}, ${i.bytes} B${i.distanceToParent === null ? "" : `, ${i.distanceToParent} from ${i.parent}`}${i.reason ? `: ${i.reason}` : ""}`)}">${i.index}</a>`).join("")}</td></tr>` })),
    ...report.damaged.map((d) => ({ n: d.generation, html: `<tr class="damaged"><td class="num">${d.generation}</td><td>${badge("damaged")}</td><td class="reason">${escapeHtml(d.reason)}</td></tr>` })),
  ].sort((a, b) => a.n - b.n);
  return `<table class="generations" id="generations"><thead><tr><th>gen</th><th>kept</th><th>individuals: <span class="chip kept">kept</span> <span class="chip culled">culled</span> <span class="chip dead">dead</span></th></tr></thead>
    <tbody>${rows.map((r) => r.html).join("\n")}</tbody></table>`;
}

function page(title: string, root: string, header: string, main: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="${root}assets/style.css"></head>
<body><header>${header}</header>
<main>${main}</main>
<script src="${root}assets/page.js"></script></body></html>
`;
}

function settingsLine(report: PopulationReport): string {
  const r = report.record;
  const operators = r.operators ? `, operators number ${r.operators.number}, token ${r.operators.token}, line ${r.operators.line}` : "";
  return `K = ${r.population} kept, C = ${r.children} children each, temperature ${r.temperature}, mutation rate ${r.mutationRate}${operators}, seed ${r.seed}, ${r.backend} backend, ` +
    `time limit ${formatSeconds(r.timeout)}, ancestor ${r.ancestorHash.slice(0, 12)}`;
}

/** index.html of a population. */
function populationPage(report: PopulationReport): string {
  const rows = report.generations.map((g) => g.statistics);
  const last = report.generations.at(-1);
  const individuals = report.generations.reduce((n, g) => n + g.individuals.length, 0);
  const header = `<h1>neural-quine population</h1>
    <p class="dim">${plural(report.generations.length, "generation")}${report.damaged.length ? ` (and ${report.damaged.length} damaged)` : ""}, ${plural(individuals, "individual")}, ${plural(report.programs.size, "program")} run; ${escapeHtml(settingsLine(report))}</p>`;
  const main = rows.length === 0 ? `<p class="note">No generations in this store yet.</p>` : `
    <h2>Statistics per generation</h2>${statisticsCharts(rows)}
    <details class="table"><summary>as a table (what <code>neural-quine population</code> prints)</summary><pre>${escapeHtml(statisticsTable(rows))}</pre></details>
    <h2 id="tree">Phylogeny</h2>${treeSvg(phylogeny(report.generations), last?.generation ?? 0)}
    <h2>Generations</h2>${generationsTable(report)}`;
  return page("neural-quine population", "", header, main);
}

const programOf = (report: PopulationReport, hash: string): ReportProgram | undefined => report.programs.get(hash);
const textOf = (program: ReportProgram | undefined): string | undefined => (program && "stored" in program ? program.stored.program : undefined);

/** How this individual's program came to be: a copy of the ancestor, or drawn from its parent's model. */
function origin(report: PopulationReport, individual: Individual): string {
  if (individual.parent === null) return `<p class="origin">One of the ${report.record.population} copies of the ancestor that make up generation 0.</p>`;
  const parent = `<a href="${escapeHtml(individual.parent)}.html">${escapeHtml(individual.parent)}</a>`;
  const { temperature, mutationRate } = report.record;
  const how = temperature === 0 ? "decoding its parent's model greedily (temperature 0)" : `<strong>sampling</strong> its parent's model at temperature ${temperature}`;
  const mutations = `then ${plural(individual.mutations, "point mutation")} at rate ${mutationRate} per character`;
  const replay = temperature === 0 ? "" : ` The page does not replay the sampling: a browser's float arithmetic may not give the same draws from the same seed.
    Decode live decodes this individual's <em>own</em> model greedily, as the parent judged it.`;
  const operators = report.record.operators;
  const withOperators = operators && Object.values(operators).some((r) => r > 0)
    ? `, then the mutation operators (number ${operators.number}, token ${operators.token}, line ${operators.line} per site)` : "";
  const changed = `<p class="changed-by"><strong>Changed by:</strong> ${individual.changedBy.length ? escapeHtml(individual.changedBy.join(", ")) : "nothing (an exact copy)"}</p>`;
  const edits = individual.edits.length
    ? `<table class="metrics edits"><tr><th>operator</th><th>line</th><th>edit</th></tr>${individual.edits.map((edit) =>
      `<tr><td>${escapeHtml(edit.operator)}</td><td class="num">${edit.line}</td><td><code>${escapeHtml(edit.description)}</code></td></tr>`).join("")}</table>` : "";
  return `<p class="origin">Copied from ${parent} by ${how}, with the seed <code>${individual.seed}</code>, ${mutations}${withOperators}.${replay}</p>${changed}${edits}`;
}

function facts(individual: Individual, program: ReportProgram | undefined): string {
  const run = program && "stored" in program ? program.stored.run : undefined;
  const rows: [string, string][] = [
    ["program", `${individual.bytes} bytes, sha256 ${individual.programHash.slice(0, 16)}…`],
    ["distance", `${individual.distanceToParent ?? "–"} to its parent, ${individual.distanceToAncestor} to the ancestor${individual.exactCopy ? " (an exact copy)" : ""}`],
    ["run", run ? `${run.status}, ${formatSeconds(run.seconds)} on ${run.backend}${individual.cached ? " (cached: its program had run before)" : ""}` : "–"],
  ];
  if (run?.status === "alive") {
    rows.push(["copies itself", `greedy decoding at distance ${run.distanceToSelf} from its program, smallest margin ${fmt(run.minMargin)}`]);
    rows.push(["training work", `${formatWork(run.work)} through the kernel, counted by the sandbox`]);
    rows.push(["model", `${fmt(run.parameters)} parameters; ${run.epochs === null ? "epochs not said" : `${run.epochs} epochs (the program's word)`}`]);
  }
  return `<table class="metrics facts">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>`;
}

const LOG_SHOWN = 16 * 1024; // characters of a program's log shown on its page: its end

/** The program's log.txt: its own words, shown as text and never trusted. */
function logBlock(program: ReportProgram | undefined): string {
  const log = program && "stored" in program ? program.stored.log : null;
  if (!log) return "";
  const shown = log.length > LOG_SHOWN ? `…${log.slice(-LOG_SHOWN)}` : log;
  return `<details class="program log"><summary>log.txt: what the program wrote <span class="dim">(its own words, unchecked; ${log.split("\n").length - 1} lines)</span></summary><pre>${escapeHtml(shown)}</pre></details>`;
}

/** individuals/<id>.html. */
function individualPage(report: PopulationReport, individual: Individual, parent: Individual | undefined, children: Individual[]): string {
  const program = programOf(report, individual.programHash);
  const text = textOf(program);
  const files = `../programs/${individual.programHash}`;
  const hasModel = program !== undefined && "stored" in program && program.model;
  const emitted = program && "stored" in program ? program.stored.emitted ?? undefined : undefined;
  const data = hasModel ? ` data-model="${files}/model.json" data-program="${files}/program.js"${emitted !== undefined ? ` data-emitted="${files}/emitted.js"` : ""}` : "";
  const live = hasModel
    ? `<div class="live"><button class="decode" type="button">Decode live</button> <span class="verdict" data-verdict="">loads this individual's model with TensorFlow.js in this page and decodes it greedily</span><pre class="live-output" hidden></pre></div>`
    : "";
  const reason = program && "damage" in program ? `<p class="reason damaged"><strong>Damaged:</strong> programs/${escapeHtml(individual.programHash)}: ${escapeHtml(program.damage)}.</p>`
    : individual.reason ? `<p class="reason dead"><strong>Died:</strong> ${escapeHtml(individual.reason)}</p>` : "";
  const parentText = parent ? textOf(programOf(report, parent.programHash)) : undefined;
  const diffs = parent
    ? diffBlock(`its program against its parent's (${parent.id})`, `${parent.id}/program.js`, parentText, `${individual.id}/program.js`, text)
    : "";
  const decoded = emitted !== undefined && emitted !== text ? diffBlock("its model's greedy decoding against its program", "program.js", text, "greedy decoding", emitted) : "";
  const offspring = children.length
    ? `<p class="children"><strong>Children:</strong> ${children.map((c) => `<a class="chip ${c.status}" href="${escapeHtml(c.id)}.html" title="${escapeHtml(`${c.id}: ${c.status}`)}">${escapeHtml(c.id)}</a>`).join("")}</p>` : "";
  const header = `<h1>Individual ${escapeHtml(individual.id)} ${badge(individual.status)}</h1>
    <p class="dim"><a href="../index.html">the population</a> · generation ${individual.generation}${parent ? ` · parent <a href="${escapeHtml(parent.id)}.html">${escapeHtml(parent.id)}</a>` : ""}</p>`;
  const main = `<section class="individual ${individual.status === "kept" ? "exact" : individual.status}" id="individual"${data}>
    ${reason}${origin(report, individual)}${facts(individual, program)}${live}${offspring}
    ${diffs}${decoded}
    ${programBlock("program.js: the program that ran", text, false)}${logBlock(program)}
  </section>`;
  return page(`neural-quine individual ${individual.id}`, "../", header, main);
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
