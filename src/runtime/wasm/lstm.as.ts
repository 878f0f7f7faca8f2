// The LSTM kernel for a whole window, in AssemblyScript compiled to WebAssembly with SIMD (f32x4):
// the forward recurrence with its recurrent matrix product and gates, and the analytic backward
// pass (BPTT), one call each per window; the output layer; Adam; and the trainer's whole step over
// a window in one call (windowStep, at the end). The same arithmetic as the JavaScript kernel in ../lstm.ts
// (gate order i, f, c, o; kernel [R,4H], recurrent [H,4H], bias [4H]; the same rational tanh), in
// float32 and in a fixed order, so one input gives the same bits on every machine. Each step reads
// K rows of the kernel (the symbol's, then its features': see ../features.ts), summed in order.
//
// Built by `npm run build:kernel` (scripts/build-kernel.ts) into ./binary.ts. This file is not part
// of the TypeScript build (tsconfig excludes *.as.ts): v128, f32 and friends are AssemblyScript's.
// The caller (../lstm-wasm.ts) lays out every array in linear memory past heapBase() and grows the
// memory; pointers here are byte offsets, sizes are counts of float32/int32. H must be a multiple of 4.
// The memory is shared, so that two threads can each take a part of a window: streams b0..b1 of
// the recurrence (streams are independent through time), columns n0..n1 of the weight gradients.
// Every output element is computed by the same operations in the same order whichever part computes
// it, so the bits do not depend on how a window is split, nor on how many threads split it.

/** Where the caller's arrays may start: nothing here allocates. */
export function heapBase(): usize {
  return __heap_base;
}

// Zeroing and copying by v128 loops (byte counts are multiples of 16), not memory.fill and
// memory.copy: in a thread other than the one that grew the shared memory, V8 may check those two
// against the memory's size when that thread last looked, and trap on what lies beyond (seen here).

@inline function zero(at: usize, bytes: usize): void {
  const z = f32x4.splat(0);
  for (let k: usize = 0; k < bytes; k += 16) v128.store(at + k, z);
}

@inline function copy(to: usize, from: usize, bytes: usize): void {
  for (let k: usize = 0; k < bytes; k += 16) v128.store(to + k, v128.load(from + k));
}

// tanh as the rational function of ../lstm.ts (Eigen's and XNNPACK's float tanh), ±1 past the clamp.
const CLAMP: f32 = 7.90531110763549805;

@inline function tanh4(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(<f32>-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(<f32>2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(<f32>-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(<f32>5.12229709037114e-8));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(<f32>1.48572235717979e-5));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(<f32>6.37261928875436e-4));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(<f32>4.89352455891786e-3));
  p = f32x4.mul(x, p);
  let q = f32x4.splat(<f32>1.19825839466702e-6);
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(<f32>1.18534705686654e-4));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(<f32>2.268434632439e-3));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(<f32>4.89352518554385e-3));
  const y = f32x4.div(p, q);
  const one = f32x4.splat(1);
  const high = v128.bitselect(one, y, f32x4.gt(x, f32x4.splat(CLAMP)));
  return v128.bitselect(f32x4.neg(one), high, f32x4.lt(x, f32x4.splat(-CLAMP)));
}

@inline function sigmoid4(x: v128): v128 {
  const half = f32x4.splat(0.5);
  return f32x4.add(half, f32x4.mul(half, tanh4(f32x4.mul(half, x))));
}

/**
 * C[M,N] += A[M,K] @ W[K,N]; W's rows are ldw floats apart, C's ldc, N a multiple of 4. A's element
 * (m,k) is at a + 4 * (m * am + k * ak), so A may be a transposed view. Every C element is its old
 * value plus the products in ascending k, whatever the tile: the result does not depend on tiling.
 */
function matMulAdd(a: usize, am: i32, ak: i32, M: i32, K: i32, w: usize, ldw: i32, N: i32, c: usize, ldc: i32): void {
  // A long sum (the weight gradients of a long window) in chunks of k, so that each chunk of W
  // stays in cache while all of C passes; each C element still adds its products in ascending k.
  for (let k0 = 0; k0 < K; k0 += K_CHUNK) {
    const chunk = min(K_CHUNK, K - k0);
    matMulAddChunk(a + (<usize>(k0 * ak) << 2), am, ak, M, chunk, w + (<usize>(k0 * ldw) << 2), ldw, N, c, ldc);
  }
}

const K_CHUNK = 256;

