// The minimal kiosk page of the Chromium wedge test: a text field, and the capture module attached.
import type { ScanEvent, ScanProblem } from "../src/scan.js";
import { attachWedgeCapture } from "../src/wedge/capture.js";
import type { WedgeTiming } from "../src/wedge/detector.js";
import type { ScannerLayoutName } from "../src/wedge/layouts.js";

interface TestWindow extends Window {
  scans: Array<Pick<ScanEvent, "text" | "source" | "lane"> & { kind: string }>;
  problems: ScanProblem[];
  pageKeys: string[];
  startCapture(layout: ScannerLayoutName, timing?: Partial<WedgeTiming>): void;
}

const testWindow = window as unknown as TestWindow;
testWindow.scans = [];
testWindow.problems = [];
// What the page's own handlers see: scans must not show up here.
testWindow.pageKeys = [];
window.addEventListener("keydown", (event) => testWindow.pageKeys.push(event.key));
testWindow.startCapture = (layout, timing) => {
  attachWedgeCapture(window, {
    lane: "L7",
    scannerLayout: layout,
    ...(timing ? { timing } : {}),
    onScan: (event) =>
      testWindow.scans.push({
        text: event.text,
        source: event.source,
        lane: event.lane,
        kind: event.content.kind,
      }),
    onProblem: (problem) => testWindow.problems.push(problem),
  });
};
