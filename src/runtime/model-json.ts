// model.json as neural-quine writes it, described once: an LSTM and a Dense layer (tf.layers), one
// weights file of five float32 tensors, the vocabulary, the trained text's length and the input's
// features. loadModel
// checks a file against it before TensorFlow.js sees it, and the parent's decoder checks a published
// model against it (src/runtime/decoder.ts). The objects are loose: TensorFlow.js reads the rest of
// the topology. Loaded only when a model is read: a program that merely trains need not load zod.
import { z } from "zod";

const Null = z.null().optional();
const LstmLayer = z.looseObject({
  class_name: z.literal("LSTM"),
  config: z.looseObject({
    units: z.number().int().positive(),
    activation: z.literal("tanh"),
    recurrent_activation: z.literal("sigmoid"),
    use_bias: z.literal(true),
    return_sequences: z.literal(true),
    go_backwards: z.literal(false).optional(),
    dropout: z.literal(0).optional(),
    recurrent_dropout: z.literal(0).optional(),
    kernel_constraint: Null, recurrent_constraint: Null, bias_constraint: Null,
  }),
});
const DenseLayer = z.looseObject({
  class_name: z.literal("Dense"),
  config: z.looseObject({ units: z.number().int().positive(), activation: z.literal("linear"), use_bias: z.literal(true) }),
});
const WeightSpec = z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.literal("float32") });

export const ModelJsonSchema = z.looseObject({
  format: z.literal("layers-model"),
  modelTopology: z.looseObject({
    class_name: z.literal("Sequential"),
    config: z.looseObject({ layers: z.tuple([LstmLayer, DenseLayer]) }),
  }),
  weightsManifest: z.tuple([z.object({ paths: z.tuple([z.literal("weights.bin")]), weights: z.array(WeightSpec).length(5) })]),
  userDefinedMetadata: z.looseObject({
    vocab: z.array(z.string()).min(2),
    textLength: z.number().int().nonnegative().optional(), // the text it was trained on, in characters (absent in older models)
    features: z.unknown().optional(), // what the input reads besides the symbol (absent: nothing); checked by ./features.ts checkFeatures
  }),
});
