// The sandbox: runs an untrusted program (a generation's emitted text, or a file from anyone) so
// that it can use TensorFlow.js and read its own source, and nothing else.
//
//   runInSandbox(programPath, limits, { onLog?, onProgress?, mode? }) → Promise<SandboxResult>
//     limits = { timeoutMs, maxMemoryMb, backend }  (DEFAULT_LIMITS: 60 min, 4096 MB, auto)
//     resolves { status: "ok", text, files, epochs, seed, exact, history, backend, kernel, work, stderr, walls }
//           or { status: "dead", reason, stderr, walls }    reason: one sentence, e.g. "forbidden: require(...)"
//     walls: which walls stood around this run (see Walls); probeWalls() tells before any run.
//     onLog receives the program's lines of text (rt.log, console), onProgress its training passes
//     (rt.progress, a record checked by the schema), as they come.
//     It rejects only when the harness itself is broken (e.g. dist/ not built), never for a program.
//
// Two walls, each meant to hold alone (the tests run every hostile program with both, with the
// outer alone and with the inner alone: see WallMode).
// Inner: ./child runs the program in a vm2 NodeVM whose `require` offers only `fs`
// (readFileSync of the program's own file), `@tensorflow/tfjs-core` (minus its environment) and
// `neural-quine/runtime` (whose start/log/publish talk to this process); no `process`, no eval.
// Outer: that child is a separate Node process, started by bubblewrap (Linux) in namespaces of its
// own: a network with only its own loopback, its own PIDs, and a file system holding nothing but
// /usr, node, the installed code and the program, read-only; as user 65534 when we are root; under
// Node's permission model (reads only of the installed code and the program; no writes, child
// processes or workers), with a V8 heap limit, an empty environment, a resident-memory watch and
// a SIGKILL at the deadline. A wall the system cannot raise is reported in `walls.missing`.
// The same program file runs unchanged standalone (`node program.js`), where the real runtime
// prints its text.
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { z } from "zod";
import { formatSeconds } from "../format";
import { ROOT } from "../paths";
import type { BackendName, Epoch } from "../runtime";
import { ChildMessage, FLOOD_REASON, MESSAGES_PER_SECOND } from "./messages";

export interface SandboxLimits {
  timeoutMs: number;
  maxMemoryMb: number;
  backend: BackendName;
}

/** The sandbox's limits from a person's settings, in seconds and MB as bootstrap, evolve and a queued job state them. */
export function sandboxLimits({ timeout, maxMemory }: { timeout: number; maxMemory: number }, backend: BackendName): SandboxLimits {
  return { timeoutMs: timeout * 1000, maxMemoryMb: maxMemory, backend };
}

/** The quine gives itself 30 minutes of training; the deadline leaves room for startup and decoding. */
export const DEFAULT_LIMITS: SandboxLimits = { timeoutMs: 60 * 60_000, maxMemoryMb: 4096, backend: "auto" };

/** Which walls stood around a run (recorded in every generation's metrics). A wall that could not be raised here is false, and `missing` says why, one sentence each. */
export const WallsSchema = z.object({
  vm2: z.boolean(), // the inner wall: the program runs in a vm2 NodeVM
  permissions: z.boolean(), // Node's permission model: no writes, child processes or workers; reads only of the code and the program
  network: z.boolean(), // a network namespace of its own: no address on the machine or beyond is reachable
  pid: z.boolean(), // a PID namespace of its own: it cannot signal any other process
  files: z.boolean(), // a mount namespace of its own: it sees only /usr, node, the installed code and the program (no sockets, no secrets)
  unprivileged: z.boolean(), // it does not run as root
  memory: z.boolean(), // heap limit and resident-memory watch
  time: z.boolean(), // killed at the deadline
  missing: z.array(z.string()),
});
export type Walls = z.infer<typeof WallsSchema>;

/**
 * Which walls a run has (an internal switch for the tests, not a user option): "both" always, but
 * the tests also run every hostile program with the outer wall alone ("outer": the program runs in
 * the child's own realm with Node's real require, no vm2) and with the inner wall alone ("inner":
 * vm2 in a plain child process, no namespaces, permission flags or user change), so that each is
 * seen to hold by itself.
 */
export type WallMode = "both" | "outer" | "inner";

export type SandboxResult =
  | { status: "ok"; text: string; files: ChildResult["files"]; epochs: number; seed: number; exact: boolean; history: unknown[]; backend: string; kernel: ChildResult["kernel"]; work: ChildResult["work"]; stderr: string; walls: Walls }
  | { status: "dead"; reason: string; stderr: string; walls: Walls };
