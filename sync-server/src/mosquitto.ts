import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gateUsername, mosquittoAcl, type Principal, SERVER_USERNAME } from "@sesame/sync";
import type { ServerStore } from "./store.js";

/*
 * `sesame mosquitto-config`: the production broker with the same identities and topic rights as the
 * embedded one. Passwords are the `$7$` hashes the store already holds (Mosquitto 2.0 reads them);
 * the ACL comes from the same function as the embedded broker's hooks. Mosquitto's log goes to a
 * file as well, from which the sync-server reads its refusals (broker/mosquitto-log.ts).
 */

export interface MosquittoConfigOptions {
  readonly outDir: string;
  readonly host?: string;
  readonly port?: number;
  /**
   * `user` line: Mosquitto started as root drops to this user (which must be able to read the files).
   * Default, when written by root: the `mosquitto` account, which is given the files (see brokerAccount).
   */
  readonly user?: string;
  /** Persistence directory (default: <outDir>/data). */
  readonly persistenceDir?: string;
  readonly logTypes?: readonly string[];
}

export interface MosquittoFiles {
  readonly config: string;
  readonly passwords: string;
  readonly acl: string;
  /** Mosquitto's log file: the sync-server reads the broker's refusals from it (`--broker-log`). */
  readonly log: string;
  readonly gates: readonly string[];
  /** The account Mosquitto runs as when root starts it, and why (undefined: not written by root). */
  readonly runAs?: { readonly user: string; readonly why: string };
}

/** A local account as /etc/passwd lists it. */
export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The account `name` in the text of /etc/passwd; undefined when it has none. */
export function accountIn(passwd: string, name: string): Account | undefined {
  for (const line of passwd.split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name && /^\d+$/.test(uid ?? "") && /^\d+$/.test(gid ?? ""))
      return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** The first folder from `dir` up to / that `account` cannot enter, if any (its mode bits). */
export function closedFolder(dir: string, account: Account): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const s = statSync(d);
    const bit = s.uid === account.uid ? 0o100 : s.gid === account.gid ? 0o010 : 0o001;
    if ((s.mode & bit) === 0) return d;
    if (dirname(d) === d) return undefined;
  }
}

/**
 * Who Mosquitto runs as when root starts it. Mosquitto 2.0 started as root drops to the `mosquitto`
 * account before it opens the password, ACL and log files, so files root wrote with mode 0600 are
 * closed to it and it refuses to start. Written by root, the files go to that account (still 0600),
 * unless it has no account or cannot reach the folders: then Mosquitto keeps root (`user root`).
 */
function brokerAccount(dirs: readonly string[]): { account?: Account; user: string; why: string } {
  const passwd = "/etc/passwd";
  const account = existsSync(passwd) ? accountIn(readFileSync(passwd, "utf8"), "mosquitto") : undefined;
  if (!account)
    return { user: "root", why: "no mosquitto account on this machine: Mosquitto keeps root (`user root`)" };
  for (const dir of dirs) {
    const closed = closedFolder(dir, account);
    if (closed)
      return {
        user: "root",
        why: `the mosquitto account cannot enter ${closed}: Mosquitto keeps root (\`user root\`; --out elsewhere, or --user NAME, to change it)`,
      };
  }
  return {
    account,
    user: account.name,
    why: "its files belong to the mosquitto account, which Mosquitto drops to",
  };
}

export function writeMosquittoConfig(store: ServerStore, options: MosquittoConfigOptions): MosquittoFiles {
  const venue = store.venue();
  const outDir = resolve(options.outDir);
  const dataDir = resolve(options.persistenceDir ?? join(outDir, "data"));
  mkdirSync(outDir, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  const serverHash = store.meta("mqtt_server_hash");
  if (!serverHash) throw new Error("the store has no sync-server MQTT account");
  const gates = store.gates().filter((g) => g.mqttHash !== null);
  const passwordLines = [
    `${SERVER_USERNAME}:${serverHash}`,
    ...gates.map((g) => `${gateUsername(g.gateId)}:${g.mqttHash}`),
  ];
  const principals: Array<{ username: string; principal: Principal }> = [
    { username: SERVER_USERNAME, principal: { kind: "server" } },
    ...gates.map((g) => ({
      username: gateUsername(g.gateId),
      principal: { kind: "gate" as const, gateId: g.gateId, entranceId: g.entrance },
    })),
  ];
  const paths = {
    config: join(outDir, "mosquitto.conf"),
    passwords: join(outDir, "passwd"),
    acl: join(outDir, "acl"),
  };
  writeFileSync(paths.passwords, `${passwordLines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(paths.passwords, 0o600);
  writeFileSync(paths.acl, mosquittoAcl(venue.id, principals), { mode: 0o600 });
  // 2.0.11 logs a denied publish at debug level only: without it, refusals go unseen. Debug also logs
  // a line per message delivered (a few hundred a second on match day): the price of seeing them.
  const logTypes = options.logTypes ?? ["error", "warning", "notice", "information", "debug"];
  const logPath = join(dataDir, "mosquitto.log");
  const runAs =
    options.user === undefined && process.getuid?.() === 0 ? brokerAccount([outDir, dataDir]) : undefined;
  const user = options.user ?? runAs?.user;
  const config = [
    `# Sésame venue ${venue.id}: generated by \`sesame mosquitto-config\`. Regenerate after provisioning`,
    "# gates, then reload Mosquitto (SIGHUP) so that it rereads the password and ACL files.",
    ...(user ? [`user ${user}`] : []),
    "per_listener_settings false",
    "allow_anonymous false",
    `password_file ${paths.passwords}`,
    `acl_file ${paths.acl}`,
    "persistence true",
    `persistence_location ${dataDir}/`,
    "# Mosquitto writes its database only at this interval and on a clean stop; the sync-server's own",
    "# acknowledgement (not the broker's PUBACK) is what lets a gate delete an event.",
    "autosave_interval 30",
    "# The default (1000 per client) is far too small for a gate or the server that was away for a while.",
    "max_queued_messages 200000",
    "max_inflight_messages 100",
    "persistent_client_expiration 14d",
    "# Acks and single admissions are small messages: send them at once (fan-out latency).",
    "set_tcp_nodelay true",
    ...logTypes.map((t) => `log_type ${t}`),
    "log_dest stderr",
    `log_dest file ${logPath}`,
    // Listener options must follow their listener line: before any, Mosquitto opens a default
    // listener on port 1883 for them.
    `listener ${options.port ?? 1883} ${options.host ?? "127.0.0.1"}`,
    "protocol mqtt",
    "# A gate's client id is its username: no gate can take over another's session.",
    "use_username_as_clientid true",
    "",
  ].join("\n");
  writeFileSync(paths.config, config);
  if (runAs?.account) {
    const { uid, gid } = runAs.account;
    for (const path of [outDir, dataDir, paths.passwords, paths.acl, paths.config, logPath])
      if (existsSync(path)) chownSync(path, uid, gid);
  }
  return {
    ...paths,
    log: logPath,
    gates: gates.map((g) => g.gateId),
    ...(runAs ? { runAs: { user: runAs.user, why: runAs.why } } : {}),
  };
}
