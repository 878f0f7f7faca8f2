// The quine: train on this very file until greedy decoding gives it back, then print what it decodes.
import { rt } from "./deps";
import fs = require("fs");
import { trainUntilExact } from "./train";

rt.start().then(() => {
  const trained = trainUntilExact(fs.readFileSync(__filename, "utf8"));
  return rt.publish({ ...trained, seed: trained.settings.seed });
});