type ChildResult = Extract<ChildMessage, { type: "result" }>;

const CHILD = join(ROOT, "dist", "src", "sandbox", "child.js");
const STDERR_LIMIT = 1 << 20; // keep the last MiB of a program's stderr
const MEMORY_POLL_MS = 200;
const EXIT_GRACE_MS = 5000; // after its verdict, a child that does not end is ended
const NOBODY = 65534; // the unprivileged user (and group) a sandbox runs as when we are root

/** Node's permission flag: `--permission` where it is stable (Node ≥ 22.13), else the experimental one. */
function permissionFlag(): string {
  return process.allowedNodeEnvironmentFlags.has("--permission") ? "--permission" : "--experimental-permission";
}

/** What the child may read: the installed dependencies, our compiled code and the program. */
function readablePaths(programPath: string): string[] {
  // The node_modules that holds TensorFlow.js (and vm2 beside it), wherever npm put it.
  const nodeModules = join(dirname(require.resolve("@tensorflow/tfjs-core/package.json")), "..", "..");
  // Both spellings of node_modules: module resolution reads it through symlinks as well.
  const dirs = [...new Set([nodeModules, realpathSync(nodeModules), join(ROOT, "node_modules"), join(ROOT, "dist")])];
  return [...dirs.map((dir) => `${dir}/*`), join(ROOT, "package.json"), programPath];
}

function readFlags(paths: string[]): string[] {
  // One flag per path: current Nodes (20.20 too) read a comma as part of the path.
  return paths.map((path) => `--allow-fs-read=${path}`);
}

