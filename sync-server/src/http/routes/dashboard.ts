import {
  ADMIT_REASONS,
  ALARM_REASONS,
  ASSISTED_REASONS,
  FAILURE_REASONS,
  MANUAL_REASONS,
  outcomeOf,
  REFUSE_REASONS,
  type ReasonCode,
  stewardMessages,
} from "@sesame/gate-core";
import { EVENT_KINDS } from "@sesame/sync";
import type { ReasonText } from "../../contract.js";
import { ApiError } from "../../errors.js";
import { streamSessionCsv } from "../export.js";
import { intParam, send } from "../request.js";
import { READ_ROLES, type RouteModule } from "./route.js";

/* What the dashboard reads: counts, the entry log, the venue, reason texts, throughput, rejections, exports. */

const ALARMS: ReadonlySet<string> = new Set(ALARM_REASONS);

/** Reason codes with the stewards' texts in both languages and their outcome (or ALARM), for the dashboard. */
const REASON_TEXTS: readonly ReasonText[] = [
  ...ADMIT_REASONS,
  ...ASSISTED_REASONS,
  ...REFUSE_REASONS,
  ...ALARM_REASONS,
  ...MANUAL_REASONS,
  ...FAILURE_REASONS,
].map((code: ReasonCode) => {
  // Placeholders stand in for the per-scan details the steward would see (entrance, time, gate).
  const m = stewardMessages(code, {
    entrance: "…",
    time: "…",
    date: "…",
    session: "…",
    gate: "…",
    holder: "…",
  });
  return { code, outcome: ALARMS.has(code) ? "ALARM" : outcomeOf(code), fr: m.fr, en: m.en };
});

export const dashboardRoutes: RouteModule = async (
  { server, require },
  { res, url, method, path, caller },
) => {
  if (method !== "GET") return false;
  const store = server.store;
  switch (path) {
    case "/api/counts":
      require(caller, READ_ROLES);
      send(res, 200, store.counts());
      return true;
    case "/api/events": {
      require(caller, READ_ROLES);
      const limit = intParam(url, "limit", 100, 1, 1000);
      const before = url.searchParams.get("before");
      if (before !== null && before !== "" && !/^\d{1,15}$/.test(before))
        throw new ApiError(400, "before must be a whole number (an event row id)");
      const gate = url.searchParams.get("gate");
      const kind = url.searchParams.get("kind");
      // Filters name things that exist: anything else is a mistake (or a probe) worth saying so.
      const gates = server.venue.gates.map((g) => g.id);
      if (gate && !gates.includes(gate))
        throw new ApiError(400, `gate must be a gate of venue ${server.venue.id} (${gates.join(", ")})`);
      if (kind && !(EVENT_KINDS as readonly string[]).includes(kind))
        throw new ApiError(400, `kind must be one of ${EVENT_KINDS.join(", ")}`);
      send(res, 200, {
        events: store.recentEvents({
          limit,
          ...(before ? { before: Number(before) } : {}),
          ...(gate ? { gate } : {}),
          ...(kind ? { kind } : {}),
        }),
      });
      return true;
    }
    case "/api/venue": {
      require(caller, READ_ROLES);
      const { rootPublicKey: _root, ...venue } = server.venue;
      send(res, 200, { venue });
      return true;
    }
    case "/api/reasons":
      require(caller, READ_ROLES);
      send(res, 200, { reasons: REASON_TEXTS });
      return true;
    case "/api/throughput": {
      require(caller, READ_ROLES);
      const minutes = intParam(url, "minutes", 90, 1, 240);
      const now = server.now();
      const to = (Math.floor(now / 60_000) + 2) * 60_000;
      const from = to - (minutes + 2) * 60_000;
      send(res, 200, { from, to, now, ...store.throughput(from, to) });
      return true;
    }
    case "/api/export/entries.csv": {
      require(caller, READ_ROLES);
      const param = url.searchParams.get("session");
      if (param === null || param === "") throw new ApiError(400, "give ?session=<id or code>");
      if (param.length > 64) throw new ApiError(400, "session must be a session id or code");
      const session = server.venue.sessions.find((x) => String(x.id) === param || x.code === param);
      if (!session)
        throw new ApiError(404, `no session ${JSON.stringify(param)} in venue ${server.venue.id}`);
      await streamSessionCsv(res, store, server.venue, session);
      return true;
    }
    case "/api/rejections": {
      require(caller, READ_ROLES);
      const source = url.searchParams.get("source");
      if (source !== null && source.length > 64)
        throw new ApiError(400, "source must be a gate id or a broker username (at most 64 characters)");
      send(res, 200, {
        rejections: store.rejections(intParam(url, "limit", 100, 1, 1000), source ?? undefined),
      });
      return true;
    }
    default:
      return false;
  }
};
