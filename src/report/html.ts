// The report's HTML, rendered at report time: the overview table, one section per generation
// (program with syntax highlighting, diffs rendered by diff2html, training curve, metrics, the
// decode-live button) and the weight-quine runs. Every value from the store is escaped.
import { html as diffToHtml } from "diff2html";
import hljs from "highlight.js/lib/core";
import javascript from "highlight.js/lib/languages/javascript";
import { boundedPatch, diffTooLarge } from "../diff";
import { formatSeconds, plural, yesNo as yesNoOr } from "../format";
import type { Epoch } from "../runtime";
import { claimText, decodeText, wallsText } from "../sandbox"; // the same words as the terminal's
import type { Generation, Lineage, WeightRun } from "./collect";

hljs.registerLanguage("javascript", javascript);

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const yesNo = (value: unknown): string => yesNoOr(value, "—");

export function fmt(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 0.01 && Math.abs(value) < 1e5 ? String(Number(value.toPrecision(4))) : value.toExponential(3);
  }
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return yesNo(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return `[${value.map(fmt).join(", ")}]`;
  return JSON.stringify(value);
}

function seconds(value: unknown): string {
  return typeof value === "number" ? formatSeconds(value) : "—";
}

export const badge = (status: string): string => `<span class="badge ${escapeHtml(status)}">${escapeHtml(status)}</span>`;

/** The overview table: one row per generation. */
function overview(generations: Generation[]): string {
  const rows = generations.map((g) => {
    const m = g.metrics;
    return `<tr class="${g.status}">
      <td><a href="#${g.name}">${g.generation}</a></td><td>${badge(g.status)}</td>
      <td class="num">${fmt(m.bytes)}</td><td class="num">${fmt(m.epochs)}</td><td class="num">${seconds(m.wallSeconds)}</td>
      <td>${yesNo(m.textFixpoint)}</td><td>${yesNo(m.weightsFixpoint)}</td><td class="num">${fmt(m.changedLines)}</td>
      <td class="reason">${escapeHtml(g.reason ?? (g.claim && !g.claim.matches ? "its claimed text differs from what its model decodes to" : ""))}</td></tr>`;
  });
  return `<table class="overview" id="overview">
    <thead><tr><th>gen</th><th>status</th><th>bytes</th><th>epochs</th><th>time</th><th>text fixpoint</th><th>weights fixpoint</th><th>changed lines</th><th>reason</th></tr></thead>
    <tbody>${rows.join("\n")}</tbody></table>`;
}

/** A diff of two texts as diff2html renders it, or a note when they are equal. */
export function diffBlock(title: string, oldName: string, oldText: string | undefined, newName: string, newText: string | undefined): string {
  let body: string;
  if (oldText === undefined || newText === undefined) body = `<p class="note">Not available: ${escapeHtml(oldText === undefined ? oldName : newName)} is missing.</p>`;
  else if (oldText === newText) body = `<p class="note identical">Identical: ${escapeHtml(newName)} equals ${escapeHtml(oldName)} byte for byte.</p>`;
  else {
    const patch = boundedPatch(oldText, newText, oldName, newName, ""); // null: too large to compute (src/diff.ts)
    body = patch === null ? `<p class="note">${escapeHtml(diffTooLarge(oldText, newText))}.</p>`
      : diffToHtml(patch, { drawFileList: false, outputFormat: "line-by-line", matching: "lines", diffStyle: "char" });
  }
  return `<details class="diff" open><summary>${escapeHtml(title)}</summary>${body}</details>`;
}