function matMulAddChunk(a: usize, am: i32, ak: i32, M: i32, K: i32, w: usize, ldw: i32, N: i32, c: usize, ldc: i32): void {
  const rowW = <usize>ldw << 2;
  const rowC = <usize>ldc << 2;
  const stepA = <usize>ak << 2;
  const rowA = <usize>am << 2;
  const M4 = M & ~3;
  let n = 0;
  // Tiles of 4 rows × 8 columns, columns outer, rows inner: a block of W's columns stays in cache
  // while the rows of A pass.
  for (; n + 8 <= N; n += 8) {
    for (let m = 0; m < M4; m += 4) {
      const c0 = c + <usize>m * rowC + (<usize>n << 2);
      const c1 = c0 + rowC, c2 = c1 + rowC, c3 = c2 + rowC;
      let s00 = v128.load(c0), s01 = v128.load(c0, 16);
      let s10 = v128.load(c1), s11 = v128.load(c1, 16);
      let s20 = v128.load(c2), s21 = v128.load(c2, 16);
      let s30 = v128.load(c3), s31 = v128.load(c3, 16);
      let pa = a + <usize>m * rowA;
      let pw = w + (<usize>n << 2);
      for (let k = 0; k < K; k++) {
        const w0 = v128.load(pw), w1 = v128.load(pw, 16);
        let x = v128.load32_splat(pa);
        s00 = f32x4.add(s00, f32x4.mul(x, w0)); s01 = f32x4.add(s01, f32x4.mul(x, w1));
        x = v128.load32_splat(pa + rowA);
        s10 = f32x4.add(s10, f32x4.mul(x, w0)); s11 = f32x4.add(s11, f32x4.mul(x, w1));
        x = v128.load32_splat(pa + 2 * rowA);
        s20 = f32x4.add(s20, f32x4.mul(x, w0)); s21 = f32x4.add(s21, f32x4.mul(x, w1));
        x = v128.load32_splat(pa + 3 * rowA);
        s30 = f32x4.add(s30, f32x4.mul(x, w0)); s31 = f32x4.add(s31, f32x4.mul(x, w1));
        pa += stepA;
        pw += rowW;
      }
      v128.store(c0, s00); v128.store(c0, s01, 16);
      v128.store(c1, s10); v128.store(c1, s11, 16);
      v128.store(c2, s20); v128.store(c2, s21, 16);
      v128.store(c3, s30); v128.store(c3, s31, 16);
    }
  }
  for (; n < N; n += 4) {
    for (let m = 0; m < M4; m++) matMulAddRow(a + <usize>m * rowA, stepA, K, w + (<usize>n << 2), rowW, c + <usize>m * rowC + (<usize>n << 2));
  }
  // The rows left over (all of them for one stream): 32 columns at a time, eight independent sums,
  // so that the adds do not wait on each other.
  for (let m = M4; m < M; m++) {
    const pa = a + <usize>m * rowA;
    const pc = c + <usize>m * rowC;
    let n = 0;
    for (; n + 32 <= N; n += 32) matMulAddRow32(pa, stepA, K, w + (<usize>n << 2), rowW, pc + (<usize>n << 2));
    for (; n < N; n += 4) matMulAddRow(pa, stepA, K, w + (<usize>n << 2), rowW, pc + (<usize>n << 2));
  }
}

/** One row of C, 4 columns wide: the edges of matMulAdd's tiles. */
function matMulAddRow(pa: usize, stepA: usize, K: i32, pw: usize, rowW: usize, pc: usize): void {
  let s = v128.load(pc);
  for (let k = 0; k < K; k++) {
    s = f32x4.add(s, f32x4.mul(v128.load32_splat(pa), v128.load(pw)));
    pa += stepA;
    pw += rowW;
  }
  v128.store(pc, s);
}

/** One row of C, 32 columns wide. */
function matMulAddRow32(pa: usize, stepA: usize, K: i32, pw: usize, rowW: usize, pc: usize): void {
  let s0 = v128.load(pc), s1 = v128.load(pc, 16), s2 = v128.load(pc, 32), s3 = v128.load(pc, 48);
  let s4 = v128.load(pc, 64), s5 = v128.load(pc, 80), s6 = v128.load(pc, 96), s7 = v128.load(pc, 112);
  for (let k = 0; k < K; k++) {
    const x = v128.load32_splat(pa);
    s0 = f32x4.add(s0, f32x4.mul(x, v128.load(pw))); s1 = f32x4.add(s1, f32x4.mul(x, v128.load(pw, 16)));
    s2 = f32x4.add(s2, f32x4.mul(x, v128.load(pw, 32))); s3 = f32x4.add(s3, f32x4.mul(x, v128.load(pw, 48)));
    s4 = f32x4.add(s4, f32x4.mul(x, v128.load(pw, 64))); s5 = f32x4.add(s5, f32x4.mul(x, v128.load(pw, 80)));
    s6 = f32x4.add(s6, f32x4.mul(x, v128.load(pw, 96))); s7 = f32x4.add(s7, f32x4.mul(x, v128.load(pw, 112)));
    pa += stepA;
    pw += rowW;
  }
  v128.store(pc, s0); v128.store(pc, s1, 16); v128.store(pc, s2, 32); v128.store(pc, s3, 48);
  v128.store(pc, s4, 64); v128.store(pc, s5, 80); v128.store(pc, s6, 96); v128.store(pc, s7, 112);
}

