// The floor plan, checked (part of `npm run lint`): every import between the project's files, type-only
// ones included (eslint's import-x/no-cycle skips those), read syntactically by TypeScript's own
// pre-processor. It fails on
//   - a circle of files (a load-order bug waiting for its first value import), and
//   - an import that runs up: from a room on a lower floor to one on a higher floor (FLOORS below).
// Rooms on the same floor may use each other, but never in a circle of rooms.
//
//   npx tsx scripts/check-imports.ts [DIR]      DIR: the checkout (default: this one)
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import * as ts from "typescript";
import { ROOT } from "../src/paths";

/** The rooms from the ground up; a room may import only rooms on its own floor or below. */
export const FLOORS: string[][] = [
  ["src/paths.ts", "src/format.ts", "src/options.ts", "src/diff.ts", "src/files", "src/plot"],
  ["src/runtime"],
  ["src/quine", "src/sandbox", "src/weights", "src/bundle.ts"],
  ["src/ouroboros", "src/evolution", "src/memorize.ts"],
  ["src/queue", "src/terminal", "src/report"],
  ["src/index.ts", "src/cli.ts", "scripts"],
];

/** The package's own name: `neural-quine/runtime` (how the bundled trainer imports it) is src/runtime. */
const SELF = { "neural-quine/runtime": "src/runtime/index.ts", "neural-quine": "src/index.ts" } as Record<string, string>;

/** A file's room: its folder under src/ (or scripts/), or the file itself for a file at src/'s top. */
export function roomOf(file: string): string | null {
  const room = FLOORS.flat().find((r) => file === r || file.startsWith(`${r}/`));
  return room ?? null;
}

const floorOf = (room: string): number => FLOORS.findIndex((floor) => floor.includes(room));

/** The .ts files under `dir` (relative to `root`), without declaration files. */
function sourceFiles(root: string, dir: string): string[] {
  const full = join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(root, path);
    return /\.ts$/.test(name) && !/\.d\.ts$|\.as\.ts$/.test(name) ? [path] : [];
  });
}

/** Where an import of `spec` from `file` lands among the project's files, or null (a package, node:). */
function resolveImport(root: string, file: string, spec: string): string | null {
  if (SELF[spec]) return SELF[spec];
  if (!spec.startsWith(".")) return null;
  const base = relative(root, resolve(root, dirname(file), spec));
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(join(root, candidate)) && statSync(join(root, candidate)).isFile() && candidate.endsWith(".ts")) return candidate;
  }
  return null;
}

/** file → the project files it imports (value or type, static, dynamic or require). */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles(root, "src"), ...sourceFiles(root, "scripts")]) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), "utf8"), true, true);
    const targets = importedFiles.map((imported) => resolveImport(root, file, imported.fileName)).filter((t): t is string => t !== null);
    graph.set(file, [...new Set(targets)].filter((t) => t !== file));
  }
  return graph;
}

/** The circles of a graph (one per strongly connected component of more than one node), each as a list of its nodes. */
export function circles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm, iterative enough for a source tree.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** Everything wrong with the floor plan of the checkout at `root`, one sentence each. */
export function checkImports(root: string): string[] {
  const graph = importGraph(root);
  const problems: string[] = [];
  for (const circle of circles(graph)) problems.push(`These files import each other in a circle: ${circle.join(", ")}.`);
  const rooms = new Map<string, string[]>();
  for (const [file, targets] of graph) {
    const from = roomOf(file);
    if (from === null) {
      problems.push(`${file} is in no room of the floor plan (scripts/check-imports.ts FLOORS).`);
      continue;
    }
    for (const target of targets) {
      const to = roomOf(target);
      if (to === null || to === from) continue;
      if (floorOf(to) > floorOf(from)) problems.push(`${file} imports ${target}: ${from} (floor ${floorOf(from)}) must not use ${to} (floor ${floorOf(to)}), a floor above it.`);
      rooms.set(from, [...new Set([...(rooms.get(from) ?? []), to])]);
    }
  }
  for (const circle of circles(rooms)) problems.push(`These rooms use each other in a circle: ${circle.join(", ")}.`);
  return problems;
}

if (require.main === module) {
  const root = resolve(process.argv[2] ?? ROOT);
  const problems = checkImports(root);
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  if (problems.length) {
    process.stderr.write(`check-imports: ${problems.length} problem(s) in the floor plan.\n`);
    process.exit(1);
  }
}
