// `evolve --queue URL`: the coordinator's side of the queue, a second Reproducer beside the local
// pool (src/evolution/reproduce). Each program to run becomes a BullMQ job whose id is the hash of
// what its result depends on; workers (./worker) run them anywhere. The coordinator treats every
// result as untrusted: it checks it against the schema, decodes the model itself (recordRun, as a
// local run does) and alone writes the population store; only then does it remove the job.
//
// Faults: a worker killed mid-job loses its lock, and BullMQ's stalled-job check hands the job to
// another worker. A coordinator killed and restarted finds every program already stored in the store
// (not queued again) and re-adds the others under the same ids, which BullMQ ignores for a job that
// exists: a finished one gives its result, a running one goes on. A dead program is a result; a job
// fails only when a worker could not run it (no sandbox, another runtime), and is then tried again.
import { Job, Queue } from "bullmq";
import type { StoredProgram } from "../evolution/population-store";
import { recordRun, type Reproducer, type RunSettings } from "../evolution/reproduce";
import { jobData, jobId, JobResultSchema, resultOutcome, type JobData } from "./jobs";
import { connectionOptions, reachQueue, redact, redactUrl } from "./connection";
import { QUEUE_NAME } from "./settings";
import { errorMessage, printableLine } from "../format";
import { LINE_MAX } from "../sandbox";

const POLL_MS = 250;
/** Tries of a job before it counts as failed: a worker that cannot run it fails it, another may take it. */
const ATTEMPTS = 5;
/** A finished job nobody collects (its coordinator never came back) is removed after a week. */
const KEEP_SECONDS = 7 * 24 * 3600;
/** How often a program's result may be malformed (a broken or hostile worker) before the run stops. */
const MALFORMED_LIMIT = 3;
/** Events BullMQ keeps in Redis: each holds a result, with a model of up to 10.7 MB (2,000,000 weights as base64). */
const EVENTS_KEPT = 10;

interface QueueReproducer extends Reproducer {
  close(): Promise<void>;
}

/** Why the coordinator stops, said in its own words (not a Redis failure to be wrapped). */
class CoordinatorStop extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects to the queue (one clear sentence, without the password, if it cannot) and returns the coordinator's Reproducer. */
export async function openQueueReproducer(url: string, settings: { dir: string } & RunSettings,
  onNote: (message: string) => void = () => {}): Promise<QueueReproducer> {
  await reachQueue(url);
  // BullMQ copies each result into its events stream (10,000 kept by default); nothing here reads it.
  const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(url), streams: { events: { maxLen: EVENTS_KEPT } } });
  queue.on("error", () => {}); // ioredis reconnects by itself; a command that fails says why
  const safely = async <T>(body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (error) {
      if (error instanceof CoordinatorStop) throw error;
      throw new Error(redact(`The job queue at ${redactUrl(url)} failed: ${errorMessage(error)}`, url));
    }
  };

  return {
    close: () => queue.close(),
    reproduce: (programs, onRun) => safely(async () => {
      const jobs = programs.map((program) => jobData(program, settings));
      await addJobs(queue, jobs);
      if (jobs.length > 0) {
        const workers = await queue.getWorkersCount();
        onNote(`${jobs.length} program(s) on the queue at ${redactUrl(url)}, for ${workers === 0 ? "the workers (none is connected yet: start them with `neural-quine worker`)" : `${workers} worker(s)`}`);
      }
      const results = new Array<StoredProgram>(programs.length);
      const pending = new Set(programs.keys());
      const malformed = new Map<number, number>();
      while (pending.size > 0) {
        const states = await Promise.all([...pending].map(async (i) => [i, await queue.getJobState(jobId(jobs[i]))] as const));
        for (const [i, state] of states) {
          const id = jobId(jobs[i]);
          if (state === "failed") {
            const job = await queue.getJob(id);
            const said = printableLine((job?.failedReason ?? "nothing").slice(0, LINE_MAX)); // a worker's words: untrusted
            throw new CoordinatorStop(`No worker could run program ${jobs[i].programHash.slice(0, 12)} (${ATTEMPTS} tries; the last said: ${said}); start a worker that can and run evolve again.`);
          }
          if (state === "unknown") {
            await addJobs(queue, [jobs[i]]); // removed by someone else: queued again
            continue;
          }
          if (state !== "completed") continue;
          const job = await queue.getJob(id);
          const result = JobResultSchema.safeParse(job?.returnvalue);
          const wrong = !result.success ? result.error.issues[0]?.message ?? "not a result"
            : result.data.programHash !== jobs[i].programHash ? "it is the result of another program" : null;
          if (!result.success || wrong !== null) {
            const times = (malformed.get(i) ?? 0) + 1;
            malformed.set(i, times);
            if (times >= MALFORMED_LIMIT) throw new CoordinatorStop(`Workers returned a malformed result for program ${jobs[i].programHash.slice(0, 12)} ${times} times (${wrong}); a worker is broken or hostile.`);
            onNote(`a malformed result for program ${jobs[i].programHash.slice(0, 12)} from a worker (${wrong}) was ignored; the job runs again`);
            await job?.remove();
            await addJobs(queue, [jobs[i]]);
            continue;
          }
          // A worker's name and words are untrusted: shown printable, whoever prints the note.
          if (result.data.missingWalls.length > 0) onNote(printableLine(`program ${jobs[i].programHash.slice(0, 12)} ran on ${result.data.worker} without every sandbox wall: ${result.data.missingWalls.join(" ")}`));
          // The parent's side, exactly as a local run: check, decode, store.
          results[i] = await recordRun(settings.dir, programs[i], resultOutcome(result.data), settings.backend, result.data.seconds);
          onRun(results[i]);
          pending.delete(i);
          await job?.remove(); // only now that the store holds it: a kill before this re-adds, and finds it finished
        }
        if (pending.size > 0) await sleep(POLL_MS);
      }
      return results;
    }),
  };
}

/** Adds the jobs under their deterministic ids (a job already there is kept as it is); one that failed before is tried again. */
async function addJobs(queue: Queue, jobs: JobData[]): Promise<void> {
  await queue.addBulk(jobs.map((data) => ({
    name: "reproduce", data,
    opts: { jobId: jobId(data), attempts: ATTEMPTS, backoff: { type: "fixed", delay: 1000 }, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } },
  })));
  for (const data of jobs) {
    const job = await Job.fromId(queue, jobId(data));
    // Failed before this call (when no worker could run it): this is a new attempt, perhaps with new workers.
    if (job && (await job.getState()) === "failed") await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
  }
}
