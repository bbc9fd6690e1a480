export { SerialCable } from "./cable.js";
export {
  corruptBytes,
  DEFAULT_SCANNER_OUTPUT,
  encodeScannerOutput,
  noiseBytes,
  type ScannerOutputSettings,
  type ScannerSuffix,
} from "./output.js";
export { between, type Random, randomInt, seededRandom } from "./random.js";
export { SimulatedSerialScanner, type SimulatedSerialScannerOptions } from "./serial-scanner.js";
