// Evolution: the statistics and selection on hand-made populations with known answers, seeded copying
// errors, and whole runs of a stand-in replicator (it builds, rather than trains, a model of its own
// file, so a run takes seconds): the same seed gives the same population with 1 or 2 workers and
// after a kill -9 and a resume; a hostile program dies and the sandbox holds.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ROOT } from "../src/paths";
import { evolve } from "../src/evolution/evolve";
import { childLimits } from "../src/evolution/reproduce";
import { readPopulation, type Generation, type Individual, type ProgramRun } from "../src/evolution/population-store";
import { describeChange, lineOfDescent } from "../src/evolution/lineage";
import { compareFitness, select } from "../src/evolution/select";
import { evolveSettings, type EvolveSettings } from "../src/evolution/settings";
import { byteEntropy, generationStatistics, highOrderEntropy, levenshtein, shannonDiversity } from "../src/evolution/statistics";
import {
  applyOperators, expNonPositive, makeChild, mutate, mutateLines, mutateNumbers, mutateTokens, nudge, sampleAtTemperature, seededRandom, seedFor, type Edit,
} from "../src/evolution/variation";
import { parseMutations, runRecord } from "../src/evolution/settings";
import { sha256 } from "../src/files/hash";
import { decodeModel, type CheckedModel } from "../src/runtime/decoder";
import { ageLock } from "./helpers";

const CLI = join(ROOT, "dist", "src", "cli.js");
const scratch = mkdtempSync(join(tmpdir(), "nq-evolution-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, NQ_DEBUG: "" } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// ---- statistics with known answers --------------------------------------------------------------

describe("statistics", () => {
  test("Levenshtein distance", () => {
    assert.equal(levenshtein("kitten", "sitting"), 3);
    assert.equal(levenshtein("abc", "abc"), 0);
    assert.equal(levenshtein("", "abcd"), 4);
  });

  test("Shannon diversity: 0 for one genotype, ln n for n equally common ones", () => {
    assert.equal(shannonDiversity(["a", "a", "a"]), 0);
    assert.ok(Math.abs(shannonDiversity(["a", "b", "a", "b"]) - Math.log(2)) < 1e-12);
    assert.ok(Math.abs(shannonDiversity(["a", "b", "c", "d"]) - Math.log(4)) < 1e-12);
    // p = 3/4, 1/4
    assert.ok(Math.abs(shannonDiversity(["a", "a", "a", "b"]) - -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))) < 1e-12);
  });

  test("byte entropy and high-order entropy", () => {
    assert.equal(byteEntropy(Buffer.from("abababab")), 1);
    assert.equal(byteEntropy(Uint8Array.from({ length: 256 }, (_, i) => i)), 8);
    // A text repeated many times has structure Brotli finds and byte counts do not: high-order entropy well above zero.
    const repeated = highOrderEntropy(Array.from({ length: 32 }, () => "const text = readFileSync(__filename);\n")) as number;
    // Bytes from a seeded generator have none: Brotli cannot beat their byte entropy.
    const random = seededRandom(7);
    const noise = highOrderEntropy([Array.from({ length: 4096 }, () => String.fromCharCode(97 + Math.floor(random() * 16))).join("")]) as number;
    assert.ok(repeated > 3, `repeated text: ${repeated}`);
    assert.ok(noise < 0.1, `noise: ${noise}`);
    assert.equal(highOrderEntropy([]), null);
  });

  test("a generation's statistics from hand-made facts", () => {
    const stats = generationStatistics({
      generation: 2,
      ancestor: "abcd",
      children: [
        { program: "abcd", parentProgram: "abcd", alive: true, cached: true }, // exact copy
        { program: "abce", parentProgram: "abcd", alive: true, cached: false }, // 1 away
        { program: "xbce", parentProgram: "abcd", alive: false, cached: false }, // 2 away, dead
        { program: "abcdef", parentProgram: "abce", alive: true, cached: false }, // 2 away
      ],
      kept: ["abcd", "abce", "abcd"],
      keptRuns: [{ work: 300, minMargin: 1.5 }, { work: 100, minMargin: 0.5 }, { work: 300, minMargin: 1.5 }],
      trainingSeconds: 1.5,
    });
    assert.deepEqual(stats.work, { min: 100, mean: 700 / 3, max: 300 });
    assert.deepEqual(stats.margin, { min: 0.5, mean: 3.5 / 3, max: 1.5 });
    assert.equal(stats.children, 4);
    assert.equal(stats.alive, 3);
    assert.equal(stats.population, 3);
    assert.equal(stats.survivalRate, 0.75);
    assert.equal(stats.exactShare, 0.25);
    assert.deepEqual(stats.distanceToParent, { median: 1.5, mean: 1.25 });
    assert.deepEqual(stats.distanceToAncestor, { median: 0, mean: 1 / 3 });
    assert.equal(stats.uniqueGenotypes, 2);
    assert.ok(Math.abs(stats.diversity - -((2 / 3) * Math.log(2 / 3) + (1 / 3) * Math.log(1 / 3))) < 1e-12);
    assert.deepEqual(stats.bytes, { min: 4, mean: 4, max: 4 });
    assert.equal(stats.trainings, 3);
    assert.equal(stats.cacheHits, 1);
  });
});

