import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Lane } from "@sesame/bridge";
import { GateStore } from "@sesame/cache";
import { GateBackend, type LaneView } from "@sesame/gate";
import { type SimLane, startSimLane } from "@sesame/hardware-sim";
import { type ScannerLayoutName, strokesFor, typedBy } from "@sesame/scanner";
import { launchChromium, makeTempDir, newTestContext } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import {
  type DemoVenue,
  generateDemoVenue,
  type WalletEntry,
  walletCode,
  writeVenueDirectory,
} from "@sesame/venue";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { build } from "vite";
import { type DiagnosticsExtra, KioskHttp } from "../src/backend/http.js";

/*
 * A real gate for the steward UI's browser tests: a demo venue imported into a GateStore,
 * simulated OSDP lane controllers over TCP, the GateBackend, KioskHttp serving the UI built by
 * Vite, and Debian's Chromium.
 */

const HOUR = 3_600_000;
const UI_CONFIG = fileURLToPath(new URL("../ui/vite.config.ts", import.meta.url));
export const SCREENSHOTS_DIR = fileURLToPath(new URL("../../../docs/screenshots", import.meta.url));
export const STEWARD = { id: "S-001", name: "Camille Martin", pin: "4821" } as const;

/** Builds the steward UI with the project's own Vite config into `outDir`. */
export async function buildUi(outDir: string): Promise<void> {
  await build({ configFile: UI_CONFIG, logLevel: "warn", build: { outDir, emptyOutDir: true } });
}

export interface KioskFixture {
  readonly base: string;
  readonly demo: DemoVenue;
  readonly gate: DemoVenue["venue"]["gates"][number];
  readonly store: GateStore;
  readonly backend: GateBackend;
  readonly http: KioskHttp;
  /** The simulated lane controller of each lane, by lane number. */
  readonly sims: ReadonlyMap<number, SimLane>;
  /** What the composition root would report to the diagnostics panel; tests change it. */
  readonly diagnostics: { current: DiagnosticsExtra };
  /** Every lane view the backend reported, oldest first (to explain a failure). */
  readonly laneViews: readonly LaneView[];
  readonly browser: Browser;
  /** The code a holder's phone shows now (or at `at`), or the static code of a printed confirmation. */
  code(wallet: WalletEntry, at?: number): string;
  newPage(options?: { initScript?: string; locale?: string }): Promise<KioskPage>;
  close(): Promise<void>;
}

export interface KioskPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Console errors and page errors (CSP violations land here). */
  readonly errors: string[];
}

export interface KioskFixtureOptions {
  readonly seed: string;
  readonly browserArgs?: readonly string[];
  readonly passageWindowMs?: number;
  /** Lanes of the gate, each with a simulated controller (default 2). */
  readonly lanes?: number;
}

