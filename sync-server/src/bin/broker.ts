#!/usr/bin/env node
// The embedded broker's child process (spawned by the sync-server; see broker/child.ts).
import { type BrokerChildConfig, runBrokerChild } from "../broker/child.js";

const arg = process.argv[2];
try {
  if (!arg) throw new Error("usage: broker.ts '<json config>'");
  await runBrokerChild(JSON.parse(arg) as BrokerChildConfig);
} catch (error) {
  process.stdout.write(
    `${JSON.stringify({ type: "fatal", detail: error instanceof Error ? error.message : String(error) })}\n`,
  );
  process.exit(1);
}
