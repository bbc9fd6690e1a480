import { randomBytes } from "node:crypto";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { BundleError, CacheError } from "@sesame/cache";
import type { EntryLogEvent, ReasonCode } from "@sesame/gate-core";
import { SerialCable, SimulatedSerialScanner } from "@sesame/hardware-sim";
import { encodeFeed, encodeTrustList, SERVER_USERNAME } from "@sesame/sync";
import { revokeIssuerKeyOffline, rotateIssuerKeyOffline } from "@sesame/sync-server/testing";
import { type MqttClient, makeTempDir, publishBounded, rawClient } from "@sesame/testing";
import {
  type Credential,
  decodeBase45,
  encodeCredentialText,
  encodeTicketBody,
  issueCredential,
  keyPairFromSeed,
  parseCredentialBytes,
  parseCredentialText,
  proveDevice,
  type SignedTrustListJson,
  TEXT_PREFIX,
  timeStep,
} from "@sesame/ticket";
import { VENUE_FILES, type WalletEntry, walletCode } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { call, errorOf, INJECTIONS, MALFORMED_JSON, OVERSIZED, type Reply } from "./attack-tools.js";
import { audit, type DrillLane, DrillVenue, eventually, type Holder, sleep, TOKENS } from "./harness.js";

/*
 * Attack drill, gate side (issue 8): a running venue — sync-server with its embedded broker, gates
 * A1 and B1 in this process, each with a simulated OSDP lane controller and QR reader over TCP,
 * A1's lane also with a serial scanner on a PTY — and everything a fraudster or an intruder would
 * throw at a gate: forged, tampered, replayed, resold, transferred codes and codes of unknown or
 * revoked keys; a tampered and a replayed trust list, a tampered snapshot and bundle; a snapshot
 * pointer to another host; garbage over the OSDP RAW path, the serial path and the OSDP link;
 * injection, oversized and malformed input on every kiosk endpoint. Each is refused with its
 * reason, logged where a venue tech looks (the gate's journal, its log, the server's record), and
 * afterwards the gate still admits a legitimate holder at the same lane. (~30 s.)
 */

const ADMIN = TOKENS.find((t) => t.role === "admin")?.token ?? "";
/** Refusals the gate alerts as forgeries; KEY_REVOKED is not one (a key rotation), the server groups it. */
const FORGERIES: ReadonlySet<string> = new Set(["FORGED", "FORGED_PROOF", "UNKNOWN_KEY"]);
const MINUTE = 60_000;

