import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { ApiError } from "../errors.js";
import { sameToken, tokenHash } from "../secrets.js";
import type { SyncServer } from "../server.js";
import type { GateRecord } from "../store.js";
import {
  type DashboardRole,
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
import { asObject, cookie, MAX_SMALL_BODY, readJson, requireJsonType, send } from "./request.js";
import { alertRoutes } from "./routes/alerts.js";
import { commandRoutes } from "./routes/commands.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { gateRoutes } from "./routes/gates.js";
import { keyRoutes } from "./routes/keys.js";
import type { ApiContext, ApiRequest, Caller, GateView, Role, RouteModule } from "./routes/route.js";
import { type OpenStreams, streamRoutes } from "./routes/stream.js";
import { ticketRoutes } from "./routes/tickets.js";
import { StaticSite } from "./static.js";

export type { Role } from "./routes/route.js";
export { parseCursor } from "./routes/stream.js";

/*
 * The sync-server's HTTP API (docs/sync-server-api.md): node:http, JSON in and out. Callers are
 * bearer tokens (admin = the ticketing platform; gate = snapshot and feed downloads with the token
 * handed out at provisioning; supervisor and tech for scripts) or dashboard users signed in by name
 * and password, who hold a session cookie. Live data by Server-Sent Events. Non-/api paths serve the
 * supervisor dashboard when it is configured.
 */

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

const SESSION_COOKIE = "sesame_session";
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);
/** Dashboard requests that change something carry it; a cross-site form or image cannot. */
export const CSRF_HEADER = "x-sesame";

function publicGate(g: GateRecord, lanes: number | undefined): GateView {
  return {
    gateId: g.gateId,
    entrance: g.entrance,
    lanes: lanes ?? null,
    provisioned: g.publicKey !== null,
    provisionedAt: g.provisionedAt,
    provisioning: g.provisioning,
    status: g.status,
    statusAt: g.statusAt,
    ackedGateSeq: g.ackedSeq,
    heartbeat: g.heartbeat,
    quarantine: g.quarantine,
  };
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
  const streams: OpenStreams = new Map();
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
    let who: { name: string; role: DashboardRole } | undefined;
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

  const routes: readonly RouteModule[] = [
    ticketRoutes,
    keyRoutes,
    gateRoutes,
    dashboardRoutes,
    alertRoutes,
    commandRoutes,
    streamRoutes(sessions, streams),
  ];
  const ctx: ApiContext = { server, require, gateView };

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
    const request: ApiRequest = { req, res, url, method, path, parts: path.split("/").slice(1), caller };
    for (const r of routes) if (await r(ctx, request)) return;
    throw new ApiError(404, `no route ${method} ${path}`);
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