// ---- selection -----------------------------------------------------------------------------------

function run(hash: string, fields: Partial<ProgramRun>): ProgramRun {
  return {
    programHash: hash, chars: 100, bytes: 100, status: "alive", reason: null, backend: "wasm", seconds: 1, epochs: 1, emittedHash: hash,
    distanceToSelf: 0, minMargin: 1, parameters: 10, claimMatches: true, weightsHash: hash, work: 1000, worker: null, ...fields,
  };
}

describe("selection", () => {
  test("the dead are never kept; exact copiers first, then less counted work, then smaller, then wider margins, then the hash", () => {
    const candidates = [
      { index: 0, run: run("d", { status: "dead", reason: "does not parse.", distanceToSelf: null, bytes: 10, work: null }) },
      { index: 1, run: run("c", { distanceToSelf: 3, bytes: 50, work: 10 }) }, // cheap and small but not an exact copier
      { index: 2, run: run("b", { bytes: 120 }) },
      { index: 6, run: run("f", { bytes: 80, work: 2000 }) }, // smaller, but trained longer
      { index: 7, run: run("g", { bytes: 200, work: 500 }) }, // the least work wins over size
      { index: 3, run: run("a", { bytes: 90, minMargin: 0.5 }) },
      { index: 4, run: run("e", { bytes: 90, minMargin: 2, seconds: 999, epochs: 999 }) }, // slow and says so: neither counts
      { index: 5, run: run("e", { bytes: 90, minMargin: 2 }) }, // same program: the index breaks the tie
    ];
    const order = candidates.filter((c) => c.run.status === "alive").sort(compareFitness).map((c) => c.index);
    assert.deepEqual(order, [7, 4, 5, 3, 2, 6, 1]);
    assert.deepEqual([...select(candidates, 3)].sort(), [4, 5, 7]);
    assert.deepEqual([...select(candidates, 10)].sort(), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(select([candidates[0]], 2).size, 0);
  });
});

// ---- seeded copying errors --------------------------------------------------------------------------

/** A one-unit model that decodes to "ab" then the end, with logit leads of `lead`. */
function handModel(lead: number): CheckedModel {
  // vocab ["", "a", "b"]; the output depends only on the input symbol through h: h = o * tanh(c).
  // Simpler: zero recurrent weights and an output bias that is never used; logits from the kernel via h.
  // With H = 3 and one-hot-ish h per input symbol: h_k large for input k.
  const V = 3;
  const H = 3;
  const kernel = new Float64Array(V * 4 * H);
  for (let token = 0; token < V; token++) {
    for (let j = 0; j < H; j++) {
      kernel[token * 4 * H + j] = 20; // i open
      kernel[token * 4 * H + H + j] = -20; // f shut
      kernel[token * 4 * H + 2 * H + j] = token === j ? 20 : -20; // g: +1 for the unit of this token
      kernel[token * 4 * H + 3 * H + j] = 20; // o open
    }
  }
  // h ≈ tanh(1) on unit `token`, -tanh(1) elsewhere; next symbol: after "" → a, after a → b, after b → "".
  const next = [1, 2, 0];
  const outKernel = new Float64Array(H * V);
  for (let k = 0; k < H; k++) outKernel[k * V + next[k]] = lead / (2 * Math.tanh(1));
  return { vocab: ["", "a", "b"], hidden: H, parameters: 0, kernel, recurrent: new Float64Array(H * 4 * H), bias: new Float64Array(4 * H), outKernel, outBias: new Float64Array(V) };
}

describe("copying errors", () => {
  test("exp by plain arithmetic agrees with Math.exp", () => {
    for (const x of [0, -0.3, -1, -5.5, -20, -100]) assert.ok(Math.abs(expNonPositive(x) / Math.exp(x) - 1) < 1e-12, String(x));
    assert.equal(expNonPositive(-1000), 0);
  });

  test("temperature 0 is greedy; a seed gives the same child every time; wide margins copy faithfully", () => {
    const model = handModel(40);
    const limits = { maxChars: 100, maxSeconds: 10 };
    assert.equal(decodeModel(model, limits).text, "ab");
    assert.equal(makeChild("ab", model, 1, 0, 0, limits).text, "ab");
    assert.equal(makeChild("ab", model, 1, 1, 0, limits).text, "ab"); // a lead of 40 at T = 1: e^-40
    const marginal = handModel(0.5);
    const children = Array.from({ length: 50 }, (_, seed) => makeChild("ab", marginal, seed, 1, 0, limits).text);
    assert.ok(children.some((text) => text !== "ab"), "a lead of 0.5 at T = 1 makes copying errors");
    assert.deepEqual(Array.from({ length: 50 }, (_, seed) => makeChild("ab", marginal, seed, 1, 0, limits).text), children);
  });

  test("how far a child is decoded is bounded by work (characters × parameters), the same on any machine, not by the clock", () => {
    const bundle = childLimits("x".repeat(7065), 246_485); // the bundle: its whole limit, 2 × 7,065 + 1,000 characters
    assert.equal(bundle.maxChars, 15_130);
    assert.equal(childLimits("x".repeat(100_000), 2_000_000).maxChars, 20_000); // the largest model: 40G multiply-adds
    assert.ok(bundle.maxSeconds >= 600, "the clock is only a last wall");
  });

  test("sampling follows the softmax at temperature T", () => {
    const random = seededRandom(3);
    const logits = Float64Array.from([0, Math.log(3)]); // at T = 1: 1/4 and 3/4
    const draws = Array.from({ length: 4000 }, () => sampleAtTemperature(logits, 1, random));
    const share = draws.filter((v) => v === 1).length / draws.length;
    assert.ok(Math.abs(share - 0.75) < 0.03, String(share));
  });

  test("point mutations happen at the given rate, seeded", () => {
    const text = "x".repeat(10_000);
    const once = mutate(text, 0.01, ["y", "z"], seededRandom(seedFor(1, 2, 3)));
    assert.deepEqual(mutate(text, 0.01, ["y", "z"], seededRandom(seedFor(1, 2, 3))), once);
    assert.ok(once.mutations > 60 && once.mutations < 140, String(once.mutations));
    assert.notEqual(once.text, text);
    assert.deepEqual(mutate(text, 0, ["y"], seededRandom(1)), { text, mutations: 0 });
  });
});

// ---- mutation operators ------------------------------------------------------------------------------

const neverDrawn = (): number => assert.fail("a rate of 0 draws nothing");

describe("mutation operators", () => {
  test("a number is nudged by +1, −1, ×2 or ÷2, whole numbers staying whole, decimals in their last place", () => {
    assert.deepEqual([0, 1, 2, 3].map((kind) => nudge("150", kind).text), ["151", "149", "300", "75"]);
    assert.deepEqual([0, 1, 2, 3].map((kind) => nudge("0.02", kind).text), ["0.03", "0.01", "0.04", "0.01"]);
    assert.deepEqual([0, 1, 2, 3].map((kind) => nudge("0.1", kind).text), ["0.2", "0", "0.2", "0.05"]);
    assert.equal(nudge("1", 3).text, "0");
  });

  test("number literals are the operator's sites, not digits inside names", () => {
    const program = "const H = 64, epochs = 150, x1 = a.b2, rate = 0.02;\n";
    const edits: Edit[] = [];
    const child = mutateNumbers(program, 1, seededRandom(5), edits);
    assert.deepEqual(edits.map((e) => e.description.split(" → ")[0]), ["64", "150", "0.02"]);
    assert.ok(edits.every((e) => e.operator === "number" && e.line === 1));
    const expected = edits.reduce((text, e) => text.replace(new RegExp(`= ${e.description.split(" → ")[0].replace(".", "\\.")}\\b`), `= ${/→ (\S+)/.exec(e.description)?.[1]}`), program);
    assert.equal(child, expected);
    assert.match(child, /x1 = a\.b2/);
    assert.equal(mutateNumbers(program, 0, neverDrawn), program);
  });

  test("a token is duplicated or dropped; a line is duplicated or dropped; each edit is described", () => {
    const edits: Edit[] = [];
    const tokens = mutateTokens("f(x);", 1, seededRandom(1), edits);
    // Every token is edited: each appears twice or not at all, in order.
    assert.equal(tokens, edits.map((e) => (/duplicated$/.test(e.description) ? JSON.parse(/"(.*)"/.exec(e.description)?.[0] ?? "").repeat(2) : "")).join(""));
    assert.deepEqual(edits.map((e) => JSON.parse(/"(.*)"/.exec(e.description)?.[0] ?? "")), ["f", "(", "x", ")", ";"]);
    const lineEdits: Edit[] = [];
    const lines = mutateLines("a\nb\nc", 1, seededRandom(2), lineEdits);
    assert.deepEqual(lineEdits.map((e) => e.line), [1, 2, 3]);
    assert.equal(lines, ["a", "b", "c"].flatMap((line, i) => (/duplicated/.test(lineEdits[i].description) ? [line, line] : [])).join("\n"));
    assert.equal(mutateTokens("f(x);", 0, neverDrawn), "f(x);");
    assert.equal(mutateLines("a\nb", 0, neverDrawn), "a\nb");
  });

  test("program text in a description is quoted, escaped and cut short", () => {
    const edits: Edit[] = [];
    mutateLines(`\u001b[2J${"x".repeat(500)}`, 1, seededRandom(1), edits);
    assert.equal(edits.length, 1);
    assert.ok(!edits[0].description.includes("\u001b"), edits[0].description);
    assert.ok(edits[0].description.length < 80, edits[0].description);
  });

  test("operators are seeded: the same seed, the same child; all rates 0 change nothing", () => {
    const program = "const H = 64, epochs = 150;\nrun(H, epochs);\n";
    const rates = { number: 0.5, token: 0.2, line: 0.3 };
    const once = applyOperators(program, rates, seededRandom(9));
    assert.deepEqual(applyOperators(program, rates, seededRandom(9)), once);
    assert.notEqual(once.text, program);
    assert.deepEqual(applyOperators(program, { number: 0, token: 0, line: 0 }, neverDrawn), { text: program, edits: [] });
  });

  test("a child records what changed it", () => {
    const limits = { maxChars: 100, maxSeconds: 10 };
    const model = handModel(40); // decodes "ab" exactly
    assert.deepEqual(makeChild("ab", model, 1, 0, 0, limits).changedBy, []);
    assert.deepEqual(makeChild("ab", model, 1, 0, 0, limits, { number: 0, token: 1, line: 0 }).changedBy, ["token"]);
    assert.deepEqual(makeChild("abc", model, 1, 0, 0, limits).changedBy, ["sampling"], "the model decodes another text than the parent's");
  });

  test("--mutations is parsed into rates; a bad spec is one sentence", () => {
    assert.deepEqual(parseMutations("point=0.001, number=0.05,line=0.01"), { point: 0.001, number: 0.05, token: 0, line: 0.01 });
    assert.deepEqual(parseMutations(""), { number: 0, token: 0, line: 0 });
    assert.match(parseMutations("size=0.1") as string, /"size" is not an operator: use point, number, token, line/);
    assert.match(parseMutations("number=2") as string, /number=2 is not a rate between 0 and 1/);
    assert.match(parseMutations("number") as string, /is not name=rate/);
    assert.match(parseMutations("line=0.1,line=0.2") as string, /line is given twice/);
    const bad = cli("evolve", "--mutations", "number=lots", "--dir", join(scratch, "never"));
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, "neural-quine: --mutations: number=lots is not a rate between 0 and 1.\n");
    assert.equal(existsSync(join(scratch, "never")), false);
    // Without operators the run's record is as before operators existed, so older stores still resume.
    assert.equal("operators" in runRecord(evolveSettings, "h"), false);
    assert.equal(runRecord({ ...evolveSettings, mutations: { point: 0.002, number: 0, token: 0, line: 0 } }, "h").mutationRate, 0.002);
  });
});

