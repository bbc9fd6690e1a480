import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createNodeVerifier,
  type Ed25519Signer,
  type Ed25519Verifier,
  type TrustList,
  verifyTrustList,
} from "@sesame/ticket";
import { BundleFormatError, decodeGateBundle, encodeGateBundle } from "./bundle.js";
import type { DemoTicketRow, DemoVenue, WalletEntry } from "./demo.js";
import type { GateBundle, SignedTicketChange, Venue } from "./model.js";
import { writeRootKeyFile } from "./root-key.js";
import { checkVenueTimes, VenueTimeError } from "./session-times.js";

/*
 * The venue directory (docs/venue-files.md): what `sesame venue demo` writes and gates, the
 * simulator and people read. The gate bundle is signed by the venue root key over its exact bytes.
 */

export const VENUE_FILES = {
  venue: "venue.json",
  trustList: "trust-list.json",
  bundle: "gate-bundle.json",
  bundleSignature: "gate-bundle.sig",
  changes: "changes.jsonl",
  tickets: "tickets.csv",
  sessions: "sessions.csv",
  gates: "gates.csv",
  wallets: "wallets.jsonl",
  secrets: "secrets/keys.json",
  /** The demo's venue root key (its own file, 0600; no server opens it): demo only, see root-key.ts. */
  rootKey: "secrets/root-key.json",
} as const;

const BUNDLE_DOMAIN = Buffer.from("SESAME-BUNDLE-1");

export function signBundleBytes(bytes: Uint8Array, rootSeed: Uint8Array, signer: Ed25519Signer): string {
  return Buffer.from(signer.sign(Buffer.concat([BUNDLE_DOMAIN, bytes]), rootSeed)).toString("hex");
}

/** Checks the venue root key's signature over a bundle's exact bytes (`gate-bundle.sig` as hex). */
export function verifyBundleBytes(
  bytes: Uint8Array,
  signatureHex: string,
  rootPublicKey: Uint8Array,
  verifier: Ed25519Verifier,
): boolean {
  if (!/^[0-9a-f]{128}$/i.test(signatureHex)) return false;
  return verifier.verify(
    Buffer.concat([BUNDLE_DOMAIN, bytes]),
    Buffer.from(signatureHex, "hex"),
    rootPublicKey,
  );
}

function csvField(value: string | number | boolean): string {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number | boolean>>,
): string {
  return `${[header, ...rows].map((r) => r.map(csvField).join(",")).join("\n")}\n`;
}

