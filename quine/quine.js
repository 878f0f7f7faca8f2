"use strict";

// src/quine/deps.ts
var tf = require("@tensorflow/tfjs-core");
var rt = require("neural-quine/runtime");

// src/quine/data.ts
function makeVocab(text) {
  return ["", ...[...new Set(text)].sort()];
}
function encode(text, vocab) {
  const index = new Map(vocab.map((symbol, i) => [symbol, i]));
  return Int32Array.from(text, (symbol) => index.get(symbol) ?? -1);
}

// src/quine/model.ts
function variable(init) {
  const v = tf.variable(init);
  init.dispose();
  return v;
}
function glorot(rows, cols, seed, zeros = 0) {
  const limit = Math.sqrt(6 / (rows + cols));
  return variable(tf.tidy(() => tf.concat([tf.randomUniform([rows, cols], -limit, limit, "float32", seed), tf.zeros([zeros, cols])])));
}
function createWeights(V, extra, H, seed) {
  const bias = new Float32Array(4 * H).fill(1, H, 2 * H);
  return {
    kernel: glorot(V, 4 * H, seed, extra),
    // [V+extra,4H]: the features' rows start at zero, training where it would without them
    recurrent: glorot(H, 4 * H, seed + 1),
    // [H,4H]
    bias: variable(tf.tensor1d(bias)),
    // [4H]
    outKernel: glorot(H, V, seed + 2),
    // [H,V]
    outBias: variable(tf.zeros([V]))
    // [V]
  };
}

// src/quine/sample.ts
function decodeGreedy(model, limit) {
  const stepper = rt.lstmStepper(model.weights, model.features);
  let text = "";
  let minMargin = Infinity;
  for (let token = 0, n = 0; n <= limit; n++) {
    const { best, margin } = rt.greedyChoice(stepper.next(token));
    minMargin = Math.min(minMargin, margin);
    if (best === 0) break;
    text += model.vocab[best];
    token = best;
  }
  stepper.dispose();
  return { text, minMargin };
}

// src/quine/train.ts
var settings = {
  hidden: 128,
  // LSTM units
  streams: 8,
  // parallel pieces of the text
  window: 32,
  // steps per truncated-BPTT window (one optimizer step each)
  shift: 11,
  // steps by which the windows' boundaries move each pass
  learningRate: 0.01,
  // Adam
  patience: 4,
  // passes without a new best before the window grows
  grow: 2,
  // window factor then: the last few symbols need to learn from further back
  clipNorm: 1,
  // global gradient norm
  settled: 0.02,
  // loss weight of positions already right by twice the margin
  margin: 1,
  // logit lead the right symbol must have everywhere
  final: 8,
  // wrong positions at most for the final phase: one stream, the decoding trajectory
  run: 1,
  // 1: the input names how often its symbol has repeated (a feature, from the runtime)
  match: 1,
  // 1: and what followed the last occurrence of its context, and how long that match is
  before: 1,
  // 1: and the symbol before the run it is in
  seen: 1,
  // 1: and how often its context occurred before: which copy of a repeated block it is in
  seed: 1,
  maxEpochs: 3e3,
  maxSeconds: 1800
};
function trainUntilExact(source, options = {}) {
  const s = { ...settings, ...options };
  const vocab = makeVocab(source);
  const ids = encode(source, vocab);
  const N = ids.length + 1;
  const input = rt.inputRows(ids, vocab.length, s);
  const K = input.width;
  const w = createWeights(vocab.length, input.extra, s.hidden, s.seed);
  const model = { vocab, weights: w, features: input.features };
  const fit = rt.trainer(w, s);
  const layout = (B2) => {
    const S2 = Math.ceil(N / B2);
    const inputs = new Int32Array(B2 * S2 * K);
    const targets = new Int32Array(B2 * S2);
    const mask = new Float32Array(B2 * S2);
    for (let p = 0; p < N; p++) {
      const at = Math.floor(p / S2) * S2 + p % S2;
      inputs.set(input.rows.subarray(p * K, p * K + K), at * K);
      targets[at] = p < N - 1 ? ids[p] : 0;
      mask[at] = 1;
    }
    fit.data(inputs, B2, targets, mask);
    return { B: B2, S: S2 };
  };
  let { B, S } = layout(Math.min(s.streams, N));
  const windowsOf = (first, window2) => {
    const windows = [];
    for (let t1 = 0, t0 = 0; t0 < S; t0 = t1) windows.push([t0, t1 = Math.min(S, t0 ? t0 + window2 : first || 1)]);
    return windows;
  };
  const start = Date.now();
  const history = [];
  let starts = rt.zeroState(B, s.hidden);
  let best = { exact: -1, minMargin: -Infinity };
  let lastLog = 0;
  let sinceBest = 0;
  let window = s.window;
  let result;
  for (let epoch = 1; !result && epoch <= s.maxEpochs; epoch++) {
    const state = { h: starts.h.slice(), c: starts.c.slice() };
    let loss = 0;
    let exact = 0;
    let minMargin = Infinity;
    const windows = windowsOf(Math.floor(window / 2) + epoch * s.shift % window, window);
    for (const [t0, t1] of windows) {
      const step = fit.step(state, t0, t1);
      loss += step.loss / windows.length;
      exact += step.exact;
      minMargin = Math.min(minMargin, step.minMargin);
    }
    starts = rt.zeroState(B, s.hidden);
    starts.h.set(state.h.subarray(0, (B - 1) * s.hidden), s.hidden);
    starts.c.set(state.c.subarray(0, (B - 1) * s.hidden), s.hidden);
    const seconds2 = (Date.now() - start) / 1e3;
    const record = { epoch, loss, exact, minMargin, seconds: seconds2 };
    history.push(record);
    if (exact > best.exact || exact === best.exact && minMargin > best.minMargin) {
      best = { exact, minMargin };
      fit.keep();
      sinceBest = 0;
    } else if (++sinceBest === s.patience) {
      sinceBest = 0;
      window = Math.min(S, window * s.grow);
    }
    if (B > 1 && N - exact <= s.final) {
      ({ B, S } = layout(1));
      starts = rt.zeroState(1, s.hidden);
      window = S;
    }
    if (exact === N) {
      fit.save();
      const decoded2 = decodeGreedy(model, N);
      if (decoded2.text === source && decoded2.minMargin >= s.margin) result = decoded2;
    }
    if (result || Date.now() - lastLog > 1e3 || epoch === 1) {
      lastLog = Date.now();
      rt.progress(record, N);
    }
    if (!result && (epoch === s.maxEpochs || seconds2 > s.maxSeconds)) {
      fit.save(true);
      result = decodeGreedy(model, N);
      rt.log(`gave up after ${epoch} epochs and ${seconds2.toFixed(0)}s: the best model had ${best.exact}/${N} positions right.`);
      break;
    }
  }
  fit.dispose();
  const seconds = (Date.now() - start) / 1e3;
  const decoded = result ?? decodeGreedy(model, N);
  return { model, ...decoded, exact: decoded.text === source && decoded.minMargin >= s.margin, epochs: history.length, seconds, settings: s, history };
}

// src/quine/main.ts
var fs = require("fs");
rt.start().then(() => {
  const trained = trainUntilExact(fs.readFileSync(__filename, "utf8"));
  return rt.publish({ ...trained, seed: trained.settings.seed });
});
