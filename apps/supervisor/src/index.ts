import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/*
 * The supervisor dashboard is a static single-page app (ui/, React) that the sync-server serves on
 * the same origin as its API. This module only says where the build is, so that the server (and
 * `sesame sync-server`) can be pointed at it without depending on Vite or React.
 */

/** Where `pnpm --filter @sesame/supervisor build` writes the dashboard: index.html and assets/. */
export const dashboardDir: string = fileURLToPath(new URL("../dist", import.meta.url));

/** True once the dashboard has been built (`pnpm build:ui`). */
export function dashboardBuilt(dir: string = dashboardDir): boolean {
  return existsSync(join(dir, "index.html"));
}
