import type { Command, CommandAck, CommandAckStatus } from "@sesame/sync";
import type Database from "better-sqlite3";

/* Commands sent to gates and each gate's acknowledgement. */

export interface CommandAckRecord {
  readonly gateId: string;
  readonly status: CommandAckStatus;
  readonly detail: string | null;
  readonly at: number;
}

export interface CommandRecord {
  readonly command: Command;
  readonly acks: CommandAckRecord[];
}

export class CommandRepository {
  constructor(private readonly db: Database.Database) {}

  insertCommand(command: Command): void {
    this.db
      .prepare("INSERT INTO commands (id, json, issued_at) VALUES (?, ?, ?)")
      .run(command.id, JSON.stringify(command), command.issuedAt);
  }

  /** False for a command this server never sent. */
  recordCommandAck(gateId: string, ack: CommandAck): boolean {
    const known = this.db.prepare("SELECT 1 FROM commands WHERE id = ?").get(ack.commandId);
    if (!known) return false;
    this.db
      .prepare(
        `INSERT INTO command_acks (command_id, gate_id, status, detail, at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(command_id, gate_id) DO UPDATE SET status = excluded.status, detail = excluded.detail, at = excluded.at`,
      )
      .run(ack.commandId, gateId, ack.status, ack.detail ?? null, ack.at);
    return true;
  }

  /** The most recent commands, newest first, with their acknowledgements. */
  recentCommands(limit: number): CommandRecord[] {
    const ids = this.db
      .prepare<[number], { id: string }>(
        "SELECT id FROM commands ORDER BY issued_at DESC, rowid DESC LIMIT ?",
      )
      .all(limit);
    return ids.flatMap((r) => {
      const c = this.command(r.id);
      return c ? [c] : [];
    });
  }

  command(id: string): CommandRecord | undefined {
    const row = this.db.prepare("SELECT json FROM commands WHERE id = ?").get(id) as
      | { json: string }
      | undefined;
    if (!row) return undefined;
    const acks = (
      this.db
        .prepare("SELECT gate_id, status, detail, at FROM command_acks WHERE command_id = ? ORDER BY gate_id")
        .all(id) as Array<{ gate_id: string; status: CommandAckStatus; detail: string | null; at: number }>
    ).map((a) => ({ gateId: a.gate_id, status: a.status, detail: a.detail, at: a.at }));
    return { command: JSON.parse(row.json) as Command, acks };
  }
}
