type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * A small typed event emitter. A listener that throws must not break the protocol loop that
 * emitted the event, so its error is handed to `listenerError` listeners (or printed) instead.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, Set<unknown>>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return this;
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const wrapper: Listener<Events[K]> = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  /** Resolves on the next `event` whose arguments pass `filter`. */
  next<K extends keyof Events>(
    event: K,
    filter: (...args: Events[K]) => boolean = () => true,
  ): Promise<Events[K]> {
    return new Promise((resolve) => {
      const listener: Listener<Events[K]> = (...args) => {
        if (!filter(...args)) return;
        this.off(event, listener);
        resolve(args);
      };
      this.on(event, listener);
    });
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(...args);
      } catch (error) {
        console.error(`a listener of "${String(event)}" threw:`, error);
      }
    }
  }
}
