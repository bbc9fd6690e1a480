import { useCallback, useEffect, useReducer, useRef } from "react";
import { call } from "./api.js";
import type {
  AckStatus,
  Alert,
  CommandView,
  Counts,
  GateView,
  Snapshot,
  StoredEvent,
  Tally,
  ThroughputMinute,
} from "./types.js";

/*
 * The live venue: a snapshot at every (re)connection of the event stream, then every stored entry,
 * alert, presence change and command acknowledgement as it happens. Counts carry the last event row
 * they include, so that an entry is never counted twice nor missed between a snapshot and the stream.
 */

export interface MinuteTally {
  entered: number;
  refused: number;
}

export interface LiveState {
  readonly connected: boolean;
  /** Server clock minus this browser's, from the last snapshot or presence message. */
  readonly serverOffsetMs: number;
  readonly counts: Counts | undefined;
  readonly gates: Readonly<Record<string, GateView>>;
  /** Newest first. */
  readonly alerts: readonly Alert[];
  /** Newest first. */
  readonly commands: readonly CommandView[];
  readonly minutes: Readonly<Record<number, MinuteTally>>;
  /** Last event row the per-minute chart includes; -1 while it is being (re)loaded. */
  readonly chartRowId: number;
  /** Entries that arrived while the chart was loading, applied once it is. */
  readonly chartBacklog: readonly StoredEvent[];
  /** The latest stored events (newest last): a refetched count is brought up to date with them. */
  readonly recent: readonly StoredEvent[];
}

const INITIAL: LiveState = {
  connected: false,
  serverOffsetMs: 0,
  counts: undefined,
  gates: {},
  alerts: [],
  commands: [],
  minutes: {},
  chartRowId: -1,
  chartBacklog: [],
  recent: [],
};

type Action =
  | { type: "connection"; connected: boolean }
  | { type: "snapshot"; snapshot: Snapshot }
  | { type: "entries"; events: readonly StoredEvent[] }
  | { type: "counts"; counts: Counts }
  | { type: "throughput"; lastRowId: number; minutes: readonly ThroughputMinute[] }
  | { type: "alert"; alert: Alert }
  | { type: "presence"; gate: GateView; now: number | undefined }
  | { type: "commands"; commands: readonly CommandView[] }
  | { type: "command"; view: CommandView }
  | {
      type: "command-ack";
      commandId: string;
      gateId: string;
      status: AckStatus;
      detail: string | null;
      at: number;
    };

const bump = (tally: Tally, key: string | number | null | undefined, by = 1): Tally => {
  const k = key === null || key === undefined ? "unknown" : String(key);
  return { ...tally, [k]: Math.max(0, (tally[k] ?? 0) + by) };
};

/** Adds stored events to counts, the way the server's GROUP BYs count them. */
export function addToCounts(counts: Counts, events: readonly StoredEvent[]): Counts {
  let c = counts;
  for (const e of events) {
    if (e.rowId <= c.lastRowId) continue;
    c = { ...c, lastRowId: e.rowId, events: c.events + 1 };
    if (e.kind === "entered")
      c = {
        ...c,
        entered: c.entered + 1,
        byGate: bump(c.byGate, e.gateId),
        byEntrance: bump(c.byEntrance, e.entrance),
        byZone: bump(c.byZone, e.zone),
        bySession: bump(c.bySession, e.session),
        // The server counts presence per ticket; a double entry is reconciled by refetching counts.
        insideBySession: e.session === undefined ? c.insideBySession : bump(c.insideBySession, e.session),
      };
    else if (e.kind === "exited" && e.session !== undefined)
      c = { ...c, insideBySession: bump(c.insideBySession, e.session, -1) };
    else if (e.kind === "refused") c = { ...c, refusalsByReason: bump(c.refusalsByReason, e.reason) };
    else if (e.kind === "alarm") c = { ...c, alarmsByReason: bump(c.alarmsByReason, e.reason) };
    else if (e.kind === "free-passage") c = { ...c, freePassages: c.freePassages + 1 };
  }
  return c;
}

const CHART_KEEP_MS = 3 * 3_600_000;
const RECENT_KEPT = 5000;

