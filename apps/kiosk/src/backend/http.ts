import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, join, normalize } from "node:path";
import type { GateStore } from "@sesame/cache";
import type { Language } from "@sesame/gate-core";
import type { GateBackend, LaneView } from "./gate-backend.js";

/*
 * The kiosk's HTTP face for the steward UI (docs/kiosk-api.md): state and Server-Sent Events,
 * scans from the kiosk window (keyboard-wedge and camera), steward sign-in with a PIN, the
 * printed-confirmation lookup and manual decisions. Listens on loopback only: the kiosk window is
 * the only client.
 */

export interface Steward {
  readonly id: string;
  readonly name: string;
  readonly pin: string;
}

export interface KioskHttpOptions {
  readonly backend: GateBackend;
  readonly store: GateStore;
  readonly gate: {
    readonly id: string;
    readonly entrance: { readonly id: number; readonly code: string; readonly name: string };
  };
  readonly stewards: readonly Steward[];
  readonly now: () => number;
  /** The built steward UI (index.html and assets); API only when absent. */
  readonly staticDir?: string;
  /** Extra fields for the diagnostics panel (sync, scanners). */
  readonly diagnostics?: () => Record<string, unknown>;
}

const MAX_BODY = 64 * 1024;
const MAX_PIN_FAILURES = 5;
const PIN_LOCKOUT_MS = 60_000;
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class KioskHttp {
  private readonly sessions = new Map<string, { steward: Steward }>();
  private readonly clients = new Set<ServerResponse>();
  private language: Language = "fr";
  private pinFailures = 0;
  private lockedUntil = 0;
  private server: Server | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: KioskHttpOptions) {}

  /** Called by the composition root whenever a lane changes. */
  laneChanged(_view?: LaneView): void {
    this.broadcast();
  }

  state(steward?: Steward): Record<string, unknown> {
    const { store } = this.options;
    const now = this.options.now();
    const venue = store.venue;
    return {
      gate: this.options.gate,
      language: this.language,
      steward: steward ? { id: steward.id, name: steward.name } : undefined,
      lanes: this.options.backend.laneViews(),
      sessions: store.openSessions(now).map((s) => ({ id: s.id, code: s.code, name: s.name })),
      diagnostics: {
        feedSequence: store.feedSequence,
        bundleGeneratedAt: venue.bundleGeneratedAt,
        trustListVersion: venue.trustListVersion,
        outboxDepth: store.outboxDepth(),
        clockSuspect: this.options.backend.clockSuspect,
        ...this.options.diagnostics?.(),
      },
      at: now,
    };
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.fail(res, error));
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(port, host, () => resolve());
    });
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.write(": heartbeat\n\n");
    }, 15_000);
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.end();
    this.clients.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private broadcast(): void {
    for (const client of this.clients) {
      const steward = (client as ServerResponse & { steward?: Steward }).steward;
      client.write(`event: state\ndata: ${JSON.stringify(this.state(steward))}\n\n`);
    }
  }

  private stewardOf(req: IncomingMessage): Steward | undefined {
    const token = /(?:^|;\s*)sesame_steward=([0-9a-f]{48})/.exec(req.headers.cookie ?? "")?.[1];
    return token ? this.sessions.get(token)?.steward : undefined;
  }

  private requireSteward(req: IncomingMessage): Steward {
    const steward = this.stewardOf(req);
    if (!steward) throw new HttpError(401, "a steward must sign in with a PIN first");
    return steward;
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
      chunks.push(chunk as Buffer);
    }
    if (size === 0) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      throw new HttpError(400, "the request body is not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new HttpError(400, "the request body must be a JSON object");
    }
    return parsed as Record<string, unknown>;
  }

  private send(
    res: ServerResponse,
    status: number,
    payload: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    });
    res.end(JSON.stringify(payload));
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error instanceof HttpError) this.send(res, error.status, { error: error.message });
    else this.send(res, 422, { error: error instanceof Error ? error.message : String(error) });
  }

  private laneParam(value: unknown): number {
    const lane = typeof value === "string" ? Number(value) : value;
    if (
      typeof lane !== "number" ||
      !Number.isInteger(lane) ||
      !this.options.backend.laneViews().some((l) => l.lane === lane)
    ) {
      throw new HttpError(400, `unknown lane ${JSON.stringify(value)}`);
    }
    return lane;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://kiosk");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const { backend, store } = this.options;
    if (!path.startsWith("/api/")) return this.serveStatic(path, res);

    if (method === "GET" && path === "/api/state")
      return this.send(res, 200, this.state(this.stewardOf(req)));
    if (method === "GET" && path === "/api/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      const client = Object.assign(res, { steward: this.stewardOf(req) });
      this.clients.add(client);
      res.write(`event: state\ndata: ${JSON.stringify(this.state(client.steward))}\n\n`);
      req.on("close", () => this.clients.delete(client));
      return;
    }
    if (method === "POST" && path === "/api/session") {
      const { pin } = await this.body(req);
      const now = this.options.now();
      if (now < this.lockedUntil) throw new HttpError(429, "too many wrong PINs: wait a minute");
      const steward = this.options.stewards.find((s) => typeof pin === "string" && s.pin === pin);
      if (!steward) {
        if (++this.pinFailures >= MAX_PIN_FAILURES) {
          this.lockedUntil = now + PIN_LOCKOUT_MS;
          this.pinFailures = 0;
        }
        throw new HttpError(401, "wrong PIN");
      }
      this.pinFailures = 0;
      const token = randomBytes(24).toString("hex");
      this.sessions.set(token, { steward });
      this.send(
        res,
        200,
        { steward: { id: steward.id, name: steward.name } },
        {
          "set-cookie": `sesame_steward=${token}; HttpOnly; SameSite=Strict; Path=/`,
        },
      );
      this.broadcast();
      return;
    }
    if (method === "DELETE" && path === "/api/session") {
      const token = /(?:^|;\s*)sesame_steward=([0-9a-f]{48})/.exec(req.headers.cookie ?? "")?.[1];
      if (token) this.sessions.delete(token);
      this.send(res, 200, {}, { "set-cookie": "sesame_steward=; Max-Age=0; Path=/" });
      return;
    }
    if (method === "POST" && path === "/api/language") {
      const { language } = await this.body(req);
      if (language !== "fr" && language !== "en") throw new HttpError(400, "language must be fr or en");
      this.language = language;
      this.send(res, 200, { language });
      this.broadcast();
      return;
    }
    if (method === "POST" && path === "/api/scan") {
      const { lane, text } = await this.body(req);
      if (typeof text !== "string") throw new HttpError(400, "text must be a string");
      if (text.length > 4096) throw new HttpError(413, "a scan is at most 4,096 characters");
      const outcome = await backend.scan(this.laneParam(lane), text);
      this.send(res, 200, outcome);
      return;
    }
    if (method === "GET" && path === "/api/lookup") {
      this.requireSteward(req);
      const query = url.searchParams.get("q") ?? "";
      if (query.trim().length < 2) throw new HttpError(400, "type at least 2 characters");
      this.send(res, 200, store.lookup(query, { at: this.options.now() }));
      return;
    }
    const laneAction = /^\/api\/lanes\/(\d+)\/(confirm|decline|passage|manual-admission|mode)$/.exec(path);
    if (method === "POST" && laneAction) {
      const steward = this.requireSteward(req);
      const lane = this.laneParam(laneAction[1]);
      const action = laneAction[2];
      const body = await this.body(req);
      if (action === "confirm") {
        if (body.idChecked !== true)
          throw new HttpError(400, "confirm that the ID was checked (idChecked: true)");
        this.send(res, 200, await backend.confirmAssisted(lane, steward.id));
      } else if (action === "decline") {
        backend.declineAssisted(lane, steward.id);
        this.send(res, 200, {});
      } else if (action === "passage") {
        backend.confirmManualPassage(lane);
        this.send(res, 200, {});
      } else if (action === "mode") {
        const mode = body.mode;
        if (mode !== "normal" && mode !== "locked" && mode !== "free-passage") {
          throw new HttpError(400, "mode must be normal, locked or free-passage");
        }
        backend.setMode(lane, mode);
        this.send(res, 200, { mode });
      } else {
        if (body.idChecked !== true)
          throw new HttpError(400, "confirm that the ID was checked (idChecked: true)");
        const tickets = body.tickets;
        if (!Array.isArray(tickets) || tickets.length === 0 || tickets.length > 20) {
          throw new HttpError(400, "tickets must list 1 to 20 {ticketId, session}");
        }
        const results = [];
        for (const t of tickets as Array<Record<string, unknown>>) {
          if (!Number.isInteger(t.ticketId) || !Number.isInteger(t.session)) {
            throw new HttpError(400, "each ticket needs an integer ticketId and session");
          }
          try {
            results.push(
              await backend.admitManually(lane, Number(t.ticketId), Number(t.session), steward.id),
            );
          } catch (error) {
            results.push({
              ticketId: t.ticketId,
              error: error instanceof Error ? error.message : String(error),
            });
          }
        }
        this.send(res, 200, { results });
      }
      return;
    }
    throw new HttpError(404, `no API ${method} ${path}`);
  }

  private serveStatic(path: string, res: ServerResponse): void {
    const dir = this.options.staticDir;
    if (!dir || !existsSync(dir)) {
      this.send(res, 404, { error: "the steward UI is not built (pnpm --filter @sesame/kiosk build)" });
      return;
    }
    const relative = normalize(decodeURIComponent(path)).replace(/^(\.\.[/\\])+/, "");
    let file = join(dir, relative);
    if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory())
      file = join(dir, "index.html");
    res.writeHead(200, { "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  }
}
