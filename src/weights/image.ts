// The picture of a weight quine: three heatmaps side by side — the weights, the network's prediction
// of them (one shared colour scale) and the error (a diverging scale centred on 0) — each with a
// colour bar, under a title. Drawn pixel by pixel into a PNG with pngjs; text uses a built-in 5×7
// bitmap font, so nothing here needs a system library.
import { PNG } from "pngjs";

const TARGET_PANEL_PX = 288; // heatmaps are scaled by a whole number of pixels per cell up to about this size
const MARGIN = 14;
const TEXT_SCALE = 2;
const BAR_WIDTH = 14;
const LABEL_CHARS = 9;
const BACKGROUND: RGB = [255, 255, 255];
const INK: RGB = [34, 34, 34];
const EMPTY: RGB = [221, 221, 221]; // cells past the last parameter in a near-square layout

type RGB = [number, number, number];

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
  const charW = 6 * TEXT_SCALE;
  const lineH = 8 * TEXT_SCALE + 6;
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
    const textH = 7 * TEXT_SCALE;
    canvas.text(formatNumber(panel.hi), labelX, top);
    canvas.text(formatNumber((panel.lo + panel.hi) / 2), labelX, top + Math.round((panelH - textH) / 2));
    canvas.text(formatNumber(panel.lo), labelX, top + panelH - textH);
  });
  return canvas.encode();
}

/** A number in at most about nine characters: 3 significant digits, exponent form when small or large. */
export function formatNumber(x: number): string {
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-2 && a < 1e4) return String(Number(x.toPrecision(3)));
  return x.toExponential(2).replace("e+", "e");
}

// ---- colour maps ---------------------------------------------------------------------------------

function ramp(stops: RGB[]): (t: number) => RGB {
  return (t: number) => {
    const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(x));
    const f = x - i;
    return [0, 1, 2].map((k) => Math.round(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]))) as RGB;
  };
}

/** viridis, approximated by 9 stops. */
const viridis = ramp([
  [68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [253, 231, 37],
]);

/** Blue–white–red, for signed errors. */
const diverging = ramp([[5, 48, 97], [67, 147, 195], [247, 247, 247], [214, 96, 77], [103, 0, 31]]);

// ---- a tiny raster canvas with a 5×7 font --------------------------------------------------------

class Canvas {
  private readonly image: PNG;

  constructor(readonly width: number, readonly height: number) {
    this.image = new PNG({ width, height });
    this.rect(0, 0, width, height, BACKGROUND);
  }

  rect(x: number, y: number, w: number, h: number, [r, g, b]: RGB): void {
    for (let yy = Math.max(0, y); yy < Math.min(this.height, y + h); yy++)
      for (let xx = Math.max(0, x); xx < Math.min(this.width, x + w); xx++) {
        const i = (yy * this.width + xx) * 4;
        this.image.data[i] = r;
        this.image.data[i + 1] = g;
        this.image.data[i + 2] = b;
        this.image.data[i + 3] = 255;
      }
  }

  /** Draws text with its top-left corner at (x, y). Letters are drawn upper-case except "e" and "x". */
  text(s: string, x: number, y: number): void {
    for (const ch of s) {
      const glyph = FONT[ch] ?? FONT[ch.toUpperCase()] ?? FONT["?"];
      for (let row = 0; row < 7; row++)
        for (let col = 0; col < 5; col++)
          if (glyph[row] & (16 >> col)) this.rect(x + col * TEXT_SCALE, y + row * TEXT_SCALE, TEXT_SCALE, TEXT_SCALE, INK);
      x += 6 * TEXT_SCALE;
    }
  }

  encode(): Buffer {
    return PNG.sync.write(this.image);
  }
}

// Each glyph: 7 rows, 5 bits per row, most significant bit on the left.
const FONT: Record<string, number[]> = {
  " ": [0, 0, 0, 0, 0, 0, 0],
  "0": [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], "1": [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  "2": [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], "3": [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  "4": [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], "5": [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  "6": [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], "7": [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  "8": [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], "9": [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  A: [0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11], B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e], D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f], F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f], H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e], J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11], N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d], R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e], T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a], X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04], Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  e: [0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e], x: [0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11],
  ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c], ",": [0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08],
  "-": [0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00], "+": [0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00],
  ":": [0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00], "=": [0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00],
  "(": [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02], ")": [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
  "[": [0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e], "]": [0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e],
  "/": [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00], "%": [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
  _: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f], "?": [0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
};
