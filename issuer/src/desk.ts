import type { Ed25519Signer } from "@sesame/ticket";
import {
  type BundleTicket,
  checkVenueTimes,
  devicePublicKeyProblem,
  type FaceValue,
  faceValueOf,
  holderName,
  bundleTicketOf as importedTicketOf,
  type RowRejection,
  signTicketChange,
  type TicketChange,
  ticketCredential,
  type Venue,
  VenueTimeError,
  validateImportRow,
} from "@sesame/venue";
import type { IssuerKeyStore } from "./key-store.js";
import type { IssuedTicket, IssuerStore, IssuerTransaction } from "./store.js";

/*
 * The ticketing platform's operations at the issuer, for any registered venue: import (issue),
 * resale (at face value only), transfer and cancellation. Each is checked, then written in one
 * store transaction with its change signed by the issuer key and appended to the venue's change
 * log: a refused operation changes nothing and takes no sequence number.
 */

/** A refusal with the HTTP status it maps to (400 bad input, 404 unknown, 409 not now). */
export class IssuerError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface IssuerDeskDeps {
  readonly store: IssuerStore;
  readonly keys: IssuerKeyStore;
  readonly signer: Ed25519Signer;
  now(): number;
}

const money = (v: FaceValue) => `${(v.cents / 100).toFixed(2)} ${v.currency}`;

function bundleTicketOf(t: IssuedTicket): BundleTicket {
  return {
    id: t.id,
    generation: t.generation,
    kind: t.kind,
    status: t.status,
    sessions: t.sessions,
    entrance: t.entrance,
    zone: t.zone,
    seat: t.seat,
    categories: t.categories as BundleTicket["categories"],
    holder: t.holder,
    orderReference: t.orderReference,
    issueSequence: t.issueSequence,
  };
}

export class IssuerDesk {
  /** Venue descriptions read from the store, kept: every operation needs its venue's. */
  private readonly venues = new Map<string, Venue>();

  constructor(private readonly deps: IssuerDeskDeps) {}

  private signingKey() {
    const key = this.deps.keys.signingKey(Math.floor(this.deps.now() / 1000));
    if (key === undefined) throw new IssuerError(409, "no issuer key is valid now: add one to the key store");
    return key;
  }

  private async venue(id: string): Promise<Venue> {
    const venue = this.venues.get(id) ?? (await this.deps.store.venue(id));
    if (venue !== undefined) this.venues.set(id, venue);
    if (venue === undefined)
      throw new IssuerError(404, `venue ${JSON.stringify(id)} is not registered at the issuer`);
    return venue;
  }

  /** Signs and appends one change; the sequence comes from the same transaction. */
  private async commit(tx: IssuerTransaction, venue: string, make: (sequence: number) => TicketChange) {
    const change = make(await tx.nextSequence(venue));
    const signed = signTicketChange(venue, change, this.signingKey(), this.deps.signer);
    await tx.appendChange(signed, new Date(this.deps.now()));
    return change;
  }

  private credential(venue: Venue, ticket: IssuedTicket, devicePublicKey: string | undefined) {
    if (ticket.kind === "mobile" && devicePublicKey === undefined) return undefined;
    return ticketCredential(
      venue,
      bundleTicketOf(ticket),
      this.signingKey(),
      devicePublicKey,
      this.deps.signer,
    );
  }

