// Where the package lives on disk, computed once: from src/ under tsx, or from dist/src/ when compiled.
import { join } from "node:path";

export const ROOT = join(__dirname, __dirname.includes(join("dist", "src")) ? "../.." : "..");
/** The code quine, the bundle of src/quine/ (src/bundle.ts builds it). */
export const QUINE_PATH = join(ROOT, "quine", "quine.js");
