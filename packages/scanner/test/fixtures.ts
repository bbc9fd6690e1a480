import { BASE45_ALPHABET } from "../src/index.js";

/**
 * Credential-shaped texts (`SE1:` + Base45) for tests of the input paths, which judge shape only.
 * Real signed credentials come from @sesame/ticket where signatures matter.
 */
export function credentialShapedText(seed: number, bodyLength = 315): string {
  let state = seed >>> 0 || 1;
  let body = "";
  for (let i = 0; i < bodyLength; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    body += BASE45_ALPHABET.charAt((state >>> 16) % 45);
  }
  return `SE1:${body}`;
}
