import { type Decision, type Direction, decideScan, transition } from "@sesame/gate-core";
import { createScanVerifiers } from "@sesame/ticket";
import { parse, parseInteger, parseTime, requireString } from "../args.js";
import { CliError } from "../cli-error.js";
import { openGateCache } from "../gate-cache.js";
import type { Io } from "../io.js";

export const GATE_VERIFY_USAGE =
  "sesame gate verify --venue DIR --gate GATE --code CODE [--lane L] [--direction entry|exit] [--at ISO-TIME] [--db FILE]" +
  "\n      (exit 0 admitted, 1 refused, 3 a steward must check and confirm; --db keeps the gate's cache between runs)";

const EXIT = { ADMIT: 0, REFUSE: 1, ASSISTED: 3 } as const;

/**
 * A full admission at one gate, as the gate would run it: the decision with this gate's cache,
 * then the entry lifecycle. No turnstile is attached, so an admitted passage is recorded at once
 * (authorized, then entered or exited); an assisted case records nothing.
 */
export async function gateVerify(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      venue: { type: "string" },
      gate: { type: "string" },
      lane: { type: "string" },
      direction: { type: "string" },
      code: { type: "string" },
      at: { type: "string" },
      db: { type: "string" },
    },
    GATE_VERIFY_USAGE,
  );
  if (positionals.length > 0)
    throw new CliError(
      `unexpected ${JSON.stringify(positionals[0])}: give the code with --code (quoted)\n\nusage: ${GATE_VERIFY_USAGE}`,
    );
  const dir = requireString(values.venue, "--venue DIR", GATE_VERIFY_USAGE);
  const gateId = requireString(values.gate, "--gate GATE", GATE_VERIFY_USAGE);
  const code = requireString(values.code, "--code CODE", GATE_VERIFY_USAGE);
  const direction = (values.direction ?? "entry") as Direction;
  if (direction !== "entry" && direction !== "exit")
    throw new CliError(`--direction must be entry or exit, got ${JSON.stringify(values.direction)}`);
  const nowMs = parseTime(values.at, "--at") ?? io.now();

  const cache = openGateCache(dir, gateId, values.db, (line) => io.stderr.write(`sesame: ${line}\n`));
  try {
    const { store, gate } = cache;
    const lane = parseInteger(values.lane, "--lane", 1, gate.lanes) ?? 1;
    const decision = decideScan(
      code,
      { gateId, lane, entrance: gate.entrance, direction, nowMs, mode: "normal", clockSuspect: false },
      store.facts(),
      createScanVerifiers(),
    );
    const place = { lane, direction, at: nowMs };
    const recorded: Array<{ kind: string; gateSeq: number }> = [];
    const step = transition("scanned", { type: "decided", decision, direction });
    if (step.ok && step.record === "authorized") {
      const { authorization, event } = store.authorize(decision, place);
      recorded.push({ kind: event.kind, gateSeq: event.gateSeq });
      const passed = store.confirmPassage(authorization.authorizationId, nowMs);
      if (passed.event) recorded.push({ kind: passed.event.kind, gateSeq: passed.event.gateSeq });
    } else if (step.ok && step.record === "refused") {
      const { event } = store.recordRefusal(decision, place);
      recorded.push({ kind: event.kind, gateSeq: event.gateSeq });
    }
    io.stdout.write(
      `${JSON.stringify(report(decision, { gateId, lane, direction, nowMs, recorded, cache: cache.path }), null, 2)}\n`,
    );
    return EXIT[decision.outcome];
  } finally {
    cache.close();
  }
}

function report(
  d: Decision,
  r: {
    gateId: string;
    lane: number;
    direction: Direction;
    nowMs: number;
    recorded: Array<{ kind: string; gateSeq: number }>;
    cache: string | undefined;
  },
) {
  return {
    decision: d.outcome,
    reason: d.reason,
    messages: d.messages,
    ...(d.outcome === "ASSISTED"
      ? {
          steward:
            "a steward must check and confirm at the gate; nothing was recorded, the ticket is not used",
        }
      : {}),
    holder: d.holder || undefined,
    seat: d.seat || undefined,
    ticketId: d.ticketId,
    generation: d.generation,
    session: d.session,
    zone: d.zone,
    categories: d.categories && d.categories.length > 0 ? d.categories : undefined,
    kind: d.kind,
    detail: d.detail,
    gate: r.gateId,
    lane: r.lane,
    direction: r.direction,
    at: new Date(r.nowMs).toISOString(),
    recorded: r.recorded,
    cache: r.cache ?? "temporary",
  };
}
