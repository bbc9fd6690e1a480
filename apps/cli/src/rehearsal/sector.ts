import type { ScanOutcome } from "@sesame/gate";
import type { EntryLogEvent, ReasonCode } from "@sesame/gate-core";
import { between, type Random, seededRandom } from "@sesame/hardware-sim";
import { MemoryMqttClient, venueTopics } from "@sesame/sync";
import { readSecrets, readWallets } from "@sesame/venue";
import {
  emptyTruthTally,
  HOP_MAX_MS,
  HOP_MIN_MS,
  HOP_TAIL_MS,
  type Inbound,
  type LaneResult,
  type Outbound,
  type RoundOrder,
  type RoundReply,
  type SectorConfig,
  type SectorResult,
} from "./messages.js";
import { type PersonSpec, Phones, usedTwiceCopy } from "./population.js";
import type { Mismatch, ProfileFigures } from "./report.js";
import { createSharedVerifier } from "./shared-verifier.js";
import { DEFAULT_TIMINGS, exponential, type HumanTimings, MINUTE, seedNumber } from "./timing.js";
import { VirtualClock } from "./virtual-clock.js";
import { STEWARD_ID, VirtualGate, type VirtualLane } from "./virtual-gate.js";

/*
 * A sector of the venue in a virtual rehearsal: some entrances with their gates (virtual-gate.ts),
 * the crowd that comes to them, and the gates' side of the venue sync. It runs on its own virtual
 * clock, round by round (messages.ts); in a worker thread or in the main thread alike.
 *
 * The crowd (modeled): people arrive on the curve they were given, join the shortest queue at
 * their entrance, show their code to the lane's reader, and walk through when the arm opens;
 * a refused person is turned away (and goes to the right entrance if that was the reason); an
 * assisted scan waits for the steward, who confirms for an entitled holder and declines otherwise.
 * Every outcome is checked against the person's ground truth.
 *
 * The gates' sync is each gate's own GateSync (outbox window, signed batches, acknowledgements,
 * admissions and ticket feed, its timers on the sector's virtual clock), connected through an
 * in-memory MQTT client (@sesame/sync's MemoryMqttClient): what it publishes on its events topic crosses the modeled
 * uplink to the sync-server's ingest (venue-server.ts), and the server's acks, admissions and feed
 * come back as messages on the topics it subscribed to.
 */

interface LaneState {
  readonly lane: VirtualLane;
  readonly gate: VirtualGate;
  readonly queue: Array<{ person: Person; since: number }>;
  busy: boolean;
  pending: ((outcome: ScanOutcome | undefined) => void) | undefined;
  readonly figures: { scans: number; admitted: number; refused: number; assisted: number };
}

type Person = PersonSpec;

interface GateLink {
  readonly gate: VirtualGate;
  /** The gate's current MQTT connection. */
  client: MemoryMqttClient | undefined;
  /** Where the server's messages reach it. */
  readonly topics: { readonly ack: string; readonly admissions: string; readonly feed: string };
  /** Highest gateSeq recorded / acknowledged by the server. */
  recorded: number;
  acked: number;
  feedSequence: number;
  /** The uplink is in order: a batch never overtakes the previous one. */
  upFreeAt: number;
}

export class Sector {
  private readonly clock: VirtualClock;
  private readonly random: Random;
  private readonly timings: HumanTimings = DEFAULT_TIMINGS;
  private readonly gates: VirtualGate[] = [];
  private readonly links = new Map<string, GateLink>();
  private readonly states = new Map<VirtualLane, LaneState>();
  private readonly lanesOf = new Map<number, LaneState[]>();
  private readonly people: Person[];
  private readonly sharers: Set<number>;
  private readonly phones: Phones;
  private outbound: Outbound[] = [];
  private nextArrival = 0;
  private outstanding: number;
  private lastActivity = 0;
  private closed = false;

