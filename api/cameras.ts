// CCTV (CONTRACT.md, CCTV): the camera registry, nearest cameras, and the stream route's documentation.
// The stream itself is a WebSocket upgrade handled by cctv/stream-route.ts on the same HTTP server.
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { iso, LAT_LON_PROPERTIES } from './params.ts';
import { CameraExistsError, type Camera } from '../cctv/cameras.ts';
import { redactUrlPasswords } from '../cctv/mpeg.ts';
import { STREAM_ERRORS } from '../cctv/relay.ts';

const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';

const cameraSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    lat: { type: 'number' },
    lon: { type: 'number' },
    rtsp_url: { type: 'string', description: 'with any password shown as ***' },
    stream_url: { type: 'string', description: 'path of the WebSocket carrying MPEG-TS for JSMpeg' },
    streaming: { type: 'boolean', description: 'the relay is delivering video now' },
    viewers: { type: 'integer' },
    created_at: { type: 'string' },
  },
} as const;

/** What dispatches and alerts carry: the nearest cameras within the configured radius. */
export const attachedCamerasSchema = {
  type: 'array',
  description: 'the nearest cameras (PANTAU_CAMERA_ATTACH_COUNT within PANTAU_CAMERA_ATTACH_RADIUS_M), nearest first',
  items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, distance_m: { type: 'number' } } },
} as const;

const roundM = (m: number) => Math.round(m * 10) / 10;

/** The cameras to show beside an incident at (lat, lon): `[{id, name, distance_m}]`, nearest first. */
export function camerasNear(deps: Pick<ApiDeps, 'cameras' | 'config'>, lat: number | null, lon: number | null): Array<{ id: string; name: string; distance_m: number }> {
  const k = deps.config.cameraAttachCount;
  if (lat === null || lon === null || k === 0 || deps.cameras.size === 0) return [];
  return deps.cameras.nearest(lat, lon, k, deps.config.cameraAttachRadiusM).map((h) => ({ id: h.item.id, name: h.item.name, distance_m: roundM(h.distanceM) }));
}

interface CreateBody {
  id: string;
  name: string;
  lat: number;
  lon: number;
  rtsp_url: string;
}

