// The SHA-256 of a text or of bytes, in hex: how both stores name programs and check what they read back.
import { createHash } from "node:crypto";

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
