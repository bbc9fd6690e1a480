import type { Random } from "@sesame/hardware-sim";
import { encodeFeed, MAX_REPLAY_ITEMS, signAdmissionsOrder } from "@sesame/sync";
import { AdmissionsFanOut, handleEventBatch, operationsSeed, type ServerStore } from "@sesame/sync-server";
import { createNodeSigner, createNodeVerifier, type Ed25519Verifier } from "@sesame/ticket";
import { HOP_MAX_MS, HOP_MIN_MS, HOP_TAIL_MS, type Inbound } from "./messages.js";
import type { PersonSpec } from "./population.js";
import { exponential } from "./timing.js";

/*
 * The sync-server's side of a virtual rehearsal, in the main thread: gate batches are handled, in
 * the order they reach the server, by the function the sync-server itself runs on every batch
 * (handleEventBatch: decode, the gate's key as provisioned in the gate list, ServerStore.ingest —
 * idempotent by event id, in order per gate, presence and double-entry, forgery and clock alerts),
 * and its answers go back over the modeled network: the ack to the gate, the admissions to every
 * gate, the ticket feed (encodeFeed). The MQTT broker is the modeled link.
 */

interface Arrival {
  readonly at: number;
  readonly seq: number;
  readonly gateId: string;
  readonly payload: string;
}

/** A delivery to a gate, with its payload held once for every gate it goes to. */
type Delivery =
  | { readonly kind: "ack"; readonly at: number; readonly gateId: string; readonly payload: string }
  | {
      readonly kind: "admissions" | "feed";
      readonly at: number;
      readonly gateId: string;
      readonly payload: { readonly text: string };
    }
  | { readonly kind: "person"; readonly at: number; readonly person: PersonSpec };

export interface ServerStats {
  batches: number;
  rejectedBatches: number;
  rejectedEvents: number;
  resyncs: number;
  admissionMessages: number;
  alerts: Record<string, number>;
  wallMsIngest: number;
}

export class VenueServer {
  private arrivals: Arrival[] = [];
  private seq = 0;
  /** Per sector, deliveries not yet handed over. */
  private readonly deliveries: Delivery[][];
  private readonly downFreeAt = new Map<string, number>();
  // As SyncServer: node:crypto, with room for every gate's key.
  private readonly verifier: Ed25519Verifier = createNodeVerifier(1024);
  // As SyncServer: the fan-out paced on the virtual clock (at most one message per window), each
  // message's order sealed with the venue's operations key.
  private readonly fanOut: AdmissionsFanOut;
  readonly stats: ServerStats = {
    batches: 0,
    rejectedBatches: 0,
    rejectedEvents: 0,
    resyncs: 0,
    admissionMessages: 0,
    alerts: {},
    wallMsIngest: 0,
  };

  constructor(
    readonly store: ServerStore,
    /** Gate id → the sector that holds it. */
    private readonly sectorOf: ReadonlyMap<string, number>,
    sectors: number,
    private readonly random: Random,
  ) {
    this.deliveries = Array.from({ length: sectors }, () => []);
    const seed = operationsSeed(store);
    const signer = createNodeSigner();
    this.fanOut = new AdmissionsFanOut((order) => signAdmissionsOrder(order, seed, signer));
  }

  get pending(): boolean {
    return (
      this.arrivals.length > 0 || this.fanOut.dueAt !== undefined || this.deliveries.some((d) => d.length > 0)
    );
  }

  /** A gate's batch, reaching the server at `at`. */
  arrive(at: number, gateId: string, payload: string): void {
    this.arrivals.push({ at, seq: this.seq++, gateId, payload });
  }

  /** A person walking to an entrance of another sector, there at `at`. */
  handOver(sector: number, at: number, person: PersonSpec): void {
    this.deliveries[sector]?.push({ kind: "person", at, person });
  }

  private hop(): number {
    return HOP_MIN_MS + Math.round(Math.min(HOP_MAX_MS, exponential(this.random, HOP_TAIL_MS)));
  }

