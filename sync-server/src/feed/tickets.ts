import type { Ed25519Signer } from "@sesame/ticket";
import {
  type BundleTicket,
  bundleTicketOf,
  type ChangeSigner,
  devicePublicKeyProblem,
  holderName,
  type ImportRow,
  issuerChangeSigner,
  type RowRejection,
  type SignedTicketChange,
  type TicketChange,
  ticketCredential,
  type Venue,
  validateImportRow,
} from "@sesame/venue";
import { ApiError } from "../errors.js";
import type { IssuerKeyRecord, KeyRepository } from "../keys/repository.js";
import type { FeedRepository } from "./repository.js";

/*
 * The ticketing platform's operations: import, resale, transfer, cancellation. Each is checked,
 * then appended to the feed in one transaction (a refused one changes nothing) and published to
 * the gates; a mobile ticket given a device key, or a printed one, gets its issuer-signed credential.
 * Every change is signed by the issuer key that signs credentials (a ChangeSigner, made here where
 * the change is made): the gates apply no change without that signature.
 */

export interface TicketDeskDeps {
  readonly feed: FeedRepository;
  readonly keys: KeyRepository;
  readonly venue: Venue;
  readonly signer: Ed25519Signer;
  now(): number;
  /** Sends changes just committed to the gates. */
  publishChanges(changes: readonly SignedTicketChange[]): void;
}

export class TicketDesk {
  constructor(private readonly deps: TicketDeskDeps) {}

  private signingKey(): IssuerKeyRecord {
    const nowS = Math.floor(this.deps.now() / 1000);
    const usable = this.deps.keys
      .issuerKeys()
      .filter((k) => !k.revoked && k.validFrom <= nowS && nowS <= k.validUntil);
    const key = usable[usable.length - 1];
    if (!key) throw new ApiError(409, "no valid, unrevoked issuer key: rotate the keys first");
    return key;
  }

  /** Signs the changes of one operation, with the key that signs its credentials. */
  private changeSigner(): ChangeSigner {
    const key = this.signingKey();
    return issuerChangeSigner(
      this.deps.venue.id,
      { keyId: key.keyId, seed: Buffer.from(key.seed, "hex") },
      this.deps.signer,
    );
  }

  /** The issuer-signed credential of a ticket generation (the holder's app adds device proofs). */
  private credentialFor(ticket: BundleTicket, devicePublicKey: string | undefined): string | undefined {
    if (ticket.kind === "mobile" && devicePublicKey === undefined) return undefined;
    const key = this.signingKey();
    return ticketCredential(
      this.deps.venue,
      ticket,
      { keyId: key.keyId, seed: Buffer.from(key.seed, "hex") },
      devicePublicKey,
      this.deps.signer,
    );
  }

  importTickets(
    rows: readonly unknown[],
    rowOffset = 1,
  ): {
    imported: number;
    rejected: RowRejection[];
    feedSequence: number;
    credentials: Array<{ ticketId: number; credential: string }>;
  } {
    const rejected: RowRejection[] = [];
    const valid: Array<{ row: ImportRow; line: number }> = [];
    const seen = new Set<number>();
    rows.forEach((raw, i) => {
      const line = i + rowOffset;
      const result = validateImportRow(raw, this.deps.venue);
      if (typeof result === "string") {
        const id = (raw as { id?: unknown } | null)?.id;
        rejected.push({ row: line, ...(typeof id === "number" ? { ticketId: id } : {}), reason: result });
        return;
      }
      if (seen.has(result.id) || this.deps.feed.ticket(result.id)) {
        rejected.push({ row: line, ticketId: result.id, reason: `ticket ${result.id} already exists` });
        return;
      }
      seen.add(result.id);
      valid.push({ row: result, line });
    });
    const credentials: Array<{ ticketId: number; credential: string }> = [];
    const { changes } = this.deps.feed.appendChanges(this.deps.now(), (next) => {
      const out: SignedTicketChange[] = [];
      if (valid.length === 0) return { changes: out, result: undefined };
      const signer = this.changeSigner();
      for (const { row } of valid) {
        const sequence = next();
        const ticket = bundleTicketOf(row, sequence);
        out.push(signer.sign({ sequence, type: "issue", ticket }));
        const credential = this.credentialFor(ticket, row.devicePublicKey);
        if (credential) credentials.push({ ticketId: ticket.id, credential });
      }
      return { changes: out, result: undefined };
    });
    this.deps.publishChanges(changes);
    return { imported: changes.length, rejected, feedSequence: this.deps.feed.feedSequence(), credentials };
  }

  /** Resale or transfer: the generation goes up, the old code is revoked at every gate. */
  reassign(ticketId: number, type: "resale" | "transfer", holder: unknown, devicePublicKey: unknown) {
    const checked = holderName(holder);
    if ("problem" in checked) throw new ApiError(400, checked.problem);
    const name = checked.name;
    const keyProblem = devicePublicKey === undefined ? undefined : devicePublicKeyProblem(devicePublicKey);
    if (keyProblem) throw new ApiError(400, keyProblem);
    const { changes, result } = this.deps.feed.appendChanges(this.deps.now(), (next) => {
      const ticket = this.deps.feed.ticket(ticketId);
      if (!ticket) throw new ApiError(404, `ticket ${ticketId} does not exist`);
      if (ticket.status !== "valid") throw new ApiError(409, `ticket ${ticketId} is ${ticket.status}`);
      if (ticket.generation >= 0xffff)
        throw new ApiError(409, `ticket ${ticketId} cannot change hands any more`);
      if (ticket.kind === "printed" && devicePublicKey !== undefined)
        throw new ApiError(400, "a printed ticket has no device key");
      const sequence = next();
      const generation = ticket.generation + 1;
      const change: TicketChange = { sequence, type, ticketId, generation, holder: name };
      const updated: BundleTicket = { ...ticket, generation, holder: name, issueSequence: sequence };
      return { changes: [this.changeSigner().sign(change)], result: { ticket: updated } };
    });
    this.deps.publishChanges(changes);
    const credential = this.credentialFor(result.ticket, devicePublicKey as string | undefined);
    return {
      ticketId,
      generation: result.ticket.generation,
      revokedGeneration: result.ticket.generation - 1,
      sequence: changes[0]?.sequence,
      ...(credential ? { credential } : {}),
    };
  }

  cancel(ticketId: number) {
    const { changes } = this.deps.feed.appendChanges(this.deps.now(), (next) => {
      const ticket = this.deps.feed.ticket(ticketId);
      if (!ticket) throw new ApiError(404, `ticket ${ticketId} does not exist`);
      if (ticket.status !== "valid")
        throw new ApiError(409, `ticket ${ticketId} is already ${ticket.status}`);
      const change = this.changeSigner().sign({ sequence: next(), type: "cancel", ticketId });
      return { changes: [change], result: undefined };
    });
    this.deps.publishChanges(changes);
    return { ticketId, sequence: changes[0]?.sequence };
  }
}
