import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { ControlPanelError, LaneError } from "@sesame/bridge";
import {
  CacheError,
  type GateStore,
  type LookupHit,
  type LookupResult,
  ManualAdmissionError,
} from "@sesame/cache";
import {
  type GateBackend,
  LaneActionError,
  type LaneView,
  OverrideError,
  type ScanOutcome,
  type VerifiedOverride,
} from "@sesame/gate";
import { checkManualAdmission, type Language, type ReasonCode, type StewardMessage } from "@sesame/gate-core";
import { OVERRIDE_CODE, SUPERVISOR_ID } from "@sesame/venue";

/*
 * The kiosk's HTTP face for the steward UI (docs/kiosk-api.md): the built UI itself, state and
 * Server-Sent Events, scans from the kiosk window (keyboard-wedge and camera), steward sign-in with
 * a PIN, the printed-confirmation lookup, manual decisions and supervisor notices. Listens on
 * loopback: the kiosk window is the only client, and requests that come from anywhere else (another
 * site in a browser on this machine, a DNS-rebinding page) are turned away by their Host and Origin.
 */

export interface Steward {
  readonly id: string;
  readonly name: string;
  readonly pin: string;
}

/** The sync layer as the diagnostics panel shows it (set by the composition root). */
export interface SyncDiagnostics {
  readonly connected: boolean;
  readonly brokerUrl: string;
  readonly lastServerContactAt?: number;
  readonly clockOffsetMs?: number;
  readonly outboxDepth: number;
  readonly feedSequence: number;
  readonly inFlightEvents: number;
}

export interface ScannerDiagnostics {
  readonly lane: number;
  readonly kind: "serial" | "wedge" | "camera" | "osdp";
  readonly path?: string;
  readonly status: "ok" | "offline" | "error";
  readonly detail?: string;
}

/** What the composition root adds to the diagnostics panel. */
export interface DiagnosticsExtra {
  readonly sync?: SyncDiagnostics;
  readonly scanners?: readonly ScannerDiagnostics[];
  readonly [field: string]: unknown;
}

export interface KioskDiagnostics extends DiagnosticsExtra {
  readonly feedSequence: number;
  /** ISO time the gate bundle was cut. */
  readonly bundleGeneratedAt: string;
  readonly trustListVersion: number;
  readonly outboxDepth: number;
  readonly clockSuspect: boolean;
}

/** A supervisor's message to the stewards of this gate. */
export interface KioskNotice {
  readonly id: number;
  readonly text: string;
  readonly by: string;
  readonly at: number;
  readonly dismissed?: { readonly by: string; readonly at: number };
}

/** The object of `GET /api/state` and of every `event: state` (the UI's whole model). */
export interface KioskState {
  readonly gate: KioskHttpOptions["gate"];
  readonly language: Language;
  readonly steward?: { readonly id: string; readonly name: string };
  readonly lanes: readonly LaneView[];
  readonly sessions: ReadonlyArray<{ readonly id: number; readonly code: string; readonly name: string }>;
  readonly venue: {
    readonly name: string;
    readonly timezone: string;
    readonly zones: ReadonlyArray<{ readonly id: number; readonly code: string; readonly name: string }>;
    readonly entrances: ReadonlyArray<{ readonly id: number; readonly code: string; readonly name: string }>;
  };
  readonly settings: { readonly wedgeLane: number };
  /** Sign-in is refused until then after too many wrong PINs. */
  readonly signIn: { readonly lockedUntil?: number };
  /** Newest first. */
  readonly notices: readonly KioskNotice[];
  readonly diagnostics: KioskDiagnostics;
  /** The gate's clock when the state was taken. */
  readonly at: number;
}

/** One ticket of a printed-confirmation admission: admitted, or why not. */
export type ManualAdmissionResult =
  | (ScanOutcome & { readonly ticketId: number; readonly session: number; readonly admitted: true })
  | {
      readonly ticketId: number;
      readonly session: number;
      readonly admitted: false;
      readonly reason?: ReasonCode;
      readonly messages?: Record<Language, StewardMessage>;
      /** A supervisor's override would admit it (docs/design.md §1, "Manual admission"). */
      readonly needsSupervisor?: boolean;
      readonly error: string;
    };

/**
 * Who may admit a found ticket by hand at this gate now: the steward alone, a supervisor (with
 * the ticket's state that needs one), or nobody (inside, passing at a lane).
 */
