// Early-warning subscribers: who is told of which alerts, where, and how each delivery went.
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { iso } from './params.ts';
import { AreaError } from '../geo/area-index.ts';
import { ALERT_KINDS, DEFAULT_SUBSCRIBER_KINDS, type Subscriber } from '../engine/subscribers.ts';
import { subscriberTopic } from '../engine/outbox.ts';
import { LEVEL_NAMES } from '../warning/levels.ts';
import { subscriberDeliveries } from '../store/alerts.ts';

interface CreateBody {
  name: string;
  area: Record<string, unknown>;
  radius_m?: number;
  kinds?: string[];
  min_level?: string;
  webhook_url?: string;
}

const present = (s: Subscriber) => ({
  id: s.id, name: s.name, area: s.geometry, radius_m: s.radiusM, kinds: s.kinds, min_level: s.minLevel,
  webhook_url: s.webhookUrl, topic: subscriberTopic(s.id), created_at: iso(s.createdAt),
});

export const subscribersRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const found = (id: string) => {
      const s = deps.subscribers.get(id);
      if (!s) throw new ApiError('SUBSCRIBER_NOT_FOUND', `no subscriber ${id}`);
      return s;
    };

    app.post<{ Body: CreateBody }>('/subscribers', {
      config: { role: 'admin' },
      schema: {
        tags: ['subscribers'],
        summary: 'Register a subscriber: alerts whose affected area meets its area reach it on MQTT (and its webhook, signed)',
        description:
          'Returns {id, token, topic}: connect to MQTT with username = id, password = token, clean session 0, and subscribe to topic at QoS 1. ' +
          'With webhook_url, each alert is also POSTed there with X-Pantau-Signature: sha256=HMAC-SHA256(webhook_secret, body) hex; webhook_secret is returned once.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'area'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            area: { type: 'object', description: 'GeoJSON Point (with radius_m), Polygon or MultiPolygon geometry' },
            radius_m: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 },
            kinds: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...ALERT_KINDS] }, default: [...DEFAULT_SUBSCRIBER_KINDS] },
            min_level: { type: 'string', enum: LEVEL_NAMES.filter((l) => l !== 'NORMAL' && l !== 'BAIK' && l !== 'SEDANG') },
            webhook_url: { type: 'string', pattern: '^https?://', maxLength: 2000 },
          },
        },
        response: { 400: errorSchema },
      },
    }, async (req, reply) => {
      const b = req.body;
      if (b.webhook_url) {
        try {
          new URL(b.webhook_url);
        } catch {
          throw new ApiError('VALIDATION_FAILED', 'webhook_url is not a URL', [{ field: 'body.webhook_url', expected: 'an http(s) URL' }]);
        }
      }
      try {
        const { subscriber, token, topic } = await deps.subscribers.create({
          name: b.name, area: b.area, radiusM: b.radius_m ?? null, kinds: b.kinds, minLevel: b.min_level ?? null, webhookUrl: b.webhook_url ?? null,
        });
        return reply.code(201).send({ id: subscriber.id, token, topic, ...(subscriber.webhookSecret ? { webhook_secret: subscriber.webhookSecret } : {}) });
      } catch (err) {
        if (err instanceof AreaError) throw new ApiError('INVALID_GEOMETRY', err.message, [{ field: `body.${err.field.replace(/^geometry/, 'area')}` }]);
        throw err;
      }
    });

    app.get('/subscribers', { config: { role: 'viewer' }, schema: { tags: ['subscribers'] } }, async () => ({ subscribers: deps.subscribers.list().map(present) }));

    app.get<{ Params: { id: string } }>('/subscribers/:id', {
      config: { role: 'viewer' },
      schema: { tags: ['subscribers'], response: { 404: errorSchema } },
    }, async (req) => present(found(req.params.id)));

    app.delete<{ Params: { id: string } }>('/subscribers/:id', {
      config: { role: 'admin' },
      schema: { tags: ['subscribers'], response: { 404: errorSchema } },
    }, async (req, reply) => {
      found(req.params.id);
      await deps.subscribers.remove(req.params.id);
      deps.outbox.forgetSubscriber(req.params.id);
      return reply.code(204).send();
    });

    app.get<{ Params: { id: string }; Querystring: { limit: number } }>('/subscribers/:id/deliveries', {
      config: { role: 'viewer' },
      schema: {
        tags: ['subscribers'],
        summary: 'Deliveries to this subscriber, newest first, each with every attempt (MQTT: the PUBACK; webhook: each POST and its answer)',
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 10000, default: 200 } } },
        response: { 404: errorSchema },
      },
    }, async (req) => {
      found(req.params.id);
      await deps.alerts.flush();
      await deps.outbox.flush();
      const rows = await subscriberDeliveries(deps.db, req.params.id, req.query.limit);
      return {
        subscriber_id: req.params.id,
        deliveries: rows.map((d) => ({
          id: d.id, alert_id: d.alertId, channel: d.channel, event: d.event, state: d.state, attempts: d.attempts,
          created_at: iso(d.createdAt), delivered_at: iso(d.deliveredAt), next_attempt_at: d.state === 'pending' ? iso(d.nextAttemptAt) : null, last_error: d.lastError,
          attempt_log: d.attemptLog.map((t) => ({ ts: iso(t.ts), ok: t.ok, status_code: t.statusCode, error: t.error, duration_ms: t.durationMs })),
          payload: d.payload,
        })),
      };
    });
  };
