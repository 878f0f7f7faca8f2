// The sandbox: the one place that runs untrusted code and checks what it publishes. Every room that
// runs a program (the lineage, evolution, the queue's worker) comes through here.
//
//   runAndCheck(path, program, limits, publication, listeners) → Verdict
//     runs the program behind both walls (./run) and, if it published, checks and decodes its model
//     in this process (./publication): the program's word is never taken.
// The two halves are exported too, for the job queue, where a worker on another machine runs the
// program (runInSandbox) and the coordinator alone checks what came back (checkPublication).
import { checkPublication, type CheckedPublication, type PublicationLimits } from "./publication";
import { runInSandbox, type SandboxLimits, type SandboxListeners, type SandboxResult } from "./run";

export * from "./describe";
export * from "./messages";
export * from "./publication";
export * from "./run";

type Published = Omit<Extract<SandboxResult, { status: "ok" }>, "status">;
type Checked = Omit<Extract<CheckedPublication, { ok: true }>, "ok">;

/** A program's run as the parent sees it: what it published, checked and decoded here, or why it died. */
export type Verdict =
  | ({ status: "alive" } & Published & Checked)
  | { status: "dead"; reason: string; stderr: string; walls: SandboxResult["walls"] };

/** Runs a program file in the sandbox, then checks and decodes its publication. Rejects only when the sandbox itself is broken. */
export async function runAndCheck(
  path: string, program: string, limits: SandboxLimits, publication: PublicationLimits, listeners: SandboxListeners = {},
): Promise<Verdict> {
  const result = await runInSandbox(path, limits, listeners);
  if (result.status === "dead") return result;
  const checked = await checkPublication(program, result.text, result.files, publication);
  if (!checked.ok) return { status: "dead", reason: checked.reason, stderr: result.stderr, walls: result.walls };
  const { status: _ran, ...published } = result;
  const { ok: _ok, ...decoded } = checked;
  return { status: "alive", ...published, ...decoded };
}
