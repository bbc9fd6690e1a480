import type { IncomingMessage, ServerResponse } from "node:http";
import type { Command } from "@sesame/sync";
import type { Snapshot } from "../../contract.js";
import type { Alert, RejectionRecord, StoredEvent } from "../../store.js";
import type { DashboardSessions } from "../auth.js";
import { SECURITY_HEADERS } from "../static.js";
import { commandView } from "./commands.js";
import { type ApiContext, type Caller, READ_ROLES, type RouteModule } from "./route.js";

/*
 * GET /api/stream: the dashboard's live feed (Server-Sent Events). A snapshot first, then entries,
 * alerts, presence, rejections and commands as they happen; a client that reconnects sends its
 * cursor back (Last-Event-ID) and gets what it missed first.
 */

/** SSE cursor: `e<last event row>.a<last alert id>` (the Last-Event-ID a browser sends back). */
export function parseCursor(text: string | undefined): { event: number; alert: number } | undefined {
  if (!text) return undefined;
  const m = /^e(\d+)\.a(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  return { event: Number(m[1]), alert: Number(m[2]) };
}

/** The open streams and who holds them (signing out closes a session's streams). */
export type OpenStreams = Map<ServerResponse, Caller>;

export function streamRoutes(sessions: DashboardSessions, streams: OpenStreams): RouteModule {
  return (ctx, { req, res, url, method, path, caller }) => {
    if (method !== "GET" || path !== "/api/stream") return false;
    const who = ctx.require(caller, READ_ROLES);
    openStream(ctx, sessions, streams, req, res, url, who);
    return true;
  };
}

function openStream(
  { server, gateView }: ApiContext,
  sessions: DashboardSessions,
  streams: OpenStreams,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  caller: Caller,
): void {
  const store = server.store;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    ...SECURITY_HEADERS,
  });
  let cursor = { event: store.lastEventRowId(), alert: store.lastAlertId() };
  const id = () => `e${cursor.event}.a${cursor.alert}`;
  const write = (event: string, data: unknown, withId: boolean) => {
    res.write(`event: ${event}\n${withId ? `id: ${id()}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
    // A reader that stopped reading: drop it rather than buffer without end; it resumes by Last-Event-ID.
    if (res.writableLength > 16 * 1024 * 1024) res.destroy();
  };
  const resume = parseCursor(
    (req.headers["last-event-id"] as string | undefined) ?? url.searchParams.get("lastEventId") ?? undefined,
  );
  res.write("retry: 1000\n\n");
  if (resume) {
    // Replay synchronously (SQLite reads are synchronous): no live event can interleave.
    cursor = { ...resume };
    for (;;) {
      const events = store.eventsAfter(cursor.event, 500);
      const last = events[events.length - 1];
      if (!last) break;
      cursor.event = last.rowId;
      write("entries", events, true);
    }
    for (const alert of store.alertsAfter(cursor.alert, 1000)) {
      cursor.alert = alert.id;
      write("alert", alert, true);
    }
  }
  const snapshot: Snapshot = {
    counts: store.counts(),
    gates: store.gates().map(gateView),
    alerts: store.alertsForDashboard(50),
    now: server.now(),
  };
  write("snapshot", snapshot, true);
  const onEntries = (events: readonly StoredEvent[]) => {
    const last = events[events.length - 1];
    if (!last || last.rowId <= cursor.event) return;
    cursor.event = last.rowId;
    write("entries", events, true);
  };
  const onAlert = (alert: Alert) => {
    if (alert.id <= cursor.alert) return;
    cursor.alert = alert.id;
    write("alert", alert, true);
  };
  const onPresence = (gateId: string) => {
    const g = store.gate(gateId);
    if (g) write("presence", { ...gateView(g), now: server.now() }, false);
  };
  const onRejection = (r: RejectionRecord) => write("rejection", r, false);
  const onCommandAck = (commandId: string, gateId: string) => {
    const ack = store.command(commandId)?.acks.find((a) => a.gateId === gateId);
    write(
      "command-ack",
      { commandId, gateId, ...(ack ? { status: ack.status, detail: ack.detail, at: ack.at } : {}) },
      false,
    );
  };
  const onCommand = (command: Command) => write("command", commandView(server, command), false);
  const onAlertAck = (alert: Alert) => write("alert-ack", alert, false);
  const onAlertUpdate = (alert: Alert) => write("alert-update", alert, false);
  server.on("entries", onEntries);
  server.on("alert", onAlert);
  server.on("presence", onPresence);
  server.on("rejection", onRejection);
  server.on("command-ack", onCommandAck);
  server.on("command", onCommand);
  server.on("alert-ack", onAlertAck);
  server.on("alert-update", onAlertUpdate);
  const keepalive = setInterval(() => {
    // An open dashboard keeps its session alive; a signed-out or expired one loses its stream.
    if (caller.sessionId !== undefined && !sessions.touch(caller.sessionId)) {
      res.end();
      return;
    }
    res.write(": keepalive\n\n");
  }, 15_000);
  streams.set(res, caller);
  const cleanup = () => {
    clearInterval(keepalive);
    server.off("entries", onEntries);
    server.off("alert", onAlert);
    server.off("presence", onPresence);
    server.off("rejection", onRejection);
    server.off("command-ack", onCommandAck);
    server.off("command", onCommand);
    server.off("alert-ack", onAlertAck);
    server.off("alert-update", onAlertUpdate);
    streams.delete(res);
  };
  res.on("close", cleanup);
  res.on("error", cleanup);
}
