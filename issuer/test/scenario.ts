import { createNodeVerifier, type IssuerKey, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, type IssuedTicketChange, type Venue, verifyIssuedChange } from "@sesame/venue";
import { expect } from "vitest";
import type { RunningIssuer } from "../src/index.js";

/*
 * What every store engine must do the same way, through the issuer's HTTP API: the platform's
 * import, resale (face value only), transfer and cancel, and each venue's signed change stream
 * in order without holes. Run on PGlite and on a real PostgreSQL.
 */

export function demoVenue(id: string, spectators = 40): ReturnType<typeof generateDemoVenue> {
  const demo = generateDemoVenue({
    spectators,
    doorsOpenMs: Date.now() - 3_600_000,
    entrances: 2,
    lanes: 4,
    random: seededRandom(`issuer-${id}`),
    signer: { name: "unused", sign: () => new Uint8Array(64) },
  });
  return { ...demo, venue: { ...demo.venue, id } };
}

export async function call(
  issuer: RunningIssuer,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = issuer.platformToken,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${issuer.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Import rows for the first `count` demo tickets of a venue, with their face values. */
export function importRows(demo: ReturnType<typeof demoVenue>, count: number, devicePublicKey?: string) {
  const seen = new Set<number>();
  return demo.rows
    .filter((r) => !seen.has(r.id) && seen.add(r.id))
    .slice(0, count)
    .map((r) => ({
      id: r.id,
      holder: r.holder,
      orderReference: r.orderReference,
      sessions: [r.session],
      entrance: r.entrance,
      zone: r.zone,
      seat: r.seat,
      categories: r.categories,
      kind: r.kind,
      face_value: r.faceValue.cents,
      currency: r.faceValue.currency,
      ...(devicePublicKey && r.kind === "mobile" ? { devicePublicKey } : {}),
    }));
}

/** Reads a venue's whole stream page by page, checking order, holes and every signature. */
export async function readStream(
  issuer: RunningIssuer,
  venue: string,
  pageSize = 3,
): Promise<IssuedTicketChange[]> {
  const keys = new Map<number, IssuerKey>(
    issuer.keys
      .publicKeys()
      .map((k) => [
        k.keyId,
        { ...k, publicKey: Uint8Array.from(Buffer.from(k.publicKey, "hex")), revoked: false },
      ]),
  );
  const verifier = createNodeVerifier();
  const all: IssuedTicketChange[] = [];
  for (;;) {
    const page = await call(
      issuer,
      "GET",
      `/venues/${venue}/changes?after=${all.length}&limit=${pageSize}`,
      undefined,
      issuer.venueToken,
    );
    expect(page.status).toBe(200);
    const changes = page.body.changes as IssuedTicketChange[];
    for (const signed of changes) {
      expect(signed.change.sequence).toBe(all.length + 1);
      expect(verifyIssuedChange(signed, venue, keys, verifier)).toEqual({ ok: true });
      all.push(signed);
    }
    if (changes.length < pageSize) {
      expect(page.body.lastSequence).toBe(all.length);
      return all;
    }
  }
}

/** The platform's whole life of a few tickets at two venues; returns the streams it read. */
export async function platformScenario(issuer: RunningIssuer, a: Venue, b: Venue) {
  const demoA = demoVenue(a.id);
  const device = "11".repeat(32);
  for (const v of [a, b]) expect((await call(issuer, "PUT", `/venues/${v.id}`, v)).status).toBe(200);

  const rows = importRows(demoA, 6, device);
  const imported = await call(issuer, "POST", `/venues/${a.id}/tickets`, { tickets: rows });
  expect(imported.status).toBe(200);
  expect(imported.body.imported).toBe(6);
  expect((imported.body.credentials as unknown[]).length).toBeGreaterThan(0);

  // The same tickets at another venue are other tickets: ids are per venue.
  const importedB = await call(issuer, "POST", `/venues/${b.id}/tickets`, importRows(demoVenue(b.id), 2));
  expect(importedB.body.imported).toBe(2);

  const again = await call(issuer, "POST", `/venues/${a.id}/tickets`, [
    rows[0],
    { ...rows[1], face_value: undefined, currency: undefined },
  ]);
  expect(again.body.imported).toBe(0);
  expect(again.body.rejected).toEqual([
    { row: 1, ticketId: rows[0]?.id, reason: `ticket ${rows[0]?.id} already exists at ${a.id}` },
    {
      row: 2,
      ticketId: rows[1]?.id,
      reason: "face_value (cents) and currency are required: resale is at face value only",
    },
  ]);

  const mobile = rows.find((r) => r.kind === "mobile" && r.face_value > 0) ?? rows[0];
  if (!mobile) throw new Error("no ticket");
  const wrongPrice = await call(issuer, "POST", `/venues/${a.id}/tickets/${mobile.id}/resale`, {
    holder: "Léa Dubois",
    price: mobile.face_value + 5000,
    currency: "EUR",
  });
  expect(wrongPrice.status).toBe(409);
  expect(wrongPrice.body.error).toBe(
    `resale price ${((mobile.face_value + 5000) / 100).toFixed(2)} EUR is not the face value ${(mobile.face_value / 100).toFixed(2)} EUR of ticket ${mobile.id}: resale is at face value only`,
  );
  const resale = await call(issuer, "POST", `/venues/${a.id}/tickets/${mobile.id}/resale`, {
    holder: "Léa Dubois",
    price: mobile.face_value,
    currency: "eur",
    devicePublicKey: "22".repeat(32),
  });
  expect(resale.status).toBe(200);
  expect(resale.body).toMatchObject({
    ticketId: mobile.id,
    generation: 2,
    revokedGeneration: 1,
    sequence: 7,
  });
  expect(typeof resale.body.credential).toBe("string");

  const transfer = await call(issuer, "POST", `/venues/${a.id}/tickets/${mobile.id}/transfer`, {
    holder: "Hugo Petit",
  });
  expect(transfer.body).toMatchObject({ generation: 3, sequence: 8 });
  const cancel = await call(issuer, "POST", `/venues/${a.id}/tickets/${rows[2]?.id}/cancel`);
  expect(cancel.body).toMatchObject({ sequence: 9 });
  expect((await call(issuer, "POST", `/venues/${a.id}/tickets/${rows[2]?.id}/cancel`)).status).toBe(409);

  const history = await call(issuer, "GET", `/venues/${a.id}/tickets/${mobile.id}`);
  expect(history.body.generations).toEqual([
    { generation: 1, how: "issue", holder: mobile.holder, sequence: expect.any(Number) },
    {
      generation: 2,
      how: "resale",
      holder: "Léa Dubois",
      price: { cents: mobile.face_value, currency: "EUR" },
      sequence: 7,
    },
    { generation: 3, how: "transfer", holder: "Hugo Petit", sequence: 8 },
  ]);
  expect(history.body.ticket).toMatchObject({
    status: "valid",
    faceValue: { cents: mobile.face_value, currency: "EUR" },
  });

  const streamA = await readStream(issuer, a.id);
  const streamB = await readStream(issuer, b.id);
  expect(streamA.map((s) => s.change.type)).toEqual([
    ...Array(6).fill("issue"),
    "resale",
    "transfer",
    "cancel",
  ]);
  expect(streamB.map((s) => s.change.sequence)).toEqual([1, 2]);
  return { streamA, streamB };
}