  // Measurements.
  private readonly r = {
    unlockWall: [] as number[],
    decisionWall: [] as number[],
    presentToUnlock: [] as number[],
    fanOut: [] as number[],
    waits: [] as number[],
    byReason: {} as Record<string, number>,
    byOutcome: {} as Record<string, number>,
    byProfile: {} as Record<string, ProfileFigures & { reasons: Record<string, number> }>,
    mismatches: [] as Mismatch[],
    truth: emptyTruthTally(),
    people: 0,
    arrived: 0,
    admitted: 0,
    decisions: 0,
    arrivals: [] as number[],
    admittedMinute: [] as number[],
    admittedPerEntranceMinute: {} as Record<string, number[]>,
    arrivedPerEntrance: {} as Record<string, number>,
    queueSamples: {} as Record<string, number[]>,
    longestLaneSamples: [] as number[],
    maxQueue: 0,
    counters: {
      batches: 0,
      eventsSent: 0,
      acks: 0,
      remoteEntriesApplied: 0,
      remoteDuplicates: 0,
      feedChangesApplied: 0,
      droppedScans: 0,
      wallMsOutbox: 0,
      wallMsAcks: 0,
      wallMsFanOut: 0,
      wallMsFeed: 0,
      wallMsPhones: 0,
      wallMsGateDecisions: 0,
    } as Record<string, number>,
    gateAlerts: {} as Record<string, number>,
    errors: [] as string[],
  };

  private constructor(private readonly config: SectorConfig) {
    this.clock = new VirtualClock(config.startAt);
    this.random = seededRandom(seedNumber(`${config.seed}/sector-${config.index}`));
    this.people = config.people.map((p) => ({ ...p })).sort((a, b) => a.arriveAt - b.arriveAt);
    this.outstanding = this.people.length;
    this.sharers = new Set(config.sharers);
    this.phones = new Phones(readWallets(config.venueDir), readSecrets(config.venueDir).issuerSeeds);
    for (const e of config.entrances) {
      this.r.admittedPerEntranceMinute[String(e)] = [];
      this.r.arrivedPerEntrance[String(e)] = 0;
    }
    for (const p of this.people) this.profile(p).people++;
    this.r.people = this.people.length;
  }

  /** Opens the sector's gate caches and lanes; resolves when every lane controller is online. */
  static async open(config: SectorConfig): Promise<Sector> {
    const s = new Sector(config);
    const rootPublicKey = Uint8Array.from(Buffer.from(config.rootPublicKey, "hex"));
    const verifier = createSharedVerifier();
    for (const { gate, firstLane } of config.gates) {
      const provisioning = config.provisioning[gate.id];
      const gateKey = config.gateKeys[gate.id];
      if (!provisioning || !gateKey) throw new Error(`gate ${gate.id} is not provisioned`);
      const topics = venueTopics(provisioning.venueId);
      const events = topics.gate(gate.id, "events");
      const replay = topics.gate(gate.id, "replay");
      // The gate's sync client connects once started, after its link is set below.
      let link: GateLink | undefined;
      const g = await VirtualGate.open({
        sync: {
          provisioning,
          signingSeed: Buffer.from(gateKey, "hex"),
          connect: () => {
            const client = new MemoryMqttClient(s.clock, (topic, payload) => {
              if (topic === events && link) s.uplink(link, String(payload));
              else if (topic === replay) s.count("replayRequests");
              else s.count("mqttOtherPublishes");
            });
            if (link) link.client = client;
            return client;
          },
          outboxWork: (work) => s.timed("wallMsOutbox", work),
          verifier,
        },
        gate,
        dataDir: config.dataDir,
        venueDir: config.venueDir,
        rootPublicKey,
        clock: s.clock,
        random: s.random,
        firstIndex: firstLane,
        fullPolling: config.fullPolling,
        hooks: s.hooks(),
      });
      s.gates.push(g);
      link = {
        gate: g,
        client: undefined,
        topics: { ack: topics.gate(gate.id, "ack"), admissions: topics.admissions, feed: topics.feed },
        recorded: g.store.lastGateSeq(),
        acked: g.store.lastGateSeq() - g.store.outboxDepth(),
        feedSequence: g.store.feedSequence,
        upFreeAt: 0,
      };
      s.links.set(gate.id, link);
      s.watchSync(link);
      for (const lane of g.lanes) {
        const state: LaneState = {
          lane,
          gate: g,
          queue: [],
          busy: false,
          pending: undefined,
          figures: { scans: 0, admitted: 0, refused: 0, assisted: 0 },
        };
        s.states.set(lane, state);
        s.lanesOf.set(lane.entrance, [...(s.lanesOf.get(lane.entrance) ?? []), state]);
      }
    }
    await s.clock.run(s.clock.now() + 5_000, () => s.gates.every((g) => g.online));
    if (!s.gates.every((g) => g.online))
      throw new Error("some lanes did not come online on their in-memory links");
    for (const g of s.gates) g.assembled.start();
    await s.clock.run(s.clock.now() + 1_000, () =>
      s.gates.every((g) => g.assembled.sync?.status().connected),
    );
    if (!s.gates.every((g) => g.assembled.sync?.status().connected))
      throw new Error("some gates' sync clients did not connect over the in-memory MQTT link");
    if (s.clock.now() >= config.windowStart) throw new Error("the sector opened after its window started");
    s.scheduleArrival();
    const sampler = () => {
      s.sample();
      if (!s.idle) s.clock.setTimeout(sampler, config.sampleEveryMs);
    };
    s.clock.setTimeout(sampler, config.windowStart - s.clock.now());
    return s;
  }

