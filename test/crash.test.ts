// Crash anywhere, lose nothing, tested as databases test it: `bootstrap` and `evolve` kill themselves
// (SIGKILL) right after their N-th durable file operation (NEURAL_QUINE_CRASH_AFTER, src/files/write.ts),
// for a seeded sample of N; after each, a rerun ends with exactly the store an uninterrupted run made.
// A full disk (a small tmpfs where bubblewrap can mount one, and an injected ENOSPC everywhere) ends in
// one sentence naming the folder, with nothing damaged, and the rerun continues. A dead run's lock is
// taken over at once; a live one's is refused.
// CRASH_POINTS=all npm test tries every N (minutes); the suite tries CRASH_POINTS (default 3) per command.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { seededRandom } from "../src/evolution/variation";
import { sha256 } from "../src/files/hash";
import { acquireLock, LOCK_STALE_MS } from "../src/files/lock";
import { readGeneration } from "../src/ouroboros/store";
import { ROOT } from "../src/paths";
import { ageLock, CLI, tempDir } from "./helpers";

const scratch = tempDir();
// The stand-in replicator: builds (not trains) a model of its own file, so a generation takes the sandbox's start-up alone.
const STAND_IN = join(scratch, "stand-in.js");
writeFileSync(STAND_IN, readFileSync(join(ROOT, "evolution", "stand-in.js"), "utf8"));

const bootstrapArgs = (dir: string): string[] => ["bootstrap", "--from", STAND_IN, "--dir", dir, "--generations", "2"];
const evolveArgs = (dir: string): string[] => [
  "evolve", "--from", STAND_IN, "--dir", dir, "--population", "2", "--children", "2", "--generations", "3",
  "--temperature", "0.5", "--mutation-rate", "0.001", "--mutations", "number=0.05,line=0.02", "--seed", "2", "--workers", "1",
];

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: scratch, env: { ...process.env, NQ_DEBUG: "", ...env } });
  return { status: result.status, signal: result.signal, stderr: result.stderr };
}

// What may differ between an interrupted run and an uninterrupted one: timings, when lineage.json
// was written, and whether a program's run was found cached (it was, if it finished before the crash).
const VOLATILE = new Set(["seconds", "wallSeconds", "charsPerSecond", "trainingSeconds", "updated", "cached", "cacheHits", "trainings"]);

/** Everything in a store, file by file (JSON without its volatile fields, other files by hash): equal stores, equal snapshots. */
function snapshot(dir: string): Record<string, unknown> {
  const files: Record<string, unknown> = {};
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".json")) files[relative(dir, path)] = JSON.parse(readFileSync(path, "utf8"), (key, value: unknown) => (VOLATILE.has(key) ? undefined : value));
      else files[relative(dir, path)] = sha256(readFileSync(path));
    }
    if (readdirSync(folder).length === 0) files[`${relative(dir, folder)}/`] = "empty folder";
  };
  walk(dir);
  return files;
}

/** CRASH_POINTS operations of `total`, one drawn (seeded) from each of CRASH_POINTS equal stretches; all of them with CRASH_POINTS=all. */
function crashPoints(total: number, seed: number): number[] {
  if (process.env.CRASH_POINTS === "all") return Array.from({ length: total }, (_, i) => i + 1);
  const count = Math.min(total, Number(process.env.CRASH_POINTS) || 3);
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => 1 + Math.floor(((i + random()) * total) / count));
}

interface Reference {
  dir: string;
  store: Record<string, unknown>;
  operations: string[]; // its durable operations, in order
}
const references = new Map<string, Reference>();

/** The command run once uninterrupted (shared by the tests that compare with it). */
function reference(command: "bootstrap" | "evolve", argsFor: (dir: string) => string[]): Reference {
  const known = references.get(command);
  if (known) return known;
  const dir = join(scratch, `${command}-reference`);
  const log = join(scratch, `${command}.operations`);
  const result = run(argsFor(dir), { NEURAL_QUINE_FILE_OPERATIONS: log });
  assert.equal(result.status, 0, result.stderr);
  const made = { dir, store: snapshot(dir), operations: readFileSync(log, "utf8").trim().split("\n") };
  references.set(command, made);
  return made;
}

function crashAndResume(command: "bootstrap" | "evolve", argsFor: (dir: string) => string[], seed: number): void {
  const expected = reference(command, argsFor);
  assert.ok(expected.operations.length > 20, expected.operations.join("\n"));
  for (const n of crashPoints(expected.operations.length, seed)) {
    const dir = join(scratch, `${command}-crash-${n}`);
    const what = `killed after operation ${n} of ${expected.operations.length} (${expected.operations[n - 1].replaceAll(scratch, "…")})`;
    const crashed = run(argsFor(dir), { NEURAL_QUINE_CRASH_AFTER: String(n) });
    assert.equal(crashed.signal, "SIGKILL", `${what}: ${crashed.stderr}`);
    const rerun = run(argsFor(dir));
    assert.equal(rerun.status, 0, `${what}, the rerun: ${rerun.stderr}`);
    assert.match(rerun.stderr, /its previous run \(PID \d+\) is gone; took over the lock/, what);
    assert.deepEqual(snapshot(dir), expected.store, what);
  }
}

