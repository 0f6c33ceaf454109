// The HTTP API: fastify, one encapsulated plugin per resource, OpenAPI from the route schemas.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ApiError } from './errors.ts';
import type { ApiDeps } from './deps.ts';
import type { Role } from '../engine/registry.ts';
import { devicesRoutes } from './devices.ts';
import { operatorsRoutes } from './operators.ts';
import { vehiclesRoutes } from './vehicles.ts';
import { sensorsRoutes } from './sensors.ts';
import { operationsRoutes } from './operations.ts';
import { dispatchesRoutes } from './dispatches.ts';
import { geofencesRoutes } from './geofences.ts';
import { indexRoutes } from './index-page.ts';
import { alertsRoutes } from './alerts.ts';
import { subscribersRoutes } from './subscribers.ts';
import { camerasRoutes } from './cameras.ts';
import { webRoutes } from './web.ts';
import { redactAccessToken, streamRoutes } from './stream.ts';

const RANK: Record<Role, number> = { viewer: 1, dispatcher: 2, admin: 3 };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the least role a route needs; routes without it are public */
    role?: Role;
    /** the token may also come as ?access_token= (EventSource cannot send headers) */
    tokenInQuery?: boolean;
  }
  interface FastifyRequest {
    operator?: { id: string; role: Role };
  }
}

export interface ApiBaseOptions {
  version: string;
  log: ApiDeps['log'];
  /**
   * The operator a bearer token belongs to, or null; may throw (or reject with) an ApiError (a replica that cannot ask
   * its engine). A token known already is answered without a promise.
   */
  authenticate(token: string): { id: string; role: Role } | null | Promise<{ id: string; role: Role } | null>;
  /** a line of the OpenAPI document's description */
  description: string;
}

/** The engine's whole API. */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = await createApiBase({
    version: deps.version,
    log: deps.log,
    authenticate: (token) => deps.registry.operatorOf(token),
    description: 'City control-room engine: devices, live vehicles, sensors. Contract v1.',
  });
  await app.register(devicesRoutes(deps), { prefix: '/api/v1' });
  await app.register(operatorsRoutes(deps), { prefix: '/api/v1' });
  await app.register(vehiclesRoutes(deps), { prefix: '/api/v1' });
  await app.register(sensorsRoutes(deps), { prefix: '/api/v1' });
  await app.register(dispatchesRoutes(deps), { prefix: '/api/v1' });
  await app.register(geofencesRoutes(deps), { prefix: '/api/v1' });
  await app.register(alertsRoutes(deps), { prefix: '/api/v1' });
  await app.register(subscribersRoutes(deps), { prefix: '/api/v1' });
  await app.register(camerasRoutes(deps), { prefix: '/api/v1' });
  await app.register(streamRoutes(deps), { prefix: '/api/v1' });
  await app.register(operationsRoutes(deps));
  await app.register(indexRoutes(deps));
  await app.register(webRoutes(deps));
  return app;
}

/** What the engine and an API replica share: OpenAPI, bearer tokens and roles, coded errors. */
export async function createApiBase(opts: ApiBaseOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false } },
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Pantau API', version: opts.version, description: opts.description },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // A callback hook, not an async one: a public route, or a token already verified, then costs no promise.
  app.addHook('onRequest', (req: FastifyRequest, _reply, done) => {
    const need = req.routeOptions.config?.role;
    if (!need) return done();
    const header = req.headers.authorization;
    const fromQuery = req.routeOptions.config?.tokenInQuery ? (req.query as { access_token?: unknown }).access_token : undefined;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : typeof fromQuery === 'string' ? fromQuery.trim() : '';
    if (!token) return done(new ApiError('UNAUTHORIZED', `send Authorization: Bearer <token>${req.routeOptions.config?.tokenInQuery ? ' or ?access_token=<token>' : ''}`));
    const admit = (op: { id: string; role: Role } | null): ApiError | undefined => {
      if (!op) return new ApiError('UNAUTHORIZED', 'unknown or revoked token');
      if (RANK[op.role] < RANK[need]) return new ApiError('FORBIDDEN', `this needs the ${need} role; the token has ${op.role}`);
      req.operator = op;
      return undefined;
    };
    let answer: ReturnType<ApiBaseOptions['authenticate']>;
    try {
      answer = opts.authenticate(token);
    } catch (err) {
      return done(err as Error);
    }
    if (answer instanceof Promise) answer.then((op) => done(admit(op)), (err: Error) => done(err));
    else done(admit(answer));
  });

  app.setErrorHandler((err: Error & { validation?: unknown[]; validationContext?: string; statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) });
    }
    if (err.validation) {
      const details = (err.validation as Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>).map((v) => ({
        field: `${err.validationContext ?? 'body'}${v.instancePath.replace(/\//g, '.')}`.replace(/\.$/, ''),
        expected: v.message,
        ...(v.params ?? {}),
      }));
      return reply.code(400).send({ error: 'VALIDATION_FAILED', message: err.message, details });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: 'PAYLOAD_TOO_LARGE', message: err.message });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'VALIDATION_FAILED' : 'BAD_QUERY', message: err.message });
    }
    opts.log.error({ url: redactAccessToken(req.url), err: err.stack ?? err.message }, 'API request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error; see the engine log' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
  return app;
}
