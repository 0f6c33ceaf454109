// Sensors: live values and history (raw or bucketed).
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { iso, parseDuration, parseTime } from './params.ts';
import { METRIC_NAMES } from '../ingest/model.ts';
import type { Device } from '../engine/registry.ts';
import { readingBuckets, readings } from '../store/history.ts';

/** a sensor silent for this long is reported offline (early warning refines this per sensor) */
const OFFLINE_AFTER_S = 15 * 60;

export const sensorsRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const view = (d: Device, now: number) => {
      const live = deps.sensors.get(d.id);
      const values: Record<string, { value: number; ts: string | null }> = {};
      for (const [metric, mv] of Object.entries(live?.values ?? {})) values[metric] = { value: mv.value, ts: iso(mv.ts) };
      const age = live ? Math.max(0, Math.round((now - live.lastTs) / 1000)) : null;
      return {
        id: d.id, type: d.type, name: d.name,
        lat: live?.lat ?? d.lat, lon: live?.lon ?? d.lon,
        status: age === null ? 'no_data' : age > OFFLINE_AFTER_S ? 'offline' : 'online',
        last_ts: iso(live?.lastTs ?? null), age_s: age, values,
      };
    };
    const sensor = (id: string) => {
      const d = deps.registry.get(id);
      if (!d || d.kind !== 'sensor') throw new ApiError('SENSOR_NOT_FOUND', `no sensor ${id}`);
      return d;
    };

    app.get<{ Querystring: { type?: string } }>('/sensors', {
      config: { role: 'viewer' },
      schema: { tags: ['sensors'], summary: 'Every sensor with its current values and status', querystring: { type: 'object', properties: { type: { type: 'string' } } } },
    }, async (req) => {
      const now = Date.now();
      return { sensors: deps.registry.list().filter((d) => d.kind === 'sensor' && (!req.query.type || d.type === req.query.type)).map((d) => view(d, now)) };
    });

    app.get<{ Params: { id: string } }>('/sensors/:id', {
      config: { role: 'viewer' },
      schema: { tags: ['sensors'], response: { 404: errorSchema } },
    }, async (req) => view(sensor(req.params.id), Date.now()));

    app.get<{ Params: { id: string }; Querystring: { metric?: string; from?: string; to?: string; bucket?: string; limit: number } }>('/sensors/:id/readings', {
      config: { role: 'viewer' },
      schema: {
        tags: ['sensors'],
        summary: 'Readings from history: raw rows, or buckets {ts, avg, min, max, count} with bucket=5m (default range: the last 24 hours)',
        querystring: {
          type: 'object',
          properties: {
            metric: { type: 'string', enum: METRIC_NAMES },
            from: { type: 'string' }, to: { type: 'string' },
            bucket: { type: 'string', description: 'e.g. 5m, 1h, 1d' },
            limit: { type: 'integer', minimum: 1, maximum: 100000, default: 10000 },
          },
        },
        response: { 400: errorSchema, 404: errorSchema },
      },
    }, async (req) => {
      const d = sensor(req.params.id);
      const q = req.query;
      const to = parseTime(q.to, 'to', Date.now());
      const from = parseTime(q.from, 'from', to - 86_400_000);
      if (from > to) throw new ApiError('BAD_QUERY', 'from must not be after to', { field: 'from' });
      const metric = q.metric ?? null;
      if (q.bucket) {
        const rows = await readingBuckets(deps.db, d.id, metric, from, to, parseDuration(q.bucket, 'bucket'));
        return { sensor_id: d.id, bucket: q.bucket, buckets: rows.map((b) => ({ ts: iso(b.ts), metric: b.metric, avg: b.avg, min: b.min, max: b.max, count: b.count })) };
      }
      const rows = await readings(deps.db, d.id, metric, from, to, q.limit);
      return { sensor_id: d.id, readings: rows.map((r) => ({ ts: iso(r.ts), metric: r.metric, value: r.value, ...(r.lat === null ? {} : { lat: r.lat, lon: r.lon }) })) };
    });
  };