/** The training curve as an inline SVG: loss (log scale, left) and exact positions (right) per epoch. */
export function curve(history: Epoch[], positions: number): string {
  if (history.length === 0) return `<p class="note">No training history was recorded for this generation.</p>`;
  const W = 640, H = 220, left = 56, right = 56, top = 14, bottom = 34;
  const plotW = W - left - right, plotH = H - top - bottom;
  const lastEpoch = history[history.length - 1].epoch;
  const firstEpoch = history[0].epoch;
  const x = (epoch: number): number => left + (lastEpoch === firstEpoch ? plotW : ((epoch - firstEpoch) / (lastEpoch - firstEpoch)) * plotW);
  const losses = history.map((e) => Math.max(e.loss, 1e-6));
  const lo = Math.log10(Math.min(...losses)), hi = Math.log10(Math.max(...losses));
  const yLoss = (loss: number): number => top + (hi === lo ? plotH / 2 : ((hi - Math.log10(Math.max(loss, 1e-6))) / (hi - lo)) * plotH);
  const maxExact = Math.max(positions, ...history.map((e) => e.exact), 1);
  const yExact = (exact: number): number => top + plotH - (exact / maxExact) * plotH;
  const line = (points: string[], cls: string): string => `<polyline class="${cls}" points="${points.join(" ")}"/>`;
  const lossLine = line(history.map((e) => `${x(e.epoch).toFixed(1)},${yLoss(e.loss).toFixed(1)}`), "loss");
  const exactLine = line(history.map((e) => `${x(e.epoch).toFixed(1)},${yExact(e.exact).toFixed(1)}`), "exact");
  const text = (tx: number, ty: number, anchor: string, cls: string, s: string): string =>
    `<text x="${tx}" y="${ty}" text-anchor="${anchor}" class="${cls}">${escapeHtml(s)}</text>`;
  return `<figure class="curve"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="training curve">
    <rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" class="frame"/>
    ${lossLine}${exactLine}
    ${text(left - 6, top + 10, "end", "loss", fmt(10 ** hi))}${text(left - 6, top + plotH, "end", "loss", fmt(10 ** lo))}
    ${text(W - right + 6, top + 10, "start", "exact", String(maxExact))}${text(W - right + 6, top + plotH, "start", "exact", "0")}
    ${text(left, H - 12, "start", "axis", `epoch ${firstEpoch}`)}${text(W - right, H - 12, "end", "axis", `epoch ${lastEpoch}`)}
    ${text(left + plotW / 2, H - 12, "middle", "axis", "epochs")}
  </svg><figcaption><span class="key loss">loss (log scale, left)</span> <span class="key exact">exact positions of ${maxExact} (right)</span></figcaption></figure>`;
}

/** A metrics record as a table of two name/value pairs per row; long hashes shortened (in full on hover). */
function metricsTable(metrics: Record<string, unknown>): string {
  const cells = Object.entries(metrics).map(([key, value]) => {
    const text = fmt(value);
    const shown = /^[0-9a-f]{64}$/.test(text) ? `<span title="${text}">${text.slice(0, 12)}…</span>` : escapeHtml(text);
    return `<th>${escapeHtml(key)}</th><td>${shown}</td>`;
  });
  const rows = [];
  for (let i = 0; i < cells.length; i += 2) rows.push(`<tr>${cells[i]}${cells[i + 1] ?? ""}</tr>`);
  return rows.length ? `<table class="metrics">${rows.join("")}</table>` : `<p class="note">No metrics.</p>`;
}

export function programBlock(title: string, text: string | undefined, open: boolean): string {
  if (text === undefined) return "";
  const code = hljs.highlight(text, { language: "javascript", ignoreIllegals: true }).value;
  const lines = text.split("\n").length;
  return `<details class="program"${open ? " open" : ""}><summary>${escapeHtml(title)} <span class="dim">(${Buffer.byteLength(text)} bytes, ${lines} lines)</span></summary><pre><code class="hljs language-javascript">${code}</code></pre></details>`;
}

/** One generation's section. */
function generationSection(g: Generation, parent: Generation | undefined): string {
  const live = g.model
    ? `<div class="live"><button class="decode" type="button">Decode live</button> <span class="verdict" data-verdict="">loads ${escapeHtml(g.model.json)} with TensorFlow.js in this page and decodes it greedily</span><pre class="live-output" hidden></pre></div>`
    : "";
  const reason = g.reason ? `<p class="reason ${g.status}"><strong>${g.status === "dead" ? "Died" : g.status === "damaged" ? "Damaged" : "Note"}:</strong> ${escapeHtml(g.reason)}</p>` : "";
  const integrity = g.status === "damaged" ? "" : `<p class="integrity${g.claim && !g.claim.matches ? " claim-differs" : ""}">
    <strong>Decoded by the parent:</strong> ${escapeHtml(decodeText(g.decode))}. <strong>Claim:</strong> ${escapeHtml(claimText(g.claim))}.
    <br><strong>Sandbox walls:</strong> ${escapeHtml(wallsText(g.walls))}.</p>`;
  const parentName = parent ? `gen-${parent.generation} program.js` : "parent's program.js";
  const diffs = g.status === "dead" && g.emitted === undefined ? "" :
    diffBlock("emitted.js against its program.js", "program.js", g.program, "emitted.js", g.emitted) +
    (parent ? diffBlock(`emitted.js against its parent's program (gen ${parent.generation})`, parentName, parent.program, "emitted.js", g.emitted) : "");
  const positions = g.program === undefined ? 0 : [...g.program].length + 1;
  return `<section class="generation ${g.status}" id="${g.name}"${g.model ? ` data-model="${escapeHtml(g.model.json)}" data-program="${g.name}/program.js"` : ""}${g.model && g.emitted !== undefined ? ` data-emitted="${g.name}/emitted.js"` : ""}>
    <h2>Generation ${g.generation} ${badge(g.status)}${g.recordedStatus ? ` <span class="dim">recorded as ${escapeHtml(g.recordedStatus)}</span>` : ""}</h2>
    ${reason}${integrity}${live}
    <div class="columns"><div><h3>Training</h3>${curve(g.history, positions)}</div><div><h3>Metrics</h3>${metricsTable(g.metrics)}</div></div>
    ${diffs}
    ${programBlock("program.js: the program that ran", g.program, false)}
  </section>`;
}

