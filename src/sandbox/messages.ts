// What the sandbox's child process may say to its parent over the IPC channel, described once: the
// child builds these messages, the parent checks every one it receives against this schema. The
// child runs an untrusted program, and without the inner wall the program can send anything itself.
//   { type: "log", line }       a line of text from the program
//   { type: "progress", epoch } a training pass, as a record (rt.progress)
//   { type: "result", ... }     what the program published (text, model files, epochs, ...), and the kernel it trained on
//   { type: "dead", reason }    the program broke a rule, threw, did not parse or ended without a result
// A new kind of message is one more member of the union.
import { z } from "zod";
import { EpochSchema, TrainingCountsSchema } from "../runtime/epoch";

/** Lines and reasons are one sentence: the child caps them at 300 characters, the parent refuses more than this. */
export const LINE_MAX = 1000;

/** A program logs a line an epoch: more messages than this in one second is a flood, and breaks a rule. */
export const MESSAGES_PER_SECOND = 1000;
export const FLOOD_REASON = `broke a rule: sent more than ${MESSAGES_PER_SECOND} messages in a second.`;

const LogMessage = z.object({ type: z.literal("log"), line: z.string().max(LINE_MAX) });

const ProgressMessage = z.object({ type: z.literal("progress"), epoch: EpochSchema });

/** The LSTM kernel a training ran on: "wasm" or "js", and its threads (one in the sandbox, which refuses worker threads). */
export const KernelRecordSchema = z.object({ name: z.enum(["wasm", "js"]), threads: z.number().int().positive() });

/** The work the kernel counted while the program ran (src/runtime/lstm.ts kernelWork): characters and forward multiply-adds. */
export const KernelWorkSchema = z.object({ chars: z.number().int().nonnegative(), multiplyAdds: z.number().int().nonnegative() });

const ResultMessage = z.object({
  type: z.literal("result"),
  text: z.string(), // its length is checked by the publication check before anything else (./publication)
  files: z.object({ "model.json": z.string(), "weights.bin": z.custom<Uint8Array>((value) => value instanceof Uint8Array, "weights.bin must be bytes") }),
  ...TrainingCountsSchema.shape, // epochs a count, seed an integer
  exact: z.boolean(),
  history: z.array(z.unknown()), // checked record by record, and only its last records kept, by the parent (src/ouroboros/bootstrap)
  backend: z.string().max(LINE_MAX),
  kernel: KernelRecordSchema,
  work: KernelWorkSchema,
});

const DeadMessage = z.object({ type: z.literal("dead"), reason: z.string().max(LINE_MAX) });

export const ChildMessage = z.discriminatedUnion("type", [LogMessage, ProgressMessage, ResultMessage, DeadMessage]);
export type ChildMessage = z.infer<typeof ChildMessage>;
