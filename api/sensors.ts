// Sensors: live values and history (raw or bucketed).
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { iso, parseDuration, parseTime } from './params.ts';
import { METRIC_NAMES } from '../ingest/model.ts';
import type { Device } from '../engine/registry.ts';
import { readingBuckets, readings } from '../store/history.ts';
import { ThresholdsError, type ThresholdsBody } from '../engine/warnings.ts';

const levelSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'value'],
  properties: { name: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,39}$' }, value: { type: ['number', 'null'], description: 'null = level not configured' } },
} as const;

const thresholdsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['metric', 'levels'],
  properties: {
    metric: { type: 'string', enum: METRIC_NAMES },
    levels: { type: 'array', maxItems: 10, items: levelSchema, description: 'ascending; a reading at or above a value is at that level' },
    hysteresis: { type: 'number', minimum: 0, default: 0 },
    min_duration_s: { type: 'number', minimum: 0, maximum: 86400, default: 0 },
    rate_of_rise_per_10min: { type: ['number', 'null'], exclusiveMinimum: 0 },
    expected_interval_s: { type: 'number', exclusiveMinimum: 0, maximum: 86400 },
    stuck_readings: { type: 'integer', minimum: 0, maximum: 100000 },
    stuck_span_s: { type: 'number', minimum: 0, maximum: 2592000 },
    affected_area: { type: ['object', 'null'], description: 'GeoJSON Polygon or MultiPolygon geometry' },
    affected_radius_m: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 1000000 },
    downstream: {
      type: 'array',
      maxItems: 20,
      items: { type: 'object', additionalProperties: false, required: ['sensor_id', 'travel_s'], properties: { sensor_id: { type: 'string', minLength: 1 }, travel_s: { type: 'number', minimum: 0, maximum: 604800 } } },
      description: 'gauges downstream and the flood wave travel time to each (replaces bundled links)',
    },
  },
} as const;

export const sensorsRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const view = (d: Device, now: number) => {
      const live = deps.sensors.get(d.id);
      const values: Record<string, { value: number; ts: string | null }> = {};
      for (const [metric, mv] of Object.entries(live?.values ?? {})) values[metric] = { value: mv.value, ts: iso(mv.ts) };
      const age = live ? Math.max(0, Math.round((now - live.lastTs) / 1000)) : null;
      const health = deps.warnings.statusOf(d.id);
      return {
        id: d.id, type: d.type, name: d.name,
        lat: live?.lat ?? d.lat, lon: live?.lon ?? d.lon,
        status: age === null ? 'no_data' : health?.offline ? 'offline' : 'online',
        /** per metric with thresholds: NORMAL or the level name (e.g. SIAGA_2) */
        levels: health?.levels ?? {},
        stuck: health?.stuck ?? false,
        rising: health?.rising ?? false,
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
  
    app.get<{ Params: { id: string } }>('/sensors/:id/thresholds', {
      config: { role: 'viewer' },
      schema: { tags: ['sensors'], summary: 'The thresholds in force (stored, or bundled for a Jakarta gauge)', response: { 404: errorSchema } },
    }, async (req) => ({ sensor_id: sensor(req.params.id).id, thresholds: deps.warnings.thresholdsOf(req.params.id) }));

    app.put<{ Params: { id: string }; Body: ThresholdsBody }>('/sensors/:id/thresholds', {
      config: { role: 'admin' },
      schema: {
        tags: ['sensors'],
        summary: 'Set the thresholds of one metric; the last value is judged against them at once',
        body: thresholdsSchema,
        response: { 400: errorSchema, 404: errorSchema },
      },
    }, async (req) => {
      const d = sensor(req.params.id);
      try {
        const applied = await deps.warnings.setThresholds(d.id, req.body, Date.now());
        return { sensor_id: d.id, thresholds: applied, status: deps.warnings.statusOf(d.id) };
      } catch (err) {
        if (err instanceof ThresholdsError) throw new ApiError('VALIDATION_FAILED', err.message, [{ field: `body.${err.field}` }]);
        throw err;
      }
    });

    app.get('/air-quality', {
      config: { role: 'viewer' },
      schema: {
        tags: ['sensors'],
        summary: 'ISPU per station (P.14/2020: rolling 24 h means, the maximum over pollutants, its dominant pollutant), with the hourly value beside it and the US EPA AQI (2024 PM2.5)',
      },
    }, async () => ({ stations: deps.warnings.airQuality(Date.now()) }));
  };
