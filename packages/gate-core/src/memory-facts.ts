import type { IssuerKey } from "@sesame/ticket";
import type { Entrance, RevocationReason, Session, Venue, Zone } from "@sesame/venue";
import type { GateFacts, PendingAuthorization, Presence, TicketFacts } from "./facts.js";

/**
 * GateFacts held in memory, for tests (through "@sesame/gate-core/testing"). The gate's real store
 * is packages/cache.
 */
export class MemoryFacts implements GateFacts {
  readonly tickets = new Map<number, TicketFacts>();
  readonly revocations = new Map<string, RevocationReason>();
  readonly presences = new Map<string, Presence>();
  readonly pending = new Map<string, PendingAuthorization>();
  feedSequence = 0;

  constructor(
    readonly venue: Pick<Venue, "sessions" | "entrances" | "zones" | "timezone">,
    public issuerKeys: ReadonlyMap<number, IssuerKey>,
  ) {}

  get timezone(): string {
    return this.venue.timezone;
  }
  session(id: number): Session | undefined {
    return this.venue.sessions.find((s) => s.id === id);
  }
  sessions(): readonly Session[] {
    return this.venue.sessions;
  }
  entrance(id: number): Entrance | undefined {
    return this.venue.entrances.find((e) => e.id === id);
  }
  entrances(): readonly Entrance[] {
    return this.venue.entrances;
  }
  zone(id: number): Zone | undefined {
    return this.venue.zones.find((z) => z.id === id);
  }
  ticket(id: number): TicketFacts | undefined {
    return this.tickets.get(id);
  }
  revocationReason(ticketId: number, generation: number): RevocationReason | undefined {
    return this.revocations.get(`${ticketId}/${generation}`);
  }
  presence(ticketId: number, session: number): Presence | undefined {
    return this.presences.get(`${ticketId}/${session}`);
  }
  pendingAuthorization(ticketId: number, session: number): PendingAuthorization | undefined {
    return this.pending.get(`${ticketId}/${session}`);
  }

  /** Records a movement through a gate, as the cache's seen table does. */
  recordMovement(
    ticketId: number,
    session: number,
    direction: "entry" | "exit",
    at: number,
    gate: string,
  ): void {
    const key = `${ticketId}/${session}`;
    const before = this.presences.get(key);
    this.presences.set(key, {
      state: direction === "entry" ? "inside" : "outside",
      firstEntryAt: before?.firstEntryAt ?? at,
      firstEntryGate: before?.firstEntryGate ?? gate,
      lastAt: at,
      lastGate: gate,
    });
  }
}
