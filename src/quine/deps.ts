// The trainer's outside dependencies, required once here: TensorFlow.js and the runtime it runs on.
import tf = require("@tensorflow/tfjs-core");
import rt = require("neural-quine/runtime");

export { tf, rt };
