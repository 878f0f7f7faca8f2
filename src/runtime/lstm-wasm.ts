// The WebAssembly LSTM kernel (source: ./wasm/lstm.as.ts) from JavaScript: loading it, laying out
// its arrays in its shared linear memory, and one call per window each way. Plain typed arrays in
// and out; ./lstm.ts plugs it into TensorFlow.js exactly like the JavaScript kernel.
//
// A second thread (a worker with the same module on the same memory) takes half of each window:
// for the trainer's fused step (wasmWindowStep), the second half of the streams, start to finish,
// or for a single stream the output layer and half the weight gradients, following the recurrence;
// for lstmSequence and linear, half the streams through time and half the columns of the weight
// gradients. The halves are fixed by the window's shape and every number is computed the same way
// whichever thread computes it, so one thread or two give the same bits. Where no worker can start
// (the sandbox's permission model refuses them) this thread does it all.
import type { Worker } from "node:worker_threads";
import { LSTM_WASM_BASE64 } from "./wasm/binary";

type Pointer = number; // a byte offset into the kernel's memory

/** The kernel's functions, in the order the worker knows them by (see HELPER_SOURCE). */
const JOBS = ["forward", "backwardSteps", "backwardWeights", "linearForward", "linearBackward", "windowStep", "windowStepFollow", "sumGradients", "adam"] as const;

interface KernelExports {
  heapBase(): Pointer;
  forward(T: number, B: number, H: number, K: number, b0: number, b1: number, kernel: Pointer, recurrent: Pointer, bias: Pointer,
    tokens: Pointer, hAll: Pointer, cAll: Pointer, gates: Pointer, tanhC: Pointer, hs: Pointer): void;
  transpose(rows: number, cols: number, from: Pointer, to: Pointer): void;
  backwardSteps(T: number, B: number, H: number, b0: number, b1: number, recurrentT: Pointer, cAll: Pointer, gates: Pointer,
    tanhC: Pointer, dhs: Pointer, dh: Pointer, dc: Pointer): void;
  backwardWeights(T: number, B: number, H: number, R: number, K: number, n0: number, n1: number, tokens: Pointer, hAll: Pointer,
    gates: Pointer, dKernel: Pointer, dRecurrent: Pointer, dBias: Pointer): void;
  linearForward(M: number, K: number, N: number, r0: number, r1: number, x: Pointer, w: Pointer, b: Pointer, y: Pointer): void;
  linearBackward(M: number, K: number, N: number, r0: number, r1: number, n0: number, n1: number, x: Pointer, dy: Pointer,
    wT: Pointer, dx: Pointer, dw: Pointer, db: Pointer): void;
  sumGradients(e0: number, e1: number, a: Pointer, b: Pointer, out: Pointer): void;
  adam(e0: number, e1: number, params: Pointer, value: Pointer, grad: Pointer, m: Pointer, v: Pointer): void;
  windowStep(table: Pointer): void;
  windowStepLead(table: Pointer, sync: Pointer): number;
  windowStepFollow(table: Pointer, sync: Pointer): number;
  decodeStep(H: number, V: number, K: number, rows: Pointer, kernel: Pointer, recurrent: Pointer, bias: Pointer, outKernel: Pointer,
    outBias: Pointer, h: Pointer, c: Pointer, z: Pointer, logits: Pointer): void;
}

/** The kernel: its functions, its memory, and the helper thread if one runs. */
export interface WasmKernel {
  exports: KernelExports;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  helper: Helper | null;
  claims: Claim[];
}

/** Memory a resident training holds (see claim): byte offsets start..end; `live` until released. */
interface Claim {
  start: Pointer;
  end: Pointer;
  live: boolean;
}

const MAX_PAGES = 16384; // 1 GiB, as compiled (scripts/build-kernel.ts): reserved, not used, until grown
// A thread that waits for the other spins this long before it sleeps: a training step hands work to
// the helper up to three times (the window, the gradients' sum, Adam), and waking a sleeping thread
// costs about as much as Adam's half (0.2 ms spun: the bundle's 8-stream step 8% faster; a thread
// left idle sleeps after it).
const SPIN_MS = 0.2;
const HELPER_TIMEOUT_MS = 120_000; // a helper this late has died: say so rather than wait forever