function addToMinutes(
  minutes: Readonly<Record<number, MinuteTally>>,
  events: readonly StoredEvent[],
  afterRowId: number,
): Record<number, MinuteTally> {
  const out: Record<number, MinuteTally> = { ...minutes };
  let newest = 0;
  for (const e of events) {
    if (e.rowId <= afterRowId || (e.kind !== "entered" && e.kind !== "refused")) continue;
    const minute = Math.floor(e.at / 60_000) * 60_000;
    const m = out[minute] ?? { entered: 0, refused: 0 };
    out[minute] = e.kind === "entered" ? { ...m, entered: m.entered + 1 } : { ...m, refused: m.refused + 1 };
    newest = Math.max(newest, minute);
  }
  for (const key of Object.keys(out)) if (newest - Number(key) > CHART_KEEP_MS) delete out[Number(key)];
  return out;
}

function upsertAlert(alerts: readonly Alert[], alert: Alert): Alert[] {
  const rest = alerts.filter((a) => a.id !== alert.id);
  return [...rest, alert].sort((a, b) => b.id - a.id).slice(0, 500);
}

function reduce(state: LiveState, action: Action): LiveState {
  switch (action.type) {
    case "connection":
      return { ...state, connected: action.connected };
    case "snapshot": {
      const { snapshot } = action;
      let alerts: Alert[] = [];
      for (const a of snapshot.alerts) alerts = upsertAlert(alerts, a);
      // Alerts seen earlier on this page and not in the snapshot's window stay listed.
      for (const a of state.alerts) if (!alerts.some((x) => x.id === a.id)) alerts = upsertAlert(alerts, a);
      return {
        ...state,
        connected: true,
        serverOffsetMs: snapshot.now - Date.now(),
        counts: snapshot.counts,
        gates: Object.fromEntries(snapshot.gates.map((g) => [g.gateId, g])),
        alerts,
        chartRowId: -1,
        chartBacklog: [],
      };
    }
    case "entries": {
      const counts = state.counts ? addToCounts(state.counts, action.events) : undefined;
      const recent = [...state.recent, ...action.events].slice(-RECENT_KEPT);
      if (state.chartRowId < 0)
        return {
          ...state,
          counts,
          recent,
          chartBacklog: [...state.chartBacklog, ...action.events].slice(-20_000),
        };
      return {
        ...state,
        counts,
        recent,
        minutes: addToMinutes(state.minutes, action.events, state.chartRowId),
        chartRowId: Math.max(state.chartRowId, action.events[action.events.length - 1]?.rowId ?? 0),
      };
    }
    case "counts": {
      // A refetch: take it, then re-add whatever the stream brought after it was computed.
      const oldest = state.recent[0];
      if (oldest && oldest.rowId > action.counts.lastRowId + 1 && state.counts) return state;
      return { ...state, counts: addToCounts(action.counts, state.recent) };
    }
    case "throughput": {
      const minutes: Record<number, MinuteTally> = {};
      for (const m of action.minutes) minutes[m.at] = { entered: m.entered, refused: m.refused };
      const withBacklog = addToMinutes(minutes, state.chartBacklog, action.lastRowId);
      const last = state.chartBacklog[state.chartBacklog.length - 1]?.rowId ?? 0;
      return {
        ...state,
        minutes: withBacklog,
        chartRowId: Math.max(action.lastRowId, last),
        chartBacklog: [],
      };
    }
    case "alert":
      return { ...state, alerts: upsertAlert(state.alerts, action.alert) };
    case "presence":
      return {
        ...state,
        gates: { ...state.gates, [action.gate.gateId]: action.gate },
        ...(action.now === undefined ? {} : { serverOffsetMs: action.now - Date.now() }),
      };
    case "commands": {
      const known = new Set(action.commands.map((c) => c.command.id));
      return {
        ...state,
        commands: [...action.commands, ...state.commands.filter((c) => !known.has(c.command.id))],
      };
    }
    case "command":
      if (state.commands.some((c) => c.command.id === action.view.command.id)) return state;
      return { ...state, commands: [action.view, ...state.commands].slice(0, 100) };
    case "command-ack":
      return {
        ...state,
        commands: state.commands.map((c) =>
          c.command.id !== action.commandId
            ? c
            : {
                ...c,
                acks: [
                  ...c.acks.filter((a) => a.gateId !== action.gateId),
                  { gateId: action.gateId, status: action.status, detail: action.detail, at: action.at },
                ],
              },
        ),
      };
  }
}

