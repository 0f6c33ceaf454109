// Provisioning: devices and their tokens (CONTRACT.md, Provisioning and live state).
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { DeviceExistsError, OwntracksTakenError, type Device } from '../engine/registry.ts';
import { SENSOR_TYPES, VEHICLE_TYPES } from '../ingest/model.ts';
import { iso } from './params.ts';

const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';

const deviceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['vehicle', 'sensor'] },
    type: { type: 'string' },
    name: { type: ['string', 'null'] },
    lat: { type: ['number', 'null'] },
    lon: { type: ['number', 'null'] },
    owntracks: { type: ['string', 'null'] },
    meta: { type: 'object', additionalProperties: true },
    status: { type: 'string' },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
  },
} as const;

const editable = {
  name: { type: ['string', 'null'], maxLength: 200 },
  lat: { type: ['number', 'null'], minimum: -90, maximum: 90 },
  lon: { type: ['number', 'null'], minimum: -180, maximum: 180 },
  owntracks: { type: ['string', 'null'], pattern: '^[^/#+]+/[^/#+]+$', description: 'OwnTracks "{user}/{device}" this vehicle publishes as' },
  meta: { type: 'object', additionalProperties: true },
} as const;

interface CreateBody {
  id: string;
  kind: 'vehicle' | 'sensor';
  type: string;
  name?: string | null;
  lat?: number | null;
  lon?: number | null;
  owntracks?: string | null;
  meta?: Record<string, unknown>;
}
type PatchBody = Partial<Omit<CreateBody, 'id' | 'kind'>> & { status?: Device['status'] };

export function present(d: Device) {
  return {
    id: d.id,
    kind: d.kind,
    type: d.type,
    name: d.name,
    lat: d.lat,
    lon: d.lon,
    owntracks: d.owntracks,
    meta: d.meta,
    ...(d.kind === 'vehicle' ? { status: d.status } : {}),
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
  };
}

function checkType(kind: Device['kind'], type: string) {
  const allowed: readonly string[] = kind === 'vehicle' ? VEHICLE_TYPES : SENSOR_TYPES;
  if (!allowed.includes(type)) throw new ApiError('VALIDATION_FAILED', `type of a ${kind} must be one of ${allowed.join(', ')}`, [{ field: 'body.type', expected: allowed }]);
}

export const devicesRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const { registry } = deps;
    const found = (id: string) => {
      const d = registry.get(id);
      if (!d) throw new ApiError('DEVICE_NOT_FOUND', `no device ${id}`);
      return d;
    };

    app.post<{ Body: CreateBody }>('/devices', {
      config: { role: 'admin' },
      schema: {
        tags: ['devices'],
        summary: 'Provision a device; the token is shown once',
        body: {
          type: 'object',
          required: ['id', 'kind', 'type'],
          additionalProperties: false,
          properties: { id: { type: 'string', pattern: ID_PATTERN }, kind: { type: 'string', enum: ['vehicle', 'sensor'] }, type: { type: 'string' }, ...editable },
        },
        response: { 201: { type: 'object', properties: { id: { type: 'string' }, token: { type: 'string' } } }, 400: errorSchema, 409: errorSchema },
      },
    }, async (req, reply) => {
      const b = req.body;
      checkType(b.kind, b.type);
      if (b.kind === 'sensor' && (typeof b.lat !== 'number' || typeof b.lon !== 'number')) {
        throw new ApiError('VALIDATION_FAILED', 'a sensor needs its location: lat and lon', [{ field: 'body.lat', expected: 'number' }]);
      }
      if ((b.lat == null) !== (b.lon == null)) throw new ApiError('VALIDATION_FAILED', 'lat and lon go together', [{ field: b.lat == null ? 'body.lat' : 'body.lon', expected: 'number' }]);
      if (b.owntracks && b.kind !== 'vehicle') throw new ApiError('VALIDATION_FAILED', 'owntracks applies to vehicles only', [{ field: 'body.owntracks' }]);
      try {
        const { device, token } = await registry.create(b);
        deps.deviceChanged(device);
        return reply.code(201).send({ id: device.id, token });
      } catch (err) {
        if (err instanceof DeviceExistsError) throw new ApiError('DEVICE_EXISTS', `device ${b.id} exists; rotate its token with POST /api/v1/devices/${b.id}/token`);
        if (err instanceof OwntracksTakenError) throw new ApiError('OWNTRACKS_TAKEN', `another vehicle already publishes as owntracks/${b.owntracks}`);
        throw err;
      }
    });

    app.get<{ Querystring: { kind?: Device['kind']; type?: string } }>('/devices', {
      config: { role: 'viewer' },
      schema: {
        tags: ['devices'],
        querystring: { type: 'object', properties: { kind: { type: 'string', enum: ['vehicle', 'sensor'] }, type: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { devices: { type: 'array', items: deviceSchema } } } },
      },
    }, async (req) => {
      const { kind, type } = req.query;
      return { devices: registry.list().filter((d) => (!kind || d.kind === kind) && (!type || d.type === type)).map(present) };
    });

    app.get<{ Params: { id: string } }>('/devices/:id', {
      config: { role: 'viewer' },
      schema: { tags: ['devices'], response: { 200: deviceSchema, 404: errorSchema } },
    }, async (req) => present(found(req.params.id)));

    app.patch<{ Params: { id: string }; Body: PatchBody }>('/devices/:id', {
      config: { role: 'admin' },
      schema: {
        tags: ['devices'],
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { type: { type: 'string' }, status: { type: 'string', enum: ['available', 'busy', 'out_of_service'] }, ...editable } },
        response: { 200: deviceSchema, 400: errorSchema, 404: errorSchema },
      },
    }, async (req) => {
      const d = found(req.params.id);
      const b = req.body;
      if (b.type !== undefined) checkType(d.kind, b.type);
      if (b.status !== undefined && d.kind !== 'vehicle') throw new ApiError('VALIDATION_FAILED', 'status applies to vehicles only', [{ field: 'body.status' }]);
      try {
        const updated = (await registry.update(d.id, b))!;
        deps.deviceChanged(updated);
        if (d.kind === 'vehicle' && (b.status !== undefined || b.type !== undefined) && deps.vehicles.get(d.id)) {
          deps.vehicles.setAttributes(d.id, { status: updated.status, type: updated.type as never });
        }
        return present(updated);
      } catch (err) {
        if (err instanceof OwntracksTakenError) throw new ApiError('OWNTRACKS_TAKEN', `another vehicle already publishes as owntracks/${b.owntracks}`);
        throw err;
      }
    });

    app.delete<{ Params: { id: string } }>('/devices/:id', {
      config: { role: 'admin' },
      schema: { tags: ['devices'], summary: 'Remove a device; its history stays until retention removes it', response: { 404: errorSchema } },
    }, async (req, reply) => {
      found(req.params.id);
      await registry.remove(req.params.id);
      deps.forgetDevice(req.params.id);
      return reply.code(204).send();
    });

    app.post<{ Params: { id: string } }>('/devices/:id/token', {
      config: { role: 'admin' },
      schema: { tags: ['devices'], summary: 'Rotate a device token; the old one stops working at once', response: { 200: { type: 'object', properties: { id: { type: 'string' }, token: { type: 'string' } } }, 404: errorSchema } },
    }, async (req) => {
      found(req.params.id);
      const token = (await registry.rotateToken(req.params.id))!;
      return { id: req.params.id, token };
    });
  };
