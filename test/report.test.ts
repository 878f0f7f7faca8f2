// The report: a static site of a lineage. The site is built from a lineage that the real bootstrap
// produces here, plus a copy of it with a damaged and a dead generation; then Chromium (Debian's
// package, driven by playwright-core) opens it from a local static server, and the page decodes a
// model live with TensorFlow.js in the browser. The same for a population: a tiny one of the
// stand-in replicator (evolution/stand-in.js builds its model rather than training it: seconds).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { before, test } from "node:test";
import type { Server } from "node:http";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { cli, tempDir, TINY_QUINE } from "./helpers";
import { sha256 } from "../src/files/hash";
import { readGeneration, writeGeneration, type GenerationMetrics } from "../src/ouroboros/store";
import { bundleAssets, serveSite } from "../src/report/site";
import { serveLive } from "../src/report/population-live";
import { WeightQuineMetricsSchema } from "../src/weights/metrics";
import { readPopulation, type Generation, type Individual } from "../src/evolution/population-store";
import { phylogeny } from "../src/evolution/phylogeny";
import { treeSvg } from "../src/report/population-html";
import { ROOT } from "../src/paths";
import { decodeLimit, decodeModel } from "../src/runtime/decoder";
import { publicationLimits, readStoredModel } from "../src/sandbox/publication";
import { keptName, nameOf, type Entry, type Result } from "../scripts/corpus";

const CHROMIUM = process.env.NQ_CHROMIUM ?? "/usr/bin/chromium";
// Without Chromium the browser test is skipped on a developer's machine, never in CI.
const NO_BROWSER = !existsSync(CHROMIUM) && !process.env.CI
  ? `${CHROMIUM} is not installed (apt-get install chromium); CI installs it and runs this test`
  : false;
// A reason as a hostile program may word it: HTML for the page, and a terminal escape.
const DEAD_REASON = "SyntaxError: Unexpected token '}' (line 3) <script>alert(1)</script>\x1b]52;c;ZXZpbA==\x07.";


let bootstrapped: string; // a lineage of two generations of the tiny quine, from the real bootstrap
let mixed: string; // its copy, with generation 1 damaged and a dead generation 2
let population: string; // 3 generations of the stand-in replicator: a mutant lineage lives, the ancestor's copies are gone, children died
let individuals: Individual[];

before(() => {
  bootstrapped = join(tempDir(), "generations");
  const run = cli("bootstrap", "--from", TINY_QUINE, "--generations", "2", "--dir", bootstrapped);
  assert.equal(run.status, 0, run.stderr);
  const first = readGeneration(bootstrapped, 0).metrics;
  assert.equal(first?.status, "exact", `the tiny quine's generation 0 should be exact (${first?.reason ?? "mutated"})`);

  mixed = join(tempDir(), "generations");
  cpSync(bootstrapped, mixed, { recursive: true });
  // Damage generation 1 as a disk or a hand would: an edited emitted.js and a truncated weights.bin.
  const gen1 = join(mixed, "gen-0001");
  appendFileSync(join(gen1, "emitted.js"), "console.log('edited by hand');\n");
  const weights = readFileSync(join(gen1, "model", "weights.bin"));
  writeFileSync(join(gen1, "model", "weights.bin"), weights.subarray(0, weights.length / 2));
  // A dead generation 2: its program did not run.
  const program = readFileSync(join(bootstrapped, "gen-0001", "emitted.js"), "utf8").replace(/\}\);\s*$/, "}\n}");
  const dead: GenerationMetrics = {
    generation: 2, status: "dead", reason: DEAD_REASON, parent: 1, bytes: Buffer.byteLength(program), epochs: 0, wallSeconds: 0.1,
    charsPerSecond: 0, backend: null, seed: null, programHash: sha256(program), emittedHash: null, weightsHash: null,
    parentWeightsHash: null, textFixpoint: false, weightsFixpoint: null, changedLines: 0, history: [], historyDropped: 0,
    walls: null, claim: null, decode: null, parameters: null, kernel: null, work: null,
  };
  writeGeneration(mixed, { metrics: dead, program, emitted: null, model: null });

  population = join(tempDir(), "population");
  const evolved = cli("evolve", "--from", join(ROOT, "evolution", "stand-in.js"), "--population", "2", "--children", "2", "--generations", "3",
    "--temperature", "0.5", "--mutation-rate", "0.002", "--seed", "2", "--workers", "2", "--dir", population);
  assert.equal(evolved.status, 0, evolved.stderr);
  individuals = readPopulation(population).flatMap((g) => (typeof g === "string" ? [] : g.individuals));
  assert.equal(individuals.length, 10);
});

