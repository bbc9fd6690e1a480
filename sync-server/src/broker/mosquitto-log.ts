import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { BrokerAudit } from "./aedes.js";

/*
 * Mosquitto's refusals, read from its log file (`log_dest file`, written by `sesame
 * mosquitto-config`): Mosquitto tells nobody else. 2.0.11 logs a denied publish at debug level
 * only, and never publishes debug lines on `$SYS/broker/log` (measured), so the file is the one
 * place where they are. With `use_username_as_clientid` the client id is the username.
 */

const DENIED_PUBLISH =
  /^(?:\d+: )?Denied PUBLISH from (\S+) \(d\d, q\d, r(\d), m\d+, '(.*)', \.\.\. \(\d+ bytes\)\)$/;
const NOT_AUTHORISED = /^(?:\d+: )?Client (\S+) disconnected, not authori[sz]ed\.$/;

/** The refusal a Mosquitto log line reports, or undefined for any other line. */
export function mosquittoRefusal(line: string): BrokerAudit | undefined {
  const denied = DENIED_PUBLISH.exec(line);
  if (denied) {
    const [, client = "", retained, topic = ""] = denied;
    return {
      type: "publish-denied",
      clientId: client,
      username: client,
      topic,
      detail: `not allowed by the ACL${retained === "1" ? " (retained)" : ""}`,
    };
  }
  const refused = NOT_AUTHORISED.exec(line);
  if (refused) {
    const [, client = ""] = refused;
    return { type: "auth-failed", clientId: client, username: client, detail: "not authorised (Mosquitto)" };
  }
  return undefined;
}

/**
 * Follows a log file from its current end (what was logged before is old news), a poll at a time,
 * whole lines only; starts over when the file is truncated or rotated. The file may not exist yet.
 */
export function followLog(
  path: string,
  onLine: (line: string) => void,
  pollMs = 250,
  /** Anything but the file being rotated away (an unreadable file, a failing `onLine`). */
  onError: (error: unknown) => void = (error) => process.emitWarning(`broker log ${path}: ${String(error)}`),
): () => void {
  let offset = sizeOf(path) ?? 0;
  let partial = "";
  const buffer = Buffer.alloc(64 * 1024);
  const poll = () => {
    const size = sizeOf(path);
    if (size === undefined) return;
    if (size < offset) {
      offset = 0;
      partial = "";
    }
    if (size === offset) return;
    const fd = openSync(path, "r");
    try {
      while (offset < size) {
        const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - offset), offset);
        if (n <= 0) break;
        offset += n;
        const lines = (partial + buffer.toString("utf8", 0, n)).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) if (line !== "") onLine(line);
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(() => {
    try {
      poll();
    } catch (error) {
      // A file rotated away between the stat and the open: read it at the next poll.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") onError(error);
    }
  }, pollMs);
  timer.unref();
  return () => clearInterval(timer);
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
