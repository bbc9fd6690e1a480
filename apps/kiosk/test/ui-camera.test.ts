import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CameraFrame, phoneScreen, renderCameraFrame } from "@sesame/hardware-sim";
import { makeTempDir } from "@sesame/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  admissibleWallets,
  type KioskFixture,
  type KioskPage,
  startKioskFixture,
  until,
} from "./ui-harness.js";

// The camera scanner of the kiosk window: Chromium's fake camera plays a Y4M file of a holder's
// phone (rendered by the hardware simulator), the UI decodes it and the gate admits the ticket.

/** Raw YUV 4:2:0 frames (what Chromium's fake capture device reads), from RGBA frames. */
function y4m(frames: readonly CameraFrame[]): Buffer {
  const first = frames[0];
  if (!first) throw new Error("no frame");
  const { width, height } = first;
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`)];
  for (const frame of frames) {
    const y = Buffer.alloc(width * height);
    const u = Buffer.alloc((width / 2) * (height / 2));
    const v = Buffer.alloc((width / 2) * (height / 2));
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const i = (row * width + col) * 4;
        const r = frame.rgba[i] ?? 0;
        const g = frame.rgba[i + 1] ?? 0;
        const b = frame.rgba[i + 2] ?? 0;
        y[row * width + col] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
        if (row % 2 === 0 && col % 2 === 0) {
          const c = (row / 2) * (width / 2) + col / 2;
          u[c] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)));
          v[c] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)));
        }
      }
    }
    parts.push(Buffer.from("FRAME\n"), y, u, v);
  }
  return Buffer.concat(parts);
}

describe("camera scanner in Chromium", () => {
  const dir = makeTempDir();
  const video = join(dir.path, "phone.y4m");
  let fixture: KioskFixture;
  let kiosk: KioskPage;

  beforeAll(async () => {
    // Chromium opens the file when the page asks for the camera: it is written before that.
    fixture = await startKioskFixture({
      seed: "kiosk-ui-camera",
      browserArgs: [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        `--use-file-for-fake-video-capture=${video}`,
      ],
    });
  });
  afterAll(async () => {
    await fixture?.close();
    dir.remove();
  });

  it("reads the holder's phone through the kiosk camera and admits the ticket once", async () => {
    const holder = admissibleWallets(fixture)[0];
    if (!holder) throw new Error("no admissible ticket");
    // One 15 s step ahead: the code stays fresh for the whole test on a slow machine.
    const code = fixture.code(holder, Date.now() + 15_000);
    const frame = renderCameraFrame(phoneScreen(code), { width: 640, height: 480, qrSizePx: 300 });
    writeFileSync(video, y4m([frame, frame, frame]));

    kiosk = await fixture.newPage({
      initScript: `try { localStorage.setItem("sesame.kiosk.settings", JSON.stringify({ scannerLayout: "us", sound: true, cameraLane: 1 })) } catch {}`,
    });
    const page = kiosk.page;
    await page.locator('[data-camera-lane="1"] video').waitFor();
    await page.locator('[data-lane="1"][data-screen="admit"]').waitFor({ timeout: 20_000 });
    const decision = fixture.backend.laneViews().find((l) => l.lane === 1)?.decision;
    expect(decision).toMatchObject({ reason: "ADMITTED", ticketId: holder.body.ticketId });
    const sim = fixture.sims.get(1);
    expect(await sim?.controller.walk("entry")).toBe("passed");
    await until(
      () => fixture.store.facts().presence(holder.body.ticketId, 1)?.state === "inside",
      "the holder inside",
    );
    // The code held in front of the camera is one scan: one authorization for the ticket.
    const authorized = fixture.store
      .events(1, 100_000)
      .filter((e) => e.kind === "authorized" && e.ticketId === holder.body.ticketId);
    expect(authorized).toHaveLength(1);
    expect(kiosk.errors).toEqual([]);
  });
});