// The helper thread. control[0]: number of the job posted; [1]: number of the job done, or -1 if it
// threw; [2]: which function (index in JOBS); [3]: argument count; [4...]: the arguments.
// failure: the message of what it threw, UTF-8, zero-padded.
const HELPER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { module, memory, control, jobs, failure } = workerData;
const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports;
for (let seen = 0; ; ) {
  for (const until = performance.now() + ${SPIN_MS}; Atomics.load(control, 0) === seen && performance.now() < until; );
  while (Atomics.load(control, 0) === seen) Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  let status = seen;
  const job = jobs[control[2]];
  try {
    // (windowStepFollow says 0 when the thread it follows failed or gave no sign for a minute or more)
    if (kernel[job](...control.subarray(4, 4 + control[3])) === 0 && job === "windowStepFollow") throw new Error("the main thread gave no sign for a minute or more");
  } catch (error) {
    // A follower that fails says so in its window's third sync word, so that the lead stops waiting.
    if (job === "windowStepFollow") Atomics.store(new Int32Array(memory.buffer, control[5], 3), 2, 1);
    status = -1;
    failure.fill(0);
    new TextEncoder().encodeInto(String(error instanceof Error ? error.message : error), failure);
  }
  Atomics.store(control, 1, status);
  Atomics.notify(control, 1);
}`;

interface Helper {
  worker: Worker;
  control: Int32Array;
  failure: Uint8Array;
}

function startHelper(module: WebAssembly.Module, memory: WebAssembly.Memory): Helper | null {
  try {
    // Required here, not imported: the report's page bundles this module for the browser (for the
    // stepper beside it), where there are no worker threads; esbuild leaves a require in a try alone.
    const { Worker } = require("node:worker_threads") as typeof import("node:worker_threads");
    const control = new Int32Array(new SharedArrayBuffer(4 * 32));
    const failure = new Uint8Array(new SharedArrayBuffer(512));
    const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, control, jobs: JOBS, failure } });
    worker.unref(); // it waits for work forever: it must not keep the process alive
    worker.on("error", () => undefined); // its failures are seen through `control`
    return { worker, control, failure };
  } catch {
    return null; // no worker threads here (e.g. Node's permission model without --allow-worker)
  }
}

/** Posts a job to the helper; it runs while this thread does its own part. */
function post(helper: Helper, job: (typeof JOBS)[number], args: number[]): void {
  const { control } = helper;
  control[2] = JOBS.indexOf(job);
  control[3] = args.length;
  control.set(args, 4);
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
}

/** Waits until the helper has done the job posted last. */
function join(helper: Helper): void {
  const { control } = helper;
  const posted = Atomics.load(control, 0);
  const deadline = Date.now() + HELPER_TIMEOUT_MS;
  for (const until = performance.now() + SPIN_MS; Atomics.load(control, 1) !== posted && performance.now() < until; );
  for (let done = Atomics.load(control, 1); done !== posted; done = Atomics.load(control, 1)) {
    if (done === -1 || Date.now() > deadline) {
      const end = helper.failure.indexOf(0);
      const why = done === -1 ? new TextDecoder().decode(helper.failure.slice(0, end < 0 ? undefined : end)) : `no answer in ${HELPER_TIMEOUT_MS / 1000} s`;
      throw new Error(`The wasm kernel's helper thread failed (${why}): set NQ_THREADS=1 to run on one thread.`);
    }
    Atomics.wait(control, 1, done, 1000);
  }
}

let loaded: WasmKernel | null | undefined; // undefined: not tried yet; null: cannot run here

/** Threads the kernel may use: NQ_THREADS (1 or 2, default 2). Two give the same bits as one. */
function threadsWanted(): number {
  const value = process.env.NQ_THREADS ?? "2";
  if (value !== "1" && value !== "2") throw new Error(`NQ_THREADS is "${value}": it must be 1 or 2.`);
  return Number(value);
}

/** Whether a module's exports are the kernel's functions (the binary is our own, compiled from ./wasm/lstm.as.ts). */
function isKernel(exports: WebAssembly.Exports): exports is WebAssembly.Exports & KernelExports {
  return ["heapBase", "transpose", "windowStepLead", "decodeStep", ...JOBS].every((name) => typeof exports[name] === "function");
}

/** The kernel, or null where WebAssembly SIMD (or shared memory) is not available. Compiled once, synchronously. */
export function wasmKernel(): WasmKernel | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  const bytes = Buffer.from(LSTM_WASM_BASE64, "base64");
  // Said once: the JavaScript kernel that runs instead is about 2.3 times slower.
  const fallBack = (why: string): null => (console.warn(`note: the wasm kernel cannot run here (${why}); the slower JavaScript kernel is used instead.`), null);
  if (typeof WebAssembly !== "object") return fallBack("no WebAssembly");
  if (!WebAssembly.validate(bytes)) return fallBack("no WebAssembly SIMD: the binary does not validate");
  const threads = threadsWanted();
  try {
    const module = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    if (isKernel(exports)) loaded = { exports, module, memory, helper: threads > 1 ? startHelper(module, memory) : null, claims: [] };
  } catch (error) {
    return fallBack(error instanceof Error ? error.message : String(error)); // a runtime that refuses to compile it
  }
  return loaded;
}

/** Tokens [B,T,K] (row b: stream b; K kernel rows per step) as the kernel's forward pass reads them, [T,B,K], into `out`. */
export function stepMajor(tokens: Int32Array, B: number, out: Int32Array, K = 1): Int32Array {
  const T = tokens.length / (B * K);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) out[(t * B + b) * K + k] = tokens[(b * T + t) * K + k];
  }
  return out;
}

/** The sizes of one window: T steps, B streams, H hidden units (a multiple of 4), R kernel rows, K of them read per step. */
export interface WindowShape {
  T: number;
  B: number;
  H: number;
  R: number;
  K: number;
}

/**
 * Byte offsets for arrays of the given sizes (in 4-byte elements), one after the other in the
 * kernel's memory past its own data and past what resident trainings hold, growing the memory to
 * fit. Each call's arrays are scratch: a call copies in what it reads and copies out what it returns.
 */
function place<Name extends string>(wasm: WasmKernel, sizes: Record<Name, number>, what: string): Record<Name, Pointer> {
  const { at, end } = carve(scratchStart(wasm), sizes);
  reserve(wasm, end, what);
  return at;
}

