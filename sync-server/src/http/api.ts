import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  ADMIT_REASONS,
  ALARM_REASONS,
  ASSISTED_REASONS,
  outcomeOf,
  REFUSE_REASONS,
  type ReasonCode,
  stewardMessages,
} from "@sesame/gate-core";
import { type Command, EVENT_KINDS, MAX_REPLAY_ITEMS } from "@sesame/sync";
import { sameToken, tokenHash } from "../secrets.js";
import { ApiError, type SyncServer } from "../server.js";
import type { Alert, GateRecord, RejectionRecord, StoredEvent } from "../store.js";
import { csvObjects } from "../tickets.js";
import {
  DashboardSessions,
  type DashboardUser,
  DEFAULT_SESSION_LIMITS,
  DEFAULT_THROTTLE,
  decoyPasswordHash,
  LoginThrottle,
  MAX_PASSWORD_LENGTH,
  type SessionLimits,
  type ThrottleLimits,
  validateUsers,
  verifyPassword,
} from "./auth.js";
import { streamSessionCsv } from "./export.js";
import { SECURITY_HEADERS, StaticSite } from "./static.js";

/*
 * The sync-server's HTTP API (docs/sync-server-api.md): node:http, JSON in and out. Callers are
 * bearer tokens (admin = the ticketing platform; gate = snapshot and feed downloads with the token
 * handed out at provisioning; supervisor and tech for scripts) or dashboard users signed in by name
 * and password, who hold a session cookie. Live data by Server-Sent Events. Non-/api paths serve the
 * supervisor dashboard when it is configured.
 */

export type Role = "admin" | "supervisor" | "tech" | "gate";

export interface ApiToken {
  readonly token: string;
  readonly role: Exclude<Role, "gate">;
  /** Who holds it (shown in command logs): "ticketing", "supervisor Dupont". */
  readonly name: string;
}

export interface HttpOptions {
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  readonly tokens?: readonly ApiToken[];
  /** Dashboard users (name + scrypt hash from hashPassword()), who sign in with POST /api/session. */
  readonly users?: readonly DashboardUser[];
  /** The built supervisor dashboard (`dashboardDir` of @sesame/supervisor), served on non-/api paths. */
  readonly dashboardDir?: string;
  readonly sessions?: Partial<SessionLimits>;
  readonly throttle?: Partial<ThrottleLimits>;
  /** Adds `Secure` to the session cookie: set it when the dashboard is reached over HTTPS (a proxy). */
  readonly secureCookies?: boolean;
}

interface Caller {
  readonly role: Role;
  readonly name: string;
  /** Set when the caller is a signed-in dashboard user (cookie): CSRF rules apply. */
  readonly sessionId?: string;
}

