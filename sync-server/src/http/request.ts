import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "../errors.js";
import { SECURITY_HEADERS } from "./static.js";

/* Reading requests and writing JSON answers: bodies with a size limit, parameters checked. */

export const MAX_JSON_BODY = 1024 * 1024;
/** Sign-in, acknowledgements and commands are a few hundred bytes. */
export const MAX_SMALL_BODY = 16 * 1024;
export const MAX_IMPORT_BODY = 32 * 1024 * 1024;

export function send(
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

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
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

export async function readJson(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch (error) {
    throw new ApiError(400, `body is not JSON: ${(error as Error).message}`);
  }
}

export function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ApiError(400, "body must be a JSON object");
  return value as Record<string, unknown>;
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

export function contentType(req: IncomingMessage): string | undefined {
  return (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
}

export function requireJsonType(req: IncomingMessage): void {
  if (contentType(req) !== "application/json") throw new ApiError(415, "send application/json");
}

export function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const v = url.searchParams.get(name);
  if (v === null) return fallback;
  if (!/^\d+$/.test(v)) throw new ApiError(400, `${name} must be a whole number`);
  return Math.min(max, Math.max(min, Number(v)));
}