describe("line of descent", () => {
  test("back to the ancestor's copy, parent before child; a missing step is named", () => {
    const person = (id: string, parent: string | null): Individual => ({
      id, generation: Number(id.split(".")[0]), index: Number(id.split(".")[1]), parent, seed: null, programHash: id, bytes: 1, mutations: 0,
      changedBy: [], edits: [], exactCopy: null, distanceToParent: null, distanceToAncestor: 0, cached: false, status: "kept", reason: null,
    });
    const generations = [{ individuals: [person("0.0", null), person("0.1", null)] }, { individuals: [person("1.0", "0.1")] }, { individuals: [person("2.3", "1.0")] }];
    assert.deepEqual((lineOfDescent(generations, "2.3") as Individual[]).map((i) => i.id), ["0.1", "1.0", "2.3"]);
    assert.equal(lineOfDescent([generations[0], generations[2]], "2.3"), "1.0, an ancestor of 2.3, is not in a readable generation");
    assert.equal(lineOfDescent(generations, "5.0"), "there is no individual 5.0");
  });

  test("a change is described in one line: where, and what, quoted and cut short", () => {
    assert.equal(describeChange("a\nconst H = 64;\nb", "a\nconst H = 32;\nb"), `line 2: "const H = 64;" → "const H = 32;"`);
    assert.equal(describeChange("a\nb\nc", "a\nc"), `line 2: 1 line(s) → 0 line(s)`);
    assert.equal(describeChange("x", "x"), "no change (an exact copy)");
    const long = describeChange(`${"y".repeat(300)}\u001b[2J`, `${"y".repeat(300)}z`);
    assert.ok(long.length < 120 && !long.includes("\u001b"), long);
  });
});

