import type { Venue } from "@sesame/venue";
import type Database from "better-sqlite3";

/* Key-value settings of a store: the venue, feed base, trust list, command seed, broker password. */
export class MetaRepository {
  private readonly get;
  private readonly set;

  constructor(db: Database.Database) {
    this.get = db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?");
    this.set = db.prepare<[string, string]>(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    );
  }

  meta(key: string): string | undefined {
    return this.get.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.set.run(key, value);
  }

  venueOrUndefined(): Venue | undefined {
    const v = this.meta("venue");
    return v === undefined ? undefined : (JSON.parse(v) as Venue);
  }

  venue(): Venue {
    const v = this.venueOrUndefined();
    if (!v) throw new Error("the store holds no venue yet (not initialised from a venue directory)");
    return v;
  }
}