export function writeVenueDirectory(dir: string, demo: DemoVenue, signer: Ed25519Signer): void {
  mkdirSync(join(dir, "secrets"), { recursive: true });
  const write = (name: string, content: string | Uint8Array) => writeFileSync(join(dir, name), content);
  write(VENUE_FILES.venue, `${JSON.stringify(demo.venue, null, 2)}\n`);
  write(VENUE_FILES.trustList, `${JSON.stringify(demo.trustList, null, 2)}\n`);
  const bundleBytes = encodeGateBundle(demo.bundle);
  write(VENUE_FILES.bundle, bundleBytes);
  write(
    VENUE_FILES.bundleSignature,
    `${signBundleBytes(bundleBytes, Buffer.from(demo.secrets.rootSeed, "hex"), signer)}\n`,
  );
  write(VENUE_FILES.changes, demo.changes.map((c) => `${JSON.stringify(c)}\n`).join(""));
  write(VENUE_FILES.wallets, demo.wallets.map((w) => `${JSON.stringify(w)}\n`).join(""));
  // The root seed goes to a file of its own, which the venue server never opens (docs/design.md §9).
  const { rootSeed, ...secrets } = demo.secrets;
  writeFileSync(join(dir, VENUE_FILES.secrets), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  chmodSync(join(dir, VENUE_FILES.secrets), 0o600);
  writeRootKeyFile(join(dir, VENUE_FILES.rootKey), demo.venue.id, Buffer.from(rootSeed, "hex"));
  write(
    VENUE_FILES.tickets,
    toCsv(
      [
        "id",
        "generation",
        "order_reference",
        "holder",
        "session",
        "entrance",
        "zone",
        "seat",
        "category",
        "kind",
        "state",
        "late",
        "face_value",
        "currency",
      ],
      demo.rows.map((r: DemoTicketRow) => [
        r.id,
        r.generation,
        r.orderReference,
        r.holder,
        r.session,
        demo.venue.entrances.find((e) => e.id === r.entrance)?.code ?? r.entrance,
        demo.venue.zones.find((z) => z.id === r.zone)?.code ?? r.zone,
        r.seat,
        r.categories.join("+").toLowerCase() || "standard",
        r.kind,
        r.state,
        r.late,
        r.faceValue.cents,
        r.faceValue.currency,
      ]),
    ),
  );
  write(
    VENUE_FILES.sessions,
    toCsv(
      ["id", "code", "name", "doors_open", "start", "end", "reentry"],
      demo.venue.sessions.map((s) => [s.id, s.code, s.name, s.doorsOpen, s.start, s.end, s.reentry]),
    ),
  );
  write(
    VENUE_FILES.gates,
    toCsv(
      ["gate", "entrance", "lanes"],
      demo.venue.gates.map((g) => [
        g.id,
        demo.venue.entrances.find((e) => e.id === g.entrance)?.code ?? "",
        g.lanes,
      ]),
    ),
  );
}

export class VenueFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

function readText(dir: string, name: string): string {
  try {
    return readFileSync(join(dir, name), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new VenueFileError(name, code === "ENOENT" ? `not found in ${dir}` : `cannot be read (${code})`);
  }
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new VenueFileError(name, `is not valid JSON (${(error as Error).message})`);
  }
}

export function readVenue(dir: string): Venue {
  const v = parseJson(VENUE_FILES.venue, readText(dir, VENUE_FILES.venue));
  if (typeof v !== "object" || v === null || !Array.isArray((v as Venue).sessions)) {
    throw new VenueFileError(VENUE_FILES.venue, "is not a venue description");
  }
  try {
    checkVenueTimes(v as Venue);
  } catch (error) {
    if (error instanceof VenueTimeError) throw new VenueFileError(VENUE_FILES.venue, error.message);
    throw error;
  }
  return v as Venue;
}

export interface VerifiedBundle {
  readonly bundle: GateBundle;
  readonly trustList: TrustList;
}

/**
 * Reads and checks a gate bundle: the signature over the exact bytes, the format, and the trust
 * list inside it. `rootPublicKey` is the key pinned in the gate's configuration; `bundleKey` the key
 * that signed the bytes: the root (a venue directory, made at set-up) or the venue server's
 * operations key (a snapshot), which the caller has checked against its root-signed certificate.
 */
export function readGateBundle(
  dir: string,
  rootPublicKey: Uint8Array,
  verifier: Ed25519Verifier = createNodeVerifier(),
  bundleKey: Uint8Array = rootPublicKey,
): VerifiedBundle {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(dir, VENUE_FILES.bundle));
  } catch {
    throw new VenueFileError(VENUE_FILES.bundle, `not found in ${dir}`);
  }
  const signatureHex = readText(dir, VENUE_FILES.bundleSignature).trim();
  if (!/^[0-9a-f]{128}$/i.test(signatureHex)) {
    throw new VenueFileError(VENUE_FILES.bundleSignature, "is not a 64-byte hex signature");
  }
  if (!verifier.verify(Buffer.concat([BUNDLE_DOMAIN, bytes]), Buffer.from(signatureHex, "hex"), bundleKey)) {
    throw new VenueFileError(
      VENUE_FILES.bundle,
      bundleKey === rootPublicKey
        ? "signature does not match: altered, or not from this venue's root key"
        : "signature does not match: altered, or not from this venue's operations key",
    );
  }
  let bundle: GateBundle;
  try {
    bundle = decodeGateBundle(bytes);
  } catch (error) {
    if (error instanceof BundleFormatError) throw new VenueFileError(VENUE_FILES.bundle, error.message);
    throw error;
  }
  const trust = verifyTrustList(bundle.trustList, rootPublicKey, verifier, { venue: bundle.venue.id });
  if (!trust.ok) throw new VenueFileError(VENUE_FILES.bundle, `trust list refused: ${trust.detail}`);
  return { bundle, trustList: trust.list };
}

/** The feed's changes after the bundle, as the issuer signed them (whoever applies them checks). */
export function readChanges(dir: string): SignedTicketChange[] {
  const text = readText(dir, VENUE_FILES.changes);
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      try {
        return JSON.parse(line) as SignedTicketChange;
      } catch {
        throw new VenueFileError(VENUE_FILES.changes, `line ${i + 1} is not valid JSON`);
      }
    });
}

export function readWallets(dir: string): WalletEntry[] {
  return readText(dir, VENUE_FILES.wallets)
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      try {
        return JSON.parse(line) as WalletEntry;
      } catch {
        throw new VenueFileError(VENUE_FILES.wallets, `line ${i + 1} is not valid JSON`);
      }
    });
}

/** What secrets/keys.json holds: the issuer seeds and override codes, never the root seed. */
export type VenueSecrets = Omit<DemoVenue["secrets"], "rootSeed">;

export function readSecrets(dir: string): VenueSecrets {
  return parseJson(VENUE_FILES.secrets, readText(dir, VENUE_FILES.secrets)) as VenueSecrets;
}
