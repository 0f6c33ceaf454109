// Static files of the web/ folder under /web/ (the camera player and what the dashboard grows into), and the
// vendored JSMpeg player from npm at /web/vendor/jsmpeg.min.js: everything works offline, nothing from a CDN.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError } from './errors.ts';

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};
/** One flat folder, plain names only: no path ever leaves web/. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** @cycjimmy/jsmpeg-player's browser build (UMD, global `JSMpeg`); its package exports only the module builds. */
export const JSMPEG_FILE = path.join(path.dirname(createRequire(import.meta.url).resolve('@cycjimmy/jsmpeg-player')), 'jsmpeg-player.umd.min.js');

export const webRoutes =
  (_deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const jsmpeg = fs.readFileSync(JSMPEG_FILE);
    app.get('/web/vendor/jsmpeg.min.js', { schema: { hide: true } }, async (_req, reply) =>
      reply.type(TYPES['.js']!).header('cache-control', 'public, max-age=86400').send(jsmpeg),
    );

    app.get<{ Params: { file: string } }>('/web/:file', { schema: { hide: true } }, async (req, reply) => {
      const file = req.params.file;
      const type = TYPES[path.extname(file)];
      if (!FILE_NAME.test(file) || !type) throw new ApiError('NOT_FOUND', `no file /web/${file}`);
      const body = await fs.promises.readFile(path.join(WEB_DIR, file)).catch(() => null);
      if (!body) throw new ApiError('NOT_FOUND', `no file /web/${file}`);
      return reply.type(type).header('cache-control', 'no-cache').send(body);
    });
  };
