import { mkdirSync } from "node:fs";
import { readFileSync } from "node:fs";
import { trainUntilExact } from "../src/quine/train";
import * as rt from "../src/runtime";
import { writeGeneration, writeLineageSummary, sha256, countChangedLines, type GenerationMetrics } from "../src/ouroboros/store";

async function main() {
  await rt.initBackend("wasm");
  const dir = process.argv[2];
  mkdirSync(dir, { recursive: true });
  let program = readFileSync(process.argv[3], "utf8");
  let parent: GenerationMetrics | null = null;
  for (let g = 0; g < 2; g++) {
    const t = trainUntilExact(program, { hidden: 64, maxEpochs: g === 1 ? 40 : 400 });
    const files = await rt.modelFiles(t.model);
    const metrics: GenerationMetrics = { generation: g, status: t.text === program ? "exact" : "mutated", reason: null, parent: parent ? parent.generation : null,
      bytes: Buffer.byteLength(program), epochs: t.epochs, wallSeconds: t.seconds, charsPerSecond: 1000, backend: "wasm", seed: 1, programHash: sha256(program),
      emittedHash: sha256(t.text), weightsHash: sha256(files["weights.bin"]), parentWeightsHash: parent?.weightsHash ?? null, textFixpoint: t.text === program,
      weightsFixpoint: parent ? false : null, changedLines: countChangedLines(program, t.text), history: t.history };
    writeGeneration(dir, { metrics, program, emitted: t.text, model: files });
    parent = metrics;
    program = t.text;
  }
  writeLineageSummary(dir);
}
main();
