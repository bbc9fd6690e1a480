import { createNodeVerifier, type Ed25519Verifier } from "@sesame/ticket";

/**
 * One verifier for every virtual gate of a rehearsal. Every gate checks every fan-out message, as
 * each real gate does on its own machine; here 32 gates share one process, and checking the same
 * bytes under the same key 32 times would measure the simulation, not a gate. The answer for a
 * (key, signature, message) is remembered, so each message is checked once; the check is
 * deterministic, so remembering changes no outcome (a tampered message has other bytes and is
 * checked anew).
 */
export function createSharedVerifier(
  inner: Ed25519Verifier = createNodeVerifier(1024),
  size = 8192,
): Ed25519Verifier {
  const answers = new Map<string, { publicKey: Buffer; message: Buffer; valid: boolean }>();
  // A view, not a copy: the key is the signature's 64 bytes as a string (one per signature).
  const view = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    name: `${inner.name}, shared by the rehearsal's gates`,
    verify(message, signature, publicKey) {
      const key = view(signature).toString("latin1");
      const known = answers.get(key);
      if (known?.message.equals(message) && known.publicKey.equals(publicKey)) return known.valid;
      const valid = inner.verify(message, signature, publicKey);
      if (answers.size >= size) {
        const oldest = answers.keys().next().value;
        if (oldest !== undefined) answers.delete(oldest);
      }
      answers.set(key, { publicKey: Buffer.from(publicKey), message: Buffer.from(message), valid });
      return valid;
    },
  };
}
