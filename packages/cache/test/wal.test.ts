import { cpSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createNodeSigner } from "@sesame/ticket";
import { decodeGateBundle, encodeGateBundle, signBundleBytes } from "@sesame/venue";
import type Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BundleError, GateStore } from "../src/index.js";
import { type DemoDir, DURING, demoVenueDir } from "./helpers.js";

/*
 * How the cache keeps its commits cheap without giving up durability: a WAL file that keeps its
 * size (commits overwrite it rather than extend it), checkpointed between scans, never inside one;
 * an import that is one transaction, all or nothing.
 */
const raw = (store: GateStore) => (store as unknown as { db: Database.Database }).db;
const nextEvent = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("WAL upkeep and the first import", () => {
  let v: DemoDir;
  let n = 0;
  const path = () => join(v.temp, `wal-${++n}.db`);
  const open = (p: string, checkpointEvery?: number) =>
    GateStore.open(p, {
      rootPublicKey: v.rootPublicKey,
      gateId: "A1",
      ...(checkpointEvery !== undefined ? { checkpointEvery } : {}),
    });

  beforeAll(() => {
    v = demoVenueDir(400, "wal-test");
  });
  afterAll(() => v.remove());

  it("an import is checkpointed, and the WAL file keeps its size for the scans to overwrite", () => {
    const p = path();
    const store = open(p);
    store.importBundle(v.dir);
    const size = statSync(`${p}-wal`).size;
    expect(size).toBeGreaterThan(16 * 4096);
    // Everything is in the database file; only the write that restarted the WAL is in it.
    const [r] = raw(store).pragma("wal_checkpoint(NOOP)") as Array<{ log: number; checkpointed: number }>;
    expect(r?.log ?? 99).toBeLessThanOrEqual(2);
    for (let i = 0; i < 20; i++) store.recordFreePassage(1, DURING + i);
    expect(statSync(`${p}-wal`).size).toBe(size);
    store.close();
  });

  it("an import that fails half-way leaves the empty cache, ready for a good one", () => {
    // Validly signed, but two tickets share an id: the insert fails after all the others went in.
    const dir = join(v.temp, "duplicate");
    cpSync(v.dir, dir, { recursive: true });
    const file = join(dir, "gate-bundle.json");
    const bundle = decodeGateBundle(readFileSync(file));
    const last = bundle.tickets.at(-1);
    if (!last) throw new Error("empty demo bundle");
    const bytes = encodeGateBundle({ ...bundle, tickets: [...bundle.tickets, { ...last }] });
    writeFileSync(file, bytes);
    writeFileSync(
      join(dir, "gate-bundle.sig"),
      `${signBundleBytes(bytes, Buffer.from(v.demo.secrets.rootSeed, "hex"), createNodeSigner())}\n`,
    );
    const p = path();
    const store = open(p);
    expect(() => store.importBundle(dir)).toThrow(BundleError);
    expect(() => store.importBundle(dir)).toThrow(/UNIQUE constraint failed: tickets\.id/);
    expect(store.imported).toBe(false);
    const count = raw(store).prepare("SELECT COUNT(*) AS n FROM tickets").get() as { n: number };
    expect(count.n).toBe(0);
    store.importBundle(v.dir);
    expect(store.imported).toBe(true);
    store.close();
  });

  it("checkpoints the WAL once the event loop is free, after `checkpointEvery` commits", async () => {
    const store = open(path(), 5);
    store.importBundle(v.dir);
    const checkpointedAt = () =>
      (
        raw(store).prepare("SELECT value FROM meta WHERE key = 'checkpointed_at'").get() as
          | { value: string }
          | undefined
      )?.value;
    // Whether a checkpoint ran is read from the WAL's frames, not from checkpointed_at: an ISO time
    // to the millisecond, which a fast machine writes twice in the same millisecond.
    const wal = () => {
      const [r] = raw(store).pragma("wal_checkpoint(NOOP)") as Array<{ log: number; checkpointed: number }>;
      return { log: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0 };
    };
    await nextEvent();
    const before = checkpointedAt();
    const afterImport = wal().log;
    for (let i = 0; i < 4; i++) store.recordFreePassage(1, DURING + i);
    await nextEvent();
    expect(checkpointedAt()).toBe(before);
    expect(wal().log).toBeGreaterThan(afterImport);
    store.recordFreePassage(1, DURING + 4);
    // Never inside the call that committed: the caller is waiting for it to open the lane.
    expect(checkpointedAt()).toBe(before);
    const pending = wal();
    expect(pending.log).toBeGreaterThan(pending.checkpointed);
    await nextEvent();
    expect(checkpointedAt()).toBeDefined();
    // Only the header-rewriting write that follows a checkpoint is in the WAL now.
    const after = wal();
    expect(after.log).toBeLessThanOrEqual(2);
    expect(after.log).toBeLessThan(pending.log);
    store.close();
  });

  it("checkpointEvery 0 leaves checkpoints to the owner", async () => {
    const store = open(path(), 0);
    store.importBundle(v.dir);
    for (let i = 0; i < 300; i++) store.recordFreePassage(1, DURING + i);
    await nextEvent();
    const [r] = raw(store).pragma("wal_checkpoint(NOOP)") as Array<{ log: number; checkpointed: number }>;
    expect(r?.log ?? 0).toBeGreaterThanOrEqual(300);
    store.checkpoint();
    store.close();
  });
});
