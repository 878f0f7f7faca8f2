// Which TensorFlow.js backend to compute on. wasm is the default that always works (its binary ships
// inside the npm package); tfjs-node is an optional, faster backend used when it loads; the pure-JS
// cpu backend is the last resort.
import * as tf from "@tensorflow/tfjs-core";

export const BACKENDS = ["auto", "node", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

type Loaded = Exclude<BackendName, "auto">;

/** Why each backend that was tried could not be used, in one phrase each (see backendFailures). */
const failures: Partial<Record<Loaded, string>> = {};

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0].replace(/\.$/, "");
}

/** Runs `attempt`; a throw or a false is recorded as the reason `name` failed. */
async function tryBackend(name: Loaded, attempt: () => boolean | Promise<boolean>): Promise<boolean> {
  try {
    if (await attempt()) return true;
    failures[name] = "TensorFlow.js could not set it up";
  } catch (error) {
    failures[name] = reasonOf(error);
  }
  return false;
}

// Registers the "tensorflow" backend; throws when libtensorflow is missing (its install needs
// a download that machines without internet cannot make).
const loadNode = (): Promise<boolean> => tryBackend("node", () => {
  require("@tensorflow/tfjs-node");
  return tf.findBackendFactory("tensorflow") !== null && tf.setBackend("tensorflow");
});

const loadWasm = (): Promise<boolean> => tryBackend("wasm", () => {
  require("@tensorflow/tfjs-backend-wasm");
  return tf.setBackend("wasm");
});

/** Why the backends tried so far could not be used (an optional tfjs-node that is not installed, say). */
export function backendFailures(): Partial<Record<Loaded, string>> {
  return { ...failures };
}

/** Parses a --backend value; throws one clear sentence on anything else. */
export function parseBackend(value: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`Unknown backend "${value}": choose one of ${BACKENDS.join(", ")}.`);
}

/**
 * Selects and initialises a backend and returns the name it ended up on ("node", "wasm" or "cpu").
 * "auto" tries node, then wasm, then cpu. An explicit choice that cannot load is an error.
 */
export async function initBackend(choice: BackendName = "auto"): Promise<Loaded> {
  const current = currentBackend();
  if (current && (choice === "auto" || choice === current)) return current;
  // PROD silences tfjs's banner recommending tfjs-node: every run states its backend itself.
  tf.env().set("PROD", true);
  require("@tensorflow/tfjs-backend-cpu");
  if ((choice === "auto" || choice === "node") && (await loadNode())) return "node";
  if (choice === "node") throw new Error(`The node backend is not available: @tensorflow/tfjs-node did not load (${failures.node}; its install needs libtensorflow).`);
  if ((choice === "auto" || choice === "wasm") && (await loadWasm())) return "wasm";
  if (choice === "wasm") throw new Error(`The wasm backend did not initialise (${failures.wasm}).`);
  if (await tryBackend("cpu", () => tf.setBackend("cpu"))) {
    // An optional tfjs-node that is missing is the usual case; a wasm that fails is not: say why, once.
    if (failures.wasm) console.warn(`note: the wasm backend did not initialise (${failures.wasm}); using the slower cpu backend.`);
    return "cpu";
  }
  throw new Error(`No TensorFlow.js backend could be initialised (${Object.entries(failures).map(([name, why]) => `${name}: ${why}`).join("; ")}).`);
}

/** The backend in use, by our name, or null before initBackend. */
export function currentBackend(): Loaded | null {
  const name = tf.engine().backendName; // not tf.getBackend(), which would initialise one
  if (name === "tensorflow") return "node";
  if (name === "wasm" || name === "cpu") return name;
  return null;
}
