import { type BenchFigure, percentile, sample } from "@sesame/testing/bench";
import QRCode from "qrcode";
import { createTestIssuer, T0 } from "../src/fixtures.js";
import {
  createNodeVerifier,
  encodeCredentialText,
  MAX_SESSIONS,
  nodeVerifierNoCache,
  tweetnaclVerifier,
  verifyCredentialText,
} from "../src/index.js";

/** Verification throughput of both verifiers on full credentials, and the QR text size. */
export async function run(): Promise<BenchFigure[]> {
  const issuer = createTestIssuer("bench");
  const codes = Array.from({ length: 400 }, () => {
    const { credential, device } = issuer.issue();
    return encodeCredentialText(issuer.show(credential, device, T0));
  });
  const fast = {
    issuerKeys: issuer.issuerKeys,
    nowMs: T0,
    issuerVerifier: createNodeVerifier(),
    deviceVerifier: nodeVerifierNoCache,
  };
  const slow = { issuerKeys: issuer.issuerKeys, nowMs: T0, issuerVerifier: tweetnaclVerifier };
  for (const c of codes.slice(0, 50)) verifyCredentialText(c, fast); // warm-up
  const fastTimes = sample(4000, (i) => verifyCredentialText(codes[i % codes.length] ?? "", fast));
  const slowTimes = sample(60, (i) => verifyCredentialText(codes[i % codes.length] ?? "", slow));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  const { credential, device } = issuer.issue({
    sessions: Array.from({ length: MAX_SESSIONS }, (_, i) => 60_000 + i),
    seat: "ZZ99-S9999",
  });
  const largest = encodeCredentialText(issuer.show(credential, device, T0));
  const typical = codes[0] ?? "";
  const qrM = QRCode.create(largest, { errorCorrectionLevel: "M" });
  const qrQ = QRCode.create(largest, { errorCorrectionLevel: "Q" });
  return [
    {
      name: "credential verify, node:crypto (issuer + device proof)",
      value: 1000 / mean(fastTimes),
      unit: "credentials/s",
    },
    {
      name: "credential verify, node:crypto p99",
      value: percentile(fastTimes, 99),
      unit: "ms",
      target: "hot path ≪ 1 ms",
      ok: percentile(fastTimes, 99) < 1,
    },
    {
      name: "credential verify, tweetnacl (issuer + device proof)",
      value: 1000 / mean(slowTimes),
      unit: "credentials/s",
    },
    {
      name: "QR text, typical mobile ticket",
      value: typical.length,
      unit: "chars",
      target: "≤ 320",
      ok: typical.length <= 320,
    },
    {
      name: "QR text, largest mobile ticket (4 sessions, 10-char seat)",
      value: largest.length,
      unit: "chars",
      target: "≤ 320",
      ok: largest.length <= 320,
    },
    {
      name: `QR version at error correction M (${qrM.modules.size}×${qrM.modules.size} modules)`,
      value: qrM.version,
      unit: "",
    },
    {
      name: `QR version at error correction Q (${qrQ.modules.size}×${qrQ.modules.size} modules)`,
      value: qrQ.version,
      unit: "",
    },
  ];
}
