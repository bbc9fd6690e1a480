export { cameraScanEvent, scanFrame } from "./camera/camera-scan.js";
export { type CommandIo, runDecodeImageCommand } from "./camera/decode-image-command.js";
export {
  QR_DECODE_ATTEMPTS,
  type QrDecodeResult,
  QrFrameDecoder,
  type RgbaImage,
  rgbaToLuminance,
} from "./camera/decoder.js";
export {
  decodeImageBytes,
  ImageFileError,
  type ImageFormat,
  MAX_IMAGE_FILE_BYTES,
  MAX_IMAGE_PIXELS,
  readImageFile,
  sniffImageFormat,
} from "./camera/image-file.js";
export {
  BASE45_ALPHABET,
  classifyContent,
  isBase45,
  MAX_SESAME_TEXT_LENGTH,
  MIN_SESAME_BODY_LENGTH,
  SUPPORTED_SESAME_VERSIONS,
} from "./content.js";
export { DEFAULT_DEBOUNCE, type DebounceOptions, type DebounceVerdict, ScanDebouncer } from "./debounce.js";
export {
  MAX_SCAN_TEXT_LENGTH,
  makeScanEvent,
  type NormalizedText,
  normalizeScanBytes,
  normalizeScanText,
  type ScanOrigin,
} from "./normalize.js";
export type {
  Clock,
  ForeignKind,
  MalformedReason,
  ScanContent,
  ScanEvent,
  ScanProblem,
  ScanProblemCode,
  ScanSource,
  StewardMessage,
  Symbology,
} from "./scan.js";
export { systemClock } from "./scan.js";
export {
  DEFAULT_FRAMING,
  type FramerOutput,
  SerialFramer,
  type SerialFraming,
  type SuffixName,
  suffixBytes,
} from "./serial/framing.js";
export { openSerialPortLink, type SerialLink, type SerialLinkOpener } from "./serial/link.js";
export { type SerialScannerOptions, SerialScannerReader } from "./serial/reader.js";
export { CAMERA_QR, readAimIdentifier } from "./symbology.js";
export {
  DEFAULT_WEDGE_TIMING,
  type KeyDisposition,
  WedgeBurstDetector,
  type WedgeKey,
  type WedgeOutput,
  type WedgeTiming,
} from "./wedge/detector.js";
export {
  characterFor,
  type KeyStroke,
  type ScannerLayoutName,
  strokesFor,
  typedBy,
} from "./wedge/layouts.js";
