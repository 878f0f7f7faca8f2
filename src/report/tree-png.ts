// The phylogeny as a PNG (`neural-quine population tree --png FILE`), drawn as the report's SVG tree
// is: a row per genotype ever kept, from its birth to the last generation it was kept in, joined to
// the genotype it came from; living branches green, dead branches grey and crossed out at their end.
import { flatten, phylogeny, type Genotype } from "../evolution/phylogeny";
import { readPopulation, readRunRecord, type Generation } from "../evolution/population-store";
import { ranges } from "../format";
import { Canvas, CHAR_WIDTH, INK, TEXT_HEIGHT, type RGB } from "../plot/canvas";

const LIVING: RGB = [26, 127, 55];
const DEAD_BRANCH: RGB = [160, 166, 172];
const CROSS: RGB = [207, 34, 46];
const GUIDE: RGB = [225, 228, 232];
const ROW = TEXT_HEIGHT + 10;
const MARGIN = 16;

/** The label of a genotype's row: its hash, size, when it was kept, its dead offspring. */
const label = (g: Genotype): string =>
  `${g.hash.slice(0, 8)} ${g.bytes} B kept ${ranges(g.keptIn)}, ${g.deadChildren} dead offspring${g.living ? ", living" : ""}${g.changedBy.length ? `, by ${g.changedBy.join("+")}` : ""}`;

function treePng(roots: Genotype[], lastGeneration: number, title: string): Buffer {
  const rows = flatten(roots);
  const step = Math.max(4, Math.min(40, 640 / Math.max(1, lastGeneration)));
  const top = MARGIN + 2 * ROW + 4;
  const x = (generation: number): number => MARGIN + 8 + generation * step;
  const rowOf = new Map(rows.map((g, i) => [g.hash, i]));
  const y = (hash: string): number => top + (rowOf.get(hash) ?? 0) * ROW + ROW / 2;
  const labelX = x(lastGeneration) + 24;
  const width = Math.max(labelX + Math.max(0, ...rows.map((g) => Canvas.textWidth(label(g)))) + MARGIN, Canvas.textWidth(title) + 2 * MARGIN);
  const base = top + rows.length * ROW + 4; // the generation axis
  const height = base + 8 + 2 * ROW + 4;
  const canvas = new Canvas(width, height);
  canvas.text(title, MARGIN, MARGIN);
  canvas.rect(MARGIN, MARGIN + ROW, 24, 4, LIVING);
  canvas.text("living branch", MARGIN + 32, MARGIN + ROW - 5);
  const key2 = MARGIN + 32 + Canvas.textWidth("living branch") + 30;
  canvas.rect(key2, MARGIN + ROW, 24, 4, DEAD_BRANCH);
  canvas.text("dead branch (x: last kept)", key2 + 32, MARGIN + ROW - 5);

  for (const g of rows) {
    const colour = g.livingBranch ? LIVING : DEAD_BRANCH;
    const yy = y(g.hash), start = x(g.born), end = x(Math.max(g.born, ...g.keptIn));
    if (g.parent !== null && rowOf.has(g.parent)) {
      const from = x(g.born - 1);
      canvas.line(from, y(g.parent), from, yy, colour, 2);
      canvas.line(from, yy, start, yy, colour, 2);
    }
    canvas.line(start, yy, end, yy, colour, 4);
    canvas.rect(start - 3, yy - 3, 7, 7, colour);
    if (g.living) canvas.rect(end - 4, yy - 4, 9, 9, LIVING);
    else {
      canvas.line(end - 5, yy - 5, end + 5, yy + 5, CROSS, 2);
      canvas.line(end - 5, yy + 5, end + 5, yy - 5, CROSS, 2);
    }
    canvas.line(end + 10, yy, labelX - 8, yy, GUIDE);
    canvas.text(label(g), labelX, yy - TEXT_HEIGHT / 2, g.livingBranch ? INK : [110, 118, 126]);
  }
  const every = Math.max(1, Math.ceil((5 * CHAR_WIDTH) / step));
  for (let g = 0; g <= lastGeneration; g += every) {
    const text = String(g);
    canvas.line(x(g), base, x(g), base + 6, INK);
    canvas.text(text, x(g) - Canvas.textWidth(text) / 2, base + 8);
  }
  canvas.text("generation", MARGIN, base + 8 + ROW);
  return canvas.encode();
}

/** The phylogeny of the population store in `dir` as a PNG. */
export function populationTreePng(dir: string): Buffer {
  const generations = readPopulation(dir).filter((g): g is Generation => typeof g !== "string");
  const record = readRunRecord(dir);
  const last = generations.at(-1)?.generation ?? 0;
  const settings = record ? `, K=${record.population} C=${record.children} T=${record.temperature} M=${record.mutationRate} seed ${record.seed}` : "";
  return treePng(phylogeny(generations), last, `Phylogeny by genotype, generations 0-${last}${settings}`);
}