export interface ManualAdmissionCheck {
  readonly by: "steward" | "supervisor" | "nobody";
  readonly reason?: ReasonCode;
  readonly messages?: Record<Language, StewardMessage>;
}

/** `GET /api/lookup`: the cache's answer, each ticket with who may admit it by hand. */
export interface KioskLookupResult extends Omit<LookupResult, "hits"> {
  readonly hits: ReadonlyArray<LookupHit & { readonly manual: ManualAdmissionCheck }>;
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
  readonly diagnostics?: () => DiagnosticsExtra;
  /** The lane keyboard-wedge scans of the kiosk window go to (default: the first lane). */
  readonly wedgeLane?: number;
  /** A steward is signed out after this long without a steward request (default 30 min). */
  readonly stewardIdleMs?: number;
  /** Where an unexpected failure (a bug) and a refused manual admission are logged for the tech. */
  readonly log?: (line: string) => void;
}

const MAX_BODY = 64 * 1024;
const MAX_SCAN_LENGTH = 4096;
const MAX_QUERY_LENGTH = 100;
const MAX_PIN_FAILURES = 5;
const PIN_LOCKOUT_MS = 60_000;
const DEFAULT_STEWARD_IDLE_MS = 30 * 60_000;
const NOTICES_KEPT = 5;
const MAX_NOTICE_LENGTH = 500;
const MAX_TICKETS_PER_ADMISSION = 20;
const KNOWN_PATHS = new Set([
  "/api/state",
  "/api/events",
  "/api/session",
  "/api/language",
  "/api/scan",
  "/api/lookup",
  "/api/notices/dismiss",
]);
const SESSION_COOKIE = /(?:^|;\s*)sesame_steward=([0-9a-f]{48})/;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".ttf": "font/ttf",
  ".otf": "font/otf",
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
  ".wasm": "application/wasm",
};