  /** Registers a venue (or updates its description): its sessions, entrances and zones. */
  async registerVenue(id: string, body: unknown): Promise<{ venue: string; registered: true }> {
    const v = body as Partial<Venue> | null;
    if (typeof v !== "object" || v === null || Array.isArray(v))
      throw new IssuerError(400, "the body must be a venue object");
    if (v.id !== id)
      throw new IssuerError(
        400,
        `the venue's id ${JSON.stringify(v.id)} is not ${JSON.stringify(id)} of the path`,
      );
    for (const list of ["sessions", "zones", "entrances", "gates"] as const)
      if (!Array.isArray(v[list])) throw new IssuerError(400, `the venue has no ${list} list`);
    if (typeof v.name !== "string" || typeof v.timezone !== "string")
      throw new IssuerError(400, "the venue needs a name and a timezone");
    for (const s of v.sessions ?? [])
      if (!Number.isInteger(s.id))
        throw new IssuerError(400, `session ${JSON.stringify(s.id)} needs a whole id`);
    // Local times are the venue's wall clock in its timezone: both are checked, the field named.
    try {
      checkVenueTimes(v as Venue);
    } catch (error) {
      if (error instanceof VenueTimeError) throw new IssuerError(400, `the venue's ${error.message}`);
      throw error;
    }
    await this.deps.store.putVenue(v as Venue);
    this.venues.delete(id);
    return { venue: id, registered: true };
  }

  /** Issues the valid rows; a row is refused on its own, with its row number and reason. */
  async importTickets(venueId: string, rows: readonly unknown[], rowOffset = 1) {
    const venue = await this.venue(venueId);
    const rejected: RowRejection[] = [];
    const valid: Array<{
      row: Exclude<ReturnType<typeof validateImportRow>, string>;
      faceValue: FaceValue;
      line: number;
    }> = [];
    const seen = new Set<number>();
    rows.forEach((raw, i) => {
      const line = i + rowOffset;
      const result = validateImportRow(raw, venue);
      // A CSV row's id is text: the report names the ticket all the same when the id is a number.
      const rawId = (raw as { id?: unknown } | null)?.id;
      const id = typeof rawId === "string" && /^\d{1,10}$/.test(rawId) ? Number(rawId) : rawId;
      const problem =
        typeof result === "string"
          ? result
          : result.faceValue === undefined
            ? "face_value (cents) and currency are required: resale is at face value only"
            : seen.has(result.id)
              ? `ticket ${result.id} appears twice in this import`
              : undefined;
      if (problem !== undefined || typeof result === "string" || result.faceValue === undefined) {
        rejected.push({
          row: line,
          ...(typeof id === "number" ? { ticketId: id } : {}),
          reason: problem ?? "",
        });
        return;
      }
      seen.add(result.id);
      valid.push({ row: result, faceValue: result.faceValue, line });
    });
    const credentials: Array<{ ticketId: number; credential: string }> = [];
    const issued = await this.deps.store.transaction(async (tx) => {
      await tx.lockVenue(venueId); // two imports of one id: the second sees the first's rows
      const existing = await tx.existingTicketIds(
        venueId,
        valid.map((v) => v.row.id),
      );
      let count = 0;
      for (const { row, faceValue, line } of valid) {
        if (existing.has(row.id)) {
          rejected.push({
            row: line,
            ticketId: row.id,
            reason: `ticket ${row.id} already exists at ${venueId}`,
          });
          continue;
        }
        let ticket: IssuedTicket | undefined;
        await this.commit(tx, venueId, (sequence) => {
          // The venue's own mapping of an import row (as the venue server imports it), plus the issuer's fields.
          const issued = importedTicketOf(row, sequence);
          ticket = { ...issued, venue: venueId, faceValue };
          return { sequence, type: "issue", ticket: issued };
        });
        if (ticket === undefined) continue;
        await tx.putTicket(ticket);
        await tx.addGeneration(venueId, row.id, {
          generation: 1,
          how: "issue",
          holder: row.holder,
          sequence: ticket.issueSequence,
        });
        const credential = this.credential(venue, ticket, row.devicePublicKey);
        if (credential) credentials.push({ ticketId: row.id, credential });
        count++;
      }
      return count;
    });
    rejected.sort((a, b) => a.row - b.row);
    return { imported: issued, rejected, credentials };
  }

