// The package's API: everything the CLI does, as functions.
export { trainUntilExact, settings, type Settings, type Trained, type Epoch } from "./quine/train";
export { decodeGreedy } from "./quine/sample";
export { readTextFile, memorizeFile, emitModel } from "./memorize";
export { bundleQuine, writeQuine } from "./bundle";
export { QUINE_PATH } from "./paths";
export * from "./runtime";