describe("crash anywhere, lose nothing", () => {
  test("bootstrap killed after any write or rename: the rerun ends with the lineage an uninterrupted run makes", { timeout: 600_000 }, () => {
    crashAndResume("bootstrap", bootstrapArgs, 23);
  });

  test("evolve killed after any write or rename: the rerun ends with the population an uninterrupted run makes", { timeout: 600_000 }, () => {
    crashAndResume("evolve", evolveArgs, 24);
  });
});

describe("the lock", () => {
  test("bootstrap killed with -9 in the middle of a generation: an immediate rerun takes its lock over and resumes", async () => {
    const dir = join(scratch, "killed");
    // Its own process group, so that the kill takes the sandboxed program with it.
    const child = spawn(process.execPath, [CLI, ...bootstrapArgs(dir)], { cwd: scratch, detached: true, stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const midway = (): boolean => existsSync(join(dir, ".lock", "owner.json")) && readdirSync(dir).some((name) => name.startsWith("gen-0000.tmp-"));
    for (let waited = 0; !midway(); waited += 20) {
      assert.ok(waited < 60_000, "generation 0 never started");
      assert.equal(child.exitCode, null, "bootstrap ended before generation 0 started");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    process.kill(-(child.pid as number), "SIGKILL");
    await exited;
    assert.ok(existsSync(join(dir, ".lock")), "the killed run left its lock");
    const rerun = run(bootstrapArgs(dir));
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.match(rerun.stderr, new RegExp(`its previous run \\(PID ${child.pid}\\) is gone; took over the lock`));
    assert.match(rerun.stderr, /removed gen-0000\.tmp-\d+/);
    assert.deepEqual(snapshot(dir), reference("bootstrap", bootstrapArgs).store);
  });

  test("a lock held by a live run is refused; one whose holder is gone, or whose PID was reused, is taken over at once", async () => {
    const dir = join(scratch, "locks");
    mkdirSync(dir);
    const held = acquireLock(dir); // this test's process: alive, on this machine
    const owner = JSON.parse(readFileSync(join(dir, ".lock", "owner.json"), "utf8")) as { pid: number; started: string | null };
    assert.equal(owner.pid, process.pid);
    const refused = run(bootstrapArgs(dir));
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`^neural-quine: .*locks is in use by another run \\(PID ${process.pid} on this machine\\); wait for it to finish or stop it first\\.\\n$`));
    assert.throws(() => acquireLock(dir), /in use by another run/);
    held.release();
    assert.ok(!existsSync(join(dir, ".lock")), "released");

    // A holder that exited: gone.
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
    const lock = (record: object): void => {
      mkdirSync(join(dir, ".lock"));
      writeFileSync(join(dir, ".lock", "owner.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(scratch, "me.json"), "utf8")) as object, ...record }));
    };
    writeFileSync(join(scratch, "me.json"), JSON.stringify(owner));
    lock({ pid: gone });
    const taken = acquireLock(dir);
    assert.equal(taken.note, `its previous run (PID ${gone}) is gone; took over the lock`);
    taken.release();

    // A holder killed but not yet reaped by its parent (a zombie): gone too. (Linux, as /proc is read.)
    // (`sleep 0` in the background of a shell that then becomes `sleep 30`, which never reaps it.)
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once("data", (data: Buffer) => resolve(String(data)))));
    const state = (): string => readFileSync(`/proc/${zombie}/stat`, "utf8").split(") ")[1][0];
    for (let waited = 0; state() !== "Z"; waited += 20) {
      assert.ok(waited < 10_000, "the background sleep never ended");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    lock({ pid: zombie });
    const reaped = acquireLock(dir);
    assert.equal(reaped.note, `its previous run (PID ${zombie}) is gone; took over the lock`);
    reaped.release();
    parent.kill();

    // This process's PID with another start time: the PID was reused, its holder is gone.
    if (owner.started !== null) {
      lock({ started: "1" });
      const reused = acquireLock(dir);
      assert.match(reused.note ?? "", /is gone, the PID now belongs to another process; took over the lock/);
      reused.release();
    }

    // Another host: whether its holder lives cannot be known here, so the refresh-age rule.
    lock({ host: "elsewhere.example", pid: gone });
    assert.throws(() => acquireLock(dir), /in use by another run on elsewhere\.example \(its lock was refreshed 0 s ago\)/);
    ageLock(dir);
    const aged = acquireLock(dir);
    assert.match(aged.note ?? "", new RegExp(`stopped refreshing it ${Math.round(LOCK_STALE_MS / 1000) + 5} s ago`));
    aged.release();
  });
});

describe("a full disk", () => {
  const noSpace = (dir: string): RegExp => new RegExp(`^neural-quine: No space left to write ${dir.replaceAll(".", "\\.")}/gen-0001: free space and rerun; nothing was damaged\\.\\n$`);

  test("a write failing with ENOSPC (injected): one sentence naming the folder, nothing damaged, and the rerun continues", () => {
    const dir = join(scratch, "full-injected");
    const { store: expected, operations: all } = reference("bootstrap", bootstrapArgs);
    // The write of generation 1's weights, counted in the reference run's operations.
    const operations = all.filter((line) => line.startsWith("write "));
    const weights = operations.findIndex((line) => /gen-0001\.tmp-\d+\/model\/weights\.bin/.test(line)) + 1;
    assert.ok(weights > 0);
    const full = run(bootstrapArgs(dir), { NEURAL_QUINE_FAIL_WRITE_AFTER: String(weights) });
    assert.equal(full.status, 1, full.stderr);
    assert.match(full.stderr.split("\n").slice(-2).join("\n"), noSpace(dir));
    assert.doesNotMatch(full.stderr, /\n\s+at /, "no stack trace");
    assert.equal(readGeneration(dir, 0).damage, null);
    assert.ok(!existsSync(join(dir, "gen-0001")) && !existsSync(join(dir, ".lock")), "no generation 1, no lock left");
    const staging = readdirSync(dir).find((name) => /^gen-0001\.tmp-\d+$/.test(name)) as string;
    assert.deepEqual(readdirSync(join(dir, staging, "model")), ["model.json"], "the half-written weights are removed (they only took space)");
    const rerun = run(bootstrapArgs(dir));
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.deepEqual(snapshot(dir), expected);
  });

  // A real full disk needs a small file system: bubblewrap mounts a tmpfs of a given size without root where user namespaces are allowed.
  const bwrap = ["/usr/bin/bwrap", "/bin/bwrap"].find((path) => existsSync(path));
  const mountable = bwrap !== undefined && spawnSync(bwrap, ["--dev-bind", "/", "/", "--size", "1048576", "--tmpfs", scratch, "true"]).status === 0;
  test("a store on a small tmpfs: one sentence naming the folder, nothing damaged, and the rerun after freeing space continues",
    { skip: mountable ? false : "bubblewrap cannot mount a tmpfs here (the injected ENOSPC above stands for it)" }, () => {
      const { dir: uninterrupted, store: expected } = reference("bootstrap", bootstrapArgs);
      const size = (folder: string): number => readdirSync(folder, { recursive: true, encoding: "utf8" })
        .map((name) => statSync(join(folder, name))).filter((stat) => stat.isFile()).reduce((sum, stat) => sum + Math.ceil(stat.size / 4096) * 4096, 0);
      const MB = 1 << 20;
      const disk = size(uninterrupted) + 4 * MB;
      // Room for generation 0 and half of generation 1's model (the store's largest file).
      const filler = disk - size(join(uninterrupted, "gen-0000")) - statSync(join(uninterrupted, "gen-0001", "model", "weights.bin")).size / 2 - 64 * 1024;
      const mount = join(scratch, "tmpfs");
      const out = join(scratch, "from-tmpfs");
      mkdirSync(mount);
      const cli = (dir: string): string => [process.execPath, CLI, ...bootstrapArgs(dir)].map((word) => `'${word}'`).join(" ");
      const script = [
        `head -c ${Math.floor(filler)} /dev/zero > '${mount}/filler'`,
        `${cli(`${mount}/store`)} > /dev/null 2> '${scratch}/full.stderr'; echo "first: $?"`,
        `test -d '${mount}/store/gen-0000' && ! test -e '${mount}/store/gen-0001' && ! test -e '${mount}/store/.lock' && echo "intact"`,
        `rm '${mount}/filler'`,
        `${cli(`${mount}/store`)} > /dev/null 2> '${scratch}/rerun.stderr'; echo "rerun: $?"`,
        `cp -r '${mount}/store' '${out}'`,
      ].join("\n");
      const result = spawnSync(bwrap as string, ["--dev-bind", "/", "/", "--size", String(disk), "--tmpfs", mount, "sh", "-c", script], { encoding: "utf8", cwd: scratch, env: { ...process.env, NQ_DEBUG: "" } });
      assert.equal(result.stdout, "first: 1\nintact\nrerun: 0\n", `${result.stderr}\n${readFileSync(join(scratch, "full.stderr"), "utf8")}`);
      const full = readFileSync(join(scratch, "full.stderr"), "utf8");
      assert.match(full.split("\n").slice(-2).join("\n"), noSpace(`${mount}/store`));
      assert.doesNotMatch(full, /\n\s+at /, "no stack trace");
      assert.deepEqual(snapshot(out), expected);
    });
});