/**
 * The forward pass over T steps of streams b0..b1 of B. tokens [T,B,K] (int32, step-major: the K
 * kernel rows each step reads, whose sum is its input part, in ascending k); hAll and
 * cAll [T+1,B,H] hold the initial state in row block 0 and receive the state after step t in block
 * t+1; gates [T,B,4H] receives the activations i, f, g, o and tanhC [T,B,H] tanh(c), both for the
 * backward pass; hs [B*T,H] receives the outputs, row b*T+t.
 */
export function forward(T: i32, B: i32, H: i32, K: i32, b0: i32, b1: i32, kernel: usize, recurrent: usize, bias: usize, tokens: usize,
  hAll: usize, cAll: usize, gates: usize, tanhC: usize, hs: usize): void {
  forwardSteps(T, B, H, K, b0, b1, kernel, recurrent, bias, tokens, hAll, cAll, gates, tanhC, hs, 0);
}

/** forward, and where `progress` is not 0, the number of steps done stored there (atomically) after each step. */
function forwardSteps(T: i32, B: i32, H: i32, K: i32, b0: i32, b1: i32, kernel: usize, recurrent: usize, bias: usize, tokens: usize,
  hAll: usize, cAll: usize, gates: usize, tanhC: usize, hs: usize, progress: usize): void {
  const G = 4 * H;
  const rowG = <usize>G << 2;
  const rowH = <usize>H << 2;
  const blockH = <usize>(B * H) << 2;
  for (let t = 0; t < T; t++) {
    const z = gates + <usize>t * B * rowG; // the pre-activations first, then the activations in place
    const hPrev = hAll + <usize>t * blockH;
    const cPrev = cAll + <usize>t * blockH;
    for (let b = b0; b < b1; b++) {
      const rows = tokens + ((<usize>((t * B + b) * K)) << 2);
      const x = kernel + <usize>load<i32>(rows) * rowG;
      const zb = z + <usize>b * rowG;
      for (let n: usize = 0; n < rowG; n += 16) {
        let sum = v128.load(x + n);
        for (let k = 1; k < K; k++) sum = f32x4.add(sum, v128.load(kernel + <usize>load<i32>(rows + (<usize>k << 2)) * rowG + n));
        v128.store(zb + n, f32x4.add(sum, v128.load(bias + n)));
      }
    }
    matMulAdd(hPrev + <usize>b0 * rowH, H, 1, b1 - b0, H, recurrent, G, G, z + <usize>b0 * rowG, G);
    for (let b = b0; b < b1; b++) {
      const zb = z + <usize>b * rowG;
      const k0 = <usize>b * rowH;
      const out = hs + (<usize>(b * T + t)) * rowH;
      for (let j: usize = 0; j < rowH; j += 16) {
        const i = sigmoid4(v128.load(zb + j));
        const f = sigmoid4(v128.load(zb + rowH + j));
        const g = tanh4(v128.load(zb + 2 * rowH + j));
        const o = sigmoid4(v128.load(zb + 3 * rowH + j));
        const c = f32x4.add(f32x4.mul(f, v128.load(cPrev + k0 + j)), f32x4.mul(i, g));
        const tc = tanh4(c);
        const h = f32x4.mul(o, tc);
        v128.store(cPrev + blockH + k0 + j, c);
        v128.store(hPrev + blockH + k0 + j, h);
        v128.store(tanhC + <usize>t * blockH + k0 + j, tc);
        v128.store(out + j, h);
        v128.store(zb + j, i);
        v128.store(zb + rowH + j, f);
        v128.store(zb + 2 * rowH + j, g);
        v128.store(zb + 3 * rowH + j, o);
      }
    }
    if (progress) atomic.store<i32>(progress, t + 1);
  }
}

/** to [cols,rows] = from [rows,cols] transposed (recurrent^T, so that dh = dz @ recurrent^T runs over rows; the output layer's too). */
export function transpose(rows: i32, cols: i32, from: usize, to: usize): void {
  for (let k = 0; k < rows; k++) {
    for (let n = 0; n < cols; n++) store<f32>(to + ((<usize>n * rows + k) << 2), load<f32>(from + ((<usize>k * cols + n) << 2)));
  }
}

/**
 * A gradient that grows step after step back through a long window can pass float32's range and
 * turn into infinities, then NaN (seen: a 4.9 kB JSON text after 1,100 epochs, gradients of 7e36,
 * and the training lost). So each step's dh is held within ±1e6: far above any dh of a healthy
 * training, where a position's loss weighs at most 1/count, so its bits change only once |dh|
 * passes 1e6, and low enough that dc (a sum of such terms, each times a forget gate below 1) and a
 * window's weight gradients, sums over up to 40,000 steps, stay far inside float32's range (the
 * global clipping that follows scales them to norm 1 in any case). ../lstm.ts does the same.
 */
const GRADIENT_LIMIT: f32 = 1e6;

/** The floats from..to (byte offsets, whole v128s) held within ±GRADIENT_LIMIT; a NaN stays NaN. */
@inline function limitGradient(from: usize, to: usize): void {
  const high = f32x4.splat(GRADIENT_LIMIT), low = f32x4.splat(-GRADIENT_LIMIT);
  for (let at = from; at < to; at += 16) v128.store(at, f32x4.min(f32x4.max(v128.load(at), low), high));
}

