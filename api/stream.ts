// GET /api/v1/stream: Server-Sent Events (HTML Living Standard, 9.2) of vehicles, alerts, geofence
// events and dispatches, from the engine's feed. Each client gets what it missed since its
// Last-Event-ID from the feed's ring, or `event: reset` when that is no longer kept. A client that
// does not read is closed once more than PANTAU_STREAM_MAX_BUFFERED_BYTES wait for it: a slow
// dashboard must never cost the engine memory without bound.
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { FEED_TOPICS, type FeedEvent, type FeedTopic } from '../engine/feed.ts';

/** how long EventSource waits before it reconnects (the `retry:` field) */
const RETRY_MS = 2000;
/** a replay goes to the socket in writes of about this size, each waiting for the one before to drain */
const REPLAY_CHUNK_BYTES = 16 * 1024;

/** The query-string token must never reach a log line. */
export function redactAccessToken(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');
}

/** `vehicles,alerts` -> the set; absent or empty means every topic. */
export function parseTopics(raw: string | undefined): Set<FeedTopic> {
  const names = (raw ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (names.length === 0) return new Set(FEED_TOPICS);
  const unknown = names.filter((t) => !(FEED_TOPICS as readonly string[]).includes(t));
  if (unknown.length) {
    throw new ApiError('BAD_QUERY', `unknown topic ${unknown.map((t) => `"${t}"`).join(', ')}; topics is a comma-separated list of ${FEED_TOPICS.join(', ')}`, {
      field: 'topics', got: unknown, allowed: FEED_TOPICS,
    });
  }
  return new Set(names as FeedTopic[]);
}

/**
 * One connected client. The replay (kept in the feed's ring anyway) is written a chunk at a time as
 * the socket drains; live events that arrive meanwhile, or while the socket is backed up, queue
 * here, and the queue plus what the socket holds unsent is what the bound applies to.
 */
class StreamClient {
  closed = false;
  private backlog: string[] = [];
  private at = 0;
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  /** true from construction until the backlog is written, and while waiting for 'drain' */
  private blocked = true;

  constructor(
    private readonly res: ServerResponse,
    readonly topics: ReadonlySet<FeedTopic>,
    private readonly maxBufferedBytes: number,
    private readonly onSlow: (bufferedBytes: number) => void,
  ) {}

  /** Writes the backlog (head, replay, id marker), then whatever arrived live meanwhile. */
  start(backlog: string[]): void {
    this.backlog = backlog;
    this.pump();
  }

  offer = (e: FeedEvent): void => {
    if (this.topics.has(e.topic)) this.send(e.frame);
  };

  /** A comment line keeps proxies from closing an idle connection; pointless while backed up. */
  heartbeat(): void {
    if (!this.blocked) this.send(': heartbeat\n\n');
  }

  end(): void {
    this.closed = true;
    this.res.end();
  }

  private send(frame: string): void {
    if (this.closed) return;
    if (this.blocked) {
      this.queue.push(frame);
      this.queuedBytes += Buffer.byteLength(frame);
    } else if (!this.res.write(frame)) {
      this.block();
    }
    const buffered = this.queuedBytes + this.res.writableLength;
    if (buffered > this.maxBufferedBytes) this.drop(buffered);
  }

  private block(): void {
    this.blocked = true;
    this.res.once('drain', this.pump);
  }

  private readonly pump = (): void => {
    this.blocked = false;
    while (!this.closed) {
      const chunk = this.nextChunk();
      if (chunk === null) return;
      if (!this.res.write(chunk)) {
        this.block();
        return;
      }
    }
  };

  private nextChunk(): string | null {
    if (this.at < this.backlog.length) {
      let chunk = '';
      while (this.at < this.backlog.length && chunk.length < REPLAY_CHUNK_BYTES) chunk += this.backlog[this.at++];
      return chunk;
    }
    this.backlog = [];
    this.at = 0;
    if (this.queue.length === 0) return null;
    const chunk = this.queue.join('');
    this.queue.length = 0;
    this.queuedBytes = 0;
    return chunk;
  }

  private drop(bufferedBytes: number): void {
    this.closed = true;
    this.onSlow(bufferedBytes);
    // RST, not FIN: a FIN would wait behind the unsent bytes that the client is not reading
    const socket = this.res.socket;
    if (socket && !socket.destroyed) socket.resetAndDestroy();
    else this.res.destroy();
  }
}

export const streamRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const { feed, metrics, log, config } = deps;
    /** open streams and the operator of each: a stream whose operator's token or role changed is closed */
    const clients = new Map<StreamClient, string | null>();
    deps.registry.onOperatorChanged((id) => {
      for (const [c, operator] of clients) if (operator === id) c.end();
    });
    const heartbeat = setInterval(() => {
      for (const c of clients.keys()) c.heartbeat();
    }, config.streamHeartbeatS * 1000);
    heartbeat.unref();
    app.addHook('preClose', async () => {
      clearInterval(heartbeat);
      for (const c of clients.keys()) c.end();
    });

    app.get<{ Querystring: { topics?: string; access_token?: string }; Headers: { 'last-event-id'?: string } }>('/stream', {
      config: { role: 'viewer', tokenInQuery: true },
      schema: {
        tags: ['live'],
        summary: 'Server-Sent Events of vehicles, alerts, geofence events and dispatches',
        description:
          'Each event has `id`, `event` (its topic) and `data` (JSON). `vehicles`: {id, type, status, lat, lon, speed_kmh, heading, ts, age_s}, ' +
          'at most PANTAU_STREAM_VEHICLE_HZ per vehicle with its latest state; `alerts`: the alert as in GET /alerts on every change; ' +
          '`events`: geofence events as on MQTT; `dispatches`: the dispatch as in GET /dispatches/{id} on every change. ' +
          'Reconnecting with Last-Event-ID replays what was missed; when that is no longer kept, the first event is `event: reset` and the client should refetch state. ' +
          'Comment lines every PANTAU_STREAM_HEARTBEAT_S. EventSource may pass the token as ?access_token=.',
        querystring: {
          type: 'object',
          properties: {
            topics: { type: 'string', description: `comma-separated, of ${FEED_TOPICS.join(', ')}; all when absent` },
            access_token: { type: 'string', description: 'the bearer token, for clients that cannot send headers (EventSource)' },
          },
        },
        headers: { type: 'object', properties: { 'last-event-id': { type: 'string' } } },
        response: { 400: errorSchema, 401: errorSchema, 403: errorSchema },
      },
    }, async (req, reply) => {
      const topics = parseTopics(req.query.topics);
      const lastEventId = req.headers['last-event-id'];
      reply.hijack();
      const res = reply.raw;
      if (!res.socket || res.socket.destroyed) {
        res.destroy();
        return reply;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no', // nginx: do not buffer the stream
      });
      const operator = req.operator?.id ?? null;
      const client = new StreamClient(res, topics, config.streamMaxBufferedBytes, (bufferedBytes) => {
        metrics.streamDropped.inc({ reason: 'slow' });
        log.warn({ operator, buffered_bytes: bufferedBytes, limit_bytes: config.streamMaxBufferedBytes }, 'stream client not reading; closed');
      });

      // From resume to subscribe in one synchronous step: no event falls in between.
      const backlog: string[] = [];
      if (lastEventId) {
        const r = feed.resume(lastEventId, topics);
        if ('reset' in r) {
          metrics.streamResumes.inc({ outcome: 'reset' });
          const data = {
            reason: r.reset,
            message: r.reset === 'too_old' ? 'events after Last-Event-ID are no longer kept; refetch the state and carry on from here' : 'Last-Event-ID is not from this engine run; refetch the state and carry on from here',
          };
          backlog.push(`retry: ${RETRY_MS}\nid: ${r.lastId}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`);
        } else {
          metrics.streamResumes.inc({ outcome: 'resumed' });
          backlog.push(`retry: ${RETRY_MS}\n\n`);
          for (const e of r.events) backlog.push(e.frame);
          // an id without data moves the client's Last-Event-ID on without an event (9.2.6)
          backlog.push(`id: ${r.lastId}\n\n`);
        }
      } else {
        // so that a client that loses the connection before its first event still resumes from here
        backlog.push(`retry: ${RETRY_MS}\nid: ${feed.lastId}\n\n`);
      }
      const unsubscribe = feed.subscribe(client.offer);
      clients.set(client, operator);
      metrics.streamClients.inc();
      res.once('close', () => {
        client.closed = true;
        unsubscribe();
        clients.delete(client);
        metrics.streamClients.dec();
      });
      log.debug({ operator, topics: [...topics], resumed: Boolean(lastEventId) }, 'stream client connected');
      client.start(backlog);
      return reply;
    });
  };
