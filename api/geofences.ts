// Geofences (CONTRACT.md, Geofences): GeoJSON Polygon or MultiPolygon Features, who is inside now, events.
import crypto from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { iso, parseTime } from './params.ts';
import { validateFence } from '../geo/fence-validate.ts';
import { fenceEvents } from '../store/geofences.ts';
import type { StoredFence } from '../store/geofences.ts';
import { VEHICLE_TYPES, type VehicleType } from '../ingest/model.ts';
import type { FenceEventType } from '../geo/fence-tracker.ts';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** The Feature as stored, with Pantau's fields in its properties. */
export function fenceFeature(f: StoredFence) {
  return {
    type: 'Feature' as const,
    id: f.id,
    geometry: f.fence.geometry,
    properties: {
      ...f.properties,
      id: f.id,
      name: f.fence.name,
      kind: f.fence.kind,
      applies_to: f.fence.appliesTo,
      dwell_s: f.fence.dwellS,
      created_at: iso(f.createdAt),
      updated_at: iso(f.updatedAt),
    },
  };
}

const featureBody = {
  type: 'object',
  description: 'a GeoJSON Feature: Polygon or MultiPolygon (holes allowed), properties {name, kind?, applies_to?: [vehicle types], dwell_s?}',
  additionalProperties: true,
} as const;

export const geofencesRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const { geofences } = deps;
    const found = (id: string) => {
      const f = geofences.get(id);
      if (!f) throw new ApiError('GEOFENCE_NOT_FOUND', `no geofence ${id}`);
      return f;
    };
    const validated = (body: unknown) => {
      const v = validateFence(body);
      if (!v.ok) throw new ApiError('INVALID_GEOMETRY', v.reason, { field: v.field });
      const props = ((body as { properties?: Record<string, unknown> }).properties ?? {}) as Record<string, unknown>;
      const { name: _n, kind: _k, applies_to: _a, dwell_s: _d, id: _i, ...rest } = props;
      return { fence: v.fence, properties: rest };
    };

    app.post<{ Body: Record<string, unknown> }>('/geofences', {
      config: { role: 'dispatcher' },
      schema: { tags: ['geofences'], summary: 'Create a geofence', body: featureBody, response: { 201: { type: 'object', properties: { id: { type: 'string' } } }, 400: errorSchema, 409: errorSchema } },
    }, async (req, reply) => {
      const { fence, properties } = validated(req.body);
      const given = req.body.id;
      if (given !== undefined && (typeof given !== 'string' || !ID_PATTERN.test(given))) {
        throw new ApiError('VALIDATION_FAILED', 'a Feature id must be 1-64 letters, digits, _ . : -', [{ field: 'body.id', expected: ID_PATTERN.source }]);
      }
      const id = (given as string | undefined) ?? `gf_${crypto.randomBytes(6).toString('hex')}`;
      if (geofences.get(id)) throw new ApiError('VALIDATION_FAILED', `geofence ${id} exists; replace it with PUT /api/v1/geofences/${id}`, [{ field: 'body.id' }]);
      await geofences.put(id, fence, properties);
      return reply.code(201).send({ id });
    });

    app.get<{ Querystring: { contains?: string; type?: VehicleType } }>('/geofences', {
      config: { role: 'viewer' },
      schema: {
        tags: ['geofences'],
        summary: 'All geofences as a FeatureCollection; contains=lat,lon keeps those containing the point (type= honours applies_to)',
        querystring: { type: 'object', properties: { contains: { type: 'string' }, type: { type: 'string', enum: [...VEHICLE_TYPES] } } },
        response: { 400: errorSchema },
      },
    }, async (req) => {
      let list = geofences.list();
      if (req.query.contains !== undefined) {
        const [lat, lon] = req.query.contains.split(',').map(Number) as [number, number];
        if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) || req.query.contains.split(',').length !== 2) {
          throw new ApiError('BAD_QUERY', 'contains must be lat,lon in degrees', { field: 'contains', got: req.query.contains });
        }
        const ids = new Set(geofences.index.containing(lat, lon, req.query.type));
        list = list.filter((f) => ids.has(f.id));
      }
      return { type: 'FeatureCollection', features: list.sort((a, b) => (a.id < b.id ? -1 : 1)).map(fenceFeature) };
    });

    app.get<{ Params: { id: string } }>('/geofences/:id', {
      config: { role: 'viewer' },
      schema: { tags: ['geofences'], response: { 404: errorSchema } },
    }, async (req) => fenceFeature(found(req.params.id)));

    app.put<{ Params: { id: string }; Body: Record<string, unknown> }>('/geofences/:id', {
      config: { role: 'dispatcher' },
      schema: { tags: ['geofences'], summary: 'Replace a geofence; vehicles are re-evaluated against the new shape', body: featureBody, response: { 400: errorSchema, 404: errorSchema } },
    }, async (req) => {
      found(req.params.id);
      const { fence, properties } = validated(req.body);
      return fenceFeature(await geofences.put(req.params.id, fence, properties));
    });

    app.delete<{ Params: { id: string } }>('/geofences/:id', {
      config: { role: 'dispatcher' },
      schema: { tags: ['geofences'], summary: 'Delete a geofence; the vehicles inside it exit', response: { 404: errorSchema } },
    }, async (req, reply) => {
      found(req.params.id);
      await geofences.remove(req.params.id);
      return reply.code(204).send();
    });

    app.get<{ Params: { id: string } }>('/geofences/:id/inside', {
      config: { role: 'viewer' },
      schema: { tags: ['geofences'], summary: 'Vehicles inside the fence now, with when they entered', response: { 404: errorSchema } },
    }, async (req) => {
      const f = found(req.params.id);
      const now = Date.now();
      const vehicles = geofences.tracker.insideOf(f.id).flatMap((vid) => {
        const v = deps.vehicles.get(vid);
        const m = geofences.tracker.state(vid, f.id);
        if (!v || !m) return [];
        return [{
          id: v.id, type: v.type, status: v.status, lat: v.lat, lon: v.lon, ts: iso(v.ts), age_s: Math.round((now - v.ts) / 1000),
          entered_at: iso(m.enteredTs), inside_s: Math.max(0, Math.round((now - m.enteredTs) / 1000)), exit_pending: m.outsideSinceTs !== null,
        }];
      });
      return { fence_id: f.id, vehicles };
    });

    app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; type?: FenceEventType; limit: number } }>('/geofences/:id/events', {
      config: { role: 'viewer' },
      schema: {
        tags: ['geofences'],
        summary: 'Enter, exit and dwell events of the fence (default: the last 24 hours)',
        querystring: {
          type: 'object',
          properties: { from: { type: 'string' }, to: { type: 'string' }, type: { type: 'string', enum: ['enter', 'exit', 'dwell'] }, limit: { type: 'integer', minimum: 1, maximum: 100000, default: 10000 } },
        },
        response: { 400: errorSchema, 404: errorSchema },
      },
    }, async (req) => {
      const id = req.params.id;
      // a deleted fence's events stay in history and can still be read
      const to = parseTime(req.query.to, 'to', Date.now());
      const from = parseTime(req.query.from, 'from', to - 86_400_000);
      const rows = await fenceEvents(deps.db, id, from, to, req.query.type ?? null, req.query.limit);
      if (rows.length === 0 && !geofences.get(id)) throw new ApiError('GEOFENCE_NOT_FOUND', `no geofence ${id}`);
      return { fence_id: id, events: rows.map((e) => ({ id: e.id, fence_id: e.fenceId, vehicle_id: e.vehicleId, type: e.type, ts: iso(e.ts), lat: e.lat, lon: e.lon })) };
    });
  };
