// Where the queue is and how to reach it. The queue's URL holds Redis's password, so it is taken
// from --queue, a file (--queue-file) or NQ_QUEUE_URL (a flag shows in `ps`, a file or the
// environment does not), and never printed: every message that could hold it goes through `redact`.
import { existsSync, readFileSync, statSync } from "node:fs";
import Redis from "ioredis";
import type { QueueConnection } from "./settings";
import { errorMessage } from "../format";

/** The environment variable that holds the queue's URL when no flag gives it. */
export const QUEUE_URL_VARIABLE = "NQ_QUEUE_URL";

const CONNECT_SECONDS = 10;

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

/** Asks Redis once, with a client that does not retry: one sentence naming the queue (never its password) if it does not answer. */
export async function reachQueue(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: CONNECT_SECONDS * 1000 });
  let lastError: string | null = null; // the cause, where the failed command only says the connection closed
  client.on("error", (error: Error) => (lastError = error.message));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const reason = (lastError ?? errorMessage(error)).replace(/\.$/, "");
    throw new Error(redact(`Cannot reach the job queue at ${redactUrl(url)}: ${reason}.`, url));
  } finally {
    client.disconnect();
  }
}