/**
 * The backward pass of `forward` through time, for streams b0..b1: given its saved cAll, gates,
 * tanhC and the gradient dhs [B*T,H] of the outputs, overwrites gates with the gradients dz of the
 * gate pre-activations. Scratch dh and dc [B,H]. Gradients stop at the window's start (truncated BPTT).
 */
export function backwardSteps(T: i32, B: i32, H: i32, b0: i32, b1: i32, recurrentT: usize, cAll: usize, gates: usize,
  tanhC: usize, dhs: usize, dh: usize, dc: usize): void {
  const G = 4 * H;
  const rowG = <usize>G << 2;
  const rowH = <usize>H << 2;
  const blockH = <usize>(B * H) << 2;
  zero(dc + <usize>b0 * rowH, <usize>(b1 - b0) * rowH);
  for (let b = b0; b < b1; b++) copy(dh + <usize>b * rowH, dhs + (<usize>(b * T + T - 1)) * rowH, rowH);
  limitGradient(dh + <usize>b0 * rowH, dh + <usize>b1 * rowH);
  const one = f32x4.splat(1);
  for (let t = T - 1; t >= 0; t--) {
    const dz = gates + <usize>t * B * rowG;
    const cPrev = cAll + <usize>t * blockH;
    const tcs = tanhC + <usize>t * blockH;
    for (let b = b0; b < b1; b++) {
      const r = dz + <usize>b * rowG;
      const k0 = <usize>b * rowH;
      for (let j: usize = 0; j < rowH; j += 16) {
        const i = v128.load(r + j), f = v128.load(r + rowH + j), g = v128.load(r + 2 * rowH + j), o = v128.load(r + 3 * rowH + j);
        const tc = v128.load(tcs + k0 + j);
        const dhv = v128.load(dh + k0 + j);
        const dcv = f32x4.add(f32x4.mul(f32x4.mul(dhv, o), f32x4.sub(one, f32x4.mul(tc, tc))), v128.load(dc + k0 + j));
        v128.store(r + j, f32x4.mul(f32x4.mul(f32x4.mul(dcv, g), i), f32x4.sub(one, i)));
        v128.store(r + rowH + j, f32x4.mul(f32x4.mul(f32x4.mul(dcv, v128.load(cPrev + k0 + j)), f), f32x4.sub(one, f)));
        v128.store(r + 2 * rowH + j, f32x4.mul(f32x4.mul(dcv, i), f32x4.sub(one, f32x4.mul(g, g))));
        v128.store(r + 3 * rowH + j, f32x4.mul(f32x4.mul(f32x4.mul(dhv, tc), o), f32x4.sub(one, o)));
        v128.store(dc + k0 + j, f32x4.mul(dcv, f));
      }
    }
    if (t > 0) {
      // dh for step t-1: its output's gradient plus what flows back through the recurrent weights,
      // held within ±GRADIENT_LIMIT (see there).
      for (let b = b0; b < b1; b++) copy(dh + <usize>b * rowH, dhs + (<usize>(b * T + t - 1)) * rowH, rowH);
      matMulAdd(dz + <usize>b0 * rowG, G, 1, b1 - b0, G, recurrentT, H, H, dh + <usize>b0 * rowH, H);
      limitGradient(dh + <usize>b0 * rowH, dh + <usize>b1 * rowH);
    }
  }
}

/**
 * The weight gradients from dz (in gates, after backwardSteps for every stream), columns n0..n1
 * (multiples of 4) of each: dKernel [R,4H], dRecurrent [H,4H], dBias [4H], overwritten.
 */
export function backwardWeights(T: i32, B: i32, H: i32, R: i32, K: i32, n0: i32, n1: i32, tokens: usize, hAll: usize, gates: usize,
  dKernel: usize, dRecurrent: usize, dBias: usize): void {
  const G = 4 * H;
  const rowG = <usize>G << 2;
  const from = <usize>n0 << 2;
  const to = <usize>n1 << 2;
  for (let v = 0; v < R; v++) zero(dKernel + <usize>v * rowG + from, to - from);
  for (let k = 0; k < H; k++) zero(dRecurrent + <usize>k * rowG + from, to - from);
  zero(dBias + from, to - from);
  // The input part of each step is the sum of its K kernel rows: their gradient is a scatter-add of dz.
  for (let row = 0; row < T * B; row++) {
    const r = gates + <usize>row * rowG;
    for (let k = 0; k < K; k++) {
      const x = dKernel + <usize>load<i32>(tokens + (<usize>(row * K + k) << 2)) * rowG;
      for (let n = from; n < to; n += 16) v128.store(x + n, f32x4.add(v128.load(x + n), v128.load(r + n)));
    }
    for (let n = from; n < to; n += 16) v128.store(dBias + n, f32x4.add(v128.load(dBias + n), v128.load(r + n)));
  }
  // dRecurrent = sum over steps of h_{t-1}^T dz_t: A = hAll's first T blocks read transposed.
  matMulAdd(hAll, 1, H, H, T * B, gates + from, G, n1 - n0, dRecurrent + from, G);
}