/**
 * Only the kiosk's own bundle runs: no inline script, no eval, no other origin, no framing. The
 * camera stream is a MediaStream (`mediastream:`); Vite may inline small images and fonts as data URLs.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "media-src 'self' blob: mediastream:",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(self), microphone=(), geolocation=(), usb=(), payment=()",
};

const LOOPBACK_HOST = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/i;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface StewardSession {
  readonly steward: Steward;
  lastSeen: number;
}

export class KioskHttp {
  private readonly sessions = new Map<string, StewardSession>();
  /** Each Server-Sent Events client with its session token: the steward is looked up at each send. */
  private readonly clients = new Map<ServerResponse, string | undefined>();
  private readonly notices: KioskNotice[] = [];
  private nextNoticeId = 1;
  private language: Language = "fr";
  private pinFailures = 0;
  private lockedUntil = 0;
  private server: Server | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private listenHost = "127.0.0.1";
  private broadcastScheduled = false;

  constructor(private readonly options: KioskHttpOptions) {}

  /** Called by the composition root whenever a lane changes. */
  laneChanged(_view?: LaneView): void {
    this.broadcast();
  }

  /** Called by the composition root when what `diagnostics()` returns changed (sync connected, scanner lost). */
  diagnosticsChanged(): void {
    this.broadcast();
  }

  /**
   * A supervisor's message (the sync layer's "message" command): shown on the kiosk until a
   * steward dismisses it. The last few are kept, newest first.
   */
  notice(n: { text: string; by: string; at: number }): KioskNotice {
    const text = typeof n.text === "string" ? n.text.trim().slice(0, MAX_NOTICE_LENGTH) : "";
    if (text === "") throw new TypeError("a notice needs a non-empty text");
    const notice: KioskNotice = {
      id: this.nextNoticeId++,
      text,
      by: typeof n.by === "string" && n.by.trim() !== "" ? n.by.trim().slice(0, 100) : "supervisor",
      at: Number.isFinite(n.at) ? n.at : this.options.now(),
    };
    this.notices.unshift(notice);
    this.notices.splice(NOTICES_KEPT);
    this.broadcast();
    return notice;
  }

  private get wedgeLane(): number {
    const lanes = this.options.backend.laneViews().map((l) => l.lane);
    const wanted = this.options.wedgeLane;
    return wanted !== undefined && lanes.includes(wanted) ? wanted : (lanes[0] ?? 1);
  }

  state(steward?: Steward): KioskState {
    const { store } = this.options;
    const now = this.options.now();
    const venue = store.venue;
    const extra = this.options.diagnostics?.() ?? {};
    return {
      gate: this.options.gate,
      language: this.language,
      ...(steward ? { steward: { id: steward.id, name: steward.name } } : {}),
      lanes: this.options.backend.laneViews(),
      sessions: store.openSessions(now).map((s) => ({ id: s.id, code: s.code, name: s.name })),
      venue: {
        name: venue.venueName,
        timezone: venue.timezone,
        zones: venue.zones.map((z) => ({ id: z.id, code: z.code, name: z.name })),
        entrances: venue.entrances.map((e) => ({ id: e.id, code: e.code, name: e.name })),
      },
      settings: { wedgeLane: this.wedgeLane },
      signIn: now < this.lockedUntil ? { lockedUntil: this.lockedUntil } : {},
      notices: this.notices,
      diagnostics: {
        ...extra,
        feedSequence: store.feedSequence,
        bundleGeneratedAt: venue.bundleGeneratedAt,
        trustListVersion: venue.trustListVersion,
        outboxDepth: store.outboxDepth(),
        clockSuspect: this.options.backend.clockSuspect,
      },
      at: now,
    };
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    this.listenHost = host;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.fail(res, error));
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(port, host, () => resolve());
    });
    this.heartbeat = setInterval(() => {
      // Idle stewards are signed out here too, so the screen says so without waiting for a request.
      if (this.expireSessions()) this.broadcast();
      for (const c of this.clients.keys()) c.write(": heartbeat\n\n");
    }, 15_000);
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const c of this.clients.keys()) c.end();
    this.clients.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * Sends the state to every open page, at most once per event-loop turn. A scan changes the lane
   * several times (decided, recorded, unlocked) on the scan-to-unlock path: the state (SQLite reads,
   * JSON) is built after that path has handed the unlock to the controller, not in the middle of it.
   */
  private broadcast(): void {
    if (this.broadcastScheduled) return;
    this.broadcastScheduled = true;
    setImmediate(() => {
      this.broadcastScheduled = false;
      const texts = new Map<Steward | undefined, string>();
      for (const [client, token] of this.clients) {
        const steward = token ? this.sessions.get(token)?.steward : undefined;
        let text = texts.get(steward);
        if (text === undefined) {
          text = `event: state\ndata: ${JSON.stringify(this.state(steward))}\n\n`;
          texts.set(steward, text);
        }
        client.write(text);
      }
    });
  }

  private expireSessions(): boolean {
    const idle = this.options.stewardIdleMs ?? DEFAULT_STEWARD_IDLE_MS;
    const now = this.options.now();
    let expired = false;
    for (const [token, session] of this.sessions) {
      if (now - session.lastSeen > idle) {
        this.sessions.delete(token);
        expired = true;
      }
    }
    return expired;
  }

  private tokenOf(req: IncomingMessage): string | undefined {
    return SESSION_COOKIE.exec(req.headers.cookie ?? "")?.[1];
  }

  private stewardOf(req: IncomingMessage): Steward | undefined {
    this.expireSessions();
    const token = this.tokenOf(req);
    return token ? this.sessions.get(token)?.steward : undefined;
  }

  private requireSteward(req: IncomingMessage): Steward {
    this.expireSessions();
    const token = this.tokenOf(req);
    const session = token ? this.sessions.get(token) : undefined;
    if (!session) throw new HttpError(401, "a steward must sign in with a PIN first");
    session.lastSeen = this.options.now();
    return session.steward;
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
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    // A cross-site form can only send text/plain or form encodings without a CORS preflight.
    if (type !== "application/json")
      throw new HttpError(415, "send the request body as JSON (content-type: application/json)");
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
      ...SECURITY_HEADERS,
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
    if (error instanceof HttpError)
      this.send(res, error.status, { error: error.message, ...error.extra }, error.headers);
    else if (error instanceof LaneActionError || error instanceof CacheError)
      this.send(res, 422, { error: error.message });
    else if (error instanceof LaneError || error instanceof ControlPanelError)
      this.send(res, 503, { error: `the lane controller did not take it: ${error.message}` });
    else {
      // Not a refusal: a fault in the kiosk. The steward gets a plain 500; the tech gets the stack.
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.options.log?.(`kiosk API: unexpected error: ${detail.replace(/\n\s*/g, " | ")}`);
      this.send(res, 500, { error: "the kiosk failed to handle this request: see the gate log" });
    }
  }

  /** Requests must come from a page of this kiosk: loopback Host, and the same Origin when one is sent. */
  private checkCaller(req: IncomingMessage): void {
    const host = req.headers.host ?? "";
    const hostname = host.replace(/:\d+$/, "");
    if (!LOOPBACK_HOST.test(hostname) && hostname !== this.listenHost) {
      throw new HttpError(403, `requests for host ${JSON.stringify(host)} are not served here`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) {
      throw new HttpError(403, `requests from ${origin} are not allowed`);
    }
  }

  private laneParam(value: unknown): number {
    const lane = typeof value === "string" && /^\d{1,3}$/.test(value) ? Number(value) : value;
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
    this.checkCaller(req);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://kiosk");
    } catch {
      throw new HttpError(400, "malformed request URL");
    }
    const path = url.pathname;
    const method = req.method ?? "GET";
    const { backend } = this.options;
    if (!path.startsWith("/api/")) return this.serveStatic(method, path, res);

    if (method === "GET" && path === "/api/state")
      return this.send(res, 200, this.state(this.stewardOf(req)));
    if (method === "GET" && path === "/api/events") {
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      const token = this.tokenOf(req);
      this.clients.set(res, token);
      // The browser reconnects after 2 s if the stream breaks (backend restart).
      res.write(`retry: 2000\nevent: state\ndata: ${JSON.stringify(this.state(this.stewardOf(req)))}\n\n`);
      req.on("close", () => this.clients.delete(res));
      return;
    }
    if (method === "POST" && path === "/api/session") return this.signIn(req, res);
    if (method === "DELETE" && path === "/api/session") {
      const token = this.tokenOf(req);
      if (token) this.sessions.delete(token);
      this.send(
        res,
        200,
        {},
        { "set-cookie": "sesame_steward=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict" },
      );
      this.broadcast();
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
      if (text.length > MAX_SCAN_LENGTH) throw new HttpError(413, "a scan is at most 4,096 characters");
      const outcome = await backend.scan(this.laneParam(lane), text);
      this.send(res, 200, outcome);
      return;
    }
    if (method === "GET" && path === "/api/lookup") {
      this.requireSteward(req);
      const query = url.searchParams.get("q") ?? "";
      if (query.trim().length < 2) throw new HttpError(400, "type at least 2 characters");
      if (query.length > MAX_QUERY_LENGTH)
        throw new HttpError(400, `a search is at most ${MAX_QUERY_LENGTH} characters`);
      this.send(res, 200, this.lookup(query));
      return;
    }
    if (method === "POST" && path === "/api/notices/dismiss") {
      const steward = this.requireSteward(req);
      const { id } = await this.body(req);
      if (id !== undefined && !Number.isInteger(id)) throw new HttpError(400, "id must be a notice id");
      if (id !== undefined && !this.notices.some((n) => n.id === id))
        throw new HttpError(404, `no notice ${JSON.stringify(id)}`);
      const at = this.options.now();
      for (const [index, n] of this.notices.entries()) {
        if ((id === undefined || n.id === id) && !n.dismissed)
          this.notices[index] = { ...n, dismissed: { by: steward.id, at } };
      }
      this.send(res, 200, { notices: this.notices });
      this.broadcast();
      return;
    }
    const laneAction = /^\/api\/lanes\/([^/]+)\/(confirm|decline|passage|manual-admission|mode)$/.exec(path);
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
        await backend.setMode(lane, mode);
        this.send(res, 200, { mode });
      } else {
        const results = await this.admitManually(lane, steward, body);
        this.send(res, 200, { results });
      }
      return;
    }
    if (KNOWN_PATHS.has(path) || laneAction) throw new HttpError(405, `${method} is not allowed on ${path}`);
    throw new HttpError(404, `no API ${method} ${path}`);
  }

  private async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pin } = await this.body(req);
    if (typeof pin !== "string" || !/^\d{1,12}$/.test(pin))
      throw new HttpError(400, "pin must be a string of 1 to 12 digits");
    const now = this.options.now();
    if (now < this.lockedUntil) {
      const retryAfterMs = this.lockedUntil - now;
      throw new HttpError(
        429,
        "too many wrong PINs: wait a minute",
        { retryAfterMs },
        { "retry-after": String(Math.ceil(retryAfterMs / 1000)) },
      );
    }
    const steward = this.options.stewards.find((s) => s.pin === pin);
    if (!steward) {
      this.pinFailures++;
      const attemptsLeft = MAX_PIN_FAILURES - this.pinFailures;
      if (attemptsLeft <= 0) {
        this.lockedUntil = now + PIN_LOCKOUT_MS;
        this.pinFailures = 0;
        this.broadcast();
        throw new HttpError(401, "wrong PIN: sign-in is locked for a minute", {
          attemptsLeft: 0,
          retryAfterMs: PIN_LOCKOUT_MS,
        });
      }
      throw new HttpError(401, "wrong PIN", { attemptsLeft });
    }
    this.pinFailures = 0;
    const token = randomBytes(24).toString("hex");
    this.sessions.set(token, { steward, lastSeen: now });
    this.send(
      res,
      200,
      { steward: { id: steward.id, name: steward.name } },
      { "set-cookie": `sesame_steward=${token}; HttpOnly; SameSite=Strict; Path=/` },
    );
    this.broadcast();
  }

  /** The lookup's hits, each with who may admit it by hand here (the same rules the cache enforces). */
  private lookup(query: string): KioskLookupResult {
    const { store } = this.options;
    const at = this.options.now();
    const found = store.lookup(query, { at });
    const facts = store.facts();
    const context = { entrance: this.options.gate.entrance.id, nowMs: at };
    return {
      ...found,
      hits: found.hits.map((hit) => {
        const verdict = checkManualAdmission(hit.ticketId, hit.session, context, facts);
        const manual: ManualAdmissionCheck =
          verdict.kind === "steward"
            ? { by: "steward" }
            : verdict.kind === "supervisor"
              ? { by: "supervisor", reason: verdict.state, messages: verdict.messages }
              : { by: "nobody", reason: verdict.reason, messages: verdict.messages };
        return { ...hit, manual };
      }),
    };
  }

  /**
   * Manual admissions: the steward alone for this entrance's printed tickets, a supervisor's
   * override (checked once for the whole request) for anything else. Each ticket gets its own answer.
   */
  private async admitManually(
    lane: number,
    steward: Steward,
    body: Record<string, unknown>,
  ): Promise<ManualAdmissionResult[]> {
    if (body.idChecked !== true)
      throw new HttpError(400, "confirm that the ID was checked (idChecked: true)");
    const tickets = body.tickets;
    if (!Array.isArray(tickets) || tickets.length === 0 || tickets.length > MAX_TICKETS_PER_ADMISSION) {
      throw new HttpError(400, `tickets must list 1 to ${MAX_TICKETS_PER_ADMISSION} {ticketId, session}`);
    }
    const wanted: Array<{ ticketId: number; session: number }> = [];
    for (const t of tickets as unknown[]) {
      const entry = typeof t === "object" && t !== null ? (t as Record<string, unknown>) : {};
      const { ticketId, session } = entry;
      if (
        typeof ticketId !== "number" ||
        !Number.isInteger(ticketId) ||
        typeof session !== "number" ||
        !Number.isInteger(session)
      ) {
        throw new HttpError(400, "each ticket needs an integer ticketId and session");
      }
      if (wanted.some((w) => w.ticketId === ticketId && w.session === session))
        throw new HttpError(400, `ticket ${ticketId} is listed twice`);
      wanted.push({ ticketId, session });
    }
    const override =
      body.override === undefined
        ? undefined
        : await this.checkOverride(lane, steward, body.override, wanted[0] ?? { ticketId: 0, session: 0 });
    const results: ManualAdmissionResult[] = [];
    for (const { ticketId, session } of wanted) {
      try {
        const outcome = await this.options.backend.admitManually(
          lane,
          ticketId,
          session,
          steward.id,
          override,
        );
        if (outcome.unlockError !== undefined) {
          results.push({
            ticketId,
            session,
            admitted: false,
            error: `the lane could not open: ${outcome.unlockError}`,
          });
        } else {
          results.push({ ...outcome, ticketId, session, admitted: true });
        }
      } catch (error) {
        if (!(error instanceof ManualAdmissionError || error instanceof CacheError)) throw error;
        // A steward's admission the rules refuse (another entrance's ticket, a phone ticket without a
        // supervisor): on one line in the gate's log, for the supervisors' review.
        this.options.log?.(
          `manual admission refused at lane ${lane}: steward ${steward.id}, ticket ${ticketId} session ${session}: ${error instanceof ManualAdmissionError ? `${error.reason}${error.needsSupervisor ? " (needs a supervisor's override)" : ""}: ` : ""}${error.message.replace(/[\r\n]+/g, " ")}`,
        );
        results.push({
          ticketId,
          session,
          admitted: false,
          ...(error instanceof ManualAdmissionError
            ? { reason: error.reason, messages: error.messages, needsSupervisor: error.needsSupervisor }
            : {}),
          error: error.message,
        });
      }
    }
    return results;
  }

  /** A supervisor's override as typed at the kiosk, checked by the gate (code, lockout, alert). */
  private async checkOverride(
    lane: number,
    steward: Steward,
    value: unknown,
    subject: { ticketId: number; session: number },
  ): Promise<VerifiedOverride> {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new HttpError(400, "override must be {supervisor, code, note}");
    const { supervisor, code, note } = value as Record<string, unknown>;
    if (typeof supervisor !== "string" || supervisor.trim() === "")
      throw new HttpError(400, "enter the supervisor's id", { problem: "no-supervisor" });
    if (!SUPERVISOR_ID.test(supervisor.trim()))
      throw new HttpError(400, "a supervisor's id is 1 to 32 letters, digits, - or _", {
        problem: "unknown-supervisor",
      });
    if (typeof code !== "string" || !OVERRIDE_CODE.test(code))
      throw new HttpError(400, "a supervisor's code is 8 to 12 digits", { problem: "bad-code" });
    try {
      return await this.options.backend.verifyOverride(
        lane,
        steward.id,
        { supervisor: supervisor.trim(), code, note: typeof note === "string" ? note : "" },
        subject,
      );
    } catch (error) {
      if (!(error instanceof OverrideError)) throw error;
      const extra = {
        problem: error.problem,
        ...(error.attemptsLeft !== undefined ? { attemptsLeft: error.attemptsLeft } : {}),
      };
      if (error.problem === "empty-note") throw new HttpError(400, error.message, extra);
      if (error.lockedUntil !== undefined) {
        const retryAfterMs = Math.max(0, error.lockedUntil - this.options.now());
        throw new HttpError(
          429,
          error.message,
          { ...extra, retryAfterMs },
          { "retry-after": String(Math.ceil(retryAfterMs / 1000)) },
        );
      }
      throw new HttpError(403, error.message, extra);
    }
  }

  private async serveStatic(method: string, path: string, res: ServerResponse): Promise<void> {
    if (method !== "GET" && method !== "HEAD")
      throw new HttpError(405, `${method} is not allowed on ${path}`);
    const dir = this.options.staticDir;
    if (!dir || !existsSync(join(dir, "index.html"))) {
      throw new HttpError(404, "the steward UI is not built (pnpm --filter @sesame/kiosk build)");
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      throw new HttpError(400, "malformed URL path");
    }
    if (decoded.includes("\0")) throw new HttpError(400, "malformed URL path");
    const root = resolve(dir);
    const file = resolve(root, `.${decoded}`);
    // Never outside the UI directory, and no hidden files.
    const inside = file === root || file.startsWith(root + sep);
    const hidden = decoded.split("/").some((part) => part.startsWith("."));
    if (!inside || hidden) throw new HttpError(404, `no file ${path}`);
    let target = file;
    const found = await stat(file).catch(() => undefined);
    if (!found?.isFile()) {
      // A missing asset is a 404; any other path is a route of the single-page UI.
      if (extname(decoded) !== "") throw new HttpError(404, `no file ${path}`);
      target = join(root, "index.html");
    }
    const content = await readFile(target);
    const hashed = target.startsWith(join(root, "assets") + sep);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": CONTENT_TYPES[extname(target).toLowerCase()] ?? "application/octet-stream",
      "content-length": String(content.length),
      // Vite names assets by content hash: they never change; index.html must be revalidated.
      "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
    });
    res.end(method === "HEAD" ? undefined : content);
  }
}
