import {
  Category,
  type Ed25519Signer,
  encodeCredentialText,
  issueCredential,
  type TicketBody,
} from "@sesame/ticket";
import type { BundleTicket, Venue } from "./model.js";
import { sessionTimes } from "./session-times.js";

const HOUR = 3_600_000;

/**
 * The issuer-signed credential text of one ticket generation (the holder's app adds the device
 * proofs): valid from two hours before the doors of its first session open to two hours after
 * its last session ends. A mobile ticket needs the holder's device key (hex).
 */
export function ticketCredential(
  venue: Venue,
  ticket: BundleTicket,
  key: { readonly keyId: number; readonly seed: Uint8Array },
  devicePublicKey: string | undefined,
  signer: Ed25519Signer,
): string {
  const times = ticket.sessions.map((id) => {
    const s = venue.sessions.find((x) => x.id === id);
    return s ? sessionTimes(s, venue.timezone) : undefined;
  });
  const doors = Math.min(...times.map((t) => t?.doorsOpenMs ?? Number.POSITIVE_INFINITY));
  const end = Math.max(...times.map((t) => t?.endMs ?? 0));
  const body: TicketBody = {
    kind: ticket.kind,
    keyId: key.keyId,
    ticketId: ticket.id,
    generation: ticket.generation,
    issueSequence: ticket.issueSequence,
    sessions: ticket.sessions,
    entrance: ticket.entrance,
    zone: ticket.zone,
    seat: ticket.seat,
    categories: ticket.categories.reduce((flags, name) => flags | Category[name], 0),
    validFrom: Math.floor((doors - 2 * HOUR) / 1000),
    validUntil: Math.floor((end + 2 * HOUR) / 1000),
    ...(devicePublicKey ? { devicePublicKey: Uint8Array.from(Buffer.from(devicePublicKey, "hex")) } : {}),
  };
  return encodeCredentialText(issueCredential(body, key.seed, signer));
}