  private hooks() {
    return {
      onOutcome: (lane: VirtualLane, outcome: ScanOutcome) => {
        const s = this.states.get(lane);
        const resolve = s?.pending;
        if (s) s.pending = undefined;
        if (resolve) resolve(outcome);
        else this.error(new Error(`a decision at ${lane.gateId}/${lane.lane} came after its person gave up`));
      },
      onRecorded: (gate: VirtualGate, event: EntryLogEvent) => {
        if (event.kind === "annulled") this.r.truth.annulled++;
        const link = this.links.get(gate.gate.id);
        if (link) link.recorded = Math.max(link.recorded, event.gateSeq);
      },
      onUnlockLatency: (_lane: VirtualLane, wall: number, virtualMs: number) => {
        this.r.unlockWall.push(wall);
        this.r.presentToUnlock.push(virtualMs);
      },
      onDecisionLatency: (_lane: VirtualLane, wall: number) => {
        this.r.decisionWall.push(wall);
        this.r.counters.wallMsGateDecisions = (this.r.counters.wallMsGateDecisions ?? 0) + wall;
      },
      onScanDropped: () => this.count("droppedScans"),
      onAlert: (_gate: VirtualGate, kind: string) => {
        this.r.gateAlerts[kind] = (this.r.gateAlerts[kind] ?? 0) + 1;
      },
      onError: (error: unknown) => this.error(error),
    };
  }

  private count(name: string, by = 1): void {
    this.r.counters[name] = (this.r.counters[name] ?? 0) + by;
  }

  private error(error: unknown): void {
    if (this.r.errors.length < 20)
      this.r.errors.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }

  private timed(counter: string, fn: () => void): void {
    const t = performance.now();
    try {
      fn();
    } catch (error) {
      this.error(error);
    } finally {
      this.count(counter, performance.now() - t);
    }
  }

  get idle(): boolean {
    return this.nextArrival >= this.people.length && this.outstanding <= 0;
  }

  // ------------------------------------------------------------------------------ rounds

  /** Runs the clock through the round, with what the coordinator delivers in it. */
  async runRound(order: RoundOrder): Promise<RoundReply> {
    const now = this.clock.now();
    for (const m of order.inbound) {
      if (m.at < now) this.error(new Error(`a ${m.kind} message due at ${m.at} arrived at ${now}`));
      this.clock.setTimeout(() => this.deliver(m, order.payloads), Math.max(0, m.at - now));
    }
    await this.clock.run(order.until - 1);
    const outbound = this.outbound;
    this.outbound = [];
    let unacked = 0;
    for (const l of this.links.values()) unacked += l.recorded - l.acked;
    let queuing = 0;
    for (const s of this.states.values()) queuing += s.queue.length;
    return {
      outbound,
      idle: this.idle,
      unacked,
      arrived: this.r.arrived,
      admitted: this.r.admitted,
      queuing,
      lastActivity: this.lastActivity,
    };
  }

  private deliver(m: Inbound, payloads: readonly string[]): void {
    switch (m.kind) {
      case "ack":
        this.toGate(m.gateId, "ack", "wallMsAcks", m.payload);
        return;
      case "admissions":
        this.toGate(m.gateId, "admissions", "wallMsFanOut", payloads[m.payload]);
        return;
      case "feed":
        this.toGate(m.gateId, "feed", "wallMsFeed", payloads[m.payload]);
        return;
      case "person":
        this.outstanding++;
        this.arrive(m.person);
        return;
    }
  }

  // ------------------------------------------------------------------------------ gate sync

  /** A batch the gate's GateSync published: it reaches the server a network hop later, in order. */
  private uplink(link: GateLink, payload: string): void {
    this.count("batches");
    const at = Math.max(this.clock.now() + this.hop(), link.upFreeAt + 1);
    link.upFreeAt = at;
    this.outbound.push({ kind: "batch", at, gateId: link.gate.gate.id, payload });
  }