export const camerasRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const present = (c: Camera) => {
      const s = deps.cameraStreams.status(c.id);
      return {
        id: c.id, name: c.name, lat: c.lat, lon: c.lon, rtsp_url: redactUrlPasswords(c.rtspUrl),
        stream_url: `/api/v1/cameras/${encodeURIComponent(c.id)}/stream`, streaming: s.streaming, viewers: s.viewers, created_at: iso(c.createdAt),
      };
    };
    const found = (id: string) => {
      const c = deps.cameras.get(id);
      if (!c) throw new ApiError('CAMERA_NOT_FOUND', `no camera ${id}`);
      return c;
    };

    app.post<{ Body: CreateBody }>('/cameras', {
      config: { role: 'admin' },
      schema: {
        tags: ['cctv'],
        summary: 'Register a CCTV camera by its RTSP URL',
        body: {
          type: 'object',
          required: ['id', 'name', 'lat', 'lon', 'rtsp_url'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: ID_PATTERN },
            name: { type: 'string', minLength: 1, maxLength: 200 },
            ...LAT_LON_PROPERTIES,
            rtsp_url: { type: 'string', pattern: '^rtsps?://[^\\s]+$', maxLength: 2000, description: 'rtsp://[user:password@]host[:port]/path' },
          },
        },
        response: { 201: cameraSchema, 400: errorSchema, 409: errorSchema },
      },
    }, async (req, reply) => {
      const b = req.body;
      let host = '';
      try {
        host = new URL(b.rtsp_url).hostname;
      } catch {
        // reported below
      }
      if (!host) throw new ApiError('VALIDATION_FAILED', 'rtsp_url must be a URL like rtsp://host:554/path', [{ field: 'body.rtsp_url', expected: 'rtsp://[user:password@]host[:port]/path' }]);
      try {
        const c = await deps.cameras.create({ id: b.id, name: b.name, lat: b.lat, lon: b.lon, rtspUrl: b.rtsp_url });
        return reply.code(201).send(present(c));
      } catch (err) {
        if (err instanceof CameraExistsError) throw new ApiError('CAMERA_EXISTS', `camera ${b.id} exists; DELETE it first to change it`);
        throw err;
      }
    });

    app.get('/cameras', {
      config: { role: 'viewer' },
      schema: { tags: ['cctv'], response: { 200: { type: 'object', properties: { cameras: { type: 'array', items: cameraSchema } } } } },
    }, async () => ({ cameras: deps.cameras.list().map(present) }));

    app.get<{ Querystring: { lat: number; lon: number; k: number; max_distance_m?: number } }>('/cameras/nearest', {
      config: { role: 'viewer' },
      schema: {
        tags: ['cctv'],
        summary: 'The k cameras nearest to a point by great-circle distance, nearest first',
        querystring: {
          type: 'object',
          required: ['lat', 'lon'],
          properties: {
            ...LAT_LON_PROPERTIES,
            k: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
            max_distance_m: { type: 'number', exclusiveMinimum: 0 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              results: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, lat: { type: 'number' }, lon: { type: 'number' }, distance_m: { type: 'number' } } },
              },
            },
          },
          400: errorSchema,
        },
      },
    }, async (req) => {
      const q = req.query;
      return {
        results: deps.cameras.nearest(q.lat, q.lon, q.k, q.max_distance_m).map((h) => ({ id: h.item.id, name: h.item.name, lat: h.item.lat, lon: h.item.lon, distance_m: roundM(h.distanceM) })),
      };
    });

    app.get<{ Params: { id: string } }>('/cameras/:id', {
      config: { role: 'viewer' },
      schema: { tags: ['cctv'], response: { 200: cameraSchema, 404: errorSchema } },
    }, async (req) => present(found(req.params.id)));

    app.delete<{ Params: { id: string } }>('/cameras/:id', {
      config: { role: 'admin' },
      schema: { tags: ['cctv'], summary: 'Remove a camera; its viewers are disconnected', response: { 404: errorSchema } },
    }, async (req, reply) => {
      found(req.params.id);
      await deps.cameras.remove(req.params.id);
      deps.cameraStreams.closeCamera(req.params.id);
      return reply.code(204).send();
    });

    // A plain GET lands here; the WebSocket upgrade of the same path never reaches fastify.
    app.get<{ Params: { id: string } }>('/cameras/:id/stream', {
      config: { role: 'viewer' },
      schema: {
        tags: ['cctv'],
        summary: 'Live video as a WebSocket (MPEG-TS for JSMpeg)',
        description:
          'Open as a WebSocket with `Authorization: Bearer <token>` or `?access_token=<token>`. The first binary message is JSMpeg\'s 8-byte header ' +
          '("jsmp", width and height as big-endian uint16), then MPEG-TS (MPEG-1 video). The relay (ffmpeg) starts with the first viewer and stops ' +
          'after the last has left. A problem arrives as a text frame {"error": CODE, "message"} followed by a close with that code as the reason: ' +
          Object.entries(STREAM_ERRORS).map(([code, close]) => `${code} (close ${close})`).join(', ') +
          '. A refused handshake answers 401 UNAUTHORIZED or 404 CAMERA_NOT_FOUND. A plain GET answers 426 UPGRADE_REQUIRED.',
        response: { 404: errorSchema, 426: errorSchema },
      },
    }, async (req) => {
      found(req.params.id);
      throw new ApiError('UPGRADE_REQUIRED', 'open this URL as a WebSocket (ws:// or wss://, with ?access_token= in a browser); it carries MPEG-TS for JSMpeg players');
    });
  };
