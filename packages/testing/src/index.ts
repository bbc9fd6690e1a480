export { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium, newTestContext } from "./chromium.js";
export { Mosquitto } from "./mosquitto.js";
export { type MqttClient, type PublishOutcome, publishBounded, rawClient } from "./mqtt-client.js";
export { captureOutput } from "./output.js";
export { freePort } from "./ports.js";
export { makeTempDir } from "./tempdir.js";
