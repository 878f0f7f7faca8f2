// Which TensorFlow.js backend to compute on. wasm is the default that always works (its binary ships
// inside the npm package); tfjs-node is an optional, faster backend used when it loads; the pure-JS
// cpu backend is the last resort.
import * as tf from "@tensorflow/tfjs-core";

export const BACKENDS = ["auto", "node", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

function loadNode(): boolean {
  try {
    // Registers the "tensorflow" backend; throws when libtensorflow is missing (its install needs
    // a download that machines without internet cannot make).
    require("@tensorflow/tfjs-node");
    return tf.findBackendFactory("tensorflow") !== null;
  } catch {
    return false;
  }
}

function loadWasm(): boolean {
  try {
    require("@tensorflow/tfjs-backend-wasm");
    return true;
  } catch {
    return false;
  }
}

async function use(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
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
export async function initBackend(choice: BackendName = "auto"): Promise<Exclude<BackendName, "auto">> {
  const current = currentBackend();
  if (current && (choice === "auto" || choice === current)) return current;
  // PROD silences tfjs's banner recommending tfjs-node: every run states its backend itself.
  tf.env().set("PROD", true);
  require("@tensorflow/tfjs-backend-cpu");
  if ((choice === "auto" || choice === "node") && loadNode() && (await use("tensorflow"))) return "node";
  if (choice === "node") throw new Error("The node backend is not available: @tensorflow/tfjs-node did not load (its install needs libtensorflow).");
  if ((choice === "auto" || choice === "wasm") && loadWasm() && (await use("wasm"))) return "wasm";
  if (choice === "wasm") throw new Error("The wasm backend did not initialise.");
  if (await use("cpu")) return "cpu";
  throw new Error("No TensorFlow.js backend could be initialised.");
}

/** The backend in use, by our name, or null before initBackend. */
export function currentBackend(): Exclude<BackendName, "auto"> | null {
  const name = tf.engine().backendName; // not tf.getBackend(), which would initialise one
  if (name === "tensorflow") return "node";
  if (name === "wasm" || name === "cpu") return name;
  return null;
}
