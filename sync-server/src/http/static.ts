import { createReadStream, existsSync, realpathSync } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, posix, sep } from "node:path";
import { pipeline } from "node:stream/promises";

/*
 * Serves the built supervisor dashboard (apps/supervisor/dist) on the API's origin, so that the
 * session cookie is SameSite=Strict and first-party and the browser never talks to the broker.
 * Paths are confined to the directory (no `..`, no symlink escape); unknown extension-less paths get
 * index.html (the single-page app), unknown files a 404 (never HTML served as a script).
 */

const MIME: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/**
 * The dashboard's policy: its own scripts, styles and API only; no inline script, no framing, no
 * plugin, no base-tag tricks. React sets styles through the CSSOM, which style-src does not block.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers every response carries, API included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export class StaticSite {
  /** Real path of the directory (symlinks resolved), the boundary every file must stay under. */
  readonly root: string;

  constructor(dir: string) {
    if (!existsSync(join(dir, "index.html")))
      throw new Error(`${dir} holds no index.html: build the dashboard first (pnpm build:ui)`);
    this.root = realpathSync(dir);
  }

  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      res.writeHead(405, {
        allow: "GET, HEAD",
        "content-type": "text/plain; charset=utf-8",
        ...SECURITY_HEADERS,
      });
      res.end("method not allowed\n");
      return;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return this.plain(res, 400, "bad path encoding");
    }
    // Refuse rather than normalise: a path with `..`, a backslash or NUL is never a link we made.
    if (decoded.includes("\0") || decoded.includes("\\") || decoded.split("/").includes(".."))
      return this.plain(res, 400, "bad path");
    const relative = posix.normalize(decoded).replace(/^\/+/, "");
    const file = await this.resolve(relative === "" ? "index.html" : relative);
    if (file) return this.send(req, res, file, relative.startsWith("assets/"));
    const ext = extname(relative);
    if (ext === "" || ext === ".html") {
      const index = await this.resolve("index.html");
      if (index) return this.send(req, res, index, false);
    }
    return this.plain(res, 404, "not found");
  }

  /** The real path of a regular file inside the root, or undefined. */
  private async resolve(relative: string): Promise<string | undefined> {
    const candidate = join(this.root, relative);
    if (candidate !== this.root && !candidate.startsWith(this.root + sep)) return undefined;
    try {
      const real = await realpath(candidate);
      if (!real.startsWith(this.root + sep)) return undefined;
      const info = await stat(real);
      return info.isFile() ? real : undefined;
    } catch {
      return undefined;
    }
  }

  private async send(req: IncomingMessage, res: ServerResponse, file: string, immutable: boolean) {
    const info = await stat(file);
    const type = MIME[extname(file).toLowerCase()] ?? "application/octet-stream";
    res.writeHead(200, {
      "content-type": type,
      "content-length": String(info.size),
      // Vite names assets by content hash: they never change; index.html must always be revalidated.
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      "content-security-policy": DASHBOARD_CSP,
      ...SECURITY_HEADERS,
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    await pipeline(createReadStream(file), res);
  }

  private plain(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": DASHBOARD_CSP,
      ...SECURITY_HEADERS,
    });
    res.end(`${text}\n`);
  }
}