// ---- whole runs ------------------------------------------------------------------------------------------

// evolution/stand-in.js reads its own file and builds an LSTM that decodes to it exactly (a position
// counter in the recurrent weights), with wide margins: copying errors come from T and M alone.
const STAND_IN = readFileSync(join(ROOT, "evolution", "stand-in.js"), "utf8");
const standIn = join(scratch, "stand-in.js");
writeFileSync(standIn, STAND_IN);

// With the mutation operators too: they draw from the same seeded generator, so workers and a kill -9 change nothing.
const OPERATOR_RATES = { number: 0.05, token: 0.002, line: 0.02 };
const RUN = { population: 3, children: 2, generations: 4, temperature: 0.5, mutationRate: 0.001, seed: 2, mutations: OPERATOR_RATES };
const runArgs = (dir: string, workers: number, change: Partial<typeof RUN> = {}): string[] => {
  const knobs = { ...RUN, ...change };
  return [
    "evolve", "--from", standIn, "--dir", dir, "--workers", String(workers), "--population", String(knobs.population), "--children", String(knobs.children),
    "--generations", String(knobs.generations), "--temperature", String(knobs.temperature), "--mutation-rate", String(knobs.mutationRate), "--seed", String(knobs.seed),
    "--mutations", Object.entries(knobs.mutations).map(([name, rate]) => `${name}=${rate}`).join(","),
  ];
};

