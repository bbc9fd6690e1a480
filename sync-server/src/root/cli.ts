import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createNodeSigner, createNodeVerifier, verifyTrustList } from "@sesame/ticket";
import { readRootKeyFile, readVenue, VENUE_FILES, writeRootKeyFile } from "@sesame/venue";
import { type CommandIo, guarded, parse, UsageError } from "../cli.js";
import { operationsCertificate } from "../keys/operations.js";
import {
  certifyOperationsKey,
  DEFAULT_OPERATIONS_DAYS,
  MAX_OPERATIONS_DAYS,
  type NewIssuerKey,
  signNextTrustList,
} from "./root-signing.js";
import { setUpServerStore } from "./set-up.js";

/*
 * `sesame root …`: what the venue root key signs, run offline on the machine that holds the root
 * key file (docs/design.md §9), and `sesame venue migrate-root`, which takes the root seed out of
 * a venue directory where the server could read it.
 */

export const ROOT_TRUST_LIST_USAGE =
  "sesame root trust-list --root FILE --venue DIR [--from FILE] [--add KEYID:PUBLICKEY[:DAYS]]... [--revoke KEYID]... [--out FILE]";
export const ROOT_OPERATIONS_CERTIFICATE_USAGE =
  "sesame root operations-certificate --root FILE --venue DIR --key PUBLICKEY [--days N] --out FILE";
export const MIGRATE_ROOT_USAGE = "sesame venue migrate-root --venue DIR [--data DIR] --root-out FILE";

function venueOf(dir: string, usage: string) {
  if (!existsSync(join(dir, VENUE_FILES.venue)))
    throw new UsageError(`${dir} is not a venue directory (no venue.json)\n\nusage: ${usage}`);
  return readVenue(dir);
}

function writeJson(path: string, value: unknown, mode = 0o644): void {
  // Whole or not at all: a half-written trust list must never be what the server picks up.
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode });
  renameSync(temporary, path);
}

function issuerKeyOf(text: string, now: number): NewIssuerKey {
  const match = /^(\d{1,5}):([0-9a-fA-F]{64})(?::(\d{1,4}))?$/.exec(text);
  if (!match)
    throw new UsageError(`--add ${JSON.stringify(text)}: KEYID:PUBLICKEY[:DAYS] (public key 64 hex digits)`);
  const days = Number(match[3] ?? 90);
  if (days < 1 || days > 3650) throw new UsageError(`--add ${text}: DAYS from 1 to 3650`);
  const nowS = Math.floor(now / 1000);
  return {
    keyId: Number(match[1]),
    publicKey: (match[2] ?? "").toLowerCase(),
    validFrom: nowS - 60,
    validUntil: nowS + days * 86_400,
  };
}

