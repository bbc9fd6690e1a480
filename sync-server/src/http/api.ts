import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { MAX_REPLAY_ITEMS } from "@sesame/sync";
import { sameToken, tokenHash } from "../secrets.js";
import { ApiError, type SyncServer } from "../server.js";
import type { Alert, GateRecord, RejectionRecord, StoredEvent } from "../store.js";
import { csvObjects } from "../tickets.js";

/*
 * The sync-server's HTTP API (docs/sync-server-api.md): node:http, JSON in and out, bearer tokens.
 * Roles: admin (the ticketing platform), supervisor and tech (the dashboard), gate (snapshot and
 * feed downloads with the token handed out at provisioning). Live data by Server-Sent Events.
 */

export type Role = "admin" | "supervisor" | "tech" | "gate";

export interface ApiToken {
  readonly token: string;
  readonly role: Exclude<Role, "gate">;
  /** Who holds it (shown in command logs): "ticketing", "supervisor Dupont". */
  readonly name: string;
}

interface Caller {
  readonly role: Role;
  readonly name: string;
}

const READ_ROLES: readonly Role[] = ["admin", "supervisor", "tech"];
const MAX_JSON_BODY = 1024 * 1024;
const MAX_IMPORT_BODY = 32 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
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

function publicGate(g: GateRecord) {
  return {
    gateId: g.gateId,
    entrance: g.entrance,
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
  host: string,
  port: number,
  tokens: readonly ApiToken[],
): Promise<{ port: number; close: () => Promise<void> }> {
  const store = server.store;
  const streams = new Set<ServerResponse>();

  const authenticate = (req: IncomingMessage, url: URL): Caller | undefined => {
    const header = req.headers.authorization;
    const token =
      (header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined) ??
      url.searchParams.get("access_token") ??
      cookie(req, "sesame_token");
    if (!token) return undefined;
    for (const t of tokens) if (sameToken(t.token, token)) return { role: t.role, name: t.name };
    const hash = tokenHash(token);
    const gate = store.gates().find((g) => g.httpTokenHash === hash);
    return gate ? { role: "gate", name: gate.gateId } : undefined;
  };

  const require = (caller: Caller | undefined, roles: readonly Role[]): Caller => {
    if (!caller) throw new ApiError(401, "missing or unknown bearer token");
    if (!roles.includes(caller.role))
      throw new ApiError(403, `role ${caller.role} may not do this (needs ${roles.join(" or ")})`);
    return caller;
  };

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
    const url = new URL(req.url ?? "/", "http://localhost");
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
      if (method === "POST") {
        const body = asObject(await readJson(req));
        const token = typeof body.token === "string" ? body.token : "";
        const t = tokens.find((x) => sameToken(x.token, token));
        if (!t || t.role === "admin") throw new ApiError(401, "unknown dashboard token");
        res.setHeader(
          "set-cookie",
          `sesame_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        );
        return send(res, 200, { role: t.role, name: t.name });
      }
      if (method === "DELETE") {
        res.setHeader("set-cookie", "sesame_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
        return send(res, 200, { ok: true });
      }
    }

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
      const keyId = Number(parts[2]);
      if (!Number.isInteger(keyId)) throw new ApiError(400, "key id must be a whole number");
      return send(res, 200, server.revokeKey(keyId));
    }

    // Gates
    if (method === "POST" && parts[1] === "gates" && parts[3] === "provision" && parts.length === 4) {
      require(caller, ["admin", "tech"]);
      return send(res, 200, server.provisionGate(parts[2] ?? ""));
    }
    if (method === "GET" && path === "/api/gates") {
      require(caller, READ_ROLES);
      return send(res, 200, { gates: store.gates().map(publicGate) });
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
      const gate = url.searchParams.get("gate");
      const kind = url.searchParams.get("kind");
      return send(res, 200, {
        events: store.recentEvents({
          limit,
          ...(before && /^\d+$/.test(before) ? { before: Number(before) } : {}),
          ...(gate ? { gate } : {}),
          ...(kind ? { kind } : {}),
        }),
      });
    }
    if (method === "GET" && path === "/api/alerts") {
      require(caller, READ_ROLES);
      return send(res, 200, { alerts: store.alerts(intParam(url, "limit", 100, 1, 1000)) });
    }
    if (method === "GET" && path === "/api/rejections") {
      require(caller, READ_ROLES);
      const source = url.searchParams.get("source");
      return send(res, 200, {
        rejections: store.rejections(intParam(url, "limit", 100, 1, 1000), source ?? undefined),
      });
    }
    if (method === "POST" && path === "/api/commands") {
      const who = require(caller, ["supervisor"]);
      const body = asObject(await readJson(req));
      return send(res, 202, {
        command: server.sendCommand(body as Parameters<SyncServer["sendCommand"]>[0], who.name),
      });
    }
    if (method === "GET" && parts[1] === "commands" && parts.length === 3) {
      require(caller, READ_ROLES);
      const command = store.command(parts[2] ?? "");
      if (!command) throw new ApiError(404, `no command ${parts[2]}`);
      return send(res, 200, command);
    }
    if (method === "GET" && path === "/api/stream") {
      require(caller, READ_ROLES);
      return openStream(req, res, url);
    }
    throw new ApiError(404, `no route ${method} ${path}`);
  }

  function openStream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
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
      { counts: store.counts(), gates: store.gates().map(publicGate), alerts: store.alerts(20) },
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
      if (g) write("presence", publicGate(g), false);
    };
    const onRejection = (r: RejectionRecord) => write("rejection", r, false);
    const onCommandAck = (commandId: string, gateId: string) =>
      write("command-ack", { commandId, gateId }, false);
    server.on("entries", onEntries);
    server.on("alert", onAlert);
    server.on("presence", onPresence);
    server.on("rejection", onRejection);
    server.on("command-ack", onCommandAck);
    const keepalive = setInterval(() => res.write(": keepalive\n\n"), 15_000);
    streams.add(res);
    const cleanup = () => {
      clearInterval(keepalive);
      server.off("entries", onEntries);
      server.off("alert", onAlert);
      server.off("presence", onPresence);
      server.off("rejection", onRejection);
      server.off("command-ack", onCommandAck);
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
        send(res, error.status, {
          error: error.message,
          ...(error.details === undefined ? {} : { details: error.details }),
        });
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
    http.listen(port, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const address = http.address();
  if (address === null || typeof address === "string") throw new Error("HTTP server has no TCP address");
  return {
    port: address.port,
    close: async () => {
      for (const s of streams) s.destroy();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
