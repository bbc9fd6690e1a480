import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseProvisioning, verifyOperationsCertificate } from "@sesame/sync";
import { testGateKey } from "@sesame/sync/testing";
import { captureOutput, freePort, Mosquitto, makeTempDir } from "@sesame/testing";
import { createNodeSigner, createNodeVerifier, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, VENUE_FILES, writeVenueDirectory } from "@sesame/venue";
import { afterAll, describe, expect, it } from "vitest";
import {
  runMosquittoConfigCommand,
  runOperationsCertificateCommand,
  runSyncServerCommand,
} from "../src/cli.js";
import { openServerStore } from "../src/db/open.js";
import { provisionGateInStore } from "../src/gates/provisioning.js";
import { changeGateList, operationsCertificate } from "../src/keys/operations.js";
import { accountIn, closedFolder } from "../src/mosquitto.js";
import { setUpServer } from "../src/root/set-up.js";
import { waitFor } from "./harness.js";

function io(interrupted: Promise<void> = new Promise(() => {})) {
  const { stdout, stderr, out, err } = captureOutput();
  return { io: { stdout, stderr, now: () => Date.now(), interrupted }, out, err };
}

describe("sesame sync-server / mosquitto-config commands", () => {
  const dir = makeTempDir("sesame-cli-");
  const venueDir = join(dir.path, "venue");
  writeVenueDirectory(
    venueDir,
    generateDemoVenue({
      spectators: 50,
      doorsOpenMs: Date.now(),
      entrances: 2,
      lanes: 4,
      random: seededRandom("cli"),
      signer: createNodeSigner(),
    }),
    createNodeSigner(),
  );
  const rootKeyFile = join(venueDir, VENUE_FILES.rootKey);
  // The demo's set-up: the root certifies the default data directory's operations key.
  setUpServer(venueDir, join(venueDir, "sync-data"), { now: Date.now() });
  afterAll(() => dir.remove());

  it("mosquitto-config --provision writes the config, password file, ACL and the credentials of the gates whose key requests it is given", async () => {
    const out = join(dir.path, "mosq");
    const t = io();
    // Each gate made its key pair and wrote its request (public key, proof): no private key here.
    const requests = ["A1", "B1"].map((gateId) => {
      const file = join(dir.path, `${gateId}-request.json`);
      writeFileSync(file, JSON.stringify({ venueId: "SDF", gateId, ...testGateKey("SDF", gateId).request }));
      return file;
    });
    const code = await runMosquittoConfigCommand(
      ["--venue", venueDir, "--out", out, "--port", "18883", ...requests.flatMap((f) => ["--provision", f])],
      t.io,
    );
    expect(code, t.err()).toBe(0);
    const passwd = readFileSync(join(out, "passwd"), "utf8");
    expect(passwd).toMatch(/^sync-server:\$7\$/m);
    expect(passwd).toMatch(/^gate-A1:\$7\$/m);
    expect(readFileSync(join(out, "acl"), "utf8")).toContain("topic write sesame/SDF/gates/B1/events");
    expect(readFileSync(join(out, "mosquitto.conf"), "utf8")).toContain("listener 18883 127.0.0.1");
    const p = parseProvisioning(JSON.parse(readFileSync(join(out, "gates", "A1.json"), "utf8")));
    expect(p.mqtt.url).toBe("mqtt://127.0.0.1:18883");
    expect(readFileSync(join(out, "gates", "A1.json"), "utf8")).not.toMatch(/seed/i);
    // A request for another venue is refused, saying so.
    const foreign = join(dir.path, "foreign-request.json");
    writeFileSync(
      foreign,
      JSON.stringify({ venueId: "XYZ", gateId: "A1", ...testGateKey("XYZ", "A1").request }),
    );
    const refused = io();
    expect(
      await runMosquittoConfigCommand(
        ["--venue", venueDir, "--out", out, "--provision", foreign],
        refused.io,
      ),
    ).not.toBe(0);
    expect(refused.err()).toContain("the request is for venue XYZ, not SDF");
  });

  it("the README's Mosquitto path works with no extra flag: Mosquitto starts on the files (as root too), and a gate provisioned there finds the server's HTTP API for its snapshot", async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const out = join(dir.path, "mosq-readme");
    const dataDir = join(dir.path, "data-readme");
    setUpServer(venueDir, dataDir, { now: Date.now() });
    const request = join(dir.path, "A1-readme-request.json");
    writeFileSync(
      request,
      JSON.stringify({ venueId: "SDF", gateId: "A1", ...testGateKey("SDF", "A1").request }),
    );
    // The test's folder is mkdtemp's (0700): as on a venue server, Mosquitto's account may enter it.
    chmodSync(dir.path, 0o711);
    const t = io();
    const args = ["--venue", venueDir, "--data", dataDir, "--out", out, "--port", String(mqttPort)];
    expect(
      await runMosquittoConfigCommand(
        [...args, "--http-port", String(httpPort), "--provision", request],
        t.io,
      ),
      t.err(),
    ).toBe(0);
    const p = parseProvisioning(JSON.parse(readFileSync(join(out, "gates", "A1.json"), "utf8")));
    expect(p.http.baseUrl).toBe(`http://127.0.0.1:${httpPort}`);
    expect(statSync(join(out, "passwd")).mode & 0o777).toBe(0o600);
    if (process.getuid?.() === 0) {
      // Root wrote the files: Mosquitto drops to its own account, which they now belong to.
      const account = accountIn(readFileSync("/etc/passwd", "utf8"), "mosquitto");
      const owner = account ? account.uid : 0;
      expect(statSync(join(out, "passwd")).uid).toBe(owner);
      expect(readFileSync(join(out, "mosquitto.conf"), "utf8")).toContain(
        `user ${account ? "mosquitto" : "root"}`,
      );
      expect(t.out()).toContain("run as root:");
    }
    const mosquitto = new Mosquitto(join(out, "mosquitto.conf"), mqttPort);
    await mosquitto.start();
    let stop: () => void = () => undefined;
    const server = io(new Promise<void>((resolve) => (stop = resolve)));
    // The command it printed, with this test's ports.
    const then =
      t
        .out()
        .match(/^Then: sesame sync-server (.*)$/m)?.[1]
        ?.split(" ") ?? [];
    expect(then).toContain(`mqtt://127.0.0.1:${mqttPort}`);
    const running = runSyncServerCommand([...then, "--dashboard", "off"], server.io);
    try {
      await waitFor(() => server.out().includes("Ctrl-C"), 30_000, "server started");
      // What a gate without a venue directory does first: download the snapshot where it was told.
      const response = await fetch(new URL("/api/gate/bundle", p.http.baseUrl), {
        headers: { authorization: `Bearer ${p.http.token}` },
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      // The server's own MQTT account passed Mosquitto's password file: and it connected.
      await waitFor(
        () => mosquitto.output.includes("as sync-server"),
        10_000,
        "server connected to Mosquitto",
      );
    } finally {
      stop();
      await running;
      await mosquitto.kill("SIGTERM");
    }
  });

  it("reads an account from /etc/passwd and finds the folder it cannot enter", () => {
    const passwd = "root:x:0:0:root:/root:/bin/bash\nmosquitto:x:102:105::/var/empty:/usr/sbin/nologin\n";
    expect(accountIn(passwd, "mosquitto")).toEqual({ name: "mosquitto", uid: 102, gid: 105 });
    expect(accountIn(passwd, "nobody")).toBeUndefined();
    const closed = join(dir.path, "closed");
    mkdirSync(join(closed, "inner"), { recursive: true });
    chmodSync(closed, 0o700);
    const stranger = { name: "stranger", uid: 54_321, gid: 54_321 };
    expect(closedFolder(join(closed, "inner"), stranger)).toBe(closed);
    chmodSync(closed, 0o701);
    chmodSync(dir.path, 0o711);
    expect(closedFolder(join(closed, "inner"), stranger)).toBeUndefined();
  });

  it("operations-certificate certifies the server's operations key with the root key file, for the days asked", async () => {
    const data = join(dir.path, "ops-data");
    const t = io();
    expect(
      await runOperationsCertificateCommand(
        ["--venue", venueDir, "--data", data, "--root", rootKeyFile, "--days", "7"],
        t.io,
      ),
    ).toBe(0);
    expect(t.out()).toMatch(/operations key [0-9a-f]{64} of venue SDF certified until/);
    const store = openServerStore(venueDir, data, Date.now());
    try {
      const certificate = operationsCertificate(store);
      const rootKey = Buffer.from(store.venue().rootPublicKey, "hex");
      const checked = verifyOperationsCertificate(certificate, rootKey, createNodeVerifier(), "SDF");
      expect(checked.ok).toBe(true);
      const days = ((certificate?.notAfter ?? 0) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThanOrEqual(7);
      // A gate provisioned now carries it, and a gate list naming the gate's new key.
      const p = provisionGateInStore(store, "A1", testGateKey("SDF", "A1").request, Date.now());
      expect(p.operationsCertificate).toEqual(certificate);
      expect(p.gateList?.gates.map((g) => g.publicKey)).toEqual([p.gatePublicKey]);
      // Provisioned again: the old key is revoked in the next version.
      const again = provisionGateInStore(
        store,
        "A1",
        testGateKey("SDF", "A1").request,
        Date.now(),
        {},
        "admin",
      );
      expect(again.gateList?.version).toBe((p.gateList?.version ?? 0) + 1);
      expect(again.gateList?.revoked).toMatchObject([
        { gateId: "A1", publicKey: p.gatePublicKey, by: "admin" },
      ]);
      // Quarantine: the gate leaves the list, its key is revoked with who and why.
      const quarantined = changeGateList(
        store,
        { kind: "revoke", gateId: "A1", by: "supervisor", reason: "implausible events" },
        { now: Date.now(), signer: createNodeSigner() },
      );
      expect(quarantined.gates).toEqual([]);
      expect(quarantined.revoked.at(-1)).toMatchObject({
        gateId: "A1",
        publicKey: again.gatePublicKey,
        by: "supervisor",
      });
      expect(() =>
        changeGateList(
          store,
          { kind: "revoke", gateId: "A1", by: "x", reason: "y" },
          { now: 0, signer: createNodeSigner() },
        ),
      ).toThrow(/no key in the gate list/);
    } finally {
      store.close();
    }
    const bad = io();
    expect(
      await runOperationsCertificateCommand(
        ["--venue", venueDir, "--root", rootKeyFile, "--days", "0"],
        bad.io,
      ),
    ).toBe(2);
    expect(bad.err()).toMatch(/--days/);
    const noRoot = io();
    expect(
      await runOperationsCertificateCommand(
        ["--venue", venueDir, "--root", join(dir.path, "nowhere.json")],
        noRoot.io,
      ),
    ).toBe(1);
    expect(noRoot.err()).toMatch(/no root key file/);
  });

  it("refuses bad arguments with a clear message and exit code 2", async () => {
    const t = io();
    expect(await runMosquittoConfigCommand(["--out", "x"], t.io)).toBe(2);
    expect(t.err()).toMatch(/missing --venue/);
    const u = io();
    expect(await runSyncServerCommand(["--venue", venueDir, "--http-port", "99999"], u.io)).toBe(2);
    expect(u.err()).toMatch(/--http-port must be a port number/);
    const v = io();
    expect(await runSyncServerCommand(["--venue", join(dir.path, "nowhere")], v.io)).toBe(2);
    expect(v.err()).toMatch(/not a venue directory/);
  });

  it("sync-server starts with the embedded broker, writes its tokens and stops on interrupt", async () => {
    let stop: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const t = io(interrupted);
    const dataDir = join(dir.path, "data-run");
    setUpServer(venueDir, dataDir, { now: Date.now() });
    const running = runSyncServerCommand(
      ["--venue", venueDir, "--data", dataDir, "--http-port", "0", "--mqtt-port", "0"],
      t.io,
    );
    await waitFor(() => t.out().includes("Ctrl-C"), 30_000, "server started");
    expect(t.out()).toMatch(/MQTT {2}mqtt:\/\/127\.0\.0\.1:\d+ \(embedded aedes/);
    expect(existsSync(join(dataDir, "tokens.json"))).toBe(true);
    stop();
    expect(await running).toBe(0);
  });
});