/** A living mutant of the population: sampled from its parent's model, then changed by a point mutation. */
const livingMutant = (): Individual => {
  const found = individuals.find((i) => i.status === "kept" && i.parent !== null && (i.distanceToParent ?? 0) > 0);
  assert.ok(found, "seed 2 gives a living mutant");
  return found;
};

test("report on a bootstrap's output writes a self-contained site", () => {
  const out = join(tempDir(), "site");
  const run = cli("report", "--dir", bootstrapped, "--out", out);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /2 generations/);
  const html = readFileSync(join(out, "index.html"), "utf8");
  assert.match(html, /id="overview"/);
  for (const gen of ["gen-0000", "gen-0001"]) {
    assert.match(html, new RegExp(`<section class="generation exact" id="${gen}"`));
    for (const file of ["program.js", "emitted.js", "model/model.json", "model/weights.bin"]) {
      assert.deepEqual(readFileSync(join(out, gen, file)), readFileSync(join(bootstrapped, gen, file)), `${gen}/${file}`);
    }
  }
  // No address outside the site: the page, its script and its stylesheet are all local.
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  assert.ok(statSync(join(out, "assets", "page.js")).size > 100_000, "TensorFlow.js is bundled into the page's script");
  assert.match(html, /class="hljs-keyword"/, "programs are syntax-highlighted");
  // Writing again replaces the earlier report.
  assert.equal(cli("report", "--dir", bootstrapped, "--out", out).status, 0);
});

test("report shows a dead and a damaged generation with their reasons", () => {
  const out = join(tempDir(), "site");
  const run = cli("report", "--dir", mixed, "--out", out);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /3 generations \(1 damaged\)/);
  const html = readFileSync(join(out, "index.html"), "utf8");
  assert.match(html, /<section class="generation exact" id="gen-0000"/);
  assert.match(html, /<section class="generation damaged" id="gen-0001"/);
  assert.match(html, /emitted\.js does not match the hash in metrics\.json/);
  assert.match(html, /<section class="generation dead" id="gen-0002"/);
  assert.ok(html.includes("SyntaxError: Unexpected token &#39;}&#39; (line 3) &#60;script&#62;alert(1)&#60;/script&#62;"), "the dead generation's reason, escaped");
  assert.ok(!html.includes("<script>alert(1)"), "no markup from a reason");
  // Only models that load get a decode button, and only theirs are copied.
  assert.ok(existsSync(join(out, "gen-0000", "model", "weights.bin")));
  assert.ok(!existsSync(join(out, "gen-0001", "model")));
  assert.doesNotMatch(html, /id="gen-0001" data-model/);
});

test("report shows a weight-quine run's settings and measurements, and a foreign weight-quine record as damaged", () => {
  const dir = tempDir();
  const trained = cli("weights", "--variant", "recurrent", "--size", "3", "--epochs", "2", "--seed", "5", "--json", "--out", join(dir, "weights-recurrent-3"));
  assert.equal(trained.status, 0, trained.stderr);
  const metrics = WeightQuineMetricsSchema.parse(JSON.parse(trained.stdout)); // --json prints the record metrics.json holds
  assert.deepEqual([metrics.settings.seed, metrics.settings.epochs], [5, 2]);
  // An older, flat record (settings at the top level) is not what `weights` writes now.
  mkdirSync(join(dir, "old-run"));
  writeFileSync(join(dir, "old-run", "metrics.json"), JSON.stringify({ kind: "weight-quine", variant: "coords", size: 8, rmse: 0.5 }));
  const out = join(tempDir(), "site");
  const run = cli("report", "--dir", dir, "--out", out);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /2 weight-quine runs/);
  const html = readFileSync(join(out, "index.html"), "utf8");
  const sections = html.split('<section class="weight-run').slice(1);
  const good = sections.find((section) => section.includes("weights-recurrent-3")) ?? "";
  const damaged = sections.find((section) => section.includes("old-run")) ?? "";
  assert.match(good, /<h3>recurrent 3 <span class="dim">weights-recurrent-3<\/span>/);
  assert.match(good, /<th>epochs<\/th><td>2<\/td>/);
  assert.match(good, /<th>backend, seed<\/th><td>js-float64, 5<\/td>/);
  assert.match(good, /<h4>settings<\/h4><table class="metrics"><tr><th>variant<\/th><td>recurrent<\/td>/);
  assert.match(damaged, /^ damaged">/);
  assert.match(damaged, /metrics\.json is damaged or not ours: field &#34;settings&#34;: expected object/);
});

test("report refuses a missing folder and a foreign --out with one sentence", () => {
  const missing = cli("report", "--dir", join(tempDir(), "nothing"), "--out", join(tempDir(), "site"));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^neural-quine: No generations folder at .*\.\n$/);
  const foreign = tempDir();
  writeFileSync(join(foreign, "notes.txt"), "mine");
  const refused = cli("report", "--dir", bootstrapped, "--out", foreign);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^neural-quine: .* is not empty and was not written by neural-quine report: choose another --out\.\n$/);
  assert.equal(readFileSync(join(foreign, "notes.txt"), "utf8"), "mine");
});

