// `npm run build:web`: the control-room dashboard (web/src) bundled with Leaflet into web/dist, which the
// engine serves at `/` (api/index-page.ts). Everything the page needs is in the bundle: it works offline.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('./src/', import.meta.url)),
  base: '/',
  // no public/ folder: the basemap and icons are bundled
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist/', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: true,
    // Leaflet and the basemap together are ~250 kB: one chunk, no warning
    chunkSizeWarningLimit: 1024,
  },
});
