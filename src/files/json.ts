// Data that crossed a boundary (a file on disk, a message from a sandboxed program) is checked
// against one zod schema, which gives its type too. What is wrong is said in one phrase naming the field.
import { readFileSync } from "node:fs";
import type { z } from "zod";

/** The first problem zod found, naming the field: `field "history[3].loss": expected number, received string`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.map((key, i) => (typeof key === "number" ? `[${key}]` : i ? `.${String(key)}` : String(key))).join("");
  const problem = issue.message.replace(/^Invalid (input|option): /, "");
  return field ? `field "${field}": ${problem}` : problem;
}

/** A value checked against a schema: its data, or a phrase saying what is wrong. */
export function check<S extends z.ZodType>(schema: S, value: unknown): { data: z.output<S>; error?: undefined } | { error: string } {
  const result = schema.safeParse(value);
  return result.success ? { data: result.data } : { error: describeIssue(result.error) };
}

/** Reads a JSON file and checks it against `schema`; anything wrong throws one sentence naming `what` and the field. */
export function readJsonFile<S extends z.ZodType>(path: string, schema: S, what = path): z.output<S> {
  const result = parseJson(readFileSync(path, "utf8"), schema);
  if (result.error !== undefined) throw new Error(`${what} is damaged or not ours: ${result.error}.`);
  return result.data;
}

/** parseJson's phrase for text that is not JSON at all. */
export const NOT_JSON = "it is not valid JSON";

/** JSON text checked against `schema`: its data, or a phrase saying what is wrong. */
export function parseJson<S extends z.ZodType>(text: string, schema: S): { data: z.output<S>; error?: undefined } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: NOT_JSON };
  }
  return check(schema, json);
}
