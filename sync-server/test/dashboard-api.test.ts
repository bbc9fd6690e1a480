import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GateSync } from "@sesame/sync";
import { MemoryGateStore } from "@sesame/sync/testing";
import { makeTempDir } from "@sesame/testing";
import { parseCsv, readRootKeyFile, VENUE_FILES } from "@sesame/venue";
import { certifiedSupervisor, signedCommandsBody } from "@sesame/venue/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENTRY_CSV_COLUMNS } from "../src/http/export.js";
import type { Alert, Counts } from "../src/store.js";
import { dashboardWorld, rawGet, SUPERVISOR, send, signIn, TECH, testUsers } from "./dashboard-harness.js";
import { FAST_GATE, TOKENS, type World, waitFor } from "./harness.js";

/*
 * The dashboard's HTTP surface without a browser: sign-in and sessions, CSRF rules, roles, alert
 * acknowledgement, commands to a whole venue, per-minute counts, the CSV export, static serving —
 * and bad input of every kind, which must end in a clear 4xx, never a 500.
 */

const BEARER_SUPERVISOR = TOKENS[1]?.token ?? "";
const XS = { "x-sesame": "1" };

/** A stand-in for the built dashboard, with a symlink pointing outside it. */
function fakeDashboard(root: string, outside: string): string {
  const dir = join(root, "dashboard");
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>dash</title>");
  writeFileSync(join(dir, "assets", "app-1234.js"), "console.log('dashboard')");
  writeFileSync(join(dir, "assets", "app-1234.css"), "body{}");
  writeFileSync(join(outside, "secret.txt"), "TOP SECRET");
  symlinkSync(join(outside, "secret.txt"), join(dir, "assets", "leak.txt"));
  return dir;
}