/** Signs the next trust list: issuer keys added (the issuer made them) or revoked. */
export function runRootTrustListCommand(argv: string[], io: CommandIo): Promise<number> {
  return guarded(io, async () => {
    const v = parse(
      argv,
      {
        root: { type: "string" },
        venue: { type: "string" },
        from: { type: "string" },
        add: { type: "string", multiple: true },
        revoke: { type: "string", multiple: true },
        out: { type: "string" },
      },
      ROOT_TRUST_LIST_USAGE,
    );
    if (typeof v.root !== "string" || typeof v.venue !== "string")
      throw new UsageError(`--root and --venue are needed\n\nusage: ${ROOT_TRUST_LIST_USAGE}`);
    const venueDir = resolve(v.venue);
    const venue = venueOf(venueDir, ROOT_TRUST_LIST_USAGE);
    const add = ((v.add ?? []) as string[]).map((a) => issuerKeyOf(a, io.now()));
    const revoke = ((v.revoke ?? []) as string[]).map((r) => {
      if (!/^\d{1,5}$/.test(r)) throw new UsageError(`--revoke ${JSON.stringify(r)}: an issuer key id`);
      return Number(r);
    });
    if (add.length === 0 && revoke.length === 0)
      throw new UsageError(`nothing to change: give --add or --revoke\n\nusage: ${ROOT_TRUST_LIST_USAGE}`);
    const from = resolve(typeof v.from === "string" ? v.from : join(venueDir, VENUE_FILES.trustList));
    if (!existsSync(from))
      throw new UsageError(`no trust list ${from} (give --from: GET /api/keys returns the one held)`);
    const out = resolve(typeof v.out === "string" ? v.out : join(venueDir, VENUE_FILES.trustList));
    let current: unknown;
    try {
      current = JSON.parse(readFileSync(from, "utf8"));
    } catch {
      throw new UsageError(`${from} is not JSON`);
    }
    // GET /api/keys answers {trustList, keys}: either form is taken.
    if (typeof current === "object" && current !== null && "trustList" in current)
      current = (current as { trustList: unknown }).trustList;
    const rootSeed = readRootKeyFile(resolve(v.root), venue.rootPublicKey);
    const next = signNextTrustList(
      rootSeed,
      venue,
      current,
      { add, revoke },
      {
        now: io.now(),
        signer: createNodeSigner(),
      },
    );
    writeJson(out, next);
    io.stdout.write(
      [
        `trust list version ${next.version} of venue ${venue.id} signed by the root: ${out}`,
        ...add.map((k) => `  added issuer key ${k.keyId} (${k.publicKey})`),
        ...revoke.map((id) => `  revoked issuer key ${id}`),
        `publish it: POST it to /api/keys/trust-list as an admin, or put it in the venue directory as ${VENUE_FILES.trustList} and restart the sync-server`,
        "",
      ].join("\n"),
    );
    return 0;
  });
}

/** Certifies a venue server's operations public key (shown by `sesame operations-certificate`). */
export function runRootOperationsCertificateCommand(argv: string[], io: CommandIo): Promise<number> {
  return guarded(io, async () => {
    const v = parse(
      argv,
      {
        root: { type: "string" },
        venue: { type: "string" },
        key: { type: "string" },
        days: { type: "string" },
        out: { type: "string" },
      },
      ROOT_OPERATIONS_CERTIFICATE_USAGE,
    );
    if (typeof v.root !== "string" || typeof v.venue !== "string" || typeof v.out !== "string")
      throw new UsageError(
        `--root, --venue and --out are needed\n\nusage: ${ROOT_OPERATIONS_CERTIFICATE_USAGE}`,
      );
    if (typeof v.key !== "string" || !/^[0-9a-fA-F]{64}$/.test(v.key))
      throw new UsageError(
        `--key: the server's operations public key, 64 hex digits (\`sesame operations-certificate --venue DIR\` shows it)\n\nusage: ${ROOT_OPERATIONS_CERTIFICATE_USAGE}`,
      );
    const days = v.days === undefined ? DEFAULT_OPERATIONS_DAYS : Number(v.days);
    if (!Number.isInteger(days) || days < 1 || days > MAX_OPERATIONS_DAYS)
      throw new UsageError(`--days: a whole number of days from 1 to ${MAX_OPERATIONS_DAYS}`);
    const venueDir = resolve(v.venue);
    const venue = venueOf(venueDir, ROOT_OPERATIONS_CERTIFICATE_USAGE);
    const rootSeed = readRootKeyFile(resolve(v.root), venue.rootPublicKey);
    const certificate = certifyOperationsKey(rootSeed, venue, v.key, {
      now: io.now(),
      days,
      signer: createNodeSigner(),
    });
    const out = resolve(v.out);
    writeJson(out, certificate);
    io.stdout.write(
      `operations key ${certificate.publicKey} of venue ${venue.id} certified until ${new Date(certificate.notAfter).toISOString()}: ${out}\n` +
        `install it on the venue server: sesame operations-certificate --venue DIR --data DIR --install ${out}\n`,
    );
    return 0;
  });
}

