import { makeScanEvent } from "../normalize.js";
import type { Clock, ScanEvent, ScanProblem } from "../scan.js";
import { WedgeBurstDetector, type WedgeKey, type WedgeOutput, type WedgeTiming } from "./detector.js";
import type { ScannerLayoutName } from "./layouts.js";

export interface WedgeCaptureOptions {
  readonly lane: string;
  /** The layout the scanner is configured for (its "keyboard country"), not the kiosk's. */
  readonly scannerLayout: ScannerLayoutName;
  readonly timing?: Partial<WedgeTiming>;
  readonly device?: string;
  /** Epoch milliseconds for the scan event's time (the kiosk's clock). */
  readonly clock?: Clock;
  readonly onScan: (event: ScanEvent) => void;
  readonly onProblem?: (problem: ScanProblem) => void;
}

export interface WedgeCapture {
  /** Removes the listeners; held keys are given back to the page. */
  detach(): void;
}

/** Events this module dispatches itself when giving keys back: it must not capture them again. */
const givenBack = new WeakSet<Event>();

function isEditable(
  element: Element | null,
): element is HTMLInputElement | HTMLTextAreaElement | HTMLElement {
  if (element === null) return false;
  if (element instanceof HTMLTextAreaElement) return !element.readOnly && !element.disabled;
  if (element instanceof HTMLInputElement) {
    const textual = ["text", "search", "email", "tel", "url", "password", "number", ""];
    return textual.includes(element.type) && !element.readOnly && !element.disabled;
  }
  return element instanceof HTMLElement && element.isContentEditable;
}

/**
 * Captures keyboard-wedge scans in a kiosk window. Keys are caught before the page sees them
 * (capture phase on the window); a fast burst becomes a scan event and never reaches a text field,
 * and keys that turn out to be a person typing are given back to the element that had focus.
 * Characters are decoded from `KeyboardEvent.code` with the scanner's layout, so a US scanner on
 * a French kiosk still reads `12345`, not `&é"'(`.
 */
export function attachWedgeCapture(view: Window, options: WedgeCaptureOptions): WedgeCapture {
  const detector = new WedgeBurstDetector(options.scannerLayout, options.timing);
  const device = options.device ?? "keyboard";
  const clock = options.clock ?? (() => Date.now());
  const doc = view.document;
  /** Where each held key was aimed, to give it back to the same field. */
  const targets = new Map<WedgeKey, Element | null>();
  /** Key positions whose keydown was kept from the page: their keyup is kept too. */
  const suppressedCodes = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const problem = (code: ScanProblem["code"], message: string) =>
    options.onProblem?.({ source: "wedge", device, lane: options.lane, code, message, at: clock() });

  const giveBack = (keys: readonly WedgeKey[]) => {
    for (const key of keys) {
      const target = targets.get(key) ?? doc.activeElement;
      targets.delete(key);
      if (isEditable(target)) {
        if (doc.activeElement !== target && target instanceof HTMLElement) target.focus();
        // insertText goes through the browser's editing path: input events, undo, frameworks see it.
        if (!doc.execCommand("insertText", false, key.key)) insertFallback(target, key.key);
      } else {
        const replay = new KeyboardEvent("keydown", {
          key: key.key,
          code: key.code,
          shiftKey: key.shift,
          bubbles: true,
          cancelable: true,
        });
        givenBack.add(replay);
        (target ?? doc.body).dispatchEvent(replay);
      }
    }
  };

  const handle = (outputs: readonly WedgeOutput[]) => {
    for (const output of outputs) {
      if (output.kind === "release") {
        giveBack(output.keys);
      } else if (output.kind === "overflow") {
        problem("undecodable-keys", `keyboard burst longer than ${output.length} characters: cut there`);
      } else {
        targets.clear();
        if (output.undecodable.length > 0) {
          problem(
            "undecodable-keys",
            `scan typed keys the ${options.scannerLayout.toUpperCase()} scanner layout cannot produce (${[...new Set(output.undecodable)].join(", ")}): check the scanner's keyboard country`,
          );
        }
        const raw = new TextEncoder().encode(output.text);
        options.onScan(makeScanEvent({ source: "wedge", device, lane: options.lane }, raw, clock()));
      }
    }
    clearTimeout(timer);
    const deadline = detector.nextDeadline();
    if (deadline !== undefined) {
      timer = setTimeout(
        () => handle(detector.tick(view.performance.now())),
        Math.max(0, deadline - view.performance.now()) + 1,
      );
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (givenBack.has(event) || event.isComposing) return;
    const altGraph = event.getModifierState("AltGraph");
    const key: WedgeKey = {
      code: event.code,
      key: event.key,
      shift: event.shiftKey,
      altGraph,
      // Windows reports AltGr as Ctrl+Alt: not a shortcut when AltGraph is on.
      command: (event.ctrlKey && !altGraph) || event.metaKey,
      time: event.timeStamp,
    };
    const { outputs, disposition } = detector.key(key);
    if (disposition !== "pass") {
      event.preventDefault();
      event.stopImmediatePropagation();
      suppressedCodes.add(event.code);
      if (disposition === "hold") targets.set(key, doc.activeElement);
    }
    handle(outputs);
  };

  const onKeyUp = (event: KeyboardEvent) => {
    if (suppressedCodes.delete(event.code)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  };

  view.addEventListener("keydown", onKeyDown, { capture: true });
  view.addEventListener("keyup", onKeyUp, { capture: true });
  return {
    detach() {
      view.removeEventListener("keydown", onKeyDown, { capture: true });
      view.removeEventListener("keyup", onKeyUp, { capture: true });
      clearTimeout(timer);
      handle(detector.tick(Number.POSITIVE_INFINITY));
      clearTimeout(timer);
    },
  };
}

function insertFallback(target: HTMLElement, text: string): void {
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
    const start = target.selectionStart ?? target.value.length;
    const end = target.selectionEnd ?? target.value.length;
    target.setRangeText(text, start, end, "end");
    target.dispatchEvent(new InputEvent("input", { bubbles: true, data: text, inputType: "insertText" }));
  }
}
