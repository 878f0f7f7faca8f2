// A generation's publication, checked and decoded by the parent. The program's word is not taken:
// the child is what its published model decodes to here (src/runtime/decoder), and the text the
// program claimed is only compared with it. What a publication may be is limited, so that a
// program cannot fill the store or hand on a runaway text.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { join } from "node:path";
import { checkModelFiles, decodeLimit, decodeModel, decodeModelInSlices, TooManyParametersError, type CheckedModel, type Decoded } from "../runtime/decoder";
import type { ModelFiles } from "../runtime";
import { sha256 } from "../files/hash";
import { codePointName, errorMessage, isTextCharacter } from "../format";

/** What the program said it emitted, against what its model decodes to in the parent (kept in a generation's metrics). */
export const ClaimSchema = z.object({
  matches: z.boolean(),
  chars: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/, "expected a SHA-256 in hex"), // of the claimed text (the text itself is not stored: it is the program's word)
});
export type Claim = z.infer<typeof ClaimSchema>;

/** How the parent's decoding of the published model went (its text is stored apart: emitted.js). */
export const DecodeRecordSchema = z.object({
  minMargin: z.number(),
  stopped: z.enum(["end", "length", "time"]),
  seconds: z.number().nonnegative(),
}) satisfies z.ZodType<Omit<Decoded, "text">>;
export type DecodeRecord = z.infer<typeof DecodeRecordSchema>;

/** What a publication may be, as a person sets it (bootstrap's --max-parameters, --max-text, --max-store-mb). */
export const PublicationOptionsSchema = z.object({
  maxParameters: z.number().int().positive().describe("most weights a published model may have"),
  maxText: z.number().int().positive().describe("most characters a published text, or the decoded one, may have"),
  maxStoreMb: z.number().positive().describe("most a generation may add to the store, in MB"),
});

export const publicationLimits = {
  maxParameters: 2_000_000, // the bundle's model has 119,892
  maxText: 1_000_000,
  maxStoreMb: 64,
  // Decoding is bounded by its work, the same on every machine: characters × the model's parameters (the
  // bundle's 7,066 characters take 1.7G). The seconds are a last wall for a machine too slow even for that:
  // a bound in seconds alone cut children short at random when the parent was starved of CPU (load 18).
  decodeWork: 40e9,
  decodeSeconds: 600,
  historyKept: 10_000, // a generation keeps the last this many training records (the bundle trains at most 3,000 epochs)
} satisfies z.infer<typeof PublicationOptionsSchema> & Record<string, number>;

export type PublicationLimits = typeof publicationLimits;

export type CheckedPublication =
  | { ok: true; emitted: string; decode: DecodeRecord; claim: Claim; parameters: number }
  | { ok: false; reason: string };

/**
 * Checks a publication (model files and claimed text, both untrusted) and decodes the model greedily.
 * A publication past the limits, or a model that is not one, is refused with one sentence.
 */
export async function checkPublication(program: string, claimed: string, files: ModelFiles, limits: PublicationLimits): Promise<CheckedPublication> {
  // The length in UTF-16 units first, before anything is copied: a character is one or two of them.
  const tooLong = (chars: string): CheckedPublication =>
    ({ ok: false, reason: `published a text of ${chars} characters, more than the ${limits.maxText.toLocaleString("en")} a publication may have (--max-text).` });
  if (claimed.length > 2 * limits.maxText) return tooLong(`at least ${Math.ceil(claimed.length / 2).toLocaleString("en")}`);
  const claimedChars = characterCount(claimed);
  if (claimedChars > limits.maxText) return tooLong(claimedChars.toLocaleString("en"));
  let model;
  try {
    model = checkModelFiles(files, limits);
  } catch (error) {
    const message = errorMessage(error);
    const hint = error instanceof TooManyParametersError ? " (--max-parameters)" : "";
    return { ok: false, reason: `its published model was refused: ${message.replace(/\.$/, "").replace(/^The /, "the ")}${hint}.` };
  }
  // What train would refuse in its input, a model may not hold: its text would reach a terminal.
  const control = model.vocab.slice(1).find((symbol) => !isTextCharacter(symbol));
  if (control !== undefined) {
    return { ok: false, reason: `its published model was refused: its vocabulary holds the control character ${codePointName(control)}, which train does not accept in a text.` };
  }
  const { text: emitted, ...decode } = await decodeModelInSlices(model, decodeLimits(program, model.parameters, limits));
  // A model of the boundary symbol alone has no runner-up: its margin is infinite, which no record can hold.
  if (!Number.isFinite(decode.minMargin)) return { ok: false, reason: "its published model was refused: its decoding has no finite margin (a vocabulary of the boundary symbol alone)." };
  const claim = { matches: claimed === emitted, chars: claimedChars, hash: sha256(claimed) };
  return { ok: true, emitted, decode, claim, parameters: model.parameters };
}

/** Characters (code points) in a text, as [...text].length counts them, without copying it. */
export function characterCount(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++, count++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return count;
}

/** How far the parent decodes a program's model: twice the program's length plus 1,000 characters at most, and not past the limits (its work among them). */
export function decodeLimits(program: string, parameters: number, limits: PublicationLimits): { maxChars: number; maxSeconds: number } {
  const maxChars = Math.min(limits.maxText, decodeLimit([...program].length), Math.floor(limits.decodeWork / Math.max(1, parameters)));
  return { maxChars, maxSeconds: limits.decodeSeconds };
}

/** Bytes a finished generation adds to the store, past the limit: a sentence saying so, else null. */
export function storeOverflow(bytes: number, limits: PublicationLimits): string | null {
  const limit = limits.maxStoreMb * 1024 * 1024;
  if (bytes <= limit) return null;
  return `its publication would add ${(bytes / 1024 / 1024).toFixed(1)} MB to the store, more than the ${limits.maxStoreMb} MB a generation may (--max-store-mb).`;
}

/** A stored model's files, checked as the untrusted input they once were. */
export function readStoredModel(modelDir: string, limits: Pick<PublicationLimits, "maxParameters">): CheckedModel {
  const files = { "model.json": readFileSync(join(modelDir, "model.json"), "utf8"), "weights.bin": new Uint8Array(readFileSync(join(modelDir, "weights.bin"))) };
  return checkModelFiles(files, limits);
}

/** Decodes a stored model as the parent did when it recorded the generation (emit --check). */
export function decodeStoredModel(modelDir: string, limits: PublicationLimits): Decoded {
  return decodeModel(readStoredModel(modelDir, limits), { maxChars: limits.maxText, maxSeconds: limits.decodeSeconds });
}
