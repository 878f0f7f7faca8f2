// A generation's publication, checked and decoded by the parent. The program's word is not taken:
// the child is what its published model decodes to here (src/runtime/decoder), and the text the
// program claimed is only compared with it. What a publication may be is limited, so that a
// program cannot fill the store or hand on a runaway text.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkModelFiles, decodeModel, type Decoded } from "../runtime/decoder";
import type { ModelFiles } from "../runtime";
import { sha256, type Claim, type DecodeRecord } from "./store";

export const publicationLimits = {
  maxParameters: 2_000_000, // weights of a published model (the bundle's has 119,892)
  maxTextChars: 1_000_000, // characters of the claimed text, and of the decoded one
  decodeGrowth: 2, // decoding stops at this many times the program's characters (plus 1,000)
  decodeSeconds: 60, // decoding stops after this long
  maxStoreMb: 64, // what one generation may add to the store
};

export type PublicationLimits = typeof publicationLimits;

export type CheckedPublication =
  | { ok: true; emitted: string; decode: DecodeRecord; claim: Claim; parameters: number }
  | { ok: false; reason: string };

/**
 * Checks a publication (model files and claimed text, both untrusted) and decodes the model greedily.
 * A publication past the limits, or a model that is not one, is refused with one sentence.
 */
export function checkPublication(program: string, claimed: string, files: ModelFiles, limits: PublicationLimits): CheckedPublication {
  const claimedChars = [...claimed].length;
  if (claimedChars > limits.maxTextChars) {
    return { ok: false, reason: `published a text of ${claimedChars.toLocaleString("en")} characters, more than the ${limits.maxTextChars.toLocaleString("en")} a publication may have (--max-text).` };
  }
  let model;
  try {
    model = checkModelFiles(files, limits);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = /parameters/.test(message) ? " (--max-parameters)" : "";
    return { ok: false, reason: `its published model was refused: ${message.replace(/\.$/, "").replace(/^The /, "the ")}${hint}.` };
  }
  const maxChars = Math.min(limits.maxTextChars, limits.decodeGrowth * [...program].length + 1000);
  const { text: emitted, ...decode } = decodeModel(model, { maxChars, maxSeconds: limits.decodeSeconds });
  const claim = { matches: claimed === emitted, chars: claimedChars, hash: sha256(claimed) };
  return { ok: true, emitted, decode, claim, parameters: model.parameters };
}

/** Bytes a finished generation adds to the store, past the limit: a sentence saying so, else null. */
export function storeOverflow(bytes: number, limits: PublicationLimits): string | null {
  const limit = limits.maxStoreMb * 1024 * 1024;
  if (bytes <= limit) return null;
  return `its publication would add ${(bytes / 1024 / 1024).toFixed(1)} MB to the store, more than the ${limits.maxStoreMb} MB a generation may (--max-store-mb).`;
}

/** Decodes a stored model as the parent did when it recorded the generation (emit --check). */
export function decodeStoredModel(modelDir: string, limits: PublicationLimits): Decoded {
  const files = { "model.json": readFileSync(join(modelDir, "model.json"), "utf8"), "weights.bin": new Uint8Array(readFileSync(join(modelDir, "weights.bin"))) };
  return decodeModel(checkModelFiles(files, limits), { maxChars: limits.maxTextChars, maxSeconds: limits.decodeSeconds });
}