function weightRunSection(run: WeightRun, image: string | undefined): string {
  const picture = (title: string) => image ? `<img src="${escapeHtml(image)}" alt="heatmaps of ${escapeHtml(title)}: weights, predictions, error">` : `<p class="note">No image.</p>`;
  if (run.damage !== undefined) {
    return `<section class="weight-run damaged"><h3>${badge("damaged")} <span class="dim">${escapeHtml(run.path)}</span></h3>
    <p class="reason damaged"><strong>Damaged:</strong> ${escapeHtml(run.damage)}</p>${picture(run.path)}
    <details><summary>metrics.json as stored</summary>${metricsTable(run.metrics)}</details></section>`;
  }
  const { settings, ...measured } = run.metrics;
  const title = `${settings.variant} ${settings.size}`;
  const headline = `<table class="metrics headline"><tr><th>verdict</th><td>${badge(measured.verdict)}</td></tr>
    <tr><th>rmse</th><td>${escapeHtml(fmt(measured.rmse))}</td></tr><tr><th>relative error</th><td>${escapeHtml(fmt(measured.relativeError))}</td></tr>
    <tr><th>weight range</th><td>${escapeHtml(fmt(measured.weightRange))}</td></tr><tr><th>epochs</th><td>${escapeHtml(fmt(settings.epochs))}</td></tr>
    <tr><th>time</th><td>${seconds(measured.wallSeconds)}</td></tr><tr><th>backend, seed</th><td>${escapeHtml(`${measured.backend}, ${settings.seed}`)}</td></tr></table>`;
  return `<section class="weight-run"><h3>${escapeHtml(title)} <span class="dim">${escapeHtml(run.path)}</span></h3>
    ${picture(title)}
    <div class="columns">${headline}<details><summary>all metrics</summary><h4>settings</h4>${metricsTable(settings)}<h4>measured</h4>${metricsTable(measured)}</details></div></section>`;
}

/** The whole index.html. `images` maps a weight run's path to its image in the site. */
export function renderPage(lineage: Lineage, images: Map<string, string>): string {
  const byNumber = new Map(lineage.generations.map((g) => [g.generation, g]));
  const counts = ["exact", "mutated", "dead", "damaged"].map((s) => [s, lineage.generations.filter((g) => g.status === s).length] as const)
    .filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ");
  const generations = lineage.generations.length
    ? `${overview(lineage.generations)}${lineage.generations.map((g) => generationSection(g, g.parent === null ? undefined : byNumber.get(g.parent))).join("\n")}`
    : `<p class="note">No generations in this folder.</p>`;
  const weights = lineage.weightRuns.length
    ? `<h2 id="weights">Weight quines</h2>${lineage.weightRuns.map((run) => weightRunSection(run, images.get(run.path))).join("\n")}`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>neural-quine lineage</title><link rel="icon" href="data:,"><link rel="stylesheet" href="assets/style.css"></head>
<body><header><h1>neural-quine lineage</h1>
<p class="dim">${plural(lineage.generations.length, "generation")}${counts ? ` (${counts})` : ""}${lineage.weightRuns.length ? `, ${plural(lineage.weightRuns.length, "weight-quine run")}` : ""}${lineage.updated ? `; updated ${escapeHtml(lineage.updated)}` : ""}</p></header>
<main><h2>Overview</h2>${generations}${weights}</main>
<script src="assets/page.js"></script></body></html>
`;
}
