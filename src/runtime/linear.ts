// The output layer, x @ kernel + bias, on the kernel in use (see linear).
import * as tf from "@tensorflow/tfjs-core";
import { countWork, kernelName, values } from "./kernel";
import { wasmKernel, wasmLinearBackward, wasmLinearForward, type WasmKernel } from "./lstm-wasm";

/**
 * x [M,K] @ kernel [K,N] + bias [N]: the output layer. On the wasm kernel (with its threads) when
 * that runs the LSTM too; else TensorFlow.js ops, whose gradient avoids matMul's transpose flags,
 * which take a slow path on wasm (~10x): the transposes are done explicitly, where they are cheap.
 */
export function linear(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  countWork(0, x.shape[0] * x.shape[1] * kernel.shape[1]);
  const wasm = kernelName() === "wasm" && x.shape[1] % 4 === 0 ? wasmKernel() : null;
  return wasm ? wasmLinear(wasm, x, kernel, bias) : jsLinear(x, kernel, bias);
}

/** linear on the wasm kernel: one call each way. */
function wasmLinear(wasm: WasmKernel, x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const shape = { M: x.shape[0], K: x.shape[1], N: kernel.shape[1] };
  const run = tf.customGrad(() => {
    const xs = values(x);
    const k = values(kernel);
    const gradFunc = (dy: tf.Tensor) => {
      const d = wasmLinearBackward(wasm, shape, xs, k, values(dy));
      return [tf.tensor2d(d.dx, x.shape), tf.tensor2d(d.dw, kernel.shape), tf.tensor1d(d.db)];
    };
    return { value: tf.tensor2d(wasmLinearForward(wasm, shape, xs, k, values(bias)), [shape.M, shape.N]), gradFunc };
  });
  return run(x, kernel, bias) as tf.Tensor2D;
}

/** linear from TensorFlow.js ops: the reference and the fallback. */
function jsLinear(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, k, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([xs, k]); // kept alive for the gradient
    return {
      value: tf.add(tf.matMul(xs, k), b),
      gradFunc: (dy: tf.Tensor, [xs, k]: tf.Tensor[]) => [tf.matMul(dy, tf.transpose(k)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)],
    };
  });
  return run(x, kernel, bias) as tf.Tensor2D;
}
