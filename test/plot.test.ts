// The PNG charts the docs show: ticks a reader can trust, and every series drawn in its own colour.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { linearTicks, logTicks, renderLineChart, scaleOf } from "../src/plot/chart";

test("linear ticks fall on 1, 2 or 5 times a power of ten and cover the range", () => {
  assert.deepEqual(linearTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(linearTicks(-3, 17), [-5, 0, 5, 10, 15, 20]);
  assert.deepEqual(linearTicks(0.013, 0.87), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});

test("log ticks are exact powers of ten", () => {
  assert.deepEqual(logTicks(0.0003, 2), [0.0001, 0.001, 0.01, 0.1, 1, 10]);
  assert.equal(logTicks(1e-12, 1e6).length, 10); // every other decade past eight
});

test("a log axis places decades evenly and leaves out values it cannot show", () => {
  const { at } = scaleOf({ label: "", log: true, min: 0.01, max: 1 }, [], 0, 200);
  assert.equal(at(0.01), 0);
  assert.equal(at(0.1), 100);
  assert.equal(at(1), 200);
  assert.ok(Number.isNaN(at(0)));
  assert.ok(Number.isNaN(at(Number.NaN)));
});

/** Pixels of the chart with exactly this colour. */
function countColour(png: Buffer, [r, g, b]: [number, number, number]): number {
  const { data } = PNG.sync.read(png);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] === r && data[i + 1] === g && data[i + 2] === b) n++;
  return n;
}

test("each series is drawn in its own colour, and a line only where it has points", () => {
  const blue: [number, number, number] = [31, 119, 180], orange: [number, number, number] = [255, 127, 14];
  const chart = (points: [number, number][]) =>
    renderLineChart({ title: "t", x: { label: "x" }, y: { label: "y" }, series: [{ name: "a", points }, { name: "b", points: [[0, 0], [1, 1]] }] });
  const png = chart([[0, 1], [1, 0]]);
  const { width, height } = PNG.sync.read(png);
  assert.deepEqual([width, height], [760, 460]);
  const legendOnly = countColour(chart([]), blue);
  assert.ok(legendOnly > 0, "the legend shows the series' colour");
  assert.ok(countColour(png, blue) > legendOnly + 500, "series a's line is drawn");
  assert.ok(countColour(png, orange) > legendOnly + 500, "series b's line is drawn");
});
