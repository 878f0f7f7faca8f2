// `neural-quine worker --queue URL`: takes reproductions off the queue and runs each program in the
// sandbox exactly as a local run does (src/evolution/reproduce's runOutcome), returning what it gave.
// It decides nothing about the program: the coordinator checks and decodes every result itself.
//
// A worker runs untrusted programs, so it refuses to start when this machine's sandbox has no network
// wall, unless told otherwise. A program that dies is a result. A job is untrusted too (anyone who
// can reach Redis can add one): what a job says (another runtime, more time or memory than this
// worker allows, a malformed job) fails that job with its reason, and the worker goes on with the
// next; a job cannot stop a worker. A worker stops only for its own reasons: its signals, or its own
// sandbox failing to start (then others take its jobs). SIGTERM (or Ctrl-C) stops taking jobs and
// finishes the running ones; a second one returns them to the queue at once and stops. What it
// prints that came from a job or a program goes through printableLine (src/format.ts).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { z } from "zod";
import { runOutcome } from "../evolution/reproduce";
import { sha256 } from "../files/hash";
import { LINE_MAX, probeWalls } from "../sandbox";
import { errorMessage, formatSeconds, printableLine } from "../format";
import { jobResult, JobDataSchema, runtimeIdentity, type JobResult } from "./jobs";
import { connectionOptions, reachQueue, redact, redactUrl } from "./connection";
import { QUEUE_NAME, type WorkerSettings } from "./settings";

const Counts = z.object({
  done: z.number().int().nonnegative(), // jobs this worker finished (the program lived or died)
  running: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(), // jobs this worker refused or could not run (BullMQ tries them again, perhaps elsewhere)
});

/** What a worker reports as it goes: a record (printed as a line, or as JSON with --json). */
export const WorkerEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), worker: z.string(), queue: z.string(), concurrency: z.number(), missingWalls: z.array(z.string()), counts: Counts }),
  z.object({ type: z.literal("started"), jobId: z.string(), programHash: z.string(), counts: Counts }),
  z.object({ type: z.literal("finished"), jobId: z.string(), programHash: z.string(), status: z.enum(["published", "dead"]), reason: z.string().nullable(), seconds: z.number(), counts: Counts }),
  z.object({ type: z.literal("failed"), jobId: z.string(), reason: z.string(), counts: Counts }),
  z.object({ type: z.literal("stopping"), why: z.string(), returning: z.boolean(), counts: Counts }),
  z.object({ type: z.literal("stopped"), returned: z.number().int().nonnegative(), counts: Counts }), // returned: jobs handed back unfinished
]);
export type WorkerEvent = z.infer<typeof WorkerEventSchema>;

/** This worker's own sandbox cannot run (not the job's doing): the job fails, and the worker stops so that others take its jobs. */
class CannotRun extends Error {}

/**
 * Runs a worker until it is stopped (SIGTERM, SIGINT) or finds it cannot run sandboxes; resolves with
 * the jobs it handed back unfinished (a second signal), and throws one sentence if it cannot work here.
 */
