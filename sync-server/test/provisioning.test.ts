import { type GateProvisioning, parseGateList } from "@sesame/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, dashboardWorld, SUPERVISOR, send, signIn, TECH } from "./dashboard-harness.js";
import { TOKENS, type World, waitFor } from "./harness.js";

/*
 * Provisioning rules (issue 15, item 6): an admin's act, recorded with who and when; refused to techs
 * and supervisors (403, logged on one line, alerted); refused for an online gate unless forced, and a
 * forced one recorded and alerted, the old key revoked in the gate list. The gate makes its own key:
 * the request carries its public key and a proof of possession, never a private key.
 */

describe("provisioning a gate", () => {
  let world: World;
  const cookies: Record<string, string> = {};
  beforeAll(async () => {
    world = await dashboardWorld();
    cookies.admin = await signIn(world, ADMIN);
    cookies.tech = await signIn(world, TECH);
    cookies.supervisor = await signIn(world, SUPERVISOR);
  }, 60_000);
  afterAll(async () => {
    await world.close();
  });

  /** As the dashboard asks it, with the key request of a key the gate just made (unless `body` says). */
  const provision = (who: string, gateId: string, body?: Record<string, unknown>) =>
    send(world, "POST", `/api/gates/${gateId}/provision`, {
      cookie: cookies[who] ?? "",
      headers: { "x-sesame": "1" },
      body: { ...world.gateKey(gateId, true).request, ...body },
    });
  const server = () => world.requireServer();
  const alertsOf = (type: string) =>
    server()
      .store.alerts(1000)
      .filter((a) => a.type === type);
  const gateView = async (gateId: string) => {
    const r = await send(world, "GET", "/api/gates", { cookie: cookies.supervisor ?? "" });
    return (r.json as { gates: Array<{ gateId: string; provisioning: unknown }> }).gates.find(
      (g) => g.gateId === gateId,
    );
  };

  it("refuses a tech, a supervisor and their tokens: 403 with the reason, logged on one line, alerted", async () => {
    const before = server().store.gate("B1")?.publicKey;
    for (const who of ["tech", "supervisor"] as const) {
      const r = await provision(who, "B1");
      expect(r.status, r.text).toBe(403);
      expect((r.json as { error: string }).error).toBe(
        `role ${who} may not provision a gate: provisioning hands out the gate's identity and is an admin's act (refusal recorded and alerted)`,
      );
    }
    const techToken = TOKENS.find((t) => t.role === "tech")?.token;
    expect((await world.api("POST", "/api/gates/B1/provision", undefined, techToken)).status).toBe(403);
    // The gate's own token cannot re-provision it either.
    const gateToken = world.provisioning("B1").http.token;
    expect((await world.api("POST", "/api/gates/B1/provision", undefined, gateToken)).status).toBe(403);
    expect(server().store.gate("B1")?.publicKey).toBe(before);
    const refused = alertsOf("provisioning-refused").map((a) => a.detail);
    expect(refused).toEqual(
      expect.arrayContaining([
        "martin (tech) tried to provision gate B1: provisioning is an admin's act",
        "dupont (supervisor) tried to provision gate B1: provisioning is an admin's act",
        "tech Martin (tech) tried to provision gate B1: provisioning is an admin's act",
        "B1 (gate) tried to provision gate B1: provisioning is an admin's act",
      ]),
    );
    expect(
      world.serverLog.filter((l) =>
        l.startsWith("provisioning refused: martin (tech) tried to provision gate B1"),
      ),
    ).toHaveLength(1);
    expect(world.serverLog.filter((l) => /[\r\n]/.test(l))).toEqual([]);
  });

  it("lets an admin provision an offline gate, recording who and when in the store and the API", async () => {
    const old = server().store.gate("B1")?.publicKey;
    const r = await provision("admin", "B1");
    expect(r.status, r.text).toBe(200);
    const p = r.json as GateProvisioning;
    const record = server().store.gate("B1");
    expect(record?.publicKey).toBe(p.gatePublicKey);
    expect(record?.provisioning).toEqual({ at: expect.any(Number), by: "leroy", forced: false });
    expect(await gateView("B1")).toMatchObject({ provisioning: { by: "leroy", forced: false } });
    expect(world.serverLog).toContain(
      `gate B1 provisioned by leroy: key ${p.gatePublicKey}, key ${old} revoked`,
    );
    const list = parseGateList(p.gateList);
    expect(list.revoked).toContainEqual(
      expect.objectContaining({ gateId: "B1", publicKey: old, by: "leroy" }),
    );
    expect(alertsOf("forced-provisioning")).toEqual([]);
  });

  it("refuses to provision an online gate unless forced; a forced one is recorded, alerted, its old key revoked", async () => {
    const a1 = world.gate("A1");
    await waitFor(() => server().store.gate("A1")?.status === "online", 20_000, "A1 online");
    const old = world.provisioning("A1").gatePublicKey;

    const refused = await provision("admin", "A1");
    expect(refused.status, refused.text).toBe(409);
    expect((refused.json as { error: string }).error).toMatch(
      /^gate A1 is online \(its presence says online since .+\): provisioning it would cut the running gate off; send \{"force": true\} to provision it anyway \(recorded and alerted\)$/,
    );
    expect(server().store.gate("A1")?.publicKey).toBe(old);
    expect((await provision("admin", "A1", { force: "yes" })).status).toBe(400);

    const forced = await provision("admin", "A1", { force: true });
    expect(forced.status, forced.text).toBe(200);
    const p = forced.json as GateProvisioning;
    expect(server().store.gate("A1")?.provisioning).toMatchObject({ by: "leroy", forced: true });
    expect(await gateView("A1")).toMatchObject({ provisioning: { by: "leroy", forced: true } });
    const [alert] = alertsOf("forced-provisioning");
    expect(alert?.gates).toEqual(["A1"]);
    expect(alert?.detail).toMatch(
      /^gate A1 provisioned by leroy while online \(.+\): the running gate is cut off, its key [0-9a-f]{64} revoked$/,
    );
    const list = parseGateList(p.gateList);
    expect(list.gates.find((g) => g.gateId === "A1")?.publicKey).toBe(p.gatePublicKey);
    expect(list.revoked).toContainEqual(
      expect.objectContaining({
        gateId: "A1",
        publicKey: old,
        by: "leroy",
        reason: "gate provisioned again with a new key, forced while it was online",
      }),
    );
    await a1.sync.stop();
  });

  it("takes only a key the gate proves it holds, and never a key that is revoked or another gate's", async () => {
    const before = server().store.gate("B1")?.publicKey;
    const refuse = async (body: Record<string, unknown>, status: number, error: RegExp) => {
      const r = await provision("admin", "B1", body);
      expect(r.status, r.text).toBe(status);
      expect((r.json as { error: string }).error).toMatch(error);
    };
    await refuse({ publicKey: undefined, proof: undefined }, 400, /^body\.publicKey: must be a string/);
    // A1's request (its key, its proof) replayed for B1: the proof names A1.
    await refuse(
      { ...world.gateKey("A1").request },
      400,
      /^gate B1's key request is refused: the proof is not a signature by that key of gate B1's request/,
    );
    // A small-order public key (the identity point): anyone could sign for it.
    await refuse(
      { publicKey: `01${"00".repeat(31)}`, proof: "00".repeat(64) },
      400,
      /the public key is a point of small order/,
    );
    expect(server().store.gate("B1")?.publicKey).toBe(before);
    expect(world.serverLog.filter((l) => /[\r\n]/.test(l))).toEqual([]);
    // The refused keys are alerted; a malformed body is only an error.
    const alerted = alertsOf("provisioning-refused").map((a) => a.detail ?? "");
    expect(alerted.filter((d) => d.includes("the proof is not a signature by that key"))).toHaveLength(1);
    expect(alerted.filter((d) => d.includes("small order"))).toHaveLength(1);
    expect(alerted.filter((d) => d.includes("body.publicKey"))).toEqual([]);
  });

  it("refuses a key request replayed after its key was revoked (409)", async () => {
    const first = world.gateKey("B1", true);
    const r1 = await send(world, "POST", "/api/gates/B1/provision", {
      cookie: cookies.admin ?? "",
      headers: { "x-sesame": "1" },
      body: first.request,
    });
    expect(r1.status, r1.text).toBe(200);
    expect((await provision("admin", "B1")).status).toBe(200);
    const replayed = await send(world, "POST", "/api/gates/B1/provision", {
      cookie: cookies.admin ?? "",
      headers: { "x-sesame": "1" },
      body: first.request,
    });
    expect(replayed.status, replayed.text).toBe(409);
    expect(
      world.serverLog.filter((l) =>
        l.startsWith(
          `provisioning of gate B1 by leroy refused: gate B1's key request is refused: the key ${first.publicKey} was gate B1's`,
        ),
      ),
    ).toHaveLength(1);
    expect((replayed.json as { error: string }).error).toMatch(
      new RegExp(
        `^gate B1's key request is refused: the key ${first.publicKey} was gate B1's and is revoked`,
      ),
    );
    expect(
      alertsOf("provisioning-refused").filter((a) =>
        a.detail?.includes(`the key ${first.publicKey} was gate B1's`),
      ),
    ).toHaveLength(1);
  });
});
