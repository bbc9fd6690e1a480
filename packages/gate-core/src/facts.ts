import type { IssuerKey } from "@sesame/ticket";
import type { BundleTicket, Entrance, ReentryPolicy, RevocationReason, Session, Zone } from "@sesame/venue";

/*
 * What the admission core needs to know, supplied by the gate's cache (packages/cache) or, in
 * tests, by a table. Everything is synchronous: a decision never waits on I/O.
 */

/** A ticket as the gate's cache holds it: its current generation, status and holder. */
export type TicketFacts = Omit<BundleTicket, "issueSequence">;

/** A ticket's last movement for a session, from the permanent "seen" table. */
export interface Presence {
  readonly state: "inside" | "outside";
  /** When and where the ticket first entered for this session. */
  readonly firstEntryAt: number;
  readonly firstEntryGate: string;
  /** The last movement (entry or exit). */
  readonly lastAt: number;
  readonly lastGate: string;
}

/** An authorization handed to a lane and not yet ended by a passage or a timeout. */
export interface PendingAuthorization {
  readonly authorizationId: string;
  readonly gateId: string;
  readonly lane: number;
  readonly at: number;
}

export interface GateFacts {
  readonly issuerKeys: ReadonlyMap<number, IssuerKey>;
  /** Every ticket change up to this feed sequence is known. */
  readonly feedSequence: number;
  readonly timezone: string;
  session(id: number): (Session & { readonly reentry: ReentryPolicy }) | undefined;
  sessions(): readonly Session[];
  entrance(id: number): Entrance | undefined;
  entrances(): readonly Entrance[];
  zone(id: number): Zone | undefined;
  ticket(id: number): TicketFacts | undefined;
  /**
   * The newest generation of the ticket this gate has seen admitted (here or at another gate),
   * when it is newer than `ticket(id).generation`: a resale or transfer the feed has not brought yet.
   */
  newestGenerationSeen?(ticketId: number): number | undefined;
  /** Why this generation of the ticket was revoked, if it was. */
  revocationReason(ticketId: number, generation: number): RevocationReason | undefined;
  presence(ticketId: number, session: number): Presence | undefined;
  pendingAuthorization(ticketId: number, session: number): PendingAuthorization | undefined;
}