// The output layer, y = x @ w + b: x [M,K] (one row per position), w [K,N], b [N], N a multiple of 4
// (the caller pads the symbols with zero columns). Rows split between threads in the forward pass
// and for dx, columns for dw and db: again every element is computed the same way by whichever part.

/** Rows r0..r1 of y [M,N] = x @ w + b: each element b plus the products in ascending k. */
export function linearForward(M: i32, K: i32, N: i32, r0: i32, r1: i32, x: usize, w: usize, b: usize, y: usize): void {
  const rowN = <usize>N << 2;
  for (let m = r0; m < r1; m++) copy(y + <usize>m * rowN, b, rowN);
  matMulAdd(x + (<usize>(r0 * K) << 2), K, 1, r1 - r0, K, w, N, N, y + <usize>r0 * rowN, N);
}

/**
 * The output layer's backward pass, one job per thread (a thread handoff costs more than either
 * half on a busy machine): rows r0..r1 of dx and columns n0..n1 of dw and db.
 */
export function linearBackward(M: i32, K: i32, N: i32, r0: i32, r1: i32, n0: i32, n1: i32, x: usize, dy: usize, wT: usize,
  dx: usize, dw: usize, db: usize): void {
  linearBackwardInput(K, N, r0, r1, dy, wT, dx);
  linearBackwardWeights(M, K, N, n0, n1, x, dy, dw, db);
}

/** Rows r0..r1 of dx [M,K] = dy [M,N] @ w^T, given wT [N,K] (see transpose). */
function linearBackwardInput(K: i32, N: i32, r0: i32, r1: i32, dy: usize, wT: usize, dx: usize): void {
  const rowK = <usize>K << 2;
  zero(dx + <usize>r0 * rowK, <usize>(r1 - r0) * rowK);
  matMulAdd(dy + (<usize>(r0 * N) << 2), N, 1, r1 - r0, N, wT, K, K, dx + <usize>r0 * rowK, K);
}

/** Columns n0..n1 (multiples of 4) of dw [K,N] = x^T @ dy and of db [N] = the sum of dy's rows, in ascending rows. */
function linearBackwardWeights(M: i32, K: i32, N: i32, n0: i32, n1: i32, x: usize, dy: usize, dw: usize, db: usize): void {
  const rowN = <usize>N << 2;
  const from = <usize>n0 << 2;
  const to = <usize>n1 << 2;
  for (let k = 0; k < K; k++) zero(dw + <usize>k * rowN + from, to - from);
  zero(db + from, to - from);
  for (let m = 0; m < M; m++) {
    const r = dy + <usize>m * rowN;
    for (let n = from; n < to; n += 16) v128.store(db + n, f32x4.add(v128.load(db + n), v128.load(r + n)));
  }
  matMulAdd(x, 1, K, K, M, dy + from, N, n1 - n0, dw + from, N);
}

/**
 * Elements e0..e1 (multiples of 4) of the gradients `a`, with `b`'s added if b is not 0 (the second
 * part's gradients, laid out as a's), and the sum of their squares into the f32 at `out`: four
 * lanes summed in ascending order, then (lane 0 + lane 1) + (lane 2 + lane 3). The caller cuts the
 * gradients into fixed parts, one per thread, and adds the parts' sums in a fixed order: the
 * gradient's global norm has the same bits on one thread or two.
 */
export function sumGradients(e0: i32, e1: i32, a: usize, b: usize, out: usize): void {
  let sum = f32x4.splat(0);
  for (let at = <usize>e0 << 2; at < (<usize>e1 << 2); at += 16) {
    let x = v128.load(a + at);
    if (b) {
      x = f32x4.add(x, v128.load(b + at));
      v128.store(a + at, x);
    }
    sum = f32x4.add(sum, f32x4.mul(x, x));
  }
  store<f32>(out, (f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1)) + (f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3)));
}

/**
 * Adam, elements e0..e1 (multiples of 4) of the flat arrays value, grad and the moments m and v,
 * updated in place. params holds f32s: beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1^t, 1 - beta2^t,
 * epsilon, -learningRate, and the scale of the gradient (its clipping; 1 leaves it as it is). The
 * operations and their order are tf.train.adam's on the scaled gradient (each rounded to f32).
 */
