import { type ScanEvent, startVideoScanner } from "@sesame/scanner/browser";
import { useEffect, useRef, useState } from "react";
import type { Translate } from "./i18n.js";

/*
 * A camera scanner for one lane: the kiosk's webcam (or a USB camera) through getUserMedia, decoded
 * in this window. A small preview shows the holder where to hold the phone.
 */

interface CameraProps {
  readonly lane: number;
  readonly t: Translate;
  readonly onScan: (lane: number, event: ScanEvent) => void;
}

export function Camera({ lane, t, onScan }: CameraProps) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string>();
  const scanned = useRef(onScan);
  scanned.current = onScan;

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    let stopped = false;
    let stream: MediaStream | undefined;
    let scanner: { stop(): void } | undefined;
    navigator.mediaDevices
      .getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false })
      .then(async (media) => {
        if (stopped) {
          for (const track of media.getTracks()) track.stop();
          return;
        }
        stream = media;
        element.srcObject = media;
        await element.play();
        scanner = startVideoScanner({
          video: element,
          lane: String(lane),
          onScan: (event) => scanned.current(lane, event),
        });
        setError(undefined);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    return () => {
      stopped = true;
      scanner?.stop();
      for (const track of stream?.getTracks() ?? []) track.stop();
      element.srcObject = null;
    };
  }, [lane]);

  return (
    <div className="camera" data-camera-lane={lane}>
      <video ref={video} muted playsInline aria-label={t("settingsCamera")} />
      {error ? <p className="camera-error">{t("cameraError", { error })}</p> : null}
    </div>
  );
}
