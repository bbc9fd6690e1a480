import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

/*
 * Two groups, run one after the other. "pure" holds CPU-bound tests with no processes, sockets,
 * disks or timers to race (the tweetnacl differential shards, the fuzzers, the camera corpus): they
 * run on both cores. "system" holds everything that starts brokers, gates, browsers or PTYs, or
 * waits on real time: one file at a time, as each may start several processes of its own.
 */
const pure = [
  "packages/ticket/test/**/*.test.ts",
  "packages/ticket/src/**/*.test.ts",
  "packages/gate-core/src/**/*.test.ts",
  "packages/gate-core/test/**/*.test.ts",
  "packages/venue/src/**/*.test.ts",
  "packages/venue/test/**/*.test.ts",
  "packages/scanner/test/camera-corpus-*.test.ts",
  "sync-server/src/alerts/**/*.test.ts",
  "sync-server/src/commands/**/*.test.ts",
];

const system = [
  "packages/*/src/**/*.test.ts",
  "packages/*/test/**/*.test.ts",
  "gate-firmware-bridge/src/**/*.test.ts",
  "gate-firmware-bridge/test/**/*.test.ts",
  "hardware-sim/src/**/*.test.ts",
  "hardware-sim/test/**/*.test.ts",
  "sync-server/src/**/*.test.ts",
  "sync-server/test/**/*.test.ts",
  "issuer/src/**/*.test.ts",
  "issuer/test/**/*.test.ts",
  "apps/*/src/**/*.test.ts",
  "apps/*/test/**/*.test.ts",
  "test/**/*.test.ts",
];

const shared = { root, testTimeout: 30_000, hookTimeout: 60_000, pool: "forks" as const };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: "pure",
          include: pure,
          exclude: ["**/node_modules/**", "**/dist/**"],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: "system",
          include: system,
          exclude: ["**/node_modules/**", "**/dist/**", ...pure],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
