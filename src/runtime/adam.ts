// Adam with global-norm clipping, on the wasm kernel in one call per step or on TensorFlow.js (see adam).
import * as tf from "@tensorflow/tfjs-core";
import { kernelName, values } from "./kernel";
import { wasmAdam, wasmKernel, type WasmKernel } from "./lstm-wasm";

/** What a trainer needs of an optimizer: tf.train.Optimizer's applyGradients and dispose. */
export interface Optimizer {
  applyGradients(gradients: { name: string; tensor: tf.Tensor }[] | tf.NamedTensorMap): void;
  dispose(): void;
}

/**
 * Adam with tf.train.adam's defaults (beta1 0.9, beta2 0.999, epsilon 1e-7), on gradients scaled
 * down, all by one factor, to a global norm of at most `clipNorm` (none by default). On the wasm
 * kernel, one call per step over all the weights, split between its threads, in place of some
 * eighty TensorFlow.js ops: tf.train.adam's operations in its order, each rounded to float32 as the
 * wasm backend rounds them (the same bytes where nothing is clipped); the norm is summed in two
 * fixed halves. On the JavaScript kernel, the reference: TensorFlow.js ops and tf.train.adam.
 */
export function adam(learningRate: number, clipNorm = Infinity): Optimizer {
  const wasm = kernelName() === "wasm" ? wasmKernel() : null;
  return wasm ? wasmAdamOptimizer(wasm, learningRate, clipNorm) : jsAdamOptimizer(learningRate, clipNorm);
}

/** The gradients as a list of {name, tensor}, read with an index loop: in the sandbox, a program's array arrives as a proxy. */
function gradientList(gradients: { name: string; tensor: tf.Tensor }[] | tf.NamedTensorMap): { name: string; tensor: tf.Tensor }[] {
  if (!Array.isArray(gradients)) return Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
  const list = [];
  for (let i = 0; i < gradients.length; i++) list.push({ name: gradients[i].name, tensor: gradients[i].tensor });
  return list;
}

function jsAdamOptimizer(learningRate: number, clipNorm: number): Optimizer {
  const optimizer = tf.train.adam(learningRate);
  return {
    applyGradients(gradients) {
      const list = gradientList(gradients);
      const clipped = tf.tidy(() => {
        const norm = tf.sqrt(tf.addN(list.map(({ tensor }) => tf.sum(tf.square(tensor)))));
        const scale = tf.minimum(1, tf.div(clipNorm, tf.add(norm, 1e-6)));
        return list.map(({ name, tensor }) => ({ name, tensor: tf.mul(tensor, scale) }));
      });
      optimizer.applyGradients(clipped);
      tf.dispose(clipped.map(({ tensor }) => tensor));
    },
    dispose: () => optimizer.dispose(),
  };
}

function wasmAdamOptimizer(wasm: WasmKernel, learningRate: number, clipNorm: number): Optimizer {
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>(); // by variable name, as tf's registry knows them
  const nextStep = adamSchedule(learningRate);
  return {
    applyGradients(gradients) {
      const variables = tf.engine().registeredVariables;
      const parts = gradientList(gradients).map(({ name, tensor }) => {
        const variable = Object.hasOwn(variables, name) ? variables[name] : undefined;
        if (!variable || !(tensor instanceof tf.Tensor)) throw new Error(`adam: ${String(name)} is not a variable with a gradient tensor.`);
        const value = values(variable).slice(); // a copy: on the cpu backend dataSync hands out the tensor's own array
        const grad = values(tensor);
        if (!(grad instanceof Float32Array) || grad.length !== value.length) throw new Error(`adam: the gradient of ${name} does not match it.`);
        if (!moments.has(name)) moments.set(name, { m: new Float32Array(value.length), v: new Float32Array(value.length) });
        return { variable, value, grad, ...(moments.get(name) as { m: Float32Array; v: Float32Array }) };
      });
      wasmAdam(wasm, { params: nextStep(), clipNorm }, parts);
      for (const { variable, value } of parts) {
        const next = tf.tensor(value, variable.shape, "float32");
        variable.assign(next);
        next.dispose();
      }
    },
    dispose: () => moments.clear(),
  };
}

/**
 * Adam's constants for the kernel's adam (see AdamStep), step after step: tf.train.adam's defaults
 * and its bias corrections, with beta^t kept as float32 as tf keeps them.
 */
export function adamSchedule(learningRate: number): () => Float32Array {
  const f32 = Math.fround;
  const [beta1, beta2] = [f32(0.9), f32(0.999)];
  let [power1, power2] = [beta1, beta2];
  return () => {
    const params = Float32Array.of(beta1, 1 - 0.9, beta2, 1 - 0.999, 1 - power1, 1 - power2, 1e-7, -learningRate, 1);
    [power1, power2] = [f32(power1 * beta1), f32(power2 * beta2)];
    return params;
  };
}