/** What must not depend on workers or interruptions: every individual but its cache flag. */
function population(dir: string): unknown[] {
  return readPopulation(dir).map((g) => {
    assert.notEqual(typeof g, "string", String(g));
    return (g as Generation).individuals.map(({ cached: _cached, ...rest }) => rest);
  });
}

describe("a population of stand-in replicators", () => {
  const one = join(scratch, "one-worker");
  const settings: EvolveSettings = { ...evolveSettings, ...RUN, from: standIn, dir: one, workers: 1 };

  test("runs to the end with exact copies, mutants and deaths, and prints its statistics", async () => {
    const result = await evolve(settings);
    assert.equal(result.statistics.length, RUN.generations);
    const generations = readPopulation(one) as Generation[];
    const children = generations.slice(1).flatMap((g) => g.individuals);
    assert.ok(children.some((i) => i.exactCopy), "exact copies");
    assert.ok(children.some((i) => !i.exactCopy), "mutants");
    assert.ok(children.some((i) => i.status === "dead"), "deaths");
    assert.ok(children.some((i) => i.changedBy.includes("number")), "number literals nudged");
    assert.ok(children.some((i) => i.changedBy.includes("sampling") || i.changedBy.includes("point")), "copying errors as before");
    assert.ok(children.every((i) => i.edits.every((e) => i.changedBy.includes(e.operator))));
    assert.equal(result.statistics[0].trainings, 1, "the ancestor's K copies are run once");
    assert.equal(result.statistics[0].cacheHits, RUN.population - 1);
    for (const g of generations) assert.ok(g.individuals.filter((i) => i.status === "kept").length <= RUN.population);

    const table = cli("population", "--dir", one);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /survival/);
    assert.equal(table.stdout.trim().split("\n").length, RUN.generations + 1);
    const workPng = join(scratch, "work.png"); // the work curve: the stand-in counts no work (it builds its model), so a flat line
    assert.equal(cli("population", "--dir", one, "--png", workPng).status, 0);
    assert.deepEqual([...readFileSync(workPng).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const mutant = children.find((i) => !i.exactCopy) as Generation["individuals"][number];
    const shown = cli("population", "show", mutant.id, "--dir", one);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`individual ${mutant.id.replace(".", "\\.")}: ${mutant.status}`));
    const diff = cli("population", "diff", mutant.id, "--dir", one);
    assert.equal(diff.status, 0, diff.stderr);
    assert.match(diff.stdout, /^@@/m);
    // The tree: the ancestor at the root, every genotype ever kept under the one it came from.
    const tree = cli("population", "tree", "--dir", one);
    assert.equal(tree.status, 0, tree.stderr);
    const kept = new Set(generations.flatMap((g) => g.individuals).filter((i) => i.status === "kept").map((i) => i.programHash.slice(0, 8)));
    const lines = tree.stdout.trim().split("\n");
    assert.match(lines[0], new RegExp(`^${sha256(STAND_IN).slice(0, 8)}  ${Buffer.byteLength(STAND_IN)} B  the ancestor; kept in 0`));
    assert.deepEqual(new Set(lines.map((line) => /([0-9a-f]{8}) {2}\d+ B/.exec(line)?.[1])), kept);
    // The line of descent of the mutant: from the ancestor's copy, one row per change of program, each saying what changed it.
    const lineage = cli("population", "lineage", mutant.id, "--dir", one);
    assert.equal(lineage.status, 0, lineage.stderr);
    const steps = lineage.stdout.trim().split("\n");
    assert.match(steps[0], new RegExp(`^line of descent of ${mutant.id.replace(".", "\\.")}: ${mutant.generation + 1} generation\\(s\\)`));
    assert.match(steps[2], /^0 +0\.\d+ +- +- +\d+ .*a copy of the ancestor$/);
    assert.match(steps.at(-1) ?? "", new RegExp(`^${mutant.generation} +${mutant.id.replace(".", "\\.")} +${mutant.changedBy.join(", ")} +${mutant.distanceToParent} `));
    assert.match(cli("population", "lineage", "--dir", one).stdout, /^line of descent of \d+\.\d+: /, "the fittest by default");
    const missing = cli("population", "show", "99.0", "--dir", one);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^neural-quine: Generation 99 cannot be read/);
  });

  test("the same seed gives the same population with 2 workers, killed with -9 and resumed", async () => {
    const two = join(scratch, "two-workers");
    // Its own process group, so that the kill takes the sandboxed programs with it.
    const child = spawn(process.execPath, [CLI, ...runArgs(two, 2)], { detached: true, stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const started = Date.now();
    while (!existsSync(join(two, "gen-0001")) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 20));
    process.kill(-(child.pid as number), "SIGKILL");
    await exited;
    assert.ok(existsSync(join(two, "gen-0000")), "generation 0 was written before the kill");
    ageLock(two); // as if the lock's stale timeout had passed since the kill
    const resumed = cli(...runArgs(two, 2));
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /continuing after gen-000/);
    assert.deepEqual(population(two), population(one));
  });

  test("resuming with other settings is refused in one sentence", () => {
    const other = cli(...runArgs(one, 1, { seed: RUN.seed + 1 }));
    assert.equal(other.status, 1);
    assert.match(other.stderr, /^neural-quine: .* holds a run with other settings/);
    assert.doesNotMatch(other.stderr, /\n\s+at /);
  });

  test("a damaged generation is reported, never a crash", () => {
    const last = join(one, `gen-${String(RUN.generations - 1).padStart(4, "0")}`, "generation.json");
    writeFileSync(last, readFileSync(last, "utf8").slice(0, 100));
    const table = cli("population", "--dir", one);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /damaged: generation 3: gen-0003\/generation.json is not valid JSON/);
    const again = cli(...runArgs(one, 1, { generations: RUN.generations + 1 }));
    assert.equal(again.status, 1);
    assert.match(again.stderr, /gen-0003 in .* is damaged .* remove that folder to run it again\.\n$/);
  });
});

