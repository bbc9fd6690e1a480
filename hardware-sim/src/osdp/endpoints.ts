import { existsSync, lstatSync, mkdtempSync, realpathSync, rmSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSerialTransport, socketTransport, type Transport } from "@sesame/bridge";
import { startSocatPair, stopSocat } from "../pty.js";
import type { SimBus } from "./bus.js";

/** Where a simulated bus is reachable, and how to take it down. */
export interface BusEndpoint {
  /** What a control panel opens: "tcp://127.0.0.1:PORT" or the PTY link path. */
  readonly where: string;
  close(): Promise<void>;
}

/**
 * Listens like a serial device server: one control panel at a time; a new connection replaces the
 * old one (a CP that reconnected after a network glitch while its old socket was half-open).
 */
export function listenTcp(bus: SimBus, host = "127.0.0.1", port = 0): Promise<BusEndpoint> {
  return new Promise((resolve, reject) => {
    let current: Socket | undefined;
    const server: Server = createServer((socket) => {
      current?.destroy();
      current = socket;
      bus.attach(socketTransport(socket));
    });
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen on ${host}:${port}: ${error.code ?? error.message}`)),
    );
    server.listen(port, host, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the bound port"));
        return;
      }
      const where = `tcp://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
      resolve({
        where,
        close: () =>
          new Promise<void>((done) => {
            current?.destroy();
            bus.detach();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Makes a PTY pair with socat, links `linkPath` to the end a control panel opens, and plugs the
 * bus into the other end through serialport — so the bridge talks to it exactly as to hardware.
 */
export async function openPtyEndpoint(
  bus: SimBus,
  linkPath: string,
  options: { baudRate?: number; timeoutMs?: number } = {},
): Promise<BusEndpoint> {
  if (existsSync(linkPath) || isDanglingLink(linkPath)) {
    if (!lstatSync(linkPath).isSymbolicLink()) {
      throw new Error(`${linkPath} exists and is not a symbolic link; refusing to replace it`);
    }
    unlinkSync(linkPath);
  }
  const dir = mkdtempSync(join(tmpdir(), "sesame-sim-pty-"));
  const devicePath = join(dir, "device");
  const socat = await startSocatPair(linkPath, devicePath, options.timeoutMs).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const cleanup = async () => {
    await stopSocat(socat);
    rmSync(dir, { recursive: true, force: true });
    if (isDanglingLink(linkPath)) unlinkSync(linkPath);
  };
  let transport: Transport;
  try {
    transport = await openSerialTransport(realpathSync(devicePath), { baudRate: options.baudRate });
  } catch (error) {
    await cleanup();
    throw error;
  }
  bus.attach(transport);
  return {
    where: linkPath,
    async close() {
      bus.detach();
      await transport.close();
      await cleanup();
    },
  };
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink() && !existsSync(path);
  } catch {
    return false;
  }
}
