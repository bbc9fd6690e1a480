import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "@sesame/sync";
import { launchChromium, makeTempDir, newTestContext } from "@sesame/testing";
import { readRootKeyFile, VENUE_FILES } from "@sesame/venue";
import { certifyPublicKey } from "@sesame/venue/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardWorld, SUPERVISOR, TECH } from "../../../sync-server/test/dashboard-harness.js";
import type { TestGate, World } from "../../../sync-server/test/harness.js";
import { TOKENS, waitFor } from "../../../sync-server/test/harness.js";
// The dashboard's own build helper (Vite lives in @sesame/supervisor, not here).
import { buildDashboard } from "../src/build.js";
import { enrolSupervisorKey } from "../src/testing.js";

/*
 * The supervisor dashboard in Debian's Chromium, built with Vite into a temporary directory and
 * served by a real sync-server (embedded broker, demo venue) with simulated gates (GateSync). With
 * SESAME_SCREENSHOTS=1 it also saves docs/screenshots/dashboard-*.png.
 */

const SCREENSHOTS = process.env.SESAME_SCREENSHOTS === "1";
const SHOTS_DIR = fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url));
const MINUTE = 60_000;

async function shot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SHOTS_DIR, `dashboard-${name}.png`), fullPage: true });
}

async function signInPage(page: Page, user: { name: string; password: string }): Promise<void> {
  await page.getByLabel("Identifiant").fill(user.name);
  await page.getByLabel("Mot de passe").fill(user.password);
  await page.getByRole("button", { name: "Se connecter", exact: true }).click();
}