  /**
   * Resale (at the ticket's face value, nothing else) or transfer: the generation goes up, the old
   * code is revoked by the change every gate receives; the new holder's credential is returned.
   */
  async reassign(
    venueId: string,
    ticketId: number,
    type: "resale" | "transfer",
    body: Record<string, unknown>,
  ) {
    const venue = await this.venue(venueId);
    const checked = holderName(body.holder);
    if ("problem" in checked) throw new IssuerError(400, checked.problem);
    const device = body.devicePublicKey;
    // The venue's check: 32 bytes of hex, canonical, not of small order (a proof anyone could make).
    const keyProblem = device === undefined ? undefined : devicePublicKeyProblem(device);
    if (keyProblem !== undefined) throw new IssuerError(400, keyProblem);
    let price: FaceValue | undefined;
    if (type === "resale") {
      const parsed = faceValueOf(body.price ?? body.priceCents ?? body.price_cents, body.currency);
      if (parsed === undefined)
        throw new IssuerError(
          400,
          "a resale needs its price: price (cents) and currency, which must be the face value",
        );
      if ("problem" in parsed) throw new IssuerError(400, parsed.problem.replace("face_value", "price"));
      price = parsed;
    } else if (body.price !== undefined)
      throw new IssuerError(400, "a transfer has no price (a sale is a resale)");
    const updated = await this.deps.store.transaction(async (tx) => {
      // The sequence first: its lock makes the ticket read below the latest (a refusal rolls it back).
      const sequence = await tx.nextSequence(venueId);
      const ticket = await tx.ticket(venueId, ticketId);
      if (!ticket) throw new IssuerError(404, `ticket ${ticketId} does not exist at ${venueId}`);
      if (ticket.status !== "valid") throw new IssuerError(409, `ticket ${ticketId} is ${ticket.status}`);
      if (ticket.generation >= 0xffff)
        throw new IssuerError(409, `ticket ${ticketId} cannot change hands any more`);
      if (ticket.kind === "printed" && device !== undefined)
        throw new IssuerError(400, "a printed ticket has no device key");
      if (
        price !== undefined &&
        (price.cents !== ticket.faceValue.cents || price.currency !== ticket.faceValue.currency)
      )
        throw new IssuerError(
          409,
          `resale price ${money(price)} is not the face value ${money(ticket.faceValue)} of ticket ${ticketId}: ` +
            "resale is at face value only",
        );
      const generation = ticket.generation + 1;
      const change: TicketChange = { sequence, type, ticketId, generation, holder: checked.name };
      const next: IssuedTicket = { ...ticket, generation, holder: checked.name, issueSequence: sequence };
      await tx.recordReassignment(
        next,
        { generation, how: type, holder: checked.name, ...(price ? { price } : {}), sequence },
        signTicketChange(venueId, change, this.signingKey(), this.deps.signer),
        new Date(this.deps.now()),
      );
      return next;
    });
    const credential = this.credential(venue, updated, device as string | undefined);
    return {
      ticketId,
      generation: updated.generation,
      revokedGeneration: updated.generation - 1,
      sequence: updated.issueSequence,
      ...(credential ? { credential } : {}),
    };
  }

  async cancel(venueId: string, ticketId: number) {
    await this.venue(venueId);
    return this.deps.store.transaction(async (tx) => {
      // The venue's lock first, as every write of its tickets takes it: one order, no deadlock.
      const sequence = await tx.nextSequence(venueId);
      const ticket = await tx.ticket(venueId, ticketId);
      if (!ticket) throw new IssuerError(404, `ticket ${ticketId} does not exist at ${venueId}`);
      if (ticket.status !== "valid")
        throw new IssuerError(409, `ticket ${ticketId} is already ${ticket.status}`);
      const change: TicketChange = { sequence, type: "cancel", ticketId };
      await tx.appendChange(
        signTicketChange(venueId, change, this.signingKey(), this.deps.signer),
        new Date(this.deps.now()),
      );
      await tx.putTicket({ ...ticket, status: "cancelled" });
      return { ticketId, sequence };
    });
  }
}
