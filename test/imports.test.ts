// The floor plan (scripts/check-imports.ts, part of `npm run lint`): no circle of files or rooms, type-only
// imports included, and no import from a lower floor up to a higher one.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { checkImports, importGraph } from "../scripts/check-imports";
import { ROOT } from "../src/paths";

/** A checkout of a few files in a temporary folder. */
function checkout(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "nq-imports-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test("the project's own imports keep the floor plan: no circle, nothing runs up", () => {
  assert.deepEqual(checkImports(ROOT), []);
  // The check reads the real graph: the CLI reaches the sandbox through the lineage, and the bundled trainer imports the runtime by its package name.
  const graph = importGraph(ROOT);
  assert.ok(graph.get("src/ouroboros/bootstrap.ts")?.includes("src/sandbox/index.ts"));
  assert.ok(graph.get("src/quine/deps.ts")?.includes("src/runtime/index.ts"));
});

test("a circle made only of type imports is refused, and so is an import that runs up a floor", () => {
  const root = checkout({
    "src/report/a.ts": 'import type { B } from "./b";\nexport type A = { b?: B };\n',
    "src/report/b.ts": 'import type { A } from "./a";\nexport type B = { a?: A };\n',
    "src/files/low.ts": 'import { high } from "../sandbox";\nexport const low = high;\n',
    "src/sandbox/index.ts": "export const high = 1;\n",
  });
  try {
    const problems = checkImports(root);
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0], /circle: src\/report\/a\.ts, src\/report\/b\.ts/);
    assert.match(problems[1], /src\/files\/low\.ts imports src\/sandbox\/index\.ts: src\/files \(floor 0\) must not use src\/sandbox \(floor 2\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
