import { SerialPort } from "serialport";
import { BaseTransport, type Transport, TransportError, toBuffer } from "./transport.js";

export interface SerialOptions {
  readonly baudRate?: number;
}

class SerialTransport extends BaseTransport {
  constructor(
    private readonly port: SerialPort,
    readonly description: string,
  ) {
    super();
    port.on("data", (chunk: Buffer) => this.deliver(chunk));
    port.on("close", (error?: Error | null) => this.markClosed(error ?? undefined));
    port.on("error", (error: Error) => {
      if (!port.isOpen) this.markClosed(error);
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError(`${this.description} is closed`));
    return new Promise((resolve, reject) => {
      this.port.write(toBuffer(bytes), (error) => {
        if (error) reject(new TransportError(`writing to ${this.description}: ${error.message}`));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (!this.port.isOpen) {
      this.markClosed();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.port.close(() => {
        this.markClosed();
        resolve();
      });
    });
  }
}

/**
 * Opens a serial port (a USB/RS-485 adapter, or one end of a PTY pair). Modem-control lines are left
 * alone: setting DTR/RTS fails with ENOTTY on PTYs, and RS-485 adapters switch direction themselves.
 */
export function openSerialTransport(path: string, options: SerialOptions = {}): Promise<Transport> {
  const baudRate = options.baudRate ?? 115_200;
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((error) => {
      if (error) reject(new TransportError(`cannot open serial port ${path}: ${error.message}`));
      else resolve(new SerialTransport(port, path));
    });
  });
}
