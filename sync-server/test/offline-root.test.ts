import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { captureOutput, makeTempDir } from "@sesame/testing";
import { createNodeSigner, type SignedTrustListJson, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, readRootKeyFile, VENUE_FILES, writeVenueDirectory } from "@sesame/venue";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runOperationsCertificateCommand } from "../src/cli.js";
import { openServerStore } from "../src/db/open.js";
import { operationsCertificate, operationsPublicKey } from "../src/keys/operations.js";
import {
  runMigrateRootCommand,
  runRootOperationsCertificateCommand,
  runRootTrustListCommand,
} from "../src/root/cli.js";
import { certifyOperationsKey } from "../src/root/root-signing.js";
import { setUpServer } from "../src/root/set-up.js";
import { revokeIssuerKeyOffline } from "../src/root/testing.js";
import { SyncServer } from "../src/server.js";
import { TOKENS, World, waitFor } from "./harness.js";

/*
 * The venue root key stays offline (docs/design.md §9): the server starts and runs without it,
 * takes only what the root signed, and says what to run when its operations certificate is missing
 * or has ended; an existing venue's root seed is moved out by `sesame venue migrate-root`.
 */

function io() {
  const { stdout, stderr, out, err } = captureOutput();
  return {
    io: { stdout, stderr, now: () => Date.now(), interrupted: new Promise<void>(() => {}) },
    out,
    err,
  };
}