/** A program on the PATH (the sandbox's own environment is empty, so it is looked up here), or null. */
function findProgram(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/bin"]) {
    const path = join(dir || ".", name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** Whether user NOBODY can read a bound path: inside the sandbox its parents are bubblewrap's own, so only its own mode counts. */
function othersCanRead(path: string): boolean {
  const stats = statSync(path);
  const needed = stats.isDirectory() ? 0o005 : 0o004; // a folder must also be entered
  const { mode } = stats;
  return (mode & needed) === needed;
}

/** The file system a sandbox sees: the system's /usr (and its /lib links), node, and `paths`, all read-only. */
function mountArgs(paths: string[]): string[] {
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const dir of ["/lib", "/lib64", "/lib32", "/bin"]) args.push("--ro-bind-try", dir, dir);
  args.push("--proc", "/proc", "--dev", "/dev");
  const bound = [...new Set([process.execPath, ...paths].flatMap((path) => [path, realpathSync(path)]))];
  const isBound = (dir: string): boolean => dir === "/usr" || bound.some((path) => dir === path || dir.startsWith(`${path}/`)) || dir.startsWith("/usr/");
  // bubblewrap makes the folders above a bound path for root only: make them ours to pass through, first.
  const above = new Set<string>();
  for (const path of bound) for (let dir = dirname(path); dir !== "/" && !isBound(dir); dir = dirname(dir)) above.add(dir);
  for (const dir of [...above].sort((a, b) => a.split("/").length - b.split("/").length)) args.push("--perms", "0755", "--dir", dir);
  for (const path of bound) args.push("--ro-bind", path, path);
  return args;
}

/** What the system offers for the outer wall: bubblewrap for the namespaces, setpriv to leave root. */
interface Confinement {
  bwrap: string | null;
  setpriv: string | null; // null when we are not root (nothing to leave) or it is missing
  missing: string[]; // why a namespace wall or the user change is not available here
}

let confinement: Confinement | undefined;

/** Looks once for bubblewrap and tries it (user namespaces may be disabled, or the system not Linux). */
function findConfinement(): Confinement {
  if (confinement) return confinement;
  const isRoot = process.getuid?.() === 0;
  const setpriv = isRoot ? findProgram("setpriv") : null;
  const missing: string[] = [];
  if (isRoot && !setpriv) missing.push("unprivileged user: unavailable here (we run as root and setpriv is not installed).");
  let bwrap: string | null = null;
  let why: string | undefined;
  if (process.platform !== "linux") why = `namespaces exist only on Linux, this is ${process.platform}`;
  else if (!(bwrap = findProgram("bwrap"))) why = "bubblewrap (bwrap) is not installed";
  else {
    const tryIt = spawnSync(bwrap, [...namespaceArgs(), ...mountArgs([]), ...userArgs(setpriv), process.execPath, "-e", "0"], { encoding: "utf8", env: {} });
    if (tryIt.status !== 0) {
      why = `bubblewrap could not start a sandbox: ${(tryIt.error?.message ?? tryIt.stderr).trim().split("\n")[0] || `exit ${tryIt.status}`}`;
      bwrap = null;
    }
  }
  if (why) {
    for (const wall of ["network", "pid", "files"]) missing.push(`${wall} wall: unavailable here (${why}).`);
    if (isRoot && setpriv) missing.push(`unprivileged user: unavailable here (${why}, and without its file system the installed code may not be readable by user ${NOBODY}).`);
  }
  confinement = { bwrap, setpriv: bwrap ? setpriv : null, missing };
  return confinement;
}

function namespaceArgs(): string[] {
  // --die-with-parent: if this process dies, the whole sandbox does. --new-session: no terminal tricks, no signals to our group.
  return ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session"];
}

/** Leaving root: setpriv (which needs root's capabilities to do it) becomes NOBODY, with no capabilities left; else bubblewrap drops them. */
function userArgs(setpriv: string | null): string[] {
  if (!setpriv) return ["--cap-drop", "ALL", "--"];
  return ["--", setpriv, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"];
}

const ALL_WALLS = { vm2: true, permissions: true, network: true, pid: true, files: true, unprivileged: true, memory: true, time: true };

/** The walls a run with both of them can have on this system; the CLI calls it once at start to say what is missing. */
export function probeWalls(): Walls {
  const { bwrap, setpriv, missing } = findConfinement();
  const unprivileged = process.getuid?.() !== 0 || setpriv !== null;
  return { ...ALL_WALLS, network: bwrap !== null, pid: bwrap !== null, files: bwrap !== null, unprivileged, missing };
}

/** How to start the child for one run: the command, its arguments and the walls that will stand. */
function childCommand(program: string, limits: SandboxLimits, mode: WallMode): { command: string; args: string[]; walls: Walls } {
  const node = [
    `--max-old-space-size=${Math.max(16, Math.floor(limits.maxMemoryMb))}`,
    "--disable-proto=throw", // no __proto__ games with the objects that cross vm2's bridge
    ...(process.allowedNodeEnvironmentFlags.has("--disable-warning") ? ["--disable-warning=ExperimentalWarning"] : []),
  ];
  const childArgs = [CHILD, program, limits.backend, mode === "outer" ? "node" : "vm2"];
  if (mode === "inner") {
    const isRoot = process.getuid?.() === 0;
    const walls = { ...ALL_WALLS, permissions: false, network: false, pid: false, files: false, unprivileged: !isRoot };
    return { command: process.execPath, args: [...node, ...childArgs], walls: { ...walls, missing: ["outer wall: removed (test mode: the inner wall alone)."] } };
  }
  const readable = readablePaths(program);
  const permissions = [permissionFlag(), ...readFlags(readable)];
  const probed = probeWalls();
  const walls: Walls = { ...probed, vm2: mode === "both", missing: [...probed.missing] };
  if (mode === "outer") walls.missing.push("inner wall: removed (test mode: the outer wall alone).");
  const { bwrap, setpriv } = findConfinement();
  if (!bwrap) return { command: process.execPath, args: [...permissions, ...node, ...childArgs], walls };
  const bound = [...new Set(readable.map((path) => path.replace(/\/\*$/, "")))];
  const unreadable = setpriv ? bound.find((path) => !othersCanRead(path)) : undefined;
  if (unreadable) {
    walls.unprivileged = false;
    walls.missing.push(`unprivileged user: unavailable for this run (${unreadable} is not readable by other users).`);
  }
  const args = [...namespaceArgs(), ...mountArgs(bound), "--chdir", dirname(program),
    ...userArgs(unreadable ? null : setpriv), process.execPath, ...permissions, ...node, ...childArgs];
  return { command: bwrap, args, walls };
}

/** Resident memory of a process and all its descendants in MB, from /proc (Linux); null where that is not available. */
function residentMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    let total = match ? Number(match[1]) / 1024 : 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean)) {
        total += residentMb(Number(child)) ?? 0;
      }
    }
    return total;
  } catch {
    return null;
  }
}


/** The last `limit` bytes of a stream, kept in chunks so that a flood costs little: nothing is copied until the end. */
function tailKeeper(limit: number): { add(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      while (chunks.length > 1 && size - chunks[0].length >= limit) size -= chunks.shift()?.length ?? 0;
    },
    text: () => Buffer.concat(chunks).subarray(-limit).toString("utf8"),
  };
}

