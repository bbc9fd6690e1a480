import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { type GateKeyRequest, parseGateKeyRequest } from "@sesame/sync";
import { createNodeVerifier } from "@sesame/ticket";
import type { ApiToken } from "./http/api.js";
import {
  type DashboardUser,
  hashPassword,
  isDashboardRole,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  validateUsers,
  validUserName,
} from "./http/auth.js";
import {
  installOperationsCertificate,
  operationsCertificate,
  operationsCertificateSteps,
  operationsPublicKey,
} from "./keys/operations.js";
import { writeMosquittoConfig } from "./mosquitto.js";
import { DEFAULT_OPERATIONS_DAYS, MAX_OPERATIONS_DAYS } from "./root/root-signing.js";
import { setUpServerStore } from "./root/set-up.js";
import { randomSecret } from "./secrets.js";
import { openServerStore, provisionGateInStore, SyncServer } from "./server.js";
import type { ServerStore } from "./store.js";

/*
 * The `sesame sync-server` and `sesame mosquitto-config` commands, written against a small io
 * object so that the CLI package can wire them in and tests can run them in-process.
 */

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** `sesame dashboard-user` reads the password from it (never from the command line). */
  readonly stdin?: NodeJS.ReadableStream;
  now(): number;
  /** Resolves when the person asks to stop (Ctrl-C). */
  readonly interrupted: Promise<void>;
}

export const SYNC_SERVER_USAGE =
  "sesame sync-server [--venue DIR] [--data DIR] [--broker mqtt://HOST:PORT [--broker-log FILE]] [--host ADDR] [--http-port N] [--mqtt-port N] [--broker-mode child|in-process] [--users FILE] [--dashboard DIR|off] [--issuer URL --issuer-token FILE]";
export const DASHBOARD_USER_USAGE =
  "sesame dashboard-user --name NAME (--role admin|supervisor|tech | --remove) [--venue DIR] [--data DIR] [--users FILE]   (password on standard input)";
export const MOSQUITTO_CONFIG_USAGE =
  "sesame mosquitto-config --venue DIR --out DIR [--data DIR] [--host ADDR] [--port N] [--http-port N] [--user NAME] [--provision GATE-REQUEST.json]...";

export class UsageError extends Error {}

export function parse(argv: string[], options: ParseArgsOptionsConfig, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new UsageError(
      `${error instanceof Error ? error.message.replace(/\. To specify.*$/s, "") : String(error)}\n\nusage: ${usage}`,
    );
  }
}

function portOf(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^\d+$/.test(value) || Number(value) > 65535)
    throw new UsageError(`${flag} must be a port number (0–65535), got ${JSON.stringify(value)}`);
  return Number(value);
}

/** The dashboard and ticketing tokens of a data directory, created (mode 0600) on first use. */
export function loadOrCreateTokens(dataDir: string): { path: string; tokens: ApiToken[] } {
  const path = join(dataDir, "tokens.json");
  if (existsSync(path)) {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { tokens?: ApiToken[] };
    if (!Array.isArray(parsed.tokens)) throw new Error(`${path}: no "tokens" array`);
    return { path, tokens: parsed.tokens };
  }
  const tokens: ApiToken[] = [
    { token: randomSecret(32), role: "admin", name: "ticketing" },
    { token: randomSecret(32), role: "supervisor", name: "supervisor" },
    { token: randomSecret(32), role: "tech", name: "tech" },
  ];
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, `${JSON.stringify({ tokens }, null, 2)}\n`, { mode: 0o600 });
  return { path, tokens };
}