/** Every file under a directory, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function demoVenue(dir: string, name: string): string {
  const venueDir = join(dir, name);
  writeVenueDirectory(
    venueDir,
    generateDemoVenue({
      spectators: 50,
      doorsOpenMs: Date.now(),
      entrances: 2,
      lanes: 4,
      random: seededRandom(`offline-root-${name}`),
      signer: createNodeSigner(),
    }),
    createNodeSigner(),
  );
  return venueDir;
}

describe("the venue server without the root key", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("starts and runs with the root key file out of its reach and no root seed in any file it reads", async () => {
    world = await World.create("aedes");
    const rootKeyFile = join(world.venueDir, VENUE_FILES.rootKey);
    const rootSeedHex = Buffer.from(readRootKeyFile(rootKeyFile)).toString("hex");
    await world.requireServer().stop();
    // The root holder takes the file away: nothing the server can read holds the seed.
    const offline = join(world.dir.path, "offline");
    mkdirSync(offline);
    renameSync(rootKeyFile, join(offline, "root-key.json"));
    expect(JSON.parse(readFileSync(join(world.venueDir, VENUE_FILES.secrets), "utf8"))).not.toHaveProperty(
      "rootSeed",
    );
    for (const file of [...filesUnder(world.venueDir), ...filesUnder(world.dataDir)])
      expect(readFileSync(file).includes(Buffer.from(rootSeedHex)), file).toBe(false);

    const server = await world.startServer();
    const a = world.gate("A1");
    await waitFor(() => a.store.trustListVersion() === 1, 15_000, "trust list at the gate");
    // It provisions gates and signs commands with its own, root-certified operations key.
    const again = await world.api("POST", "/api/gates/B1/provision", world.gateKey("B1").request);
    expect(again.status).toBe(200);
    expect(operationsCertificate(server.store)?.publicKey).toBe(server.commandPublicKey);
  });

  it("a trust list with a bad signature, or whose version does not rise: refused, logged, alerted, nothing changes", async () => {
    world = await World.create("aedes");
    const server = world.requireServer();
    const a = world.gate("A1");
    await waitFor(() => a.store.trustListVersion() === 1, 15_000, "trust list at the gate");
    const held = server.store.trustList();
    const next = revokeIssuerKeyOffline(server.store, world.venueDir, 1, Date.now());
    const refusals: Array<[SignedTrustListJson | object, number, RegExp]> = [
      // The revocation without the root's signature: a key's flag turned back.
      [
        { ...next, keys: next.keys.map((k) => ({ ...k, revoked: false })) },
        409,
        /bad-signature: trust list refused: the trust list is not signed by this venue's root key/,
      ],
      // The list held, sent again, and an older one (its version lowered: that breaks the signature too).
      [
        held,
        409,
        /rollback: trust list refused: trust list version 1 does not rise above the one held \(1\)/,
      ],
      [{ format: "sesame-trust-list/1" }, 400, /invalid: trust list refused: /],
    ];
    for (const [list, status, line] of refusals) {
      const before = server.store.alerts(1000).filter((x) => x.type === "forged-message").length;
      const response = await world.api("POST", "/api/keys/trust-list", list);
      expect(response.status).toBe(status);
      expect(world.serverLog.filter((l) => line.test(l))).toHaveLength(1);
      expect(world.serverLog.find((l) => line.test(l))).toMatch(
        /^rejected from admin ticketing on sesame\/SDF\/trust-list: /,
      );
      expect(server.store.alerts(1000).filter((x) => x.type === "forged-message")).toHaveLength(before + 1);
      expect(server.store.trustList()).toEqual(held);
      expect(server.store.issuerKeys().every((k) => !k.revoked)).toBe(true);
    }
    expect(a.store.trustListVersion()).toBe(1);
    // A supervisor may not publish one, however signed.
    expect((await world.api("POST", "/api/keys/trust-list", next, TOKENS[1]?.token)).status).toBe(403);

    // The root's own next list: stored, published, applied by the gate.
    const accepted = await world.api("POST", "/api/keys/trust-list", next);
    expect(accepted.status).toBe(200);
    expect(accepted.json).toEqual({ version: 2 });
    await waitFor(() => a.store.trustListVersion() === 2, 10_000, "the new list at the gate");
    expect(server.store.issuerKeys().find((k) => k.keyId === 1)?.revoked).toBe(true);
  });

  it("takes a newer trust list from the venue directory at start, and refuses one the root did not sign", async () => {
    world = await World.create("aedes");
    let server = world.requireServer();
    const next = revokeIssuerKeyOffline(server.store, world.venueDir, 1, Date.now());
    const venueList = join(world.venueDir, VENUE_FILES.trustList);
    await server.stop();
    writeFileSync(
      venueList,
      JSON.stringify({ ...next, keys: next.keys.map((k) => ({ ...k, revoked: false })) }),
    );
    server = await world.startServer();
    expect(server.store.trustList().version).toBe(1);
    expect(
      world.serverLog.filter((l) =>
        /^rejected from venue directory \(trust-list.json\) on .*bad-signature/.test(l),
      ),
    ).toHaveLength(1);
    expect(server.store.alerts(1000).filter((x) => x.type === "forged-message")).toHaveLength(1);
    await server.stop();
    writeFileSync(venueList, JSON.stringify(next));
    server = await world.startServer();
    expect(server.store.trustList().version).toBe(2);
    expect(world.serverLog).toContain(
      "trust list version 2 from venue directory (trust-list.json) published",
    );
  });
});

describe("the operations certificate, signed offline", () => {
  const dir = makeTempDir("sesame-offline-root-");
  afterAll(() => dir.remove());

  it("missing or expired: the server does not start and says exactly what to run; following it, it starts", async () => {
    const venueDir = demoVenue(dir.path, "venue");
    const dataDir = join(dir.path, "data");
    const store = openServerStore(venueDir, dataDir, Date.now());
    const publicKey = operationsPublicKey(store);
    store.close();
    const steps =
      `on the machine holding the venue root key run \`sesame root operations-certificate --root ROOT-KEY-FILE --venue ${venueDir} --key ${publicKey} --out operations-certificate.json\`, ` +
      `then here \`sesame operations-certificate --venue ${venueDir} --data ${dataDir} --install operations-certificate.json\``;
    const start = () =>
      SyncServer.start({ venueDir, dataDir, broker: { kind: "embedded", mode: "in-process" } });
    await expect(start()).rejects.toThrow(`the operations key has no certificate: ${steps}`);

    // A certificate that ended yesterday.
    const longAgo = Date.now() - 31 * 86_400_000;
    setUpServer(venueDir, dataDir, { now: longAgo, days: 30 });
    const ended = new Date(longAgo + 30 * 86_400_000).toISOString();
    await expect(start()).rejects.toThrow(`the operations certificate expired ${ended}: ${steps}`);

    // The two steps the message names; the server's side refuses what is not for its key.
    const rootKeyFile = join(venueDir, VENUE_FILES.rootKey);
    const certificateFile = join(dir.path, "operations-certificate.json");
    const sign = io();
    expect(
      await runRootOperationsCertificateCommand(
        [
          "--root",
          rootKeyFile,
          "--venue",
          venueDir,
          "--key",
          publicKey,
          "--days",
          "10",
          "--out",
          certificateFile,
        ],
        sign.io,
      ),
    ).toBe(0);
    expect(sign.out()).toMatch(
      /certified until .*install it on the venue server: sesame operations-certificate/s,
    );
    const otherKey = join(dir.path, "other.json");
    writeFileSync(
      otherKey,
      JSON.stringify(
        certifyOperationsKey(
          readRootKeyFile(rootKeyFile),
          JSON.parse(readFileSync(join(venueDir, "venue.json"), "utf8")),
          "ab".repeat(32),
          {
            now: Date.now(),
            signer: createNodeSigner(),
          },
        ),
      ),
    );
    const wrong = io();
    expect(
      await runOperationsCertificateCommand(
        ["--venue", venueDir, "--data", dataDir, "--install", otherKey],
        wrong.io,
      ),
    ).toBe(1);
    expect(wrong.err()).toMatch(
      `it certifies key ${"ab".repeat(32)}, not this server's operations key ${publicKey}`,
    );
    const forged = JSON.parse(readFileSync(certificateFile, "utf8")) as { notAfter: number };
    writeFileSync(otherKey, JSON.stringify({ ...forged, notAfter: forged.notAfter + 86_400_000 }));
    const tampered = io();
    expect(
      await runOperationsCertificateCommand(
        ["--venue", venueDir, "--data", dataDir, "--install", otherKey],
        tampered.io,
      ),
    ).toBe(1);
    expect(tampered.err()).toMatch(
      /refused \(bad-signature\): operations certificate not signed by the venue root key/,
    );
    const install = io();
    expect(
      await runOperationsCertificateCommand(
        ["--venue", venueDir, "--data", dataDir, "--install", certificateFile],
        install.io,
      ),
    ).toBe(0);
    expect(install.out()).toMatch(`operations key ${publicKey} of venue SDF certified until`);
    const server = await start();
    await server.stop();
    // Without option: the key to certify and the steps.
    const show = io();
    expect(
      await runOperationsCertificateCommand(
        ["--venue", venueDir, "--data", join(dir.path, "fresh")],
        show.io,
      ),
    ).toBe(0);
    expect(show.out()).toMatch(
      /has no certificate yet: on the machine holding the venue root key run `sesame root operations-certificate/,
    );
  });

  it("sesame root trust-list signs the next version from the one held, refusing what makes no sense", async () => {
    const venueDir = demoVenue(dir.path, "venue-trust");
    const rootKeyFile = join(venueDir, VENUE_FILES.rootKey);
    const out = join(dir.path, "trust-list-2.json");
    const add = `7:${"cd".repeat(32)}:30`;
    const t = io();
    expect(
      await runRootTrustListCommand(
        ["--root", rootKeyFile, "--venue", venueDir, "--add", add, "--revoke", "1", "--out", out],
        t.io,
      ),
    ).toBe(0);
    const list = JSON.parse(readFileSync(out, "utf8")) as SignedTrustListJson;
    expect(list.version).toBe(2);
    expect(list.keys.map((k) => [k.keyId, k.revoked])).toEqual([
      [1, true],
      [7, false],
    ]);
    expect(t.out()).toMatch(/POST it to \/api\/keys\/trust-list/);
    const twice = io();
    expect(
      await runRootTrustListCommand(
        ["--root", rootKeyFile, "--venue", venueDir, "--from", out, "--revoke", "1", "--out", out],
        twice.io,
      ),
    ).toBe(1);
    expect(twice.err()).toMatch(/issuer key 1 is already revoked/);
    const otherRoot = join(demoVenue(dir.path, "venue-other"), VENUE_FILES.rootKey);
    const foreign = io();
    expect(
      await runRootTrustListCommand(
        ["--root", otherRoot, "--venue", venueDir, "--revoke", "1", "--out", out],
        foreign.io,
      ),
    ).toBe(1);
    expect(foreign.err()).toMatch(/is not the root key of this venue/);
  });
});

describe("sesame venue migrate-root", () => {
  const dir = makeTempDir("sesame-migrate-root-");
  afterAll(() => dir.remove());

  it("moves the root seed out of the venue directory, certifies, checks the trust list, and only then removes it", async () => {
    // A venue as set up before: the root seed in secrets/keys.json, the server's store without a certificate.
    const venueDir = demoVenue(dir.path, "venue");
    const secretsPath = join(venueDir, VENUE_FILES.secrets);
    const rootSeed = Buffer.from(readRootKeyFile(join(venueDir, VENUE_FILES.rootKey))).toString("hex");
    const secrets = JSON.parse(readFileSync(secretsPath, "utf8")) as Record<string, unknown>;
    writeFileSync(secretsPath, JSON.stringify({ rootSeed, ...secrets }));
    renameSync(join(venueDir, VENUE_FILES.rootKey), join(dir.path, "not-here.json"));
    const dataDir = join(dir.path, "data");
    openServerStore(venueDir, dataDir, Date.now()).close();

    // A root key file of another venue where the new one should go: refused, nothing moved.
    const foreign = join(demoVenue(dir.path, "venue-other"), VENUE_FILES.rootKey);
    const refused = io();
    expect(
      await runMigrateRootCommand(
        ["--venue", venueDir, "--data", dataDir, "--root-out", foreign],
        refused.io,
      ),
    ).toBe(1);
    expect(refused.err()).toMatch(/is not the root key of this venue/);
    expect(JSON.parse(readFileSync(secretsPath, "utf8")).rootSeed).toBe(rootSeed);

    const rootOut = join(dir.path, "offline", "venue-root.json");
    const t = io();
    expect(
      await runMigrateRootCommand(["--venue", venueDir, "--data", dataDir, "--root-out", rootOut], t.io),
    ).toBe(0);
    expect(Buffer.from(readRootKeyFile(rootOut)).toString("hex")).toBe(rootSeed);
    expect(statSync(rootOut).mode & 0o777).toBe(0o600);
    const left = JSON.parse(readFileSync(secretsPath, "utf8")) as Record<string, unknown>;
    expect(left).not.toHaveProperty("rootSeed");
    expect(left.issuerSeeds).toEqual(secrets.issuerSeeds);
    expect(statSync(secretsPath).mode & 0o777).toBe(0o600);
    for (const file of [...filesUnder(venueDir), ...filesUnder(dataDir)])
      expect(readFileSync(file).includes(Buffer.from(rootSeed)), file).toBe(false);
    expect(t.out()).toContain(`moved the venue root seed from ${secretsPath} to ${rootOut} (mode 0600)`);
    expect(t.out()).toMatch(/operations key [0-9a-f]{64} certified until/);
    expect(t.out()).toContain("trust list version 1 held by the server: signed by the root");
    expect(t.out()).toContain(`removed the root seed from ${secretsPath}`);
    expect(t.out()).toContain(`take ${rootOut} offline now`);

    // The server starts on what the migration left.
    const server = await SyncServer.start({
      venueDir,
      dataDir,
      broker: { kind: "embedded", mode: "in-process" },
    });
    await server.stop();
    // Run again: nothing left to move, said so.
    const again = io();
    expect(
      await runMigrateRootCommand(["--venue", venueDir, "--data", dataDir, "--root-out", rootOut], again.io),
    ).toBe(0);
    expect(again.out()).toMatch(/holds no root seed \(already migrated\)/);
  });
});
