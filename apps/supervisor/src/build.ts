import { fileURLToPath } from "node:url";

/** ui/vite.config.ts: root apps/supervisor/ui, output apps/supervisor/dist. */
export const viteConfigPath: string = fileURLToPath(new URL("../ui/vite.config.ts", import.meta.url));

/**
 * Builds the dashboard with Vite's API into `outDir` (tests build into a temporary directory, so
 * that `vitest` alone works and never rewrites dist/). Vite is loaded only when called.
 */
export async function buildDashboard(outDir: string): Promise<void> {
  const { build } = await import("vite");
  await build({
    configFile: viteConfigPath,
    build: { outDir, emptyOutDir: true },
    logLevel: "warn",
  });
}