const READ_ROLES: readonly Role[] = ["admin", "supervisor", "tech"];
const MAX_JSON_BODY = 1024 * 1024;
/** Sign-in, acknowledgements and commands are a few hundred bytes. */
const MAX_SMALL_BODY = 16 * 1024;
const MAX_IMPORT_BODY = 32 * 1024 * 1024;
const SESSION_COOKIE = "sesame_session";
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);
/** Dashboard requests that change something carry it; a cross-site form or image cannot. */
export const CSRF_HEADER = "x-sesame";

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit)
    throw new ApiError(413, `request body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new ApiError(413, `request body larger than ${limit} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch (error) {
    throw new ApiError(400, `body is not JSON: ${(error as Error).message}`);
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ApiError(400, "body must be a JSON object");
  return value as Record<string, unknown>;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

function requireJsonType(req: IncomingMessage): void {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new ApiError(415, "send application/json");
}

function publicGate(g: GateRecord, lanes: number | undefined) {
  return {
    gateId: g.gateId,
    entrance: g.entrance,
    lanes: lanes ?? null,
    provisioned: g.publicKey !== null,
    provisionedAt: g.provisionedAt,
    status: g.status,
    statusAt: g.statusAt,
    ackedGateSeq: g.ackedSeq,
    heartbeat: g.heartbeat,
  };
}

/** SSE cursor: `e<last event row>.a<last alert id>` (the Last-Event-ID a browser sends back). */
export function parseCursor(text: string | undefined): { event: number; alert: number } | undefined {
  if (!text) return undefined;
  const m = /^e(\d+)\.a(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  return { event: Number(m[1]), alert: Number(m[2]) };
}

export async function startHttpApi(
  server: SyncServer,
  options: HttpOptions,
): Promise<{ port: number; close: () => Promise<void> }> {
  const store = server.store;
  const tokens = options.tokens ?? [];
  const users = validateUsers(options.users ?? []);
  const site = options.dashboardDir === undefined ? undefined : new StaticSite(options.dashboardDir);
  const sessions = new DashboardSessions(server.now, { ...DEFAULT_SESSION_LIMITS, ...options.sessions });
  const throttle = new LoginThrottle(server.now, { ...DEFAULT_THROTTLE, ...options.throttle });
  // Spent on unknown names so that a wrong name takes as long as a wrong password.
  const decoy = users.length > 0 ? decoyPasswordHash(users[0]?.passwordHash) : undefined;
  const streams = new Map<ServerResponse, Caller>();
  const gateLanes = new Map(server.venue.gates.map((g) => [g.id, g.lanes]));
  const gateView = (g: GateRecord) => publicGate(g, gateLanes.get(g.gateId));

  const authenticate = (req: IncomingMessage, url: URL): Caller | undefined => {
    const header = req.headers.authorization;
    const token =
      (header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined) ??
      url.searchParams.get("access_token") ??
      undefined;
    if (token !== undefined) {
      if (!token) return undefined;
      for (const t of tokens) if (sameToken(t.token, token)) return { role: t.role, name: t.name };
      const hash = tokenHash(token);
      const gate = store.gates().find((g) => g.httpTokenHash === hash);
      return gate ? { role: "gate", name: gate.gateId } : undefined;
    }
    const session = sessions.touch(cookie(req, SESSION_COOKIE));
    return session ? { role: session.role, name: session.name, sessionId: session.id } : undefined;
  };

  const require = (caller: Caller | undefined, roles: readonly Role[]): Caller => {
    if (!caller) throw new ApiError(401, "sign in first (or send a bearer token)");
    if (!roles.includes(caller.role))
      throw new ApiError(403, `role ${caller.role} may not do this (needs ${roles.join(" or ")})`);
    return caller;
  };

  /** A cross-site page can make the browser send the cookie, but not set this header nor forge Origin. */
  const checkOrigin = (req: IncomingMessage): void => {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host === undefined || host !== req.headers.host)
      throw new ApiError(403, "cross-origin request refused");
  };
  const checkCsrf = (req: IncomingMessage, caller: Caller | undefined): void => {
    if (caller?.sessionId === undefined || SAFE_METHODS.has(req.method ?? "GET")) return;
    if (req.headers[CSRF_HEADER] !== "1")
      throw new ApiError(
        403,
        `a signed-in dashboard must send the header ${CSRF_HEADER}: 1 (CSRF protection)`,
      );
    checkOrigin(req);
  };

  const cookieHeader = (value: string, maxAgeSeconds: number) =>
    `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${
      options.secureCookies ? "; Secure" : ""
    }`;

  const closeStreamsOf = (sessionId: string) => {
    for (const [res, c] of streams) if (c.sessionId === sessionId) res.end();
  };

  const clientAddress = (req: IncomingMessage) => req.socket.remoteAddress ?? "?";

  /** POST /api/session: a dashboard user's name and password, or (scripts, tests) a dashboard token. */
  async function signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requireJsonType(req);
    checkOrigin(req);
    const body = asObject(await readJson(req, MAX_SMALL_BODY));
    let who: { name: string; role: "supervisor" | "tech" } | undefined;
    if (body.token !== undefined) {
      if (typeof body.token !== "string" || body.token.length > 256)
        throw new ApiError(400, "token must be a text");
      const wait = throttle.begin(clientAddress(req), "(token)");
      if (wait > 0) throw tooMany(wait);
      const t = tokens.find((x) => sameToken(x.token, body.token as string));
      if (t && t.role !== "admin") {
        throttle.succeeded(clientAddress(req), "(token)");
        who = { name: t.name, role: t.role };
      } else throw new ApiError(401, "unknown dashboard token");
    } else {
      const { name, password } = body;
      if (typeof name !== "string" || name.trim() === "" || name.length > 64)
        throw new ApiError(400, "name must be a text of 1 to 64 characters");
      if (typeof password !== "string" || password === "" || password.length > MAX_PASSWORD_LENGTH)
        throw new ApiError(400, `password must be a text of 1 to ${MAX_PASSWORD_LENGTH} characters`);
      const wait = throttle.begin(clientAddress(req), name.trim());
      if (wait > 0) throw tooMany(wait);
      const user = users.find((u) => u.name.toLowerCase() === name.trim().toLowerCase());
      const hash = user?.passwordHash ?? decoy;
      const ok = hash !== undefined && (await verifyPassword(password, hash)) && user !== undefined;
      if (!ok || !user) {
        server.log(
          `dashboard sign-in refused for ${JSON.stringify(name.slice(0, 64))} from ${clientAddress(req)}`,
        );
        throw new ApiError(401, "wrong name or password");
      }
      throttle.succeeded(clientAddress(req), name.trim());
      who = { name: user.name, role: user.role };
    }
    // A fresh id at every sign-in: a session id planted before sign-in is worth nothing after it.
    sessions.destroy(cookie(req, SESSION_COOKIE));
    const session = sessions.create(who.name, who.role);
    server.log(`dashboard: ${who.name} (${who.role}) signed in from ${clientAddress(req)}`);
    return send(
      res,
      200,
      { name: who.name, role: who.role },
      { "set-cookie": cookieHeader(session.id, Math.floor(sessions.limits.maxMs / 1000)) },
    );
  }

  const ticketIdOf = (text: string | undefined): number => {
    if (!text || !/^\d{1,10}$/.test(text)) throw new ApiError(400, "ticket id must be a whole number");
    return Number(text);
  };

  const intParam = (url: URL, name: string, fallback: number, min: number, max: number): number => {
    const v = url.searchParams.get(name);
    if (v === null) return fallback;
    if (!/^\d+$/.test(v)) throw new ApiError(400, `${name} must be a whole number`);
    return Math.min(max, Math.max(min, Number(v)));
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      throw new ApiError(400, "bad request target");
    }
    if (url.pathname !== "/api" && !url.pathname.startsWith("/api/")) {
      if (site) return site.serve(req, res, url.pathname);
      throw new ApiError(404, "no dashboard here: this server serves the API under /api/");
    }
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    const caller = authenticate(req, url);
    const parts = path.split("/").slice(1);

    if (method === "GET" && path === "/api/health") {
      return send(res, 200, {
        ok: true,
        venue: server.venue.id,
        mqttConnected: server.mqttConnected,
        feedSequence: store.feedSequence(),
        admissionSeq: store.admissionSeq(),
      });
    }
    if (path === "/api/session") {
      if (method === "POST") return signIn(req, res);
      if (method === "GET") {
        const who = require(caller, ["supervisor", "tech", "admin"]);
        return send(res, 200, { name: who.name, role: who.role });
      }
      if (method === "DELETE") {
        checkCsrf(req, caller);
        if (caller?.sessionId !== undefined) {
          sessions.destroy(caller.sessionId);
          closeStreamsOf(caller.sessionId);
        }
        return send(res, 200, { ok: true }, { "set-cookie": cookieHeader("", 0) });
      }
      throw new ApiError(405, "GET, POST or DELETE /api/session");
    }
    checkCsrf(req, caller);

    // Tickets (ticketing platform)
    if (method === "POST" && path === "/api/tickets/import") {
      require(caller, ["admin"]);
      const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
      const body = await readBody(req, MAX_IMPORT_BODY);
      let rows: unknown[];
      let offset = 1;
      if (type === "text/csv") {
        const objects = csvObjects(body.toString("utf8"));
        if (typeof objects === "string") throw new ApiError(400, `CSV: ${objects}`);
        rows = objects;
        offset = 2;
      } else if (type === "application/json" || type === "") {
        let json: unknown;
        try {
          json = JSON.parse(body.toString("utf8"));
        } catch (error) {
          throw new ApiError(400, `body is not JSON: ${(error as Error).message}`);
        }
        const list = Array.isArray(json) ? json : (json as { tickets?: unknown } | null)?.tickets;
        if (!Array.isArray(list))
          throw new ApiError(400, 'JSON import: an array of tickets or {"tickets": [...]}');
        rows = list;
      } else throw new ApiError(415, "import accepts application/json or text/csv");
      return send(res, 200, server.importTickets(rows, offset));
    }
    if (parts[0] === "api" && parts[1] === "tickets" && parts[2] !== undefined) {
      const id = ticketIdOf(parts[2]);
      if (method === "GET" && parts.length === 3) {
        require(caller, READ_ROLES);
        const ticket = store.ticket(id);
        if (!ticket) throw new ApiError(404, `ticket ${id} does not exist`);
        return send(res, 200, { ticket, revocations: store.revocationsOf(id) });
      }
      if (method === "POST" && (parts[3] === "resale" || parts[3] === "transfer")) {
        require(caller, ["admin"]);
        const body = asObject(await readJson(req));
        return send(res, 200, server.reassign(id, parts[3], body.holder, body.devicePublicKey));
      }
      if (method === "POST" && parts[3] === "cancel") {
        require(caller, ["admin"]);
        return send(res, 200, server.cancel(id));
      }
    }

    // Keys
    if (method === "GET" && path === "/api/keys") {
      require(caller, ["admin", "tech"]);
      return send(res, 200, {
        trustList: store.trustList(),
        keys: store.issuerKeys().map(({ seed: _seed, ...k }) => k),
      });
    }
    if (method === "POST" && path === "/api/keys/rotate") {
      require(caller, ["admin"]);
      const body = asObject(await readJson(req));
      return send(res, 200, server.rotateKey(body.validDays));
    }
    if (method === "POST" && parts[1] === "keys" && parts[3] === "revoke" && parts.length === 4) {
      require(caller, ["admin"]);
      // Digits only: Number() would also read "0x1", "1e0" or " 1" as key 1.
      if (!/^\d{1,5}$/.test(parts[2] ?? "")) throw new ApiError(400, "key id must be a whole number");
      const keyId = Number(parts[2]);
      return send(res, 200, server.revokeKey(keyId));
    }

    // Gates
    if (method === "POST" && parts[1] === "gates" && parts[3] === "provision" && parts.length === 4) {
      require(caller, ["admin", "tech"]);
      return send(res, 200, server.provisionGate(parts[2] ?? ""));
    }
    if (method === "GET" && path === "/api/gates") {
      require(caller, READ_ROLES);
      return send(res, 200, { gates: store.gates().map(gateView), now: server.now() });
    }
    if (method === "GET" && path === "/api/gate/bundle") {
      require(caller, ["gate", "admin", "tech"]);
      const bundle = server.signedBundle();
      res.writeHead(200, {
        "content-type": "application/json",
        "sesame-bundle-signature": bundle.signature,
        "sesame-feed-sequence": String(bundle.feedSequence),
        "cache-control": "no-store",
      });
      res.end(bundle.bytes);
      return;
    }
    if (method === "GET" && path === "/api/feed") {
      require(caller, ["gate", "admin", "tech"]);
      const from = intParam(url, "from", 1, 1, Number.MAX_SAFE_INTEGER);
      if (from <= store.feedBase())
        return send(res, 409, {
          error: "the feed before this point is only in the snapshot",
          snapshot: "/api/gate/bundle",
          feedBase: store.feedBase(),
        });
      const limit = intParam(url, "limit", MAX_REPLAY_ITEMS, 1, MAX_REPLAY_ITEMS);
      return send(res, 200, { feedSequence: store.feedSequence(), changes: store.changesFrom(from, limit) });
    }

    // Supervisor read API
    if (method === "GET" && path === "/api/counts") {
      require(caller, READ_ROLES);
      return send(res, 200, store.counts());
    }
    if (method === "GET" && path === "/api/events") {
      require(caller, READ_ROLES);
      const limit = intParam(url, "limit", 100, 1, 1000);
      const before = url.searchParams.get("before");
      if (before !== null && before !== "" && !/^\d{1,15}$/.test(before))
        throw new ApiError(400, "before must be a whole number (an event row id)");
      const gate = url.searchParams.get("gate");
      const kind = url.searchParams.get("kind");
      // Filters name things that exist: anything else is a mistake (or a probe) worth saying so.
      if (gate && !gateLanes.has(gate))
        throw new ApiError(
          400,
          `gate must be a gate of venue ${server.venue.id} (${[...gateLanes.keys()].join(", ")})`,
        );
      if (kind && !(EVENT_KINDS as readonly string[]).includes(kind))
        throw new ApiError(400, `kind must be one of ${EVENT_KINDS.join(", ")}`);
      return send(res, 200, {
        events: store.recentEvents({
          limit,
          ...(before ? { before: Number(before) } : {}),
          ...(gate ? { gate } : {}),
          ...(kind ? { kind } : {}),
        }),
      });
    }
    if (method === "GET" && path === "/api/alerts") {
      require(caller, READ_ROLES);
      return send(res, 200, {
        alerts: store.alerts(intParam(url, "limit", 100, 1, 1000)),
        open: store.openAlertCount(),
      });
    }
    if (method === "POST" && parts[1] === "alerts" && parts[3] === "ack" && parts.length === 4) {
      const who = require(caller, ["supervisor", "tech"]);
      const id = parts[2] ?? "";
      if (!/^\d{1,12}$/.test(id)) throw new ApiError(400, "alert id must be a whole number");
      const body = asObject(await readJson(req, MAX_SMALL_BODY));
      return send(res, 200, { alert: server.acknowledgeAlert(Number(id), who, body.note) });
    }
    if (method === "GET" && path === "/api/venue") {
      require(caller, READ_ROLES);
      const { rootPublicKey: _root, ...venue } = server.venue;
      return send(res, 200, { venue });
    }
    if (method === "GET" && path === "/api/reasons") {
      require(caller, READ_ROLES);
      return send(res, 200, { reasons: REASON_TEXTS });
    }
    if (method === "GET" && path === "/api/throughput") {
      require(caller, READ_ROLES);
      const minutes = intParam(url, "minutes", 90, 1, 240);
      const now = server.now();
      const to = (Math.floor(now / 60_000) + 2) * 60_000;
      const from = to - (minutes + 2) * 60_000;
      return send(res, 200, { from, to, now, ...store.throughput(from, to) });
    }
    if (method === "GET" && path === "/api/export/entries.csv") {
      require(caller, READ_ROLES);
      const param = url.searchParams.get("session");
      if (param === null || param === "") throw new ApiError(400, "give ?session=<id or code>");
      if (param.length > 64) throw new ApiError(400, "session must be a session id or code");
      const session = server.venue.sessions.find((x) => String(x.id) === param || x.code === param);
      if (!session)
        throw new ApiError(404, `no session ${JSON.stringify(param)} in venue ${server.venue.id}`);
      return streamSessionCsv(res, store, server.venue, session);
    }
    if (method === "GET" && path === "/api/rejections") {
      require(caller, READ_ROLES);
      const source = url.searchParams.get("source");
      if (source !== null && source.length > 64)
        throw new ApiError(400, "source must be a gate id or a broker username (at most 64 characters)");
      return send(res, 200, {
        rejections: store.rejections(intParam(url, "limit", 100, 1, 1000), source ?? undefined),
      });
    }
    if (method === "POST" && path === "/api/commands") {
      const who = require(caller, ["supervisor"]);
      const body = asObject(await readJson(req, MAX_SMALL_BODY));
      const commands = server.sendCommands({ ...body, type: body.type }, who.name);
      return send(res, 202, { command: commands[0], commands: commands.map(commandView) });
    }
    if (method === "GET" && path === "/api/commands") {
      require(caller, READ_ROLES);
      const recent = store.recentCommands(intParam(url, "limit", 20, 1, 200));
      return send(res, 200, {
        commands: recent.map((c) => ({ ...c, targets: server.commandTargets(c.command) })),
      });
    }
    if (method === "GET" && parts[1] === "commands" && parts.length === 3) {
      require(caller, READ_ROLES);
      const command = store.command(parts[2] ?? "");
      if (!command) throw new ApiError(404, `no command ${parts[2]}`);
      return send(res, 200, { ...command, targets: server.commandTargets(command.command) });
    }
    if (method === "GET" && path === "/api/stream") {
      const who = require(caller, READ_ROLES);
      return openStream(req, res, url, who);
    }
    throw new ApiError(404, `no route ${method} ${path}`);
  }

  const commandView = (command: Command) => ({ command, acks: [], targets: server.commandTargets(command) });

  function openStream(req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      ...SECURITY_HEADERS,
    });
    let cursor = { event: store.lastEventRowId(), alert: store.lastAlertId() };
    const id = () => `e${cursor.event}.a${cursor.alert}`;
    const write = (event: string, data: unknown, withId: boolean) => {
      res.write(`event: ${event}\n${withId ? `id: ${id()}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
      // A reader that stopped reading: drop it rather than buffer without end; it resumes by Last-Event-ID.
      if (res.writableLength > 16 * 1024 * 1024) res.destroy();
    };
    const resume = parseCursor(
      (req.headers["last-event-id"] as string | undefined) ??
        url.searchParams.get("lastEventId") ??
        undefined,
    );
    res.write("retry: 1000\n\n");
    if (resume) {
      // Replay synchronously (SQLite reads are synchronous): no live event can interleave.
      cursor = { ...resume };
      for (;;) {
        const events = store.eventsAfter(cursor.event, 500);
        const last = events[events.length - 1];
        if (!last) break;
        cursor.event = last.rowId;
        write("entries", events, true);
      }
      for (const alert of store.alertsAfter(cursor.alert, 1000)) {
        cursor.alert = alert.id;
        write("alert", alert, true);
      }
    }
    write(
      "snapshot",
      {
        counts: store.counts(),
        gates: store.gates().map(gateView),
        alerts: store.alertsForDashboard(50),
        now: server.now(),
      },
      true,
    );
    const onEntries = (events: readonly StoredEvent[]) => {
      const last = events[events.length - 1];
      if (!last || last.rowId <= cursor.event) return;
      cursor.event = last.rowId;
      write("entries", events, true);
    };
    const onAlert = (alert: Alert) => {
      if (alert.id <= cursor.alert) return;
      cursor.alert = alert.id;
      write("alert", alert, true);
    };
    const onPresence = (gateId: string) => {
      const g = store.gate(gateId);
      if (g) write("presence", { ...gateView(g), now: server.now() }, false);
    };
    const onRejection = (r: RejectionRecord) => write("rejection", r, false);
    const onCommandAck = (commandId: string, gateId: string) => {
      const ack = store.command(commandId)?.acks.find((a) => a.gateId === gateId);
      write(
        "command-ack",
        { commandId, gateId, ...(ack ? { status: ack.status, detail: ack.detail, at: ack.at } : {}) },
        false,
      );
    };
    const onCommand = (command: Command) => write("command", commandView(command), false);
    const onAlertAck = (alert: Alert) => write("alert-ack", alert, false);
    server.on("entries", onEntries);
    server.on("alert", onAlert);
    server.on("presence", onPresence);
    server.on("rejection", onRejection);
    server.on("command-ack", onCommandAck);
    server.on("command", onCommand);
    server.on("alert-ack", onAlertAck);
    const keepalive = setInterval(() => {
      // An open dashboard keeps its session alive; a signed-out or expired one loses its stream.
      if (caller.sessionId !== undefined && !sessions.touch(caller.sessionId)) {
        res.end();
        return;
      }
      res.write(": keepalive\n\n");
    }, 15_000);
    streams.set(res, caller);
    const cleanup = () => {
      clearInterval(keepalive);
      server.off("entries", onEntries);
      server.off("alert", onAlert);
      server.off("presence", onPresence);
      server.off("rejection", onRejection);
      server.off("command-ack", onCommandAck);
      server.off("command", onCommand);
      server.off("alert-ack", onAlertAck);
      streams.delete(res);
    };
    res.on("close", cleanup);
    res.on("error", cleanup);
  }

  const http = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof ApiError) {
        const headers: Record<string, string> = {};
        if (error.status === 413) {
          // Drain what the client is still sending, then close: answering mid-upload resets the socket.
          req.resume();
          headers.connection = "close";
        }
        if (error.status === 429 && typeof error.details === "object" && error.details !== null) {
          const retry = (error.details as { retryAfterSeconds?: number }).retryAfterSeconds;
          if (retry !== undefined) headers["retry-after"] = String(retry);
        }
        send(
          res,
          error.status,
          {
            error: error.message,
            ...(error.details === undefined ? {} : { details: error.details }),
          },
          headers,
        );
        return;
      }
      server.log(
        `HTTP ${req.method} ${req.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      send(res, 500, { error: "internal error (logged on the server)" });
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  const address = http.address();
  if (address === null || typeof address === "string") throw new Error("HTTP server has no TCP address");
  return {
    port: address.port,
    close: async () => {
      for (const s of streams.keys()) s.destroy();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function tooMany(waitMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new ApiError(429, `too many wrong attempts: wait ${seconds} s`, { retryAfterSeconds: seconds });
}

const ALARMS: ReadonlySet<string> = new Set(ALARM_REASONS);

/** Reason codes with the stewards' texts in both languages and their outcome (or ALARM), for the dashboard. */
const REASON_TEXTS = [...ADMIT_REASONS, ...ASSISTED_REASONS, ...REFUSE_REASONS, ...ALARM_REASONS].map(
  (code: ReasonCode) => {
    // Placeholders stand in for the per-scan details the steward would see (entrance, time, gate).
    const m = stewardMessages(code, { entrance: "…", time: "…", date: "…", gate: "…", holder: "…" });
    return { code, outcome: ALARMS.has(code) ? "ALARM" : outcomeOf(code), fr: m.fr, en: m.en };
  },
);
