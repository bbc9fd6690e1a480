import type { Clock, ScanEvent, ScanProblem } from "../scan.js";
import { cameraScanEvent } from "./camera-scan.js";
import { QrFrameDecoder } from "./decoder.js";

export interface VideoScannerOptions {
  readonly video: HTMLVideoElement;
  readonly lane: string;
  readonly device?: string;
  /** Frames decoded per second; a decode takes 5–40 ms, so 10–15 leaves the UI room. */
  readonly framesPerSecond?: number;
  readonly clock?: Clock;
  /** Decoding time allowed per frame before giving up on it (default 35 ms). */
  readonly decodeBudgetMs?: number;
  readonly onScan: (event: ScanEvent) => void;
  readonly onProblem?: (problem: ScanProblem) => void;
}

export interface VideoScanner {
  stop(): void;
  /** Frames looked at and codes found, for the gate's health panel. */
  readonly stats: { frames: number; codes: number };
}

/**
 * Decodes QR codes from a playing <video> (a camera stream) in the kiosk window. Every code seen
 * is reported; repeats are the debouncer's business, as for the other scanners.
 */
export function startVideoScanner(options: VideoScannerOptions): VideoScanner {
  const { video } = options;
  const device = options.device ?? "camera";
  const clock = options.clock ?? (() => Date.now());
  // At most ~35 ms of decoding per frame: a hard frame is retried on the next one, the UI stays fluid.
  const decoder = new QrFrameDecoder({ budgetMs: options.decodeBudgetMs ?? 35 });
  const canvas = video.ownerDocument.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const stats = { frames: 0, codes: 0 };
  const interval = 1000 / (options.framesPerSecond ?? 12);
  let stopped = false;
  let failing = false;
  const tick = () => {
    if (stopped) return;
    const started = performance.now();
    try {
      if (context !== null && video.readyState >= 2 && video.videoWidth > 0) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const frame = context.getImageData(0, 0, canvas.width, canvas.height);
        stats.frames++;
        const result = decoder.decodeRgba(frame);
        if (result !== undefined) {
          stats.codes++;
          options.onScan(cameraScanEvent({ device, lane: options.lane }, result.text, clock()));
        }
        failing = false;
      }
    } catch (error) {
      // Report once per run of failures, not 12 times a second.
      if (!failing) {
        options.onProblem?.({
          source: "camera",
          device,
          lane: options.lane,
          code: "decode-failed",
          message: error instanceof Error ? error.message : String(error),
          at: clock(),
        });
      }
      failing = true;
    }
    setTimeout(tick, Math.max(0, interval - (performance.now() - started)));
  };
  if (context === null) {
    options.onProblem?.({
      source: "camera",
      device,
      lane: options.lane,
      code: "decode-failed",
      message: "this browser gives no 2D canvas: cannot read camera frames",
      at: clock(),
    });
  } else {
    setTimeout(tick, 0);
  }
  return {
    stats,
    stop() {
      stopped = true;
    },
  };
}