test("report on a population store: the statistics as plots, the tree, a page per individual with its diff", () => {
  const out = join(tempDir(), "site");
  const run = cli("report", "--dir", population, "--out", out);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /3 generations, 10 individuals, 7 programs/);
  const html = readFileSync(join(out, "index.html"), "utf8");
  assert.equal(html.match(/<figure class="chart">/g)?.length, 10, "one plot per statistic group");
  assert.match(html, /aria-label="Counted training work, multiply-adds \(kept\)"/);
  assert.match(html, /aria-label="Smallest margin of the greedy decoding \(kept\)"/);
  // The tree: the ancestor, the mutant kept in generation 1, its mutant living now.
  const rows = [...html.matchAll(/<a href="individuals\/([\d.]+)\.html" class="genotype (living|dead-branch)">/g)].map((m) => m[1]);
  assert.deepEqual(rows, ["0.0", "1.2", "2.3"]);
  assert.match(html, /66e9a16c +661 B +kept 2 +0 dead, 0 culled offspring +← living/);
  assert.equal(html.match(/class="chip dead"/g)?.length, individuals.filter((i) => i.status === "dead").length + 1, "every dead individual, and the key");
  // A page per individual; a mutant's shows its diff against its parent and how it was copied.
  for (const i of individuals) assert.ok(existsSync(join(out, "individuals", `${i.id}.html`)), i.id);
  // The store keeps what every program wrote (its log.txt), dead or alive.
  for (const i of individuals) assert.ok(existsSync(join(population, "programs", i.programHash, "log.txt")), `${i.id}'s log`);
  const mutant = livingMutant();
  const page = readFileSync(join(out, "individuals", `${mutant.id}.html`), "utf8");
  assert.match(page, new RegExp(`its program against its parent&#39;s \\(${mutant.parent}\\)`));
  assert.match(page, /class="d2h-file-wrapper"/);
  assert.match(page, new RegExp(`by <strong>sampling</strong> its parent's model at temperature 0\\.5, with the seed <code>${mutant.seed}</code>`));
  assert.match(page, /data-model="\.\.\/programs\/[0-9a-f]{64}\/model\.json"/);
  assert.match(page, new RegExp(`<strong>Changed by:</strong> ${mutant.changedBy.join(", ")}</p>`));
  assert.ok(mutant.changedBy.length > 0, "a mutant says what changed it");
  // Only living programs have a model to copy; a dead one's page says why it died.
  const dead = individuals.find((i) => i.status === "dead") as Individual;
  assert.ok(!existsSync(join(out, "programs", dead.programHash, "model.json")));
  assert.ok(existsSync(join(out, "programs", mutant.programHash, "weights.bin")));
  assert.ok(readFileSync(join(out, "individuals", `${dead.id}.html`), "utf8").includes(`<strong>Died:</strong> ${dead.reason?.replace(/'/g, "&#39;")}`));
});

