// Command-line options generated from a settings schema: each field of a zod object becomes one
// option (--max-epochs for maxEpochs), its help the field's description, its default the settings
// object's value; the parsed values are checked by the same schema. So a setting is spelled out once.
import { Command, InvalidArgumentError, Option } from "commander";
import { z } from "zod";

type Shape = Record<string, z.ZodType>;

/** maxEpochs → max-epochs. */
const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The field itself, unwrapped from z.optional. */
const bare = (field: z.ZodType): z.ZodType => (field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field);

/** What a field must be, as a phrase: "a positive integer", "a non-negative number", "one of mse, relative". */
function expectation(optional: z.ZodType): string {
  const field = bare(optional);
  if (field instanceof z.ZodEnum) return `one of ${field.options.join(", ")}`;
  if (field instanceof z.ZodBoolean) return "true or false";
  if (!(field instanceof z.ZodNumber)) return "valid";
  const kind = field.isInt ? "integer" : "number";
  const min = field.minValue;
  if (min === 0) return field.safeParse(0).success ? `a non-negative ${kind}` : `a positive ${kind}`;
  return min !== null && Number.isFinite(min) ? `${kind === "integer" ? "an integer" : "a number"} of at least ${min}` : `${kind === "integer" ? "an integer" : "a number"}`;
}

/** Adds one option per field of `schema`; `defaults` (when given) are shown in the help and used when an option is absent. */
export function addOptions(command: Command, schema: z.ZodObject<Shape>, defaults?: Record<string, unknown>): Command {
  for (const [name, optional] of Object.entries(schema.shape)) {
    const field = bare(optional);
    const help = optional.description ?? field.description ?? "";
    const option = field instanceof z.ZodBoolean
      ? new Option(`--${kebab(name)}`, help)
      : new Option(`--${kebab(name)} <${field instanceof z.ZodNumber ? (field.isInt ? "n" : "x") : field instanceof z.ZodPipe ? "spec" : "name"}>`, field instanceof z.ZodEnum ? `${help}: ${field.options.join(", ")}` : help);
    if (field instanceof z.ZodNumber) {
      option.argParser((value: string) => {
        const number = Number(value);
        if (value.trim() === "" || !Number.isFinite(number)) throw new InvalidArgumentError(`expected ${expectation(field)}.`);
        return number;
      });
    }
    const value = defaults?.[name];
    // An object default (a parsed spec) is shown as name=value pairs, as it is written.
    if (value !== undefined) option.default(value, value !== null && typeof value === "object" ? Object.entries(value).map(([k, v]) => `${k}=${String(v)}`).join(",") : undefined);
    command.addOption(option);
  }
  return command;
}

/** The settings among a command's parsed options, checked: anything wrong throws one sentence naming the option. */
export function readOptions<S extends z.ZodObject<Shape>>(schema: S, options: Record<string, unknown>): z.output<S> {
  const values = Object.fromEntries(Object.keys(schema.shape).filter((name) => options[name] !== undefined).map((name) => [name, options[name]]));
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue.path[0]);
  const field = schema.shape[name];
  if (!field) throw new Error(`${issue.message}.`);
  if (issue.code === "custom") throw new Error(`--${kebab(name)}: ${issue.message}.`); // a field's own check says what is wrong
  throw new Error(`--${kebab(name)} must be ${expectation(field)}, not ${JSON.stringify(options[name]) ?? "missing"}.`);
}
