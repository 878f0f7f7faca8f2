// The measuring scripts' command lines. Each runs for minutes to hours and rewrites committed
// tables, so `--help` prints its usage (the script's opening comment) and an option it does not
// know is refused before anything starts.
import { readFileSync } from "node:fs";

/** The first `//` comment of a script file, without the slashes. */
export function usage(file: string): string {
  const lines = readFileSync(file, "utf8").split("\n");
  lines.splice(0, Math.max(0, lines.findIndex((line) => line.startsWith("//")))); // compiled: after "use strict"
  const end = lines.findIndex((line) => !line.startsWith("//"));
  return `${lines.slice(0, end === -1 ? lines.length : end).map((line) => line.replace(/^\/\/ ?/, "")).join("\n")}\n`;
}

/**
 * False (after printing the usage) when `--help` or `-h` was asked for; throws on an option
 * (`--name`) not in `known`. Values that follow options are not checked here.
 */
export function readArguments(file: string, args: string[], known: string[]): boolean {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(usage(file));
    return false;
  }
  const unknown = args.find((arg) => /^--[a-z]/.test(arg) && !known.includes(arg));
  if (unknown !== undefined) throw new Error(`unknown option ${unknown}: see --help for the options this script takes.`);
  return true;
}
