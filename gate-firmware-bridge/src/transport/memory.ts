import { BaseTransport, type Transport, TransportError } from "./transport.js";

class MemoryEnd extends BaseTransport {
  peer: MemoryEnd | undefined;

  constructor(readonly description: string) {
    super();
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new TransportError(`${this.description} is closed`);
    const copy = bytes.slice();
    const peer = this.peer;
    // Deliver asynchronously, as a real port would, so a reply never re-enters its sender's stack.
    queueMicrotask(() => {
      if (peer !== undefined && !peer.closed) peer.receive(copy);
    });
  }

  receive(bytes: Uint8Array): void {
    this.deliver(bytes);
  }

  async close(): Promise<void> {
    const peer = this.peer;
    this.markClosed();
    if (peer !== undefined && !peer.closed) queueMicrotask(() => peer.markClosed());
  }

  override markClosed(error?: Error): void {
    super.markClosed(error);
  }
}

/** Two transports joined back to back: what one writes, the other reads. For tests and the virtual rehearsal. */
export function createMemoryLink(name = "memory"): [Transport, Transport] {
  const a = new MemoryEnd(`${name}:a`);
  const b = new MemoryEnd(`${name}:b`);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
