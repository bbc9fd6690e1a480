import { existsSync } from "node:fs";
import { join } from "node:path";
import { type RunningGate, type RunningVenue, startVenue } from "@sesame/cli";
import { DEFAULT_UI_DIR } from "@sesame/kiosk";
import { dashboardBuilt, dashboardDir } from "@sesame/supervisor";
import { buildDashboard } from "@sesame/supervisor/build";
import { enrolSupervisorKey } from "@sesame/supervisor/testing";
import { launchChromium, makeTempDir, newTestContext } from "@sesame/testing";
import { Category, createNodeSigner } from "@sesame/ticket";
import { readRootKeyFile, VENUE_FILES, walletCode } from "@sesame/venue";
import { certifyPublicKey } from "@sesame/venue/testing";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * The venue of `sesame up` seen through Chromium: the kiosks and the dashboard served by the real
 * processes, the lanes simulated at the OSDP byte seam. One admission at A1 shows on A1's kiosk and on
 * the dashboard, and the same ticket is then refused at A2's kiosk; a supervisor's free passage for
 * entrance B reaches B's simulated turnstiles and kiosks.
 */

const waitFor = async (condition: () => boolean, what: string, timeoutMs = 20_000) => {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("the whole venue in a browser", () => {
  const dir = makeTempDir("sesame-venue-browser-");
  let venue: RunningVenue;
  let browser: Browser;

  beforeAll(async () => {
    // `npm test` builds both pages before the tests; a bare `vitest` run builds what is missing.
    if (!existsSync(join(DEFAULT_UI_DIR, "index.html"))) {
      await build({
        configFile: new URL("../../apps/kiosk/ui/vite.config.ts", import.meta.url).pathname,
        logLevel: "warn",
      });
    }
    if (!dashboardBuilt()) await buildDashboard(dashboardDir);
    venue = await startVenue({
      dir: dir.path,
      spectators: 300,
      lanes: 4,
      lanesPerGate: 1,
      gates: "in-process",
      arrivalsPerSecond: 0,
      seed: "venue-browser",
      log: () => {},
    });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await venue?.stop();
    dir.remove();
  });

  const gate = (id: string): RunningGate => {
    const g = venue.gates.find((x) => x.gateId === id);
    if (!g) throw new Error(`no gate ${id}`);
    return g;
  };
  const simOf = (id: string) => {
    const sim = gate(id).lanes[0]?.sim;
    if (!sim?.reader) throw new Error(`gate ${id} has no simulated reader`);
    return { controller: sim.controller, reader: sim.reader };
  };
  const laneOf = (page: Page, screen: string) => page.locator(`[data-lane="1"][data-screen="${screen}"]`);

  it("an admission at A1 shows on the dashboard, the same code is refused at A2, free passage reaches entrance B", async () => {
    expect(venue.gates.map((g) => g.gateId)).toEqual(["A1", "A2", "B1", "B2"]);
    await waitFor(
      () => venue.gates.every((g) => g.node?.sync?.status().connected === true),
      "every gate connected",
    );
    const context = await newTestContext(browser);
    const dashboard = await context.newPage();
    await dashboard.goto(venue.dashboardUrl);
    await dashboard.getByLabel("Identifiant").fill("dupont");
    await dashboard.getByLabel("Mot de passe").fill("superviseur-demo");
    await dashboard.getByRole("button", { name: "Se connecter", exact: true }).click();
    await dashboard.getByTestId("live").filter({ hasText: "En direct" }).waitFor();
    const kioskA1 = await context.newPage();
    await kioskA1.goto(gate("A1").url);
    const kioskA2 = await context.newPage();
    await kioskA2.goto(gate("A2").url);
    const kioskB1 = await context.newPage();
    await kioskB1.goto(gate("B1").url);
    await laneOf(kioskA1, "ready").waitFor();

    // A holder of a plain mobile ticket for entrance A (no ID check) at A1.
    const demo = venue.demo;
    const valid = new Set(
      demo.rows.filter((r) => r.state === "valid" && !r.late).map((r) => `${r.id}:${r.generation}`),
    );
    const wallet = demo.wallets.find(
      (w) =>
        w.deviceSeed &&
        valid.has(`${w.body.ticketId}:${w.body.generation}`) &&
        w.body.sessions.includes(1) &&
        w.body.entrance === 1 &&
        (w.body.categories & (Category.ID_CHECK | Category.ACCESSIBILITY)) === 0,
    );
    if (!wallet) throw new Error("the demo venue has no plain ticket for entrance A");
    const seed = Uint8Array.from(
      Buffer.from(demo.secrets.issuerSeeds[String(wallet.body.keyId)] ?? "", "hex"),
    );
    const signer = createNodeSigner();
    const a1 = simOf("A1");
    a1.reader.scan(walletCode(wallet, seed, Date.now(), signer));
    await kioskA1.locator('[data-lane="1"]').getByText("ADMIS").waitFor();
    await waitFor(() => a1.controller.outputState[0] === true, "A1's turnstile unlocked");
    expect(await a1.controller.walk("entry")).toBe("passed");
    await laneOf(kioskA1, "ready").waitFor();
    await dashboard.getByTestId("count-gate-A1").filter({ hasText: /^1$/ }).waitFor();

    // The same ticket a little later at A2: A2 has learnt of the entry from the sync.
    const a2Cache = gate("A2").node?.store;
    await waitFor(
      () => a2Cache?.facts().presence(wallet.body.ticketId, 1)?.firstEntryGate === "A1",
      "A2 knows the entry at A1",
    );
    const a2 = simOf("A2");
    a2.reader.scan(walletCode(wallet, seed, Date.now(), signer));
    await laneOf(kioskA2, "refuse").getByText("Déjà entré").waitFor();
    expect(a2.controller.outputState[0]).toBe(false);

    // The supervisor enrols this browser's signing key (the root holder certifies it), then opens
    // entrance B for free passage; B's turnstiles are held open.
    await enrolSupervisorKey(dashboard, (publicKey) =>
      certifyPublicKey({
        rootSeed: Buffer.from(readRootKeyFile(join(venue.venueDir, VENUE_FILES.rootKey))).toString("hex"),
        venueId: venue.server.venue.id,
        supervisor: "dupont",
        publicKey,
      }),
    );
    await dashboard.locator("select[name=passage-target]").selectOption("2");
    await dashboard.getByRole("button", { name: "Ouvrir en passage libre" }).click();
    const dialog = dashboard.getByRole("dialog");
    await dialog.getByText(/B1/).waitFor();
    await dialog.getByRole("button", { name: "Confirmer" }).click();
    const b1 = simOf("B1");
    const b2 = simOf("B2");
    await waitFor(
      () => b1.controller.outputState[0] === true && b2.controller.outputState[0] === true,
      "B1's and B2's turnstiles held open",
    );
    await laneOf(kioskB1, "free-passage").waitFor();
    // Entrance A is untouched.
    expect(a1.controller.outputState[0]).toBe(false);
    expect(await b1.controller.walk("entry")).toBe("passed");
    await waitFor(
      () => venue.server.store.counts().freePassages === 1,
      "the free passage in the venue's record",
    );
    await context.close();
  }, 180_000);
});
