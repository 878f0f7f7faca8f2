// evolve on a real job queue: a redis-server of its own (127.0.0.1, a free port, a password, no
// persistence), a coordinator and two workers as separate processes running the stand-in replicator
// (it builds, rather than trains, a model of its own file, so a run takes seconds). One worker is
// killed with -9 in the middle of a job and the coordinator is killed with -9 and restarted: the
// population still equals the local run with the same seed, every program ran and was stored once,
// and the password shows nowhere. Then, in this process, workers that lie or break the protocol, and
// one that cannot run a job. Skipped (with the reason printed) only where redis-server is absent;
// under CI (CI set) its absence fails instead.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue, Worker } from "bullmq";
import { evolve } from "../src/evolution/evolve";
import { openStore, readPopulation, type Generation } from "../src/evolution/population-store";
import { evolveSettings, type EvolveSettings } from "../src/evolution/settings";
import { sha256 } from "../src/files/hash";
import { ROOT } from "../src/paths";
import { openQueueReproducer } from "../src/queue/coordinator";
import { connectionOptions, queueUrl, redact, redactUrl } from "../src/queue/connection";
import { jobData, jobId, type JobResult } from "../src/queue/jobs";
import { QUEUE_NAME } from "../src/queue/settings";
import { WorkerEventSchema, type WorkerEvent } from "../src/queue/worker";
import { showIndividual } from "../src/terminal/population";
import { ageLock, assertCleanError, cli, CLI, tempDir } from "./helpers";

const hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
const skip = hasRedis || process.env.CI ? false : "redis-server is not installed (apt-get install redis-server)";
if (skip) process.stdout.write(`# skipping the job queue's tests: ${skip}\n`);

const STAND_IN = readFileSync(join(ROOT, "evolution", "stand-in.js"), "utf8");
// With the mutation operators too: they are drawn in the coordinator from each child's seeded generator, so the queue changes nothing.
const OPERATOR_RATES = { number: 0.05, token: 0.002, line: 0.02 };
const RUN = { population: 3, children: 2, generations: 5, temperature: 0.5, mutationRate: 0.001, seed: 2, mutations: OPERATOR_RATES };
const PASSWORD = randomBytes(12).toString("hex");

test("a queue's URL: from the flag, a file or NQ_QUEUE_URL, and its password never shown", () => {
  const url = `redis://:${PASSWORD}@db.example:6379/2`;
  assert.equal(redactUrl(url), "redis://:***@db.example:6379/2");
  assert.equal(redact(`could not AUTH with ${PASSWORD} at ${url}`, url), "could not AUTH with *** at redis://:***@db.example:6379/2");
  assert.equal(queueUrl({ queue: url }, {}), url);
  assert.equal(queueUrl({}, { NQ_QUEUE_URL: url }), url);
  assert.equal(queueUrl({}, {}), null);
  const file = join(tempDir(), "queue-url");
  writeFileSync(file, `${url}\n`);
  assert.equal(queueUrl({ queueFile: file }, { NQ_QUEUE_URL: "redis://elsewhere" }), url);
  assert.throws(() => queueUrl({ queue: "http://db.example" }, {}), /must start with redis:\/\/ or rediss:\/\//);
  assertCleanError(cli("worker"), /^neural-quine: Give the job queue: --queue/);
  const unreachable = cli("evolve", "--queue", "redis://:hunter2@127.0.0.1:1", "--dir", tempDir());
  assertCleanError(unreachable, /^neural-quine: Cannot reach the job queue at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/?: connect ECONNREFUSED/);
  assert.doesNotMatch(unreachable.stderr, /hunter2/);
});

/** A port no one listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** redis-server on 127.0.0.1 with a password and no persistence; its config comes on stdin, so the password is not in `ps`. */
async function startRedis(): Promise<{ url: string; server: ChildProcess }> {
  const port = await freePort();
  const server = spawn("redis-server", ["-"], { stdio: ["pipe", "pipe", "inherit"] });
  server.stdin?.end(`port ${port}\nbind 127.0.0.1\nsave ""\nappendonly no\nrequirepass ${PASSWORD}\n`);
  let out = "";
  await new Promise<void>((resolve, reject) => {
    server.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (/Ready to accept connections/.test(out)) resolve();
    });
    server.on("exit", (code) => reject(new Error(`redis-server ended (${code}): ${out}`)));
  });
  return { url: `redis://:${PASSWORD}@127.0.0.1:${port}`, server };
}

