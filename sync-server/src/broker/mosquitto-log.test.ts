import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import { describe, expect, it } from "vitest";
import { followLog, mosquittoRefusal } from "./mosquitto-log.js";

describe("Mosquitto's refusals, from its log", () => {
  it("reads a denied publish and a refused login, and nothing else", () => {
    expect(
      mosquittoRefusal(
        "1796663167: Denied PUBLISH from gate-A2 (d0, q1, r1, m9767, 'sesame/SDF/feed', ... (13 bytes))",
      ),
    ).toEqual({
      type: "publish-denied",
      clientId: "gate-A2",
      username: "gate-A2",
      topic: "sesame/SDF/feed",
      detail: "not allowed by the ACL (retained)",
    });
    expect(
      mosquittoRefusal("Denied PUBLISH from gate-A2 (d0, q0, r0, m0, 'sesame/SDF/admissions', ... (2 bytes))")
        ?.detail,
    ).toBe("not allowed by the ACL");
    expect(mosquittoRefusal("1796663167: Client gate-A2 disconnected, not authorised.")).toEqual({
      type: "auth-failed",
      clientId: "gate-A2",
      username: "gate-A2",
      detail: "not authorised (Mosquitto)",
    });
    for (const line of [
      "1796663167: Received PUBLISH from gate-A2 (d0, q1, r1, m9768, 'sesame/SDF/gates/A2/status', ... (13 bytes))",
      "1796663167: Sending PUBACK to gate-A2 (m9767, rc135)",
      "Denied PUBLISH from",
    ])
      expect(mosquittoRefusal(line), line).toBeUndefined();
  });

  it("follows a log file from its end, whole lines only, and from the start after a truncation", async () => {
    const dir = makeTempDir("sesame-mosquitto-log-");
    const path = join(dir.path, "mosquitto.log");
    writeFileSync(path, "old line\n");
    const lines: string[] = [];
    const stop = followLog(path, (l) => lines.push(l), 10);
    const until = async (n: number) => {
      for (let i = 0; i < 500 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    appendFileSync(path, "one\ntw");
    await until(1);
    appendFileSync(path, "o\n");
    await until(2);
    writeFileSync(path, "three\n");
    await until(3);
    stop();
    dir.remove();
    expect(lines).toEqual(["one", "two", "three"]);
  });
});
