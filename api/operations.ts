// Liveness, readiness and metrics: unauthenticated, for load balancers and Prometheus; and whoami, for replicas.
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';

export const operationsRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness, the chosen ports and versions' } }, async () => ({
      status: 'ok',
      ports: deps.ports(),
      versions: { pantau: deps.version, node: process.versions.node },
      database: deps.db.embedded ? 'embedded' : 'server',
      uptime_s: Math.round(process.uptime()),
    }));

    app.get('/api/v1/whoami', {
      config: { role: 'viewer' },
      schema: {
        tags: ['operations'],
        summary: 'The operator this bearer token belongs to (API replicas ask this to check tokens)',
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'dispatcher', 'admin'] } } } },
      },
    }, async (req) => ({ id: req.operator!.id, role: req.operator!.role }));

    app.get('/readyz', { schema: { tags: ['operations'], summary: 'Database and broker reachable' } }, async (_req, reply) => {
      const database = await deps.db.ping();
      const broker = deps.brokerReady();
      return reply.code(database && broker ? 200 : 503).send({ status: database && broker ? 'ready' : 'not_ready', database, broker });
    });

    app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus text exposition' } }, async (_req, reply) => {
      deps.metrics.vehiclesLive.set(deps.vehicles.size);
      return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    });
  };