  private hop(): number {
    return HOP_MIN_MS + Math.round(Math.min(HOP_MAX_MS, exponential(this.random, HOP_TAIL_MS)));
  }

  /** A server message reaching a gate's MQTT client, on the topic the gate subscribed to. */
  private toGate(
    gateId: string,
    topic: keyof GateLink["topics"],
    counter: string,
    payload: string | undefined,
  ): void {
    const link = this.links.get(gateId);
    const client = link?.client;
    if (!link || !client?.connected || payload === undefined) {
      this.error(new Error(`a message for gate ${gateId} found no connected gate`));
      return;
    }
    this.timed(counter, () => client.deliver(link.topics[topic], payload));
  }

  /** What the gate's sync client reports: acknowledgements, entries at other gates, the feed. */
  private watchSync(link: GateLink): void {
    const sync = link.gate.assembled.sync;
    if (!sync) throw new Error(`gate ${link.gate.gate.id} has no sync client`);
    sync.on("ack", (upTo) => {
      this.count("acks");
      link.acked = Math.max(link.acked, upTo);
    });
    sync.on("remote-entry", (event) => {
      this.count("remoteEntriesApplied");
      this.r.fanOut.push(this.clock.now() - event.at);
    });
    sync.on("feed-applied", (sequence) => {
      this.count("feedChangesApplied", sequence - link.feedSequence);
      link.feedSequence = sequence;
    });
    // The modeled link loses nothing: a resend, a replay request or a refused message is a fault.
    sync.on("log", (entry) => {
      if (entry.level === "info") return;
      this.count(`sync:${entry.code}`);
      this.error(new Error(`gate ${link.gate.gate.id}: sync ${entry.level} ${entry.code}: ${entry.detail}`));
    });
  }

  // ------------------------------------------------------------------------------ the crowd

  private profile(p: PersonSpec): ProfileFigures & { reasons: Record<string, number> } {
    let f = this.r.byProfile[p.profile];
    if (!f) {
      f = { people: 0, presentations: 0, passed: 0, notPassed: 0, reasons: {} };
      this.r.byProfile[p.profile] = f;
    }
    return f;
  }

  private minute(): number {
    return Math.max(0, Math.floor((this.clock.now() - this.config.windowStart) / MINUTE));
  }

  private bump(row: number[], i: number): void {
    while (row.length <= i) row.push(0);
    row[i] = (row[i] ?? 0) + 1;
  }

  private scheduleArrival(): void {
    const p = this.people[this.nextArrival];
    if (!p) return;
    this.clock.setTimeout(
      () => {
        this.nextArrival++;
        this.arrive(p);
        this.scheduleArrival();
      },
      Math.max(0, p.arriveAt - this.clock.now()),
    );
  }

  private arrive(p: Person): void {
    const pool = this.lanesOf.get(p.entrance);
    if (!pool || pool.length === 0) {
      // Their entrance is in another sector (a wrong-entrance holder sent back): hand them over.
      this.error(new Error(`person ${p.id} arrived at entrance ${p.entrance}, which is not in this sector`));
      this.outstanding--;
      return;
    }
    this.r.arrived++;
    this.bump(this.r.arrivals, this.minute());
    const key = String(p.entrance);
    this.r.arrivedPerEntrance[key] = (this.r.arrivedPerEntrance[key] ?? 0) + 1;
    let best: LaneState | undefined;
    let bestLength = Number.POSITIVE_INFINITY;
    let ties = 0;
    for (const s of pool) {
      const length = s.queue.length + (s.busy ? 1 : 0);
      // The shortest queue; among equal ones each is equally likely (the k-th tie replaces the
      // choice with probability 1/k), so that no lane is favoured by its place in the row.
      if (length < bestLength) {
        best = s;
        bestLength = length;
        ties = 1;
      } else if (length === bestLength && this.random() * ++ties < 1) best = s;
    }
    if (!best) return;
    best.queue.push({ person: p, since: this.clock.now() });
    if (!best.busy) void this.serveLane(best);
  }

  /** `p` comes (back) to entrance `p.entrance` `ms` from now: here, or in another sector. */
  private later(ms: number, p: Person): void {
    if (this.lanesOf.has(p.entrance)) {
      this.outstanding++;
      this.clock.setTimeout(() => this.arrive(p), ms);
    } else this.outbound.push({ kind: "person", at: this.clock.now() + ms, person: { ...p } });
  }

