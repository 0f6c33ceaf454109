// GET /: the control-room dashboard, built from web/src by `npm run build:web` (Vite) into web/dist, and its
// bundled assets under /assets/. Everything it needs is in the bundle (Leaflet, the basemap): it works offline.
// The page is read per request, so a rebuild shows without a restart; the engine writes its settings into the
// page (PANTAU_TILE_URL) so the bundle is the same for every deployment. Without a build: a 503 saying how.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';

export const DIST_DIR = fileURLToPath(new URL('../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};
/** Vite's hashed asset names: one flat folder, plain names only, so no path ever leaves web/dist/assets. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const CONFIG_SCRIPT = /(<script id="pantau-config" type="application\/json">)[\s\S]*?(<\/script>)/;

export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pantau</title>
<style>body{font:20px system-ui,sans-serif;background:#070b10;color:#f1f5f9;display:grid;place-items:center;height:100vh;margin:0}
main{max-width:760px}code{background:#16212d;padding:2px 8px;border-radius:4px}a{color:#00c2ff}</style></head>
<body><main><h1>The dashboard is not built (DASHBOARD_NOT_BUILT)</h1>
<p>The engine is running, but web/dist is missing. Build the control-room page with <code>npm run build:web</code>
(<code>npm start</code> does it before starting), then reload this page: no restart needed.</p>
<p>The API works meanwhile: <a href="/docs">API documentation</a> · <a href="/healthz">/healthz</a></p></main></body></html>
`;

/** The settings the page reads from its `pantau-config` script, as JSON safe inside <script>. */
export function pageConfigJson(deps: Pick<ApiDeps, 'config' | 'version'>): string {
  const cfg = { tile_url: deps.config.tileUrl, tile_attribution: deps.config.tileAttribution, version: deps.version };
  return JSON.stringify(cfg).replace(/</g, '\\u003c');
}

export const dashboardRoutes =
  (deps: Pick<ApiDeps, 'config' | 'version'>, distDir: string): FastifyPluginAsync =>
  async (app) => {
    const configJson = pageConfigJson(deps);

    app.get('/', { schema: { hide: true } }, async (req, reply) => {
      const html = await fs.promises.readFile(path.join(distDir, 'index.html'), 'utf8').catch(() => null);
      if (html === null) {
        if (!/html/.test(req.headers.accept ?? 'text/html')) throw new ApiError('DASHBOARD_NOT_BUILT', 'web/dist is missing: run npm run build:web');
        return reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT_PAGE);
      }
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(html.replace(CONFIG_SCRIPT, (_m, open: string, close: string) => `${open}${configJson}${close}`));
    });

    app.get<{ Params: { file: string } }>('/assets/:file', { schema: { hide: true } }, async (req, reply) => {
      const file = req.params.file;
      const type = TYPES[path.extname(file)];
      if (!ASSET_NAME.test(file) || !type) throw new ApiError('NOT_FOUND', `no file /assets/${file}`);
      const body = await fs.promises.readFile(path.join(distDir, 'assets', file)).catch(() => null);
      if (!body) throw new ApiError('NOT_FOUND', `no file /assets/${file}; rebuild with npm run build:web if the page is older than the build`);
      // names carry a content hash: a changed file is a new name
      return reply.type(type).header('cache-control', 'public, max-age=31536000, immutable').send(body);
    });
  };

export const indexRoutes = (deps: ApiDeps): FastifyPluginAsync => dashboardRoutes(deps, DIST_DIR);
