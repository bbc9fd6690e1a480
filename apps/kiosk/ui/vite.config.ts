import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The steward UI: a static bundle that KioskHttp serves on the same origin as its API.
// `base: "./"` keeps asset URLs relative, so the bundle works whatever path it is served from.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/ui", import.meta.url)),
    emptyOutDir: true,
    // Chromium has modulepreload: no polyfill, so no inline script for the Content-Security-Policy to allow.
    modulePreload: { polyfill: false },
    target: "chrome120",
    // The kiosk loads from loopback: one chunk size warning would only be noise.
    chunkSizeWarningLimit: 2_000,
  },
});
