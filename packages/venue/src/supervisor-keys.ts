import { type Ed25519Signer, type Ed25519Verifier, publicKeyProblem } from "@sesame/ticket";
import { SUPERVISOR_CERTIFICATE_FORMAT, supervisorCommandBytes } from "./supervisor-command-domain.js";

/*
 * Supervisors' keys (docs/design.md §9): a command that opens lanes (free passage) carries, beside
 * the operations key's signature, the signature of the supervisor who gave it, made with an Ed25519
 * key generated in that supervisor's browser (WebCrypto, not extractable) and certified by the
 * venue root, offline (`sesame supervisor-certificate`). A gate pins the root, so the venue server
 * alone cannot open a lane. Pure: the caller says what time it is.
 */

const CERTIFICATE_DOMAIN = Buffer.from("SESAME-SUPERVISOR-CERT-1\0");

/** The dashboard account a certificate speaks for (what a command's `by` names). */
export const SUPERVISOR_ACCOUNT = /^[\p{L}\p{N}][\p{L}\p{N} ._@'-]{0,63}$/u;

export interface SupervisorCertificate {
  readonly venue: string;
  /** The supervisor's dashboard account: a command it signs must name it in `by`. */
  readonly supervisor: string;
  /** The person, as the root holder checked them. */
  readonly name: string;
  /** Hex Ed25519 public key, made in the supervisor's browser. */
  readonly publicKey: string;
  /** Unix ms, both included. */
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface SignedSupervisorCertificate extends SupervisorCertificate {
  readonly format: typeof SUPERVISOR_CERTIFICATE_FORMAT;
  /** Hex signature by the venue root key. */
  readonly sig: string;
}

export type SupervisorCheck<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly reason: "invalid" | "bad-signature" | "wrong-target" | "expired";
      readonly detail: string;
    };

export class SupervisorCertificateError extends Error {
  override readonly name = "SupervisorCertificateError";
}

function certificateBytes(c: SupervisorCertificate): Buffer {
  const text = JSON.stringify({
    venue: c.venue,
    supervisor: c.supervisor,
    name: c.name,
    publicKey: c.publicKey,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
  });
  return Buffer.concat([CERTIFICATE_DOMAIN, Buffer.from(text)]);
}

/** Why a supervisor's public key (hex) cannot be certified, or undefined. */
export function supervisorKeyProblem(publicKey: string): string | undefined {
  if (!/^[0-9a-fA-F]{64}$/.test(publicKey)) return "a supervisor's public key is 32 bytes of hex (Ed25519)";
  const problem = publicKeyProblem(Uint8Array.from(Buffer.from(publicKey, "hex")));
  return problem ? `the supervisor's public key ${problem}` : undefined;
}

/** Made offline by the holder of the venue root seed (`sesame supervisor-certificate`). */
export function signSupervisorCertificate(
  certificate: SupervisorCertificate,
  rootSeed: Uint8Array,
  signer: Ed25519Signer,
): SignedSupervisorCertificate {
  const c = parseFields({ ...certificate, format: SUPERVISOR_CERTIFICATE_FORMAT, sig: "0".repeat(128) });
  if (c.notAfter <= c.notBefore)
    throw new SupervisorCertificateError("a supervisor certificate must end after it begins");
  const keyProblem = supervisorKeyProblem(c.publicKey);
  if (keyProblem) throw new SupervisorCertificateError(keyProblem);
  const fields: SupervisorCertificate = {
    venue: c.venue,
    supervisor: c.supervisor,
    name: c.name,
    publicKey: c.publicKey.toLowerCase(),
    notBefore: c.notBefore,
    notAfter: c.notAfter,
  };
  const sig = Buffer.from(signer.sign(certificateBytes(fields), rootSeed)).toString("hex");
  return { format: SUPERVISOR_CERTIFICATE_FORMAT, ...fields, sig };
}

const text = (value: unknown, field: string, max: number, pattern?: RegExp): string => {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > max ||
    (pattern && !pattern.test(value))
  )
    throw new SupervisorCertificateError(
      `supervisorCertificate.${field} must be a text of 1 to ${max} characters${pattern ? ` matching ${pattern}` : ""}`,
    );
  return value;
};

const time = (value: unknown, field: string): number => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw new SupervisorCertificateError(`supervisorCertificate.${field} must be a time in Unix ms`);
  return value;
};