/** Where scratch arrays start: past the kernel's own data and every claim still held (see claim). */
function scratchStart(wasm: WasmKernel): Pointer {
  return wasm.claims.at(-1)?.end ?? Math.ceil(wasm.exports.heapBase() / 16) * 16;
}

/**
 * Arrays that stay in the kernel's memory until `release` (a training's weights and moments),
 * zeroed: scratch arrays start past them. Claims are stacked; a released one's memory is reused
 * once every claim after it is released too.
 */
function claim<Name extends string>(wasm: WasmKernel, sizes: Record<Name, number>, what: string): { at: Record<Name, Pointer>; start: Pointer } {
  const start = scratchStart(wasm);
  const { at, end } = carve(start, sizes);
  reserve(wasm, end, what);
  new Uint8Array(wasm.memory.buffer, start, end - start).fill(0);
  wasm.claims.push({ start, end, live: true });
  return { at, start };
}

function release(wasm: WasmKernel, start: Pointer): void {
  for (const held of wasm.claims) if (held.start === start) held.live = false;
  while (wasm.claims.length && !wasm.claims[wasm.claims.length - 1].live) wasm.claims.pop();
}

/** Byte offsets for arrays of the given sizes (in 4-byte elements), one after the other from `start`, each 16-byte aligned. */
function carve<Name extends string>(start: Pointer, sizes: Record<Name, number>): { at: Record<Name, Pointer>; end: Pointer } {
  let next = start;
  const at = {} as Record<Name, Pointer>;
  for (const [name, count] of Object.entries(sizes) as [Name, number][]) {
    at[name] = next;
    next += Math.ceil(count / 4) * 16; // whole v128s
  }
  return { at, end: next };
}

/** Grows the kernel's memory to hold `end` bytes. */
function reserve(wasm: WasmKernel, end: Pointer, what: string): void {
  const pages = Math.ceil(end / 65536) - wasm.memory.buffer.byteLength / 65536;
  if (pages > 0) {
    if (Math.ceil(end / 65536) > MAX_PAGES) throw new Error(`${what} does not fit the wasm kernel's 1 GiB: set NQ_KERNEL=js.`);
    wasm.memory.grow(pages);
  }
}

/**
 * Byte offsets of every array of one window in the kernel's memory. `saved` is the one contiguous
 * span hAll, cAll, gates, tanhC that the backward pass needs from the forward.
 */
function layout(wasm: WasmKernel, { T, B, H, R, K }: WindowShape) {
  const G = 4 * H;
  const sizes = {
    kernel: R * G, recurrent: H * G, bias: G, tokens: T * B * K,
    hAll: (T + 1) * B * H, cAll: (T + 1) * B * H, gates: T * B * G, tanhC: T * B * H, // saved, in this order
    hs: B * T * H, dhs: B * T * H, recurrentT: G * H, dh: B * H, dc: B * H, dKernel: R * G, dRecurrent: H * G, dBias: G,
  };
  const at = place(wasm, sizes, `A window of ${T} steps × ${B} streams × ${H} units`);
  const savedFloats = sizes.hAll + sizes.cAll + sizes.gates + sizes.tanhC;
  return { at, saved: { at: at.hAll, floats: savedFloats } };
}

const f32 = (wasm: WasmKernel, at: Pointer, count: number) => new Float32Array(wasm.memory.buffer, at, count);

/** Runs `job` on the arguments of each of two fixed parts: the second on the helper if there is one, else after the first here. */
function inTwoParts(wasm: WasmKernel, job: (typeof JOBS)[number], first: number[], second: number[]): void {
  const run = wasm.exports[job] as (...args: number[]) => void;
  if (wasm.helper) post(wasm.helper, job, second);
  run(...first);
  if (wasm.helper) join(wasm.helper);
  else run(...second);
}

/**
 * Runs `job` over the first part of each range, [0, split), on this thread, and over the rest,
 * [split, end), on the helper if there is one; without it, over the whole ranges here.
 */
function split(wasm: WasmKernel, job: (typeof JOBS)[number], before: number[], ranges: [split: number, end: number][], after: number[]): void {
  const run = wasm.exports[job] as (...args: number[]) => void;
  if (!wasm.helper || ranges.some(([at]) => at === 0)) {
    run(...before, ...ranges.flatMap(([, end]) => [0, end]), ...after);
    return;
  }
  post(wasm.helper, job, [...before, ...ranges.flat(), ...after]);
  run(...before, ...ranges.flatMap(([at]) => [0, at]), ...after);
  join(wasm.helper);
}

/**
 * The forward pass of one window. `tokens` is [T,B,K] (step-major); `state` holds the initial h, c
 * [B,H] and is advanced to the final ones. Returns the outputs hs [B*T,H] (row b*T+t) and what the
 * backward pass needs, copied out of the kernel's memory (another window may run in between).
 */