export function adam(e0: i32, e1: i32, params: usize, value: usize, grad: usize, m: usize, v: usize): void {
  const b1 = v128.load32_splat(params), b1c = v128.load32_splat(params, 4);
  const b2 = v128.load32_splat(params, 8), b2c = v128.load32_splat(params, 12);
  const done1 = v128.load32_splat(params, 16), done2 = v128.load32_splat(params, 20);
  const epsilon = v128.load32_splat(params, 24), step = v128.load32_splat(params, 28);
  const scale = v128.load32_splat(params, 32);
  for (let at = <usize>e0 << 2; at < (<usize>e1 << 2); at += 16) {
    const g = f32x4.mul(v128.load(grad + at), scale);
    const m1 = f32x4.add(f32x4.mul(v128.load(m + at), b1), f32x4.mul(g, b1c));
    const v1 = f32x4.add(f32x4.mul(v128.load(v + at), b2), f32x4.mul(f32x4.mul(g, g), b2c));
    const mHat = f32x4.div(m1, done1);
    const vHat = f32x4.div(v1, done2);
    v128.store(m + at, m1);
    v128.store(v + at, v1);
    v128.store(value + at, f32x4.add(f32x4.mul(f32x4.div(mHat, f32x4.add(f32x4.sqrt(vHat), epsilon)), step), v128.load(value + at)));
  }
}

// The trainer's whole step over a window, in one call per part: the recurrence, the output layer,
// the loss and every gradient. Each part is a fixed group of whole streams with arrays of its own
// (see ../lstm-wasm.ts), so two threads take one part each and meet once per window; the parts are
// fixed by the number of streams, not by the threads, and their gradients added afterwards, so the
// bits do not depend on the threads either.

/**
 * The loss of rows 0..M of logits [M,P] (the first V columns are the symbols), overwritten by its
 * gradient. A row's margin is how far its target's logit leads the best other one; a row whose
 * margin is at least twice `margin` weighs `settled`, others 1, masked-out rows 0; the loss is the
 * weighted sum of -log softmax(target) over `count` (params: f32 margin, settled, count). stats
 * receives f32 the loss's sum, how many rows lead by `margin`, and the smallest margin.
 */
function focusedLoss(M: i32, V: i32, P: i32, logits: usize, targets: usize, mask: usize, params: usize, stats: usize): void {
  resetLossTotals();
  focusedLossRows(0, M, V, P, logits, targets, mask, params);
  storeLossTotals(stats);
}

// focusedLoss's running totals over the rows taken so far, in order (globals: each thread's instance has its own).
let lossSum: f64 = 0; // only reported: a double keeps a long window's sum exact enough
let exactRows: f32 = 0;
let smallestLead: f32 = Infinity;

function resetLossTotals(): void {
  lossSum = 0;
  exactRows = 0;
  smallestLead = Infinity;
}

/** focusedLoss over rows r0..r1, added to the running totals. */
function focusedLossRows(r0: i32, r1: i32, V: i32, P: i32, logits: usize, targets: usize, mask: usize, params: usize): void {
  const margin = load<f32>(params), settled = load<f32>(params, 4), count = load<f32>(params, 8);
  const rowP = <usize>P << 2;
  let loss = lossSum;
  let exact = exactRows;
  let smallest = smallestLead;
  for (let r = r0; r < r1; r++) {
    const row = logits + <usize>r * rowP;
    if (load<f32>(mask + (<usize>r << 2)) == 0) {
      zero(row, rowP);
      continue;
    }
    const target = load<i32>(targets + (<usize>r << 2));
    const right = load<f32>(row + (<usize>target << 2));
    let other = -Infinity as f32;
    let top = right;
    for (let v = 0; v < V; v++) {
      const l = load<f32>(row + (<usize>v << 2));
      if (v != target && l > other) other = l;
      if (l > top) top = l;
    }
    const lead = right - other;
    if (lead < smallest) smallest = lead;
    if (lead >= margin) exact += 1;
    const weight: f32 = lead >= 2 * margin ? settled : 1;
    let sum: f32 = 0;
    for (let v = 0; v < V; v++) {
      const e = Mathf.exp(load<f32>(row + (<usize>v << 2)) - top);
      store<f32>(row + (<usize>v << 2), e);
      sum += e;
    }
    loss += <f64>(weight * (Mathf.log(sum) - (right - top)));
    const scale = weight / count;
    for (let v = 0; v < V; v++) {
      const p = load<f32>(row + (<usize>v << 2)) / sum;
      store<f32>(row + (<usize>v << 2), scale * (v == target ? p - 1 : p));
    }
    for (let v = V; v < P; v++) store<f32>(row + (<usize>v << 2), 0); // the padding columns: no symbols, no gradient
  }
  lossSum = loss;
  exactRows = exact;
  smallestLead = smallest;
}

/** stats receives f32 the loss's sum, how many rows lead by the margin, and the smallest margin. */
function storeLossTotals(stats: usize): void {
  store<f32>(stats, <f32>lossSum);
  store<f32>(stats, exactRows, 4);
  store<f32>(stats, smallestLead, 8);
}

/** The k-th pointer of a part's table (see windowStep). */
@inline function pointer(table: usize, k: i32): usize {
  return <usize>load<i32>(table + (<usize>(7 + k) << 2));
}

/**
 * One part's training step over a window: the part's table holds (i32) T, B (its streams), H, V,
 * P (V padded to whole v128s), R (the kernel's rows), K (rows per step), then the pointers kernel,
 * recurrent, recurrentT, bias, outKernel [H,P], outKernelT [P,H], outBias [P], params (shared by the
 * parts), and the part's own tokens [T,B,K], targets and mask [B*T] (row b*T+t), hAll, cAll, gates, tanhC (as in forward), hs, logits,
 * dhs, dh, dc, grads (dKernel, dRecurrent, dBias, dOutKernel [H,P], dOutBias [P], end to end) and stats.
 */
