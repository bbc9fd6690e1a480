import { join } from "node:path";
import { GateStore } from "@sesame/cache";
import { GateBackend } from "@sesame/gate";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, walletCode, writeVenueDirectory } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KioskHttp } from "../src/backend/http.js";

const HOUR = 3_600_000;

describe("kiosk HTTP API (steward UI backend)", () => {
  const dir = makeTempDir();
  const signer = createNodeSigner();
  const demo = generateDemoVenue({
    spectators: 400,
    doorsOpenMs: Math.floor(Date.now() / HOUR) * HOUR - HOUR,
    entrances: 2,
    lanes: 4,
    random: seededRandom("kiosk-http"),
    signer,
  });
  writeVenueDirectory(join(dir.path, "venue"), demo, signer);
  const gate = demo.venue.gates[0];
  const entrance = demo.venue.entrances.find((e) => e.id === gate?.entrance);
  if (!gate || !entrance) throw new Error("demo venue without gates");
  let store: GateStore;
  let http: KioskHttp;
  let base = "";
  let cookie = "";
  const logged: string[] = [];

  const call = async (method: string, path: string, body?: unknown, raw?: string) => {
    const res = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      ...(body !== undefined || raw !== undefined ? { body: raw ?? JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };

  beforeAll(async () => {
    store = GateStore.open(join(dir.path, "gate.db"), {
      rootPublicKey: Buffer.from(demo.venue.rootPublicKey, "hex"),
      gateId: gate.id,
    });
    store.importBundle(join(dir.path, "venue"));
    const backend = new GateBackend({
      store,
      gateId: gate.id,
      entrance: gate.entrance,
      lanes: [{ lane: 1, direction: "entry" }],
      now: Date.now,
    });
    http = new KioskHttp({
      backend,
      store,
      gate: { id: gate.id, entrance: { id: entrance.id, code: entrance.code, name: entrance.name } },
      stewards: [{ id: "S-001", name: "Camille Martin", pin: "4821" }],
      now: Date.now,
      log: (line) => logged.push(line),
    });
    base = await http.listen(0);
  });
  afterAll(async () => {
    await http?.close();
    store?.close();
    dir.remove();
  });

  it("shows the gate state with lanes and diagnostics", async () => {
    const { status, json } = await call("GET", "/api/state");
    expect(status).toBe(200);
    expect(json).toMatchObject({
      gate: { id: gate.id },
      language: "fr",
      lanes: [{ lane: 1, screen: "ready" }],
    });
    expect(json.diagnostics).toMatchObject({ feedSequence: demo.bundle.feedSequence, outboxDepth: 0 });
  });

  it("scans from the kiosk window are decided like any other", async () => {
    const ticket = demo.bundle.tickets.find(
      (t) =>
        t.kind === "mobile" &&
        t.status === "valid" &&
        t.entrance === gate.entrance &&
        t.sessions.includes(1) &&
        t.categories.length === 0,
    );
    const wallet = demo.wallets.find(
      (w) => w.body.ticketId === ticket?.id && w.body.generation === ticket?.generation,
    );
    if (!wallet) throw new Error("no wallet");
    const text = walletCode(
      wallet,
      Buffer.from(demo.secrets.issuerSeeds["1"] ?? "", "hex"),
      Date.now(),
      signer,
    );
    const { status, json } = await call("POST", "/api/scan", { lane: 1, text });
    expect(status).toBe(200);
    expect(json).toMatchObject({ decision: { outcome: "ADMIT", reason: "ADMITTED" } });
    expect((await call("POST", "/api/scan", { lane: 1, text: "https://example.org" })).json).toMatchObject({
      decision: { reason: "NOT_A_TICKET" },
    });
  });

  it("a signed-in steward finds a printed confirmation by order reference and admits it after the ID check", async () => {
    const printed = demo.bundle.tickets.find(
      (t) => t.kind === "printed" && t.status === "valid" && t.sessions.includes(1),
    );
    if (!printed) throw new Error("no printed ticket");
    expect((await call("GET", `/api/lookup?q=${printed.orderReference}`)).status).toBe(401);
    const signIn = await call("POST", "/api/session", { pin: "4821" });
    expect(signIn.status).toBe(200);
    cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const found = await call("GET", `/api/lookup?q=${printed.orderReference.toLowerCase()}`);
    expect(found.status).toBe(200);
    const hits = found.json.hits as Array<{ ticketId: number; holder: string; session: number }>;
    expect(hits.map((h) => h.ticketId)).toContain(printed.id);
    const hit = hits.find((h) => h.ticketId === printed.id);
    const without = await call("POST", "/api/lanes/1/manual-admission", {
      tickets: [{ ticketId: printed.id, session: hit?.session }],
    });
    expect(without.status).toBe(400);
    const admitted = await call("POST", "/api/lanes/1/manual-admission", {
      idChecked: true,
      tickets: [{ ticketId: printed.id, session: hit?.session }],
    });
    expect(admitted.status).toBe(200);
    const [result] = admitted.json.results as Array<Record<string, unknown>>;
    expect(result?.authorizationId).toBeDefined();
    const events = store.events(1, 10_000);
    expect(events.at(-1)).toMatchObject({
      kind: "authorized",
      manual: true,
      steward: "S-001",
      ticketId: printed.id,
    });
    await call("DELETE", "/api/session");
    cookie = "";
  });

  it("a steward's request the lane cannot take is a 422 with the reason", async () => {
    const signIn = await call("POST", "/api/session", { pin: "4821" });
    cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const refused = await call("POST", "/api/lanes/1/confirm", { idChecked: true });
    expect(refused.status).toBe(422);
    expect(refused.json.error).toBe("nothing waits for a steward at lane 1");
    await call("DELETE", "/api/session");
    cookie = "";
  });

  it("manual decisions need a steward signed in with a PIN; wrong PINs lock the kiosk for a minute", async () => {
    expect((await call("GET", "/api/lookup?q=dupre")).status).toBe(401);
    for (let i = 0; i < 5; i++)
      expect((await call("POST", "/api/session", { pin: "0000" })).status).toBe(401);
    expect((await call("POST", "/api/session", { pin: "4821" })).status).toBe(429);
  });

  it("rejects malformed requests with a reason", async () => {
    expect((await call("POST", "/api/scan", undefined, "{not json")).status).toBe(400);
    expect((await call("POST", "/api/scan", { lane: 9, text: "x" })).json.error).toMatch(/unknown lane/);
    expect(
      (await call("POST", "/api/scan", undefined, JSON.stringify({ lane: 1, text: "A".repeat(70_000) })))
        .status,
    ).toBe(413);
    expect((await call("GET", "/api/nothing")).status).toBe(404);
    expect((await call("POST", "/api/language", { language: "de" })).status).toBe(400);
  });

  it("a fault in the kiosk (not a refusal) is a 500 that sends the tech to the gate log, which has the stack", async () => {
    // The cache closed under the kiosk. A scan still ends in a clear refusal on the lane (issue 16):
    // the gate could not handle it, nothing was consumed.
    store.close();
    const scanned = await call("POST", "/api/scan", { lane: 1, text: "SES1:anything" });
    expect(scanned.status).toBe(200);
    expect(scanned.json.decision).toMatchObject({ outcome: "REFUSE", reason: "SCAN_FAILED" });
    // Anything else is a fault, not a refusal.
    const broken = await call("GET", "/api/state");
    expect(broken.status).toBe(500);
    expect(broken.json.error).toMatch(/see the gate log/);
    expect(logged.some((l) => l.startsWith("kiosk API: unexpected error:") && l.includes(" | "))).toBe(true);
    // Still serving after the fault.
    expect((await call("GET", "/api/nothing")).status).toBe(404);
  });
});
