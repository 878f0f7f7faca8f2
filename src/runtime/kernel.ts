// Which LSTM kernel runs (WebAssembly or JavaScript, see ./lstm.ts), the work it has done in this
// process, and how the JavaScript side reads tensors and multiplies by a weight on the backend.
import * as tf from "@tensorflow/tfjs-core";
import { setWasmThreads, wasmKernel, wasmThreads } from "./lstm-wasm";

/**
 * A tensor's values as host code reads them: Tensor.prototype.dataSync as it was when this module
 * loaded. A sandbox later replaces it, for its program, with one that first checks who called (a
 * stack capture per call: 4% of a sandboxed training, profiled); the runtime is host code and wants
 * the host's own arrays.
 */
const hostDataSync = tf.Tensor.prototype.dataSync;
export function values(t: tf.Tensor): Float32Array {
  return hostDataSync.call(t) as Float32Array; // float32 tensors only here; adam checks its gradients
}

/** h [B,H] @ w [H,N] on the backend; returns a fresh Float32Array [B,N]. */
export function matMul(h: Float32Array, rows: number, w: tf.Tensor2D): Float32Array {
  // Not tf.tidy: it would walk the returned array element by element looking for tensors.
  const x = tf.tensor2d(h, [rows, h.length / rows]);
  const y = tf.matMul(x, w); // never with a transpose flag: those are ~10x slower on wasm
  const out = values(y);
  tf.dispose([x, y]);
  return out;
}

/** Which kernel runs a window: "auto" is the WebAssembly one where WebAssembly SIMD runs, else JavaScript. */
export const KERNELS = ["auto", "wasm", "js"] as const;
export type KernelChoice = (typeof KERNELS)[number];

let kernelInUse: "wasm" | "js" | undefined;

/**
 * Chooses the kernel, and for wasm the threads it may use (default: NQ_THREADS, else 2; a second
 * thread only speeds it up, the bits are the same). An explicit "wasm" that cannot run here is an
 * error. Returns the kernel chosen.
 */
export function setKernel(choice: KernelChoice, threads?: 1 | 2): "wasm" | "js" {
  if (!(KERNELS as readonly string[]).includes(choice)) throw new Error(`Unknown kernel "${choice}": choose one of ${KERNELS.join(", ")}.`);
  const available = wasmKernel() !== null;
  if (choice === "wasm" && !available) throw new Error("The wasm kernel is not available: this runtime has no WebAssembly SIMD.");
  if (available && threads) setWasmThreads(threads);
  kernelInUse = choice === "js" || !available ? "js" : "wasm";
  return kernelInUse;
}

/** Threads the kernel in use runs a window on: 2 for wasm with its helper thread, else 1. */
export function kernelThreads(): number {
  return kernelName() === "wasm" ? wasmThreads() : 1;
}

/**
 * The kernel lstmSequence runs on, for metrics: NQ_KERNEL (auto, wasm or js; default auto) unless
 * setKernel chose. The wasm kernel needs a hidden size that is a multiple of 4; others run on js.
 */
export function kernelName(): "wasm" | "js" {
  return kernelInUse ?? setKernel((process.env.NQ_KERNEL ?? "auto") as KernelChoice);
}

/**
 * The work the kernel did in this process, counted here rather than by its caller: characters through
 * the LSTM (training windows and decoding steps) and the forward pass's multiply-adds (recurrence,
 * gates' inputs and output layer; a backward pass costs about twice its forward). The same program
 * on the same text counts the same on any machine. A sandbox reports it, and evolution selects on it.
 */
const work = { chars: 0, multiplyAdds: 0 };

/** What the kernel has done in this process so far (a copy: only the kernel's own calls add to it). */
export function kernelWork(): { chars: number; multiplyAdds: number } {
  return { ...work };
}

/** Adds to the work counter: only the kernel's own entry points call it. */
export function countWork(chars: number, multiplyAdds: number): void {
  work.chars += chars;
  work.multiplyAdds += multiplyAdds;
}