/** A process whose stdout and stderr are kept; a worker's stdout lines are read as its events (--json). */
function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; out: () => string; err: () => string; events: WorkerEvent[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, NQ_DEBUG: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const events: WorkerEvent[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (args[0] !== "worker") return;
    const lines = out.split("\n");
    for (const line of lines.slice(events.length, -1)) events.push(WorkerEventSchema.parse(JSON.parse(line)));
  });
  child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, out: () => out, err: () => err, events, exited };
}

async function until(what: string, condition: () => boolean, seconds = 120): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > seconds * 1000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every individual of a store but its cache flag: what must not depend on where or how the programs ran. */
function population(dir: string): unknown[] {
  return readPopulation(dir).map((g) => {
    assert.notEqual(typeof g, "string", String(g));
    return (g as Generation).individuals.map(({ cached: _cached, ...rest }) => rest);
  });
}

describe("evolve on a job queue", { skip }, () => {
  test("redis-server is installed (CI needs it: .ci/run installs it)", () => assert.ok(hasRedis, "redis-server is not on the PATH"));
  if (!hasRedis) return;

  let redis: Awaited<ReturnType<typeof startRedis>>;
  const scratch = tempDir();
  const standIn = join(scratch, "stand-in.js");
  writeFileSync(standIn, STAND_IN);
  const local = join(scratch, "local");
  const settings: EvolveSettings = { ...evolveSettings, ...RUN, from: standIn, dir: local, workers: 1 };
  const workers: ChildProcess[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(() => {
    for (const worker of workers) worker.kill("SIGKILL");
    redis?.server.kill("SIGKILL");
  });

  test("two workers, one killed with -9 mid-job, and a coordinator killed with -9 and restarted: the local run's population, every program run once", { timeout: 240_000 }, async () => {
    await evolve(settings); // the local run to compare with
    assert.ok(readPopulation(local).some((g) => typeof g !== "string" && g.individuals.some((i) => i.edits.length > 0)), "the operators edited some child");
    const dir = join(scratch, "queued");
    const urlFile = join(scratch, "queue-url");
    writeFileSync(urlFile, redis.url, { mode: 0o600 });
    const env = { NQ_QUEUE_URL: redis.url };
    // Short locks, so that a killed worker's job goes to the other within seconds.
    const workerArgs = ["worker", "--json", "--lock-seconds", "5", "--stalled-seconds", "2"];
    const [doomed, survivor] = [start(workerArgs, env), start(workerArgs, env)];
    workers.push(doomed.child, survivor.child);
    const evolveArgs = ["evolve", "--queue-file", urlFile, "--from", standIn, "--dir", dir, "--population", String(RUN.population), "--children", String(RUN.children),
      "--generations", String(RUN.generations), "--temperature", String(RUN.temperature), "--mutation-rate", String(RUN.mutationRate), "--seed", String(RUN.seed),
      "--mutations", Object.entries(OPERATOR_RATES).map(([name, rate]) => `${name}=${rate}`).join(",")];
    const first = start(evolveArgs, {});

    // A worker dies in the middle of its first job: the job is not lost, the other worker runs it.
    await until("the doomed worker's first job", () => doomed.events.some((e) => e.type === "started"));
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    for (const name of readdirSync(tmpdir())) if (name.startsWith(`nq-worker-${doomed.child.pid}-`)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
    const orphan = doomed.events.filter((e) => e.type === "started").at(-1);
    assert.equal(orphan?.type, "started");

    // The coordinator dies while a job runs, after a generation or more was written.
    await until("generation 1", () => existsSync(join(dir, "gen-0001")));
    const startedSoFar = survivor.events.filter((e) => e.type === "started").length;
    await until("a job in flight", () => survivor.events.filter((e) => e.type === "started").length > startedSoFar);
    first.child.kill("SIGKILL");
    await first.exited;
    assert.ok(!existsSync(join(dir, `gen-000${RUN.generations - 1}`)), "the coordinator was killed before the end");
    ageLock(dir); // as if the lock's stale timeout had passed since the kill

    const second = start(evolveArgs, {});
    assert.equal(await second.exited, 0, second.err());
    assert.match(second.err(), /continuing after gen-000\d/);
    assert.deepEqual(population(dir), population(local));

    // Nothing lost, nothing run twice: the store's programs are those of the local run, each finished
    // by exactly one worker (the orphaned job by the survivor) and recorded by one coordinator once.
    const stored = readdirSync(join(dir, "programs")).sort();
    assert.deepEqual(stored, readdirSync(join(local, "programs")).sort());
    for (const hash of stored) assert.ok(existsSync(join(dir, "programs", hash, "log.txt")), "what the program wrote is kept, as locally");
    const finished = [...doomed.events, ...survivor.events].flatMap((e) => (e.type === "finished" ? [e.programHash] : []));
    assert.deepEqual([...finished].sort(), stored);
    assert.ok(survivor.events.some((e) => e.type === "finished" && orphan?.type === "started" && e.programHash === orphan.programHash), "the killed worker's job was run by the other");
    const recorded = (first.err() + second.err()).match(/ ran [0-9a-f]{12} /g) ?? [];
    assert.equal(recorded.length, stored.length);
    for (const output of [first.err(), second.err(), doomed.out(), doomed.err(), survivor.out(), survivor.err()]) assert.ok(!output.includes(PASSWORD), "the password is never printed");

    // SIGTERM: the worker stops taking jobs and ends cleanly.
    survivor.child.kill("SIGTERM");
    assert.equal(await survivor.exited, 0, survivor.err());
    assert.equal(survivor.events.at(-1)?.type, "stopped");
  });

  test("SIGTERM: a worker finishes its running job and stops; a second SIGTERM hands the job back at once", { timeout: 120_000 }, async () => {
    const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(redis.url) });
    const add = async (program: string): Promise<string> => {
      const data = jobData(program, { backend: "wasm", timeout: 120, maxMemory: 1024 });
      await queue.add("reproduce", data, { jobId: jobId(data) });
      return jobId(data);
    };
    try {
      const finished = await add(`${STAND_IN}// finished after SIGTERM\n`);
      const worker = start(["worker", "--json"], { NQ_QUEUE_URL: redis.url });
      workers.push(worker.child);
      await until("its job", () => worker.events.some((e) => e.type === "started"));
      worker.child.kill("SIGTERM");
      assert.equal(await worker.exited, 0, worker.err());
      assert.equal(await queue.getJobState(finished), "completed");
      assert.deepEqual(worker.events.map((e) => e.type).filter((type) => type !== "finished"), ["ready", "started", "stopping", "stopped"]);

      const slow = await add("setTimeout(() => {}, 60000);\n"); // runs a minute, so it is still running at the second SIGTERM
      const impatient = start(["worker", "--json"], { NQ_QUEUE_URL: redis.url });
      workers.push(impatient.child);
      await until("its job", () => impatient.events.some((e) => e.type === "started"));
      impatient.child.kill("SIGTERM");
      await until("stopping", () => impatient.events.some((e) => e.type === "stopping"));
      impatient.child.kill("SIGTERM");
      assert.equal(await impatient.exited, 0, impatient.err());
      assert.equal(await queue.getJobState(slow), "waiting", "handed back for another worker");
      assert.ok(impatient.events.some((e) => e.type === "stopping" && e.returning));
      assert.deepEqual(impatient.events.at(-1), { type: "stopped", returned: 1, counts: { done: 0, running: 0, failed: 0 } });
      assert.ok(!impatient.events.some((e) => e.type === "finished"));
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  test("a worker's result is untrusted: a model that decodes to another text is stored as what it decodes to, a malformed result is refused", { timeout: 60_000 }, async () => {
    const dir = join(scratch, "lied-to");
    openStore(dir);
    const liar = `${STAND_IN}// a mutant whose worker lies\n`;
    const bogus = `${STAND_IN}// a mutant whose worker breaks the protocol\n`;
    const model = join(local, "programs", sha256(STAND_IN), "model");
    const common = { seconds: 1, worker: "a hostile\x1b]52;c;ZXZpbA==\x07 worker\u202e", missingWalls: ["network wall: down\r\x1b[2K."], log: "" };
    const fake = new Worker(QUEUE_NAME, async (job): Promise<JobResult> => {
      const data = job.data as { program: string; programHash: string };
      if (data.program === bogus) return { status: "dead", programHash: sha256(liar), reason: "made up.", ...common }; // another program's
      // It claims the program copied itself, and hands over the stand-in's model instead.
      return { status: "published", programHash: data.programHash, text: data.program, modelJson: readFileSync(join(model, "model.json"), "utf8"),
        weightsBase64: readFileSync(join(model, "weights.bin")).toString("base64"), epochs: 1, work: 1, ...common };
    }, { connection: connectionOptions(redis.url) });
    const notes: string[] = [];
    const reproducer = await openQueueReproducer(redis.url, { dir, backend: "wasm", timeout: 60, maxMemory: 1024 }, (note) => notes.push(note));
    try {
      const [stored] = await reproducer.reproduce([liar], () => {});
      assert.equal(stored.run.status, "alive");
      assert.equal(stored.emitted, STAND_IN, "the coordinator's own decoding, not the worker's word");
      assert.equal(stored.run.claimMatches, false);
      assert.ok((stored.run.distanceToSelf ?? 0) > 0);
      // The forged name and words come through shown, not acted on; the run records where it ran, and population show says what is not verified.
      assert.ok(notes.some((note) => note.includes("a hostile\\x1b]52;c;ZXZpbA==\\x07 worker\\u202e") && note.includes("down\\x0d\\x1b[2K")), notes.join("\n"));
      // eslint-disable-next-line no-control-regex
      assert.ok(!notes.some((note) => /[\x00-\x1f\x7f-\x9f\u202e]/.test(note)));
      assert.equal(stored.run.worker, common.worker);
      const shown = showIndividual({ individual: { id: "1.0", generation: 1, index: 0, parent: "0.0", seed: 1, programHash: stored.run.programHash, bytes: 1, mutations: 0, changedBy: [], edits: [],
        exactCopy: false, distanceToParent: 1, distanceToAncestor: 1, cached: false, status: "kept", reason: null }, stored });
      assert.match(shown, /training work .* as worker a hostile\\x1b.* sandbox counted it: not verified here \(the coordinator decodes the model itself, so the text is checked; the training work and epochs are the worker's word\)/);
      await assert.rejects(reproducer.reproduce([bogus], () => {}), /^Error: Workers returned a malformed result for program [0-9a-f]{12} 3 times \(it is the result of another program\)/);
      assert.equal(notes.filter((note) => /malformed result/.test(note)).length, 2);
    } finally {
      await fake.close();
      await reproducer.close();
    }
  });

  test("a job for another runtime is failed with its reason, and the worker goes on with the next job: a job cannot stop a worker", { timeout: 120_000 }, async () => {
    const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(redis.url) });
    try {
      const foreign = { ...jobData(STAND_IN, { backend: "wasm", timeout: 60, maxMemory: 1024 }), runtime: "neural-quine 0.0.0-elsewhere\x1b]52;c;ZXZpbA==\x07" };
      await queue.add("reproduce", foreign, { jobId: jobId(foreign), attempts: 5, backoff: { type: "fixed", delay: 60_000 } });
      const next = jobData(`${STAND_IN}// the next job\n`, { backend: "wasm", timeout: 60, maxMemory: 1024 });
      await queue.add("reproduce", next, { jobId: jobId(next) });
      const worker = start(["worker"], { NQ_QUEUE_URL: redis.url });
      workers.push(worker.child);
      await until("the next job", () => /published|dead: /.test(worker.err()));
      assert.match(worker.err(), /could not run job \S+: worker \S+ runs neural-quine \S+, @tensorflow\/tfjs-core \S+, wasm kernel, and the job needs neural-quine 0\.0\.0-elsewhere\\x1b\]52;c;ZXZpbA==\\x07\.\n/);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(worker.err(), /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, "nothing raw from the job on the terminal");
      assert.equal(await queue.getJobState(jobId(foreign)), "delayed", "it will be tried again, perhaps by a worker of its runtime");
      let state = await queue.getJobState(jobId(next));
      for (let tries = 0; state === "active" && tries < 500; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20)); // the worker said it finished; BullMQ records it just after
        state = await queue.getJobState(jobId(next));
      }
      assert.equal(state, "completed");
      assert.equal(worker.child.exitCode, null, "the worker is still running");
      worker.child.kill("SIGTERM");
      assert.equal(await worker.exited, 0, worker.err());
    } catch (error) {
      for (const worker of workers) worker.kill("SIGKILL"); // none left to take the next test's jobs
      throw error;
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  test("a job that asks for a longer time or more memory than the worker allows fails unrun, and the worker goes on", { timeout: 60_000 }, async () => {
    const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(redis.url) });
    try {
      const greedy = jobData(STAND_IN, { backend: "wasm", timeout: 7200, maxMemory: 1024 });
      await queue.add("reproduce", greedy, { jobId: jobId(greedy) });
      const worker = start(["worker", "--json", "--max-job-memory", "512"], { NQ_QUEUE_URL: redis.url });
      workers.push(worker.child);
      await until("the refusal", () => worker.events.some((e) => e.type === "failed"));
      const failed = worker.events.find((e) => e.type === "failed");
      assert.match(failed?.type === "failed" ? failed.reason : "", /^the job asks for 7200 s and 1024 MB, and worker \S+ allows at most 3600 s and 512 MB \(--max-job-seconds, --max-job-memory\)\.$/);
      assert.equal(await queue.getJobState(jobId(greedy)), "failed");
      worker.child.kill("SIGTERM");
      assert.equal(await worker.exited, 0, worker.err());
      assert.ok(!worker.events.some((e) => e.type === "started"), "the program never ran");
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
