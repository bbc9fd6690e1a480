/** Time as the protocol layers see it: injected so tests can drive timeouts with fake timers. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface SystemTimer {
  timer: ReturnType<typeof setTimeout> | undefined;
  immediate: ReturnType<typeof setImmediate> | undefined;
}

/**
 * Node's timers, with one rule: a deadline is judged only after the input that arrived before it
 * has been read. When the event loop stalls (a loaded kiosk, a long synchronous import), a reply
 * timer and the reply's bytes can both be due at once, and the timers phase runs before the poll
 * phase reads the socket: the reply would be thrown away as late and the lane taken offline. So an
 * expired timer hands its callback to setImmediate, which runs after that poll phase; clearing the
 * timer cancels either stage.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => {
    const handle: SystemTimer = { timer: undefined, immediate: undefined };
    handle.timer = setTimeout(() => {
      handle.timer = undefined;
      handle.immediate = setImmediate(callback);
    }, ms);
    return handle;
  },
  clearTimeout: (handle) => {
    const h = handle as SystemTimer | undefined;
    if (h === undefined) return;
    if (h.timer !== undefined) clearTimeout(h.timer);
    if (h.immediate !== undefined) clearImmediate(h.immediate);
  },
};
