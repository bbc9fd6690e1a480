import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EntryLogEvent } from "@sesame/gate-core";
import type { IssuerKey, SignedTrustListJson, TrustList } from "@sesame/ticket";
import type { TicketChange } from "@sesame/venue";
import type { SignedGateList } from "./operations.js";
import type { AdmissionEntry } from "./protocol.js";
import type { AppliedChanges, GateSyncStore, Snapshot } from "./store.js";

/**
 * The part of @sesame/cache's GateStore the sync uses, written structurally so that this package
 * does not depend on the cache at run time (the gate backend hands its GateStore in).
 */
export interface CacheLike {
  readonly feedSequence: number;
  readonly venue: { readonly trustListVersion: number; readonly issuerKeys: ReadonlyMap<number, IssuerKey> };
  /** Unacknowledged events after `afterGateSeq`, in order. */
  outboxPending(limit: number, afterGateSeq: number): EntryLogEvent[];
  acknowledgeOutbox(upToGateSeq: number): number;
  outboxDepth(): number;
  lastGateSeq(): number;
  applyChanges(changes: readonly TicketChange[]): AppliedChanges;
  applyTrustList(input: unknown): unknown;
  importBundle(dir: string, options?: { readonly bundleKey?: Uint8Array }): unknown;
  recordRemoteEntries(events: readonly EntryLogEvent[], positions?: readonly number[]): unknown;
  gateListJson(): string | undefined;
  saveGateList(json: string): void;
  ticketEntrance(ticketId: number): number | undefined;
}

/** GateSyncStore over the gate's SQLite cache (@sesame/cache GateStore). */
export class CacheSyncStore implements GateSyncStore {
  constructor(readonly cache: CacheLike) {}

  outboxPending(afterGateSeq: number, limit: number): readonly EntryLogEvent[] {
    return this.cache.outboxPending(limit, afterGateSeq);
  }

  acknowledgeOutbox(upToGateSeq: number): void {
    this.cache.acknowledgeOutbox(upToGateSeq);
  }

  outboxDepth(): number {
    return this.cache.outboxDepth();
  }

  feedSequence(): number {
    return this.cache.feedSequence;
  }

  applyChanges(changes: readonly TicketChange[]): AppliedChanges {
    return this.cache.applyChanges(changes);
  }

  applySnapshot(snapshot: Snapshot): void {
    // The cache imports bundles from a venue directory (and checks the signature again): hand it one.
    const dir = mkdtempSync(join(tmpdir(), "sesame-snapshot-"));
    try {
      writeFileSync(join(dir, "gate-bundle.json"), snapshot.bytes);
      writeFileSync(join(dir, "gate-bundle.sig"), `${snapshot.signature}\n`);
      this.cache.importBundle(dir, snapshot.signerKey ? { bundleKey: snapshot.signerKey } : {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  recordRemoteEntries(events: readonly EntryLogEvent[]): void {
    this.cache.recordRemoteEntries(events);
  }

  recordAdmissions(entries: readonly AdmissionEntry[]): void {
    this.cache.recordRemoteEntries(
      entries.map((e) => e.event),
      entries.map((e) => e.seq),
    );
  }

  issuerKeys(): ReadonlyMap<number, IssuerKey> {
    return this.cache.venue.issuerKeys;
  }

  gateList(): unknown {
    const json = this.cache.gateListJson();
    return json === undefined ? undefined : JSON.parse(json);
  }

  saveGateList(list: SignedGateList): void {
    this.cache.saveGateList(JSON.stringify(list));
  }

  ticketEntrance(ticketId: number): number | undefined {
    return this.cache.ticketEntrance(ticketId);
  }

  trustListVersion(): number {
    return this.cache.venue.trustListVersion;
  }

  applyTrustList(signed: SignedTrustListJson, _list: TrustList): void {
    this.cache.applyTrustList(signed);
  }
}
