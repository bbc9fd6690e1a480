import {
  categoryNames,
  createNodeVerifier,
  DEFAULT_FRESHNESS,
  describeReason,
  parseCredentialText,
  STEP_SECONDS,
  type Verification,
  verifyCredential,
} from "@sesame/ticket";
import { parse, parseTime } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Io } from "../io.js";
import { loadTrust, loadVenue } from "../venue-context.js";

export const CREDENTIAL_INSPECT_USAGE = "sesame credential inspect CODE [--venue DIR] [--at ISO-TIME]";

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

/** Prints the decoded fields and verdicts as JSON; exit 0 when the credential verifies, 1 when not. */
export async function credentialInspect(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { venue: { type: "string" }, at: { type: "string" } },
    CREDENTIAL_INSPECT_USAGE,
  );
  if (positionals.length !== 1) {
    throw new CliError(
      `give exactly one CODE (quote it: it may contain spaces)\n\nusage: ${CREDENTIAL_INSPECT_USAGE}`,
    );
  }
  const text = positionals[0] ?? "";
  const nowMs = parseTime(values.at, "--at") ?? io.now();
  const parsed = parseCredentialText(text);
  let verification: Verification;
  if (!parsed.ok) {
    verification = {
      valid: false,
      reason: parsed.reason,
      detail: parsed.detail,
      ...(parsed.foreign ? { foreign: parsed.foreign } : {}),
    };
  } else if (values.venue) {
    const venue = loadVenue(values.venue);
    const trust = loadTrust(values.venue, venue);
    verification = verifyCredential(parsed.credential, {
      issuerKeys: trust.keys,
      nowMs,
      issuerVerifier: createNodeVerifier(),
    });
  } else {
    verification = {
      valid: false,
      reason: "UNKNOWN_KEY",
      detail: "no trust list to check the issuer signature against: add --venue DIR",
      credential: parsed.credential,
    };
  }
  const credential = parsed.ok ? parsed.credential : undefined;
  const body = credential?.body;
  const proofStep = verification.valid ? verification.proofStep : undefined;
  const report = {
    valid: verification.valid,
    reason: verification.valid ? "VALID" : verification.reason,
    description: verification.valid
      ? "signature, trust list and device proof verify"
      : describeReason(verification.reason),
    detail: verification.valid ? undefined : verification.detail,
    foreign: verification.valid ? undefined : verification.foreign,
    at: new Date(nowMs).toISOString(),
    textLength: text.length,
    ticket: body && {
      kind: body.kind,
      ticketId: body.ticketId,
      generation: body.generation,
      issuerKeyId: body.keyId,
      issueSequence: body.issueSequence,
      sessions: body.sessions,
      entrance: body.entrance,
      zone: body.zone,
      seat: body.seat,
      categories: categoryNames(body.categories),
      validFrom: iso(body.validFrom),
      validUntil: iso(body.validUntil),
      devicePublicKey: body.devicePublicKey && Buffer.from(body.devicePublicKey).toString("hex"),
    },
    deviceProof: credential?.proof && {
      stepLow16: credential.proof.stepLow,
      step: proofStep,
      shownFrom:
        proofStep === undefined ? undefined : new Date(proofStep * STEP_SECONDS * 1000).toISOString(),
      lagSeconds:
        verification.proofLagSteps === undefined ? undefined : verification.proofLagSteps * STEP_SECONDS,
      acceptedLagSeconds: {
        past: DEFAULT_FRESHNESS.maxPastSteps * STEP_SECONDS,
        future: DEFAULT_FRESHNESS.maxFutureSteps * STEP_SECONDS,
      },
    },
  };
  io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return verification.valid ? 0 : 1;
}
