// The package's API: train a text until exact, decode a model, bundle the quine; and the runtime (./runtime).
export { trainUntilExact, settings, type Settings, type Trained, type Epoch } from "./quine/train";
export { decodeGreedy } from "./quine/sample";
export { readTextFile, memorizeFile, emitModel } from "./memorize";
export { bundleQuine, writeQuine } from "./bundle";
export { QUINE_PATH } from "./paths";
export * from "./runtime";
