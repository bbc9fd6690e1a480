export { freePort } from "./ports.js";
export { makeTempDir } from "./tempdir.js";
