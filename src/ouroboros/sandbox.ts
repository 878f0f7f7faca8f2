// The sandbox: runs an untrusted program (a generation's emitted text, or a file from anyone) so
// that it can use TensorFlow.js and read its own source, and nothing else.
//
//   runInSandbox(programPath, limits, onLog?) → Promise<SandboxResult>
//     limits = { timeoutMs, maxMemoryMb, backend }  (DEFAULT_LIMITS: 60 min, 4096 MB, auto)
//     resolves { status: "ok", text, files, epochs, seed, exact, history, backend, stderr }
//           or { status: "dead", reason, stderr }    reason: one sentence, e.g. "forbidden: require(...)"
//     onLog receives the program's lines of text (rt.log, console), onProgress its training passes
//     (rt.progress, a record), as they come.
//     It rejects only when the harness itself is broken (e.g. dist/ not built), never for a program.
//
// Two walls. Inner: ./sandbox-child runs the program in a vm2 NodeVM whose `require` offers only
// `fs` (readFileSync of the program's own file), `@tensorflow/tfjs-core` (minus its environment)
// and `neural-quine/runtime` (whose start/log/publish talk to this process); no `process`, no eval.
// Outer: that child is a separate Node process under Node's permission model (reads only of the
// installed code and the program; no writes, child processes or workers), with a V8 heap limit,
// an empty environment, a resident-memory watch and a SIGKILL at the deadline. The same program
// file runs unchanged standalone (`node program.js`), where the real runtime prints its text.
//
// Not walled by Node 20's permission model: the network. Only the inner wall keeps the program
// from it (no net/http/dgram modules, no fetch, no host objects that reach them).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BackendName, Epoch, ModelFiles } from "../runtime";
import { EpochSchema } from "../runtime/epoch";
import type { ChildMessage } from "./sandbox-child";

export interface SandboxLimits {
  timeoutMs: number;
  maxMemoryMb: number;
  backend: BackendName;
}

/** The quine gives itself 30 minutes of training; the deadline leaves room for startup and decoding. */
export const DEFAULT_LIMITS: SandboxLimits = { timeoutMs: 60 * 60_000, maxMemoryMb: 4096, backend: "auto" };

/** Which walls stood around a run. A wall that could not be raised here is false, and `missing` says why, one sentence each. */
export interface Walls {
  vm2: boolean; // the inner wall: the program runs in a vm2 NodeVM
  permissions: boolean; // Node's permission model: no writes, child processes or workers; reads only of the code and the program
  network: boolean; // a network namespace of its own: no address on the machine or beyond is reachable
  pid: boolean; // a PID namespace of its own: it cannot signal any other process
  unprivileged: boolean; // it does not run as root
  memory: boolean; // heap limit and resident-memory watch
  time: boolean; // killed at the deadline
  missing: string[];
}

/** The walls as they stand today (before namespaces): the network is open to the host realm. */
const CURRENT_WALLS: Walls = {
  vm2: true, permissions: true, network: false, pid: false, unprivileged: false, memory: true, time: true,
  missing: ["network wall: unavailable here (not implemented yet)."],
};

export type SandboxResult =
  | { status: "ok"; text: string; files: ModelFiles; epochs: number; seed: number; exact: boolean; history: unknown[]; backend: string; stderr: string; walls: Walls }
  | { status: "dead"; reason: string; stderr: string; walls: Walls };

const ROOT = join(__dirname, __dirname.includes(join("dist", "src")) ? "../../.." : "../..");
const CHILD = join(ROOT, "dist", "src", "ouroboros", "sandbox-child.js");
const STDERR_LIMIT = 1 << 20; // keep the last MiB of a program's stderr
const MEMORY_POLL_MS = 200;

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

/** Resident memory of a process in MB, from /proc (Linux); null where that is not available. */
function residentMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}

function isChildMessage(value: unknown): value is ChildMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return type === "log" || type === "progress" || type === "result" || type === "dead";
}

/** Runs a program file (its text is untrusted) in the sandbox; `onLog` gets its lines of text, `onProgress` its training passes, as they come. */
export function runInSandbox(programPath: string, limits: SandboxLimits, onLog?: (line: string) => void, onProgress?: (epoch: Epoch) => void): Promise<SandboxResult> {
  if (!existsSync(CHILD)) {
    return Promise.reject(new Error(`The sandbox is not built: ${CHILD} is missing (run \`npx tsc -p tsconfig.build.json\`).`));
  }
  if (!existsSync(programPath)) return Promise.resolve({ status: "dead", reason: `no program: ${programPath} does not exist.`, stderr: "", walls: CURRENT_WALLS });
  const program = realpathSync(programPath);
  const args = [
    permissionFlag(), ...readFlags(readablePaths(program)),
    `--max-old-space-size=${Math.max(16, Math.floor(limits.maxMemoryMb))}`,
    "--disable-proto=throw", // no __proto__ games with the objects that cross vm2's bridge
    ...(process.allowedNodeEnvironmentFlags.has("--disable-warning") ? ["--disable-warning=ExperimentalWarning"] : []),
    CHILD, program, limits.backend,
  ];
  const child = spawn(process.execPath, args, {
    env: {}, // no inherited secrets
    cwd: dirname(program),
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "advanced", // weights.bin crosses as bytes
  });

  return new Promise((resolvePromise) => {
    let stderr = "";
    let result: ChildMessage | undefined; // the child's verdict, "result" or "dead"
    let killedFor: string | undefined; // why this side stopped the child
    const stop = (reason: string): void => {
      if (killedFor || result) return;
      killedFor = reason;
      child.kill("SIGKILL");
    };

    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_LIMIT);
    });
    child.on("message", (message: unknown) => {
      if (!isChildMessage(message) || result) return;
      if (message.type === "log") onLog?.(String(message.line));
      else if (message.type === "progress") {
        const epoch = EpochSchema.safeParse(message.epoch); // checked again: the child runs the program's code
        if (epoch.success) onProgress?.(epoch.data);
      }
      else result = message;
    });

    const deadline = setTimeout(() => stop(`ran out of time: stopped after ${duration(limits.timeoutMs)} (the time limit).`), limits.timeoutMs);
    const memoryWatch = setInterval(() => {
      const used = child.pid === undefined ? null : residentMb(child.pid);
      if (used !== null && used > limits.maxMemoryMb) stop(`ran out of memory: it used more than ${limits.maxMemoryMb} MB (the memory limit).`);
    }, MEMORY_POLL_MS);

    child.on("error", (error) => stop(`the sandbox could not start: ${error.message}`));
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      clearInterval(memoryWatch);
      if (result?.type === "result") {
        const { text, files, epochs, seed, exact, history, backend } = result;
        return resolvePromise({ status: "ok", text, files, epochs, seed, exact, history, backend, stderr, walls: CURRENT_WALLS });
      }
      let reason = result?.type === "dead" ? result.reason : killedFor;
      if (!reason && /heap limit|heap out of memory|allocation failed/i.test(stderr)) {
        reason = `ran out of memory: its JavaScript heap outgrew ${limits.maxMemoryMb} MB (the memory limit).`;
      }
      reason ??= `the sandbox process ended (${signal ?? `exit code ${code}`}) without a result.`;
      resolvePromise({ status: "dead", reason, stderr, walls: CURRENT_WALLS });
    });
  });
}
