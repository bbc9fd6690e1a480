/**
 * The one seam between the OSDP layers and the bytes: a serial port, a TCP link to a serial device
 * server, or an in-memory pair in unit tests all look like this.
 */
export interface Transport {
  /** Where the bytes go, for logs and errors ("/dev/pts/3", "tcp://127.0.0.1:4001"). */
  readonly description: string;
  readonly closed: boolean;
  /** Hands the bytes to the port at once; the promise settles when the port has taken them. */
  write(bytes: Uint8Array): Promise<void>;
  onData(listener: (chunk: Uint8Array) => void): () => void;
  /** Called once, when the link goes away (cable, hang-up, close()). */
  onClose(listener: (error?: Error) => void): () => void;
  close(): Promise<void>;
}

export type TransportFactory = () => Promise<Transport>;

export class TransportError extends Error {
  override readonly name = "TransportError";
}

/** Listener bookkeeping shared by the adapters. */
export abstract class BaseTransport implements Transport {
  abstract readonly description: string;
  private readonly dataListeners = new Set<(chunk: Uint8Array) => void>();
  private readonly closeListeners = new Set<(error?: Error) => void>();
  private isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  abstract write(bytes: Uint8Array): Promise<void>;
  abstract close(): Promise<void>;

  onData(listener: (chunk: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onClose(listener: (error?: Error) => void): () => void {
    if (this.isClosed) {
      queueMicrotask(() => listener());
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  protected deliver(chunk: Uint8Array): void {
    for (const listener of this.dataListeners) listener(chunk);
  }

  protected markClosed(error?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    this.dataListeners.clear();
    for (const listener of listeners) listener(error);
  }
}

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