/** The dashboard users of a users file (`{"users": [...]}`), checked; none when the file is absent. */
export function loadUsers(path: string): DashboardUser[] {
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const list = (parsed as { users?: unknown } | null)?.users;
  if (!Array.isArray(list)) throw new Error(`${path}: no "users" array`);
  try {
    return validateUsers(list);
  } catch (error) {
    throw new Error(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function saveUsers(path: string, users: readonly DashboardUser[]): void {
  mkdirSync(dirname(path), { recursive: true });
  // Written aside then renamed: a crash mid-write never leaves a half file that locks everyone out.
  const temp = `${path}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ users }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

/** The issuer's venue token, from its file (the issuer writes it 0600: docs/issuer.md). */
function readIssuerToken(path: string): string {
  if (!existsSync(path))
    throw new UsageError(`--issuer-token ${path}: no such file (the issuer's venue-token)`);
  if ((statSync(path).mode & 0o077) !== 0)
    throw new UsageError(`--issuer-token ${path}: group or others can read it; make it 0600`);
  const token = readFileSync(path, "utf8").trim();
  if (token === "") throw new UsageError(`--issuer-token ${path} is empty`);
  return token;
}

async function readPassword(io: CommandIo): Promise<string> {
  const stdin = io.stdin;
  if (!stdin)
    throw new UsageError("the password is read from standard input, which this caller does not give");
  let text = "";
  for await (const chunk of stdin) {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
    if (text.includes("\n") || text.length > MAX_PASSWORD_LENGTH + 2) break;
  }
  return text.split(/\r?\n/)[0] ?? "";
}

export async function guarded(io: CommandIo, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`sesame: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`sesame: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** What whoever composes `sesame sync-server` tells it (the server knows no app). */
export interface SyncServerCommandOptions {
  /**
   * The built dashboard to serve when `--dashboard` is not given (the `sesame` command passes
   * @sesame/supervisor's); without it, only `--dashboard DIR` serves one.
   */
  readonly defaultDashboardDir?: string;
}

/** True when a directory holds a built dashboard (its index.html). */
function dashboardBuilt(dir: string): boolean {
  return existsSync(join(dir, "index.html"));
}

export function runSyncServerCommand(
  argv: string[],
  io: CommandIo,
  options: SyncServerCommandOptions = {},
): Promise<number> {
  return guarded(io, async () => {
    const v = parse(
      argv,
      {
        venue: { type: "string" },
        data: { type: "string" },
        broker: { type: "string" },
        "broker-log": { type: "string" },
        host: { type: "string" },
        "http-port": { type: "string" },
        "mqtt-port": { type: "string" },
        "broker-mode": { type: "string" },
        users: { type: "string" },
        dashboard: { type: "string" },
        issuer: { type: "string" },
        "issuer-token": { type: "string" },
      },
      SYNC_SERVER_USAGE,
    );
    const venueDir = resolve(typeof v.venue === "string" ? v.venue : "venue");
    if (!existsSync(join(venueDir, "venue.json")))
      throw new UsageError(
        `${venueDir} is not a venue directory (no venue.json); make one with \`sesame venue demo --out DIR\``,
      );
    const dataDir = resolve(typeof v.data === "string" ? v.data : join(venueDir, "sync-data"));
    const host = typeof v.host === "string" ? v.host : "127.0.0.1";
    const httpPort = portOf(v["http-port"], "--http-port") ?? 8080;
    const mqttPort = portOf(v["mqtt-port"], "--mqtt-port") ?? 1883;
    const brokerUrl = typeof v.broker === "string" ? v.broker : undefined;
    if (brokerUrl !== undefined && !/^mqtts?:\/\/[^/]+$/.test(brokerUrl))
      throw new UsageError(`--broker must look like mqtt://host:port, got ${JSON.stringify(brokerUrl)}`);
    const brokerLog = typeof v["broker-log"] === "string" ? resolve(v["broker-log"]) : undefined;
    if (brokerLog !== undefined && brokerUrl === undefined)
      throw new UsageError("--broker-log is the external broker's log file: give --broker too");
    const mode = v["broker-mode"];
    if (mode !== undefined && mode !== "child" && mode !== "in-process")
      throw new UsageError("--broker-mode is child or in-process");
    const issuerUrl = typeof v.issuer === "string" ? v.issuer : undefined;
    if (issuerUrl !== undefined && !/^https?:\/\/[^/]+\/?$/.test(issuerUrl))
      throw new UsageError(`--issuer must look like http://host:port, got ${JSON.stringify(issuerUrl)}`);
    if ((issuerUrl === undefined) !== (typeof v["issuer-token"] !== "string"))
      throw new UsageError(
        "--issuer and --issuer-token go together: the issuer's URL and the file of its venue token",
      );
    const issuerToken =
      typeof v["issuer-token"] === "string" ? readIssuerToken(resolve(v["issuer-token"])) : undefined;
    const { path: tokensPath, tokens } = loadOrCreateTokens(dataDir);
    const usersPath = resolve(typeof v.users === "string" ? v.users : join(dataDir, "users.json"));
    if (typeof v.users === "string" && !existsSync(usersPath))
      throw new UsageError(`--users ${usersPath}: no such file (make one with \`sesame dashboard-user\`)`);
    const users = loadUsers(usersPath);
    let dashboard: string | undefined;
    if (v.dashboard === "off") dashboard = undefined;
    else if (typeof v.dashboard === "string") {
      dashboard = resolve(v.dashboard);
      if (!dashboardBuilt(dashboard)) throw new UsageError(`--dashboard ${dashboard}: no index.html there`);
    } else if (options.defaultDashboardDir !== undefined && dashboardBuilt(options.defaultDashboardDir))
      dashboard = options.defaultDashboardDir;
    const server = await SyncServer.start({
      venueDir,
      dataDir,
      broker: brokerUrl
        ? { kind: "external", url: brokerUrl, ...(brokerLog ? { log: brokerLog } : {}) }
        : { kind: "embedded", mode: mode === "in-process" ? "in-process" : "child", host, port: mqttPort },
      http: { host, port: httpPort, tokens, users, ...(dashboard ? { dashboardDir: dashboard } : {}) },
      ...(issuerUrl && issuerToken ? { issuer: { url: issuerUrl, token: issuerToken } } : {}),
      now: () => io.now(),
      log: (line) => io.stderr.write(`${new Date(io.now()).toISOString()} ${line}\n`),
    });
    io.stdout.write(
      [
        `sync-server for venue ${server.venue.id} (${server.venue.name})`,
        `  MQTT  ${server.brokerUrl}${brokerUrl ? " (external broker)" : " (embedded aedes, persistence in data/broker)"}`,
        `  HTTP  http://${host}:${server.httpPort}/api   tokens in ${tokensPath}`,
        dashboard
          ? `  dashboard http://${host}:${server.httpPort}/   ${users.length} user(s) in ${usersPath}${
              users.length === 0 ? " — add one: sesame dashboard-user --name NAME --role supervisor" : ""
            }`
          : `  dashboard not served (${
              v.dashboard === "off"
                ? "--dashboard off"
                : options.defaultDashboardDir === undefined
                  ? "no --dashboard DIR given"
                  : "not built: pnpm build:ui"
            })`,
        `  data  ${dataDir}`,
        issuerUrl
          ? `  issuer ${issuerUrl} (ticket changes followed from there)`
          : "  issuer: none (--issuer): the feed takes no ticket changes",
        "Ctrl-C to stop.",
        "",
      ].join("\n"),
    );
    await io.interrupted;
    io.stdout.write("stopping…\n");
    await server.stop();
    return 0;
  });
}

/** A gate's provisioning-request.json (written by the gate at its first start), checked for this venue. */
function readKeyRequest(file: string, venueId: string): { gateId: string; key: GateKeyRequest } {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`--provision ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const o = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (o.venueId !== venueId)
    throw new UsageError(
      `--provision ${file}: the request is for venue ${String(o.venueId)}, not ${venueId}`,
    );
  if (typeof o.gateId !== "string") throw new UsageError(`--provision ${file}: no gateId`);
  try {
    return { gateId: o.gateId, key: parseGateKeyRequest(o, "request") };
  } catch (error) {
    throw new UsageError(`--provision ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function runMosquittoConfigCommand(argv: string[], io: CommandIo): Promise<number> {
  return guarded(io, async () => {
    const v = parse(
      argv,
      {
        venue: { type: "string" },
        out: { type: "string" },
        data: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "http-port": { type: "string" },
        user: { type: "string" },
        provision: { type: "string", multiple: true },
      },
      MOSQUITTO_CONFIG_USAGE,
    );
    if (typeof v.venue !== "string")
      throw new UsageError(`missing --venue\n\nusage: ${MOSQUITTO_CONFIG_USAGE}`);
    if (typeof v.out !== "string") throw new UsageError(`missing --out\n\nusage: ${MOSQUITTO_CONFIG_USAGE}`);
    const venueDir = resolve(v.venue);
    if (!existsSync(join(venueDir, "venue.json")))
      throw new UsageError(`${venueDir} is not a venue directory (no venue.json)`);
    const dataDir = resolve(typeof v.data === "string" ? v.data : join(venueDir, "sync-data"));
    const outDir = resolve(v.out);
    const port = portOf(v.port, "--port") ?? 1883;
    // The sync-server's HTTP port (its default too): a gate without a venue directory downloads
    // its snapshot there, so its provisioning file must say where.
    const httpPort = portOf(v["http-port"], "--http-port") ?? 8080;
    const host = typeof v.host === "string" ? v.host : "127.0.0.1";
    const store = openServerStore(venueDir, dataDir, io.now());
    try {
      const provisioned: string[] = [];
      const requests = Array.isArray(v.provision) ? v.provision.map(String) : [];
      if (requests.length > 0) mkdirSync(join(outDir, "gates"), { recursive: true });
      for (const file of requests) {
        // Each gate made its own key: its request (public key and proof) names the gate.
        const { gateId, key } = readKeyRequest(file, store.venue().id);
        const p = provisionGateInStore(store, gateId, key, io.now(), {
          mqttUrl: `mqtt://${host}:${port}`,
          httpUrl: `http://${host}:${httpPort}`,
        });
        writeFileSync(join(outDir, "gates", `${gateId}.json`), `${JSON.stringify(p, null, 2)}\n`, {
          mode: 0o600,
        });
        provisioned.push(gateId);
      }
      const files = writeMosquittoConfig(store, {
        outDir,
        host,
        port,
        ...(typeof v.user === "string" ? { user: v.user } : {}),
      });
      io.stdout.write(
        [
          `Mosquitto configuration for venue ${store.venue().id}:`,
          `  ${files.config}`,
          `  ${files.passwords} (sync-server + ${files.gates.length} gates)`,
          `  ${files.acl}`,
          ...(provisioned.length
            ? [`  provisioned ${provisioned.join(", ")}: credentials in ${join(outDir, "gates")}/ (secret)`]
            : []),
          ...(files.runAs ? [`  run as root: ${files.runAs.why}`] : []),
          `Run: mosquitto -c ${files.config}`,
          `Then: sesame sync-server --venue ${venueDir} --data ${dataDir}${host === "127.0.0.1" ? "" : ` --host ${host}`}${httpPort === 8080 ? "" : ` --http-port ${httpPort}`} --broker mqtt://${host}:${port} --broker-log ${files.log}`,
          "",
        ].join("\n"),
      );
      return 0;
    } finally {
      store.close();
    }
  });
}

export const OPERATIONS_CERTIFICATE_USAGE =
  "sesame operations-certificate --venue DIR [--data DIR] [--install FILE | --root FILE [--days N]]";

/**
 * The venue server's side of its operations certificate. Without option: shows the operations
 * public key (the server made it) and the steps. --install FILE: takes a certificate the root
 * signed offline (`sesame root operations-certificate`). --root FILE: both steps at once, where the
 * root key file is at hand at set-up (the demo). The server itself never reads the root key.
 */
export function runOperationsCertificateCommand(argv: string[], io: CommandIo): Promise<number> {
  return guarded(io, async () => {
    const v = parse(
      argv,
      {
        venue: { type: "string" },
        data: { type: "string" },
        install: { type: "string" },
        root: { type: "string" },
        days: { type: "string" },
      },
      OPERATIONS_CERTIFICATE_USAGE,
    );
    if (typeof v.venue !== "string")
      throw new UsageError(`missing --venue\n\nusage: ${OPERATIONS_CERTIFICATE_USAGE}`);
    if (v.install !== undefined && v.root !== undefined)
      throw new UsageError(
        `--install and --root exclude each other\n\nusage: ${OPERATIONS_CERTIFICATE_USAGE}`,
      );
    if (v.days !== undefined && v.root === undefined)
      throw new UsageError(`--days goes with --root\n\nusage: ${OPERATIONS_CERTIFICATE_USAGE}`);
    const venueDir = resolve(v.venue);
    const dataDir = resolve(typeof v.data === "string" ? v.data : join(venueDir, "sync-data"));
    const days = v.days === undefined ? DEFAULT_OPERATIONS_DAYS : Number(v.days);
    if (!Number.isInteger(days) || days < 1 || days > MAX_OPERATIONS_DAYS)
      throw new UsageError(
        `--days: a whole number of days from 1 to ${MAX_OPERATIONS_DAYS}\n\nusage: ${OPERATIONS_CERTIFICATE_USAGE}`,
      );
    const done = (store: ServerStore) => {
      const c = operationsCertificate(store);
      io.stdout.write(
        c
          ? `operations key ${c.publicKey} of venue ${c.venue} certified until ${new Date(c.notAfter).toISOString()} (restart the sync-server; gates provisioned from now on carry this certificate)\n`
          : `operations key ${operationsPublicKey(store)} of venue ${store.venue().id} has no certificate yet: ${operationsCertificateSteps(store, venueDir, dataDir)}\n`,
      );
      return 0;
    };
    if (typeof v.root === "string") {
      const store = setUpServerStore(venueDir, dataDir, {
        now: io.now(),
        rootKeyFile: resolve(v.root),
        days,
        renew: true,
      });
      try {
        return done(store);
      } finally {
        store.close();
      }
    }
    const store = openServerStore(venueDir, dataDir, io.now());
    try {
      if (typeof v.install === "string") {
        const file = resolve(v.install);
        if (!existsSync(file)) throw new UsageError(`--install ${file}: no such file`);
        let certificate: unknown;
        try {
          certificate = JSON.parse(readFileSync(file, "utf8"));
        } catch {
          throw new UsageError(`--install ${file}: not JSON`);
        }
        installOperationsCertificate(store, certificate, { now: io.now(), verifier: createNodeVerifier() });
      }
      return done(store);
    } finally {
      store.close();
    }
  });
}

/** Adds, changes or removes a dashboard user in a users file (the server reads it at start). */
export function runDashboardUserCommand(argv: string[], io: CommandIo): Promise<number> {
  return guarded(io, async () => {
    const v = parse(
      argv,
      {
        venue: { type: "string" },
        data: { type: "string" },
        users: { type: "string" },
        name: { type: "string" },
        role: { type: "string" },
        remove: { type: "boolean" },
      },
      DASHBOARD_USER_USAGE,
    );
    if (typeof v.name !== "string" || !validUserName(v.name))
      throw new UsageError(
        `--name: 1 to 64 letters, digits, spaces or ._@'-\n\nusage: ${DASHBOARD_USER_USAGE}`,
      );
    const name = v.name;
    const venueDir = resolve(typeof v.venue === "string" ? v.venue : "venue");
    const dataDir = resolve(typeof v.data === "string" ? v.data : join(venueDir, "sync-data"));
    const path = resolve(typeof v.users === "string" ? v.users : join(dataDir, "users.json"));
    const users = loadUsers(path);
    const others = users.filter((u) => u.name.toLowerCase() !== name.toLowerCase());
    if (v.remove === true) {
      if (others.length === users.length) throw new UsageError(`no user ${name} in ${path}`);
      saveUsers(path, others);
      io.stdout.write(`removed ${name} from ${path} (restart the sync-server)\n`);
      return 0;
    }
    if (!isDashboardRole(v.role))
      throw new UsageError(`--role is admin, supervisor or tech\n\nusage: ${DASHBOARD_USER_USAGE}`);
    const password = await readPassword(io);
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
      throw new UsageError(
        `the password (first line of standard input) must have ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
      );
    const user: DashboardUser = { name, role: v.role, passwordHash: hashPassword(password) };
    saveUsers(path, [...others, user]);
    io.stdout.write(
      `${others.length === users.length ? "added" : "updated"} ${name} (${v.role}) in ${path} (restart the sync-server)\n`,
    );
    return 0;
  });
}
