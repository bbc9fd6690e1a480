import { verifyBundleSignature } from "@sesame/sync";
import { createNodeVerifier } from "@sesame/ticket";
import type { RowRejection } from "@sesame/venue";
import { decodeGateBundle } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKENS, World } from "./harness.js";

/*
 * The HTTP API outside the MQTT paths (docs/sync-server-api.md): tokens and roles, ticket imports
 * with their report of refused rows, provisioning, the signed snapshot. Broker-independent: runs
 * once, with the embedded broker.
 */

const [ADMIN, SUPERVISOR, TECH] = TOKENS.map((t) => t.token);

describe("sync-server HTTP API", () => {
  let world: World;
  beforeAll(async () => {
    world = await World.create("aedes");
  });
  afterAll(async () => {
    await world.close();
  });

  it("asks for a token and enforces roles", async () => {
    expect((await world.api("GET", "/api/health", undefined, "")).status).toBe(200);
    expect((await world.api("GET", "/api/counts", undefined, "")).status).toBe(401);
    expect((await world.api("GET", "/api/counts", undefined, "wrong")).status).toBe(401);
    expect((await world.api("GET", "/api/counts", undefined, SUPERVISOR)).status).toBe(200);
    expect((await world.api("POST", "/api/tickets/100001/cancel", undefined, SUPERVISOR)).status).toBe(403);
    expect((await world.api("POST", "/api/keys/trust-list", {}, TECH)).status).toBe(403);
    const gateToken = world.provisioning("A1").http.token;
    expect((await world.api("GET", "/api/counts", undefined, gateToken)).status).toBe(403);
    expect((await world.api("GET", "/api/nowhere", undefined, ADMIN)).status).toBe(404);
  });

  it("imports JSON tickets and reports every refused row with its reason", async () => {
    const r = await world.api("POST", "/api/tickets/import", {
      tickets: [
        { id: 700_001, holder: "Léa Martin", orderReference: "ORD-1", session: 1, zone: 1, seat: "R01-S001" },
        { id: 700_002, holder: "", orderReference: "ORD-2", session: 1, zone: 1 },
        { id: 700_003, holder: "Sam", orderReference: "ORD-3", session: 9, zone: 1 },
        { id: 700_001, holder: "Twice", orderReference: "ORD-4", session: 1, zone: 1 },
        { id: 100_001, holder: "Exists", orderReference: "ORD-5", session: 1, zone: 1 },
        {
          id: 700_006,
          holder: "Kid",
          orderReference: "ORD-6",
          session: "ATH-S1",
          zone: 1,
          categories: ["child"],
          kind: "printed",
        },
      ],
    });
    expect(r.status).toBe(200);
    const report = r.json as { imported: number; rejected: RowRejection[]; credentials: unknown[] };
    expect(report.imported).toBe(2);
    expect(report.rejected.map((x) => x.row)).toEqual([2, 3, 4, 5]);
    expect(report.rejected[0]?.reason).toMatch(/holder/);
    expect(report.rejected[1]?.reason).toMatch(/session 9/);
    expect(report.rejected[2]?.reason).toMatch(/already exists/);
    // The printed confirmation gets its static issuer-signed code at once.
    expect(report.credentials).toHaveLength(1);
    const t = await world.api("GET", "/api/tickets/700006", undefined, SUPERVISOR);
    expect((t.json as { ticket: { categories: string[] } }).ticket.categories).toEqual(["CHILD"]);
  });

  it("imports CSV with line numbers in the report", async () => {
    const csv = [
      "id,holder,order_reference,session,entrance,zone,seat,category,kind",
      '710001,"Dupont, Marie",ORD-10,1,,1,R02-S010,standard,mobile',
      "710002,Bad Zone,ORD-11,1,,99,,standard,mobile",
      "710003,Ana,ORD-12,1,,1,,wizard,mobile",
    ].join("\n");
    const r = await world.api("POST", "/api/tickets/import", csv, ADMIN, "text/csv");
    expect(r.status).toBe(200);
    const report = r.json as { imported: number; rejected: RowRejection[] };
    expect(report.imported).toBe(1);
    expect(report.rejected).toEqual([
      { row: 3, reason: expect.stringMatching(/zone "99"/) },
      { row: 4, reason: expect.stringMatching(/category "wizard"/) },
    ]);
    const bad = await world.api("POST", "/api/tickets/import", 'id,holder\n"unterminated', ADMIN, "text/csv");
    expect(bad.status).toBe(400);
    expect((await world.api("POST", "/api/tickets/import", "{not json", ADMIN)).status).toBe(400);
    expect((await world.api("POST", "/api/tickets/import", "<xml/>", ADMIN, "application/xml")).status).toBe(
      415,
    );
  });

  it("resale validates its input and returns the new credential when given a device key", async () => {
    const r = await world.api("POST", "/api/tickets/700001/resale", {
      holder: "Nouveau",
      devicePublicKey: "cd".repeat(32),
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ticketId: 700_001, generation: 2, revokedGeneration: 1 });
    expect((r.json as { credential: string }).credential).toMatch(/^SE1:/);
    expect((await world.api("POST", "/api/tickets/700001/resale", { holder: "" })).status).toBe(400);
    expect((await world.api("POST", "/api/tickets/999999/transfer", { holder: "X" })).status).toBe(404);
    expect((await world.api("POST", "/api/tickets/abc/cancel")).status).toBe(400);
  });

  it("refuses a small-order or non-canonical device key at import, resale and transfer, changing nothing", async () => {
    const identity = `01${"00".repeat(31)}`;
    const orderEight = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85";
    const yAboveP = `ee${"ff".repeat(30)}7f`;
    const row = (id: number, devicePublicKey: string) => ({
      id,
      holder: "Clé Faible",
      orderReference: `WEAK-${id}`,
      session: 1,
      zone: 1,
      devicePublicKey,
    });
    const r = await world.api("POST", "/api/tickets/import", [
      row(730_001, identity),
      row(730_002, orderEight),
      row(730_003, yAboveP),
      row(730_004, "ab".repeat(32)),
    ]);
    expect(r.status).toBe(200);
    const report = r.json as { imported: number; rejected: RowRejection[]; credentials: unknown[] };
    expect(report.imported).toBe(1);
    expect(report.credentials).toHaveLength(1);
    expect(report.rejected).toEqual([
      {
        row: 1,
        ticketId: 730_001,
        reason: expect.stringMatching(/^devicePublicKey is unusable: it is a point of small order/),
      },
      {
        row: 2,
        ticketId: 730_002,
        reason: expect.stringMatching(/^devicePublicKey is unusable: it is a point of small order/),
      },
      {
        row: 3,
        ticketId: 730_003,
        reason: expect.stringMatching(/^devicePublicKey is unusable: it is not a canonical encoding/),
      },
    ]);
    for (const type of ["resale", "transfer"]) {
      const refused = await world.api("POST", `/api/tickets/730004/${type}`, {
        holder: "Nouveau",
        devicePublicKey: identity,
      });
      expect(refused.status, type).toBe(400);
      expect((refused.json as { error: string }).error).toMatch(
        /^devicePublicKey is unusable: it is a point of small order/,
      );
    }
    // Refused before anything was stored: the ticket is still generation 1.
    const t = await world.api("GET", "/api/tickets/730004", undefined, SUPERVISOR);
    expect((t.json as { ticket: { generation: number } }).ticket.generation).toBe(1);
    // An attempt at tickets anyone could show: one log line and one alert per request, naming the caller.
    const logged = world.serverLog.filter((l) => l.includes("refused a device key no phone makes"));
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatch(
      /from \S+, for 3 tickets: ticket 730001 \(row 1\), ticket 730002 \(row 2\), ticket 730003/,
    );
    const alerts = world
      .requireServer()
      .store.alerts()
      .filter((a) => a.type === "forgery" && a.detail.includes("device key anyone could sign for"));
    expect(alerts.map((a) => a.detail.match(/asked for (\d+ tickets|ticket \d+ \(\w+\))/)?.[1])).toEqual([
      "ticket 730004 (transfer)",
      "ticket 730004 (resale)",
      "3 tickets",
    ]);
  });

  it("refuses control characters in names and messages, and key ids that are not plain digits", async () => {
    const r = await world.api("POST", "/api/tickets/import", [
      { id: 720_001, holder: "Ana\u0000Admin", orderReference: "ORD-20", session: 1, zone: 1 },
      { id: 720_002, holder: "\u202Eevil", orderReference: "ORD-21", session: 1, zone: 1 },
      { id: 720_003, holder: "Line\nBreak", orderReference: "ORD-22", session: 1, zone: 1 },
      // Quotes, markup and SQL are just a name: kept as they are.
      {
        id: 720_004,
        holder: "Robert'); DROP TABLE tickets;--",
        orderReference: "ORD-23",
        session: 1,
        zone: 1,
      },
    ]);
    const report = r.json as { imported: number; rejected: RowRejection[] };
    expect(report.imported).toBe(1);
    expect(report.rejected.map((x) => x.reason)).toEqual([
      expect.stringMatching(/control or bidirectional-override characters \(U\+0000 at 4\)/),
      expect.stringMatching(/U\+202E at 1/),
      expect.stringMatching(/U\+000A at 5/),
    ]);
    const t = await world.api("GET", "/api/tickets/720004", undefined, SUPERVISOR);
    expect((t.json as { ticket: { holder: string } }).ticket.holder).toBe("Robert'); DROP TABLE tickets;--");
    const resale = await world.api("POST", "/api/tickets/720004/resale", { holder: "New\u0007Owner" });
    expect(resale.status).toBe(400);
    expect((resale.json as { error: string }).error).toMatch(/U\+0007 at 4/);
    const message = (text: string) =>
      world.api("POST", "/api/commands", { type: "message", gate: "A1", text }, SUPERVISOR);
    const nul = await message("Porte A\u0000fermée");
    expect(nul.status).toBe(400);
    expect((nul.json as { error: string }).error).toMatch(/U\+0000 at 8/);
    expect((await message("Porte A fermée\nUtilisez la porte B")).status).toBe(202);
    const keys = (await world.api("GET", "/api/keys")).json as { keys: Array<{ revoked: boolean }> };
    expect(keys.keys.every((k) => !k.revoked)).toBe(true);
  });

  it("serves the snapshot signed by the operations key to a provisioned gate, same format as the venue directory's", async () => {
    const p = world.provisioning("A1");
    const response = await fetch(`http://127.0.0.1:${world.apiPort}/api/gate/bundle`, {
      headers: { authorization: `Bearer ${p.http.token}` },
    });
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const signature = response.headers.get("sesame-bundle-signature") ?? "";
    // Signed by the operations key (whose certificate the provisioning carries), not the root.
    const operationsKey = Buffer.from(p.operationsCertificate.publicKey, "hex");
    expect(verifyBundleSignature(bytes, signature, operationsKey, createNodeVerifier())).toBe(true);
    expect(
      verifyBundleSignature(bytes, signature, Buffer.from(p.rootPublicKey, "hex"), createNodeVerifier()),
    ).toBe(false);
    const bundle = decodeGateBundle(bytes);
    expect(bundle.format).toBe("sesame-gate-bundle/2");
    const { store } = world.requireServer();
    expect(bundle.tickets).toEqual(store.bundle(store.trustList(), 0).tickets);
    expect(bundle.feedSequence).toBe(world.requireServer().store.feedSequence());
  });

  it("provisions gates (admin only) with fresh credentials each time", async () => {
    // The gate's key request: its public key and proof; a gate provisioned again keeps or renews its key.
    const key = world.gateKey("A1", true);
    const first = await world.api("POST", "/api/gates/A1/provision", key.request, ADMIN);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ gatePublicKey: key.publicKey });
    expect(JSON.stringify(first.json)).not.toMatch(/seed|private/i);
    const second = await world.api("POST", "/api/gates/A1/provision", key.request, ADMIN);
    expect((first.json as { mqtt: { password: string } }).mqtt.password).not.toBe(
      (second.json as { mqtt: { password: string } }).mqtt.password,
    );
    // Without a key request: 400, saying what is missing.
    const bare = await world.api("POST", "/api/gates/A1/provision", undefined, ADMIN);
    expect(bare.status).toBe(400);
    expect((bare.json as { error: string }).error).toMatch(/^body\.publicKey: must be a string/);
    const unknown = world.gateKey("ZZ9").request;
    expect((await world.api("POST", "/api/gates/ZZ9/provision", unknown, ADMIN)).status).toBe(404);
    expect((await world.api("POST", "/api/gates/A1/provision", undefined, SUPERVISOR)).status).toBe(403);
    expect((await world.api("POST", "/api/gates/A1/provision", undefined, TECH)).status).toBe(403);
    const gates = await world.api("GET", "/api/gates", undefined, SUPERVISOR);
    expect((gates.json as { gates: Array<{ gateId: string }> }).gates.map((g) => g.gateId)).toEqual([
      "A1",
      "B1",
    ]);
  });
});
