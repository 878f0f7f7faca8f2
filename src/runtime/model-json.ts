// model.json as saveModel writes it and loadModel reads it: checked field by field before TensorFlow.js
// sees it (the topology itself is tfjs-layers' to check). Loaded only by loadModel: a program that
// merely trains need not load zod.
import { z } from "zod";

export const ModelJsonSchema = z.object({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.object({
    paths: z.array(z.string()),
    weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().nonnegative()), dtype: z.enum(["float32", "int32", "bool", "complex64", "string"]) })),
  })),
  userDefinedMetadata: z.object({ vocab: z.array(z.string()) }),
});
