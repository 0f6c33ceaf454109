// GET /: the live city picture from the API (vehicles and sensors), no external assets.
import fs from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';

const page = fs.readFileSync(new URL('../web/index.html', import.meta.url), 'utf8');

export const indexRoutes =
  (_deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
  };
