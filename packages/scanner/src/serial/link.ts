import { SerialPort } from "serialport";

/**
 * The seam between the scanner reader and a serial device: bytes in, bytes out, and a close
 * that says whether the device went away. Production and tests both use serialport (tests over
 * socat PTYs); the seam exists so that a TCP serial server could be added without touching the reader.
 */
export interface SerialLink {
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Called once when the link ends; `error` is set when it ended by itself (cable pulled). */
  onClose(listener: (error: Error | undefined) => void): void;
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export type SerialLinkOpener = (path: string, baudRate: number) => Promise<SerialLink>;

/** Opens a real serial port (or a PTY) with serialport. Never touches DTR/RTS: PTYs refuse them. */
export const openSerialPortLink: SerialLinkOpener = (path, baudRate) =>
  new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false, hupcl: false });
    port.open((openError) => {
      if (openError) {
        reject(new Error(`cannot open ${path}: ${openError.message}`));
        return;
      }
      let closed = false;
      const closeListeners: Array<(error: Error | undefined) => void> = [];
      const finish = (error: Error | undefined) => {
        if (closed) return;
        closed = true;
        for (const listener of closeListeners) listener(error);
      };
      port.on("close", (error: (Error & { disconnected?: boolean }) | null) => {
        finish(error ?? undefined);
      });
      // serialport reports read failures as 'error' and may not close by itself: close for it.
      port.on("error", (error: Error) => {
        if (port.isOpen) port.close(() => finish(error));
        else finish(error);
      });
      resolve({
        onData(listener) {
          port.on("data", (chunk: Buffer) =>
            listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
          );
        },
        onClose(listener) {
          closeListeners.push(listener);
        },
        write(bytes) {
          return new Promise((done, fail) => {
            port.write(Buffer.from(bytes), (error) => {
              if (error) fail(error);
              else port.drain((drainError) => (drainError ? fail(drainError) : done()));
            });
          });
        },
        close() {
          return new Promise((done) => {
            if (!port.isOpen) {
              finish(undefined);
              done();
              return;
            }
            closed = true;
            port.close(() => done());
          });
        },
      });
    });
  });