function parse<T>(event: Event): T | undefined {
  try {
    return JSON.parse((event as MessageEvent<string>).data) as T;
  } catch {
    return undefined;
  }
}

export interface Live {
  readonly state: LiveState;
  /** Applies the server's answer to an acknowledgement at once (the stream confirms it too). */
  readonly alertChanged: (alert: Alert) => void;
  readonly commandsSent: (views: readonly CommandView[]) => void;
}

export function useLive(): Live {
  const [state, dispatch] = useReducer(reduce, INITIAL);
  const closed = useRef(false);

  const refreshCounts = useCallback(() => {
    call<Counts>("GET", "counts")
      .then((counts) => dispatch({ type: "counts", counts }))
      .catch(() => undefined);
  }, []);
  const loadChart = useCallback(() => {
    call<{ lastRowId: number; minutes: ThroughputMinute[] }>("GET", "throughput?minutes=90")
      .then((t) => dispatch({ type: "throughput", lastRowId: t.lastRowId, minutes: t.minutes }))
      .catch(() => undefined);
  }, []);

  useEffect(() => {
    closed.current = false;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const open = () => {
      const es = new EventSource("api/stream");
      source = es;
      es.addEventListener("snapshot", (e) => {
        const snapshot = parse<Snapshot>(e);
        if (!snapshot) return;
        dispatch({ type: "snapshot", snapshot });
        loadChart();
      });
      es.addEventListener("entries", (e) => {
        const events = parse<StoredEvent[]>(e);
        if (events) dispatch({ type: "entries", events });
      });
      es.addEventListener("alert", (e) => {
        const alert = parse<Alert>(e);
        if (!alert) return;
        dispatch({ type: "alert", alert });
        if (alert.type === "double-entry") refreshCounts();
      });
      // An acknowledgement, or a grouped alert's new count: the same alert, replaced.
      for (const name of ["alert-ack", "alert-update"])
        es.addEventListener(name, (e) => {
          const alert = parse<Alert>(e);
          if (alert) dispatch({ type: "alert", alert });
        });
      es.addEventListener("presence", (e) => {
        const gate = parse<GateView & { now?: number }>(e);
        if (gate) dispatch({ type: "presence", gate, now: gate.now });
      });
      es.addEventListener("command", (e) => {
        const view = parse<CommandView>(e);
        if (view) dispatch({ type: "command", view });
      });
      es.addEventListener("command-ack", (e) => {
        const ack = parse<{
          commandId: string;
          gateId: string;
          status?: AckStatus;
          detail?: string | null;
          at?: number;
        }>(e);
        if (ack?.status)
          dispatch({
            type: "command-ack",
            commandId: ack.commandId,
            gateId: ack.gateId,
            status: ack.status,
            detail: ack.detail ?? null,
            at: ack.at ?? Date.now(),
          });
      });
      es.onerror = () => {
        dispatch({ type: "connection", connected: false });
        if (es.readyState !== EventSource.CLOSED || closed.current) return;
        // The browser gave up (the server answered an error, e.g. 401 after the session expired):
        // find out whether we are still signed in (a 401 shows the sign-in form), then start again.
        call("GET", "session")
          .then(() => {
            if (!closed.current) retry = setTimeout(open, 2000);
          })
          .catch(() => {
            if (!closed.current) retry = setTimeout(open, 5000);
          });
      };
    };
    open();
    call<{ commands: CommandView[] }>("GET", "commands?limit=30")
      .then((r) => dispatch({ type: "commands", commands: r.commands }))
      .catch(() => undefined);
    // Presence per ticket (inside) cannot be derived exactly from entries alone: reconcile now and then.
    const reconcile = setInterval(refreshCounts, 60_000);
    return () => {
      closed.current = true;
      clearTimeout(retry);
      clearInterval(reconcile);
      source?.close();
    };
  }, [loadChart, refreshCounts]);

  const alertChanged = useCallback((alert: Alert) => dispatch({ type: "alert", alert }), []);
  const commandsSent = useCallback((views: readonly CommandView[]) => {
    for (const view of views) dispatch({ type: "command", view });
  }, []);
  return { state, alertChanged, commandsSent };
}