describe("dashboard HTTP API", () => {
  const files = makeTempDir("sesame-dash-");
  let world: World;
  let supervisor: string;
  let tech: string;
  const serverErrors = () => world.serverLog.filter((l) => l.startsWith("HTTP "));

  beforeAll(async () => {
    const dashboardDir = fakeDashboard(files.path, files.path);
    world = await dashboardWorld({ dashboardDir, throttle: { freeAttempts: 3, baseDelayMs: 60_000 } });
    supervisor = await signIn(world, SUPERVISOR);
    tech = await signIn(world, TECH);
  });
  afterAll(async () => {
    await world.close();
    files.remove();
  });

  it("nothing is readable or callable without signing in", async () => {
    for (const path of [
      "/api/counts",
      "/api/events",
      "/api/alerts",
      "/api/gates",
      "/api/venue",
      "/api/reasons",
      "/api/throughput",
      "/api/commands",
      "/api/export/entries.csv?session=1",
      "/api/stream",
      "/api/session",
    ]) {
      const r = await send(world, "GET", path);
      expect(r.status, path).toBe(401);
    }
    expect(
      (await send(world, "POST", "/api/commands", { body: { type: "free-passage", venue: true } })).status,
    ).toBe(401);
    expect((await send(world, "POST", "/api/alerts/1/ack", { body: {} })).status).toBe(401);
    // A made-up session id is nobody.
    expect(
      (await send(world, "GET", "/api/counts", { cookie: "sesame_session=forged-session-id" })).status,
    ).toBe(401);
    expect(
      (await send(world, "GET", "/api/counts", { cookie: `sesame_session=${"x".repeat(5000)}` })).status,
    ).toBe(401);
  });

  it("signs in by name and password into an HttpOnly, SameSite=Strict random session cookie", async () => {
    const r = await send(world, "POST", "/api/session", {
      body: { name: "DUPONT", password: SUPERVISOR.password },
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ name: "dupont", role: "supervisor" });
    const setCookie = r.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^sesame_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Max-Age=\d+/);
    expect(setCookie).not.toMatch(/correct|horse/);
    const me = await send(world, "GET", "/api/session", { cookie: supervisor });
    expect(me.json).toEqual({ name: "dupont", role: "supervisor" });
    expect((await send(world, "GET", "/api/counts", { cookie: tech })).status).toBe(200);
    // Dashboard tokens still sign in (scripts, older tests) — into a session, not a token cookie.
    const byToken = await send(world, "POST", "/api/session", { body: { token: BEARER_SUPERVISOR } });
    expect(byToken.status).toBe(200);
    expect(byToken.headers.get("set-cookie")).not.toContain(BEARER_SUPERVISOR);
    expect((await send(world, "POST", "/api/session", { body: { token: TOKENS[0]?.token } })).status).toBe(
      401,
    );
  });

  it("refuses wrong passwords alike for known and unknown names, then throttles", async () => {
    const wrong = await send(world, "POST", "/api/session", {
      body: { name: TECH.name, password: "nope nope nope" },
    });
    const unknown = await send(world, "POST", "/api/session", {
      body: { name: "nobody", password: "whatever 123" },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect((wrong.json as { error: string }).error).toBe((unknown.json as { error: string }).error);
    // freeAttempts 3: three wrong passwords for this name, then even the right one must wait.
    for (let i = 0; i < 2; i++)
      expect(
        (await send(world, "POST", "/api/session", { body: { name: TECH.name, password: `bad ${i}` } }))
          .status,
      ).toBe(401);
    const locked = await send(world, "POST", "/api/session", {
      body: { name: TECH.name, password: "bad again" },
    });
    expect(locked.status).toBe(401);
    const blocked = await send(world, "POST", "/api/session", { body: TECH });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another name from the same address is not locked out with it.
    expect((await send(world, "POST", "/api/session", { body: SUPERVISOR })).status).toBe(200);
    // The session signed in before the lock still works.
    expect((await send(world, "GET", "/api/counts", { cookie: tech })).status).toBe(200);
  });

  it("protects cookie-authenticated changes against CSRF", async () => {
    const body = { type: "message", gate: "A1", text: "bonjour" };
    const noHeader = await send(world, "POST", "/api/commands", { cookie: supervisor, body });
    expect(noHeader.status).toBe(403);
    expect((noHeader.json as { error: string }).error).toMatch(/x-sesame/);
    const crossSite = await send(world, "POST", "/api/commands", {
      cookie: supervisor,
      body,
      headers: { ...XS, origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await send(world, "POST", "/api/commands", {
      cookie: supervisor,
      body,
      headers: { ...XS, origin: `http://127.0.0.1:${world.apiPort}` },
    });
    expect(sameSite.status).toBe(202);
    // Bearer tokens are not ambient credentials: no header needed.
    expect((await world.api("POST", "/api/commands", body, BEARER_SUPERVISOR)).status).toBe(202);
    // Sign-in from a form of another site: not JSON, or not our origin.
    expect(
      (
        await send(world, "POST", "/api/session", {
          body: "name=dupont&password=x",
          contentType: "application/x-www-form-urlencoded",
        })
      ).status,
    ).toBe(415);
    expect(
      (
        await send(world, "POST", "/api/session", {
          body: SUPERVISOR,
          headers: { origin: "https://evil.example" },
        })
      ).status,
    ).toBe(403);
    // Sign-out is a change too.
    expect((await send(world, "DELETE", "/api/session", { cookie: tech })).status).toBe(403);
  });

  it("lets a supervisor command and keeps a tech to reading", async () => {
    const r = await send(world, "POST", "/api/commands", {
      cookie: tech,
      headers: XS,
      body: { type: "free-passage", venue: true },
    });
    expect(r.status).toBe(403);
    expect((await send(world, "GET", "/api/commands", { cookie: tech })).status).toBe(200);
    expect((await send(world, "GET", "/api/export/entries.csv?session=1", { cookie: tech })).status).toBe(
      200,
    );
  });

  it("sends whole-venue free passage as one command per entrance, acknowledged by every gate", async () => {
    const a = world.gate("A1");
    const b = world.gate("B1");
    await waitFor(() => a.sync.status().connected && b.sync.status().connected, 15_000, "gates connected");
    // The dashboard makes one command per entrance and the supervisor's browser key signs each.
    const rootSeed = Buffer.from(readRootKeyFile(join(world.venueDir, VENUE_FILES.rootKey))).toString("hex");
    const venueId = world.requireServer().venue.id;
    const dupont = certifiedSupervisor({ rootSeed, venueId, supervisor: "dupont" });
    const targets = [{ entrance: 1 }, { entrance: 2 }];
    const r = await send(world, "POST", "/api/commands", {
      cookie: supervisor,
      headers: XS,
      body: signedCommandsBody(dupont, { type: "free-passage", targets }),
    });
    expect(r.status).toBe(202);
    const commands = (
      r.json as {
        commands: Array<{ command: { id: string; target: unknown; by: string }; targets: string[] }>;
      }
    ).commands;
    expect(commands.map((c) => c.command.target)).toEqual([{ entrance: 1 }, { entrance: 2 }]);
    expect(commands.map((c) => c.targets)).toEqual([["A1"], ["B1"]]);
    expect(commands[0]?.command.by).toBe("dupont");
    for (const c of commands)
      await waitFor(
        () => (world.requireServer().store.command(c.command.id)?.acks.length ?? 0) === 1,
        10_000,
        `ack of ${c.command.id}`,
      );
    const listed = await send(world, "GET", "/api/commands?limit=5", { cookie: tech });
    const first = (listed.json as { commands: Array<{ acks: Array<{ status: string }> }> }).commands[0];
    expect(first?.acks.map((x) => x.status)).toEqual(["done"]);
    // Without the supervisor's signature, with a key the root did not certify, or signed for another
    // account: refused before anything is sent, the forgeries alerted.
    const server = world.requireServer();
    const sentBefore = server.store.recentCommands(200).length;
    const forger = certifiedSupervisor({ rootSeed: "99".repeat(32), venueId, supervisor: "dupont" });
    const martin = certifiedSupervisor({ rootSeed, venueId, supervisor: "martin" });
    for (const [body, status] of [
      [{ type: "free-passage", venue: true }, 400],
      [signedCommandsBody(forger, { type: "free-passage", targets }), 403],
      [signedCommandsBody(martin, { type: "free-passage", targets }), 403],
      [
        { ...signedCommandsBody(dupont, { type: "free-passage", targets }), certificate: forger.certificate },
        403,
      ],
    ] as const) {
      const refused = await send(world, "POST", "/api/commands", { cookie: supervisor, headers: XS, body });
      expect(refused.status, JSON.stringify(refused.json)).toBe(status);
    }
    expect(server.store.recentCommands(200).length).toBe(sentBefore);
    const alerts = server.store.alerts().filter((x) => x.type === "supervisor-signature-refused");
    expect(alerts.length).toBe(3);
    expect(alerts.map((x) => x.detail).join("\n")).toMatch(/not signed by the venue root key/);
    expect(
      world.serverLog.some((l) => /supervisor signature refused: dupont sent a free-passage/.test(l)),
    ).toBe(true);
    // venue together with a target, or not true: refused before anything is sent.
    for (const bad of [
      { type: "end-free-passage", venue: true, entrance: 1 },
      { type: "end-free-passage", venue: "yes" },
      { type: "end-free-passage", gate: "A1", entrance: 1 },
    ])
      expect(
        (await send(world, "POST", "/api/commands", { cookie: supervisor, headers: XS, body: bad })).status,
      ).toBe(400);
  });

  it("raises forgery, gate-offline and clock-skew alerts; acknowledgements record who and when", async () => {
    const server = world.requireServer();
    const a = world.gates.find((g) => g.id === "A1") ?? world.gate("A1");
    a.store.append({ kind: "refused", reason: "FORGED", lane: 2 });
    a.store.append({ kind: "refused", reason: "FORGED_PROOF", lane: 2 });
    a.store.append({ kind: "alarm", reason: "FORCED_PASSAGE", lane: 2 });
    a.store.append({ kind: "alarm", reason: "FORCED_PASSAGE", lane: 1 });
    a.store.append({ kind: "alarm", reason: "TAILGATE", lane: 1 });
    a.sync.notifyOutbox();
    await waitFor(() => a.store.outboxDepth() === 0, 10_000, "events stored");
    const forgery = server.store.alerts().find((x) => x.type === "forgery");
    expect(forgery?.eventIds).toHaveLength(2);
    expect(forgery?.gates).toEqual(["A1"]);
    expect(forgery?.detail).toBe("2 forged or foreign codes refused at gate A1 (FORGED, FORGED_PROOF)");
    const forced = server.store.alerts().find((x) => x.type === "forced-passage");
    expect(forced?.detail).toBe("2 forced passages at gate A1 (lanes 1, 2)");
    expect(server.store.alerts().find((x) => x.type === "tailgate")?.detail).toBe(
      "tailgate at gate A1 lane 1",
    );
    const alarmCounts = (await send(world, "GET", "/api/counts", { cookie: tech })).json as Counts;
    expect(alarmCounts.alarmsByReason).toEqual({ FORCED_PASSAGE: 2, TAILGATE: 1 });
    expect(
      (await send(world, "POST", `/api/alerts/${forced?.id}/ack`, { cookie: tech, headers: XS, body: {} }))
        .status,
    ).toBe(403);

    // A gate whose clock is a minute behind the server's.
    const skewed = new GateSync({
      provisioning: world.provisioning("B1"),
      signingSeed: world.gateSeed("B1"),
      store: new MemoryGateStore("B1"),
      brokerUrl: world.brokerUrl,
      httpBaseUrl: `http://127.0.0.1:${world.apiPort}`,
      tuning: FAST_GATE,
      now: () => Date.now() - 60_000,
      onCommand: () => ({ status: "done" }),
    });
    const b = world.gates.find((g) => g.id === "B1");
    await b?.sync.stop();
    await waitFor(
      () => server.store.alerts().some((x) => x.type === "gate-offline"),
      10_000,
      "gate-offline alert",
    );
    skewed.start();
    try {
      await waitFor(
        () => server.store.alerts().some((x) => x.type === "clock-skew"),
        15_000,
        "clock-skew alert",
      );
    } finally {
      await skewed.stop();
    }
    const alerts = (await send(world, "GET", "/api/alerts", { cookie: tech })).json as {
      alerts: Alert[];
      open: number;
    };
    expect(alerts.open).toBeGreaterThanOrEqual(3);
    const skew = alerts.alerts.find((x) => x.type === "clock-skew");
    expect(skew?.detail).toMatch(/B1's clock is \d+ s behind/);

    // A tech acknowledges technical alerts, not security ones.
    const techOnForgery = await send(world, "POST", `/api/alerts/${forgery?.id}/ack`, {
      cookie: tech,
      headers: XS,
      body: {},
    });
    expect(techOnForgery.status).toBe(403);
    const techOnSkew = await send(world, "POST", `/api/alerts/${skew?.id}/ack`, {
      cookie: tech,
      headers: XS,
      body: {},
    });
    expect(techOnSkew.status).toBe(200);
    expect((techOnSkew.json as { alert: Alert }).alert.acknowledgedBy).toBe("martin");
    const ack = await send(world, "POST", `/api/alerts/${forgery?.id}/ack`, {
      cookie: supervisor,
      headers: XS,
      body: { note: "intercepted at lane 2" },
    });
    expect(ack.status).toBe(200);
    const acked = (ack.json as { alert: Alert }).alert;
    expect(acked).toMatchObject({ acknowledgedBy: "dupont", acknowledgeNote: "intercepted at lane 2" });
    expect(acked.acknowledgedAt).toBeGreaterThan(0);
    const again = await send(world, "POST", `/api/alerts/${forgery?.id}/ack`, {
      cookie: supervisor,
      headers: XS,
      body: {},
    });
    expect(again.status).toBe(409);
    // A bearer-token supervisor may acknowledge too (scripts).
    expect((await world.api("POST", "/api/alerts/999999/ack", {}, BEARER_SUPERVISOR)).status).toBe(404);
  });

  it("counts against capacity, per minute, and exports a session's log as quoted CSV", async () => {
    const server = world.requireServer();
    const a = world.gates.find((g) => g.id === "A1") ?? world.gate("A1");
    // Tickets of A1's entrance: the server stores only admissions an honest gate could make.
    const [t10 = 0, t11 = 0, t12 = 0] = world.ticketsAt(1);
    a.store.admit({ ticketId: t10, session: 1, steward: 'Dupont, "Jo"' });
    a.store.admit({ ticketId: t11, session: 1, detail: '=HYPERLINK("http://evil")' });
    a.store.append({ kind: "refused", reason: "WRONG_SESSION", ticketId: t12, session: 1 });
    a.sync.notifyOutbox();
    await waitFor(() => a.store.outboxDepth() === 0, 10_000, "events stored");
    const counts = (await send(world, "GET", "/api/counts", { cookie: supervisor })).json as Counts;
    expect(counts.bySession["1"]).toBe(2);
    expect(counts.lastRowId).toBe(server.store.lastEventRowId());
    const venue = server.venue;
    const total = venue.zones.reduce((n, z) => n + z.capacity, 0);
    expect(counts.capacity.venue).toBe(total);
    expect(counts.capacity.bySession["1"]).toBe(total);
    const entrance = venue.entrances[0];
    expect(counts.capacity.byEntrance[String(entrance?.id)]).toBe(
      venue.zones.filter((z) => entrance?.zones.includes(z.id)).reduce((n, z) => n + z.capacity, 0),
    );
    expect(counts.tickets.bySession["1"]).toBeGreaterThan(0);

    const t = (await send(world, "GET", "/api/throughput?minutes=90", { cookie: supervisor })).json as {
      minutes: Array<{ at: number; entered: number; refused: number }>;
      lastRowId: number;
    };
    expect(t.minutes.reduce((n, m) => n + m.entered, 0)).toBe(2);
    expect(t.minutes.reduce((n, m) => n + m.refused, 0)).toBeGreaterThanOrEqual(3);
    expect(t.minutes.every((m) => m.at % 60_000 === 0)).toBe(true);

    const csv = await send(world, "GET", "/api/export/entries.csv?session=ATH-S1", { cookie: tech });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="entries-SDF-ATH-S1.csv"');
    const rows = parseCsv(csv.text);
    if (typeof rows === "string") throw new Error(rows);
    expect(rows[0]).toEqual([...ENTRY_CSV_COLUMNS]);
    const column = (name: (typeof ENTRY_CSV_COLUMNS)[number]) => ENTRY_CSV_COLUMNS.indexOf(name);
    const byTicket = (id: number, kind = "entered") =>
      rows.find((r) => r[column("ticket_id")] === String(id) && r[column("kind")] === kind);
    expect(byTicket(t10, "authorized")).toBeDefined();
    expect(byTicket(t10)?.[column("steward")]).toBe('Dupont, "Jo"');
    expect(byTicket(t11)?.[column("detail")]).toBe(`'=HYPERLINK("http://evil")`);
    expect(byTicket(t12, "refused")?.[column("reason")]).toBe("WRONG_SESSION");
    expect(rows.slice(1).every((r) => r.length === ENTRY_CSV_COLUMNS.length)).toBe(true);
    expect(csv.text.includes("\r\n")).toBe(true);
  });

  it("answers bad input with a clear 4xx, never a 500", async () => {
    const auth = { cookie: supervisor, headers: XS };
    const cases: Array<[string, string, Parameters<typeof send>[3], number]> = [
      ["POST", "/api/commands", { ...auth, body: "{not json" }, 400],
      ["POST", "/api/commands", { ...auth, body: "[1,2]" }, 400],
      ["POST", "/api/commands", { ...auth, body: "null" }, 400],
      ["POST", "/api/commands", { ...auth, body: { type: "open-sesame", gate: "A1" } }, 400],
      [
        "POST",
        "/api/commands",
        { ...auth, body: { type: "end-free-passage", entrance: "A'; DROP TABLE commands;--" } },
        404,
      ],
      [
        "POST",
        "/api/commands",
        { ...auth, body: { type: "message", gate: "A1", text: "x".repeat(600) } },
        400,
      ],
      ["POST", "/api/commands", { ...auth, body: { type: "lock-lane", gate: "A1", lane: -1 } }, 400],
      ["POST", "/api/commands", { ...auth, body: { type: "free-passage", gate: { $ne: 1 } } }, 400],
      [
        "POST",
        "/api/commands",
        { ...auth, body: { type: "message", gate: "A1", text: "y".repeat(20_000) } },
        413,
      ],
      ["POST", "/api/session", { body: "{oops" }, 400],
      ["POST", "/api/session", { body: { name: ["dupont"], password: 1 } }, 400],
      ["POST", "/api/session", { body: { name: "dupont", password: "p".repeat(2000) } }, 400],
      ["POST", "/api/session", { body: { name: "dupont", password: "x".repeat(50_000) } }, 413],
      ["POST", "/api/session", { body: {} }, 400],
      ["PUT", "/api/session", { ...auth, body: {} }, 405],
      ["POST", "/api/alerts/1%27%20OR%201%3D1/ack", { ...auth, body: {} }, 400],
      ["POST", "/api/alerts/12/ack", { ...auth, body: "{" }, 400],
      ["POST", "/api/alerts/12/ack", { ...auth, body: { note: 42 } }, 400],
      ["POST", "/api/alerts/123456789/ack", { ...auth, body: {} }, 404],
      ["GET", "/api/export/entries.csv", { cookie: supervisor }, 400],
      ["GET", "/api/export/entries.csv?session=99", { cookie: supervisor }, 404],
      ["GET", "/api/export/entries.csv?session=1'%20OR%20'1'%3D'1", { cookie: supervisor }, 404],
      [
        "GET",
        "/api/export/entries.csv?session=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        { cookie: supervisor },
        404,
      ],
      ["GET", `/api/export/entries.csv?session=${"9".repeat(100)}`, { cookie: supervisor }, 400],
      ["GET", "/api/throughput?minutes=90;DROP%20TABLE%20events", { cookie: supervisor }, 400],
      ["GET", "/api/alerts?limit=1%20OR%201=1", { cookie: supervisor }, 400],
      ["GET", "/api/commands/%27%3B--", { cookie: supervisor }, 404],
      ["GET", "/api/events?gate=A1'%20OR%20'1'='1&kind=entered", { cookie: supervisor }, 400],
      ["GET", "/api/events?gate=A1&kind=entered'--", { cookie: supervisor }, 400],
      ["GET", "/api/events?gate=A1&kind=entered", { cookie: supervisor }, 200],
      ["GET", "/api/events?before=1%20OR%201=1", { cookie: supervisor }, 400],
      ["GET", `/api/rejections?source=${"x".repeat(65)}`, { cookie: supervisor }, 400],
    ];
    for (const [method, path, options, status] of cases) {
      const r = await send(world, method, path, options);
      expect(r.status, `${method} ${path} → ${r.text}`).toBe(status);
      if (status !== 200) expect(typeof (r.json as { error?: unknown }).error, path).toBe("string");
    }
    // The injection-looking gate filter was refused by name, and the tables are all still there.
    const refused = await send(world, "GET", "/api/events?gate=A1'%20OR%20'1'='1", { cookie: supervisor });
    expect((refused.json as { error: string }).error).toMatch(/gate must be a gate of venue/);
    expect((await send(world, "GET", "/api/counts", { cookie: supervisor })).status).toBe(200);
    expect(serverErrors()).toEqual([]);
  });

  it("serves the dashboard with its MIME types, a strict CSP, an SPA fallback and no way out of its directory", async () => {
    const index = await send(world, "GET", "/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = index.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const js = await send(world, "GET", "/assets/app-1234.js");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toMatch(/immutable/);
    expect((await send(world, "GET", "/assets/app-1234.css")).headers.get("content-type")).toBe(
      "text/css; charset=utf-8",
    );
    // Single-page app: an unknown page is the app; an unknown file is a 404, never HTML.
    const deep = await send(world, "GET", "/alerts");
    expect(deep.status).toBe(200);
    expect(deep.text).toContain("<title>dash</title>");
    expect((await send(world, "GET", "/assets/missing-9999.js")).status).toBe(404);
    expect((await send(world, "HEAD", "/")).status).toBe(200);
    expect((await send(world, "POST", "/", { body: {} })).status).toBe(405);
    for (const path of [
      "/../../../../etc/passwd",
      "/assets/../../secret.txt",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/assets/..%5c..%5csecret.txt",
      "/assets/leak.txt",
      "/%00/etc/passwd",
      "/%E0%A4%A",
    ]) {
      const r = await rawGet(world.apiPort ?? 0, path);
      expect(r.body, path).not.toContain("TOP SECRET");
      expect(r.body, path).not.toContain("root:");
      expect([200, 400, 404], path).toContain(r.status);
    }
    expect(serverErrors()).toEqual([]);
  });

  it("sign-out ends the session; sessions and acknowledgements across a restart", async () => {
    const extra = await signIn(world, SUPERVISOR);
    expect((await send(world, "DELETE", "/api/session", { cookie: extra, headers: XS })).status).toBe(200);
    expect((await send(world, "GET", "/api/counts", { cookie: extra })).status).toBe(401);

    const before = world
      .requireServer()
      .store.alerts()
      .filter((x) => x.acknowledgedBy !== null);
    expect(before.length).toBeGreaterThanOrEqual(2);
    await world.requireServer().stop();
    await world.startServer({ http: { port: 0, tokens: TOKENS, users: testUsers() } });
    // Sessions are kept in memory: a restart signs everyone out.
    expect((await send(world, "GET", "/api/counts", { cookie: supervisor })).status).toBe(401);
    const again = await signIn(world, SUPERVISOR);
    const alerts = (await send(world, "GET", "/api/alerts", { cookie: again })).json as { alerts: Alert[] };
    for (const b of before)
      expect(alerts.alerts.find((x) => x.id === b.id)).toMatchObject({
        acknowledgedBy: b.acknowledgedBy,
        acknowledgedAt: b.acknowledgedAt,
      });
  });
});
