// A line chart as a PNG: one or more series of (x, y) points on linear or log axes, with ticks, a
// legend and a title. Used for the curves the docs and the README show (weight quines, evolution's
// error threshold); the report draws its own SVG for the browser.
import { Canvas, CHAR_WIDTH, INK, TEXT_HEIGHT, formatNumber, type RGB } from "./canvas";

const WIDTH = 760;
const HEIGHT = 460;
const MARGIN = 16;
const TICK_LABEL_CHARS = 8;
const POINT_SIZE = 6;
const GRID: RGB = [228, 228, 228];
/** Series colours, in order (Tableau 10); a chart with more series reuses them. */
const PALETTE: RGB[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

interface Axis {
  label: string;
  /** Base-10 logarithmic scale; points with a value ≤ 0 on it are left out. */
  log?: boolean;
  /** Fixed ends of the axis; by default the data's range (with ticks rounded outwards). */
  min?: number;
  max?: number;
}

export interface Series {
  name: string;
  /** Drawn in the order given, joined by lines; a non-finite value breaks the line. */
  points: [number, number][];
}

interface LineChart {
  title: string;
  x: Axis;
  y: Axis;
  series: Series[];
}

/** Renders the chart and returns the PNG file's bytes. */
export function renderLineChart(chart: LineChart): Buffer {
  const canvas = new Canvas(WIDTH, HEIGHT);
  const lineH = TEXT_HEIGHT + 8;
  canvas.text(chart.title, MARGIN, MARGIN);

  // legend: one row of coloured squares and names under the title, wrapped when too wide
  let legendX = MARGIN, legendY = MARGIN + lineH;
  chart.series.forEach((series, i) => {
    const width = TEXT_HEIGHT + 6 + Canvas.textWidth(series.name) + 18;
    if (legendX + width > WIDTH - MARGIN && legendX > MARGIN) {
      legendX = MARGIN;
      legendY += lineH;
    }
    canvas.rect(legendX, legendY, TEXT_HEIGHT, TEXT_HEIGHT, colourOf(i));
    canvas.text(series.name, legendX + TEXT_HEIGHT + 6, legendY);
    legendX += width;
  });

  const plot = {
    left: MARGIN + TICK_LABEL_CHARS * CHAR_WIDTH + 8,
    right: WIDTH - MARGIN - CHAR_WIDTH * 2,
    top: legendY + lineH + lineH, // a line for the y axis's label above the plot
    bottom: HEIGHT - MARGIN - 2 * lineH,
  };
  const points = chart.series.flatMap((s) => s.points);
  const xScale = scaleOf(chart.x, points.map((p) => p[0]), plot.left, plot.right);
  const yScale = scaleOf(chart.y, points.map((p) => p[1]), plot.bottom, plot.top);

  for (const tick of xScale.ticks) {
    const x = xScale.at(tick);
    canvas.line(x, plot.top, x, plot.bottom, GRID);
    const label = formatNumber(tick);
    canvas.text(label, x - Canvas.textWidth(label) / 2, plot.bottom + 6);
  }
  for (const tick of yScale.ticks) {
    const y = yScale.at(tick);
    canvas.line(plot.left, y, plot.right, y, GRID);
    const label = formatNumber(tick);
    canvas.text(label, plot.left - 8 - Canvas.textWidth(label), y - TEXT_HEIGHT / 2);
  }
  canvas.line(plot.left, plot.top, plot.left, plot.bottom, INK, 2);
  canvas.line(plot.left, plot.bottom, plot.right, plot.bottom, INK, 2);
  canvas.text(chart.y.label, MARGIN, plot.top - lineH);
  canvas.text(chart.x.label, (plot.left + plot.right - Canvas.textWidth(chart.x.label)) / 2, plot.bottom + 6 + lineH);

  chart.series.forEach((series, i) => {
    const colour = colourOf(i);
    let previous: [number, number] | null = null;
    for (const [x, y] of series.points) {
      const px = xScale.at(x), py = yScale.at(y);
      if (!Number.isFinite(px) || !Number.isFinite(py)) {
        previous = null;
        continue;
      }
      if (previous) canvas.line(previous[0], previous[1], px, py, colour, 2);
      canvas.rect(px - POINT_SIZE / 2, py - POINT_SIZE / 2, POINT_SIZE, POINT_SIZE, colour);
      previous = [px, py];
    }
  });
  return canvas.encode();
}

function colourOf(i: number): RGB {
  return PALETTE[i % PALETTE.length];
}

/** Where a value falls on an axis in pixels (NaN for a value the axis cannot show), and its ticks. */
export function scaleOf(axis: Axis, values: number[], from: number, to: number): { at: (v: number) => number; ticks: number[] } {
  const shown = values.filter((v) => Number.isFinite(v) && (!axis.log || v > 0));
  const transform = axis.log ? Math.log10 : (v: number) => v;
  let lo = axis.min ?? (shown.length ? Math.min(...shown) : axis.log ? 1 : 0);
  let hi = axis.max ?? (shown.length ? Math.max(...shown) : axis.log ? 10 : 1);
  if (!(hi > lo)) {
    lo = axis.log ? lo / 10 : lo - 1;
    hi = axis.log ? hi * 10 : hi + 1;
  }
  const ticks = axis.log ? logTicks(lo, hi) : linearTicks(lo, hi);
  // the ends round outwards to ticks unless fixed
  const tlo = transform(axis.min ?? Math.min(lo, ticks[0]));
  const thi = transform(axis.max ?? Math.max(hi, ticks[ticks.length - 1]));
  const at = (v: number) => (Number.isFinite(v) && (!axis.log || v > 0) ? from + ((transform(v) - tlo) / (thi - tlo)) * (to - from) : NaN);
  return { at, ticks: ticks.filter((t) => transform(t) >= tlo - 1e-9 && transform(t) <= thi + 1e-9) };
}

/** About five ticks at 1, 2 or 5 times a power of ten, covering [lo, hi]. */
export function linearTicks(lo: number, hi: number): number[] {
  const rough = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step * 1e-9 + step; t += step) {
    ticks.push(Number(t.toPrecision(12)));
    if (t >= hi - step * 1e-9) break;
  }
  return ticks;
}

/** The powers of ten covering [lo, hi] (every other one when there are more than eight). */
export function logTicks(lo: number, hi: number): number[] {
  const first = Math.floor(Math.log10(lo)), last = Math.ceil(Math.log10(hi));
  const every = last - first > 8 ? 2 : 1;
  const ticks: number[] = [];
  for (let p = first; p <= last; p += every) ticks.push(Number(`1e${p}`)); // 10 ** -4 is not exactly 1e-4
  return ticks;
}
