// How numbers and flags read in the terminal and in the report: one spelling for both.

/** Seconds as "42.1 s" or "3 min 07 s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds - minutes * 60)).padStart(2, "0")} s`;
}

/** "yes", "no", or `none` for anything that is not a boolean (null: not known). */
export function yesNo(value: unknown, none = "–"): string {
  return value === true ? "yes" : value === false ? "no" : none;
}

/** `x` rounded to `digits` decimals, as a number (for metrics files). */
export function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}

/** "1 generation", "3 generations". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Why something died, as one sentence: its first line, ending with a full stop. */
export function sentence(reason: string): string {
  const line = reason.split("\n")[0].trim() || "it died without saying why";
  return /[.!?…]$/.test(line) ? line : `${line}.`;
}

/** The kernel's counted work (forward multiply-adds) as "12.3 G multiply-adds"; "–" when not counted. */
export function formatWork(multiplyAdds: number | null): string {
  if (multiplyAdds === null) return "–";
  const [value, unit] = multiplyAdds >= 1e12 ? [multiplyAdds / 1e12, " T"] : multiplyAdds >= 1e9 ? [multiplyAdds / 1e9, " G"]
    : multiplyAdds >= 1e6 ? [multiplyAdds / 1e6, " M"] : [multiplyAdds, " "];
  return `${Number(value.toPrecision(3))}${unit}multiply-adds`;
}

/** Ascending numbers (generations) as a range list: "0-3, 5". */
export function ranges(values: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; i++) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    parts.push(i === j ? `${values[i]}` : `${values[i]}-${values[j]}`);
    i = j;
  }
  return parts.join(", ");
}

/** What was thrown, as its message: an Error's own, anything else as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- text from programs, models, logs and the queue ------------------------------------------------

// Characters a terminal may act on rather than show: C0 controls but newline and tab, DEL, the C1
// controls U+0080-U+009F (U+009B is a CSI on its own), the bidi controls (which reorder what is
// shown: U+061C, U+200E/F, U+202A-E, U+2066-9) and the line and paragraph separators.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNPRINTABLE_IN_LINE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A character's escape as a person reads it in a terminal: \x1b, \x9b, \u202e. */
function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Text that came from a program, a model, a log or the queue, made safe to print to a terminal:
 * every character a terminal could act on (an escape sequence, a carriage return, a bidi override)
 * is shown as its escape instead. Newlines and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, visible);
}

/** As printable, for text inside one line (a reason, a name): newlines and tabs are shown as \x0a, \x09 too, so that it cannot forge a line. */
export function printableLine(text: string): string {
  return text.replace(UNPRINTABLE_IN_LINE, visible);
}

/** JSON for a terminal: JSON.stringify escapes C0 controls; DEL, C1, bidi controls and separators are escaped here too (still valid JSON). */
export function printableJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(UNPRINTABLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Whether a model may hold a character: train refuses the other control characters in its input as
 * binary data (all C0 but tab, newline, carriage return and form feed; and DEL), and a published
 * model's vocabulary may hold no more than train accepts (src/sandbox/publication.ts).
 */
export function isTextCharacter(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0;
  return (code >= 32 && code !== 127) || "\t\n\r\f".includes(ch);
}

/** A character as U+001B. */
export function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}
