// A sandbox's records in words, one spelling for the terminal (`show`) and the report: which walls
// stood, whether the program's claim held, how the parent's decoding ended.
import { formatSeconds } from "../format";
import type { Claim, DecodeRecord } from "./publication";
import type { Walls } from "./run";

/** A recorded reason inside a sentence: without its closing full stop. */
const clause = (reason: string): string => reason.replace(/\.$/, "");

const WALL_NAMES: (keyof Omit<Walls, "missing">)[] = ["vm2", "permissions", "network", "pid", "files", "unprivileged", "memory", "time"];

/** Which walls stood: "vm2, permissions, … up; network down (why)". */
export function wallsText(walls: Walls | null): string {
  if (!walls) return "not recorded";
  const up = WALL_NAMES.filter((name) => walls[name]);
  const down = WALL_NAMES.filter((name) => !walls[name]);
  return [up.length ? `${up.join(", ")} up` : "none up", down.length ? `${down.join(", ")} down` : ""].filter(Boolean).join("; ") +
    (walls.missing.length ? ` (${walls.missing.map(clause).join("; ")})` : "");
}

/** Whether the program's claimed text is what its model decodes to. */
export function claimText(claim: Claim | null): string {
  if (!claim) return "–";
  return claim.matches
    ? "the text the program published is what its model decodes to"
    : `DIFFERS: the program published a text of ${claim.chars} characters (sha256 ${claim.hash.slice(0, 16)}…) that its model does not decode to`;
}

/** How the parent's decoding of the published model ended. */
export function decodeText(decode: DecodeRecord | null): string {
  if (!decode) return "–";
  const how = { end: "ended with the end symbol", length: "stopped at the length limit", time: "stopped at the time limit" }[decode.stopped];
  return `${how} after ${formatSeconds(decode.seconds)}; smallest margin ${decode.minMargin.toFixed(2)}`;
}
