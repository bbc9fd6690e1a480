/** What a scanned text is when it is not a Sésame credential, so the steward can say so plainly. */
export type ForeignKind =
  | "url"
  | "eu-dcc"
  | "payment"
  | "wifi"
  | "contact"
  | "email"
  | "phone"
  | "geo"
  | "otp"
  | "other-ticket";

const RULES: ReadonlyArray<readonly [RegExp, ForeignKind, string]> = [
  [/^HC[1-9A-Z]:/, "eu-dcc", "an EU Digital COVID Certificate (HC1:)"],
  [/^(https?|ftp):\/\//i, "url", "a web address"],
  [/^www\./i, "url", "a web address"],
  [/^[a-z][a-z0-9+.-]{1,20}:\/\//i, "url", "a link for another app"],
  [/^BCD\r?\n/, "payment", "a SEPA payment code (EPC QR)"],
  [/^000201/, "payment", "a payment code (EMVCo merchant QR)"],
  [/^(bitcoin|ethereum|lightning):/i, "payment", "a cryptocurrency payment code"],
  [/^WIFI:/i, "wifi", "Wi-Fi network credentials"],
  [/^(BEGIN:VCARD|MECARD:)/i, "contact", "a contact card"],
  [/^(mailto:|MATMSG:)/i, "email", "an e-mail address"],
  [/^(tel:|sms:|smsto:)/i, "phone", "a phone number"],
  [/^geo:/i, "geo", "a map location"],
  [/^otpauth:/i, "otp", "a two-factor authentication key"],
  // pretix secrets and airline boarding passes (IATA BCBP starts with M1/M2…) are the usual confusions.
  [/^M[1-4][A-Z/ ]{4}/, "other-ticket", "an airline boarding pass"],
];

export interface ForeignCode {
  readonly kind: ForeignKind;
  readonly description: string;
}

/** Recognizes well-known non-Sésame QR payloads by their opening characters. */
export function classifyForeign(text: string): ForeignCode | undefined {
  const head = text.slice(0, 32);
  for (const [pattern, kind, description] of RULES) {
    if (pattern.test(head)) return { kind, description };
  }
  return undefined;
}