export function wasmForward(wasm: WasmKernel, shape: WindowShape, tokens: Int32Array, kernel: Float32Array,
  recurrent: Float32Array, bias: Float32Array, state: { h: Float32Array; c: Float32Array }): { hs: Float32Array; saved: Float32Array } {
  const { T, B, H, K } = shape;
  const { at, saved } = layout(wasm, shape);
  f32(wasm, at.kernel, kernel.length).set(kernel);
  f32(wasm, at.recurrent, recurrent.length).set(recurrent);
  f32(wasm, at.bias, bias.length).set(bias);
  new Int32Array(wasm.memory.buffer, at.tokens, tokens.length).set(tokens);
  f32(wasm, at.hAll, B * H).set(state.h);
  f32(wasm, at.cAll, B * H).set(state.c);
  split(wasm, "forward", [T, B, H, K], [[Math.floor(B / 2), B]],
    [at.kernel, at.recurrent, at.bias, at.tokens, at.hAll, at.cAll, at.gates, at.tanhC, at.hs]);
  state.h.set(f32(wasm, at.hAll + T * B * H * 4, B * H));
  state.c.set(f32(wasm, at.cAll + T * B * H * 4, B * H));
  return { hs: f32(wasm, at.hs, B * T * H).slice(), saved: f32(wasm, saved.at, saved.floats).slice() };
}

/** The backward pass of a window `wasmForward` ran, given the gradient dhs [B*T,H] of its outputs. */
export function wasmBackward(wasm: WasmKernel, shape: WindowShape, tokens: Int32Array, recurrent: Float32Array,
  saved: Float32Array, dhs: Float32Array): { dKernel: Float32Array; dRecurrent: Float32Array; dBias: Float32Array } {
  const { T, B, H, R, K } = shape;
  const G = 4 * H;
  const { at, saved: span } = layout(wasm, shape);
  f32(wasm, at.recurrent, recurrent.length).set(recurrent);
  new Int32Array(wasm.memory.buffer, at.tokens, tokens.length).set(tokens);
  f32(wasm, span.at, span.floats).set(saved);
  f32(wasm, at.dhs, dhs.length).set(dhs);
  wasm.exports.transpose(H, G, at.recurrent, at.recurrentT);
  split(wasm, "backwardSteps", [T, B, H], [[Math.floor(B / 2), B]], [at.recurrentT, at.cAll, at.gates, at.tanhC, at.dhs, at.dh, at.dc]);
  split(wasm, "backwardWeights", [T, B, H, R, K], [[G / 2, G]], [at.tokens, at.hAll, at.gates, at.dKernel, at.dRecurrent, at.dBias]);
  return {
    dKernel: f32(wasm, at.dKernel, R * G).slice(),
    dRecurrent: f32(wasm, at.dRecurrent, H * G).slice(),
    dBias: f32(wasm, at.dBias, G).slice(),
  };
}

/** The sizes of an output layer's call: M rows (positions), K inputs (hidden units, a multiple of 4), N outputs (symbols). */
export interface LinearShape {
  M: number;
  K: number;
  N: number;
}

/** The output layer's arrays, with N padded to whole v128s (the padding columns are zeros). */
function linearLayout(wasm: WasmKernel, { M, K, N }: LinearShape) {
  const P = Math.ceil(N / 4) * 4;
  const at = place(wasm, { x: M * K, w: K * P, wT: P * K, b: P, y: M * P, dy: M * P, dx: M * K, dw: K * P, db: P },
    `An output layer of ${M} rows × ${K} inputs × ${N} outputs`);
  return { at, P };
}

/** Copies `rows` rows of `columns` floats into the kernel's memory as rows of `stride` floats, the rest zero. */
function putPadded(wasm: WasmKernel, at: Pointer, data: Float32Array, rows: number, columns: number, stride: number): void {
  const target = f32(wasm, at, rows * stride);
  if (stride === columns) return target.set(data);
  target.fill(0);
  for (let r = 0; r < rows; r++) target.set(data.subarray(r * columns, (r + 1) * columns), r * stride);
}

/** Reads `rows` rows of `columns` floats, `stride` apart, out of the kernel's memory. */
function takePadded(wasm: WasmKernel, at: Pointer, rows: number, columns: number, stride: number): Float32Array {
  const source = f32(wasm, at, rows * stride);
  return stride === columns ? source.slice() : unpad(source, rows, columns, stride);
}

/** The output layer's forward pass: y [M,N] = x [M,K] @ w [K,N] + b [N]; rows split between the threads. */
export function wasmLinearForward(wasm: WasmKernel, shape: LinearShape, x: Float32Array, w: Float32Array, b: Float32Array): Float32Array {
  const { M, K, N } = shape;
  const { at, P } = linearLayout(wasm, shape);
  f32(wasm, at.x, M * K).set(x);
  putPadded(wasm, at.w, w, K, N, P);
  putPadded(wasm, at.b, b, 1, N, P);
  split(wasm, "linearForward", [M, K, P], [[Math.floor(M / 2), M]], [at.x, at.w, at.b, at.y]);
  return takePadded(wasm, at.y, M, N, P);
}

/** The output layer's backward pass, given the forward's x and w and the gradient dy [M,N] of y. */
export function wasmLinearBackward(wasm: WasmKernel, shape: LinearShape, x: Float32Array, w: Float32Array,
  dy: Float32Array): { dx: Float32Array; dw: Float32Array; db: Float32Array } {
  const { M, K, N } = shape;
  const { at, P } = linearLayout(wasm, shape);
  f32(wasm, at.x, M * K).set(x);
  putPadded(wasm, at.w, w, K, N, P);
  putPadded(wasm, at.dy, dy, M, N, P);
  wasm.exports.transpose(K, P, at.w, at.wT);
  split(wasm, "linearBackward", [M, K, P], [[Math.floor(M / 2), M], [Math.floor(P / 8) * 4, P]], [at.x, at.dy, at.wT, at.dx, at.dw, at.db]);
  return { dx: f32(wasm, at.dx, M * K).slice(), dw: takePadded(wasm, at.dw, K, N, P), db: takePadded(wasm, at.db, 1, N, P) };
}

