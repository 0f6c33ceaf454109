// Alerts: the open and past ones, acknowledgement, and the vehicles near an alert's source.
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { parseTime } from './params.ts';
import { alertView } from '../engine/alerts.ts';
import { getAlert, listAlerts } from '../store/alerts.ts';
import { VEHICLE_STATUSES, VEHICLE_TYPES } from '../ingest/model.ts';
import type { AlertRow } from '../store/alerts.ts';
import { attachedCamerasSchema, camerasNear } from './cameras.ts';

const alertSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' }, kind: { type: 'string' }, source_id: { type: 'string' }, level: { type: 'string' },
    value: { type: ['number', 'null'] }, unit: { type: ['string', 'null'] }, since: { type: 'string' }, state: { type: 'string', enum: ['active', 'resolved'] },
    message: { type: 'string' }, updated_at: { type: 'string' }, acknowledged_at: { type: ['string', 'null'] }, acknowledged_by: { type: ['string', 'null'] },
    resolved_at: { type: ['string', 'null'] },
    cameras: attachedCamerasSchema,
  },
} as const;

export const alertsRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    // The cameras nearest to the alert's source (its live or registered location), added to the view here: stored rows stay as they are.
    const view = (a: AlertRow) => {
      const live = deps.sensors.get(a.sourceId);
      const d = deps.registry.get(a.sourceId);
      return { ...alertView(a), cameras: camerasNear(deps, live?.lat ?? d?.lat ?? null, live?.lon ?? d?.lon ?? null) };
    };

    app.get<{ Querystring: { state?: 'active' | 'resolved'; kind?: string; source_id?: string; from?: string; to?: string; limit: number } }>('/alerts', {
      config: { role: 'viewer' },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first. state=active: every open alert (acknowledged or not); resolved ones within from..to (default: the last 7 days).',
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: ['active', 'resolved'] },
            kind: { type: 'string' },
            source_id: { type: 'string' },
            from: { type: 'string' }, to: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 500 },
          },
        },
        response: { 200: { type: 'object', properties: { alerts: { type: 'array', items: alertSchema } } }, 400: errorSchema },
      },
    }, async (req) => {
      const q = req.query;
      if (q.state === 'active') {
        // from memory: what the engine is acting on now, including changes still being committed
        const list = deps.alerts.active().filter((a) => (!q.kind || a.kind === q.kind) && (!q.source_id || a.sourceId === q.source_id));
        list.sort((a, b) => b.raisedAt - a.raisedAt);
        return { alerts: list.slice(0, q.limit).map(view) };
      }
      await deps.alerts.flush();
      const to = parseTime(q.to, 'to', Date.now());
      const from = parseTime(q.from, 'from', to - 7 * 86_400_000);
      if (from > to) throw new ApiError('BAD_QUERY', 'from must not be after to', { field: 'from' });
      const rows = await listAlerts(deps.db, { state: q.state ?? null, kind: q.kind ?? null, sourceId: q.source_id ?? null, from, to, limit: q.limit });
      return { alerts: rows.map(view) };
    });

    app.get<{ Params: { id: string } }>('/alerts/:id', {
      config: { role: 'viewer' },
      schema: { tags: ['alerts'], response: { 200: alertSchema, 404: errorSchema } },
    }, async (req) => {
      const open = deps.alerts.active().find((a) => a.id === req.params.id);
      const a = open ?? (await deps.alerts.flush().then(() => getAlert(deps.db, req.params.id)));
      if (!a) throw new ApiError('ALERT_NOT_FOUND', `no alert ${req.params.id}`);
      return view(a);
    });

    app.post<{ Params: { id: string } }>('/alerts/:id/ack', {
      config: { role: 'dispatcher' },
      schema: { tags: ['alerts'], summary: 'Acknowledge an alert ("being handled"); a second acknowledgement keeps the first', response: { 200: alertSchema, 404: errorSchema } },
    }, async (req) => {
      const a = await deps.alerts.ack(req.params.id, req.operator?.id ?? 'unknown', Date.now());
      if (!a) throw new ApiError('ALERT_NOT_FOUND', `no alert ${req.params.id}`);
      return view(a);
    });

    app.get<{ Params: { id: string }; Querystring: { type?: string; status?: string; radius_m: number; k: number } }>('/alerts/:id/nearby-vehicles', {
      config: { role: 'viewer' },
      schema: {
        tags: ['alerts'],
        summary: "Live vehicles within radius_m of the alert's source (e.g. Pasukan Biru trucks near a gauge at Siaga 2), nearest first",
        querystring: {
          type: 'object',
          properties: {
            type: { type: 'string', enum: [...VEHICLE_TYPES] },
            status: { type: 'string', enum: [...VEHICLE_STATUSES] },
            radius_m: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000, default: 2000 },
            k: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
          },
        },
        response: { 400: errorSchema, 404: errorSchema },
      },
    }, async (req) => {
      const open = deps.alerts.active().find((a) => a.id === req.params.id);
      const a = open ?? (await getAlert(deps.db, req.params.id));
      if (!a) throw new ApiError('ALERT_NOT_FOUND', `no alert ${req.params.id}`);
      const d = deps.registry.get(a.sourceId);
      const live = deps.sensors.get(a.sourceId);
      const lat = live?.lat ?? d?.lat ?? null;
      const lon = live?.lon ?? d?.lon ?? null;
      if (lat === null || lon === null) throw new ApiError('BAD_QUERY', `the source ${a.sourceId} of this alert has no known location`, { field: 'id' });
      const q = req.query;
      const now = Date.now();
      const hits = deps.vehicles.nearest(lat, lon, {
        k: q.k,
        maxDistanceM: q.radius_m,
        // Validated against the enums by the schema.
        ...(q.type ? { types: new Set([q.type as (typeof VEHICLE_TYPES)[number]]) } : {}),
        ...(q.status ? { statuses: new Set([q.status as (typeof VEHICLE_STATUSES)[number]]) } : {}),
      });
      return {
        alert_id: a.id,
        source: { id: a.sourceId, lat, lon },
        radius_m: q.radius_m,
        results: hits.map(({ vehicle: v, distanceM }) => ({
          id: v.id, type: v.type, status: v.status, lat: v.lat, lon: v.lon,
          distance_m: Math.round(distanceM * 10) / 10, age_s: Math.max(0, Math.round((now - v.ts) / 1000)),
        })),
      };
    });
  };
