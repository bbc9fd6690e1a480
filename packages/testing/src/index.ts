export { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium, newTestContext } from "./chromium.js";
export { freePort } from "./ports.js";
export { makeTempDir } from "./tempdir.js";
