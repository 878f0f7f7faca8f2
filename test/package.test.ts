// The package as a user installs it: `npm pack` ships what the CLI needs and no more (no tests, fixtures
// or lab notes), and the tarball installed into an empty folder trains a text and emits it back.
// The install is offline, from npm's cache (filled by `npm ci`), with the repository's lockfile.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "./helpers";
import { ROOT } from "../src/paths";

interface Packed {
  filename: string;
  files: { path: string }[];
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("npm pack ships the CLI, the runtime, the bundle and the ancestor; installed from the tarball, train and emit work", { timeout: 600_000 }, () => {
  const dir = tempDir();
  // dist/ is built by `npm test`'s pretest; --ignore-scripts: no second build.
  const pack = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT);
  assert.equal(pack.status, 0, pack.stderr);
  const [packed] = JSON.parse(pack.stdout) as Packed[];
  const files = packed.files.map((f) => f.path);
  for (const needed of ["package.json", "README.md", "LICENSE", "dist/src/cli.js", "dist/src/runtime/index.js", "dist/src/sandbox/child.js",
    "quine/quine.js", "evolution/ancestor.js", "src/report/page.ts", "src/report/style.css", "src/quine/main.ts"]) {
    assert.ok(files.includes(needed), `the tarball lacks ${needed}`);
  }
  assert.deepEqual(files.filter((f) => /^(test|scripts|docs|bench|generations)\/|\.test\.|^dist\/scripts\//.test(f)), [], "no tests, scripts or notes");

  // An empty project that depends on the tarball, locked to the repository's versions so that npm's cache suffices.
  const app = join(dir, "app");
  mkdirSync(app);
  const spec = `file:../${packed.filename}`;
  const ours = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { name: string; packages: Record<string, unknown> };
  lock.name = "app";
  lock.packages[""] = { name: "app", dependencies: { "neural-quine": spec } };
  lock.packages["node_modules/neural-quine"] = {
    version: ours.version, resolved: spec, license: ours.license, bin: ours.bin, engines: ours.engines,
    dependencies: ours.dependencies, optionalDependencies: ours.optionalDependencies,
  };
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, dependencies: { "neural-quine": spec } }));
  writeFileSync(join(app, "package-lock.json"), JSON.stringify(lock));
  // --ignore-scripts: tfjs-node's would download libtensorflow; esbuild runs without its own.
  const install = run("npm", ["ci", "--offline", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], app);
  assert.equal(install.status, 0, install.stderr);

  const bin = join(app, "node_modules", ".bin", "neural-quine");
  const text = "a neural quine, packed and installed\n";
  writeFileSync(join(app, "text.txt"), text);
  const env = { ...process.env, NQ_DEBUG: "" };
  const train = run(bin, ["train", "text.txt", "--out", "model"], app, env);
  assert.equal(train.status, 0, train.stderr);
  assert.match(train.stdout, /^exact: /m, train.stderr);
  const emit = run(bin, ["emit", "model"], app, env);
  assert.equal(emit.status, 0, emit.stderr);
  assert.equal(emit.stdout, text);
  // The report bundles its page from the shipped sources: everything the page imports is in the tarball.
  const page = "require('esbuild').buildSync({ entryPoints: [require.resolve('neural-quine/package.json').replace('package.json', 'src/report/page.ts')], bundle: true, write: false, platform: 'browser', logLevel: 'silent' })";
  const bundled = run(process.execPath, ["-e", page], app);
  assert.equal(bundled.status, 0, bundled.stderr);
  // The bundled quine finds its runtime through the package's own name.
  const runtime = run(process.execPath, ["-e", "process.stdout.write(typeof require('neural-quine/runtime').publish)"], app);
  assert.equal(runtime.stdout, "function", runtime.stderr);
});
