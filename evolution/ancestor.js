// An LSTM learns this file; the parent decodes the model.
const fs = require("fs"), tf = require("@tensorflow/tfjs-core"), rt = require("neural-quine/runtime");
const H = 64, epochs = 150, rate = 0.02, seed = 1;
const text = fs.readFileSync(__filename, "utf8"), vocab = ["", ...new Set(text)], V = vocab.length;
const ids = Int32Array.from([0, ...Array.from(text, (c) => vocab.indexOf(c)), 0]);
const init = (r, c, s) => tf.variable(tf.randomNormal([r, c], 0, 0.1, "float32", s));
rt.start().then(() => {
  const w = { kernel: init(V, 4 * H, seed), recurrent: init(H, 4 * H, seed + 1), bias: tf.variable(tf.zeros([4 * H])),
    outKernel: init(H, V, seed + 2), outBias: tf.variable(tf.zeros([V])) }, adam = tf.train.adam(rate);
  const x = ids.slice(0, -1), y = tf.oneHot(tf.tensor1d(ids.slice(1), "int32"), V);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const loss = adam.minimize(() => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(
      rt.lstmSequence(x, 1, rt.zeroState(1, H), w.kernel, w.recurrent, w.bias), w.outKernel), w.outBias)), true);
    if (epoch % 10 === 0) rt.log(`epoch ${epoch}  loss ${loss.dataSync()[0].toFixed(3)}`);
    loss.dispose();
  }
  rt.publish({ text: "", model: { vocab, weights: w }, epochs, seed, exact: false, history: [] });
});
