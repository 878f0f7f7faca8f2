// The measuring scripts run for minutes to hours and rewrite committed tables: asking one for help,
// or misspelling an option, must do neither.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../src/paths";

const SCRIPTS = ["bench", "corpus", "scaling", "edits", "weights-table"];

function script(name: string, ...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", `${name}.ts`), ...args], { encoding: "utf8", cwd: ROOT });
}

test("each measuring script prints its usage for --help and refuses an unknown option, touching nothing", () => {
  const docs = ["corpus.md", "corpus.json", "bench.md", "edits.md", "weights.md"].map((f) => join(ROOT, "docs", f));
  const before = docs.map((f) => statSync(f).mtimeMs);
  for (const name of SCRIPTS) {
    const help = script(name, "--help");
    assert.equal(help.status, 0, `${name} --help: ${help.stderr}`);
    assert.match(help.stdout, /npm run/, `${name} --help prints its usage`);
    const bad = script(name, "--no-such-option");
    assert.equal(bad.status, 1, `${name} refuses an unknown option`);
    assert.match(bad.stderr, new RegExp(`^${name}: unknown option --no-such-option: see --help for the options this script takes\\.\\n$`));
  }
  assert.deepEqual(docs.map((f) => statSync(f).mtimeMs), before);
});
