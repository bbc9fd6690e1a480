import { fileURLToPath } from "node:url";
import { launchChromium } from "@sesame/testing";
import { build } from "esbuild";
import type { Browser, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScannerLayoutName, strokesFor, typedBy } from "../src/index.js";
import { credentialShapedText } from "./fixtures.js";

// Real key events in Debian's Chromium, sent through the DevTools protocol so that `code` (the key
// position) and `key` (what the kiosk's layout made of it) can disagree exactly as they do when a
// US-configured scanner is plugged into a French AZERTY kiosk.

let browser: Browser;
let bundle: string;

beforeAll(async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./wedge-page.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "chrome120",
  });
  bundle = result.outputFiles[0]?.text ?? "";
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

async function kiosk(scannerLayout: ScannerLayoutName): Promise<{ page: Page; cdp: CDPSession }> {
  const page = await browser.newPage();
  await page.setContent(
    `<!doctype html><html><body><input id="name" autocomplete="off"><script>${bundle}</script></body></html>`,
  );
  // A shared CI machine can stall the DevTools event stream for more than a scanner's 80 ms: the
  // test widens the gap that ends a burst, and the person in the typing test types slower still.
  await page.evaluate(
    ([layout, gap]) =>
      (window as unknown as { startCapture(l: string, t: { maxGapMs: number }): void }).startCapture(layout, {
        maxGapMs: gap,
      }),
    [scannerLayout, TEST_MAX_GAP_MS] as const,
  );
  await page.focus("#name");
  const cdp = await page.context().newCDPSession(page);
  // Warm the DevTools path with a modifier (ignored by the capture): a first event that takes
  // longer than a scanner's inter-key gap would split the first scan, which no real scanner does.
  await press(cdp, { code: "ShiftLeft", shift: false }, "Shift");
  return { page, cdp };
}

const SHIFT = 8;
const TEST_MAX_GAP_MS = 400;

/** One key press as the OS of a kiosk with `kioskLayout` reports a scanner's stroke. */
async function press(cdp: CDPSession, stroke: { code: string; shift: boolean }, key: string): Promise<void> {
  const modifiers = stroke.shift ? SHIFT : 0;
  const vk = stroke.code === "Enter" ? 13 : stroke.code === "Tab" ? 9 : 0;
  const text = key.length === 1 ? key : key === "Enter" ? "\r" : "";
  await cdp.send("Input.dispatchKeyEvent", {
    type: text ? "keyDown" : "rawKeyDown",
    code: stroke.code,
    key,
    text,
    unmodifiedText: text,
    modifiers,
    windowsVirtualKeyCode: vk,
  });
  await cdp.send("Input.dispatchKeyEvent", {
    type: "keyUp",
    code: stroke.code,
    key,
    modifiers,
    windowsVirtualKeyCode: vk,
  });
}

async function scanWithWedge(
  cdp: CDPSession,
  text: string,
  scanner: ScannerLayoutName,
  kioskLayout: ScannerLayoutName,
) {
  for (const stroke of strokesFor(scanner, text))
    await press(cdp, stroke, typedBy(kioskLayout, stroke) ?? "Dead");
  await press(cdp, { code: "Enter", shift: false }, "Enter");
}

type PageState = {
  scans: Array<{ text: string; kind: string; source: string }>;
  pageKeys: string[];
  value: string;
};
const state = (page: Page): Promise<PageState> =>
  page.evaluate(() => {
    const w = window as unknown as { scans: PageState["scans"]; pageKeys: string[] };
    return {
      scans: w.scans,
      pageKeys: w.pageKeys,
      value: (document.getElementById("name") as HTMLInputElement).value,
    };
  });

const ticket = credentialShapedText(41);

describe("keyboard-wedge capture in Chromium", () => {
  it.each([
    ["us", "fr"],
    ["fr", "us"],
    ["us", "us"],
  ] as const)(
    "reads a %s-configured scanner on a %s kiosk and keeps the scan out of the text field",
    async (scanner, kioskLayout) => {
      const { page, cdp } = await kiosk(scanner);
      await scanWithWedge(cdp, ticket, scanner, kioskLayout);
      let s = await state(page);
      for (let i = 0; i < 200 && s.scans.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        s = await state(page);
      }
      expect(s.scans).toEqual([{ text: ticket, kind: "sesame", source: "wedge", lane: "L7" }]);
      expect(s.value).toBe("");
      expect(s.pageKeys.filter((key) => key !== "Shift")).toEqual([]);
      await page.close();
    },
  );

  it("lets a steward type a name into the field on an AZERTY kiosk", async () => {
    const { page, cdp } = await kiosk("us");
    // A person types with the kiosk's own layout: the key they mean is the key the OS reports.
    for (const char of "Dupont") {
      const stroke = strokesFor("fr", char)[0];
      if (stroke === undefined) throw new Error(char);
      await press(cdp, stroke, char);
      await new Promise((resolve) => setTimeout(resolve, TEST_MAX_GAP_MS + 150));
    }
    let s = await state(page);
    for (let i = 0; i < 200 && s.value.length < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      s = await state(page);
    }
    expect(s.value).toBe("Dupont");
    expect(s.scans).toEqual([]);
    await page.close();
  });
});
