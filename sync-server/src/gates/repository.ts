import type { GateHeartbeat } from "@sesame/sync";
import type Database from "better-sqlite3";

/*
 * The gates of a store: provisioning (keys, password and token hashes), presence, acknowledged
 * sequence, quarantine.
 */

/** A supervisor took the gate out of the venue network: its batches are refused until it is provisioned again. */
export interface Quarantine {
  readonly at: number;
  readonly by: string;
  readonly reason: string;
}

/** Who gave the gate its current credentials, when, and whether it was online then (forced). */
export interface ProvisioningRecord {
  readonly at: number;
  readonly by: string;
  readonly forced: boolean;
}

export interface GateRecord {
  readonly gateId: string;
  readonly entrance: number;
  readonly publicKey: string | null;
  readonly mqttHash: string | null;
  readonly httpTokenHash: string | null;
  readonly provisionedAt: number | null;
  /** Null before the first provisioning; `by` is "" for a store from before it was recorded. */
  readonly provisioning: ProvisioningRecord | null;
  readonly ackedSeq: number;
  readonly status: "online" | "offline" | "unknown";
  readonly statusAt: number | null;
  readonly heartbeat: (GateHeartbeat & { readonly receivedAt: number }) | null;
  readonly quarantine: Quarantine | null;
}

interface GateRow {
  gate_id: string;
  entrance: number;
  public_key: string | null;
  mqtt_hash: string | null;
  http_token_hash: string | null;
  provisioned_at: number | null;
  /** Absent in a read-only store opened on a data directory from before they were recorded. */
  provisioned_by?: string | null;
  provisioned_forced?: number;
  acked_seq: number;
  status: string;
  status_at: number | null;
  heartbeat: string | null;
  heartbeat_at: number | null;
  /** Absent in a read-only store opened on a data directory from before quarantine. */
  quarantined_at?: number | null;
  quarantined_by?: string | null;
  quarantine_reason?: string | null;
}

function quarantineOfRow(r: GateRow): Quarantine | null {
  return r.quarantined_at === null || r.quarantined_at === undefined
    ? null
    : { at: r.quarantined_at, by: r.quarantined_by ?? "", reason: r.quarantine_reason ?? "" };
}

function gateOfRow(r: GateRow): GateRecord {
  return {
    gateId: r.gate_id,
    entrance: r.entrance,
    publicKey: r.public_key,
    mqttHash: r.mqtt_hash,
    httpTokenHash: r.http_token_hash,
    provisionedAt: r.provisioned_at,
    provisioning:
      r.provisioned_at === null
        ? null
        : { at: r.provisioned_at, by: r.provisioned_by ?? "", forced: r.provisioned_forced === 1 },
    ackedSeq: r.acked_seq,
    status: r.status === "online" || r.status === "offline" ? r.status : "unknown",
    statusAt: r.status_at,
    heartbeat:
      r.heartbeat === null || r.heartbeat_at === null
        ? null
        : { ...(JSON.parse(r.heartbeat) as GateHeartbeat), receivedAt: r.heartbeat_at },
    quarantine: quarantineOfRow(r),
  };
}

export class GateRepository {
  private readonly stmt;
  /** Every event stored is tagged with its gate's entrance: kept in memory. */
  private readonly entrances = new Map<string, number>();
  /** Every batch asks whether its gate is quarantined: kept in memory too. */
  private readonly quarantined = new Map<string, Quarantine>();

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      gate: db.prepare<[string], GateRow>("SELECT * FROM gates WHERE gate_id = ?"),
      gates: db.prepare<[], GateRow>("SELECT * FROM gates ORDER BY gate_id"),
      ackedSeq: db.prepare<[string], { acked_seq: number }>("SELECT acked_seq FROM gates WHERE gate_id = ?"),
      setAcked: db.prepare<[number, string]>("UPDATE gates SET acked_seq = ? WHERE gate_id = ?"),
    };
    this.reload();
  }

  reload(): void {
    this.quarantined.clear();
    for (const g of this.stmt.gates.all()) {
      this.entrances.set(g.gate_id, g.entrance);
      const q = quarantineOfRow(g);
      if (q) this.quarantined.set(g.gate_id, q);
    }
  }

  quarantineOf(gateId: string): Quarantine | undefined {
    return this.quarantined.get(gateId);
  }

  /** Records the quarantine (the first one stands while it lasts); false for a gate the store does not know. */
  quarantine(gateId: string, q: Quarantine): boolean {
    const info = this.db
      .prepare<[number, string, string, string]>(
        `UPDATE gates SET quarantined_at = ?, quarantined_by = ?, quarantine_reason = ?
         WHERE gate_id = ? AND quarantined_at IS NULL`,
      )
      .run(q.at, q.by, q.reason, gateId);
    if (info.changes === 1) this.quarantined.set(gateId, q);
    return info.changes === 1;
  }

  gate(gateId: string): GateRecord | undefined {
    const row = this.stmt.gate.get(gateId);
    return row ? gateOfRow(row) : undefined;
  }

  gates(): GateRecord[] {
    return this.stmt.gates.all().map(gateOfRow);
  }

  entranceOf(gateId: string): number | null {
    return this.entrances.get(gateId) ?? null;
  }

  /** The last gateSeq stored for a gate; undefined for a gate the store does not know. */
  ackedSeq(gateId: string): number | undefined {
    return this.stmt.ackedSeq.get(gateId)?.acked_seq;
  }

  setAcked(gateId: string, seq: number): void {
    this.stmt.setAcked.run(seq, gateId);
  }

  /** A gate of the venue's list, known before it is provisioned. */
  addVenueGate(gateId: string, entrance: number): void {
    this.db.prepare("INSERT OR IGNORE INTO gates (gate_id, entrance) VALUES (?, ?)").run(gateId, entrance);
  }

  saveProvisioning(
    gateId: string,
    entrance: number,
    publicKey: string,
    mqttHash: string,
    httpTokenHash: string,
    provisioning: ProvisioningRecord,
  ): void {
    this.db
      .prepare(
        `INSERT INTO gates (gate_id, entrance, public_key, mqtt_hash, http_token_hash, provisioned_at,
           provisioned_by, provisioned_forced)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(gate_id) DO UPDATE SET entrance = excluded.entrance, public_key = excluded.public_key,
           mqtt_hash = excluded.mqtt_hash, http_token_hash = excluded.http_token_hash,
           provisioned_at = excluded.provisioned_at, provisioned_by = excluded.provisioned_by,
           provisioned_forced = excluded.provisioned_forced,
           quarantined_at = NULL, quarantined_by = NULL, quarantine_reason = NULL`,
      )
      .run(
        gateId,
        entrance,
        publicKey,
        mqttHash,
        httpTokenHash,
        provisioning.at,
        provisioning.by,
        provisioning.forced ? 1 : 0,
      );
    this.entrances.set(gateId, entrance);
    // Provisioned again (new keys): the quarantine ends.
    this.quarantined.delete(gateId);
  }

  setGateStatus(gateId: string, status: "online" | "offline", at: number): void {
    this.db.prepare("UPDATE gates SET status = ?, status_at = ? WHERE gate_id = ?").run(status, at, gateId);
  }

  setGateHeartbeat(gateId: string, heartbeat: GateHeartbeat, at: number): void {
    this.db
      .prepare("UPDATE gates SET heartbeat = ?, heartbeat_at = ? WHERE gate_id = ?")
      .run(JSON.stringify(heartbeat), at, gateId);
  }
}