test("population tree --png draws the tree as a PNG beside the text", () => {
  const png = join(tempDir(), "tree.png");
  const run = cli("population", "tree", "--dir", population, "--png", png);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim().split("\n").length, 3, "the text tree: three genotypes");
  const bytes = readFileSync(png);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG file");
  assert.ok(bytes.readUInt32BE(20) > 3 * 20, "tall enough for three rows");
});

test("the tree marks a branch with no living descendant as dead", () => {
  const individual = (id: string, parent: string | null, programHash: string, status: Individual["status"]): Individual => ({
    id, generation: Number(id.split(".")[0]), index: Number(id.split(".")[1]), parent, seed: parent ? 1 : null, programHash, bytes: 10,
    mutations: 0, changedBy: parent ? ["sampling"] : [], edits: [], exactCopy: null, distanceToParent: parent ? 1 : null, distanceToAncestor: 0, cached: false, status, reason: status === "dead" ? "threw" : null,
  });
  // a (ancestor) → b, kept in 1 only, and c, kept in 1-2, whose child dies.
  const generations: Pick<Generation, "generation" | "individuals">[] = [
    { generation: 0, individuals: [individual("0.0", null, "a", "kept")] },
    { generation: 1, individuals: [individual("1.0", "0.0", "b", "kept"), individual("1.1", "0.0", "c", "kept")] },
    { generation: 2, individuals: [individual("2.0", "1.1", "c", "kept"), individual("2.1", "1.1", "d", "dead")] },
  ];
  const svg = treeSvg(phylogeny(generations), 2);
  assert.match(svg, /href="individuals\/0\.0\.html" class="genotype living"/);
  assert.match(svg, /href="individuals\/1\.0\.html" class="genotype dead-branch"/);
  assert.match(svg, /href="individuals\/1\.1\.html" class="genotype living"/);
  assert.match(svg, /c +10 B +kept 1-2 +1 dead, 0 culled offspring +← living/);
});

