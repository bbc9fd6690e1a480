import { createNodeSigner, type Ed25519Signer } from "@sesame/ticket";
import { type IssuedTicketChange, signTicketChange } from "./change-signature.js";
import type { BundleTicket, TicketChange, Venue } from "./model.js";
import { ticketCredential } from "./ticket-credential.js";

/*
 * An issuer in memory for tests of the venue network: it signs ticket changes with an issuer key
 * the test holds, numbers them after the venue feed's position, and serves them as the issuer's
 * stream (`page`, the shape the venue server's follower reads). The real issuer (@sesame/issuer,
 * PGlite) is tested on its own and end to end in sync-server/test/issuer-follow.test.ts; this one
 * costs no database.
 */

export interface MemoryIssuerOptions {
  readonly venueId: string;
  readonly keyId: number;
  readonly seed: Uint8Array;
  /** The ticket as the venue holds it now (its generation and status before this issuer's changes). */
  ticket(id: number): BundleTicket | undefined;
  /** The venue, for credentials (a printed ticket's, a mobile one's given a device key). */
  readonly venue?: Venue;
  readonly signer?: Ed25519Signer;
}

export class MemoryIssuer {
  readonly where = "the test's issuer (memory)";
  private readonly issued: IssuedTicketChange[] = [];
  private readonly generations = new Map<number, number>();
  private readonly cancelled = new Set<number>();
  private base: number | undefined;
  private readonly signer: Ed25519Signer;
  /** The key that signs; a test may switch it (a rotated key). */
  key: { keyId: number; seed: Uint8Array };

  constructor(private readonly options: MemoryIssuerOptions) {
    this.signer = options.signer ?? createNodeSigner();
    this.key = { keyId: options.keyId, seed: options.seed };
  }

  /** The venue feed's position when this issuer takes over: its first change is the next. */
  begin(feedSequence: number): void {
    this.base ??= feedSequence;
  }

  lastSequence(): number {
    if (this.base === undefined) throw new Error("MemoryIssuer: begin(feedSequence) first");
    return this.base + this.issued.length;
  }

  /** Signs one change at the next sequence and adds it to the stream. */
  commit(make: (sequence: number) => TicketChange): TicketChange {
    const change = make(this.lastSequence() + 1);
    this.issued.push(signTicketChange(this.options.venueId, change, this.key, this.signer));
    return change;
  }

  /** The issuer-signed credential of a ticket generation (none for a mobile ticket without a device key). */
  private credentialOf(ticket: BundleTicket, devicePublicKey: string | undefined): string | undefined {
    const venue = this.options.venue;
    if (!venue || (ticket.kind === "mobile" && devicePublicKey === undefined)) return undefined;
    return ticketCredential(venue, ticket, this.key, devicePublicKey, this.signer);
  }

  issue(ticket: Omit<BundleTicket, "issueSequence">, devicePublicKey?: string) {
    const full: BundleTicket = { ...ticket, issueSequence: this.lastSequence() + 1 };
    const change = this.commit((sequence) => ({ sequence, type: "issue", ticket: full }));
    this.generations.set(ticket.id, ticket.generation);
    const credential = this.credentialOf(full, devicePublicKey);
    return { sequence: change.sequence, ...(credential ? { credential } : {}) };
  }

  private current(ticketId: number): number {
    const held = this.options.ticket(ticketId);
    const generation = this.generations.get(ticketId) ?? held?.generation;
    if (generation === undefined) throw new Error(`MemoryIssuer: ticket ${ticketId} unknown`);
    if (this.cancelled.has(ticketId) || held?.status === "cancelled")
      throw new Error(`MemoryIssuer: ticket ${ticketId} is cancelled`);
    return generation;
  }

  /** Resale or transfer: the next generation, the old code revoked at every gate. */
  reassign(ticketId: number, type: "resale" | "transfer", holder: string, devicePublicKey?: string) {
    const generation = this.current(ticketId) + 1;
    const change = this.commit((sequence) => ({ sequence, type, ticketId, generation, holder }));
    this.generations.set(ticketId, generation);
    const held = this.options.ticket(ticketId);
    const credential = held
      ? this.credentialOf({ ...held, generation, holder, issueSequence: change.sequence }, devicePublicKey)
      : undefined;
    return {
      sequence: change.sequence,
      generation,
      revokedGeneration: generation - 1,
      ...(credential ? { credential } : {}),
    };
  }

  cancel(ticketId: number) {
    this.current(ticketId);
    const change = this.commit((sequence) => ({ sequence, type: "cancel", ticketId }));
    this.cancelled.add(ticketId);
    return { sequence: change.sequence };
  }

  /** The issuer's stream for the venue, as `GET /venues/:venue/changes?after=&limit=` answers. */
  async page(venue: string, after: number, limit: number) {
    if (venue !== this.options.venueId) throw new Error(`HTTP 404: venue ${venue} is not registered`);
    if (this.base === undefined) return { changes: [], lastSequence: after };
    const from = Math.max(0, after - this.base);
    return { changes: this.issued.slice(from, from + limit), lastSequence: this.lastSequence() };
  }
}
