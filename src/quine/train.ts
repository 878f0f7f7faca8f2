// Training: teacher forcing on B parallel streams that cut the text into B pieces, truncated BPTT
// over windows. Each stream starts where the previous pass left the stream before it, so training
// sees the states that one long decoding run will see. Adam at a constant rate (decaying it only
// ever froze the last few wrong symbols in place); what finishes the job is a loss focused on the
// positions not yet right by twice the margin, windows that grow when progress stalls, and for the
// last few positions one stream, the decoding trajectory itself. It stops only when greedy decoding
// gives the text back byte for byte with every choice ahead of the runner-up by `margin`.
import { rt } from "./deps";
import type { QuineModel } from "neural-quine/runtime";
import { encode, makeVocab } from "./data";
import { createWeights } from "./model";
import { decodeGreedy } from "./sample";

export const settings = {
  hidden: 128, // LSTM units
  streams: 8, // parallel pieces of the text
  window: 32, // steps per truncated-BPTT window (one optimizer step each)
  shift: 11, // steps by which the windows' boundaries move each pass
  learningRate: 0.01, // Adam
  patience: 4, // passes without a new best before the window grows
  grow: 2, // window factor then: the last few symbols need to learn from further back
  clipNorm: 1, // global gradient norm
  settled: 0.02, // loss weight of positions already right by twice the margin
  margin: 1, // logit lead the right symbol must have everywhere
  final: 8, // wrong positions at most for the final phase: one stream, the decoding trajectory
  run: 1, // 1: the input names how often its symbol has repeated (a feature, from the runtime)
  match: 1, // 1: and what followed the last occurrence of its context, and how long that match is
  before: 1, // 1: and the symbol before the run it is in
  seen: 1, // 1: and how often its context occurred before: which copy of a repeated block it is in
  seed: 1,
  maxEpochs: 3000,
  maxSeconds: 1800,
};

export type Settings = typeof settings;

/** One line of the training history: a pass over the whole text. */
export interface Epoch {
  epoch: number;
  loss: number;
  exact: number; // positions whose right symbol leads by the margin
  minMargin: number;
  seconds: number;
}

export interface Trained {
  model: QuineModel;
  text: string; // what greedy decoding gives back
  exact: boolean;
  epochs: number;
  seconds: number;
  minMargin: number;
  settings: Settings;
  history: Epoch[];
}

/** Trains on `source` until decoding is exact, or the epoch or time budget runs out (then: the best model seen). */
export function trainUntilExact(source: string, options: Partial<Settings> = {}): Trained {
  const s = { ...settings, ...options };
  const vocab = makeVocab(source);
  const ids = encode(source, vocab);
  // Position p reads symbol p-1 (the boundary first) and predicts symbol p (the boundary last).
  // It reads K rows of the kernel: the symbol's, and the features' the runtime computes from the text so far.
  const N = ids.length + 1;
  const input = rt.inputRows(ids, vocab.length, s);
  const K = input.width;
  const w = createWeights(vocab.length, input.extra, s.hidden, s.seed);
  const model = { vocab, weights: w, features: input.features };
  // Adam and the loss below, over weights that live in the runtime while it trains: save() writes them into w.
  const fit = rt.trainer(w, s);
  // The text cut into B streams of S steps, b-major, handed to the trainer.
  const layout = (B: number) => {
    const S = Math.ceil(N / B);
    const inputs = new Int32Array(B * S * K);
    const targets = new Int32Array(B * S);
    const mask = new Float32Array(B * S);
    for (let p = 0; p < N; p++) {
      const at = Math.floor(p / S) * S + (p % S);
      inputs.set(input.rows.subarray(p * K, p * K + K), at * K);
      targets[at] = p < N - 1 ? ids[p] : 0;
      mask[at] = 1;
    }
    fit.data(inputs, B, targets, mask);
    return { B, S };
  };
  let { B, S } = layout(Math.min(s.streams, N));
  // The windows of a pass, as steps t0..t1 of every stream. Their boundaries move from pass to pass
  // (the first has window/2 to 3/2 window steps), so that no position always starts a window,
  // where truncated BPTT never lets it learn from before.
  const windowsOf = (first: number, window: number) => {
    const windows = [];
    for (let t1 = 0, t0 = 0; t0 < S; t0 = t1) windows.push([t0, (t1 = Math.min(S, t0 ? t0 + window : first || 1))]);
    return windows;
  };
  const start = Date.now();
  const history: Epoch[] = [];
  let starts = rt.zeroState(B, s.hidden);
  let best = { exact: -1, minMargin: -Infinity };
  let lastLog = 0;
  let sinceBest = 0;
  let window = s.window;
  let result: { text: string; minMargin: number } | undefined;

  for (let epoch = 1; !result && epoch <= s.maxEpochs; epoch++) {
    const state = { h: starts.h.slice(), c: starts.c.slice() };
    let loss = 0;
    let exact = 0;
    let minMargin = Infinity;
    const windows = windowsOf(Math.floor(window / 2) + ((epoch * s.shift) % window), window);
    for (const [t0, t1] of windows) {
      // Positions right by twice the margin weigh `settled` in the loss, so that the last few wrong
      // ones are not drowned out by thousands of right ones (the runtime fuses it with the LSTM).
      const step = fit.step(state, t0, t1);
      loss += step.loss / windows.length;
      exact += step.exact;
      minMargin = Math.min(minMargin, step.minMargin);
    }
    // Stream b's next start is where stream b-1 ended; stream 0 always starts afresh.
    starts = rt.zeroState(B, s.hidden);
    starts.h.set(state.h.subarray(0, (B - 1) * s.hidden), s.hidden);
    starts.c.set(state.c.subarray(0, (B - 1) * s.hidden), s.hidden);
    const seconds = (Date.now() - start) / 1000;
    const record = { epoch, loss, exact, minMargin, seconds };
    history.push(record);
    if (exact > best.exact || (exact === best.exact && minMargin > best.minMargin)) {
      best = { exact, minMargin };
      fit.keep();
      sinceBest = 0;
    } else if (++sinceBest === s.patience) {
      sinceBest = 0;
      window = Math.min(S, window * s.grow);
    }
    // The last few wrong positions: train on the decoding trajectory itself, one stream from the
    // start through the whole text, where no context is cut off and every state is the one
    // decoding will see.
    if (B > 1 && N - exact <= s.final) {
      ({ B, S } = layout(1));
      starts = rt.zeroState(1, s.hidden);
      window = S;
    }
    if (exact === N) {
      // Training says every position is right; only decoding, from scratch and in one stream, decides.
      fit.save();
      const decoded = decodeGreedy(model, N);
      if (decoded.text === source && decoded.minMargin >= s.margin) result = decoded;
    }
    if (result || Date.now() - lastLog > 1000 || epoch === 1) {
      lastLog = Date.now();
      rt.progress(record, N);
    }
    if (!result && (epoch === s.maxEpochs || seconds > s.maxSeconds)) {
      fit.save(true);
      result = decodeGreedy(model, N);
      rt.log(`gave up after ${epoch} epochs and ${seconds.toFixed(0)}s: the best model had ${best.exact}/${N} positions right.`);
      break;
    }
  }
  fit.dispose();
  const seconds = (Date.now() - start) / 1000;
  const decoded = result ?? decodeGreedy(model, N);
  return { model, ...decoded, exact: decoded.text === source && decoded.minMargin >= s.margin, epochs: history.length, seconds, settings: s, history };
}
