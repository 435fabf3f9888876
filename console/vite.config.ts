import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/**
 * The admin console, built into console/dist (wrangler.toml `[assets]`), served by the Worker
 * under /admin. `npm run build:console`; `npm run dev`, `npm run build`, the deploys and
 * `npm test` run it first.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/admin/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // No inline script or style: the console's CSP allows only its own files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
  },
  logLevel: "warn",
});