export async function runWorker(url: string, settings: WorkerSettings, onEvent: (event: WorkerEvent) => void): Promise<{ returned: number }> {
  const walls = probeWalls();
  if (!walls.network && !settings.allowMissingNetworkWall) {
    const why = walls.missing.find((sentence) => sentence.startsWith("network wall")) ?? "network wall: unavailable here.";
    throw new Error(`This machine's sandbox has no ${why.replace(/\.$/, "")}, and a worker runs untrusted programs: install bubblewrap, or pass --allow-missing-network-wall to take jobs anyway.`);
  }
  await reachQueue(url);
  const name = `${hostname()}:${process.pid}`;
  const runtime = runtimeIdentity();
  const counts = { done: 0, running: 0, failed: 0 };
  const emit = (event: WorkerEvent): void => onEvent({ ...event, counts: { ...counts } });
  const active = new Map<string, { job: Job; token: string | undefined; folder: string }>();
  let broken: string | null = null; // why this worker cannot run jobs, once it knows

  const runJob = async (job: Job, token?: string): Promise<JobResult> => {
    // The job is untrusted input: anyone who can reach Redis can add one.
    const parsed = JobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`the job is not a reproduction (${parsed.error.issues[0]?.message ?? "malformed"}).`);
    const data = parsed.data;
    if (sha256(data.program) !== data.programHash) throw new UnrecoverableError("the job's program does not match its hash.");
    // Another runtime's job fails here (BullMQ tries it again, perhaps on a worker that has it), and this one goes on.
    if (data.runtime !== runtime) throw new Error(`worker ${name} runs ${runtime}, and the job needs ${data.runtime}.`);
    // A job that asks for more than this worker allows fails here (another worker may take it), and this one goes on.
    if (data.timeout > settings.maxJobSeconds || data.maxMemory > settings.maxJobMemory) {
      throw new Error(`the job asks for ${data.timeout} s and ${data.maxMemory} MB, and worker ${name} allows at most ${settings.maxJobSeconds} s and ${settings.maxJobMemory} MB (--max-job-seconds, --max-job-memory).`);
    }
    const id = job.id ?? data.programHash;
    // The program runs from a folder of its own, readable by the sandbox's unprivileged user.
    const folder = mkdtempSync(join(tmpdir(), `nq-worker-${process.pid}-`)); // the pid names what a killed worker left
    active.set(id, { job, token, folder });
    counts.running++;
    emit({ type: "started", jobId: id, programHash: data.programHash, counts });
    try {
      chmodSync(folder, 0o755);
      const path = join(folder, "program.js");
      writeFileSync(path, data.program, { mode: 0o644 });
      const started = Date.now();
      let outcome;
      try {
        outcome = await runOutcome(path, data);
      } catch (error) {
        throw new CannotRun(`worker ${name} cannot start a sandbox: ${errorMessage(error)}`);
      }
      if (outcome.status === "dead" && outcome.reason.startsWith("the sandbox could not start")) throw new CannotRun(`worker ${name}: ${outcome.reason}`);
      const seconds = Number(((Date.now() - started) / 1000).toFixed(3));
      const result = jobResult(data, outcome, seconds, name, walls.missing);
      counts.done++;
      counts.running--;
      emit({ type: "finished", jobId: id, programHash: data.programHash, status: result.status, reason: result.status === "dead" ? result.reason : null, seconds, counts });
      return result;
    } catch (error) {
      counts.running--;
      throw error;
    } finally {
      active.delete(id);
      rmSync(folder, { recursive: true, force: true });
    }
  };
  const processor = async (job: Job, token?: string): Promise<JobResult> => {
    try {
      return await runJob(job, token);
    } catch (error) {
      if (error instanceof CannotRun) broken ??= error.message; // this worker stops: others take its jobs
      throw error;
    }
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: connectionOptions(url), concurrency: settings.concurrency, name,
    lockDuration: settings.lockSeconds * 1000, stalledInterval: settings.stalledSeconds * 1000, maxStalledCount: 2,
    autorun: false,
  });
  let connectionError = "";
  worker.on("error", (error: Error) => (connectionError = redact(error.message, url)));

  return new Promise((resolve, reject) => {
    let draining = false; // no new jobs; it closes once the running ones are done
    let closing = false;
    let returned = 0;
    const stop = (why: string, returning: boolean): void => {
      if (closing) return;
      if (returning) {
        closing = true;
        emit({ type: "stopping", why, returning: true, counts });
        // Handing a job back: it waits for another worker at once (its sandbox ends with this process).
        void Promise.all([...active.values()].map(async ({ job, token, folder }) => {
          await job.moveToWait(token);
          rmSync(folder, { recursive: true, force: true }); // the process exits before its job's own cleanup
          returned++;
          counts.running--;
        })).then(() => worker.close(true)).finally(finish);
        return;
      }
      if (draining) return;
      draining = true;
      emit({ type: "stopping", why, returning: false, counts });
      void worker.pause(true); // BullMQ's close() would wait too, but a job could not be handed back while it closes
    };
    const onSignal = (signal: NodeJS.Signals): void => stop(`${signal}: finishing the running jobs (again to hand them back now)`, draining);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      clearInterval(watch);
      emit({ type: "stopped", returned, counts });
      if (broken) reject(new Error(`${broken.replace(/\.$/, "")}; this worker stopped, so that others take its jobs.`));
      else resolve({ returned });
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    const watch = setInterval(() => {
      if (broken && !draining) stop("it cannot run sandboxes", false);
      if (draining && !closing && active.size === 0) {
        closing = true;
        void worker.close().finally(finish);
      }
    }, 200);
    worker.on("failed", (job, error) => {
      counts.failed++;
      emit({ type: "failed", jobId: String(job?.id ?? "?").slice(0, 200), reason: redact(error.message, url).slice(0, LINE_MAX), counts });
    });
    worker.waitUntilReady().then(() => {
      emit({ type: "ready", worker: name, queue: redactUrl(url), concurrency: settings.concurrency, missingWalls: walls.missing, counts });
      return worker.run();
    }).catch((error: unknown) => {
      clearInterval(watch);
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      reject(new Error(redact(`The worker lost the job queue at ${redactUrl(url)}: ${connectionError || errorMessage(error)}`, url)));
    });
  });
}

/** One line of a worker's progress for the terminal; what came from a job or a program is shown printable. */
export function workerProgressLine(event: WorkerEvent): string {
  const { done, running, failed } = event.counts;
  const tally = `[${done} done, ${running} running, ${failed} failed]`;
  switch (event.type) {
    case "ready": return `worker ${printableLine(event.worker)} on ${printableLine(event.queue)}, ${event.concurrency} at a time${event.missingWalls.length ? `; walls missing: ${event.missingWalls.join(" ")}` : ""}\n`;
    case "started": return `${tally} started ${printableLine(event.programHash.slice(0, 12))}\n`;
    case "finished": return `${tally} ${printableLine(event.programHash.slice(0, 12))} ran ${formatSeconds(event.seconds)}: ${event.status === "dead" ? `dead: ${printableLine(event.reason ?? "")}` : "published"}\n`;
    case "failed": return `${tally} could not run job ${printableLine(event.jobId.slice(0, 16))}: ${printableLine(event.reason)}\n`;
    case "stopping": return `${tally} stopping (${event.why})\n`;
    case "stopped": return `${tally} stopped${event.returned ? `, ${event.returned} job(s) handed back to the queue` : ""}\n`;
  }
}