/** A man in the middle between gate B1 and the sync-server's HTTP API: flips one byte of the snapshot. */
class TamperingProxy {
  target = "";
  readonly bundleRequests: string[] = [];
  private readonly server: Server = createServer((req, res) => this.forward(req, res));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    if (!this.target) {
      res.writeHead(503).end();
      return;
    }
    const url = new URL(req.url ?? "/", this.target);
    const upstream = request(url, { method: req.method, headers: req.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on("data", (c: Buffer) => chunks.push(c));
      answer.on("end", () => {
        const body = Buffer.concat(chunks);
        if (url.pathname === "/api/gate/bundle" && body.length > 100) {
          this.bundleRequests.push(url.pathname);
          // One holder's name, one letter: what a fraudster on the wire would change.
          const at = body.indexOf('"holder":"') + 10;
          body[at] = body[at] === 0x5a ? 0x59 : 0x5a;
        }
        const headers = { ...answer.headers };
        delete headers["content-length"];
        res.writeHead(answer.statusCode ?? 502, headers).end(body);
      });
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A host on the venue network that would love to receive a gate's bearer token. */
class Eavesdropper {
  readonly requests: Array<{ path: string; authorization: string | undefined }> = [];
  private readonly server: Server = createServer((req, res) => {
    this.requests.push({ path: req.url ?? "", authorization: req.headers.authorization });
    res.writeHead(404).end();
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe("drill: attacks at the gate", () => {
  let venue: DrillVenue;
  let cable: SerialCable;
  let scanner: SimulatedSerialScanner;
  const proxy = new TamperingProxy();
  const eavesdropper = new Eavesdropper();
  let eavesdropperPort = 0;
  let intruder: MqttClient | undefined;
  const work = makeTempDir("sesame-attacks-");
  /** Rising edges of each lane's entry-unlock output, as the turnstile saw them. */
  const unlocks = new Map<string, number>();

  beforeAll(async () => {
    cable = await SerialCable.create();
    const proxyUrl = await proxy.listen();
    eavesdropperPort = await eavesdropper.listen();
    venue = await DrillVenue.start({
      name: "attacks-gate",
      spectators: 200,
      entrances: 2,
      lanes: 2,
      lanesPerGate: 1,
      reservedPerEntrance: 14,
      gateConfig: (gateId, config) => {
        if (gateId === "B1") return { ...config, httpBaseUrl: proxyUrl };
        const lanes = config.lanes as Array<Record<string, unknown>>;
        return {
          ...config,
          lanes: lanes.map((l) => ({
            ...l,
            scanner: { path: cable.hostPath, baudRate: 115_200, suffix: "CR" },
          })),
        };
      },
    });
    proxy.target = `http://127.0.0.1:${venue.server?.httpPort}`;
    scanner = await SimulatedSerialScanner.open({ path: cable.devicePath, baudRate: 115_200 });
    for (const l of venue.lanes) {
      const key = `${l.gateId}/${l.lane}`;
      unlocks.set(key, 0);
      l.sim.controller.on("output", (output, on) => {
        if (output === l.sim.controller.wiring.entryUnlockOutput && on)
          unlocks.set(key, (unlocks.get(key) ?? 0) + 1);
      });
    }
  }, 120_000);

  afterAll(async () => {
    intruder?.end(true);
    await scanner?.close();
    await venue?.stop();
    await cable?.destroy();
    await proxy.close();
    await eavesdropper.close();
    work.remove();
  });

  // -------------------------------------------------------------------------------------------
  // Tools

  const server = () => {
    if (!venue.server) throw new Error("the sync-server is not in this process");
    return venue.server;
  };
  const issuer = () => {
    if (!venue.issuer) throw new Error("the venue has no issuer in this process");
    return venue.issuer;
  };
  const node = (gateId: string) => {
    const n = venue.gate(gateId).node;
    if (!n) throw new Error(`gate ${gateId} is not running`);
    return n;
  };
  const api = (method: string, path: string, body?: unknown) =>
    call(`http://127.0.0.1:${server().httpPort}`, method, path, {
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const signer = () => venue.signer;
  const issuerSeed = (keyId = 1) =>
    Uint8Array.from(Buffer.from(venue.demo.secrets.issuerSeeds[String(keyId)] ?? "", "hex"));
  const credentialOf = (code: string): Credential => {
    const parsed = parseCredentialText(code);
    if (!parsed.ok) throw new Error(`not a credential: ${parsed.detail}`);
    return parsed.credential;
  };
  /** What the server hands the holder's app: the issuer-signed part, which the app then proves. */
  const issuedPart = (text: string): Credential => {
    const bytes = decodeBase45(text.slice(TEXT_PREFIX.length));
    if (!bytes.ok) throw new Error(`not Base45: ${bytes.detail}`);
    // Parsed with room for a proof, which is then left out.
    const parsed = parseCredentialBytes(Uint8Array.from([...bytes.bytes, ...new Uint8Array(66)]));
    if (!parsed.ok) throw new Error(`not an issued credential: ${parsed.detail}`);
    return { ...parsed.credential, proof: undefined };
  };
  /** The wallet entry behind a holder's current code. */
  const walletOf = (ticketId: number): WalletEntry => {
    const row = venue.demo.rows.find((r) => r.id === ticketId && r.state === "valid");
    const w = venue.demo.wallets.find(
      (x) => x.body.ticketId === ticketId && x.body.generation === row?.generation,
    );
    if (!w?.deviceSeed) throw new Error(`no wallet for ticket ${ticketId}`);
    return w;
  };
  /** An old generation's wallet (resold or transferred away) for session 1, and the gate of its entrance. */
  const oldWallet = (state: "resold-old" | "transferred-old") => {
    const row = venue.demo.rows.find((r) => r.state === state && r.session === 1 && r.kind === "mobile");
    const w = venue.demo.wallets.find(
      (x) => x.body.ticketId === row?.id && x.body.generation === row?.generation,
    );
    if (!row || !w) throw new Error(`the demo venue has no ${state} ticket for session 1`);
    return { wallet: w, gateId: row.entrance === 2 ? "B1" : "A1" };
  };
  const journal = (gateId: string): EntryLogEvent[] => node(gateId).store.events(1, 1_000_000);
  const refusalsOf = (gateId: string, after: number) =>
    journal(gateId).filter((e) => e.gateSeq > after && e.kind === "refused");

  /**
   * Shows `code` to a lane's QR reader: the gate must refuse it with `reason`, journal the
   * refusal, alert a forgery, and the arm must stay shut. Returns the journaled refusal.
   */
  const refused = async (lane: DrillLane, code: string, reason: ReasonCode, profile: string) => {
    const gate = node(lane.gateId);
    const before = gate.store.lastGateSeq();
    const edges = unlocks.get(`${lane.gateId}/${lane.lane}`);
    const forgeryAlerts = () =>
      venue.gate(lane.gateId).lines.filter((l) => l.includes('"forgery"') && l.includes(`"${reason}"`))
        .length;
    const alertsBefore = forgeryAlerts();
    lane.sim.reader?.scan(code);
    await eventually(
      () => refusalsOf(lane.gateId, before).length > 0,
      `${profile}: a refusal journaled at ${lane.gateId}`,
      10_000,
    );
    const [event] = refusalsOf(lane.gateId, before);
    venue.truth.push({
      who: profile,
      ticketId: event?.ticketId,
      profile,
      expect: "refuse",
      gateId: lane.gateId,
      lane: lane.lane,
      result: "not-opened",
      free: false,
      walked: true,
      at: Date.now(),
    });
    expect(event?.reason, `${profile} at ${lane.gateId}`).toBe(reason);
    expect(unlocks.get(`${lane.gateId}/${lane.lane}`), `${profile}: the arm stayed shut`).toBe(edges);
    if (FORGERIES.has(reason))
      expect(forgeryAlerts(), `${profile}: a forgery alert in the gate's log`).toBeGreaterThan(alertsBefore);
    else expect(forgeryAlerts(), `${profile}: no forgery alert in the gate's log`).toBe(alertsBefore);
    return event as EntryLogEvent;
  };

  /** A legitimate holder walks in at the lane: the gate is still doing its job. */
  const admitted = async (lane: DrillLane, who?: Holder) => {
    const holder = who ?? venue.holder(lane.entrance);
    const shown = await venue.present(lane, holder);
    expect(shown.result, `a legitimate holder at ${lane.gateId}/${lane.lane}`).toBe("passed");
  };

  const feedAt = (gateId: string, sequence: number) =>
    eventually(() => node(gateId).store.feedSequence >= sequence, `gate ${gateId} at feed ${sequence}`);
  const trustAt = (version: number) =>
    eventually(
      () => venue.gates.every((g) => g.node?.store.venue.trustListVersion === version),
      `every gate on trust list version ${version}`,
    );

  /** A client on the broker with the sync-server's own credentials (stolen, or a man in the middle). */
  const onTheBroker = async (): Promise<MqttClient> => {
    if (intruder?.connected) return intruder;
    const conn = await rawClient(server().brokerUrl, {
      clientId: "intruder-with-the-server-password",
      username: SERVER_USERNAME,
      password: server().store.meta("mqtt_server_password") ?? "",
    });
    if (!conn.ok) throw new Error(`could not connect as the server: ${conn.error}`);
    intruder = conn.client;
    return conn.client;
  };

  const gateLog = (gateId: string, pattern: RegExp) =>
    eventually(
      () => venue.gate(gateId).lines.some((l) => pattern.test(l)),
      `gate ${gateId} logged ${pattern}`,
      10_000,
    );

  // -------------------------------------------------------------------------------------------

  it("forged, tampered, replayed, resold and transferred codes, unknown keys: each refused with its reason", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const lane = venue.lane("A1");
    const holder = venue.holder(lane.entrance);
    const wallet = walletOf(holder.ticketId);
    const real = credentialOf(holder.code(Date.now()));
    const now = Date.now();
    const strangerSeed = randomBytes(32);
    const device = Uint8Array.from(Buffer.from(wallet.deviceSeed ?? "", "hex"));
    const tampered = (change: Partial<Credential["body"]>) =>
      encodeCredentialText({
        ...real,
        bodyBytes: encodeTicketBody({ ...real.body, ...change }),
      });

    const cases: Array<[string, string, ReasonCode]> = [
      ["forged signature", walletCode(wallet, strangerSeed, now, signer()), "FORGED"],
      ["tampered seat", tampered({ seat: "A01-S001" }), "FORGED"],
      ["tampered zone", tampered({ zone: real.body.zone === 1 ? 2 : 1 }), "FORGED"],
      ["tampered validity", tampered({ validUntil: real.body.validUntil + 86_400 * 365 }), "FORGED"],
      [
        "device key stripped (passed off as printed)",
        encodeCredentialText({
          ...real,
          bodyBytes: encodeTicketBody({ ...real.body, kind: "printed", devicePublicKey: undefined }),
          proof: undefined,
        }),
        "FORGED",
      ],
      [
        "forwarded code signed on another phone",
        encodeCredentialText(proveDevice({ ...real, proof: undefined }, strangerSeed, now, signer())),
        "FORGED_PROOF",
      ],
      ["screenshot two minutes old", holder.code(now - 2 * MINUTE), "EXPIRED_CODE"],
      [
        "issuer key nobody trusts",
        encodeCredentialText(
          proveDevice(
            issueCredential({ ...real.body, keyId: 77 }, strangerSeed, signer()),
            device,
            now,
            signer(),
          ),
        ),
        "UNKNOWN_KEY",
      ],
    ];
    for (const [profile, code, reason] of cases) await refused(lane, code, reason, profile);

    // Old generations of resold and transferred tickets, at their own entrance.
    const old = [
      ["resold-old", "REVOKED_RESOLD"],
      ["transferred-old", "SUPERSEDED_TRANSFERRED"],
    ] as const;
    for (const [state, reason] of old) {
      const { wallet: oldCode, gateId } = oldWallet(state);
      const code = walletCode(oldCode, issuerSeed(), Date.now(), signer());
      await refused(venue.lane(gateId), code, reason, `${state} generation's code`);
    }

    // None of it consumed the real ticket: its holder walks in, and after them the next one.
    await admitted(lane, holder);
    await admitted(lane);
    // The server has every refusal, and its forgery alerts name the gate.
    await eventually(() => {
      const onServer = new Set(
        server()
          .store.eventsOfGate("A1")
          .map((e) => e.eventId),
      );
      return journal("A1").every((e) => onServer.has(e.eventId));
    }, "A1's refusals on the server");
    const alerts = server().store.alerts(100);
    expect(alerts.some((a) => a.type === "forgery" && a.gates.includes("A1"))).toBe(true);
  }, 90_000);

  it("live resale and transfer: the old code dies at the gate, a copy signed with the old phone is refused", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const lane = venue.lane("A1");
    for (const type of ["resale", "transfer"] as const) {
      const holder = venue.holder(lane.entrance);
      const oldDevice = Uint8Array.from(Buffer.from(walletOf(holder.ticketId).deviceSeed ?? "", "hex"));
      const newDevice = randomBytes(32);
      // At the issuer (signed there); the venue server follows its stream.
      const { credential = "", sequence } = issuer().reassign(
        holder.ticketId,
        type,
        type === "resale" ? "Nouvel Acheteur" : "Amie de Camille",
        Buffer.from(keyPairFromSeed(newDevice).publicKey).toString("hex"),
      );
      await feedAt("A1", sequence);
      await refused(
        lane,
        holder.code(Date.now()),
        type === "resale" ? "REVOKED_RESOLD" : "SUPERSEDED_TRANSFERRED",
        `${type}: the seller's code`,
      );
      const issued = issuedPart(credential);
      await refused(
        lane,
        encodeCredentialText(proveDevice(issued, oldDevice, Date.now(), signer())),
        "FORGED_PROOF",
        `${type}: the new code signed on the seller's phone`,
      );
      await admitted(lane, {
        ticketId: holder.ticketId,
        entrance: lane.entrance,
        code: (t) => encodeCredentialText(proveDevice(issued, newDevice, t, signer())),
      });
    }
  }, 60_000);

  it("a ticket under a small-order device key, as a faulty issuer could sign one: a proof anyone computes is refused and alerted", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const lane = venue.lane("A1");
    const holder = venue.holder(lane.entrance);
    const real = credentialOf(holder.code(Date.now()));
    // The identity point (order 1): OpenSSL and tweetnacl accept R = identity, S = 0 as its
    // signature of any message. The issuer refuses to issue under such a key (encodeTicketBody,
    // the issuer's import, resale and transfer): here the issuer key signs the bytes anyway.
    const identity = Uint8Array.from(Buffer.from(`01${"00".repeat(31)}`, "hex"));
    const bodyBytes = encodeTicketBody(real.body);
    bodyBytes.set(identity, bodyBytes.length - 32);
    const issuerSeed = Buffer.from(venue.demo.secrets.issuerSeeds[String(real.body.keyId)] ?? "", "hex");
    const issuerSignature = signer().sign(
      Buffer.concat([Buffer.from("SESAME-TICKET-1"), bodyBytes]),
      issuerSeed,
    );
    const anyonesProof = new Uint8Array(64);
    anyonesProof[0] = 1;
    const code = encodeCredentialText({
      body: { ...real.body, devicePublicKey: identity },
      bodyBytes,
      issuerSignature,
      proof: { stepLow: timeStep(Date.now()) & 0xffff, signature: anyonesProof },
    });
    expect(parseCredentialText(code).ok, "the code is well formed").toBe(true);
    await refused(lane, code, "FORGED_PROOF", "a proof under a small-order device key");
    // The holder's own code still opens the lane.
    await admitted(lane, holder);
  });

  it("a revoked key, a tampered trust list and a replayed old one: refused, logged, the gate keeps its list", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const lane = venue.lane("A1");
    // The issuer makes a key, the root holder signs the list that adds it offline, an admin uploads it.
    const {
      keyId,
      seed: issuerSeed,
      trustList: listWithKey,
    } = rotateIssuerKeyOffline(server().store, venue.venueDir, {
      now: Date.now(),
    });
    const rotated = await api("POST", "/api/keys/trust-list", listWithKey);
    expect(rotated.status, rotated.text).toBe(200);
    await trustAt(listWithKey.version);
    // Two new tickets signed with the new key; then the key is revoked.
    const zone = venue.demo.venue.entrances.find((e) => e.id === lane.entrance)?.zones[0] ?? 1;
    const devices = [randomBytes(32), randomBytes(32)];
    issuer().key = { keyId, seed: issuerSeed };
    const credentials = devices.map((d, i) => {
      const { credential = "" } = issuer().issue(
        {
          id: 900_001 + i,
          generation: 1,
          kind: "mobile",
          status: "valid",
          sessions: [1],
          entrance: lane.entrance,
          zone,
          seat: "",
          categories: [],
          holder: `Détenteur ${i + 1}`,
          orderReference: `KEY-${i + 1}`,
        },
        Buffer.from(keyPairFromSeed(d).publicKey).toString("hex"),
      );
      return { ticketId: 900_001 + i, credential };
    });
    await feedAt("A1", issuer().lastSequence());
    const codeOf = (i: number) => (t: number) =>
      encodeCredentialText(
        proveDevice(issuedPart(credentials[i]?.credential ?? ""), devices[i] ?? randomBytes(32), t, signer()),
      );
    expect(issuedPart(credentials[0]?.credential ?? "").body.keyId).toBe(keyId);
    await admitted(lane, { ticketId: 900_001, entrance: lane.entrance, code: codeOf(0) });
    const current = revokeIssuerKeyOffline(server().store, venue.venueDir, keyId, Date.now());
    const revoked = await api("POST", "/api/keys/trust-list", current);
    expect(revoked.status, revoked.text).toBe(200);
    await trustAt(current.version);
    await refused(lane, codeOf(1)(Date.now()), "KEY_REVOKED", "code of a revoked issuer key");

    // On the broker with the server's password: a list that adds the intruder's key, signed by nobody…
    const intruderKey = randomBytes(32);
    const forgedList: SignedTrustListJson = {
      ...current,
      version: current.version + 1,
      keys: [
        ...current.keys.map((k) => ({ ...k, revoked: false })),
        {
          keyId: 66,
          publicKey: Buffer.from(keyPairFromSeed(intruderKey).publicKey).toString("hex"),
          validFrom: new Date(Date.now() - 86_400_000).toISOString(),
          validUntil: new Date(Date.now() + 86_400_000).toISOString(),
          revoked: false,
        },
      ],
    };
    const broker = await onTheBroker();
    expect(await publishBounded(broker, server().topics.trustList, encodeTrustList(forgedList))).toBe(
      "acked",
    );
    for (const g of ["A1", "B1"])
      await gateLog(
        g,
        /sync warn rejected: .*trust-list: bad-signature: trust list version \d+ refused, version \d+ kept/,
      );
    // …and the old list, validly signed, in which the revoked key was still good.
    expect(await publishBounded(broker, server().topics.trustList, encodeTrustList(listWithKey))).toBe(
      "acked",
    );
    for (const g of ["A1", "B1"]) await gateLog(g, /sync warn rejected: .*trust-list: rollback: /);
    for (const g of venue.gates) expect(g.node?.store.venue.trustListVersion).toBe(current.version);
    const holder = venue.holder(lane.entrance);
    const body = credentialOf(holder.code(Date.now())).body;
    const device = Uint8Array.from(Buffer.from(walletOf(holder.ticketId).deviceSeed ?? "", "hex"));
    await refused(
      lane,
      encodeCredentialText(
        proveDevice(
          issueCredential({ ...body, keyId: 66 }, intruderKey, signer()),
          device,
          Date.now(),
          signer(),
        ),
      ),
      "UNKNOWN_KEY",
      "code signed with the intruder's key",
    );
    // The next 15-second step's code (the same one again would be a held code, debounced).
    await refused(lane, codeOf(1)(Date.now() + 15_000), "KEY_REVOKED", "revoked key after the replayed list");
    // At the server: one alert for the key and the gate, counting both scans; no forgery alert.
    const keyAlerts = () =>
      server()
        .store.alerts(1000)
        .filter((a) => a.type === "revoked-key-scans" && a.issuerKeyId === keyId);
    await eventually(() => keyAlerts()[0]?.count === 2, "a revoked-key-scans alert counting 2 scans at A1");
    expect(keyAlerts()).toHaveLength(1);
    expect(keyAlerts()[0]).toMatchObject({ gates: ["A1"], acknowledgedAt: null });
    expect(keyAlerts()[0]?.detail).toMatch(
      new RegExp(`^2 scans at gate A1 of tickets under revoked issuer key ${keyId}`),
    );
    expect(
      server()
        .store.alerts(1000)
        .filter((a) => a.type === "forgery" && a.detail.includes("KEY_REVOKED")),
    ).toEqual([]);
    await admitted(lane, holder);
    await admitted(venue.lane("B1"));
  }, 60_000);

  it("a tampered snapshot, a snapshot pointer to another host and a tampered bundle: refused, old data kept", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const broker = await onTheBroker();
    const before = {
      A1: { feed: node("A1").store.feedSequence, trust: node("A1").store.venue.trustListVersion },
      B1: { feed: node("B1").store.feedSequence, trust: node("B1").store.venue.trustListVersion },
    };
    // B1 is told to fetch the snapshot, which a man in the middle alters on its way.
    const pointer = (path: string, feedSequence: number) =>
      encodeFeed({ changes: [], snapshot: { feedSequence, path } });
    expect(
      await publishBounded(
        broker,
        server().topics.gate("B1", "changes"),
        pointer("/api/gate/bundle", before.B1.feed + 1000),
      ),
    ).toBe("acked");
    await gateLog(
      "B1",
      /sync error snapshot-failed: snapshot signature does not verify against the operations key or the venue root key/,
    );
    expect(proxy.bundleRequests.length).toBeGreaterThan(0);
    // A1 is pointed at another host, which would receive its bearer token.
    expect(
      await publishBounded(
        broker,
        server().topics.gate("A1", "changes"),
        pointer(`//127.0.0.1:${eavesdropperPort}/steal`, before.A1.feed + 1000),
      ),
    ).toBe("acked");
    // A malformed stream message is refused and reported to the server like a forged one.
    await gateLog("A1", /sync warn rejected: .*\/changes: invalid: snapshot\.path: does not match/);
    await sleep(500);
    expect(eavesdropper.requests).toEqual([]);

    // A venue directory whose bundle was edited after signing (one holder's name).
    const tamperedDir = join(work.path, "tampered-venue");
    cpSync(venue.venueDir, tamperedDir, { recursive: true });
    const bundleFile = join(tamperedDir, VENUE_FILES.bundle);
    const text = readFileSync(bundleFile, "utf8");
    const bundle = JSON.parse(text) as { ticketColumns: string[]; tickets: unknown[][] };
    const holder = bundle.tickets[0]?.[bundle.ticketColumns.indexOf("holder")];
    if (typeof holder !== "string" || holder === "")
      throw new Error("the bundle's first ticket has no holder");
    // One byte of the first holder's name, exactly as it sits in the signed file.
    const encoded = JSON.stringify(holder).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    expect(text).toContain(encoded);
    writeFileSync(bundleFile, text.replace(encoded, `"Z${encoded.slice(2)}`));
    let error: unknown;
    try {
      node("A1").store.importBundle(tamperedDir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toMatch(/gate bundle refused: .*signature/);

    for (const g of ["A1", "B1"] as const) {
      expect(node(g).store.feedSequence, `${g} kept its feed position`).toBe(before[g].feed);
      expect(node(g).store.venue.trustListVersion, `${g} kept its trust list`).toBe(before[g].trust);
    }
    await admitted(venue.lane("B1"));
    await admitted(venue.lane("A1"));
  }, 60_000);

  it("garbage over the OSDP RAW path, the serial scanner and the OSDP link: refused or discarded, never an unlock", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const lane = venue.lane("A1");
    // The QR reader (OSDP RAW): the biggest report it sends, binary junk, NULs, not a ticket at all.
    await refused(lane, "SE1:".padEnd(900, "%"), "MALFORMED", "900-byte scan, right prefix, junk");
    await refused(lane, "https://evil.example/phish?t=1", "NOT_A_TICKET", "a phishing link");
    await refused(lane, "SE1:\u0000\u0000\u00ff\u00feABC", "MALFORMED", "NUL and binary after the prefix");
    const binary = await (async () => {
      const before = node("A1").store.lastGateSeq();
      lane.sim.reader?.scan(Uint8Array.from(randomBytes(900), (b) => (b === 0x0d ? 0x0e : b)));
      await eventually(() => refusalsOf("A1", before).length > 0, "900 random bytes refused");
      return refusalsOf("A1", before)[0];
    })();
    expect(["MALFORMED", "NOT_A_TICKET"]).toContain(binary?.reason);

    // The serial scanner: a frame far over the limit, then a garbage frame, then a real code.
    const serialBefore = node("A1").store.lastGateSeq();
    await scanner.sendRaw(Buffer.alloc(10_000, 0x41));
    await scanner.sendRaw(Buffer.from("\r"));
    await gateLog("A1", /scanner .*: more than 4096 bytes without a frame end/);
    venue.noteScan("A1", 1, INJECTIONS.sqlOr);
    await scanner.scan(INJECTIONS.sqlOr);
    await eventually(() => refusalsOf("A1", serialBefore).length > 0, "the serial garbage frame refused");
    expect(refusalsOf("A1", serialBefore).map((e) => e.reason)).toEqual(["NOT_A_TICKET"]);
    const serialHolder = venue.holder(lane.entrance);
    const edges = unlocks.get("A1/1") ?? 0;
    const code = serialHolder.code(Date.now());
    venue.noteScan("A1", 1, code);
    await scanner.scan(code);
    await eventually(() => (unlocks.get("A1/1") ?? 0) > edges, "the serial scan unlocked the arm");
    const walked = await lane.sim.controller.walk("entry", "normal");
    expect(walked).toBe("passed");
    venue.truth.push({
      who: `T${serialHolder.ticketId}`,
      ticketId: serialHolder.ticketId,
      profile: "valid (serial scanner)",
      expect: "admit",
      gateId: "A1",
      lane: 1,
      result: "passed",
      free: false,
      walked: true,
      at: Date.now(),
    });

    // Garbage bytes on the OSDP link (TCP): the control panel throws them away; nothing unlocks.
    const cp = node("A1").lanes.get(1)?.controlPanel;
    const discarded = cp?.counters.discardedBytes ?? 0;
    const quietEdges = unlocks.get("A1/1");
    for (let i = 0; i < 5; i++) {
      lane.sim.bus.injectNoise(1024);
      await sleep(150);
    }
    await eventually(() => (cp?.counters.discardedBytes ?? 0) > discarded, "the noise discarded");
    expect(unlocks.get("A1/1")).toBe(quietEdges);
    await eventually(async () => venue.gateReady(venue.gate("A1")), "A1's lane online again");
    await admitted(lane);
  }, 60_000);

  it("kiosk API: injection, oversized and malformed input on every endpoint; the gate keeps serving", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    const kiosk = node("A1").url;
    const signIn = await call(kiosk, "POST", "/api/session", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pin: "1234" }),
    });
    expect(signIn.status).toBe(200);
    const cookie = String(signIn.headers["set-cookie"]).split(";")[0] ?? "";
    const json = { "content-type": "application/json", cookie };
    const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = json) =>
      call(kiosk, "POST", path, { headers, body });

    // The printed-confirmation lookup, through the kiosk API and the cache itself.
    // Percent-encoded byte by byte (a lone surrogate goes as the UTF-8 of U+FFFD, as a browser sends it).
    const query = (q: string) =>
      [...Buffer.from(q, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
    const lookup = (q: string) => call(kiosk, "GET", `/api/lookup?q=${query(q)}`, { headers: json });
    const outcomes: Record<string, string> = {};
    for (const [name, q] of Object.entries(INJECTIONS)) {
      const r = await lookup(q);
      // 431: Node refuses a request line over 16 KiB before the kiosk sees it.
      outcomes[name] =
        r.status === 200
          ? `200 ${(r.json as { hits: unknown[] }).hits.length} hits`
          : r.status === 431
            ? "431"
            : `${r.status} ${errorOf(r)}`;
      let direct: string;
      try {
        direct = `${node("A1").store.lookup(q, { at: Date.now() }).hits.length} hits`;
      } catch (e) {
        expect(e, name).toBeInstanceOf(CacheError);
        direct = (e as Error).message;
      }
      if (r.status === 200) expect(direct, name).toBe(outcomes[name]?.slice(4));
      else if (r.status === 422) expect(direct, name).toBe(errorOf(r));
    }
    expect(outcomes).toEqual({
      sqlOr: "200 0 hits",
      sqlDrop: "200 0 hits",
      likePercent: "400 type at least 2 characters",
      likeUnderscore: "422 type at least 2 letters of the holder's name, or the order reference",
      likeMixed: "422 type at least 2 letters of the holder's name, or the order reference",
      ftsSyntax: "200 0 hits",
      html: "200 0 hits",
      htmlAttribute: "200 0 hits",
      nul: "200 0 hits",
      rtl: "200 0 hits",
      zeroWidth: "422 type at least 2 letters of the holder's name, or the order reference",
      loneSurrogate: "200 0 hits",
      long: "431",
    });
    expect(outcomes.long).toBe("431");
    const longish = await lookup("x".repeat(101));
    expect([longish.status, errorOf(longish)]).toEqual([400, "a search is at most 100 characters"]);
    // The tables are still there and a real name is still found.
    const family = venue.demo.rows[0]?.holder.split(" ").at(-1) ?? "";
    expect((await lookup(family)).status).toBe(200);
    expect(((await lookup(family)).json as { hits: unknown[] }).hits.length).toBeGreaterThan(0);

    // Scanned text from the kiosk window (wedge, camera): each a refusal with its reason, journaled.
    const scanBefore = node("A1").store.lastGateSeq();
    const scanned: Array<[string, string]> = [];
    for (const [name, text] of Object.entries(INJECTIONS)) {
      if (text.length > 4096) continue;
      venue.noteScan("A1", 1, text);
      const r = await post("/api/scan", JSON.stringify({ lane: 1, text }));
      expect(r.status, name).toBe(200);
      scanned.push([name, (r.json as { decision: { reason: string } }).decision.reason]);
    }
    expect(Object.fromEntries(scanned)).toEqual({
      sqlOr: "NOT_A_TICKET",
      sqlDrop: "NOT_A_TICKET",
      likePercent: "NOT_A_TICKET",
      likeUnderscore: "NOT_A_TICKET",
      likeMixed: "NOT_A_TICKET",
      ftsSyntax: "NOT_A_TICKET",
      html: "NOT_A_TICKET",
      htmlAttribute: "NOT_A_TICKET",
      // Control and non-ASCII characters: a code is printable ASCII (QR alphanumeric mode).
      nul: "MALFORMED",
      rtl: "MALFORMED",
      zeroWidth: "MALFORMED",
      loneSurrogate: "MALFORMED",
    });
    expect(refusalsOf("A1", scanBefore).map((e) => e.reason)).toEqual(scanned.map(([, reason]) => reason));
    const long = await post("/api/scan", JSON.stringify({ lane: 1, text: INJECTIONS.long }));
    expect([long.status, errorOf(long)]).toEqual([413, "a scan is at most 4,096 characters"]);

    // Every field that takes a value, given something else.
    const fields: Array<[string, string, number, RegExp]> = [
      [
        "/api/session",
        JSON.stringify({ pin: INJECTIONS.sqlOr }),
        400,
        /pin must be a string of 1 to 12 digits/,
      ],
      ["/api/language", JSON.stringify({ language: INJECTIONS.html }), 400, /language must be fr or en/],
      ["/api/scan", JSON.stringify({ lane: "1 OR 1=1", text: "x" }), 400, /unknown lane/],
      ["/api/scan", JSON.stringify({ lane: 1, text: { $ne: null } }), 400, /text must be a string/],
      ["/api/lanes/1%20OR%201=1/mode", JSON.stringify({ mode: "normal" }), 400, /unknown lane/],
      [
        "/api/lanes/1/mode",
        JSON.stringify({ mode: INJECTIONS.sqlDrop }),
        400,
        /mode must be normal, locked or free-passage/,
      ],
      [
        "/api/lanes/1/manual-admission",
        JSON.stringify({ idChecked: true, tickets: [{ ticketId: "1 OR 1=1", session: 1 }] }),
        400,
        /each ticket needs an integer ticketId and session/,
      ],
      [
        "/api/notices/dismiss",
        JSON.stringify({ id: "1; DROP TABLE notices" }),
        400,
        /id must be a notice id/,
      ],
    ];
    for (const [path, body, status, error] of fields) {
      const r = await post(path, body);
      expect(r.status, `${path} ${body}`).toBe(status);
      expect(errorOf(r)).toMatch(error);
    }

    // Oversized, malformed, mistyped: every POST endpoint.
    const endpoints = [
      "/api/session",
      "/api/language",
      "/api/scan",
      "/api/notices/dismiss",
      ...["confirm", "decline", "passage", "manual-admission", "mode"].map((a) => `/api/lanes/1/${a}`),
    ];
    const body413 = /request body over 65536 bytes/;
    for (const path of endpoints) {
      const expectReply = (r: Reply, status: number, error: RegExp, what: string) => {
        expect(r.status, `${path}: ${what}`).toBe(status);
        expect(errorOf(r), `${path}: ${what}`).toMatch(error);
      };
      expectReply(await post(path, OVERSIZED), 413, body413, "5 MB");
      expectReply(
        await call(kiosk, "POST", path, { headers: json, chunked: OVERSIZED.length }),
        413,
        body413,
        "5 MB chunked",
      );
      for (const bad of MALFORMED_JSON)
        expectReply(await post(path, bad), 400, /the request body is not valid JSON/, JSON.stringify(bad));
      expectReply(await post(path, "[1,2]"), 400, /the request body must be a JSON object/, "an array");
      expectReply(
        await post(path, "pin=1234", { "content-type": "text/plain", cookie }),
        415,
        /send the request body as JSON/,
        "text/plain",
      );
    }
    // Another site, or a DNS-rebinding page, gets nothing.
    const rebound = await call(kiosk, "GET", "/api/state", { headers: { host: "evil.example" } });
    expect([rebound.status, errorOf(rebound)]).toEqual([
      403,
      'requests for host "evil.example" are not served here',
    ]);
    const crossSite = await call(kiosk, "POST", "/api/scan", {
      headers: { ...json, origin: "http://evil.example" },
      body: JSON.stringify({ lane: 1, text: "x" }),
    });
    expect([crossSite.status, errorOf(crossSite)]).toEqual([
      403,
      "requests from http://evil.example are not allowed",
    ]);

    // Still serving: the steward screen answers and a holder walks in at the same lane.
    const state = await call(kiosk, "GET", "/api/state");
    expect(state.status).toBe(200);
    await admitted(venue.lane("A1"));
  }, 90_000);

  it("afterwards: every process up, the venue's record complete and true to what happened", async () => {
    onTestFailed(() => console.log(venue.logTail()));
    expect(server().mqttConnected).toBe(true);
    // The embedded broker's child process was never restarted: nothing here crashed it.
    const brokerPid = server().brokerProcess?.pid;
    expect(brokerPid).toBeDefined();
    expect(() => process.kill(brokerPid ?? 0, 0)).not.toThrow();
    expect(venue.logLines.some((l) => /embedded broker exited/.test(l))).toBe(false);
    const health = await call(`http://127.0.0.1:${server().httpPort}`, "GET", "/api/health");
    expect(health.status).toBe(200);
    await venue.settle();
    const report = audit(venue);
    venue.log(`[drill] ${JSON.stringify(report)}`);
    expect(report.falseAccepts).toBe(0);
    expect(report.falseRefusals).toBe(0);
    for (const reason of [
      "FORGED",
      "FORGED_PROOF",
      "EXPIRED_CODE",
      "UNKNOWN_KEY",
      "KEY_REVOKED",
      "REVOKED_RESOLD",
      "SUPERSEDED_TRANSFERRED",
      "MALFORMED",
      "NOT_A_TICKET",
    ])
      expect(report.refused[reason], reason).toBeGreaterThan(0);
  }, 90_000);
});
