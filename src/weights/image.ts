// The picture of a weight quine: three heatmaps side by side — the weights, the network's prediction
// of them (one shared colour scale) and the error (a diverging scale centred on 0) — each with a
// colour bar, under a title, on the canvas of src/plot/.
import { Canvas, CHAR_WIDTH, TEXT_HEIGHT, diverging, formatNumber, viridis, type RGB } from "../plot/canvas";

const TARGET_PANEL_PX = 288; // heatmaps are scaled by a whole number of pixels per cell up to about this size
const MARGIN = 14;
const BAR_WIDTH = 14;
const LABEL_CHARS = 9;
const EMPTY: RGB = [221, 221, 221]; // cells past the last parameter in a near-square layout

export interface QuineImage {
  /** Title lines drawn above the panels. */
  title: string[];
  weights: ArrayLike<number>;
  predicted: ArrayLike<number>;
  /** Rows × columns; the flattened values fill it row by row. */
  layout: [number, number];
}

/** Where everything goes, for a given layout and title. */
export function imageGeometry(layout: [number, number], title: string[]) {
  const [rows, cols] = layout;
  const cell = Math.max(1, Math.floor(TARGET_PANEL_PX / Math.max(rows, cols)));
  const panelW = cols * cell;
  const panelH = rows * cell;
  const charW = CHAR_WIDTH;
  const lineH = TEXT_HEIGHT + 8;
  const blockW = panelW + 8 + BAR_WIDTH + 6 + LABEL_CHARS * charW + 18;
  const top = MARGIN + title.length * lineH + 8 + lineH; // below the title lines and the panel titles
  const width = Math.max(MARGIN * 2 + 3 * blockW, MARGIN * 2 + Math.max(...title.map((t) => t.length)) * charW);
  const height = top + Math.max(panelH, 3 * lineH) + MARGIN;
  return { rows, cols, cell, panelW, panelH, lineH, blockW, top, width, height };
}

/** Renders the three panels and returns the PNG file's bytes. */
export function renderQuineImage({ title, weights, predicted, layout }: QuineImage): Buffer {
  const { rows, cols, cell, panelW, panelH, lineH, blockW, top, width, height } = imageGeometry(layout, title);
  const canvas = new Canvas(width, height);

  title.forEach((line, i) => canvas.text(line, MARGIN, MARGIN + i * lineH));

  let lo = Infinity, hi = -Infinity, errMax = 0;
  const error = Array.from(weights, (w, i) => predicted[i] - w);
  for (let i = 0; i < weights.length; i++) {
    lo = Math.min(lo, weights[i], predicted[i]);
    hi = Math.max(hi, weights[i], predicted[i]);
    errMax = Math.max(errMax, Math.abs(error[i]));
  }
  if (!(hi > lo)) hi = lo + 1; // a constant picture still needs a scale
  if (!(errMax > 0)) errMax = 1;
  const panels: { name: string; values: ArrayLike<number>; lo: number; hi: number; map: (t: number) => RGB }[] = [
    { name: "WEIGHTS", values: weights, lo, hi, map: viridis },
    { name: "PREDICTED", values: predicted, lo, hi, map: viridis },
    { name: "ERROR = PRED - W", values: error, lo: -errMax, hi: errMax, map: diverging },
  ];
  panels.forEach((panel, p) => {
    const x0 = MARGIN + p * blockW;
    canvas.text(panel.name, x0, top - lineH);
    const scale = (v: number) => (v - panel.lo) / (panel.hi - panel.lo);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const colour = i < panel.values.length ? panel.map(scale(panel.values[i])) : EMPTY;
        canvas.rect(x0 + c * cell, top + r * cell, cell, cell, colour);
      }
    // colour bar: top = highest value, with labels at the top, middle and bottom
    const barX = x0 + panelW + 8;
    for (let y = 0; y < panelH; y++) canvas.rect(barX, top + y, BAR_WIDTH, 1, panel.map(1 - y / Math.max(1, panelH - 1)));
    const labelX = barX + BAR_WIDTH + 6;
    const textH = TEXT_HEIGHT;
    canvas.text(formatNumber(panel.hi), labelX, top);
    canvas.text(formatNumber((panel.lo + panel.hi) / 2), labelX, top + Math.round((panelH - textH) / 2));
    canvas.text(formatNumber(panel.lo), labelX, top + panelH - textH);
  });
  return canvas.encode();
}
