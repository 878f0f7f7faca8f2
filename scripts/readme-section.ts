// Generated tables live in the docs pages between <!-- NAME:begin --> and <!-- NAME:end --> markers;
// the scripts that measure them rewrite just that part. The README quotes none of them.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../src/paths";

/** Where a section lives when its script names no file (scripts/corpus.ts names none). */
const HOMES: Record<string, string> = { corpus: "docs/texts.md" };

export function writeReadmeSection(name: string, markdown: string, file = join(ROOT, HOMES[name] ?? "README.md")): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const doc = readFileSync(file, "utf8");
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file} lacks the ${begin} … ${end} markers.`);
  writeFileSync(file, `${doc.slice(0, i + begin.length)}\n${markdown.trim()}\n${doc.slice(j)}`);
}
