// The job queue's knobs, each defined once: where the queue is (for `evolve --queue` and `worker`)
// and how a worker runs. The CLI's options are derived from these schemas (src/options.ts).
//
// The queue's URL holds Redis's password, so it is taken from --queue, NQ_QUEUE_URL or a file
// (--queue-file: a flag shows in `ps`, a file or the environment does not) and never printed:
// every message that could hold it goes through `redact`.
import { existsSync, readFileSync, statSync } from "node:fs";
import { z } from "zod";

/** The environment variable that holds the queue's URL when no flag gives it. */
export const QUEUE_URL_VARIABLE = "NQ_QUEUE_URL";

/** The BullMQ queue every reproduction goes through. */
export const QUEUE_NAME = "neural-quine-reproductions";

/** Where the queue is: for `evolve --queue` and `worker`. */
export const QueueConnectionSchema = z.object({
  queue: z.string().min(1).optional().describe(`the job queue's Redis URL, redis://[:password@]host:port[/db] (or ${QUEUE_URL_VARIABLE}, or --queue-file)`),
  queueFile: z.string().min(1).optional().describe("a file whose first line is the queue's URL (keeps a password out of `ps`)"),
});
export type QueueConnection = z.infer<typeof QueueConnectionSchema>;

/** How a worker runs (`neural-quine worker`). */
export const WorkerSettingsSchema = z.object({
  concurrency: z.number().int().positive().describe("programs this worker runs at once, each in its own sandbox"),
  lockSeconds: z.number().positive().describe("a job's lock lasts this long unless renewed: a worker that dies loses its jobs to others after about this"),
  stalledSeconds: z.number().positive().describe("how often this worker looks for jobs whose worker died, in seconds"),
  allowMissingNetworkWall: z.boolean().optional().describe("take jobs even though this machine's sandbox has no network wall (not recommended: programs are untrusted)"),
  json: z.boolean().optional().describe("print progress as JSON records, one a line, on stdout"),
});
export type WorkerSettings = z.infer<typeof WorkerSettingsSchema>;

export const workerSettings: WorkerSettings = {
  concurrency: 1,
  lockSeconds: 30, // BullMQ's default
  stalledSeconds: 30,
};

/** The URL with its password (and user) replaced by ***: what any message may show. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    if (parsed.username) parsed.username = "***";
    return parsed.toString();
  } catch {
    return "(a URL that does not parse)";
  }
}

/** A message with every spelling of the URL's password replaced by ***. */
export function redact(message: string, url: string): string {
  let password = "";
  try {
    password = new URL(url).password;
  } catch {
    return message.split(url).join(redactUrl(url));
  }
  let out = message.split(url).join(redactUrl(url));
  if (password.length > 0) {
    for (const spelling of new Set([password, decodeURIComponent(password)])) out = out.split(spelling).join("***");
  }
  return out;
}

/**
 * The queue's URL from --queue, else --queue-file, else NQ_QUEUE_URL; null when none is given (no
 * queue: evolve runs locally). A URL that is not redis:// or rediss:// throws one sentence, without it.
 */
export function queueUrl(connection: QueueConnection, env: NodeJS.ProcessEnv = process.env): string | null {
  if (connection.queue !== undefined && connection.queueFile !== undefined) throw new Error("Give either --queue or --queue-file, not both.");
  let url: string | undefined = connection.queue;
  if (url === undefined && connection.queueFile !== undefined) {
    const file = connection.queueFile;
    if (!existsSync(file) || statSync(file).isDirectory()) throw new Error(`The queue file ${file} is not a file.`);
    url = readFileSync(file, "utf8").split("\n")[0].trim();
    if (url === "") throw new Error(`The queue file ${file} is empty: its first line should be the queue's URL.`);
  }
  url ??= env[QUEUE_URL_VARIABLE] || undefined;
  if (url === undefined) return null;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new Error("The queue's URL does not parse: it should look like redis://:password@host:6379.");
  }
  if (protocol !== "redis:" && protocol !== "rediss:") throw new Error(`The queue's URL must start with redis:// or rediss://, not ${protocol}//.`);
  return url;
}

/** BullMQ's connection options for a URL: ioredis retries forever (a worker waits for Redis to come back). */
export function connectionOptions(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}
