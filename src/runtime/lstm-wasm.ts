// The WebAssembly LSTM kernel (source: ./wasm/lstm.as.ts) from JavaScript: loading it, laying out
// its arrays in its linear memory, and one call per window each way. Plain typed arrays in and out;
// ./lstm.ts plugs it into TensorFlow.js exactly like the JavaScript kernel.
import { LSTM_WASM_BASE64 } from "./wasm/binary";

type Pointer = number; // a byte offset into the kernel's memory

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): Pointer;
  forward(T: number, B: number, H: number, kernel: Pointer, recurrent: Pointer, bias: Pointer, tokens: Pointer,
    hAll: Pointer, cAll: Pointer, gates: Pointer, tanhC: Pointer, hs: Pointer): void;
  backward(T: number, B: number, H: number, V: number, recurrent: Pointer, tokens: Pointer, hAll: Pointer, cAll: Pointer,
    gates: Pointer, tanhC: Pointer, dhs: Pointer, recurrentT: Pointer, dh: Pointer, dc: Pointer,
    dKernel: Pointer, dRecurrent: Pointer, dBias: Pointer): void;
}

let loaded: KernelExports | null | undefined; // undefined: not tried yet; null: cannot run here

/** The kernel's instance, or null where WebAssembly SIMD is not available. Compiled once, synchronously. */
export function wasmKernel(): KernelExports | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  const bytes = Buffer.from(LSTM_WASM_BASE64, "base64");
  if (typeof WebAssembly !== "object" || !WebAssembly.validate(bytes)) return loaded; // no SIMD: the binary does not validate
  try {
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
    const names = ["heapBase", "forward", "backward"];
    if (exports.memory instanceof WebAssembly.Memory && names.every((name) => typeof exports[name] === "function")) {
      // Checked just above; the binary is our own, compiled from ./wasm/lstm.as.ts.
      loaded = exports as unknown as KernelExports;
    }
  } catch {
    // A runtime that refuses to compile WebAssembly: the JavaScript kernel is used instead.
  }
  return loaded;
}

/** The sizes of one window: T steps, B streams, H hidden units (a multiple of 4), V symbols. */
export interface WindowShape {
  T: number;
  B: number;
  H: number;
  V: number;
}

/**
 * Byte offsets of every array of one window in the kernel's memory, growing it to fit. `saved` is
 * the one contiguous span hAll, cAll, gates, tanhC that the backward pass needs from the forward.
 */
function layout(wasm: KernelExports, { T, B, H, V }: WindowShape) {
  const G = 4 * H;
  const sizes = {
    kernel: V * G, recurrent: H * G, bias: G, tokens: T * B,
    hAll: (T + 1) * B * H, cAll: (T + 1) * B * H, gates: T * B * G, tanhC: T * B * H, // saved, in this order
    hs: B * T * H, dhs: B * T * H, recurrentT: G * H, dh: B * H, dc: B * H, dKernel: V * G, dRecurrent: H * G, dBias: G,
  };
  let next = Math.ceil(wasm.heapBase() / 16) * 16;
  const at = {} as Record<keyof typeof sizes, Pointer>;
  for (const [name, count] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
    at[name] = next;
    next += Math.ceil(count / 4) * 16; // 16-byte aligned: whole v128s
  }
  const pages = Math.ceil(next / 65536) - wasm.memory.buffer.byteLength / 65536;
  if (pages > 0) wasm.memory.grow(pages);
  const savedFloats = sizes.hAll + sizes.cAll + sizes.gates + sizes.tanhC;
  return { at, saved: { at: at.hAll, floats: savedFloats } };
}

const f32 = (wasm: KernelExports, at: Pointer, count: number) => new Float32Array(wasm.memory.buffer, at, count);

/**
 * The forward pass of one window. `tokens` is [T,B] (step-major); `state` holds the initial h, c
 * [B,H] and is advanced to the final ones. Returns the outputs hs [B*T,H] (row b*T+t) and what the
 * backward pass needs, copied out of the kernel's memory (another window may run in between).
 */
export function wasmForward(wasm: KernelExports, shape: WindowShape, tokens: Int32Array, kernel: Float32Array,
  recurrent: Float32Array, bias: Float32Array, state: { h: Float32Array; c: Float32Array }): { hs: Float32Array; saved: Float32Array } {
  const { T, B, H } = shape;
  const { at, saved } = layout(wasm, shape);
  f32(wasm, at.kernel, kernel.length).set(kernel);
  f32(wasm, at.recurrent, recurrent.length).set(recurrent);
  f32(wasm, at.bias, bias.length).set(bias);
  new Int32Array(wasm.memory.buffer, at.tokens, tokens.length).set(tokens);
  f32(wasm, at.hAll, B * H).set(state.h);
  f32(wasm, at.cAll, B * H).set(state.c);
  wasm.forward(T, B, H, at.kernel, at.recurrent, at.bias, at.tokens, at.hAll, at.cAll, at.gates, at.tanhC, at.hs);
  state.h.set(f32(wasm, at.hAll + T * B * H * 4, B * H));
  state.c.set(f32(wasm, at.cAll + T * B * H * 4, B * H));
  return { hs: f32(wasm, at.hs, B * T * H).slice(), saved: f32(wasm, saved.at, saved.floats).slice() };
}

/** The backward pass of a window `wasmForward` ran, given the gradient dhs [B*T,H] of its outputs. */
export function wasmBackward(wasm: KernelExports, shape: WindowShape, tokens: Int32Array, recurrent: Float32Array,
  saved: Float32Array, dhs: Float32Array): { dKernel: Float32Array; dRecurrent: Float32Array; dBias: Float32Array } {
  const { T, B, H, V } = shape;
  const G = 4 * H;
  const { at, saved: span } = layout(wasm, shape);
  f32(wasm, at.recurrent, recurrent.length).set(recurrent);
  new Int32Array(wasm.memory.buffer, at.tokens, tokens.length).set(tokens);
  f32(wasm, span.at, span.floats).set(saved);
  f32(wasm, at.dhs, dhs.length).set(dhs);
  wasm.backward(T, B, H, V, at.recurrent, at.tokens, at.hAll, at.cAll, at.gates, at.tanhC, at.dhs, at.recurrentT, at.dh, at.dc,
    at.dKernel, at.dRecurrent, at.dBias);
  return {
    dKernel: f32(wasm, at.dKernel, V * G).slice(),
    dRecurrent: f32(wasm, at.dRecurrent, H * G).slice(),
    dBias: f32(wasm, at.dBias, G).slice(),
  };
}