/** Serves a report folder and opens its index.html in Chromium; `problems` collects the page's errors and failed requests. */
async function openSite(out: string): Promise<{ server: Server; context: BrowserContext; page: Page; problems: string[] }> {
  const { server, url } = await serveSite(out);
  const context = await chromium.launchPersistentContext(tempDir(), {
    executablePath: CHROMIUM,
    headless: true,
    // As root Chromium needs --no-sandbox; the rest keep it off a network it cannot reach.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 1000 },
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  await page.goto(url);
  return { server, context, page, problems };
}

test("in Chromium: the overview, a diff, and decode live giving the program back exactly", { skip: NO_BROWSER, timeout: 300_000 }, async () => {
  const out = join(tempDir(), "site");
  assert.equal(cli("report", "--dir", mixed, "--out", out).status, 0);
  const { server, context, page, problems } = await openSite(out);
  try {

    // The overview: one row per generation, with its status and, for the dead one, its reason.
    const rows = page.locator("#overview tbody tr");
    assert.equal(await rows.count(), 3);
    assert.deepEqual(await page.locator("#overview tbody .badge").allTextContents(), ["exact", "damaged", "dead"]);
    assert.match(await rows.nth(2).innerText(), /SyntaxError: Unexpected token '}'/);
    assert.match(await page.locator("#gen-0001 p.reason").innerText(), /Damaged: emitted\.js does not match the hash/);

    // A diff rendered by diff2html: the damaged generation's edited line, inserted.
    const diff = page.locator("#gen-0001 .d2h-file-wrapper").first();
    assert.ok(await diff.isVisible());
    assert.match(await diff.locator(".d2h-ins").last().innerText(), /edited by hand/);
    // The exact generation's emitted text equals its program: no diff, a note saying so.
    assert.match(await page.locator("#gen-0000 .identical").first().innerText(), /byte for byte/);

    // Decode live: TensorFlow.js in the page loads gen-0000's model and decodes it.
    await page.click("#gen-0000 button.decode");
    const verdict = page.locator("#gen-0000 .verdict");
    await page.waitForFunction(() => !["", "running"].includes(document.querySelector<HTMLElement>("#gen-0000 .verdict")?.dataset.verdict ?? ""), null, { timeout: 240_000 });
    assert.equal(await verdict.getAttribute("data-verdict"), "exact", await verdict.innerText());
    assert.match(await verdict.innerText(), /^exact: the decoded text equals program\.js byte for byte/);
    assert.equal(await page.locator("#gen-0000 .live-output").textContent(), readFileSync(join(mixed, "gen-0000", "program.js"), "utf8"));
    assert.deepEqual(problems, []);

    await page.evaluate(() => window.scrollTo(0, 0));
    const shot = await page.screenshot({ path: join(out, "screenshot.png") });
    assert.ok(shot.length > 10_000, "a screenshot of the page");
    // NQ_REPORT_SCREENSHOT=docs/images/report.png keeps it (the README's picture).
    const keep = process.env.NQ_REPORT_SCREENSHOT;
    if (keep) {
      mkdirSync(dirname(keep), { recursive: true });
      writeFileSync(keep, shot);
    }
  } finally {
    await context.close();
    server.close();
  }
});

test("in Chromium: a population's tree, a mutant's diff against its parent, and decode live of its own model", { skip: NO_BROWSER, timeout: 300_000 }, async () => {
  const out = join(tempDir(), "site");
  assert.equal(cli("report", "--dir", population, "--out", out).status, 0);
  const { server, context, page, problems } = await openSite(out);
  try {
    assert.ok(await page.locator("figure.tree svg").isVisible());
    assert.equal(await page.locator("figure.tree a.genotype").count(), 3);
    assert.equal(await page.locator("figure.chart svg").count(), 10);

    // From the tree to a living mutant's page (its genotype's row), then its diff and decode live.
    const mutant = livingMutant();
    await page.locator(`figure.tree a[href="individuals/${mutant.id}.html"] text.label`).click();
    await page.waitForURL(new RegExp(`individuals/${mutant.id.replace(".", "\\.")}\\.html$`));
    const diff = page.locator(".d2h-file-wrapper").first();
    assert.ok(await diff.isVisible());
    assert.ok((await diff.locator(".d2h-ins").count()) + (await diff.locator(".d2h-del").count()) > 0, "the changed line is marked");
    assert.match(await page.locator("p.origin").innerText(), new RegExp(`sampling its parent's model at temperature 0\\.5, with the seed ${mutant.seed}`));

    await page.click("button.decode");
    await page.waitForFunction(() => !["", "running"].includes(document.querySelector<HTMLElement>(".verdict")?.dataset.verdict ?? ""), null, { timeout: 240_000 });
    const verdict = page.locator(".verdict");
    assert.equal(await verdict.getAttribute("data-verdict"), "exact", await verdict.innerText());
    const program = readFileSync(join(population, "programs", mutant.programHash, "program.js"), "utf8");
    assert.equal(await page.locator(".live-output").textContent(), program);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    server.close();
  }
});

test("in Chromium: the live view of a running population reloads itself when a generation is written", { skip: NO_BROWSER, timeout: 300_000 }, async () => {
  // The store as it was before its last generation; the generation then arrives, as evolve writes it.
  const store = join(tempDir(), "population");
  cpSync(population, store, { recursive: true });
  const held = join(tempDir(), "gen-0002");
  renameSync(join(store, "gen-0002"), held);
  const live = await serveLive(store);
  await live.update(); // the one queued at the start, then this one
  assert.equal(live.version(), 2);
  const context = await chromium.launchPersistentContext(tempDir(), {
    executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(live.url);
    assert.match(await page.locator("header p.dim").innerText(), /^2 generations, 6 individuals/);
    renameSync(held, join(store, "gen-0002"));
    await live.update();
    await page.waitForFunction(() => /^3 generations/.test(document.querySelector("header p.dim")?.textContent ?? ""), null, { timeout: 60_000 });
    assert.equal(await page.locator("figure.tree a.genotype").count(), 3);
    // Outside the site folder nothing is served.
    assert.equal((await fetch(new URL("/../evolution.json", live.url))).status, 404);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await live.close();
  }
});

// The corpus's models decoded both ways: by the parent's decoder (plain JavaScript in float64, as
// bootstrap's parent decodes a publication) and by the report's decode live (TensorFlow.js in
// Chromium). The smallest real texts of three kinds (the unicode one has characters outside the
// BMP: surrogate pairs in JavaScript), trained with the features by the corpus script itself, kept
// with --keep-models. Small (64 units) and capped in epochs, not seconds: whether a text is exact
// does not depend on the machine's speed, and one that is not must still decode, both ways, to what
// the trainer's own greedy check decoded.
test("in Chromium: corpus models decode to the same text by the parent's decoder and by decode live, the text itself when exact", { skip: NO_BROWSER, timeout: 300_000 }, async () => {
  const dir = tempDir();
  const manifest = JSON.parse(readFileSync(join(ROOT, "bench", "corpus.json"), "utf8")) as Entry[];
  const entries = ["js", "dts", "unicode"].map((kind) => manifest.filter((e) => e.kind === kind).sort((a, b) => a.length - b.length)[0]);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(entries));
  const models = join(dir, "models");
  const run = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "corpus.ts"), "--manifest", join(dir, "manifest.json"), "--out", join(dir, "corpus"),
    "--set", "hidden=64,maxEpochs=150", "--cap", "3600", "--budget", "36000", "--keep-models", models], { encoding: "utf8", cwd: ROOT });
  assert.equal(run.status, 0, run.stderr);
  const { results } = JSON.parse(readFileSync(join(dir, "corpus.json"), "utf8")) as { results: Result[] };
  const resultOf = (e: Entry) => results.find((r) => r.text === nameOf(e)) as Result;
  for (const e of entries) assert.ok(resultOf(e) && (resultOf(e).note ?? "not exact").startsWith("not exact"), `${e.path} trained: ${resultOf(e)?.note}`);
  const exact = entries.filter((e) => resultOf(e).exact).length;
  if (exact) assert.match(readFileSync(join(dir, "corpus.md"), "utf8"), new RegExp(`The parent's decoder \\(src/runtime/decoder\\.ts\\) exact on ${exact} of ${exact} exact models\\.`));

  // A page with the report's own script and a decode-live section per model, as html.ts writes them.
  const site = join(dir, "site");
  bundleAssets(join(site, "assets"));
  const sections = entries.map((e, i) => {
    for (const file of ["model.json", "weights.bin", "text.txt"]) cpSync(join(models, keptName(e, 1), file), join(site, `m${i}`, file));
    return `<section class="generation" id="m${i}" data-model="m${i}/model.json" data-program="m${i}/text.txt"><div class="live"><button class="decode" type="button">Decode live</button> <span class="verdict" data-verdict=""></span><pre class="live-output" hidden></pre></div></section>`;
  });
  writeFileSync(join(site, "index.html"), `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>${sections.join("\n")}\n<script src="assets/page.js"></script></body></html>`);
  const { server, context, page, problems } = await openSite(site);
  try {
    for (const [i, e] of entries.entries()) {
      const kept = join(models, keptName(e, 1));
      const text = readFileSync(join(kept, "text.txt"), "utf8");
      const greedy = readFileSync(join(kept, "greedy.txt"), "utf8");
      const characters = [...text].length;
      const parent = decodeModel(readStoredModel(kept, publicationLimits), { maxChars: decodeLimit(characters), maxSeconds: publicationLimits.decodeSeconds }).text;
      await page.click(`#m${i} button.decode`);
      await page.waitForFunction((id) => !["", "running"].includes(document.querySelector<HTMLElement>(`#${id} .verdict`)?.dataset.verdict ?? ""), `m${i}`, { timeout: 120_000 });
      const verdict = page.locator(`#m${i} .verdict`);
      assert.notEqual(await verdict.getAttribute("data-verdict"), "error", await verdict.innerText());
      const live = (await page.locator(`#m${i} .live-output`).textContent()) ?? "";
      if (resultOf(e).exact) {
        assert.equal(resultOf(e).parentExact, true, `${e.path}: the corpus run's record`);
        assert.equal(parent, text, `${e.path}: the parent's decoder`);
        assert.equal(live, text, `${e.path}: decode live`);
        assert.equal(await verdict.getAttribute("data-verdict"), "exact");
      } else if ([...greedy].length <= characters + 1) {
        // Not exact, but the trainer's decoding ended (the boundary symbol): both decoders end there too.
        assert.equal(parent, greedy, `${e.path}: the parent's decoder`);
        assert.equal(live, greedy, `${e.path}: decode live`);
      } else {
        // The trainer's decoding ran to its limit (characters + 2): the others stop at theirs, further on.
        assert.ok(parent.startsWith(greedy), `${e.path}: the parent's decoder`);
        assert.ok(live.startsWith(greedy), `${e.path}: decode live`);
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    server.close();
  }
});