test("population export writes an individual's program; bootstrap --from it gives exact generations", () => {
  const dir = join(scratch, "export");
  const made = cli(...runArgs(dir, 1, { population: 2, generations: 1 }));
  assert.equal(made.status, 0, made.stderr);
  const file = join(scratch, "exported.js");
  const exported = cli("population", "export", "0.1", file, "--dir", dir);
  assert.equal(exported.status, 0, exported.stderr);
  assert.match(exported.stdout, /^wrote 0\.1's program \(\d+ bytes, kept, an exact copier\) to .*; run it alone: neural-quine bootstrap --from /);
  assert.equal(readFileSync(file, "utf8"), STAND_IN);
  // The discovered replicator on its own: generations 0 and 1, each an exact copy of its program.
  const alone = cli("bootstrap", "--from", file, "--dir", join(scratch, "export-lineage"), "--generations", "2", "--json");
  assert.equal(alone.status, 0, alone.stderr);
  const { generations, stopped } = JSON.parse(alone.stdout) as { generations: { status: string; textFixpoint: boolean }[]; stopped: string | null };
  assert.deepEqual(generations.map((g) => [g.status, g.textFixpoint]), [["exact", true], ["exact", true]]);
  assert.equal(stopped, null);
  // What a user can get wrong, each in one sentence: the file is never overwritten.
  const clean = (args: string[], pattern: RegExp): void => {
    const result = cli("population", ...args, "--dir", dir);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  };
  clean(["export", "0.1", file], /^neural-quine: .*exported\.js already exists: give another file or remove it first\.\n$/);
  clean(["export", "0.7", join(scratch, "other.js")], /^neural-quine: Generation 0 has no individual 0\.7\.\n$/);
  clean(["export", "first", join(scratch, "other.js")], /^neural-quine: "first" is not an individual's id/);
  clean(["export", "0.1", join(scratch, "no-such-folder", "x.js")], /^neural-quine: Cannot write .*x\.js: its folder does not exist\.\n$/);
  clean(["export", "0.1", join(file, "x.js")], /^neural-quine: Cannot write .*x\.js: part of its path is a file, not a folder\.\n$/);
  clean(["export", "0.1"], /^neural-quine: Give an individual and a file: `population export <id> <file>`/);
  assert.equal(readFileSync(file, "utf8"), STAND_IN);
  assert.equal(existsSync(join(scratch, "other.js")), false);
});

test("--minutes: no generation starts once the time is up; running again continues", async () => {
  const dir = join(scratch, "minutes");
  const notes: string[] = [];
  const settings: EvolveSettings = { ...evolveSettings, ...RUN, generations: 2, from: standIn, dir, workers: 1 };
  const stopped = await evolve({ ...settings, minutes: 1e-9 }, (event) => { if (event.type === "note") notes.push(event.message); });
  assert.deepEqual([stopped.statistics.length, stopped.stoppedByTime], [0, true]);
  assert.match(notes.join("\n"), /minute\(s\) are up: stopping before gen-0000; run again to continue/);
  const resumed = await evolve(settings);
  assert.deepEqual([resumed.statistics.length, resumed.stoppedByTime], [2, false]);
});

test("a hostile program dies in the sandbox; nothing escapes and the run ends cleanly", () => {
  const target = join(scratch, "escaped.txt");
  const hostile = join(scratch, "hostile.js");
  writeFileSync(hostile, `${STAND_IN}require("fs").writeFileSync(${JSON.stringify(target)}, "out");\n`);
  const dir = join(scratch, "hostile");
  const result = cli("evolve", "--from", hostile, "--dir", dir, "--population", "2", "--generations", "2", "--workers", "1");
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /the population died out/);
  assert.equal(existsSync(target), false);
  const [first] = readPopulation(dir) as Generation[];
  assert.ok(first.individuals.every((i) => i.status === "dead"));
  assert.match(first.individuals[0].reason ?? "", /forbidden|permission|not allowed/i);
});

test("a parent whose model decodes to a hostile child: the child dies in the sandbox, the parent's line ends", () => {
  // The stand-in, changed to build a model of its text with require("child_process") in place of the runtime.
  const parent = join(scratch, "hostile-parent.js");
  const text = STAND_IN.split("\n").slice(1).join("\n")
    .replace(`t=require("fs").readFileSync(__filename,"utf8");`, `t=require("fs").readFileSync(__filename,"utf8").replace("neural-quine/"+"runtime","child_process");`)
    // Shorter elsewhere, so that the model stays under the publication's 2,000,000 weights.
    .replace("exact:!0,history:[],", "").replace("40/Math.tanh(1)", "52.5").replace(/\btf\b/g, "T");
  writeFileSync(parent, text);
  const dir = join(scratch, "hostile-mutant");
  const result = cli("evolve", "--from", parent, "--dir", dir, "--population", "1", "--children", "1", "--generations", "3", "--temperature", "0", "--mutation-rate", "0", "--workers", "1");
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /the population died out/);
  const [first, second, third] = readPopulation(dir) as Generation[];
  assert.equal(first.individuals[0].status, "kept");
  assert.equal(second.individuals[0].status, "dead");
  assert.match(second.individuals[0].reason ?? "", /child_process/);
  assert.equal(third, undefined, "nothing runs after extinction");
});
