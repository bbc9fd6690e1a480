import type Database from "better-sqlite3";

/* Everything refused (MQTT messages, broker sign-ins, events of a batch), kept with its reason. */

export interface RejectionRecord {
  readonly id: number;
  readonly at: number;
  /** Gate id, MQTT username or client address. */
  readonly source: string;
  readonly topic: string | null;
  readonly reason: string;
  readonly detail: string;
}

export class RejectionRepository {
  private readonly insert;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare<[number, string, string | null, string, string, string | null]>(
      "INSERT INTO rejections (at, source, topic, reason, detail, raw) VALUES (?, ?, ?, ?, ?, ?)",
    );
  }

  /** `raw` is cut to `rawLimit` characters: enough to see what came, not a way to fill the disk. */
  record(
    at: number,
    source: string,
    topic: string | undefined,
    reason: string,
    detail: string,
    raw?: string,
    rawLimit = 2048,
  ): RejectionRecord {
    const info = this.insert.run(
      at,
      source,
      topic ?? null,
      reason,
      detail,
      raw === undefined ? null : raw.slice(0, rawLimit),
    );
    return { id: Number(info.lastInsertRowid), at, source, topic: topic ?? null, reason, detail };
  }

  recent(limit = 100, source?: string): RejectionRecord[] {
    return (
      source === undefined
        ? this.db
            .prepare("SELECT id, at, source, topic, reason, detail FROM rejections ORDER BY id DESC LIMIT ?")
            .all(limit)
        : this.db
            .prepare(
              "SELECT id, at, source, topic, reason, detail FROM rejections WHERE source = ? ORDER BY id DESC LIMIT ?",
            )
            .all(source, limit)
    ) as RejectionRecord[];
  }
}
