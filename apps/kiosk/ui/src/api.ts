import { useEffect, useRef, useState } from "react";
import type { KioskState } from "./types.js";

/** An API answer other than 2xx: the status, the backend's sentence and its extra fields. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export async function api<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    cache: "no-store",
    ...(body !== undefined
      ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }
      : {}),
  });
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = await response.json();
    if (typeof parsed === "object" && parsed !== null) json = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!response.ok) {
    const message = typeof json.error === "string" ? json.error : `HTTP ${response.status}`;
    throw new ApiError(response.status, message, json);
  }
  return json as T;
}

export interface LiveState {
  readonly state: KioskState | undefined;
  /** The event stream is open (false while the backend is unreachable). */
  readonly connected: boolean;
  /** `performance.now()` when `state` arrived: with `state.at`, the gate's clock now. */
  readonly receivedAt: number;
}

/**
 * The gate's state, live from `GET /api/events`. `generation` re-opens the stream (after a
 * sign-in or sign-out, the stream carries the steward of its own cookie). `onState` sees every
 * state in order, before React batches renders.
 */
export function useLiveState(generation: number, onState: (state: KioskState) => void): LiveState {
  const [live, setLive] = useState<LiveState>({ state: undefined, connected: false, receivedAt: 0 });
  const listener = useRef(onState);
  listener.current = onState;
  useEffect(() => {
    // `generation` is the reason to reconnect: read it so the dependency is real.
    const source = new EventSource(`/api/events?g=${generation}`);
    source.addEventListener("state", (event) => {
      let state: KioskState;
      try {
        state = JSON.parse((event as MessageEvent<string>).data) as KioskState;
      } catch {
        return;
      }
      listener.current(state);
      setLive({ state, connected: true, receivedAt: performance.now() });
    });
    source.addEventListener("error", () => setLive((l) => ({ ...l, connected: false })));
    return () => source.close();
  }, [generation]);
  return live;
}

/** Re-renders every `ms` (clocks and ages on screen). */
export function useTick(ms = 1000): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}
