import {
  SUPERVISOR_CERTIFICATE_FORMAT,
  SUPERVISOR_KEY_REQUEST_FORMAT,
  supervisorCommandBytes,
} from "@sesame/venue/supervisor-command";
import type { CommandType } from "./types.js";

/*
 * The supervisor's signing key (docs/design.md §9): an Ed25519 key pair made here by WebCrypto, its
 * private half not extractable, kept in this browser's IndexedDB per venue and account. The venue
 * root holder certifies its public half offline (`sesame supervisor-certificate`); with that
 * certificate, this browser signs each command that opens lanes, so that the venue server alone
 * cannot open one. Another browser, or a cleared profile, enrols again.
 */

const DB = "sesame-supervisor";
const STORE = "signing-keys";

/** A supervisor certificate as the root signed it (checked by the server and every gate). */
export interface Certificate {
  readonly format: string;
  readonly venue: string;
  readonly supervisor: string;
  readonly name: string;
  readonly publicKey: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly sig: string;
}

export interface SigningKey {
  readonly privateKey: CryptoKey;
  /** Hex, 32 bytes. */
  readonly publicKey: string;
  readonly createdAt: number;
  readonly certificate?: Certificate;
}

const hex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await request(open);
  return db.transaction(STORE, mode).objectStore(STORE);
}

const keyOf = (venueId: string, account: string) => `${venueId}/${account}`;

export async function loadSigningKey(venueId: string, account: string): Promise<SigningKey | undefined> {
  return (await request((await store("readonly")).get(keyOf(venueId, account)))) as SigningKey | undefined;
}

async function save(venueId: string, account: string, key: SigningKey): Promise<void> {
  await request((await store("readwrite")).put(key, keyOf(venueId, account)));
}

/** Makes a new key pair (replacing any earlier one: its certificate no longer applies). */
export async function createSigningKey(venueId: string, account: string): Promise<SigningKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const key: SigningKey = {
    privateKey: pair.privateKey,
    publicKey: hex(await crypto.subtle.exportKey("raw", pair.publicKey)),
    createdAt: Date.now(),
  };
  await save(venueId, account, key);
  return key;
}

/** What the root holder certifies: this account's public key (nothing secret). */
export function keyRequest(account: string, key: SigningKey): string {
  return `${JSON.stringify({ format: SUPERVISOR_KEY_REQUEST_FORMAT, supervisor: account, publicKey: key.publicKey }, null, 2)}\n`;
}

/** Checks that a pasted certificate is for this venue, account and key, then keeps it. */
export async function importCertificate(
  venueId: string,
  account: string,
  key: SigningKey,
  text: string,
): Promise<SigningKey> {
  let c: Partial<Certificate>;
  try {
    c = JSON.parse(text) as Partial<Certificate>;
  } catch {
    throw new Error("not a certificate: the file is not JSON");
  }
  if (c?.format !== SUPERVISOR_CERTIFICATE_FORMAT) throw new Error(`not a ${SUPERVISOR_CERTIFICATE_FORMAT}`);
  if (c.venue !== venueId) throw new Error(`the certificate is for venue ${c.venue}`);
  if (c.supervisor !== account) throw new Error(`the certificate is for ${c.supervisor}, not ${account}`);
  if (c.publicKey?.toLowerCase() !== key.publicKey) throw new Error("the certificate is for another key");
  if (typeof c.notAfter !== "number" || c.notAfter < Date.now())
    throw new Error("the certificate has expired");
  const certified = { ...key, certificate: c as Certificate };
  await save(venueId, account, certified);
  return certified;
}

/**
 * The body of POST /api/commands for a command that opens lanes: one command per target, made
 * here (id, times, who) and signed over its exact JSON text.
 */
export async function signedCommands(
  key: SigningKey,
  account: string,
  type: CommandType,
  targets: ReadonlyArray<{ readonly gate: string } | { readonly entrance: number }>,
  ttlMs = 60_000,
): Promise<{ type: CommandType; signed: Array<{ command: string; sig: string }>; certificate: Certificate }> {
  const certificate = key.certificate;
  if (!certificate) throw new Error("this browser's key is not certified yet");
  const issuedAt = Date.now();
  const signed = await Promise.all(
    targets.map(async (target) => {
      const command = JSON.stringify({
        id: crypto.randomUUID(),
        type,
        target,
        by: account,
        issuedAt,
        expiresAt: issuedAt + ttlMs,
      });
      const bytes = supervisorCommandBytes(command);
      const sig = hex(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, bytes as BufferSource));
      return { command, sig };
    }),
  );
  return { type, signed, certificate };
}
