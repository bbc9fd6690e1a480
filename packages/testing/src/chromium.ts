import { type Browser, type BrowserContext, chromium, type LaunchOptions } from "playwright-core";

/** Debian's Chromium: `npx playwright install` cannot download a browser on our machines. */
export const CHROMIUM_PATH = process.env.SESAME_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

/** Launches headless Chromium for browser tests; `extraArgs` e.g. fake camera flags. */
export function launchChromium(
  extraArgs: readonly string[] = [],
  options: LaunchOptions = {},
): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    ...options,
  });
}

/** A context whose pages fail fast: a UI test waiting 30 s on a missing element tells nothing. */
export async function newTestContext(browser: Browser, locale = "fr-FR"): Promise<BrowserContext> {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  return context;
}
