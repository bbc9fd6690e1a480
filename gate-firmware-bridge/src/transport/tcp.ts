import { connect, type Socket } from "node:net";
import { BaseTransport, type Transport, TransportError, toBuffer } from "./transport.js";

class SocketTransport extends BaseTransport {
  constructor(
    private readonly socket: Socket,
    readonly description: string,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.deliver(chunk));
    socket.on("close", () => this.markClosed());
    socket.on("error", (error) => this.markClosed(error));
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError(`${this.description} is closed`));
    return new Promise((resolve, reject) => {
      this.socket.write(toBuffer(bytes), (error) => {
        if (error) reject(new TransportError(`writing to ${this.description}: ${error.message}`));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.destroy();
    });
  }
}

/** Wraps an accepted or connected socket (the simulator's side of a serial device server uses this). */
export function socketTransport(socket: Socket, description?: string): Transport {
  return new SocketTransport(socket, description ?? `tcp://${socket.remoteAddress}:${socket.remotePort}`);
}

/** Connects to a serial device server (or the simulator) that carries the RS-485 bytes over TCP. */
export function connectTcpTransport(host: string, port: number, timeoutMs = 2_000): Promise<Transport> {
  const description = `tcp://${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TransportError(`connecting to ${description} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(new TransportError(`cannot connect to ${description}: ${error.message}`));
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socketTransport(socket, description));
    });
  });
}
