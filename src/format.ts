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