function parseFields(value: unknown): SignedSupervisorCertificate {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new SupervisorCertificateError("a supervisor certificate must be an object");
  const o = value as Record<string, unknown>;
  if (o.format !== SUPERVISOR_CERTIFICATE_FORMAT)
    throw new SupervisorCertificateError(
      `supervisorCertificate.format must be ${SUPERVISOR_CERTIFICATE_FORMAT}`,
    );
  return {
    format: SUPERVISOR_CERTIFICATE_FORMAT,
    venue: text(o.venue, "venue", 32),
    supervisor: text(o.supervisor, "supervisor", 64, SUPERVISOR_ACCOUNT),
    name: text(o.name, "name", 200),
    publicKey: text(o.publicKey, "publicKey", 64, /^[0-9a-fA-F]{64}$/),
    notBefore: time(o.notBefore, "notBefore"),
    notAfter: time(o.notAfter, "notAfter"),
    sig: text(o.sig, "sig", 128, /^[0-9a-fA-F]{128}$/),
  };
}

/** The certificate's form (throws a SupervisorCertificateError naming the bad field); not its signature. */
export function parseSupervisorCertificate(value: unknown): SignedSupervisorCertificate {
  return parseFields(value);
}

/** Checks form, the root's signature, the venue and the period at `now`. */
export function verifySupervisorCertificate(
  value: unknown,
  options: {
    readonly rootKey: Uint8Array;
    readonly verifier: Ed25519Verifier;
    readonly venueId: string;
    readonly now: number;
  },
): SupervisorCheck<SignedSupervisorCertificate> {
  let c: SignedSupervisorCertificate;
  try {
    c = parseFields(value);
  } catch (error) {
    if (error instanceof SupervisorCertificateError)
      return { ok: false, reason: "invalid", detail: error.message };
    throw error;
  }
  if (!options.verifier.verify(certificateBytes(c), Buffer.from(c.sig, "hex"), options.rootKey))
    return {
      ok: false,
      reason: "bad-signature",
      detail: `certificate of supervisor ${c.supervisor} not signed by the venue root key`,
    };
  if (c.venue !== options.venueId)
    return { ok: false, reason: "wrong-target", detail: `supervisor certificate is for venue ${c.venue}` };
  if (options.now < c.notBefore || options.now > c.notAfter)
    return {
      ok: false,
      reason: "expired",
      detail: `certificate of supervisor ${c.supervisor} is valid from ${new Date(c.notBefore).toISOString()} to ${new Date(c.notAfter).toISOString()}`,
    };
  return { ok: true, value: c };
}

/** A supervisor's signature over a command: the hex signature and the certificate of its key. */
export interface SupervisorSignature {
  readonly sig: string;
  readonly certificate: unknown;
}

/**
 * Whether a certified supervisor signed this exact command text: the certificate (root, venue,
 * period at `now`), then the signature under its key. Which supervisor the command names is the
 * caller's to compare with the certificate's `supervisor`.
 */
export function verifySupervisorCommand(
  commandJson: string,
  signature: SupervisorSignature,
  options: {
    readonly rootKey: Uint8Array;
    readonly verifier: Ed25519Verifier;
    readonly venueId: string;
    readonly now: number;
  },
): SupervisorCheck<SignedSupervisorCertificate> {
  const certificate = verifySupervisorCertificate(signature.certificate, options);
  if (!certificate.ok) return certificate;
  if (typeof signature.sig !== "string" || !/^[0-9a-fA-F]{128}$/.test(signature.sig))
    return { ok: false, reason: "invalid", detail: "a supervisor signature is 64 bytes of hex" };
  const key = Buffer.from(certificate.value.publicKey, "hex");
  if (!options.verifier.verify(supervisorCommandBytes(commandJson), Buffer.from(signature.sig, "hex"), key))
    return {
      ok: false,
      reason: "bad-signature",
      detail: `command not signed by the key of supervisor ${certificate.value.supervisor}`,
    };
  return certificate;
}

/** Signs a command as a supervisor would in the browser (set-up scripts, tests, drills). */
export function signSupervisorCommand(commandJson: string, seed: Uint8Array, signer: Ed25519Signer): string {
  return Buffer.from(signer.sign(supervisorCommandBytes(commandJson), seed)).toString("hex");
}