/** Status code of a same-origin call made by the page itself (its cookie, its origin). */
function pageFetch(
  page: Page,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<number> {
  return page.evaluate(
    async ({ path, method, body }) => {
      const r = await fetch(path, {
        method: method ?? "GET",
        headers: { "x-sesame": "1", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return r.status;
    },
    { path, method: init.method, body: init.body },
  );
}

describe("supervisor dashboard (Chromium)", () => {
  const dir = makeTempDir("sesame-dash-ui-");
  let world: World;
  let browser: Browser;
  let a: TestGate;
  let b: TestGate;
  /** Valid session-1 tickets of the demo venue by entrance, used once each (a gate admits its entrance's). */
  const tickets = new Map<number, number[]>();
  const received: Command[] = [];
  const base = () => `http://127.0.0.1:${world.apiPort}/`;
  const nextTicket = (entrance = 1) => {
    const id = tickets.get(entrance)?.shift();
    if (id === undefined) throw new Error(`out of demo tickets of entrance ${entrance}`);
    return id;
  };

  beforeAll(async () => {
    const dashboardDir = join(dir.path, "dist");
    await buildDashboard(dashboardDir);
    // Two gates per entrance: a ticket used twice is used at two gates of its entrance (A1, A2).
    world = await dashboardWorld({ dashboardDir }, { lanesPerGate: 1 });
    for (const r of world
      .requireServer()
      .store.db.prepare(
        "SELECT id, entrance FROM tickets WHERE status = 'valid' AND EXISTS (SELECT 1 FROM json_each(sessions) WHERE value = 1) ORDER BY id",
      )
      .all() as Array<{ id: number; entrance: number }>)
      tickets.set(r.entrance, [...(tickets.get(r.entrance) ?? []), r.id]);
    a = world.gate("A1");
    b = world.gate("B1");
    a.sync.on("command", (command) => received.push(command));
    await waitFor(() => a.sync.status().connected && b.sync.status().connected, 15_000, "gates connected");
    // An hour of history, so that the chart has a shape: entries at both gates, a few refusals.
    for (let m = 50; m >= 1; m--) {
      const at = Date.now() - m * MINUTE;
      const gate = m % 3 === 0 ? b : a;
      for (let i = 0; i < (m % 4) + 1; i++)
        gate.store.admit({ ticketId: nextTicket(gate === a ? 1 : 2), session: 1, at });
      if (m % 9 === 0) gate.store.append({ kind: "refused", reason: "EXPIRED_CODE", session: 1, at });
    }
    a.sync.notifyOutbox();
    b.sync.notifyOutbox();
    await waitFor(() => a.store.outboxDepth() === 0 && b.store.outboxDepth() === 0, 15_000, "history stored");
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
    dir.remove();
  });

  it("shows only the sign-in form without a session, and the API answers 401", async () => {
    const context = await newTestContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(base());
      await page.getByRole("heading", { name: "Connexion à la supervision" }).waitFor();
      expect(await page.getByRole("tab").count()).toBe(0);
      expect(await page.getByTestId("total-entered").count()).toBe(0);
      for (const path of ["api/counts", "api/alerts", "api/venue", "api/export/entries.csv?session=1"])
        expect(await pageFetch(page, path), path).toBe(401);
      expect(
        await pageFetch(page, "api/commands", {
          method: "POST",
          body: { type: "free-passage", venue: true },
        }),
      ).toBe(401);
      await shot(page, "signin");
    } finally {
      await context.close();
    }
  });

  it("refuses a wrong password and stays on the sign-in form", async () => {
    const context = await newTestContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(base());
      await signInPage(page, { name: SUPERVISOR.name, password: "not the password" });
      await page.getByRole("alert").filter({ hasText: "Identifiant ou mot de passe incorrect." }).waitFor();
      expect(await page.getByRole("tab").count()).toBe(0);
      expect(await pageFetch(page, "api/counts")).toBe(401);
    } finally {
      await context.close();
    }
  });

  it("signs in with a dashboard access token too (the demo venue prints them)", async () => {
    const context = await newTestContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(base());
      await page.getByRole("button", { name: "Se connecter avec un jeton d'accès" }).click();
      await page.getByLabel("Jeton d'accès").fill("not-a-token");
      await page.getByRole("button", { name: "Se connecter", exact: true }).click();
      await page.getByRole("alert").filter({ hasText: "Jeton inconnu." }).waitFor();
      await page.getByLabel("Jeton d'accès").fill(TOKENS[2]?.token ?? "");
      await page.getByRole("button", { name: "Se connecter", exact: true }).click();
      await page.getByTestId("who").filter({ hasText: "tech Martin (technicien)" }).waitFor();
    } finally {
      await context.close();
    }
  });

  it("a supervisor watches entries live, acknowledges an alert, opens an entrance and exports the log", async () => {
    const context = await newTestContext(browser);
    const page = await context.newPage();
    const server = world.requireServer();
    try {
      await page.goto(base());
      await signInPage(page, SUPERVISOR);
      await page.getByTestId("live").filter({ hasText: "En direct" }).waitFor();
      const entered = () => server.store.counts().byGate;
      const before = entered().A1 ?? 0;
      await page
        .getByTestId("count-gate-A1")
        .filter({ hasText: new RegExp(`^${before}$`) })
        .waitFor();
      const chartTotal = Number(await page.getByTestId("throughput-chart").getAttribute("data-total"));
      expect(chartTotal).toBe(server.store.counts().entered);

      // Live: three admissions and a refusal at A1 while the page is open.
      const admitted = [nextTicket(), nextTicket(), nextTicket()];
      for (const ticketId of admitted) a.store.admit({ ticketId, session: 1 });
      a.store.append({ kind: "refused", reason: "WRONG_SESSION", ticketId: nextTicket(), session: 1 });
      a.sync.notifyOutbox();
      await page
        .getByTestId("count-gate-A1")
        .filter({ hasText: new RegExp(`^${before + 3}$`) })
        .waitFor();
      await page.getByTestId("refusals-WRONG_SESSION").filter({ hasText: /^1$/ }).waitFor();
      await page.getByTestId("refusal-reasons").getByText("Autre session").waitFor();
      await page
        .getByTestId("throughput-chart")
        .and(page.locator(`[data-total="${chartTotal + 3}"]`))
        .waitFor();

      // Alerts: a forged code at A1, a forced passage at B1 and a ticket used at A1 and A2.
      a.store.append({ kind: "refused", reason: "FORGED", lane: 2 });
      a.sync.notifyOutbox();
      await waitFor(() => server.store.openAlertCount() >= 1, 10_000, "forgery alert");
      b.store.append({ kind: "alarm", reason: "FORCED_PASSAGE", lane: 1 });
      b.sync.notifyOutbox();
      const twice = nextTicket();
      const a2 = world.gate("A2");
      a.store.admit({ ticketId: twice, session: 1 });
      a2.store.admit({ ticketId: twice, session: 1 });
      a.sync.notifyOutbox();
      await waitFor(() => server.store.openAlertCount() >= 3, 10_000, "alerts raised");
      const types = server.store.alerts().map((x) => x.type);
      for (const type of ["forgery", "double-entry"]) expect(types, types.join(", ")).toContain(type);
      // The dashboard shows the server's count of open alerts, live (whatever else a loaded machine
      // raised meanwhile, e.g. a gate silent too long): compare with the server's, not a constant.
      const shown = page.getByTestId("open-alerts");
      const deadline = Date.now() + 15_000;
      for (;;) {
        const want = String(server.store.openAlertCount());
        if ((await shown.textContent()) === want) break;
        if (Date.now() > deadline)
          throw new Error(
            `the dashboard shows ${await shown.textContent()} open alerts, the server holds ${want}: ${server.store
              .alerts()
              .filter((x) => x.acknowledgedAt === null)
              .map((x) => `${x.type} ${x.gates.join("/")}`)
              .join(", ")}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
      await page.getByTestId("total-alarms").filter({ hasText: /^1$/ }).waitFor();
      await shot(page, "overview");
      await page.getByTestId("tab-alerts").click();
      const forgery = server.store.alerts().find((x) => x.type === "forgery");
      const item = page.getByTestId(`alert-${forgery?.id}`);
      await item.getByText("Billet falsifié").waitFor();
      await item.getByRole("button", { name: "Acquitter" }).click();
      await item.getByText(/Acquittée par dupont à/).waitFor();
      expect(await item.getAttribute("data-state")).toBe("acknowledged");
      expect(server.store.alert(forgery?.id ?? 0)?.acknowledgedBy).toBe("dupont");

      // Holders of a revoked key's tickets at A1, batch after batch: one line whose count grows live.
      const revokedScans = (n: number) => {
        for (let i = 0; i < n; i++)
          a.store.append({ kind: "refused", reason: "KEY_REVOKED", issuerKeyId: 4 });
        a.sync.notifyOutbox();
      };
      revokedScans(2);
      await waitFor(
        () => server.store.alerts().some((x) => x.type === "revoked-key-scans" && x.count === 2),
        10_000,
        "revoked-key-scans alert",
      );
      const keyAlert = server.store.alerts().find((x) => x.type === "revoked-key-scans");
      const keyItem = page.getByTestId(`alert-${keyAlert?.id}`);
      await keyItem.getByText("Clé d'émission révoquée").waitFor();
      await page
        .getByTestId(`alert-count-${keyAlert?.id}`)
        .filter({ hasText: /^× 2 · dernier à / })
        .waitFor();
      revokedScans(3);
      await page
        .getByTestId(`alert-count-${keyAlert?.id}`)
        .filter({ hasText: /^× 5 · dernier à / })
        .waitFor();
      await keyItem.getByText(/^5 scans at gate A1 of tickets under revoked issuer key 4/).waitFor();
      expect(await page.locator(".alert-revoked-key-scans").count()).toBe(1);
      await shot(page, "alerts");

      await page.getByTestId("tab-gates").click();
      await page.getByTestId("gate-status-A1").filter({ hasText: "en ligne" }).waitFor();
      await shot(page, "gates");

      // Quarantine of a gate whose key is taken (B2, switched off): asked, recorded, shown.
      await page
        .getByTestId("gate-quarantine-B2")
        .getByRole("button", { name: "Mettre en quarantaine" })
        .click();
      const asked = page.getByRole("dialog");
      await asked.getByTestId("quarantine-reason").fill("kiosque volé");
      await asked.getByRole("button", { name: "Confirmer" }).click();
      await asked.waitFor({ state: "detached" });
      await page.getByTestId("gate-status-B2").filter({ hasText: "en quarantaine" }).waitFor();
      await page
        .getByTestId("gate-quarantine-B2")
        .getByText(/par dupont à .*: kiosque volé/)
        .waitFor();
      expect(server.store.gate("B2")?.quarantine).toMatchObject({ by: "dupont", reason: "kiosque volé" });

      // Free passage takes the supervisor's own key: none yet, so the button waits for it.
      await page.getByTestId("tab-commands").click();
      await page.getByTestId("free-passage-needs-key").waitFor();
      expect(await page.getByRole("button", { name: "Ouvrir en passage libre" }).isDisabled()).toBe(true);
      // Enrolment: the key is made in this browser, its private half not extractable, kept in IndexedDB.
      const publicKey = await enrolSupervisorKey(page, (key) =>
        certifyPublicKey({
          rootSeed: Buffer.from(readRootKeyFile(join(world.venueDir, VENUE_FILES.rootKey))).toString("hex"),
          venueId: server.venue.id,
          supervisor: SUPERVISOR.name,
          publicKey: key,
        }),
      );
      expect(publicKey).toMatch(/^[0-9a-f]{64}$/);
      const stored = await page.evaluate(
        async ({ account, venueId }) => {
          const db = await new Promise<IDBDatabase>((resolve, reject) => {
            const open = indexedDB.open("sesame-supervisor");
            open.onsuccess = () => resolve(open.result);
            open.onerror = () => reject(open.error);
          });
          const key = await new Promise<{ privateKey: CryptoKey; certificate?: unknown }>(
            (resolve, reject) => {
              const r = db
                .transaction("signing-keys")
                .objectStore("signing-keys")
                .get(`${venueId}/${account}`);
              r.onsuccess = () => resolve(r.result);
              r.onerror = () => reject(r.error);
            },
          );
          const exported = await crypto.subtle.exportKey("pkcs8", key.privateKey).then(
            () => "exported",
            (e: Error) => e.name,
          );
          return {
            algorithm: key.privateKey.algorithm.name,
            extractable: key.privateKey.extractable,
            exported,
            certified: key.certificate !== undefined,
          };
        },
        { account: SUPERVISOR.name, venueId: server.venue.id },
      );
      expect(stored).toEqual({
        algorithm: "Ed25519",
        extractable: false,
        exported: "InvalidAccessError",
        certified: true,
      });
      // The key survives a reload (IndexedDB), and the certificate with it.
      await page.reload();
      await page.getByTestId("tab-commands").click();
      await page.locator('[data-testid=signing-key-status][data-state="certified"]').waitFor();

      // Free passage for entrance A: confirmed in a dialog, signed here, then the gate's acknowledgement.
      await page.locator("select[name=passage-target]").selectOption("1");
      await page.getByRole("button", { name: "Ouvrir en passage libre" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByText("Portiques concernés : A1, A2").waitFor();
      await shot(page, "confirm");
      expect(received).toEqual([]);
      await dialog.getByRole("button", { name: "Confirmer" }).click();
      await dialog.waitFor({ state: "detached" });
      await waitFor(() => received.some((c) => c.type === "free-passage"), 10_000, "command at the gate");
      const command = received.find((c) => c.type === "free-passage");
      expect(command?.target).toEqual({ entrance: 1 });
      expect(command?.by).toBe("dupont");
      const ack = page.getByTestId(`ack-${command?.id}-A1`);
      await ack.filter({ hasText: "A1 : exécutée" }).waitFor();
      expect(await ack.getAttribute("data-state")).toBe("done");
      await shot(page, "commands");

      // The entry log of session 1, through the download button.
      await page.getByTestId("tab-overview").click();
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByTestId("export-session-1").click(),
      ]);
      expect(download.suggestedFilename()).toBe("entries-SDF-ATH-S1.csv");
      const path = await download.path();
      const csv = readFileSync(path, "utf8");
      expect(csv.split("\r\n")[0]).toMatch(/^event_id,gate,gate_seq,lane,kind,/);
      for (const ticketId of admitted)
        expect(csv).toMatch(new RegExp(`,entered,entry,ADMITTED,${ticketId},`));

      // English on demand, remembered.
      await page.getByRole("button", { name: "EN" }).click();
      await page.getByRole("tab", { name: "Overview" }).waitFor();
      await page.getByRole("heading", { name: "Refusal reasons" }).waitFor();
      await page.getByTestId("refusal-reasons").getByText("Other session").waitFor();
      await shot(page, "overview-en");
      await page.reload();
      await page.getByRole("tab", { name: "Overview" }).waitFor();
    } finally {
      await context.close();
    }
  });

  it("a page whose session ends elsewhere falls back to the sign-in form and says why", async () => {
    const context = await newTestContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(base());
      await signInPage(page, SUPERVISOR);
      await page.getByTestId("live").filter({ hasText: "En direct" }).waitFor();
      // Signed out from another tab of the same browser: the server ends the session and its stream.
      const other = await context.newPage();
      await other.goto(base());
      expect(await pageFetch(other, "api/session", { method: "DELETE" })).toBe(200);
      await page.getByText("Session expirée : reconnectez-vous.").waitFor();
      await page.getByRole("heading", { name: "Connexion à la supervision" }).waitFor();
      expect(await page.getByRole("tab").count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it("a tech sees the data but cannot command: controls disabled with the reason, API 403", async () => {
    const context = await newTestContext(browser);
    const page = await context.newPage();
    try {
      await page.goto(base());
      await signInPage(page, TECH);
      await page.getByTestId("who").filter({ hasText: "martin (technicien)" }).waitFor();
      const count = world.requireServer().store.counts().byGate.A1 ?? 0;
      expect(count).toBeGreaterThan(0);
      await page
        .getByTestId("count-gate-A1")
        .filter({ hasText: new RegExp(`^${count}$`) })
        .waitFor();
      await page.getByTestId("tab-commands").click();
      await page.getByTestId("commands-disabled").waitFor();
      for (const name of ["Ouvrir en passage libre", "Fin du passage libre", "Verrouiller", "Déverrouiller"])
        expect(await page.getByRole("button", { name, exact: true }).isDisabled(), name).toBe(true);
      // The commands the supervisor sent are visible to the tech, acknowledgements included.
      await page.getByTestId("recent-commands").getByText("A1 : exécutée").first().waitFor();
      expect(
        await pageFetch(page, "api/commands", {
          method: "POST",
          body: { type: "free-passage", entrance: 1 },
        }),
      ).toBe(403);
      await shot(page, "tech-commands");
      // A tech may not acknowledge a security alert: the button says why.
      await page.getByTestId("tab-alerts").click();
      const doubleUse = world
        .requireServer()
        .store.alerts()
        .find((x) => x.type === "double-entry");
      const item = page.getByTestId(`alert-${doubleUse?.id}`);
      await item.getByText("Les alertes de sûreté sont acquittées par un superviseur.").waitFor();
      expect(await item.getByRole("button", { name: "Acquitter" }).isDisabled()).toBe(true);
      expect(await pageFetch(page, `api/alerts/${doubleUse?.id}/ack`, { method: "POST", body: {} })).toBe(
        403,
      );
    } finally {
      await context.close();
    }
  });
});
