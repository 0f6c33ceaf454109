// Operators: the people and programs that use the API and read over MQTT, each with a role (CONTRACT.md, Identities
// and access: admin provisions, admin and dispatcher change state, viewer reads). Only an admin manages them. A token
// is shown once; changing a role, rotating the token or deleting the operator takes effect at once, on the engine's
// API and MQTT (its open sessions are closed) and, through pantau/v1/live/operators, on API replicas.
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { LastAdminError, OperatorExistsError, type Role } from '../engine/registry.ts';

const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$';
const ROLES: readonly Role[] = ['admin', 'dispatcher', 'viewer'];

const operatorSchema = { type: 'object', properties: { id: { type: 'string' }, role: { type: 'string', enum: ROLES } } } as const;
const withToken = { type: 'object', properties: { id: { type: 'string' }, role: { type: 'string' }, token: { type: 'string' } } } as const;
const roleProperty = { type: 'string', enum: ROLES, description: 'admin: everything; dispatcher: reads and changes state (dispatches, alerts); viewer: reads' } as const;

function lastAdmin(id: string): ApiError {
  return new ApiError('LAST_ADMIN', `${id} is the only admin left; make another operator admin first (or set PANTAU_ADMIN_TOKEN)`);
}

export const operatorsRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const { registry } = deps;
    const found = (id: string) => {
      const op = registry.getOperator(id);
      if (!op) throw new ApiError('OPERATOR_NOT_FOUND', `no operator ${id}${id === 'admin' ? ' is stored (the PANTAU_ADMIN_TOKEN admin is configured, not stored)' : ''}`);
      return op;
    };

    app.post<{ Body: { id: string; role: Role } }>('/operators', {
      config: { role: 'admin' },
      schema: {
        tags: ['operators'],
        summary: 'Create an operator; its token is shown once',
        body: { type: 'object', required: ['id', 'role'], additionalProperties: false, properties: { id: { type: 'string', pattern: ID_PATTERN }, role: roleProperty } },
        response: { 201: withToken, 400: errorSchema, 409: errorSchema },
      },
    }, async (req, reply) => {
      try {
        const token = await registry.createOperator(req.body.id, req.body.role);
        return reply.code(201).send({ id: req.body.id, role: req.body.role, token });
      } catch (err) {
        if (err instanceof OperatorExistsError) throw new ApiError('OPERATOR_EXISTS', `operator ${req.body.id} exists; rotate its token with POST /api/v1/operators/${req.body.id}/token`);
        throw err;
      }
    });

    app.get('/operators', {
      config: { role: 'admin' },
      schema: {
        tags: ['operators'],
        summary: 'Stored operators (tokens are never shown again; the PANTAU_ADMIN_TOKEN admin is configured, not listed)',
        response: { 200: { type: 'object', properties: { operators: { type: 'array', items: operatorSchema } } } },
      },
    }, async () => ({ operators: registry.listOperators() }));

    app.get<{ Params: { id: string } }>('/operators/:id', {
      config: { role: 'admin' },
      schema: { tags: ['operators'], response: { 200: operatorSchema, 404: errorSchema } },
    }, async (req) => found(req.params.id));

    app.patch<{ Params: { id: string }; Body: { role: Role } }>('/operators/:id', {
      config: { role: 'admin' },
      schema: {
        tags: ['operators'],
        summary: 'Change an operator\'s role; its token stays, the new role applies to its next request',
        body: { type: 'object', required: ['role'], additionalProperties: false, properties: { role: roleProperty } },
        response: { 200: operatorSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    }, async (req) => {
      found(req.params.id);
      try {
        await registry.setOperatorRole(req.params.id, req.body.role);
      } catch (err) {
        if (err instanceof LastAdminError) throw lastAdmin(req.params.id);
        throw err;
      }
      return found(req.params.id);
    });

    app.post<{ Params: { id: string } }>('/operators/:id/token', {
      config: { role: 'admin' },
      schema: { tags: ['operators'], summary: 'Rotate an operator\'s token; the old one stops working at once', response: { 200: withToken, 404: errorSchema } },
    }, async (req) => {
      const op = found(req.params.id);
      const token = await registry.issueOperatorToken(op.id, op.role);
      return { id: op.id, role: op.role, token };
    });

    app.delete<{ Params: { id: string } }>('/operators/:id', {
      config: { role: 'admin' },
      schema: { tags: ['operators'], summary: 'Delete an operator; its token stops working at once', response: { 404: errorSchema, 409: errorSchema } },
    }, async (req, reply) => {
      found(req.params.id);
      try {
        await registry.removeOperator(req.params.id);
      } catch (err) {
        if (err instanceof LastAdminError) throw lastAdmin(req.params.id);
        throw err;
      }
      return reply.code(204).send();
    });
  };