/**
 * Moves a venue directory's root seed (secrets/keys.json, where the server could read it) to a
 * root key file of its own, makes sure the server's operations certificate and trust list are the
 * root's and in place, and only then removes the seed from secrets/keys.json.
 */
export function runMigrateRootCommand(argv: string[], io: CommandIo): Promise<number> {
  return guarded(io, async () => {
    const v = parse(
      argv,
      { venue: { type: "string" }, data: { type: "string" }, "root-out": { type: "string" } },
      MIGRATE_ROOT_USAGE,
    );
    if (typeof v.venue !== "string" || typeof v["root-out"] !== "string")
      throw new UsageError(`--venue and --root-out are needed\n\nusage: ${MIGRATE_ROOT_USAGE}`);
    const venueDir = resolve(v.venue);
    const venue = venueOf(venueDir, MIGRATE_ROOT_USAGE);
    const dataDir = resolve(typeof v.data === "string" ? v.data : join(venueDir, "sync-data"));
    const rootOut = resolve(v["root-out"]);
    const secretsPath = join(venueDir, VENUE_FILES.secrets);
    const secrets = existsSync(secretsPath)
      ? (JSON.parse(readFileSync(secretsPath, "utf8")) as Record<string, unknown>)
      : {};
    const lines: string[] = [];
    if (typeof secrets.rootSeed === "string") {
      const seed = secrets.rootSeed;
      if (!/^[0-9a-f]{64}$/i.test(seed)) throw new Error(`${secretsPath}: rootSeed is not 64 hex digits`);
      const rootSeed = Buffer.from(seed, "hex");
      if (existsSync(rootOut)) {
        // Run again after an interruption: the file written then must be this very root.
        readRootKeyFile(rootOut, venue.rootPublicKey);
      } else {
        writeRootKeyFile(rootOut, venue.id, rootSeed);
      }
      // Read back before anything is removed: the seed must exist somewhere whole.
      readRootKeyFile(rootOut, venue.rootPublicKey);
      lines.push(`moved the venue root seed from ${secretsPath} to ${rootOut} (mode 0600)`);
    } else {
      readRootKeyFile(rootOut, venue.rootPublicKey);
      lines.push(`${secretsPath} holds no root seed (already migrated); root key file ${rootOut} checked`);
    }

    // The server's own side: its operations certificate and its trust list, both the root's.
    const store = setUpServerStore(venueDir, dataDir, { now: io.now(), rootKeyFile: rootOut });
    try {
      const certificate = operationsCertificate(store);
      lines.push(
        `operations key ${certificate?.publicKey} certified until ${certificate ? new Date(certificate.notAfter).toISOString() : "?"} (in ${dataDir})`,
      );
      const trust = verifyTrustList(
        store.trustList(),
        Buffer.from(venue.rootPublicKey, "hex"),
        createNodeVerifier(),
        {
          venue: venue.id,
        },
      );
      if (!trust.ok)
        throw new Error(`the server's trust list is not the root's (${trust.reason}): ${trust.detail}`);
      lines.push(`trust list version ${trust.list.version} held by the server: signed by the root`);
    } finally {
      store.close();
    }

    if (typeof secrets.rootSeed === "string") {
      const { rootSeed: _moved, ...rest } = secrets;
      // Replaced by rename: the old file's bytes are not rewritten in place, nor left beside it.
      writeJson(secretsPath, rest, 0o600);
      lines.push(`removed the root seed from ${secretsPath}`);
    }
    lines.push(
      `take ${rootOut} offline now (e.g. onto an encrypted key kept by the venue's security officer) and delete it from this machine: no server needs it.`,
      `the root signs offline from now on: \`sesame root trust-list\` (issuer keys, revocations) and \`sesame root operations-certificate\` (renew before the date above).`,
      `backups or copies of ${dirname(secretsPath)} made before today still hold the root seed: destroy them.`,
      "",
    );
    io.stdout.write(lines.join("\n"));
    return 0;
  });
}
