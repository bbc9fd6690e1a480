import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { csvObjects, printable } from "@sesame/venue";
import { type IssuerDesk, IssuerError } from "./desk.js";
import type { IssuerKeyStore } from "./key-store.js";
import { sameToken } from "./key-store.js";
import type { IssuerStore } from "./store.js";

/*
 * The issuer's HTTP API (docs/issuer.md). The ticketing platform authenticates with its bearer
 * token; venue servers read their change streams with the venue token (or the platform's). Every
 * refusal is a JSON { error } with 400, 401, 404, 409 or 413, never a crash; a refused token is
 * logged on one line.
 */

const MAX_BODY = 32 * 1024 * 1024;
const MAX_CHANGES_PAGE = 5000;
const VENUE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export interface IssuerHttpDeps {
  readonly desk: IssuerDesk;
  readonly store: IssuerStore;
  readonly keys: IssuerKeyStore;
  readonly platformToken: string;
  readonly venueToken: string;
  log(line: string): void;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req)).toString("utf8");
  let value: unknown;
  try {
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the body is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new HttpError(400, "the body must be a JSON object");
  return value as Record<string, unknown>;
}

const wholeNumber = (text: string | null, name: string, fallback: number, max: number): number => {
  if (text === null) return fallback;
  if (!/^\d{1,10}$/.test(text) || Number(text) > max)
    throw new HttpError(400, `${name} must be a whole number from 0 to ${max}`);
  return Number(text);
};

export function issuerHttpServer(deps: IssuerHttpDeps): Server {
  const bearer = (req: IncomingMessage) => /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1]?.trim();
  const refuse = (req: IncomingMessage, who: string) => {
    deps.log(
      `issuer: refused ${req.method} ${printable((req.url ?? "").slice(0, 200))} from ${req.socket.remoteAddress ?? "?"}: ` +
        `${bearer(req) === undefined ? "no bearer token" : `not the ${who} token`}`,
    );
    throw new HttpError(401, `this endpoint needs the ${who}'s bearer token`);
  };
  const platform = (req: IncomingMessage) => {
    const token = bearer(req);
    if (token === undefined || !sameToken(token, deps.platformToken)) refuse(req, "ticketing platform");
  };
  const reader = (req: IncomingMessage) => {
    const token = bearer(req);
    if (token === undefined || !(sameToken(token, deps.venueToken) || sameToken(token, deps.platformToken)))
      refuse(req, "venue");
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://issuer");
    const parts = url.pathname
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
    const method = req.method ?? "GET";
    if (method === "GET" && url.pathname === "/health") {
      return send(res, 200, {
        ok: true,
        engine: deps.store.db.engine,
        venues: (await deps.store.venues()).length,
      });
    }
    if (method === "GET" && url.pathname === "/keys") return send(res, 200, { keys: deps.keys.publicKeys() });
    if (parts[0] !== "venues") throw new HttpError(404, `no such endpoint: ${method} ${url.pathname}`);
    const venue = parts[1];
    if (venue === undefined) {
      platform(req);
      if (method === "GET") return send(res, 200, { venues: await deps.store.venues() });
      throw new HttpError(404, `no such endpoint: ${method} ${url.pathname}`);
    }
    if (!VENUE_ID.test(venue))
      throw new HttpError(400, "a venue id is 1 to 64 letters, digits, dashes or underscores");
    const [, , collection, ticketText, action, ...extra] = parts;
    if (extra.length > 0) throw new HttpError(404, `no such endpoint: ${method} ${url.pathname}`);
    if (collection === undefined && method === "PUT") {
      platform(req);
      return send(res, 200, await deps.desk.registerVenue(venue, await readJsonObject(req)));
    }
    if (collection === "changes" && ticketText === undefined && method === "GET") {
      reader(req);
      const after = wholeNumber(url.searchParams.get("after"), "after", 0, 0x7fffffff);
      const limit = wholeNumber(url.searchParams.get("limit"), "limit", 1000, MAX_CHANGES_PAGE);
      if (limit < 1) throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_CHANGES_PAGE}`);
      const page = await deps.store.changes(venue, after, limit);
      if (page === undefined) throw new HttpError(404, `venue ${venue} is not registered at the issuer`);
      return send(res, 200, { venue, after, lastSequence: page.lastSequence, changes: page.changes });
    }
    if (collection !== "tickets") throw new HttpError(404, `no such endpoint: ${method} ${url.pathname}`);
    platform(req);
    if (ticketText === undefined) {
      if (method !== "POST") throw new HttpError(404, `no such endpoint: ${method} ${url.pathname}`);
      const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
      const body = (await readBody(req)).toString("utf8");
      if (type === "text/csv") {
        const objects = csvObjects(body);
        if (typeof objects === "string") throw new HttpError(400, `CSV: ${objects}`);
        return send(res, 200, await deps.desk.importTickets(venue, objects, 2));
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch (error) {
        throw new HttpError(400, `the body is not JSON: ${(error as Error).message}`);
      }
      const list = Array.isArray(json) ? json : (json as { tickets?: unknown } | null)?.tickets;
      if (!Array.isArray(list))
        throw new HttpError(400, "the body must be a list of tickets or { tickets: [...] }");
      return send(res, 200, await deps.desk.importTickets(venue, list));
    }
    if (!/^\d{1,10}$/.test(ticketText) || Number(ticketText) > 0xffffffff)
      throw new HttpError(400, "a ticket id is a whole number from 1 to 4294967295");
    const ticketId = Number(ticketText);
    if (action === undefined && method === "GET") {
      const ticket = await deps.store.ticket(venue, ticketId);
      if (!ticket) throw new HttpError(404, `ticket ${ticketId} does not exist at ${venue}`);
      return send(res, 200, { ticket, generations: await deps.store.generations(venue, ticketId) });
    }
    if (method === "POST" && (action === "resale" || action === "transfer"))
      return send(res, 200, await deps.desk.reassign(venue, ticketId, action, await readJsonObject(req)));
    if (method === "POST" && action === "cancel")
      return send(res, 200, await deps.desk.cancel(venue, ticketId));
    throw new HttpError(404, `no such endpoint: ${method} ${url.pathname}`);
  };

  return createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof IssuerError || error instanceof HttpError)
        return send(res, error.status, { error: error.message });
      if (error instanceof URIError)
        return send(res, 400, { error: "the path is not valid percent-encoding" });
      deps.log(
        `issuer: internal error on ${req.method} ${printable((req.url ?? "").slice(0, 200))}: ${printable(String(error))}`,
      );
      send(res, 500, { error: "internal error of the issuer (logged)" });
    });
  });
}
