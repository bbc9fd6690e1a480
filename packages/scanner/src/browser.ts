// What the kiosk window (a browser) can use: no Node modules (serialport, fs) behind these imports.
export { cameraScanEvent, scanFrame } from "./camera/camera-scan.js";
export {
  QR_DECODE_ATTEMPTS,
  type QrDecodeResult,
  QrFrameDecoder,
  type RgbaImage,
  rgbaToLuminance,
} from "./camera/decoder.js";
export { startVideoScanner, type VideoScanner, type VideoScannerOptions } from "./camera/video.js";
export { classifyContent } from "./content.js";
export { ScanDebouncer } from "./debounce.js";
export { makeScanEvent, normalizeScanBytes, normalizeScanText } from "./normalize.js";
export type { ScanContent, ScanEvent, ScanProblem, ScanSource, StewardMessage, Symbology } from "./scan.js";
export { attachWedgeCapture, type WedgeCapture, type WedgeCaptureOptions } from "./wedge/capture.js";
export {
  DEFAULT_WEDGE_TIMING,
  WedgeBurstDetector,
  type WedgeKey,
  type WedgeOutput,
  type WedgeTiming,
} from "./wedge/detector.js";
export { characterFor, type KeyStroke, type ScannerLayoutName, strokesFor } from "./wedge/layouts.js";