/** A refused message's first issue, in a phrase: where in the message, and what is wrong ("epochs: Invalid input: expected int, received number"). */
function malformed(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "not a message";
  return `${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`.slice(0, 200);
}

/** What a caller hears of a run as it goes, and (tests only) which walls it has. */
export interface SandboxListeners {
  onLog?: (line: string) => void; // the program's lines of text
  onProgress?: (epoch: Epoch) => void; // its training passes
  mode?: WallMode; // default "both"
}

/** Runs a program file (its text is untrusted) in the sandbox. */
export function runInSandbox(programPath: string, limits: SandboxLimits, { onLog, onProgress, mode = "both" }: SandboxListeners = {}): Promise<SandboxResult> {
  if (!existsSync(CHILD)) {
    return Promise.reject(new Error(`The sandbox is not built: ${CHILD} is missing (run \`npx tsc -p tsconfig.build.json\`).`));
  }
  if (!existsSync(programPath)) {
    return Promise.resolve({ status: "dead", reason: `no program: ${programPath} does not exist.`, stderr: "", walls: probeWalls() });
  }
  const program = realpathSync(programPath);
  const { command, args, walls } = childCommand(program, limits, mode);
  const child = spawn(command, args, {
    env: mode === "inner" ? process.env : {}, // no inherited secrets (the inner wall alone must hide them itself)
    cwd: dirname(program),
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "advanced", // weights.bin crosses as bytes
    detached: true, // a process group of its own: a signal to "its group" reaches only the sandbox
  });

  return new Promise((resolvePromise) => {
    const stderr = tailKeeper(STDERR_LIMIT);
    let verdict: ChildMessage | undefined; // the child's "result" or "dead"
    let killedFor: string | undefined; // why this side stopped the child
    let running = true;
    const stop = (reason: string): void => {
      if (!running) return;
      killedFor ??= reason;
      child.kill("SIGKILL");
    };
    let windowStart = Date.now();
    let messagesInWindow = 0;

    child.stderr?.on("data", (chunk: Buffer) => stderr.add(chunk));
    child.on("message", (raw: unknown) => {
      if (Date.now() - windowStart > 1000) [windowStart, messagesInWindow] = [Date.now(), 0];
      if (++messagesInWindow > MESSAGES_PER_SECOND) return stop(FLOOD_REASON);
      const message = ChildMessage.safeParse(raw);
      if (!message.success) return stop(`broke a rule: sent a malformed message (${malformed(message.error)}).`);
      if (verdict || killedFor) return;
      if (message.data.type === "log") return onLog?.(message.data.line);
      if (message.data.type === "progress") return onProgress?.(message.data.epoch);
      verdict = message.data;
      setTimeout(() => stop("did not end after its verdict."), EXIT_GRACE_MS).unref();
    });

    const deadline = setTimeout(() => stop(`ran out of time: stopped after ${formatSeconds(limits.timeoutMs / 1000)} (the time limit).`), limits.timeoutMs);
    const memoryWatch = setInterval(() => {
      const used = child.pid === undefined ? null : residentMb(child.pid);
      if (used !== null && used > limits.maxMemoryMb) stop(`ran out of memory: it used more than ${limits.maxMemoryMb} MB (the memory limit).`);
    }, MEMORY_POLL_MS);

    child.on("error", (error) => stop(`the sandbox could not start: ${error.message}`));
    child.on("close", (code, signal) => {
      running = false;
      clearTimeout(deadline);
      clearInterval(memoryWatch);
      const err = stderr.text();
      if (verdict?.type === "result" && !killedFor) {
        const { text, files, epochs, seed, exact, history, backend, kernel, work } = verdict;
        return resolvePromise({ status: "ok", text, files, epochs, seed, exact, history, backend, kernel, work, stderr: err, walls });
      }
      let reason = (verdict?.type === "dead" ? verdict.reason : undefined) ?? killedFor;
      if (!reason && /heap limit|heap out of memory|allocation failed/i.test(err)) {
        reason = `ran out of memory: its JavaScript heap outgrew ${limits.maxMemoryMb} MB (the memory limit).`;
      }
      reason ??= `the sandbox process ended (${signal ?? `exit code ${code}`}) without a result.`;
      resolvePromise({ status: "dead", reason, stderr: err, walls });
    });
  });
}
