// The bundle: esbuild turns the trainer (src/quine/) into one readable CommonJS file, quine/quine.js.
// Not minified, so identifiers are kept and it stays readable; TensorFlow.js and the runtime stay
// external (required at run time), so the text the model must learn is only the trainer itself.
import { buildSync } from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { QUINE_PATH, ROOT } from "./paths";

/** The bundle's text, built from src/quine/main.ts; the same sources always give the same bytes. */
export function bundleQuine(): string {
  const result = buildSync({
    entryPoints: [join(ROOT, "src", "quine", "main.ts")],
    absWorkingDir: ROOT,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["@tensorflow/*", "neural-quine/*"],
    legalComments: "none",
    charset: "utf8",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

/** Writes quine/quine.js and returns its size in bytes. */
export function writeQuine(path = QUINE_PATH): number {
  const text = bundleQuine();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return Buffer.byteLength(text);
}
