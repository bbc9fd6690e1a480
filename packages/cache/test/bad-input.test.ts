import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BundleError,
  CacheFileError,
  FeedError,
  FeedGapError,
  GateStore,
  LATEST_VERSION,
} from "../src/index.js";
import { type DemoDir, demoVenueDir } from "./helpers.js";

describe("bad input: clear errors, nothing half-applied", () => {
  let v: DemoDir;
  let n = 0;
  const path = () => join(v.temp, `bad-${++n}.db`);
  const open = (p: string, gateId = "A1") => GateStore.open(p, { rootPublicKey: v.rootPublicKey, gateId });

  beforeAll(() => {
    v = demoVenueDir(600, "bad-input");
  });
  afterAll(() => v.remove());

  describe("database files", () => {
    it("a file that is not SQLite", () => {
      const p = path();
      writeFileSync(p, "this is a venue plan, not a database\n".repeat(200));
      expect(() => open(p)).toThrow(CacheFileError);
      expect(() => open(p)).toThrow(/is not a SQLite database/);
      // Untouched: the gate must not scribble over a file it does not own.
      expect(readFileSync(p, "utf8")).toMatch(/^this is a venue plan/);
    });

    it("a SQLite database that is not a gate cache", () => {
      const p = path();
      const db = new Database(p);
      db.exec(
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5)",
      );
      db.close();
      expect(() => open(p)).toThrow(
        /is a SQLite database but not a Sésame gate cache \(application_id 0x0, tables: invoices\)/,
      );
      const after = new Database(p);
      expect(after.prepare("SELECT COUNT(*) AS n FROM sqlite_master").get()).toEqual({ n: 1 });
      after.close();
    });

    it("a cache from a newer schema", () => {
      const p = path();
      open(p).close();
      const db = new Database(p);
      db.pragma("user_version = 99");
      db.close();
      expect(() => open(p)).toThrow(
        new RegExp(`newer Sésame \\(schema 99; this one knows up to ${LATEST_VERSION}\\)`),
      );
    });

    it("a damaged cache", () => {
      const p = path();
      const store = open(p);
      store.importBundle(v.dir);
      store.close();
      const db = new Database(p);
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.close();
      const bytes = readFileSync(p);
      // Scribble over the pages after the header page: b-trees no longer make sense.
      for (let i = 4096 * 2; i < Math.min(bytes.length, 4096 * 12); i++) bytes[i] = (i * 31) & 0xff;
      writeFileSync(p, bytes);
      expect(() => open(p)).toThrow(/damaged|not a SQLite database/);
    });

    it("a cache another gate process holds open", () => {
      const p = path();
      const first = open(p);
      first.importBundle(v.dir);
      // Two processes numbering events in one cache would break the log: the second is refused.
      expect(() => open(p)).toThrow(/is in use by another process .*stop that gate first/);
      expect(first.lastGateSeq()).toBe(0);
      first.close();
      open(p).close();
    });

    it("a cache of another venue root key or another gate, or a directory", () => {
      const p = path();
      open(p, "A1").close();
      expect(() => open(p, "B1")).toThrow(/is the cache of gate A1, not B1/);
      expect(() => GateStore.open(p, { rootPublicKey: new Uint8Array(32).fill(7), gateId: "A1" })).toThrow(
        /another root key/,
      );
      expect(() => open(v.temp)).toThrow(/is a directory/);
    });
  });

  describe("gate bundles", () => {
    const copyVenue = (name: string) => {
      const dir = join(v.temp, name);
      mkdirSync(dir, { recursive: true });
      cpSync(v.dir, dir, { recursive: true });
      return dir;
    };

    it("a bundle with one byte flipped is refused and nothing is imported", () => {
      const dir = copyVenue("flipped");
      const file = join(dir, "gate-bundle.json");
      const bytes = readFileSync(file);
      const i = bytes.indexOf(Buffer.from('"tickets":[[')) + 14; // inside the first ticket's id
      bytes[i] = (bytes[i] ?? 0) ^ 0x01;
      writeFileSync(file, bytes);
      const store = open(path());
      expect(() => store.importBundle(dir)).toThrow(BundleError);
      expect(() => store.importBundle(dir)).toThrow(/signature does not match/);
      expect(store.imported).toBe(false);
      expect(() => store.facts()).toThrow(/import the venue's gate bundle first/);
      store.close();
    });

    it("a bad bundle over a good cache leaves the good data in place", () => {
      const store = open(path());
      store.importBundle(v.dir);
      const name = v.demo.bundle.tickets[0]?.holder.split(" ").at(-1) ?? "";
      const found = () => store.lookup(name, { at: 0, sessions: [1, 2], limit: 200 }).hits.length;
      const before = found();
      expect(before).toBeGreaterThan(0);
      const dir = copyVenue("truncated");
      writeFileSync(
        join(dir, "gate-bundle.json"),
        readFileSync(join(dir, "gate-bundle.json")).subarray(0, 1000),
      );
      expect(() => store.importBundle(dir)).toThrow(/signature does not match/);
      const missing = copyVenue("unsigned");
      writeFileSync(join(missing, "gate-bundle.sig"), "not hex\n");
      expect(() => store.importBundle(missing)).toThrow(/gate-bundle.sig: is not a 64-byte hex signature/);
      expect(() => store.importBundle(join(v.temp, "nowhere"))).toThrow(/not found/);
      expect(store.facts().ticket(v.demo.bundle.tickets[0]?.id ?? 0)).toBeDefined();
      expect(found()).toBe(before);
      store.close();
    });

    it("a bundle for a gate the venue does not have", () => {
      const store = open(path(), "Z9");
      expect(() => store.importBundle(v.dir)).toThrow(/gate Z9 is not a gate of venue SDF \(its gates: A1/);
      expect(store.imported).toBe(false);
      store.close();
    });

    it("a bundle older than the feed already applied", () => {
      const store = open(path());
      store.importBundle(v.dir);
      store.applyChanges(v.demo.changes);
      expect(() => store.importBundle(v.dir)).toThrow(/refusing to go back/);
      expect(store.feedSequence).toBe(v.demo.bundle.feedSequence + v.demo.changes.length);
      store.close();
    });
  });

  describe("ticket feed changes", () => {
    const imported = () => {
      const store = open(path());
      store.importBundle(v.dir);
      return store;
    };
    const late = () => v.demo.changes.map((c) => c);

    it("out of order: refused with the missing sequence, nothing applied", () => {
      const store = imported();
      const base = store.feedSequence;
      const [a, b] = late();
      if (!a || !b) throw new Error("the demo needs two late sales");
      let error: unknown;
      try {
        store.applyChanges([b, a]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FeedGapError);
      expect((error as FeedGapError).missing).toBe(base + 1);
      expect(String(error)).toMatch(
        new RegExp(`change ${base + 2} received but change ${base + 1} is missing`),
      );
      expect(store.feedSequence).toBe(base);
      expect(store.facts().ticket(a.type === "issue" ? a.ticket.id : 0)).toBeUndefined();
      // A gap after good changes in the same batch: the good ones are not applied either.
      expect(() => store.applyChanges([a, { ...b, sequence: base + 5 }])).toThrow(/change \d+ is missing/);
      expect(store.feedSequence).toBe(base);
      store.close();
    });

    it("repeated: a no-op when identical, an error when it differs", () => {
      const store = imported();
      const changes = late();
      const [a] = changes;
      if (a?.type !== "issue") throw new Error("late sale expected");
      expect(store.applyChanges([a, a]).applied).toBe(1);
      expect(store.applyChanges([a])).toMatchObject({ applied: 0, repeated: 1 });
      // The same change with its keys in another order is the same change.
      const reordered = JSON.parse(JSON.stringify({ type: a.type, ticket: a.ticket, sequence: a.sequence }));
      expect(store.applyChanges([reordered]).repeated).toBe(1);
      const conflicting = { ...a, ticket: { ...a.ticket, holder: "Quelqu'un d'autre" } };
      expect(() => store.applyChanges([conflicting])).toThrow(/ticket feed conflict: change \d+ differs/);
      expect(store.facts().ticket(a.ticket.id)?.holder).toBe(a.ticket.holder);
      store.close();
    });

    it("malformed or impossible changes: refused with the reason, the batch rolled back", () => {
      const store = imported();
      const base = store.feedSequence;
      const good = late()[0];
      if (!good) throw new Error("late sale expected");
      const bad: unknown[] = [
        { sequence: base + 2, type: "teleport", ticketId: 1 },
        { sequence: base + 2, type: "cancel", ticketId: 99 },
        {
          sequence: base + 2,
          type: "resale",
          ticketId: v.demo.bundle.tickets[0]?.id,
          generation: 1,
          holder: "X",
        },
        { sequence: "next", type: "cancel", ticketId: 1 },
        null,
      ];
      const messages = [
        /change\[1\]\.type must be one of issue, resale, transfer, cancel, got "teleport"/,
        /about ticket 99, which this cache does not hold/,
        /generation must be a whole number from 2/,
        /change\[1\]\.sequence must be a whole number/,
        /change\[1\] must be an object/,
      ];
      bad.forEach((change, i) => {
        expect(() => store.applyChanges([good, change as never])).toThrow(FeedError);
        expect(() => store.applyChanges([good, change as never])).toThrow(messages[i] as RegExp);
        expect(store.feedSequence).toBe(base);
      });
      store.close();
    });
  });

  it("a cache survives being copied while closed (WAL checkpointed on close)", () => {
    const p = path();
    const store = open(p);
    store.importBundle(v.dir);
    store.close();
    const copy = path();
    copyFileSync(p, copy);
    const reopened = open(copy);
    expect(reopened.imported).toBe(true);
    reopened.close();
  });
});
