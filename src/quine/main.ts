// The quine: train on this very file until greedy decoding gives it back, then print what it decodes.
import fs = require("fs");
import rt = require("neural-quine/runtime");
import { trainUntilExact } from "./train";

rt.start().then(() => {
  const trained = trainUntilExact(fs.readFileSync(__filename, "utf8"));
  return rt.publish({ ...trained, seed: trained.settings.seed });
});
