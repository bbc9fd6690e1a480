import { makeScanEvent, type ScanOrigin } from "../normalize.js";
import type { ScanEvent } from "../scan.js";
import { CAMERA_QR } from "../symbology.js";
import type { QrFrameDecoder, RgbaImage } from "./decoder.js";

/** Turns a QR text read by a camera into the normalized scan event. */
export function cameraScanEvent(
  origin: Omit<ScanOrigin, "source"> & { source?: "camera" | "image" },
  text: string,
  at: number,
): ScanEvent {
  return makeScanEvent(
    { source: origin.source ?? "camera", device: origin.device, lane: origin.lane },
    new TextEncoder().encode(text),
    at,
    CAMERA_QR,
  );
}

/** Decodes one frame and, when a code is in view, returns its scan event. */
export function scanFrame(
  decoder: QrFrameDecoder,
  frame: RgbaImage,
  origin: { readonly device: string; readonly lane: string },
  at: number,
): ScanEvent | undefined {
  const result = decoder.decodeRgba(frame);
  return result === undefined ? undefined : cameraScanEvent(origin, result.text, at);
}
