// npm run bootstrap: the ouroboros with its defaults. Generation 0 is the bundle quine/quine.js;
// each generation's emitted text runs, sandboxed, as the next one; the store is generations/.
// Same as `neural-quine bootstrap`; options after `--` (npm run bootstrap -- --generations 5)
// are --generations N, --dir D and --backend B.
import { parseArgs } from "node:util";
import { bootstrap, DEFAULT_DIR, DEFAULT_GENERATIONS } from "../src/ouroboros/bootstrap";
import { bootstrapSummary, progressPrinter } from "../src/terminal/inspect";
import { DEFAULT_LIMITS } from "../src/ouroboros/sandbox";
import { parseBackend } from "../src/runtime";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { generations: { type: "string" }, dir: { type: "string" }, backend: { type: "string" } },
  });
  const generations = values.generations === undefined ? DEFAULT_GENERATIONS : Number(values.generations);
  if (!Number.isInteger(generations) || generations < 0) throw new Error(`--generations expects a non-negative integer, not "${values.generations}".`);
  const dir = values.dir ?? DEFAULT_DIR;
  const limits = { ...DEFAULT_LIMITS, backend: parseBackend(values.backend ?? DEFAULT_LIMITS.backend) };
  const started = Date.now();
  process.stderr.write(`bootstrap: generations 0–${generations - 1} of quine/quine.js into ${dir}/ (finished generations are kept)\n`);
  const result = await bootstrap({ dir, generations, limits, onEvent: progressPrinter(process.stderr) });
  process.stdout.write(bootstrapSummary(result, dir, (Date.now() - started) / 1000));
}

main().catch((error: unknown) => {
  process.stderr.write(`bootstrap: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
