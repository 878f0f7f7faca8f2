// The job queue's knobs, each defined once: where the queue is (for `evolve --queue` and `worker`)
// and how a worker runs. The CLI's options are derived from these schemas (src/options.ts).
// The queue's URL (with Redis's password) is found and kept out of messages by ./connection.
import { z } from "zod";
import { evolveSettings } from "../evolution/settings";

/** The BullMQ queue every reproduction goes through. */
export const QUEUE_NAME = "neural-quine-reproductions";

/** Where the queue is: for `evolve --queue` and `worker`. */
export const QueueConnectionSchema = z.object({
  queue: z.string().min(1).optional().describe(`the job queue's Redis URL, redis://[:password@]host:port[/db] (or NQ_QUEUE_URL, or --queue-file)`),
  queueFile: z.string().min(1).optional().describe("a file whose first line is the queue's URL (keeps a password out of `ps`)"),
});
export type QueueConnection = z.infer<typeof QueueConnectionSchema>;

/** How a worker runs (`neural-quine worker`). */
export const WorkerSettingsSchema = z.object({
  concurrency: z.number().int().positive().describe("programs this worker runs at once, each in its own sandbox"),
  lockSeconds: z.number().positive().describe("a job's lock lasts this long unless renewed: a worker that dies loses its jobs to others after about this"),
  stalledSeconds: z.number().positive().describe("how often this worker looks for jobs whose worker died, in seconds"),
  maxJobSeconds: z.number().positive().describe("refuse a job whose time limit is longer, in seconds (jobs are untrusted: anyone who can reach Redis can add one)"),
  maxJobMemory: z.number().positive().describe("refuse a job whose memory limit is larger, in MB"),
  allowMissingNetworkWall: z.boolean().optional().describe("take jobs even though this machine's sandbox has no network wall (not recommended: programs are untrusted)"),
  json: z.boolean().optional().describe("print progress as JSON records, one a line, on stdout"),
});
export type WorkerSettings = z.infer<typeof WorkerSettingsSchema>;

export const workerSettings: WorkerSettings = {
  concurrency: 1,
  lockSeconds: 30, // BullMQ's default
  stalledSeconds: 30,
  maxJobSeconds: 6 * evolveSettings.timeout, // room for jobs from runs with longer limits than evolve's default
  maxJobMemory: 2 * evolveSettings.maxMemory,
};
