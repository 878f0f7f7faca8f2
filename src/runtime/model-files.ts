// Model files in TensorFlow.js's standard format: model.json (a tf.layers topology, LSTM then Dense,
// plus the vocabulary and the input's features in userDefinedMetadata) and weights.bin.
// `tf.loadLayersModel` reads them as a model whose predict() computes the same logits as our fused
// kernel, given the multi-hot input of ./features.ts (one-hot symbols, for a model without features).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { parseJson } from "../files/json";
import { writeFileSafely } from "../files/write";
import { checkFeatures, featureRows } from "./features";
import type { LstmWeights } from "./lstm";

/**
 * A trained character model: its symbols (index 0 marks start and end), its weights, the features
 * its input reads besides the symbol (./features.ts; none if absent) and, when known, the length
 * (code points) of the text it was trained on.
 */
export interface QuineModel {
  vocab: string[];
  weights: LstmWeights;
  features?: string[];
  textLength?: number;
}

/** Everything a model's files hold, in memory: what `saveModel` writes and a sandbox hands over. */
export interface ModelFiles {
  "model.json": string;
  "weights.bin": Uint8Array;
}

const WEIGHT_ORDER = ["kernel", "recurrent", "bias", "outKernel", "outBias"] as const;

// The weights are set right after: skip the random (and, for the recurrent kernel, slow orthogonal) initialisation.
const NO_INIT = { kernelInitializer: "zeros", recurrentInitializer: "zeros", biasInitializer: "zeros" } as const;

/**
 * The model as a tf.layers model: input multi-hot [batch, time, R] (one-hot symbols, R = V, without
 * features), output logits [batch, time, V]. Its kernel must have the rows its features need.
 */
function toLayersModel(model: QuineModel): tfl.LayersModel {
  const V = model.vocab.length;
  const H = model.weights.recurrent.shape[0];
  const features = checkFeatures(model.features);
  const R = V + featureRows(features, V);
  if (model.weights.kernel.shape[0] !== R) throw new Error(`The model's kernel has ${model.weights.kernel.shape[0]} rows where its ${V} symbols and features need ${R}.`);
  const layers = tfl.sequential({
    layers: [
      tfl.layers.lstm({ units: H, returnSequences: true, inputShape: [null, R], recurrentActivation: "sigmoid", name: "lstm", ...NO_INIT }),
      tfl.layers.dense({ units: V, name: "logits", ...NO_INIT }),
    ],
  });
  layers.setWeights(WEIGHT_ORDER.map((name) => model.weights[name]));
  // Written only where there is something to say: a model without features has the files it always had.
  layers.setUserDefinedMetadata({ vocab: model.vocab, ...(model.textLength === undefined ? {} : { textLength: model.textLength }),
    ...(features.length ? { features } : {}) });
  return layers;
}

/** SHA-256 of the weights' float32 bytes, in the saved order: equal hashes mean bitwise-equal models. */
export function weightsHash(weights: LstmWeights): string {
  const hash = createHash("sha256");
  for (const name of WEIGHT_ORDER) {
    const data = weights[name].dataSync() as Float32Array;
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest("hex");
}

/** Serialises a model into its two files, in memory. */
export async function modelFiles(model: QuineModel): Promise<ModelFiles> {
  const layers = toLayersModel(model);
  let files: ModelFiles | undefined;
  await layers.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = artifacts.weightData;
    if (!(data instanceof ArrayBuffer)) throw new Error("Unexpected sharded weight data.");
    const json = {
      format: "layers-model",
      generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
      convertedBy: "neural-quine",
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
      userDefinedMetadata: artifacts.userDefinedMetadata,
    };
    files = { "model.json": `${JSON.stringify(json)}\n`, "weights.bin": new Uint8Array(data) };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  layers.dispose();
  if (!files) throw new Error("TensorFlow.js did not hand over the model's files.");
  return files;
}

/** Writes model.json and weights.bin into `dir`, each atomically and durably (../files/write.ts). */
export async function saveModel(dir: string, model: QuineModel | ModelFiles): Promise<void> {
  const files = "vocab" in model ? await modelFiles(model) : model;
  mkdirSync(dir, { recursive: true });
  for (const name of ["weights.bin", "model.json"] as const) writeFileSafely(join(dir, name), files[name]);
}

/** Reads a model written by saveModel (or any tf.layers LSTM+Dense model with a vocab); a damaged or foreign one throws one clear sentence. */
export async function loadModel(dir: string): Promise<QuineModel> {
  const path = join(dir, "model.json");
  if (!existsSync(path)) throw new Error(`No model found: ${path} does not exist.`);
  const { ModelJsonSchema } = require("./model-json") as typeof import("./model-json"); // zod, only when a model is read
  const json = parseJson(readFileSync(path, "utf8"), ModelJsonSchema);
  if (json.error !== undefined) throw new Error(`The model in ${dir} is damaged or not a neural-quine model: model.json's ${json.error}.`);
  const { modelTopology, weightsManifest: manifest, userDefinedMetadata } = json.data;
  let layers: tfl.LayersModel;
  try {
    // Weight files are named by the (untrusted) model.json: only plain file names inside `dir`.
    const buffers = manifest.flatMap((group) => group.paths).map((file) => {
      if (basename(file) !== file) throw new Error(`weight file "${file}" is not a plain file name`);
      return readFileSync(join(dir, file));
    });
    const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
    layers = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs: manifest.flatMap((group) => group.weights), weightData, userDefinedMetadata }));
  } catch (error) {
    throw new Error(`The model in ${dir} is damaged or not a neural-quine model (${error instanceof Error ? error.message : String(error)}).`);
  }
  try {
    const { vocab, textLength } = userDefinedMetadata; // textLength: absent in models saved before it was recorded
    const features = checkFeatures(userDefinedMetadata.features, `The model in ${dir}`); // absent in models without features
    const tensors = layers.getWeights();
    const ranks = [2, 2, 1, 2, 1]; // kernel, recurrent, bias, outKernel, outBias
    const shapesOk = tensors.length === 5 && tensors.every((t, i) => t.rank === ranks[i]) &&
      tensors[0].shape[0] === vocab.length + featureRows(features, vocab.length) && tensors[4].shape[0] === vocab.length;
    if (!shapesOk) throw new Error(`The model in ${dir} is not a neural-quine model: expected an LSTM and a Dense layer over its stored vocabulary and features.`);
    const [kernel, recurrent, bias, outKernel, outBias] = tensors.map((t) => tf.clone(t));
    const weights = { kernel: kernel as tf.Tensor2D, recurrent: recurrent as tf.Tensor2D, bias: bias as tf.Tensor1D, outKernel: outKernel as tf.Tensor2D, outBias: outBias as tf.Tensor1D };
    return { vocab, weights, ...(features.length ? { features } : {}), ...(textLength === undefined ? {} : { textLength }) };
  } finally {
    layers.dispose();
  }
}
