import { parentPort, workerData } from "node:worker_threads";
import type { RoundOrder, SectorConfig } from "./messages.js";
import { Sector } from "./sector.js";

/*
 * One sector of a virtual rehearsal in its own thread: it opens its gates, then runs the rounds
 * the coordinator orders, and hands its results over at the end (messages.ts).
 */

type Order = { readonly type: "round"; readonly order: RoundOrder } | { readonly type: "finish" };

const port = parentPort;
if (!port) throw new Error("sector-worker.ts runs in a worker thread");
const config = (workerData as { config: SectorConfig }).config;
const fail = (error: unknown) =>
  port.postMessage({
    type: "error",
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });

try {
  const sector = await Sector.open(config);
  port.on("message", (message: Order) => {
    if (message.type === "round")
      sector.runRound(message.order).then((reply) => port.postMessage({ type: "round", reply }), fail);
    else
      sector.finish().then((result) => {
        port.postMessage({ type: "result", result });
        port.close();
      }, fail);
  });
  port.postMessage({ type: "ready" });
} catch (error) {
  fail(error);
}