  /** Sends to a gate at `from`: it arrives a network hop later. */
  private deliver(gateId: string, from: number, make: (at: number) => Delivery): void {
    const sector = this.sectorOf.get(gateId);
    if (sector === undefined) throw new Error(`no sector holds gate ${gateId}`);
    // The downlink to a gate is in order: a message never overtakes the previous one.
    const at = Math.max(from + this.hop(), (this.downFreeAt.get(gateId) ?? 0) + 1);
    this.downFreeAt.set(gateId, at);
    this.deliveries[sector]?.push(make(at));
  }

  /** Handles every batch that reaches the server before `bound`, in arrival order. */
  process(bound: number): void {
    this.arrivals.sort((a, b) => a.at - b.at || a.seq - b.seq);
    let i = 0;
    const t = performance.now();
    for (; i < this.arrivals.length; i++) {
      const a = this.arrivals[i];
      if (!a || a.at >= bound) break;
      this.sendHeldAdmissions(a.at + 1);
      this.ingest(a.at, a.gateId, a.payload);
    }
    this.sendHeldAdmissions(bound);
    this.arrivals = this.arrivals.slice(i);
    this.stats.wallMsIngest += performance.now() - t;
  }

  /** The admissions the fan-out holds, sent when they were due if that is before `bound`. */
  private sendHeldAdmissions(bound: number): void {
    const due = this.fanOut.dueAt;
    if (due === undefined || due >= bound) return;
    const message = this.fanOut.take(due);
    if (message !== undefined) this.sendAdmissions(due, message);
  }

  private sendAdmissions(at: number, message: string): void {
    this.stats.admissionMessages++;
    const text = { text: message };
    for (const g of this.sectorOf.keys())
      this.deliver(g, at, (when) => ({ kind: "admissions", at: when, gateId: g, payload: text }));
  }

  /** The sync-server's own handling of a batch (handleEventBatch, as SyncServer.onEvents). */
  private ingest(now: number, gateId: string, payload: string): void {
    this.stats.batches++;
    const publicKey = this.store.gate(gateId)?.publicKey;
    if (!publicKey) {
      this.stats.rejectedBatches++;
      return;
    }
    const outcome = handleEventBatch(this.store, this.verifier, gateId, publicKey, payload, now);
    if (outcome.kind === "refused") {
      this.stats.rejectedBatches++;
      return;
    }
    if (outcome.kind === "resync") this.stats.resyncs++;
    const ack = outcome.ack;
    this.deliver(gateId, now, (at) => ({ kind: "ack", at, gateId, payload: ack }));
    if (outcome.kind === "resync") return;
    this.stats.rejectedEvents += outcome.result.rejected.length;
    for (const alert of outcome.result.alerts)
      this.stats.alerts[alert.type] = (this.stats.alerts[alert.type] ?? 0) + 1;
    for (const message of this.fanOut.add(outcome.admissions, now)) this.sendAdmissions(now, message);
  }

  /** The ticket feed: the changes the server holds after the gates' bundle, to every gate at `at`. */
  feed(at: number): void {
    const changes = this.store.changesFrom(this.store.feedBase() + 1, MAX_REPLAY_ITEMS);
    if (changes.length === 0) return;
    const text = { text: encodeFeed({ changes }) };
    for (const g of this.sectorOf.keys())
      this.deliver(g, at, (when) => ({ kind: "feed", at: when, gateId: g, payload: text }));
  }

  /** The deliveries of one sector due before `until`, with their shared payloads. */
  take(sector: number, until: number): { inbound: Inbound[]; payloads: string[] } {
    const all = this.deliveries[sector] ?? [];
    const due: Delivery[] = [];
    const rest: Delivery[] = [];
    for (const d of all) (d.at < until ? due : rest).push(d);
    this.deliveries[sector] = rest;
    const payloads: string[] = [];
    const index = new Map<object, number>();
    const inbound: Inbound[] = due.map((d): Inbound => {
      if (d.kind === "ack" || d.kind === "person") return d;
      let i = index.get(d.payload);
      if (i === undefined) {
        i = payloads.length;
        payloads.push(d.payload.text);
        index.set(d.payload, i);
      }
      return { kind: d.kind, at: d.at, gateId: d.gateId, payload: i };
    });
    return { inbound, payloads };
  }
}
