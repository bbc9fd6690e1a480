import type { CredentialReason } from "./credential.js";

/** One line per verification outcome, for people reading `sesame credential inspect` and logs. */
export const REASON_DESCRIPTIONS: Readonly<Record<CredentialReason, string>> = {
  EMPTY: "nothing was scanned",
  TOO_LONG: "far longer than any credential",
  WRONG_PREFIX: "not a Sésame code (wrong prefix)",
  LOWER_CASE: "a Sésame code whose letters the scanner changed to lower case (its keyboard setting)",
  UNSUPPORTED_VERSION: "a Sésame code of a format this gate does not read",
  FOREIGN_CODE: "a QR code that is not a ticket (link, health certificate, payment…)",
  NOT_ASCII: "contains characters no QR ticket has (keyboard layout or line noise)",
  BAD_ENCODING: "damaged: not valid Base45",
  TRUNCATED: "incomplete: the code was cut off",
  MALFORMED: "damaged: a field is out of range",
  UNKNOWN_KEY: "signed by a key this venue does not know",
  KEY_REVOKED: "signed by a revoked key",
  KEY_NOT_VALID: "signed by a key that is not valid at this time",
  FORGED: "forged or altered: the issuer signature does not match",
  FORGED_PROOF: "forwarded or copied: not produced by the holder's phone",
  EXPIRED_CODE: "an old code: screenshot or frozen screen",
  CODE_FROM_FUTURE: "a code from the future: the phone's or the gate's clock is wrong",
  NOT_YET_VALID: "the ticket is not valid yet",
  TICKET_EXPIRED: "the ticket has expired",
};

export function describeReason(reason: CredentialReason): string {
  return REASON_DESCRIPTIONS[reason];
}
