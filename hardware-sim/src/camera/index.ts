export {
  type CameraFrame,
  type CameraShot,
  HEAD_ON_SHOT,
  projectedQrCorners,
  renderCameraFrame,
} from "./camera.js";
export {
  ALL_TROUBLES,
  type CorpusImage,
  type CorpusOptions,
  type DistortedShot,
  drawDistortedShot,
  generateCameraCorpus,
  type ShotTrouble,
} from "./corpus.js";
export {
  type PhoneScreen,
  type PhoneScreenOptions,
  phoneScreen,
  type QrErrorCorrection,
} from "./phone-screen.js";
export { encodePng } from "./png.js";
