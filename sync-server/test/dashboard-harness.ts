import { request as httpRequest } from "node:http";
import type { DashboardUser, ScryptCost } from "../src/http/auth.js";
import { hashPassword } from "../src/http/auth.js";
import type { SyncServerOptions } from "../src/server.js";
import { TOKENS, World } from "./harness.js";

/*
 * Dashboard test helpers: users with real scrypt hashes (a cheaper cost, same code path), a server
 * with them, and a cookie-carrying HTTP client like a browser's.
 */

/** Cheaper than production (ln 16) so that tests stay fast; the parameters live in the hash. */
export const TEST_COST: ScryptCost = { ln: 12, r: 8, p: 1 };

export const SUPERVISOR = { name: "dupont", password: "correct horse battery staple" };
export const TECH = { name: "martin", password: "tech password 42 !" };
export const ADMIN = { name: "leroy", password: "admin password 7 ?" };

export function testUsers(): DashboardUser[] {
  return [
    { name: SUPERVISOR.name, role: "supervisor", passwordHash: hashPassword(SUPERVISOR.password, TEST_COST) },
    { name: TECH.name, role: "tech", passwordHash: hashPassword(TECH.password, TEST_COST) },
    { name: ADMIN.name, role: "admin", passwordHash: hashPassword(ADMIN.password, TEST_COST) },
  ];
}

export async function dashboardWorld(
  http: NonNullable<SyncServerOptions["http"]> = {},
  options: { entrances?: number; lanesPerGate?: number } = {},
): Promise<World> {
  return World.create("aedes", {
    ...options,
    serverOptions: { http: { port: 0, tokens: TOKENS, users: testUsers(), ...http } },
  });
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

/** One HTTP call as a browser on the dashboard's page would make it (cookie, optional headers). */
export async function send(
  world: World,
  method: string,
  path: string,
  options: {
    cookie?: string;
    body?: unknown;
    headers?: Record<string, string>;
    contentType?: string;
  } = {},
): Promise<Reply> {
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const response = await fetch(`http://127.0.0.1:${world.apiPort}${path}`, {
    method,
    headers: {
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...(body === undefined ? {} : { "content-type": options.contentType ?? "application/json" }),
      ...options.headers,
    },
    ...(body === undefined ? {} : { body }),
    redirect: "manual",
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Signs in by name and password; returns the cookie to send back (`sesame_session=…`). */
export async function signIn(world: World, user: { name: string; password: string }): Promise<string> {
  const r = await send(world, "POST", "/api/session", { body: user });
  if (r.status !== 200) throw new Error(`sign-in of ${user.name}: HTTP ${r.status} ${r.text}`);
  const setCookie = r.headers.get("set-cookie") ?? "";
  const value = /sesame_session=([^;]+)/.exec(setCookie)?.[1];
  if (!value) throw new Error(`no session cookie in ${setCookie}`);
  return `sesame_session=${value}`;
}

/** A request with the path exactly as given (fetch would normalise `..` away). */
export function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
