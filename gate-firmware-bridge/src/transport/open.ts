import { openSerialTransport } from "./serial.js";
import { connectTcpTransport } from "./tcp.js";
import { TransportError, type TransportFactory } from "./transport.js";

export type LinkTarget =
  | { readonly kind: "serial"; readonly path: string }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number };

/**
 * Reads "/dev/ttyUSB0", "/dev/pts/4" or "tcp://127.0.0.1:4001". Port 0 ("any free port") only
 * makes sense for an address to listen on, not one to connect to.
 */
export function parseLinkTarget(target: string, options: { listening?: boolean } = {}): LinkTarget {
  if (target.startsWith("tcp://")) {
    const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(target);
    const port = Number(match?.[2]);
    if (match === null || !(port >= (options.listening ? 0 : 1) && port < 65536)) {
      throw new TransportError(`"${target}" is not a TCP address; expected tcp://HOST:PORT`);
    }
    return { kind: "tcp", host: (match[1] ?? "").replace(/^\[|\]$/g, ""), port };
  }
  if (target.startsWith("/")) return { kind: "serial", path: target };
  throw new TransportError(`"${target}" is neither a serial device path (/dev/…) nor tcp://HOST:PORT`);
}

/** A factory that (re)opens the link, so the control panel can reconnect after a cable or server loss. */
export function transportFactory(target: string, options: { baudRate?: number } = {}): TransportFactory {
  const link = parseLinkTarget(target);
  if (link.kind === "tcp") return () => connectTcpTransport(link.host, link.port);
  return () => openSerialTransport(link.path, options);
}
