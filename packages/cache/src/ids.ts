import { randomFillSync } from "node:crypto";

/*
 * Event and authorization ids: UUID version 7 (RFC 9562), time-ordered, so that new rows land at
 * the right edge of the id indexes. Random ids would touch a random index page on every commit,
 * and each page touched is one more 4 KiB frame written and synced to the WAL.
 */

let lastMs = 0;
let sequence = 0;

// Random bytes are drawn 4 KiB at a time: one randomBytes(16) call per id cost ~5 µs, two ids per
// scan, on the scan's path.
const pool = Buffer.alloc(4096);
let drawn = pool.length;
const bytes = Buffer.alloc(16);

export function uuidv7(nowMs: number = Date.now()): string {
  // Monotonic within the process even if the clock steps back or two ids share a millisecond.
  if (nowMs > lastMs) {
    lastMs = nowMs;
    sequence = 0;
  } else {
    sequence++;
    if (sequence > 0xfff) {
      lastMs++;
      sequence = 0;
    }
  }
  if (drawn + 16 > pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  pool.copy(bytes, 0, drawn, drawn + 16);
  drawn += 16;
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | ((sequence >>> 8) & 0x0f);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