/** One weight array's share of an Adam step: its values, gradient and moments, all of one length. */
export interface AdamPart {
  value: Float32Array;
  grad: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/** Adam's constants and this step's, as the kernel's adam reads them (see lstm.as.ts), and the clipping of the gradients. */
export interface AdamStep {
  params: Float32Array; // 9 floats: beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1^t, 1 - beta2^t, epsilon, -learningRate, then the scale written here
  clipNorm: number; // the gradients are scaled down to this global norm if theirs is larger
}

/**
 * One Adam step over all the weights at once, laid end to end: each part's value, m and v updated
 * in place from its grad, scaled first so that the gradients' global norm is at most clipNorm (see
 * adamAt). Returns the norm; throws, changing nothing, where it is not finite.
 */
export function wasmAdam(wasm: WasmKernel, step: AdamStep, parts: AdamPart[]): number {
  const n = Math.ceil(parts.reduce((sum, part) => sum + part.value.length, 0) / 4) * 4; // whole v128s
  const at = place(wasm, { params: 12, value: n, grad: n, m: n, v: n }, `Adam over ${n} weights`);
  const names = ["value", "grad", "m", "v"] as const;
  let offset = 0;
  for (const part of parts) {
    for (const name of names) f32(wasm, at[name] + 4 * offset, part.value.length).set(part[name]);
    offset += part.value.length;
  }
  for (const name of names) f32(wasm, at[name], n).fill(0, offset); // the padding: zeros, which stay zeros
  const norm = adamAt(wasm, step, at, n);
  offset = 0;
  for (const part of parts) {
    for (const name of ["value", "m", "v"] as const) part[name].set(f32(wasm, at[name] + 4 * offset, part.value.length));
    offset += part.value.length;
  }
  return norm;
}

/** Weights from which Adam is shared with the helper (fewer: the handoffs cost more than they save). */
const SHARE_ADAM_FROM = 65536;
/** Where in Adam's params (see AdamStep) the two halves' sums of squares land: floats 9 and 10. */
const SQUARES = 36;

/**
 * Adam over the first n floats (whole v128s) of value, grad, m and v in the kernel's memory, in
 * place, with `second`'s gradients (laid out as grad's) first added to grad's, unless `second` is 0
 * (no second part: address 0 is never scratch, which starts past the kernel's static data). In two
 * fixed halves, on both threads from SHARE_ADAM_FROM weights on and where the helper runs, else one
 * after the other here: each adds and sums the squares of its half of the gradients
 * (sumGradients), the halves' sums are added here and the scale that clips the norm computed in
 * float32 as the trainer's clipping computed it with tf ops; then each half gets its Adam step.
 * The halves do not depend on the threads, so neither do the bits. Returns the norm.
 */
function adamAt(wasm: WasmKernel, { params, clipNorm }: AdamStep, at: Record<"params" | "value" | "grad" | "m" | "v", Pointer>, n: number,
  second: Pointer = 0): number {
  const half = Math.floor(n / 8) * 4;
  const halves = (job: "sumGradients" | "adam", args: (e0: number, e1: number, k: number) => number[]) => {
    const [lower, upper] = [args(0, half, 0), args(half, n, 1)];
    if (n >= SHARE_ADAM_FROM) inTwoParts(wasm, job, lower, upper);
    else for (const part of [lower, upper]) (wasm.exports[job] as (...args: number[]) => void)(...part);
  };
  halves("sumGradients", (e0, e1, k) => [e0, e1, at.grad, second, at.params + SQUARES + 4 * k]);
  const [lowerSquares, upperSquares] = f32(wasm, at.params + SQUARES, 2);
  const f = Math.fround;
  const norm = f(Math.sqrt(f(lowerSquares + upperSquares)));
  // A NaN or an infinity anywhere in the gradients makes the clipping's scale NaN, and with it every
  // weight and moment, for good: the training would go on silently with nothing right. Refused here,
  // before anything changes, so that such a step is an error where it happens.
  if (!Number.isFinite(norm)) throw new Error(`adam: the gradients' global norm is ${norm} (a gradient holds a NaN or an infinity): no weight was updated.`);
  params[8] = f(Math.min(1, f(clipNorm / f(norm + f(1e-6)))));
  f32(wasm, at.params, 9).set(params);
  halves("adam", (e0, e1) => [e0, e1, at.params, at.value, at.grad, at.m, at.v]);
  return norm;
}

/** The five weights of the trainer's model as plain arrays, in the layout of ./lstm.ts's LstmWeights. */
export interface ModelArrays {
  kernel: Float32Array; // [R,4H]
  recurrent: Float32Array; // [H,4H]
  bias: Float32Array; // [4H]
  outKernel: Float32Array; // [H,V]
  outBias: Float32Array; // [V]
}

/** One window of training, [B,T] each (row b holds stream b): inputs ([B,T,K]: K kernel rows a step), targets, and 1 where a position counts, else 0. */
export interface WindowData {
  tokens: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
}

/** How the loss weighs a position: 1, or `settled` once its target's logit leads the runner-up by twice `margin`. */
export interface Focus {
  margin: number;
  settled: number;
}

/**
 * The five weights end to end, as a resident training keeps them and Adam reads them: kernel,
 * recurrent, bias, outKernel [H,V], outBias [V] (floats from `starts`); `floats` is their `total`
 * rounded up to whole v128s. Every start but outBias's is a whole number of v128s.
 */
export function flatWeights({ H, V, R }: { H: number; V: number; R: number }): { sizes: number[]; starts: number[]; total: number; floats: number } {
  const G = 4 * H;
  const sizes = [R * G, H * G, G, H * V, V];
  const starts = sizes.map((_, k) => sizes.slice(0, k).reduce((sum, size) => sum + size, 0));
  const total = starts[4] + V;
  return { sizes, starts, total, floats: Math.ceil(total / 4) * 4 };
}

/** What a window's training step gives: the loss, the positions leading by the margin, the smallest lead. */
export interface WindowStats {
  loss: number;
  exact: number;
  minMargin: number;
}

/** What a window's training step gives, with the gradients. */
export interface WindowStep extends WindowStats {
  grads: ModelArrays;
}

/** Steps from which a single stream's window is shared with the helper (shorter ones: the handoff costs more than it saves). */
const FOLLOW_FROM = 64;

/**
 * The trainer's whole step over one window on the kernel (see windowStep in ./wasm/lstm.as.ts),
 * from weights laid out as flatWeights says at `weights` in the kernel's memory, with scratch
 * arrays from `start` on: the streams in two fixed parts (the first half and the rest), each with
 * arrays of its own, the second on the helper thread if there is one; a single stream is one part,
 * which the helper shares by following the recurrence (windowStepLead and windowStepFollow).
 * The parts are fixed by the number of streams, not by the threads, and their gradients added
 * afterwards (by the caller, see adamAt), so one thread or two give the same bits. `state` is
 * advanced to the window's end. Returns the stats and where each part's gradients lie: dKernel,
 * dRecurrent, dBias, dOutKernel [H,P], dOutBias [P], end to end.
 */
function windowStepAt(wasm: WasmKernel, shape: WindowShape & { V: number }, weights: Pointer, start: Pointer, data: WindowData,
  state: { h: Float32Array; c: Float32Array }, focus: Focus): WindowStats & { grads: Pointer[] } {
  const { T, B, H, V, R, K } = shape;
  const [G, P] = [4 * H, Math.ceil(V / 4) * 4];
  const parts = B > 1 ? [[0, Math.floor(B / 2)], [Math.floor(B / 2), B]] : [[0, B]];
  const gradFloats = R * G + H * G + G + H * P + P;
  const flat = flatWeights(shape);
  const [kernel, recurrent, bias, outKernel, outBias] = flat.starts.map((at) => weights + 4 * at);
  // The arrays the parts share, with the weights in the order windowStep reads their pointers from a part's table.
  const shared = carve(start, { recurrentT: G * H, outKernel: H * P, outKernelT: P * H, outBias: P, params: 4, sync: 4 });
  const { at } = shared;
  const pointers = [kernel, recurrent, at.recurrentT, bias, at.outKernel, at.outKernelT, at.outBias, at.params];
  let end = shared.end;
  const own = parts.map(([b0, b1]) => {
    const n = b1 - b0;
    // The part's own arrays, in table order after the shared ones.
    const arrays = carve(end, { tokens: T * n * K, targets: T * n, mask: T * n, hAll: (T + 1) * n * H, cAll: (T + 1) * n * H,
      gates: T * n * G, tanhC: T * n * H, hs: n * T * H, logits: n * T * P, dhs: n * T * H, dh: n * H, dc: n * H, grads: gradFloats, stats: 4 });
    const table = [T, n, H, V, P, R, K, ...pointers, ...Object.values(arrays.at)];
    end = arrays.end + Math.ceil(table.length / 4) * 16;
    return { ...arrays.at, table: arrays.end, tableEntries: table };
  });
  reserve(wasm, end, `A window of ${T} steps × ${B} streams × ${H} units`);
  // The output layer's weights padded to P columns of whole v128s, the padding zeros.
  const memory = f32(wasm, 0, end / 4);
  memory.fill(0, at.outKernel / 4, at.outBias / 4 + P);
  for (let r = 0; r < H; r++) memory.copyWithin(at.outKernel / 4 + r * P, outKernel / 4 + r * V, outKernel / 4 + (r + 1) * V);
  memory.copyWithin(at.outBias / 4, outBias / 4, outBias / 4 + V);
  wasm.exports.transpose(H, G, recurrent, at.recurrentT);
  wasm.exports.transpose(H, P, at.outKernel, at.outKernelT);
  const count = data.mask.reduce((sum, m) => sum + m, 0) || 1; // (no position counts: the loss is 0)
  f32(wasm, at.params, 3).set([focus.margin, focus.settled, count]);
  parts.forEach(([b0, b1], k) => {
    const n = b1 - b0;
    const mine = own[k];
    stepMajor(data.tokens.subarray(b0 * T * K, b1 * T * K), n, new Int32Array(wasm.memory.buffer, mine.tokens, T * n * K), K);
    new Int32Array(wasm.memory.buffer, mine.targets, T * n).set(data.targets.subarray(b0 * T, b1 * T));
    f32(wasm, mine.mask, T * n).set(data.mask.subarray(b0 * T, b1 * T));
    f32(wasm, mine.hAll, n * H).set(state.h.subarray(b0 * H, b1 * H));
    f32(wasm, mine.cAll, n * H).set(state.c.subarray(b0 * H, b1 * H));
    new Int32Array(wasm.memory.buffer, mine.table, mine.tableEntries.length).set(mine.tableEntries);
  });
  if (own.length === 2) inTwoParts(wasm, "windowStep", [own[0].table], [own[1].table]);
  else if (wasm.helper && T >= FOLLOW_FROM) {
    // One stream: the helper follows the recurrence step by step (see windowStepLead in the kernel).
    const sync = new Int32Array(wasm.memory.buffer, at.sync, 3).fill(0);
    const mine = own[0];
    post(wasm.helper, "windowStepFollow", [mine.table, at.sync]);
    let led = 0;
    try {
      led = wasm.exports.windowStepLead(mine.table, at.sync);
    } finally {
      if (!led) Atomics.store(sync, 2, 1); // the follower stops waiting for a lead that failed
      join(wasm.helper);
    }
    if (!led) throw new Error("The wasm kernel's helper thread gave no sign for a minute or more: set NQ_THREADS=1 to run on one thread.");
    // Then the LSTM's weight gradients, half the columns each (the helper waits for it asleep, not spinning in the kernel).
    const dRecurrent = mine.grads + 4 * R * G;
    split(wasm, "backwardWeights", [T, 1, H, R, K], [[G / 2, G]], [mine.tokens, mine.hAll, mine.gates, mine.grads, dRecurrent, dRecurrent + 4 * H * G]);
  } else wasm.exports.windowStep(own[0].table);
  const result = { loss: 0, exact: 0, minMargin: Infinity };
  parts.forEach(([b0, b1], k) => {
    const n = b1 - b0;
    const mine = own[k];
    state.h.set(f32(wasm, mine.hAll + T * n * H * 4, n * H), b0 * H);
    state.c.set(f32(wasm, mine.cAll + T * n * H * 4, n * H), b0 * H);
    const [loss, exact, minMargin] = f32(wasm, mine.stats, 3);
    result.loss += loss;
    result.exact += exact;
    result.minMargin = Math.min(result.minMargin, minMargin);
  });
  return { loss: result.loss / count, exact: result.exact, minMargin: result.minMargin, grads: own.map((part) => part.grads) };
}

/** The trainer's whole step over one window (see windowStepAt), the weights copied in and the gradients copied out. */
export function wasmWindowStep(wasm: WasmKernel, shape: WindowShape & { V: number }, weights: ModelArrays, data: WindowData,
  state: { h: Float32Array; c: Float32Array }, focus: Focus): WindowStep {
  const { H, V, R } = shape;
  const [G, P] = [4 * H, Math.ceil(V / 4) * 4];
  const flat = flatWeights(shape);
  const { at, end } = carve(scratchStart(wasm), { weights: flat.floats, squares: 4 });
  reserve(wasm, end, `A model of ${R} × ${H} × ${V}`);
  [weights.kernel, weights.recurrent, weights.bias, weights.outKernel, weights.outBias]
    .forEach((values, k) => f32(wasm, at.weights + 4 * flat.starts[k], values.length).set(values));
  const step = windowStepAt(wasm, shape, at.weights, end, data, state, focus);
  const sizes = [R * G, H * G, G, H * P, P];
  const floats = sizes.reduce((sum, size) => sum + size);
  const [grads0, grads1 = 0] = step.grads;
  if (grads1) wasm.exports.sumGradients(0, floats, grads0, grads1, at.squares); // the parts' sum (its squares are not needed here)
  const grads = f32(wasm, grads0, floats).slice();
  const starts = sizes.map((_, k) => sizes.slice(0, k).reduce((sum, size) => sum + size, 0));
  const [dKernel, dRecurrent, dBias, dOutKernel, dOutBias] = sizes.map((size, k) => grads.subarray(starts[k], starts[k] + size));
  return {
    loss: step.loss,
    exact: step.exact,
    minMargin: step.minMargin,
    grads: { kernel: dKernel, recurrent: dRecurrent, bias: dBias, outKernel: unpad(dOutKernel, H, V, P), outBias: unpad(dOutBias, 1, V, P) },
  };
}

/** A training whose weights and Adam's moments stay in the kernel's memory (see wasmTraining). */
export interface WasmTraining {
  /** One window's step and one Adam step after it: `adam` as wasmAdam takes it. */
  step(data: WindowData, streams: number, state: { h: Float32Array; c: Float32Array }, focus: Focus, adam: AdamStep): WindowStats;
  /** A copy of the weights, laid out as flatWeights says (`total` floats). */
  read(): Float32Array;
  /** Sets the weights (laid out as flatWeights says) from a copy that read() gave. */
  write(weights: Float32Array): void;
  /** Gives the kernel's memory back. */
  release(): void;
}

/**
 * A training resident in the kernel: the weights (laid out as flatWeights says, from `weights`),
 * Adam's moments and the gradients stay in its memory from step to step, and each step is a window
 * (windowStepAt) then Adam over them all (adamAt), nothing copied but the window's data and state
 * in and its stats and state out. The same operations on the same numbers as a window's step
 * followed by wasmAdam, so the same bits.
 */
export function wasmTraining(wasm: WasmKernel, shape: { H: number; V: number; R: number }, weights: Float32Array): WasmTraining {
  const { H, V, R } = shape;
  const flat = flatWeights(shape);
  const n = flat.floats;
  const { at, start } = claim(wasm, { params: 12, value: n, m: n, v: n }, `A training of ${R} × ${H} × ${V} weights`);
  f32(wasm, at.value, flat.total).set(weights);
  return {
    step(data, streams, state, focus, adam) {
      const K = data.tokens.length / data.targets.length;
      const window = { T: data.targets.length / streams, B: streams, H, V, R, K };
      const step = windowStepAt(wasm, window, at.value, scratchStart(wasm), data, state, focus);
      // Adam reads the gradients laid out as the weights are: each part's dOutKernel [H,P] and
      // dOutBias [P] moved down (in place, row by row) to [H,V] and [V], then zeros to whole v128s;
      // a move commutes with the parts' sum, which adamAt adds.
      const P = Math.ceil(V / 4) * 4;
      const [outKernel, outBias] = [flat.starts[3], flat.starts[4]];
      for (const part of step.grads) {
        const grads = f32(wasm, part, flat.starts[3] + H * P + P);
        for (let r = 1; r < H; r++) grads.copyWithin(outKernel + r * V, outKernel + r * P, outKernel + r * P + V);
        grads.copyWithin(outBias, outKernel + H * P, outKernel + H * P + V);
        grads.fill(0, flat.total, n);
      }
      adamAt(wasm, adam, { ...at, grad: step.grads[0] }, n, step.grads[1]);
      return { loss: step.loss, exact: step.exact, minMargin: step.minMargin };
    },
    read: () => f32(wasm, at.value, flat.total).slice(),
    write: (values) => f32(wasm, at.value, flat.total).set(values),
    release: () => release(wasm, start),
  };
}

/** The parent's decoder's weights in float64, as ../decoder.ts holds them: kernel [R,4H], recurrent [H,4H], bias [4H], outKernel [H,V], outBias [V]. */
export interface DecoderWeights {
  kernel: Float64Array;
  recurrent: Float64Array;
  bias: Float64Array;
  outKernel: Float64Array;
  outBias: Float64Array;
}

/** Decoding steps on the kernel (see wasmDecoding). */
export interface WasmDecoding {
  /** One step reading these kernel rows: the logits [V], in an array the next step overwrites. */
  step(rows: Int32Array): Float64Array;
  /** Gives the kernel's memory back. */
  release(): void;
}

/**
 * The parent's decoder on the kernel (decodeStep in ./wasm/lstm.as.ts, float64, the same bits as
 * ../decoder.ts's JavaScript): the weights copied into the kernel's memory once, held until release,
 * and the state h, c [H] starting at zero. K kernel rows a step; H, V as the weights' shapes say.
 */
export function wasmDecoding(wasm: WasmKernel, weights: DecoderWeights, H: number, V: number, K: number): WasmDecoding {
  const { kernel, recurrent, bias, outKernel, outBias } = weights;
  // Sizes in 4-byte elements, as claim counts them: two a float64.
  const sizes = { kernel: 2 * kernel.length, recurrent: 2 * recurrent.length, bias: 2 * bias.length, outKernel: 2 * outKernel.length,
    outBias: 2 * outBias.length, h: 2 * H, c: 2 * H, z: 8 * H, logits: 2 * V, rows: K };
  const { at, start } = claim(wasm, sizes, `A decoder of ${H} units and ${V} symbols`);
  try {
    Object.entries({ kernel, recurrent, bias, outKernel, outBias }).forEach(([name, values]) => {
      new Float64Array(wasm.memory.buffer, at[name as keyof DecoderWeights], values.length).set(values);
    });
  } catch (error) {
    release(wasm, start); // claims are stacked: one left behind would pin every later one
    throw error;
  }
  const rows = new Int32Array(wasm.memory.buffer, at.rows, K);
  const logits = new Float64Array(wasm.memory.buffer, at.logits, V);
  return {
    step(read) {
      rows.set(read);
      wasm.exports.decodeStep(H, V, K, at.rows, at.kernel, at.recurrent, at.bias, at.outKernel, at.outBias, at.h, at.c, at.z, at.logits);
      return logits;
    },
    release: () => release(wasm, start),
  };
}

/** `rows` rows of `columns` floats from rows `stride` apart: a new array, or `data` itself where there is no padding. */
function unpad(data: Float32Array, rows: number, columns: number, stride: number): Float32Array {
  if (stride === columns) return data;
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * stride, r * stride + columns), r * columns);
  return out;
}

/** How many threads the wasm kernel runs on here: 2 with its helper, else 1. */
export function wasmThreads(): number {
  return wasmKernel()?.helper ? 2 : 1;
}

/** Runs the wasm kernel on 1 or 2 threads from now on (2 only where a worker can start); returns which. */
export function setWasmThreads(threads: 1 | 2): number {
  const wasm = wasmKernel();
  if (!wasm) return 1;
  if (threads === 1 && wasm.helper) {
    void wasm.helper.worker.terminate();
    wasm.helper = null;
  } else if (threads === 2 && !wasm.helper) {
    wasm.helper = startHelper(wasm.module, wasm.memory);
  }
  return wasmThreads();
}
