import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  IssuerKeyStore,
  KEY_FILE,
  MIGRATIONS,
  migrate,
  PLATFORM_TOKEN_FILE,
  type RunningIssuer,
  startIssuer,
} from "../src/index.js";
import { call, demoVenue, importRows, platformScenario, readStream } from "./scenario.js";

const open: Array<{ issuer?: RunningIssuer; remove: () => void }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.issuer?.close();
    o.remove();
  }
});

/*
 * PGlite makes a new database in seconds to tens of seconds on a busy machine (initdb runs in
 * WebAssembly): the tests share one issuer, each on venues of its own, and only the restart test
 * opens a data directory of its own.
 */
const shared = makeTempDir("sesame-issuer-");
const sharedLog: string[] = [];
let sharedIssuer: RunningIssuer;
beforeAll(async () => {
  sharedIssuer = await startIssuer({ dataDir: shared.path, log: (l) => sharedLog.push(l) });
}, 300_000);
afterAll(async () => {
  await sharedIssuer?.close();
  shared.remove();
});

async function issuerIn(): Promise<RunningIssuer> {
  return sharedIssuer;
}

describe("the issuer on PGlite", { timeout: 300_000 }, () => {
  it("issues, resells at face value only, transfers and cancels, and serves each venue its signed stream", async () => {
    const issuer = await issuerIn();
    await platformScenario(issuer, demoVenue("scenario-a").venue, demoVenue("scenario-b").venue);
  });

  it("takes over a venue's tickets at its feed position: the stream goes on from there; a weak device key is refused", async () => {
    const issuer = await issuerIn();
    const demo = demoVenue("takeover");
    await call(issuer, "PUT", "/venues/takeover", demo.venue);
    const held = demo.bundle.tickets.slice(0, 5).map((t) => ({
      ...t,
      faceValue: demo.rows.find((r) => r.id === t.id)?.faceValue ?? { cents: 1, currency: "EUR" },
    }));
    expect(await issuer.store.adoptTickets("takeover", held, 700)).toEqual({ adopted: 5 });
    // Again at the same position (a restart): nothing; at another: refused.
    expect(await issuer.store.adoptTickets("takeover", held, 700)).toEqual({ adopted: 0 });
    await expect(issuer.store.adoptTickets("takeover", held, 800)).rejects.toThrow(
      /already has changes up to 700/,
    );
    const [first] = held;
    if (!first) throw new Error("no demo ticket");
    const price = { price: first.faceValue.cents, currency: first.faceValue.currency };
    const weak = await call(issuer, "POST", `/venues/takeover/tickets/${first.id}/transfer`, {
      holder: "Nouveau",
      devicePublicKey: `01${"00".repeat(31)}`,
    });
    expect(weak.status).toBe(400);
    expect(weak.body.error).toMatch(/^devicePublicKey is unusable: it is a point of small order/);
    const resale = await call(issuer, "POST", `/venues/takeover/tickets/${first.id}/resale`, {
      holder: "Nouveau",
      ...price,
    });
    expect(resale.body).toMatchObject({ sequence: 701, generation: first.generation + 1 });
    const page = await call(issuer, "GET", "/venues/takeover/changes?after=700", undefined);
    expect(page.body).toMatchObject({ lastSequence: 701 });
    expect(
      (page.body.changes as Array<{ change: { sequence: number } }>).map((c) => c.change.sequence),
    ).toEqual([701]);
  });

  it("keeps its store, keys and sequences across a restart (migrations run once)", async () => {
    const dir = makeTempDir("sesame-issuer-data-");
    open.push({ remove: dir.remove });
    const log: string[] = [];
    const first = await startIssuer({ dataDir: dir.path, log: (l) => log.push(l) });
    const demo = demoVenue("stade-a");
    await call(first, "PUT", "/venues/stade-a", demo.venue);
    await call(first, "POST", "/venues/stade-a/tickets", importRows(demo, 3));
    await first.close();
    expect(log.some((l) => l.includes("migrated to schema version 1"))).toBe(true);
    for (const name of [KEY_FILE, PLATFORM_TOKEN_FILE])
      expect(statSync(join(dir.path, name)).mode & 0o777).toBe(0o600);

    const again: string[] = [];
    const second = await startIssuer({ dataDir: dir.path, log: (l) => again.push(l) });
    open.push({ issuer: second, remove: () => undefined });
    expect(again.some((l) => l.includes("migrated"))).toBe(false);
    expect(second.platformToken).toBe(first.platformToken);
    const cancel = await call(second, "POST", `/venues/stade-a/tickets/${importRows(demo, 1)[0]?.id}/cancel`);
    expect(cancel.body).toMatchObject({ sequence: 4 });
    expect((await readStream(second, "stade-a")).length).toBe(4);
  });

  it("refuses to start when its key file can be read by group or others", async () => {
    const dir = makeTempDir("sesame-issuer-keys-");
    open.push({ remove: dir.remove });
    IssuerKeyStore.open(dir.path, { nowSeconds: 1_800_000_000 });
    expect(statSync(join(dir.path, KEY_FILE)).mode & 0o777).toBe(0o600);
    chmodSync(join(dir.path, KEY_FILE), 0o644);
    await expect(startIssuer({ dataDir: dir.path, log: () => undefined })).rejects.toThrow(
      /keys\.json is mode 0644: group and others can reach a secret; make it 0600/,
    );
  });

  it("imports a venue's existing issuer seeds, so that its trust list still holds", async () => {
    const dir = makeTempDir("sesame-issuer-import-");
    open.push({ remove: dir.remove });
    const demo = demoVenue("stade-a");
    const { store, created } = IssuerKeyStore.open(dir.path, {
      nowSeconds: 1_800_000_000,
      importSeeds: demo.secrets.issuerSeeds,
    });
    expect(created).toBe("imported");
    expect(store.publicKeys().map((k) => k.publicKey)).toEqual(demo.trustList.keys.map((k) => k.publicKey));
    expect(JSON.parse(readFileSync(join(dir.path, KEY_FILE), "utf8")).keys[0].seed).toBe(
      demo.secrets.issuerSeeds["1"],
    );
  });

  it("answers bad input with 400, 401, 404 or 409 and a reason, and logs a refused token", async () => {
    const log = sharedLog;
    const issuer = await issuerIn();
    const demo = demoVenue("stade-a");
    await call(issuer, "PUT", "/venues/stade-a", demo.venue);
    const [row] = importRows(demo, 1);
    await call(issuer, "POST", "/venues/stade-a/tickets", [row]);
    const cases: Array<[string, string, unknown, string | null, number, RegExp]> = [
      ["POST", "/venues/stade-a/tickets", [row], null, 401, /ticketing platform's bearer token/],
      ["POST", "/venues/stade-a/tickets", [row], issuer.venueToken, 401, /ticketing platform's bearer token/],
      ["GET", "/venues/stade-a/changes", undefined, "wrong-token-0123456789", 401, /venue's bearer token/],
      ["POST", "/venues/stade-a/tickets", "{not json", issuer.platformToken, 400, /not JSON/],
      ["POST", "/venues/stade-a/tickets", { rows: [] }, issuer.platformToken, 400, /list of tickets/],
      [
        "POST",
        "/venues/nowhere/tickets",
        [row],
        issuer.platformToken,
        404,
        /venue "nowhere" is not registered at the issuer/,
      ],
      [
        "POST",
        "/venues/stade-a/tickets/99999999/transfer",
        { holder: "A B" },
        issuer.platformToken,
        404,
        /does not exist/,
      ],
      ["POST", "/venues/stade-a/tickets/abc/cancel", undefined, issuer.platformToken, 400, /ticket id/],
      [
        "POST",
        `/venues/stade-a/tickets/${row?.id}/transfer`,
        { holder: "" },
        issuer.platformToken,
        400,
        /holder/,
      ],
      [
        "POST",
        `/venues/stade-a/tickets/${row?.id}/transfer`,
        { holder: "A B", price: 100 },
        issuer.platformToken,
        400,
        /transfer has no price/,
      ],
      [
        "POST",
        `/venues/stade-a/tickets/${row?.id}/resale`,
        { holder: "A B" },
        issuer.platformToken,
        400,
        /needs its price/,
      ],
      [
        "POST",
        `/venues/stade-a/tickets/${row?.id}/resale`,
        { holder: "A B", price: -1, currency: "EUR" },
        issuer.platformToken,
        400,
        /price must be a whole number/,
      ],
      [
        "POST",
        `/venues/stade-a/tickets/${row?.id}/resale`,
        { holder: "A B", price: row?.face_value, currency: "USD" },
        issuer.platformToken,
        409,
        /not the face value/,
      ],
      ["GET", "/venues/stade-a/changes?after=-1", undefined, issuer.platformToken, 400, /after must be/],
      ["GET", "/venues/stade-a/changes?limit=0", undefined, issuer.platformToken, 400, /limit must be/],
      ["GET", "/venues/%zz/changes", undefined, issuer.platformToken, 400, /percent-encoding/],
      ["PUT", "/venues/other", demo.venue, issuer.platformToken, 400, /is not "other"/],
      [
        "PUT",
        "/venues/stade-a",
        {
          ...demo.venue,
          sessions: demo.venue.sessions.map((s, i) => (i === 1 ? { ...s, doorsOpen: "soon" } : s)),
        },
        issuer.platformToken,
        400,
        /the venue's sessions\[1\]\.doorsOpen \(session 2\) "soon" is not an ISO time/,
      ],
      [
        "PUT",
        "/venues/stade-a",
        { ...demo.venue, timezone: "Paris" },
        issuer.platformToken,
        400,
        /the venue's timezone "Paris" is not an IANA time zone/,
      ],
      ["GET", "/nothing", undefined, issuer.platformToken, 404, /no such endpoint/],
    ];
    for (const [method, path, body, token, status, reason] of cases) {
      const res = await call(issuer, method, path, body, token);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(String(res.body.error)).toMatch(reason);
    }
    expect(log.filter((l) => l.startsWith("issuer: refused")).length).toBe(3);
    expect(log.some((l) => l.includes("internal error"))).toBe(false);
    // Nothing refused took a sequence number.
    expect((await readStream(issuer, "stade-a")).length).toBe(1);
  });

  it("imports CSV, with face_value and currency columns", async () => {
    const issuer = await issuerIn();
    const demo = demoVenue("csv-venue");
    await call(issuer, "PUT", "/venues/csv-venue", demo.venue);
    const [r] = demo.rows;
    if (!r) throw new Error("no row");
    const csv = `id,holder,order_reference,session,entrance,zone,seat,category,kind,face_value,currency\n${r.id},${r.holder},${r.orderReference},${r.session},${r.entrance},${r.zone},${r.seat},standard,printed,${r.faceValue.cents},EUR\n`;
    const res = await fetch(`${issuer.url}/venues/csv-venue/tickets`, {
      method: "POST",
      headers: { authorization: `Bearer ${issuer.platformToken}`, "content-type": "text/csv" },
      body: csv,
    });
    const body = (await res.json()) as { imported: number; credentials: unknown[] };
    expect(body.imported).toBe(1);
    expect(body.credentials.length).toBe(1);
    const again = await fetch(`${issuer.url}/venues/csv-venue/tickets`, {
      method: "POST",
      headers: { authorization: `Bearer ${issuer.platformToken}`, "content-type": "text/csv" },
      body: csv,
    });
    expect(((await again.json()) as { rejected: unknown[] }).rejected).toEqual([
      { row: 2, ticketId: r.id, reason: `ticket ${r.id} already exists at csv-venue` },
    ]);
  });

  it("gives concurrent resales of one venue distinct, gap-free sequence numbers", async () => {
    const issuer = await issuerIn();
    const demo = demoVenue("concurrent", 60);
    await call(issuer, "PUT", "/venues/concurrent", demo.venue);
    const rows = importRows(demo, 20);
    await call(issuer, "POST", "/venues/concurrent/tickets", rows);
    await Promise.all(
      rows.map((r) =>
        call(issuer, "POST", `/venues/concurrent/tickets/${r.id}/transfer`, { holder: "Chloé Roux" }),
      ),
    );
    const stream = await readStream(issuer, "concurrent", 7);
    expect(stream.map((s) => s.change.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});

describe("migrations", { timeout: 300_000 }, () => {
  it("refuse a store newer than the software, and apply nothing twice", async () => {
    const db = sharedIssuer.store.db;
    expect(await migrate(db)).toEqual([]);
    await db.query("INSERT INTO schema_migrations (version) VALUES ($1)", [MIGRATIONS.length + 1]);
    try {
      await expect(migrate(db)).rejects.toThrow(
        `the issuer store is at schema version ${MIGRATIONS.length + 1}, newer than this software's ${MIGRATIONS.length}`,
      );
    } finally {
      await db.query("DELETE FROM schema_migrations WHERE version = $1", [MIGRATIONS.length + 1]);
    }
  });
});

// A data directory file left 0644 by hand is refused even when it is the token.
describe("secret files", () => {
  it("refuses a platform token readable by others", async () => {
    const dir = makeTempDir("sesame-issuer-token-");
    open.push({ remove: dir.remove });
    writeFileSync(join(dir.path, PLATFORM_TOKEN_FILE), "0123456789abcdef0123\n", { mode: 0o640 });
    chmodSync(join(dir.path, PLATFORM_TOKEN_FILE), 0o640);
    await expect(startIssuer({ dataDir: dir.path, log: () => undefined })).rejects.toThrow(
      /platform-token is mode 0640/,
    );
  });
});
