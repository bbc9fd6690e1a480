import { mkdirSync, writeFileSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { join } from "node:path";
import { GateStore } from "@sesame/cache";
import { GateBackend } from "@sesame/gate";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY, KioskHttp, type KioskState } from "../src/backend/http.js";

// What KioskHttp adds for the steward UI: the static bundle with its headers, caller checks,
// supervisor notices, steward sessions on the event stream, and per-ticket manual admissions.

const HOUR = 3_600_000;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

describe("KioskHttp for the steward UI", () => {
  const dir = makeTempDir();
  const signer = createNodeSigner();
  const demo = generateDemoVenue({
    spectators: 300,
    doorsOpenMs: Math.floor(Date.now() / HOUR) * HOUR - HOUR,
    entrances: 2,
    lanes: 4,
    random: seededRandom("kiosk-ui-http"),
    signer,
  });
  writeVenueDirectory(join(dir.path, "venue"), demo, signer);
  const gate = demo.venue.gates[0];
  const entrance = demo.venue.entrances.find((e) => e.id === gate?.entrance);
  if (!gate || !entrance) throw new Error("demo venue without gates");
  const ui = join(dir.path, "ui");
  // A kiosk clock the test moves (sign-in lockout, idle stewards); the backend keeps real time.
  let clock = Date.now();
  let store: GateStore;
  let http: KioskHttp;
  let port = 0;

  const raw = (
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      });
      req.on("error", reject);
      req.end(body);
    });
  const json = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    raw(
      method,
      path,
      { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body === undefined ? undefined : JSON.stringify(body),
    ).then((a) => ({ ...a, json: JSON.parse(a.body) as Record<string, unknown> }));
  const signIn = async (pin = "4821"): Promise<string> => {
    const answer = await json("POST", "/api/session", { pin });
    expect(answer.status).toBe(200);
    const cookie = String(answer.headers["set-cookie"] ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/^sesame_steward=[0-9a-f]{48}$/);
    return cookie;
  };

  beforeAll(async () => {
    mkdirSync(join(ui, "assets"), { recursive: true });
    writeFileSync(join(ui, "index.html"), "<!doctype html><title>kiosk</title>");
    writeFileSync(join(ui, "assets", "index-abc123.js"), "console.log(1)");
    writeFileSync(join(ui, "assets", "font-abc123.woff2"), Buffer.from([0x77, 0x4f, 0x46, 0x32]));
    writeFileSync(join(ui, "favicon.ico"), Buffer.from([0, 0, 1, 0]));
    writeFileSync(join(ui, ".env"), "SECRET=1");
    writeFileSync(join(dir.path, "outside.txt"), "outside the UI");
    store = GateStore.open(join(dir.path, "gate.db"), {
      rootPublicKey: Buffer.from(demo.venue.rootPublicKey, "hex"),
      gateId: gate.id,
    });
    store.importBundle(join(dir.path, "venue"));
    const backend = new GateBackend({
      store,
      gateId: gate.id,
      entrance: gate.entrance,
      lanes: [
        { lane: 1, direction: "entry" },
        { lane: 2, direction: "entry" },
      ],
      now: Date.now,
    });
    http = new KioskHttp({
      backend,
      store,
      gate: { id: gate.id, entrance: { id: entrance.id, code: entrance.code, name: entrance.name } },
      stewards: [{ id: "S-001", name: "Camille Martin", pin: "4821" }],
      now: () => clock,
      staticDir: ui,
      wedgeLane: 2,
      stewardIdleMs: 10 * 60_000,
    });
    port = Number(new URL(await http.listen(0)).port);
  });
  afterAll(async () => {
    await http?.close();
    store?.close();
    dir.remove();
  });

  it("serves the UI with the right types, a strict CSP, and long caching for hashed assets only", async () => {
    const index = await raw("GET", "/");
    expect(index.status).toBe(200);
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(index.headers["cache-control"]).toBe("no-cache");
    const csp = String(index.headers["content-security-policy"]);
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(index.headers["x-content-type-options"]).toBe("nosniff");

    const script = await raw("GET", "/assets/index-abc123.js");
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect((await raw("GET", "/assets/font-abc123.woff2")).headers["content-type"]).toBe("font/woff2");
    expect((await raw("GET", "/favicon.ico")).headers["content-type"]).toBe("image/x-icon");
    const head = await raw("HEAD", "/assets/index-abc123.js");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("14");
    expect(head.body).toBe("");
  });

  it("routes of the single-page UI get index.html; missing assets, hidden files and escapes get 404", async () => {
    const route = await raw("GET", "/lane/2");
    expect(route.status).toBe(200);
    expect(route.body).toContain("<title>kiosk</title>");
    const missing = await raw("GET", "/assets/gone-123.js");
    expect(missing.status).toBe(404);
    expect(missing.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect((await raw("GET", "/.env")).status).toBe(404);
    for (const path of ["/..%2foutside.txt", "/%2e%2e%2foutside.txt", "/assets/..%2f..%2foutside.txt"]) {
      const answer = await raw("GET", path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).not.toContain("outside the UI");
    }
    expect((await raw("GET", "/%E0%A4%A")).status).toBe(400);
    expect((await raw("GET", "/a%00b.js")).status).toBe(400);
    expect((await raw("POST", "/index.html")).status).toBe(405);
  });

  it("turns away callers that are not the kiosk window: foreign Host, foreign Origin, non-JSON bodies", async () => {
    const rebinding = await json("GET", "/api/state", undefined, { host: "attacker.example:80" });
    expect(rebinding.status).toBe(403);
    expect(rebinding.json.error).toMatch(/not served here/);
    const crossSite = await json(
      "POST",
      "/api/language",
      { language: "en" },
      { origin: "https://evil.example" },
    );
    expect(crossSite.status).toBe(403);
    const form = await raw("POST", "/api/scan", { "content-type": "text/plain" }, '{"lane":1,"text":"x"}');
    expect(form.status).toBe(415);
    expect(JSON.parse(form.body).error).toMatch(/application\/json/);
    const sameOrigin = await json("GET", "/api/state", undefined, { origin: `http://127.0.0.1:${port}` });
    expect(sameOrigin.status).toBe(200);
    expect((await json("GET", "/api/scan")).status).toBe(405);
    expect((await json("PUT", "/api/lanes/1/confirm")).status).toBe(405);
    expect((await json("POST", "/api/lanes/1/fly")).status).toBe(404);
  });

  it("tells the UI its venue, wedge lane and sign-in state", async () => {
    const state = (await json("GET", "/api/state")).json as unknown as KioskState;
    expect(state.settings).toEqual({ wedgeLane: 2 });
    expect(state.venue.timezone).toBe(demo.venue.timezone);
    expect(state.venue.zones.map((z) => z.code)).toEqual(demo.venue.zones.map((z) => z.code));
    expect(state.signIn).toEqual({});
    expect(state.notices).toEqual([]);
    expect(state.steward).toBeUndefined();
  });

  it("supervisor notices: kept newest first, shown until a signed-in steward dismisses them", async () => {
    expect(() => http.notice({ text: "   ", by: "PC", at: clock })).toThrow(/non-empty/);
    const first = http.notice({ text: "Ouvrez le couloir 2", by: "PC sécurité", at: clock });
    const second = http.notice({ text: "x".repeat(2_000), by: "", at: clock });
    let state = (await json("GET", "/api/state")).json as unknown as KioskState;
    expect(state.notices.map((n) => n.id)).toEqual([second.id, first.id]);
    expect(state.notices[0]?.text).toHaveLength(500);
    expect(state.notices[0]?.by).toBe("supervisor");

    expect((await json("POST", "/api/notices/dismiss", { id: first.id })).status).toBe(401);
    const cookie = await signIn();
    expect((await json("POST", "/api/notices/dismiss", { id: "1" }, { cookie })).status).toBe(400);
    expect((await json("POST", "/api/notices/dismiss", { id: 999 }, { cookie })).status).toBe(404);
    expect((await json("POST", "/api/notices/dismiss", { id: first.id }, { cookie })).status).toBe(200);
    state = (await json("GET", "/api/state")).json as unknown as KioskState;
    expect(state.notices.find((n) => n.id === first.id)?.dismissed).toEqual({ by: "S-001", at: clock });
    expect(state.notices.find((n) => n.id === second.id)?.dismissed).toBeUndefined();
    // Without an id: everything still shown.
    await json("POST", "/api/notices/dismiss", {}, { cookie });
    state = (await json("GET", "/api/state")).json as unknown as KioskState;
    expect(state.notices.every((n) => n.dismissed !== undefined)).toBe(true);
    for (let i = 0; i < 7; i++) http.notice({ text: `n${i}`, by: "PC", at: clock });
    state = (await json("GET", "/api/state")).json as unknown as KioskState;
    expect(state.notices.map((n) => n.text)).toEqual(["n6", "n5", "n4", "n3", "n2"]);
    await json("DELETE", "/api/session", undefined, { cookie });
  });

  it("the event stream carries the steward of its own cookie, and sign-out or idleness ends it", async () => {
    const cookie = await signIn();
    const states: KioskState[] = [];
    const stream = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/api/events", headers: { cookie } }, resolve);
      req.on("error", reject);
      req.end();
    });
    let buffer = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buffer += chunk;
      const events = buffer.split("\n\n");
      buffer = events.pop() ?? "";
      for (const event of events) {
        const data = /^data: (.*)$/m.exec(event)?.[1];
        if (data) states.push(JSON.parse(data) as KioskState);
      }
    });
    const next = async (count: number) => {
      // A guard against a push that never comes, not a measure: generous for a loaded machine.
      const deadline = Date.now() + 20_000;
      while (states.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return states[count - 1];
    };
    expect((await next(1))?.steward).toEqual({ id: "S-001", name: "Camille Martin" });
    // Twenty idle minutes later the steward is signed out.
    clock += 20 * 60_000;
    expect((await json("GET", "/api/lookup?q=ab", undefined, { cookie })).status).toBe(401);
    http.laneChanged();
    expect((await next(2))?.steward).toBeUndefined();
    stream.destroy();
    clock = Date.now();
  });

  it("printed-confirmation admissions: all tickets checked first, then one answer per ticket with its reason", async () => {
    const cookie = await signIn();
    const [a, b] = demo.bundle.tickets.filter(
      (t) =>
        t.status === "valid" &&
        t.kind === "printed" &&
        t.sessions.length === 1 &&
        t.sessions[0] === 1 &&
        t.entrance === gate.entrance,
    );
    if (!a || !b) throw new Error("not enough tickets");
    const admit = (tickets: unknown, idChecked: unknown = true) =>
      json("POST", "/api/lanes/1/manual-admission", { idChecked, tickets }, { cookie });
    expect((await admit([{ ticketId: a.id, session: 1 }], "yes")).status).toBe(400);
    expect((await admit([])).status).toBe(400);
    expect(
      (
        await admit([
          { ticketId: a.id, session: 1 },
          { ticketId: a.id, session: 1 },
        ])
      ).json.error,
    ).toMatch(/listed twice/);
    // A malformed second ticket: nothing is admitted, not even the first.
    const malformed = await admit([{ ticketId: a.id, session: 1 }, { ticketId: "b" }]);
    expect(malformed.status).toBe(400);
    expect(store.facts().pendingAuthorization(a.id, 1)).toBeUndefined();
    expect(
      (await json("POST", "/api/lanes/abc/manual-admission", { idChecked: true }, { cookie })).status,
    ).toBe(400);

    const first = await admit([{ ticketId: a.id, session: 1 }]);
    expect(first.json.results).toEqual([
      expect.objectContaining({ ticketId: a.id, session: 1, admitted: true, lane: 1 }),
    ]);
    // Lane 1 has no controller: the steward confirms the passage.
    expect((await json("POST", "/api/lanes/1/passage", {}, { cookie })).status).toBe(200);
    const again = await admit([
      { ticketId: a.id, session: 1 },
      { ticketId: b.id, session: 1 },
      { ticketId: 1, session: 1 },
      { ticketId: b.id, session: 2 },
    ]);
    const results = again.json.results as Array<Record<string, unknown>>;
    expect(results[0]).toMatchObject({
      ticketId: a.id,
      admitted: false,
      reason: "ALREADY_ENTERED",
      messages: { fr: { headline: "Déjà entré" }, en: { headline: "Already entered" } },
    });
    const said = results[0]?.messages as { fr: { tell: string } } | undefined;
    expect(said?.fr.tell).toContain(`porte ${gate.id}`);
    expect(results[1]).toMatchObject({ ticketId: b.id, admitted: true });
    expect(results[2]).toMatchObject({ ticketId: 1, admitted: false, reason: "UNKNOWN_TICKET" });
    expect(results[3]).toMatchObject({
      ticketId: b.id,
      session: 2,
      admitted: false,
      reason: "WRONG_SESSION",
    });
    // b's passage is still pending at lane 1: a second admission of b says so.
    const pending = await admit([{ ticketId: b.id, session: 1 }]);
    expect(pending.json.results).toEqual([
      expect.objectContaining({ admitted: false, reason: "PASSAGE_PENDING" }),
    ]);
  });

  it("a phone ticket or another entrance's needs a supervisor: the lookup says so, bad overrides get specific answers, wrong codes count down to a lock", async () => {
    const cookie = await signIn();
    const codes = demo.secrets.supervisorCodes ?? {};
    const right = codes["SUP-02"] ?? "";
    const wrong = right === "0000000000" ? "1111111111" : "0000000000";
    const pick = (kind: "mobile" | "printed", here: boolean) =>
      demo.bundle.tickets.find(
        (t) =>
          t.status === "valid" &&
          t.kind === kind &&
          t.sessions.length === 1 &&
          t.sessions[0] === 1 &&
          (t.entrance === gate.entrance) === here &&
          store.facts().presence(t.id, 1) === undefined,
      );
    const phone = pick("mobile", true);
    const elsewhere = pick("printed", false);
    if (!phone || !elsewhere) throw new Error("not enough tickets");

    const order = demo.bundle.tickets.find((t) => t.id === phone.id)?.orderReference ?? "";
    const found = (await json("GET", `/api/lookup?q=${order}`, undefined, { cookie })).json as {
      hits: Array<{ ticketId: number; manual: { by: string; reason?: string } }>;
    };
    expect(found.hits.find((h) => h.ticketId === phone.id)?.manual).toMatchObject({
      by: "supervisor",
      reason: "MOBILE_TICKET",
    });

    const admit = (ticket: { id: number }, override?: unknown) =>
      json(
        "POST",
        "/api/lanes/2/manual-admission",
        {
          idChecked: true,
          tickets: [{ ticketId: ticket.id, session: 1 }],
          ...(override ? { override } : {}),
        },
        { cookie },
      );
    const alone = await admit(phone);
    expect(alone.json.results).toEqual([
      expect.objectContaining({
        admitted: false,
        reason: "MOBILE_TICKET",
        needsSupervisor: true,
        messages: expect.objectContaining({ en: expect.objectContaining({ headline: "Mobile ticket" }) }),
      }),
    ]);
    const note = "phone battery dead, ID checked";
    const bad = async (override: unknown) => {
      const answer = await admit(phone, override);
      return [answer.status, answer.json.problem, answer.json.error];
    };
    expect(await bad({ supervisor: "", code: right, note })).toEqual([
      400,
      "no-supervisor",
      "enter the supervisor's id",
    ]);
    expect(await bad({ supervisor: "SUP-02", code: "12", note })).toEqual([
      400,
      "bad-code",
      "a supervisor's code is 8 to 12 digits",
    ]);
    expect(await bad({ supervisor: "SUP-02", code: right, note: " " })).toEqual([
      400,
      "empty-note",
      expect.stringMatching(/note is empty/),
    ]);
    const unknown = await admit(phone, { supervisor: "SUP-77", code: right, note });
    expect([unknown.status, unknown.json.problem, unknown.json.attemptsLeft]).toEqual([
      403,
      "unknown-supervisor",
      4,
    ]);
    const wrongOnce = await admit(phone, { supervisor: "SUP-02", code: wrong, note });
    expect([wrongOnce.status, wrongOnce.json.problem, wrongOnce.json.attemptsLeft]).toEqual([
      403,
      "wrong-code",
      3,
    ]);
    expect(wrongOnce.json.error).toBe("wrong code for supervisor SUP-02");
    // Recorded for the supervisors, with the steward who typed it; the ticket is not admitted.
    const refusals = store.events().filter((e) => e.reason === "OVERRIDE_REFUSED");
    expect(refusals.map((e) => [e.kind, e.steward, e.ticketId])).toEqual([
      ["refused", "S-001", phone.id],
      ["refused", "S-001", phone.id],
    ]);
    expect(store.facts().pendingAuthorization(phone.id, 1)).toBeUndefined();

    const granted = await admit(elsewhere, {
      supervisor: "SUP-02",
      code: right,
      note: "wrong gate on the ticket",
    });
    expect(granted.json.results).toEqual([
      expect.objectContaining({
        ticketId: elsewhere.id,
        admitted: true,
        decision: expect.objectContaining({ reason: "SUPERVISOR_OVERRIDE" }),
      }),
    ]);
    expect(store.events().at(-1)).toMatchObject({
      kind: "authorized",
      steward: "S-001",
      override: { supervisor: "SUP-02", note: "wrong gate on the ticket", state: "WRONG_ENTRANCE" },
    });
    expect((await json("POST", "/api/lanes/2/passage", {}, { cookie })).status).toBe(200);

    for (const left of [4, 3, 2, 1])
      expect((await admit(phone, { supervisor: "SUP-02", code: wrong, note })).json.attemptsLeft).toBe(left);
    const locking = await admit(phone, { supervisor: "SUP-02", code: wrong, note });
    expect([locking.status, locking.json.attemptsLeft]).toEqual([429, 0]);
    const locked = await admit(phone, { supervisor: "SUP-02", code: right, note });
    expect([locked.status, locked.json.problem]).toEqual([429, "locked"]);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    expect(store.facts().pendingAuthorization(phone.id, 1)).toBeUndefined();
  });

  it("sign-in: bad PIN shapes are 400s, wrong PINs count down, then 429 with Retry-After until the minute is over", async () => {
    expect((await json("POST", "/api/session", { pin: 4821 })).status).toBe(400);
    expect((await json("POST", "/api/session", { pin: "48 21" })).status).toBe(400);
    const lefts: unknown[] = [];
    for (let i = 0; i < 5; i++)
      lefts.push((await json("POST", "/api/session", { pin: "0000" })).json.attemptsLeft);
    expect(lefts).toEqual([4, 3, 2, 1, 0]);
    const state = (await json("GET", "/api/state")).json as unknown as KioskState;
    expect(state.signIn.lockedUntil).toBe(clock + 60_000);
    const locked = await json("POST", "/api/session", { pin: "4821" });
    expect(locked.status).toBe(429);
    expect(locked.headers["retry-after"]).toBe("60");
    expect(locked.json.retryAfterMs).toBe(60_000);
    clock += 61_000;
    expect((await json("POST", "/api/session", { pin: "4821" })).status).toBe(200);
  });
});