export async function startKioskFixture(options: KioskFixtureOptions): Promise<KioskFixture> {
  const dir = makeTempDir();
  const signer = createNodeSigner();
  const demo = generateDemoVenue({
    spectators: 600,
    doorsOpenMs: Math.floor(Date.now() / HOUR) * HOUR - HOUR,
    entrances: 2,
    lanes: 4,
    random: seededRandom(options.seed),
    signer,
  });
  writeVenueDirectory(join(dir.path, "venue"), demo, signer);
  const gate = demo.venue.gates[0];
  const entrance = demo.venue.entrances.find((e) => e.id === gate?.entrance);
  if (!gate || !entrance) throw new Error("demo venue without gates");
  const issuerSeed = Buffer.from(demo.secrets.issuerSeeds["1"] ?? "", "hex");
  const uiDir = join(dir.path, "ui");
  mkdirSync(uiDir, { recursive: true });

  const cleanups: Array<() => Promise<void> | void> = [() => dir.remove()];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    await buildUi(uiDir);
    const sims = new Map<number, SimLane>();
    const controllers: Array<{ lane: number; controller: Lane }> = [];
    for (let laneNumber = 1; laneNumber <= (options.lanes ?? 2); laneNumber++) {
      const sim = await startSimLane({ endpoint: { tcp: { host: "127.0.0.1", port: 0 } }, paced: false });
      cleanups.push(() => sim.close());
      const controller = Lane.open(sim.where, { controller: { address: 0 } });
      cleanups.push(() => controller.close());
      await controller.ready();
      sims.set(laneNumber, sim);
      controllers.push({ lane: laneNumber, controller });
    }
    const store = GateStore.open(join(dir.path, "gate.db"), {
      rootPublicKey: Buffer.from(demo.venue.rootPublicKey, "hex"),
      gateId: gate.id,
    });
    cleanups.push(() => store.close());
    store.importBundle(join(dir.path, "venue"));
    let http: KioskHttp | undefined;
    const laneViews: LaneView[] = [];
    const backend = new GateBackend(
      {
        store,
        gateId: gate.id,
        entrance: gate.entrance,
        lanes: controllers.map(({ lane, controller }) => ({ lane, direction: "entry" as const, controller })),
        now: Date.now,
        passageWindowMs: options.passageWindowMs ?? 8_000,
      },
      {
        onLane: (view) => {
          laneViews.push(view);
          http?.laneChanged(view);
        },
      },
    );
    cleanups.push(() => backend.close());
    const diagnostics: { current: DiagnosticsExtra } = { current: {} };
    http = new KioskHttp({
      backend,
      store,
      gate: { id: gate.id, entrance: { id: entrance.id, code: entrance.code, name: entrance.name } },
      stewards: [STEWARD, { id: "S-002", name: "Yanis Benali", pin: "7350" }],
      now: Date.now,
      staticDir: uiDir,
      diagnostics: () => diagnostics.current,
    });
    const kioskHttp = http;
    const base = await kioskHttp.listen(0, "127.0.0.1");
    cleanups.push(() => kioskHttp.close());
    const browser = await launchChromium([
      // Sounds play without a user gesture, as in the Electron kiosk.
      "--autoplay-policy=no-user-gesture-required",
      ...(options.browserArgs ?? []),
    ]);
    cleanups.push(() => browser.close());

    return {
      base,
      demo,
      gate,
      store,
      backend,
      http: kioskHttp,
      sims,
      diagnostics,
      laneViews,
      browser,
      code: (wallet, at = Date.now()) => walletCode(wallet, issuerSeed, at, signer),
      async newPage(pageOptions = {}) {
        const context = await newTestContext(browser, pageOptions.locale ?? "fr-FR");
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("console", (message) => {
          // Refused API calls (401 for a wrong PIN…) are logged by Chromium as failed loads: expected.
          if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
            errors.push(message.text());
        });
        page.on("pageerror", (error) => errors.push(error.message));
        if (pageOptions.initScript) await page.addInitScript(pageOptions.initScript);
        await page.goto(base);
        await page.locator('[data-lane="1"]').waitFor();
        return { page, context, errors };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Wallets of this gate's entrance for session 1, valid now, by kind. */
export function admissibleWallets(fixture: Pick<KioskFixture, "demo" | "gate">): WalletEntry[] {
  const { demo, gate } = fixture;
  return demo.wallets.filter((w) => {
    const t = demo.bundle.tickets.find((x) => x.id === w.body.ticketId);
    return (
      w.deviceSeed !== undefined &&
      t?.status === "valid" &&
      t.generation === w.body.generation &&
      t.entrance === gate.entrance &&
      t.sessions.length === 1 &&
      t.sessions[0] === 1 &&
      t.categories.length === 0
    );
  });
}

/** Records the WebAudio tones the page plays (an init script: the UI itself is not changed). */
export const RECORD_TONES = `
  window.__tones = [];
  const createOscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    const oscillator = createOscillator.call(this);
    const start = oscillator.start.bind(oscillator);
    oscillator.start = (when) => {
      window.__tones.push({ type: oscillator.type, frequency: oscillator.frequency.value });
      start(when);
    };
    return oscillator;
  };
`;

export async function tones(page: Page): Promise<Array<{ type: string; frequency: number }>> {
  return page.evaluate(
    () => (window as unknown as { __tones: Array<{ type: string; frequency: number }> }).__tones,
  );
}

/** Saves a documentation screenshot when SESAME_SCREENSHOTS=1 (normal runs leave docs alone). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.SESAME_SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  // Let the last state settle into pixels (fonts, the panel's colour).
  await page.evaluate(
    () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
  );
  await page.screenshot({ path: join(SCREENSHOTS_DIR, `kiosk-${name}.png`) });
}

const SHIFT = 8;

/**
 * Types `text` as a keyboard-wedge scanner configured for `scanner` on a kiosk whose OS layout is
 * `kioskLayout`: real key events through the DevTools protocol, with `code` (key position) and
 * `key` (what the kiosk's layout made of it) as the OS reports them. One key at a time: a flood of
 * DevTools commands would stall this process, and with it the simulated lane controllers' link.
 */
export async function wedgeScan(
  cdp: CDPSession,
  text: string,
  scanner: ScannerLayoutName,
  kioskLayout: ScannerLayoutName,
): Promise<void> {
  const press = async (stroke: { code: string; shift: boolean }, key: string) => {
    const modifiers = stroke.shift ? SHIFT : 0;
    const vk = stroke.code === "Enter" ? 13 : 0;
    const typed = key.length === 1 ? key : key === "Enter" ? "\r" : "";
    await cdp.send("Input.dispatchKeyEvent", {
      type: typed ? "keyDown" : "rawKeyDown",
      code: stroke.code,
      key,
      text: typed,
      unmodifiedText: typed,
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
  };
  for (const stroke of strokesFor(scanner, text)) await press(stroke, typedBy(kioskLayout, stroke) ?? "Dead");
  await press({ code: "Enter", shift: false }, "Enter");
}

/** Waits for a condition of the backend (not of the page) to hold. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
