import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The dashboard is served by the sync-server from apps/supervisor/dist; relative asset URLs
// (base "./") let it be served under any path prefix, e.g. behind a reverse proxy.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // Strict CSP (script-src 'self'): nothing may be inlined into index.html.
    assetsInlineLimit: 0,
  },
});
