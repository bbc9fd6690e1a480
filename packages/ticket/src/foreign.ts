/*
 * What a scanned text is when it is not a Sésame credential, so the steward can say so plainly.
 * One table for the whole system: the credential parser and the scanner inputs both use it.
 * Browser-safe (no Node imports): the kiosk window imports it through "@sesame/ticket/foreign".
 */

export type ForeignKind =
  | "url"
  | "wallet-link"
  | "payment"
  | "health-certificate"
  | "wifi"
  | "contact"
  | "email"
  | "phone"
  | "geo"
  | "otp"
  | "boarding-pass";

export interface ForeignCode {
  readonly kind: ForeignKind;
  /** What it is, for a sentence such as "Not a ticket: …". */
  readonly description: { readonly en: string; readonly fr: string };
}

// Wallet apps put links, not tickets, in their QR codes; say so rather than "a web address".
const WALLET_HOSTS =
  /^(https?:\/\/)?([a-z0-9-]+\.)*(pay\.google\.com|wallet\.google|walletpasses\.io|wallet\.apple\.com|pass2u\.net|passkit\.(com|io))(\/|$)/i;

/** First match wins: specific patterns before generic ones. */
export const FOREIGN_CODE_RULES: ReadonlyArray<readonly [RegExp, ForeignKind, string, string]> = [
  [
    /^HC[1-9A-Z]:/,
    "health-certificate",
    "an EU Digital COVID Certificate",
    "un certificat COVID numérique de l'UE",
  ],
  [/^DIVOC|^shc:\//i, "health-certificate", "a health certificate", "un certificat de santé"],
  [/^BCD\r?\n/, "payment", "a SEPA payment code", "un code de paiement SEPA"],
  [/^000201/, "payment", "a payment code (EMVCo)", "un code de paiement (EMVCo)"],
  [/^(bitcoin|ethereum|lightning|upi|litecoin):/i, "payment", "a payment code", "un code de paiement"],
  [
    /^(https?:\/\/)?(www\.)?(paypal\.me|lydia-app\.com|pay\.lydia\.me)\//i,
    "payment",
    "a payment link",
    "un lien de paiement",
  ],
  [
    WALLET_HOSTS,
    "wallet-link",
    "a wallet link, open the ticket in the Sésame app",
    "un lien de portefeuille, ouvrez le billet dans l'app Sésame",
  ],
  [/^(https?|ftp):\/\//i, "url", "a web address", "une adresse web"],
  [/^www\./i, "url", "a web address", "une adresse web"],
  [/^WIFI:/i, "wifi", "Wi-Fi settings", "des paramètres Wi-Fi"],
  [/^(BEGIN:VCARD|MECARD:)/i, "contact", "a contact card", "une fiche contact"],
  [/^(mailto:|MATMSG:)/i, "email", "an e-mail address", "une adresse e-mail"],
  [/^(tel:|sms:|smsto:)/i, "phone", "a phone number", "un numéro de téléphone"],
  [/^geo:/i, "geo", "a map location", "une position sur une carte"],
  [/^otpauth(-migration)?:/i, "otp", "a two-factor authentication key", "une clé d'authentification"],
  [/^M[1-4][A-Z/ ]{4}/, "boarding-pass", "an airline boarding pass", "une carte d'embarquement"],
  // Any other scheme: a link for some app (deep links, intent: URIs).
  [/^[a-z][a-z0-9+.-]{1,30}:\/\//i, "url", "a link for another app", "un lien vers une autre application"],
];

/** Recognizes well-known non-Sésame QR payloads by their opening characters. */
export function classifyForeign(text: string): ForeignCode | undefined {
  const head = text.slice(0, 64);
  for (const [pattern, kind, en, fr] of FOREIGN_CODE_RULES) {
    if (pattern.test(head)) return { kind, description: { en, fr } };
  }
  return undefined;
}