export function windowStep(table: usize): void {
  windowStepAs(WHOLE, table, 0);
}

// A single stream has no second part for the other thread, so its window is shared another way:
// this thread (the lead) runs the recurrence forward and back, the other (the follower) the output
// layer, the loss and dhs of each step as soon as the forward has done it, then the output layer's
// weight gradients while the recurrence runs back; the caller then has the two take half the
// columns of the LSTM's weight gradients each (backwardWeights). They signal through i32 at `sync`,
// zeroed by the caller: steps done forward, rows done by the follower, and 1 if either side failed
// (the caller sets it; the other side's waits then give up at once). Each number is computed by the
// same operations in the same order as in windowStep: the same bits.

/** The lead's share of a one-stream window (see above); 1, or 0 if the follower failed or gave no sign for a minute or more. */
export function windowStepLead(table: usize, sync: usize): i32 {
  return windowStepAs(LEAD, table, sync);
}

/** The follower's share of a one-stream window (see above); 1, or 0 if the lead failed or gave no sign for a minute or more. */
export function windowStepFollow(table: usize, sync: usize): i32 {
  return windowStepAs(FOLLOW, table, sync);
}

const WHOLE = 0, LEAD = 1, FOLLOW = 2;

function windowStepAs(role: i32, table: usize, sync: usize): i32 {
  const T = load<i32>(table), B = load<i32>(table, 4), H = load<i32>(table, 8), V = load<i32>(table, 12), P = load<i32>(table, 16);
  const R = load<i32>(table, 20), K = load<i32>(table, 24);
  const kernel = pointer(table, 0), recurrent = pointer(table, 1), recurrentT = pointer(table, 2), bias = pointer(table, 3), outKernel = pointer(table, 4), outKernelT = pointer(table, 5), outBias = pointer(table, 6);
  const params = pointer(table, 7), tokens = pointer(table, 8), targets = pointer(table, 9), mask = pointer(table, 10), hAll = pointer(table, 11), cAll = pointer(table, 12), gates = pointer(table, 13);
  const tanhC = pointer(table, 14), hs = pointer(table, 15), logits = pointer(table, 16), dhs = pointer(table, 17), dh = pointer(table, 18), dc = pointer(table, 19), grads = pointer(table, 20), stats = pointer(table, 21);
  const G = 4 * H;
  const M = B * T;
  const dKernel = grads, dRecurrent = dKernel + (<usize>(R * G) << 2), dBias = dRecurrent + (<usize>(H * G) << 2);
  const dOutKernel = dBias + (<usize>G << 2), dOutBias = dOutKernel + (<usize>(H * P) << 2);
  if (role == WHOLE) {
    forward(T, B, H, K, 0, B, kernel, recurrent, bias, tokens, hAll, cAll, gates, tanhC, hs);
    linearForward(M, H, P, 0, M, hs, outKernel, outBias, logits);
    focusedLoss(M, V, P, logits, targets, mask, params, stats);
    linearBackward(M, H, P, 0, M, 0, P, hs, logits, outKernelT, dhs, dOutKernel, dOutBias);
    backwardSteps(T, B, H, 0, B, recurrentT, cAll, gates, tanhC, dhs, dh, dc);
    backwardWeights(T, B, H, R, K, 0, G, tokens, hAll, gates, dKernel, dRecurrent, dBias);
    return 1;
  }
  const stepsDone = sync, rowsDone = sync + 4, failed = sync + 8;
  if (role == LEAD) {
    forwardSteps(T, 1, H, K, 0, 1, kernel, recurrent, bias, tokens, hAll, cAll, gates, tanhC, hs, stepsDone);
    if (!waitFor(rowsDone, T, failed)) return 0;
    backwardSteps(T, 1, H, 0, 1, recurrentT, cAll, gates, tanhC, dhs, dh, dc);
    return 1;
  }
  // The follower takes the rows the forward has done so far, all of them at once (one row at the start).
  resetLossTotals();
  for (let r0 = 0; r0 < T; ) {
    if (!waitFor(stepsDone, r0 + 1, failed)) return 0;
    const r1 = atomic.load<i32>(stepsDone);
    linearForward(T, H, P, r0, r1, hs, outKernel, outBias, logits);
    focusedLossRows(r0, r1, V, P, logits, targets, mask, params);
    linearBackwardInput(H, P, r0, r1, logits, outKernelT, dhs);
    atomic.store<i32>(rowsDone, r1);
    r0 = r1;
  }
  storeLossTotals(stats);
  linearBackwardWeights(T, H, P, 0, P, hs, logits, dOutKernel, dOutBias);
  return 1;
}

