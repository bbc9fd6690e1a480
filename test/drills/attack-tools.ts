import { request } from "node:http";
import type { SyncServer } from "@sesame/sync-server";
import { type DrillVenue, eventually } from "./harness.js";

/*
 * What the attack drills (attacks-*.test.ts) throw at a venue's HTTP endpoints and text fields,
 * and the small HTTP client they throw it with. Every call is bounded in time and reports what
 * came back (status and body) or how the connection ended: a reset or a hang is a finding, not a
 * test crash.
 */

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** One request over node:http (any Host header, any body, chunked when no length is given). */
export function call(
  base: string,
  method: string,
  path: string,
  options: {
    readonly headers?: Record<string, string>;
    readonly body?: string | Uint8Array;
    /** Sends `chunked` bytes of filler without a Content-Length, 64 KiB at a time. */
    readonly chunked?: number;
    readonly timeoutMs?: number;
  } = {},
): Promise<Reply> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const body = typeof options.body === "string" ? Buffer.from(options.body) : options.body;
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers: {
          ...(body !== undefined ? { "content-length": String(body.length) } : {}),
          ...(options.chunked !== undefined ? { "transfer-encoding": "chunked" } : {}),
          ...options.headers,
        },
        timeout: options.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within the timeout`)));
    req.on("error", (error) => reject(new Error(`${method} ${path}: ${error.message}`)));
    if (options.chunked !== undefined) {
      const filler = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < (options.chunked ?? 0)) {
          sent += filler.length;
          if (!req.write(filler)) {
            req.once("drain", pump);
            return;
          }
        }
        req.end();
      };
      // The server may answer (413) and close before the upload ends: that is the point.
      req.on("close", () => {
        sent = Number.POSITIVE_INFINITY;
      });
      pump();
      return;
    }
    req.end(body);
  });
}

/** The `error` of a JSON error body (every refusal of both APIs says why in one). */
export function errorOf(reply: Reply): string {
  const error = (reply.json as { error?: unknown } | undefined)?.error;
  if (typeof error !== "string")
    throw new Error(`HTTP ${reply.status} without a JSON error: ${reply.text.slice(0, 200)}`);
  return error;
}

/** Several MB: bigger than any body either API accepts but the ticket import (32 MiB). */
export const OVERSIZED = Buffer.alloc(5 * 1024 * 1024, 0x7b);

/** Not JSON, in the ways clients get it wrong. */
export const MALFORMED_JSON = ['{"pin": "1234"', "{'pin': '1234'}", "\u0000\u0001\u0002", "NaN"];

/**
 * Text that means something to some interpreter on the way: SQL (quotes, comments, LIKE
 * wildcards), the full-text search syntax, HTML, NUL bytes, bidirectional overrides and other
 * Unicode oddities, and length.
 */
export const INJECTIONS = {
  sqlOr: "' OR 1=1 --",
  sqlDrop: "x'); DROP TABLE tickets; --",
  likePercent: "%",
  likeUnderscore: "__",
  likeMixed: "%a%",
  ftsSyntax: 'a* OR "b" NEAR(c d)',
  html: "<script>alert(1)</script>",
  htmlAttribute: '"><img src=x onerror=alert(1)>',
  nul: "ab\u0000cd",
  rtl: "\u202Eevil\u202C",
  zeroWidth: "\u200B\uFEFF\u2066x",
  loneSurrogate: "ab\uD800cd",
  long: "x".repeat(10_000),
} as const;

/**
 * What the drills against an in-process sync-server use on it: the server, its HTTP API, and a
 * wait for a line of its log. `venue` is read at each call (the drill sets it up in beforeAll).
 */
export function serverTools(venue: () => DrillVenue): {
  server: () => SyncServer;
  http: (method: string, path: string, options?: Parameters<typeof call>[3]) => Promise<Reply>;
  logged: (pattern: RegExp, what: string) => Promise<void>;
} {
  const server = () => {
    const s = venue().server;
    if (!s) throw new Error("the sync-server is not in this process");
    return s;
  };
  return {
    server,
    http: (method, path, options = {}) =>
      call(`http://127.0.0.1:${server().httpPort}`, method, path, options),
    logged: (pattern, what) => eventually(() => venue().logLines.some((l) => pattern.test(l)), what, 10_000),
  };
}
