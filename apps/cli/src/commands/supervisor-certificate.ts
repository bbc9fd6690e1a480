import { readFileSync, writeFileSync } from "node:fs";
import { createNodeSigner, keyPairFromSeed } from "@sesame/ticket";
import {
  RootKeyError,
  readRootKeyFile,
  SUPERVISOR_ACCOUNT,
  SUPERVISOR_KEY_REQUEST_FORMAT,
  SupervisorCertificateError,
  signSupervisorCertificate,
  supervisorKeyProblem,
} from "@sesame/venue";
import { parse, parseInteger, requireString } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Io } from "../io.js";
import { loadVenue } from "../venue-context.js";

export const SUPERVISOR_CERTIFICATE_USAGE =
  "sesame supervisor-certificate --venue DIR --root FILE (--request FILE | --supervisor ACCOUNT --public-key HEX) [--name NAME] [--days N] [--out FILE]";

/*
 * Certifies a supervisor's public key with the venue root key, offline (docs/design.md §9): the
 * key was made in the supervisor's browser, which exported it as a request; the certificate this
 * prints is imported back into that browser, which then signs the commands that open lanes. The
 * root key file (`secrets/root-key.json` of `sesame venue demo`) is refused unless only its owner
 * can read it; no server reads it.
 */
export async function supervisorCertificate(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    {
      venue: { type: "string" },
      root: { type: "string" },
      request: { type: "string" },
      supervisor: { type: "string" },
      "public-key": { type: "string" },
      name: { type: "string" },
      days: { type: "string" },
      out: { type: "string" },
    },
    SUPERVISOR_CERTIFICATE_USAGE,
  );
  const venue = loadVenue(requireString(values.venue, "--venue DIR", SUPERVISOR_CERTIFICATE_USAGE));
  const rootSeed = readRootSeed(requireString(values.root, "--root FILE", SUPERVISOR_CERTIFICATE_USAGE));
  if (Buffer.from(keyPairFromSeed(rootSeed).publicKey).toString("hex") !== venue.rootPublicKey.toLowerCase())
    throw new CliError(
      `the root seed of ${values.root} is not venue ${venue.id}'s root (venue.json rootPublicKey)`,
    );
  const request = typeof values.request === "string" ? readRequest(values.request) : undefined;
  const supervisor =
    request?.supervisor ??
    requireString(values.supervisor, "--supervisor ACCOUNT", SUPERVISOR_CERTIFICATE_USAGE);
  const publicKey =
    request?.publicKey ??
    requireString(values["public-key"], "--public-key HEX", SUPERVISOR_CERTIFICATE_USAGE);
  if (!SUPERVISOR_ACCOUNT.test(supervisor))
    throw new CliError("the supervisor is their dashboard account: 1 to 64 letters, digits, spaces or ._@'-");
  const keyProblem = supervisorKeyProblem(publicKey);
  if (keyProblem) throw new CliError(keyProblem);
  const days = parseInteger(values.days, "--days", 1, 366) ?? 30;
  const now = io.now();
  let certificate: ReturnType<typeof signSupervisorCertificate>;
  try {
    certificate = signSupervisorCertificate(
      {
        venue: venue.id,
        supervisor,
        name: (typeof values.name === "string" ? values.name : supervisor).trim(),
        publicKey,
        notBefore: now,
        notAfter: now + days * 86_400_000,
      },
      rootSeed,
      createNodeSigner(),
    );
  } catch (error) {
    if (error instanceof SupervisorCertificateError) throw new CliError(error.message);
    throw error;
  }
  const text = `${JSON.stringify(certificate, null, 2)}\n`;
  if (typeof values.out === "string") {
    writeFileSync(values.out, text);
    io.stderr.write(
      `supervisor ${supervisor} (key ${certificate.publicKey.slice(0, 16)}…) certified for venue ${venue.id} until ${new Date(certificate.notAfter).toISOString()}: ${values.out}\n`,
    );
  } else io.stdout.write(text);
  return 0;
}

/** The root seed, from the root key file (only its owner may read it: readRootKeyFile). */
function readRootSeed(path: string): Uint8Array {
  try {
    return readRootKeyFile(path);
  } catch (error) {
    if (error instanceof RootKeyError) throw new CliError(error.message);
    throw error;
  }
}

function readRequest(path: string): { supervisor: string; publicKey: string } {
  let o: unknown;
  try {
    o = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CliError(`--request ${path}: ${(error as Error).message}`);
  }
  const r = (o ?? {}) as Record<string, unknown>;
  if (
    r.format !== SUPERVISOR_KEY_REQUEST_FORMAT ||
    typeof r.supervisor !== "string" ||
    typeof r.publicKey !== "string"
  )
    throw new CliError(
      `--request ${path}: not a supervisor key request (${SUPERVISOR_KEY_REQUEST_FORMAT}, with supervisor and publicKey), as the dashboard exports it`,
    );
  return { supervisor: r.supervisor, publicKey: r.publicKey };
}
