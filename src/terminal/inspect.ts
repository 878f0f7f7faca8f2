// Looking at a store: finding generations by number, the generations table, show, coloured diffs,
// the emit check, and the progress lines bootstrap prints while it works. What a program, its model
// or its log said (a reason, a backend's name, a text, a log line) is printed through printable:
// a terminal sees no control character from them, only its escape.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { formatSeconds, formatWork, plural, printable, printableLine, ranges, yesNo } from "../format";
import type { BootstrapEvent, BootstrapResult } from "../ouroboros/bootstrap";
import { unifiedDiff } from "../diff";
import { generationName, listGenerations } from "../files/generations";
import { lineageEntries, readGeneration, type LineageEntry, type StoredGeneration } from "../ouroboros/store";
import { claimText, decodeText, wallsText } from "../sandbox";

// ---- finding generations ------------------------------------------------------------------------

/** "3", "0003" or "gen-0003" → 3; anything else → null. */
function parseGeneration(value: string): number | null {
  const match = /^(?:gen-)?(\d+)$/.exec(value.trim());
  return match ? Number(match[1]) : null;
}

/** Checks that `dir` is a store (an existing directory); throws one clear sentence otherwise. */
export function requireStore(dir: string): void {
  if (!existsSync(dir)) throw new Error(`No generations in ${dir}: the directory does not exist (neural-quine bootstrap creates it).`);
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory.`);
}

/** The generation named by `value` in `dir`; an unknown one throws one clear sentence. */
export function findGeneration(dir: string, value: string): StoredGeneration {
  requireStore(dir);
  const generation = parseGeneration(value);
  if (generation === null) throw new Error(`"${value}" is not a generation number (expected e.g. 3 or gen-0003).`);
  const present = listGenerations(dir);
  if (!present.includes(generation)) {
    const holds = present.length === 0 ? "it holds no generations yet" : `it holds ${present.length === 1 ? "generation" : "generations"} ${ranges(present)}`;
    throw new Error(`No generation ${generation} in ${dir}: ${holds}.`);
  }
  return readGeneration(dir, generation);
}

/** A recorded reason inside a sentence: without its closing full stop. */
function clause(reason: string | null | undefined): string {
  return (reason ?? "no reason recorded").replace(/\.$/, "");
}

/** Throws if a generation is damaged; names the file at fault. */
export function requireIntact(stored: StoredGeneration): void {
  if (stored.damage) throw new Error(`${generationName(stored.generation)} is damaged: ${stored.damage}.`);
}

// ---- the generations table --------------------------------------------------------------------

/** generations --json: lineage.json's rows, plus what is wrong with a damaged one. */
export function generationsRecords(lineage: StoredGeneration[]): (LineageEntry & { damage: string | null })[] {
  return lineageEntries(lineage).map((entry, i) => ({ ...entry, damage: lineage[i].damage }));
}

/** The table `neural-quine generations` prints. */
export function generationsTable(lineage: StoredGeneration[]): string {
  const header = ["gen", "status", "bytes", "epochs", "time", "text fixpoint", "weights fixpoint", "changed lines"];
  const rows = generationsRecords(lineage).map((e) => e.damage
    ? [String(e.generation), "damaged", "", "", "", "", "", "", printableLine(e.damage)]
    : [String(e.generation), e.status, String(e.bytes), String(e.epochs), formatSeconds(e.wallSeconds ?? 0), yesNo(e.textFixpoint), yesNo(e.weightsFixpoint), String(e.changedLines)]);
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c < widths.length ? (c >= 2 && c !== 5 && c !== 6 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])) : cell)).join("  ").trimEnd();
  const notes = lineage.filter((g) => g.metrics?.status === "dead" && !g.damage).map((g) => `${generationName(g.generation)} died: ${printableLine(g.metrics?.reason ?? "")}`);
  return [line(header), ...rows.map(line), ...(notes.length ? ["", ...notes] : [])].join("\n") + "\n";
}

/** What `neural-quine show` prints: the metrics (history summarised), then the program. */
export function showGeneration(stored: StoredGeneration): string {
  requireIntact(stored);
  const m = stored.metrics!;
  const fields: [string, string][] = [
    ["status", m.reason ? `${m.status}: ${m.reason}` : m.status],
    ["parent", m.parent === null ? "none (generation 0)" : generationName(m.parent)],
    ["program", `${m.bytes} bytes, sha256 ${m.programHash}`],
    ["emitted", m.emittedHash ? `sha256 ${m.emittedHash}${m.textFixpoint ? " (equal to the program)" : `, ${m.changedLines} lines changed`}` : "nothing"],
    ["weights", m.weightsHash ? `sha256 ${m.weightsHash}` : "none"],
    ["parent's weights", m.parentWeightsHash ? `sha256 ${m.parentWeightsHash}` : "none"],
    ["text fixpoint", yesNo(m.textFixpoint)],
    ["weights fixpoint", m.weightsFixpoint !== null ? yesNo(m.weightsFixpoint) : m.weightsHash ? "– (no parent weights to compare with)" : "– (no weights)"],
    ["epochs", String(m.epochs)],
    ["time", `${formatSeconds(m.wallSeconds)} (${m.charsPerSecond} characters per second)`],
    ["backend", m.backend ?? "–"],
    ["kernel", m.kernel ? `${m.kernel.name} on ${plural(m.kernel.threads, "thread")}; ${formatWork(m.work?.multiplyAdds ?? null)} over ${m.work ? plural(m.work.chars, "character") : "– characters"}, counted by the sandbox` : "–"],
    ["seed", m.seed === null ? "–" : String(m.seed)],
    ["decoded by the parent", decodeText(m.decode)],
    ["claim", claimText(m.claim)],
    ["walls", wallsText(m.walls)],
  ];
  const width = Math.max(...fields.map(([name]) => name.length));
  const head = fields.map(([name, value]) => `${name.padEnd(width)}  ${printableLine(value)}`).join("\n");
  const rule = `---- ${generationName(m.generation)}/program.js ${"-".repeat(40)}`;
  const program = stored.program ?? "";
  return `${generationName(m.generation)} (${printableLine(stored.path)})\n${head}\n\n${rule}\n${printable(program)}${program.endsWith("\n") ? "" : "\n"}`;
}

// ---- diffs --------------------------------------------------------------------------------------

/** ANSI colours for a unified diff: removed red, added green, hunk headers cyan, file headers bold. */
export function colorizeDiff(patch: string): string {
  return patch.split("\n").map((line) => {
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("===") || line.startsWith("Index:")) return `\x1b[1m${line}\x1b[0m`;
    if (line.startsWith("+")) return `\x1b[32m${line}\x1b[0m`;
    if (line.startsWith("-")) return `\x1b[31m${line}\x1b[0m`;
    if (line.startsWith("@@")) return `\x1b[36m${line}\x1b[0m`;
    return line;
  }).join("\n");
}

/** The text of a generation that a diff needs; a dead or damaged generation throws one clear sentence. */
function textOf(stored: StoredGeneration, which: "program" | "emitted"): string {
  requireIntact(stored);
  const text = stored[which];
  if (text === null) throw new Error(`${generationName(stored.generation)} emitted nothing: it died (${clause(stored.metrics?.reason)}).`);
  return text;
}

/** diff <gen>: what it emitted against its program. diff <gen> <other>: the two programs. Printable: the texts came from models. */
export function generationDiff(stored: StoredGeneration, other?: StoredGeneration): string {
  const a = generationName(stored.generation);
  if (!other) return printable(unifiedDiff(textOf(stored, "program"), textOf(stored, "emitted"), `${a}/program.js`, `${a}/emitted.js`));
  const b = generationName(other.generation);
  return printable(unifiedDiff(textOf(stored, "program"), textOf(other, "program"), `${a}/program.js`, `${b}/program.js`));
}

/** diff <gen> --original: the bundle against the generation's program. */
export function originalDiff(stored: StoredGeneration, bundlePath: string): string {
  if (!existsSync(bundlePath)) throw new Error(`${bundlePath} is missing: run npm run build.`);
  return printable(unifiedDiff(readFileSync(bundlePath, "utf8"), textOf(stored, "program"), "quine/quine.js", `${generationName(stored.generation)}/program.js`));
}

// ---- emit -----------------------------------------------------------------------------------------

/** What `emit` decodes: a model directory, and for a generation its stored emitted text. */
interface EmitTarget {
  modelDir: string;
  label: string;
  stored: StoredGeneration | null;
}

/** emit's argument: a generation folder, a generation number in `dir`, or a plain model directory. */
export function findEmitTarget(value: string, dir: string): EmitTarget {
  if (existsSync(value) && statSync(value).isDirectory()) {
    if (existsSync(join(value, "metrics.json")) && existsSync(join(value, "program.js"))) {
      const generation = parseGeneration(value.replace(/[/\\]+$/, "").split(/[/\\]/).pop() ?? "");
      const parentDir = join(value, "..");
      if (generation !== null) return generationTarget(readGeneration(parentDir, generation));
    }
    return { modelDir: value, label: value, stored: null };
  }
  if (parseGeneration(value) === null) throw new Error(`No generation or model directory "${value}": give a generation number, a gen-XXXX folder or a model directory.`);
  return generationTarget(findGeneration(dir, value));
}

function generationTarget(stored: StoredGeneration): EmitTarget {
  const name = generationName(stored.generation);
  if (stored.metrics?.status === "dead") throw new Error(`${name} has no model to decode: it died (${clause(stored.metrics.reason)}).`);
  return { modelDir: join(stored.path, "model"), label: name, stored };
}

/** emit --check: does decoding again give the stored emitted text? Returns a one-line verdict. */
export function emitCheck(target: EmitTarget, decode: (modelDir: string) => string): { ok: boolean; message: string } {
  if (!target.stored) throw new Error(`--check compares with a generation's stored emitted text, and ${target.label} is not a generation folder.`);
  const stored = textOf(target.stored, "emitted");
  const decoded = decode(target.modelDir);
  if (decoded === stored) return { ok: true, message: `${target.label}: the saved weights decode to the stored emitted text (${Buffer.byteLength(decoded)} bytes), byte for byte.` };
  let at = 0;
  while (at < decoded.length && decoded[at] === stored[at]) at++;
  const line = stored.slice(0, at).split("\n").length;
  return { ok: false, message: `${target.label}: decoding the saved weights gives a different text than the stored emitted.js (first difference on line ${line}, ${Buffer.byteLength(decoded)} bytes against ${Buffer.byteLength(stored)}).` };
}

// ---- bootstrap's progress -----------------------------------------------------------------------

/** A program's log line made safe to print: no control characters, not too long. */
function clean(line: string): string {
  const plain = printableLine(line);
  return plain.length > 160 ? `${plain.slice(0, 157)}...` : plain;
}

/** One line about a finished generation. */
function describeDone(event: Extract<BootstrapEvent, { type: "done" }>): string {
  const m = event.metrics;
  const name = generationName(event.generation);
  if (m.status === "dead") return `${name} dead after ${formatSeconds(m.wallSeconds)}: ${printableLine(m.reason ?? "")}`;
  const weights = m.weightsFixpoint === null ? "" : `, weights fixpoint ${yesNo(m.weightsFixpoint)}`;
  const changed = m.status === "mutated" ? ` (${m.changedLines} lines changed)` : "";
  const claim = m.claim && !m.claim.matches ? "; the program's claimed text DIFFERS from what its model decodes to" : "";
  return `${name} ${m.status}${changed} in ${formatSeconds(m.wallSeconds)}: ${m.epochs} epochs, ${m.bytes} bytes, ${m.charsPerSecond} chars/s on ${printableLine(m.backend ?? "–")}; text fixpoint ${yesNo(m.textFixpoint)}${weights}${claim}`;
}

/**
 * Prints bootstrap's progress to `stream`: on a terminal one status line rewritten in place
 * (generation, epoch, exact positions, elapsed); in a log file a line every `everySeconds`.
 */
export function progressPrinter(stream: NodeJS.WriteStream, everySeconds = 10): (event: BootstrapEvent) => void {
  const tty = stream.isTTY === true;
  let lastPrinted = -Infinity;
  let statusShown = false;
  const clearStatus = (): void => {
    if (statusShown) stream.write("\r\x1b[K");
    statusShown = false;
  };
  return (event) => {
    if (event.type === "note") {
      clearStatus();
      stream.write(`note: ${printableLine(event.message)}\n`);
    } else if (event.type === "start") {
      clearStatus();
      lastPrinted = -Infinity;
      stream.write(`${generationName(event.generation)}: running its program (${event.bytes} bytes) in the sandbox\n`);
    } else if (event.type === "done") {
      clearStatus();
      stream.write(`${describeDone(event)}\n`);
    } else {
      const status = event.type === "log"
        ? `${generationName(event.generation)}  ${clean(event.line)}  ${formatSeconds(event.seconds)}`
        : `${generationName(event.generation)}  epoch ${event.epoch.epoch}  exact ${event.epoch.exact}/${event.positions}  ${formatSeconds(event.seconds)}`;
      if (tty) {
        stream.write(`\r\x1b[K${status.slice(0, (stream.columns || 80) - 1)}`);
        statusShown = true;
      } else if (event.seconds - lastPrinted >= everySeconds) {
        lastPrinted = event.seconds;
        stream.write(`${status}\n`);
      }
    }
  };
}

/** The closing lines of a bootstrap run. */
export function bootstrapSummary(result: BootstrapResult, dir: string, seconds: number): string {
  const lines = [`${result.ran.length === 0 ? "no new generations" : `${plural(result.ran.length, "generation")} run`} in ${formatSeconds(seconds)}; ${dir} holds ${result.lineage.length}:`, "", generationsTable(result.lineage).trimEnd()];
  if (result.stopped) lines.push("", `The lineage cannot go on: ${printableLine(result.stopped)}`);
  return `${lines.join("\n")}\n`;
}
