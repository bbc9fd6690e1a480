import { verifyBundleSignature } from "@sesame/sync";
import { createNodeVerifier } from "@sesame/ticket";
import { decodeGateBundle } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKENS, World } from "./harness.js";

/*
 * The HTTP API outside the MQTT paths (docs/sync-server-api.md): tokens and roles, the platform's
 * endpoints gone to the issuer (410), issuer keys by their public halves, provisioning, the signed
 * snapshot. Broker-independent: runs
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
    expect((await world.api("POST", "/api/keys/trust-list", {}, TECH)).status).toBe(403);
    const gateToken = world.provisioning("A1").http.token;
    expect((await world.api("GET", "/api/counts", undefined, gateToken)).status).toBe(403);
    expect((await world.api("GET", "/api/nowhere", undefined, ADMIN)).status).toBe(404);
  });

  it("no longer takes the ticketing platform's operations: 410 Gone, saying they moved to the issuer", async () => {
    const moved = [
      ["/api/tickets/import", "ticket import", "POST <issuer>/venues/SDF/tickets (`sesame issuer`)"],
      ["/api/tickets/100001/resale", "ticket resale", "/tickets/100001/resale"],
      ["/api/tickets/100001/transfer", "ticket transfer", "/tickets/100001/transfer"],
      ["/api/tickets/100001/cancel", "ticket cancel", "/tickets/100001/cancel"],
    ] as const;
    const before = world.requireServer().store.feedSequence();
    for (const [path, what, where] of moved) {
      const r = await world.api("POST", path, { holder: "Nouveau" });
      expect(r.status, path).toBe(410);
      const error = (r.json as { error: string }).error;
      expect(error).toContain(`${what} moved to the issuer: `);
      expect(error).toContain(where);
    }
    // Nothing changed: the dashboard's read-only look-up still answers, generation as before.
    const t = await world.api("GET", "/api/tickets/100001", undefined, SUPERVISOR);
    expect(t.status).toBe(200);
    expect(world.requireServer().store.feedSequence()).toBe(before);
  });

  it("holds issuer keys' public halves only and makes none: a key enters through the root's trust list", async () => {
    // No endpoint makes or adds a key on the venue server any more (the root signs the list offline).
    for (const path of ["/api/keys/rotate", "/api/keys/1/revoke"])
      expect((await world.api("POST", path, { keyId: 2, publicKey: "ab".repeat(32) })).status).toBe(404);
    const keys = (await world.api("GET", "/api/keys")).json as { keys: Array<Record<string, unknown>> };
    expect(keys.keys.length).toBeGreaterThan(0);
    for (const k of keys.keys)
      expect(Object.keys(k).sort()).toEqual(["keyId", "publicKey", "revoked", "validFrom", "validUntil"]);
  });

  it("refuses control characters in messages, and key ids that are not plain digits", async () => {
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