  private mismatch(p: Person, what: Mismatch["what"], got: string, s: LaneState): void {
    if (this.r.mismatches.length >= 50) return;
    this.r.mismatches.push({
      person: p.id,
      profile: p.profile,
      what,
      expected: `${p.truth.expect} (${p.truth.reasons.join(" | ")})`,
      got,
      gate: s.lane.gateId,
      lane: s.lane.lane,
      at: new Date(this.clock.now()).toISOString(),
    });
  }

  /** Holds the code to the reader; resolves with the gate's decision, or undefined after 3 s. */
  private decide(s: LaneState, p: Person): Promise<ScanOutcome | undefined> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        s.pending = undefined;
        resolve(undefined);
      }, 3_000);
      s.pending = (outcome) => {
        this.clock.clearTimeout(timer);
        resolve(outcome);
      };
      s.figures.scans++;
      s.gate.present(s.lane, this.phones.code(p.code, this.clock.now()));
    });
  }

  private async walkThrough(s: LaneState): Promise<boolean> {
    await this.clock.sleep(this.timings.approach(this.random));
    return (await s.lane.controller.walk("entry")) === "passed";
  }

  /** One person at the head of a lane's queue: show the code, then walk, wait or step aside. */
  private async servePerson(s: LaneState, p: Person): Promise<void> {
    const { r, clock, random, timings } = this;
    const f = this.profile(p);
    f.presentations++;
    await clock.sleep(timings.present(random, p.kind));
    let outcome = await this.decide(s, p);
    // A code the reader did not get across is shown again, as a person would.
    for (let retry = 0; outcome === undefined && retry < 2; retry++) outcome = await this.decide(s, p);
    if (!outcome) {
      r.truth.noDecision++;
      this.mismatch(p, "no-decision", "no answer", s);
      if (p.truth.expect !== "refuse") r.truth.falseRefusals++;
      f.notPassed++;
      await clock.sleep(timings.turnedAway(random));
      return;
    }
    const decision = outcome.decision;
    r.decisions++;
    r.byReason[decision.reason] = (r.byReason[decision.reason] ?? 0) + 1;
    r.byOutcome[decision.outcome] = (r.byOutcome[decision.outcome] ?? 0) + 1;
    f.reasons[decision.reason] = (f.reasons[decision.reason] ?? 0) + 1;
    if (!p.truth.reasons.includes(decision.reason as ReasonCode)) {
      r.truth.wrongReasons++;
      this.mismatch(p, "wrong-reason", decision.reason, s);
    }

    let passed = false;
    let choseNotToWalk = false;
    if (decision.outcome === "ASSISTED") {
      s.figures.assisted++;
      await clock.sleep(timings.steward(random, decision.reason));
      // The steward checks the ID or the paper: only an entitled holder is confirmed.
      if (p.truth.expect === "assisted") {
        const confirmed = await s.gate.backend.confirmAssisted(s.lane.lane, STEWARD_ID);
        if (confirmed.authorizationId && !confirmed.unlockError) passed = await this.walkThrough(s);
      } else s.gate.backend.declineAssisted(s.lane.lane, STEWARD_ID);
    } else if (decision.outcome === "ADMIT" && outcome.authorizationId && !outcome.unlockError) {
      if (p.noShowOnce) {
        // Turns back for a friend: nobody walks through; the steward waits for the arm to relock.
        p.noShowOnce = false;
        choseNotToWalk = true;
        r.truth.expectedAnnulled++;
        const until = clock.now() + 10_000;
        while (s.lane.bridge.openGrants().length > 0 && clock.now() < until) await clock.sleep(250);
        this.later(timings.comeBack(random), p);
      } else passed = await this.walkThrough(s);
    }
    const expectedPass = p.truth.expect !== "refuse";
    if (passed) {
      f.passed++;
      s.figures.admitted++;
      r.admitted++;
      this.bump(r.admittedMinute, this.minute());
      const row = r.admittedPerEntranceMinute[String(s.lane.entrance)];
      if (row) this.bump(row, this.minute());
      if (!expectedPass) {
        r.truth.falseAccepts++;
        this.mismatch(p, "false-accept", decision.reason, s);
      }
      if (this.sharers.has(p.id)) {
        // Their code goes round: a friend tries it later at the same entrance.
        const copy = usedTwiceCopy(p, 0);
        this.profile(copy).people++;
        r.people++;
        this.later(between(random, MINUTE, 15 * MINUTE), copy);
      }
    } else {
      f.notPassed++;
      s.figures.refused++;
      if (expectedPass && !choseNotToWalk) {
        r.truth.falseRefusals++;
        this.mismatch(p, "false-refusal", decision.reason, s);
      }
      if (!choseNotToWalk) await clock.sleep(timings.turnedAway(random));
      const retry = p.retry;
      if (retry && decision.reason === "WRONG_ENTRANCE") {
        p.retry = undefined;
        p.entrance = retry.entrance;
        p.truth = retry.truth;
        this.later(timings.walkToOtherEntrance(random), p);
      }
    }
  }

  private async serveLane(s: LaneState): Promise<void> {
    s.busy = true;
    try {
      for (let next = s.queue.shift(); next; next = s.queue.shift()) {
        this.r.waits.push(this.clock.now() - next.since);
        try {
          await this.servePerson(s, next.person);
        } catch (error) {
          this.error(error);
        }
        this.outstanding--;
        this.lastActivity = this.clock.now();
      }
    } finally {
      s.busy = false;
    }
  }

  private sample(): void {
    let longest = 0;
    const byEntrance = new Map<number, number>();
    for (const s of this.states.values()) {
      byEntrance.set(s.lane.entrance, (byEntrance.get(s.lane.entrance) ?? 0) + s.queue.length);
      longest = Math.max(longest, s.queue.length);
    }
    const i = Math.round((this.clock.now() - this.config.windowStart) / this.config.sampleEveryMs);
    for (const [entrance, n] of byEntrance) {
      const row = this.r.queueSamples[String(entrance)] ?? [];
      this.r.queueSamples[String(entrance)] = row;
      while (row.length < i) row.push(0);
      row[i] = n;
    }
    while (this.r.longestLaneSamples.length < i) this.r.longestLaneSamples.push(0);
    this.r.longestLaneSamples[i] = longest;
    this.r.maxQueue = Math.max(this.r.maxQueue, longest);
  }

  // ------------------------------------------------------------------------------ the end

  /** Closes the gates and hands over everything measured, with every gate's event log. */
  async finish(): Promise<SectorResult> {
    if (this.closed) throw new Error("sector already finished");
    this.closed = true;
    this.sample();
    const gateLogs: SectorResult["gateLogs"] = {};
    for (const g of this.gates) {
      const log: Array<[string, number, string, number | null, string]> = [];
      for (let from = 1; ; ) {
        const page = g.store.events(from, 5_000);
        for (const e of page) log.push([e.eventId, e.gateSeq, e.kind, e.ticketId ?? null, e.reason]);
        const last = page[page.length - 1];
        if (!last || page.length < 5_000) break;
        from = last.gateSeq + 1;
      }
      gateLogs[g.gate.id] = log;
    }
    let packets = 0;
    let wakes = 0;
    for (const g of this.gates)
      for (const l of g.lanes) {
        packets += l.controlPanel.counters.packetsSent;
        wakes += l.poll.wakes;
      }
    this.count("osdpPackets", packets);
    this.count("laneWakes", wakes);
    this.count("virtualTimers", this.clock.fired);
    this.count("wallMsPhones", this.phones.wallMs);
    const lanes: LaneResult[] = [...this.states.values()].map((s) => ({
      gateId: s.lane.gateId,
      lane: s.lane.lane,
      entrance: s.lane.entrance,
      index: s.lane.index,
      ...s.figures,
    }));
    for (const g of this.gates) await g.close();
    const r = this.r;
    return {
      index: this.config.index,
      unlockWall: r.unlockWall,
      decisionWall: r.decisionWall,
      presentToUnlock: r.presentToUnlock,
      fanOut: r.fanOut,
      waits: r.waits,
      byReason: r.byReason,
      byOutcome: r.byOutcome,
      byProfile: r.byProfile,
      mismatches: r.mismatches,
      truth: r.truth,
      people: r.people,
      admitted: r.admitted,
      decisions: r.decisions,
      lanes,
      perMinute: { arrivals: r.arrivals, admitted: r.admittedMinute },
      admittedPerEntranceMinute: r.admittedPerEntranceMinute,
      arrivedPerEntrance: r.arrivedPerEntrance,
      queueSamples: r.queueSamples,
      longestLaneSamples: r.longestLaneSamples,
      maxQueue: r.maxQueue,
      gateLogs,
      counters: r.counters,
      gateAlerts: r.gateAlerts,
      errors: r.errors,
    };
  }
}
