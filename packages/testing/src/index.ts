export { freePort } from "./ports.js";
export { openPtyPair, type PtyPair } from "./pty.js";
export { makeTempDir } from "./tempdir.js";