/**
 * Waits until the i32 at `at` is at least `value`, spinning on atomic loads: false at once if the
 * i32 at `failed` is set, and after 2^35 checks (about a minute here): the other thread failed or
 * died. Both waits are short or overlap work (the follower keeps a step behind the forward pass,
 * the lead waits for its last rows). Why no atomic.wait: with naps of atomic.wait (0.1 ms timeouts)
 * here, about one two-thread training in eighty came out with other bits than on one thread (in the
 * window where it happened, a part of the weight gradients nearly doubled), and an atomic.notify
 * made runs hang; spinning alone, none of 1,120 did. The cause was not found (V8 in Node 20).
 */
function waitFor(at: usize, value: i32, failed: usize): bool {
  for (let check: i64 = 0; check < (<i64>1 << 35); check++) {
    if (atomic.load<i32>(at) >= value) return true;
    if (atomic.load<i32>(failed)) return false;
  }
  return false;
}

// The parent's decoder (../decoder.ts) in float64: one step of its LSTM and output layer with the
// same operations in the same order as its JavaScript, so the same bits (each f64x2 lane is one
// float64 operation, rounded as JavaScript rounds it; wasm has no fused multiply-add to differ by).

/**
 * One decoding step. The weights are float64, row-major: kernel [R,4H], recurrent [H,4H], bias [4H],
 * outKernel [H,V], outBias [V]; rows (i32) [K] the kernel rows this step reads; h and c [H] the state,
 * advanced; z [4H] scratch; logits [V] receives the output. 4H floats of a row are whole v128s.
 */
export function decodeStep(H: i32, V: i32, K: i32, rows: usize, kernel: usize, recurrent: usize, bias: usize, outKernel: usize,
  outBias: usize, h: usize, c: usize, z: usize, logits: usize): void {
  const rowG = <usize>(4 * H) << 3;
  // z = the sum of the rows read, in order, plus h @ recurrent (rows of h that are 0 skipped, as there).
  copy(z, kernel + <usize>load<i32>(rows) * rowG, rowG);
  for (let k = 1; k < K; k++) {
    const x = kernel + <usize>load<i32>(rows + (<usize>k << 2)) * rowG;
    for (let n: usize = 0; n < rowG; n += 16) v128.store(z + n, f64x2.add(v128.load(z + n), v128.load(x + n)));
  }
  for (let k = 0; k < H; k++) {
    const hk = load<f64>(h + (<usize>k << 3));
    if (hk == 0) continue;
    const s = f64x2.splat(hk);
    const w = recurrent + <usize>k * rowG;
    for (let n: usize = 0; n < rowG; n += 16) v128.store(z + n, f64x2.add(v128.load(z + n), f64x2.mul(s, v128.load(w + n))));
  }
  const gate = <usize>H << 3;
  for (let j: usize = 0; j < gate; j += 8) {
    const i = sigmoid64(load<f64>(z + j) + load<f64>(bias + j));
    const f = sigmoid64(load<f64>(z + gate + j) + load<f64>(bias + gate + j));
    const g = tanh64(load<f64>(z + 2 * gate + j) + load<f64>(bias + 2 * gate + j));
    const o = sigmoid64(load<f64>(z + 3 * gate + j) + load<f64>(bias + 3 * gate + j));
    const cj = f * load<f64>(c + j) + i * g;
    store<f64>(c + j, cj);
    store<f64>(h + j, o * tanh64(cj));
  }
  // logits = outBias + h @ outKernel, pairs of symbols at a time and the odd one alone.
  const rowV = <usize>V << 3;
  const pairs = rowV & ~15;
  for (let v: usize = 0; v < rowV; v += 8) store<f64>(logits + v, load<f64>(outBias + v));
  for (let k = 0; k < H; k++) {
    const hk = load<f64>(h + (<usize>k << 3));
    if (hk == 0) continue;
    const s = f64x2.splat(hk);
    const w = outKernel + <usize>k * rowV;
    for (let v: usize = 0; v < pairs; v += 16) v128.store(logits + v, f64x2.add(v128.load(logits + v), f64x2.mul(s, v128.load(w + v))));
    if (pairs < rowV) store<f64>(logits + pairs, load<f64>(logits + pairs) + hk * load<f64>(w + pairs));
  }
}

/** ../activations.ts's tanh in float64, operation for operation. */
function tanh64(x: f64): f64 {
  if (x > 7.90531110763549805) return 1;
  if (x < -7.90531110763549805) return -1;
  const x2 = x * x;
  const p = x * (4.89352455891786e-3 + x2 * (6.37261928875436e-4 + x2 * (1.48572235717979e-5 + x2 * (5.12229709037114e-8
    + x2 * (-8.60467152213735e-11 + x2 * (2.00018790482477e-13 + x2 * -2.76076847742355e-16))))));
  const q = 4.89352518554385e-3 + x2 * (2.268434632439e-3 + x2 * (1.18534705686654e-4 + x2 * 1.19825839466702e-6));
  return p / q;
}

@inline function sigmoid64(x: f64): f64 {
  return 0.5 + 0.5 * tanh64(0.5 * x);
}
