// Live vehicles: positions, nearest (dispatch-aware), and tracks from history.
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { iso, parseBBox, parseTime, LAT_LON_PROPERTIES } from './params.ts';
import { VEHICLE_STATUSES, VEHICLE_TYPES, type VehicleStatus, type VehicleType } from '../ingest/model.ts';
import type { LiveVehicle, VehicleIndex } from '../geo/vehicle-index.ts';
import { etaSeconds, type EtaModel } from '../geo/eta.ts';
import { track } from '../store/history.ts';

const ageS = (ts: number, now: number) => Math.max(0, Math.round((now - ts) / 1000));

function feature(v: Readonly<LiveVehicle>, now: number) {
  return {
    type: 'Feature' as const,
    id: v.id,
    geometry: { type: 'Point' as const, coordinates: [v.lon, v.lat] },
    properties: { id: v.id, type: v.type, status: v.status, speed_kmh: v.speedKmh, heading: v.heading, accuracy_m: v.accuracyM, ts: iso(v.ts), age_s: ageS(v.ts, now) },
  };
}

const featureSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: ['Feature'] },
    id: { type: 'string' },
    geometry: { type: 'object', properties: { type: { type: 'string' }, coordinates: { type: 'array', items: { type: 'number' } } } },
    properties: {
      type: 'object',
      properties: {
        id: { type: 'string' }, type: { type: 'string' }, status: { type: 'string' }, speed_kmh: { type: ['number', 'null'] }, heading: { type: ['number', 'null'] },
        accuracy_m: { type: ['number', 'null'] }, ts: { type: 'string' }, age_s: { type: 'integer' }, distance_m: { type: 'number' },
      },
    },
  },
} as const;

const typeList = { type: 'string', description: `comma-separated: ${VEHICLE_TYPES.join(', ')}` } as const;
const statusList = { type: 'string', description: `comma-separated: ${VEHICLE_STATUSES.join(', ')}` } as const;

/** parsed type= and status= lists by their raw text: the same few lists come with nearly every request */
const parsedLists = new Map<string, ReadonlySet<string>>();
const PARSED_LISTS_MAX = 256;

function parseList<T extends string>(raw: string | undefined, allowed: readonly T[], field: string): ReadonlySet<T> | null {
  if (!raw) return null;
  const key = `${field}=${raw}`;
  const known = parsedLists.get(key);
  if (known) return known as ReadonlySet<T>;
  const set = parseListUncached(raw, allowed, field);
  if (parsedLists.size >= PARSED_LISTS_MAX) parsedLists.clear();
  parsedLists.set(key, set);
  return set;
}

function parseListUncached<T extends string>(raw: string, allowed: readonly T[], field: string): ReadonlySet<T> {
  const values = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const v of values) {
    if (!(allowed as readonly string[]).includes(v)) throw new ApiError('BAD_QUERY', `${field} must be among ${allowed.join(', ')}`, { field, got: v });
  }
  return new Set(values as T[]);
}

interface NearestQuery {
  lat: number;
  lon: number;
  type?: string;
  status?: string;
  k: number;
  max_age_s: number;
  max_distance_m?: number;
  max_accuracy_m?: number;
}

/** What the live-vehicle routes read: the engine's state, or an API replica's (engine/replica.ts). */
export interface LiveVehiclesDeps {
  vehicles: VehicleIndex;
  eta: EtaModel;
  /** the geofences for within=; null on a replica, which keeps no fences */
  fences: { get(id: string): { id: string; bbox: Readonly<[number, number, number, number]> } | undefined; contains(id: string, lat: number, lon: number): boolean } | null;
  /** why GET /vehicles/{id} knows no such vehicle */
  missing(id: string): string;
}

/** Live vehicles and tracks: the engine's routes. */
export const vehiclesRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    await app.register(liveVehiclesRoutes({
      vehicles: deps.vehicles,
      eta: { roadFactor: deps.config.etaRoadFactor, speedsKmh: deps.config.typicalSpeedsKmh },
      fences: deps.geofences.index,
      missing: (id) => (deps.registry.get(id)?.kind === 'vehicle' ? `vehicle ${id} has reported no position yet` : `no vehicle ${id}`),
    }));
    await app.register(trackRoutes(deps));
  };

/** GET /vehicles, /vehicles/nearest and /vehicles/{id}: answered from a live index alone, so a replica serves them too. */
export const liveVehiclesRoutes =
  (deps: LiveVehiclesDeps): FastifyPluginAsync =>
  async (app) => {
    const { vehicles, eta, fences } = deps;

    app.get<{ Querystring: { type?: string; status?: string; bbox?: string; within?: string; near?: string; radius_m?: number } }>('/vehicles', {
      config: { role: 'viewer' },
      schema: {
        tags: ['vehicles'],
        summary: 'Live positions as a GeoJSON FeatureCollection',
        description: 'within={fenceId}: vehicles whose position lies in the geofence now. near=lat,lon&radius_m=: vehicles within the radius, nearest first, with distance_m.',
        querystring: {
          type: 'object',
          properties: {
            type: typeList, status: statusList,
            bbox: { type: 'string', description: 'minLon,minLat,maxLon,maxLat' },
            within: { type: 'string', description: 'a geofence id' },
            near: { type: 'string', description: 'lat,lon' },
            radius_m: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 },
          },
        },
        response: { 200: { type: 'object', properties: { type: { type: 'string' }, features: { type: 'array', items: featureSchema } } }, 400: errorSchema, 404: errorSchema },
      },
    }, async (req) => {
      const q = req.query;
      const types = parseList(q.type, VEHICLE_TYPES, 'type');
      const statuses = parseList(q.status, VEHICLE_STATUSES, 'status');
      let keep = (v: Readonly<LiveVehicle>) => (!types || types.has(v.type)) && (!statuses || statuses.has(v.status));
      const now = Date.now();
      let fenceBox: readonly [number, number, number, number] | null = null;
      if (q.within !== undefined) {
        if (!fences) throw new ApiError('NOT_ON_REPLICA', 'within= needs the geofences, which only the engine keeps; ask the engine', { field: 'within' });
        const fence = fences.get(q.within);
        if (!fence) throw new ApiError('GEOFENCE_NOT_FOUND', `no geofence ${q.within}`);
        fenceBox = fence.bbox;
        const inBox = keep;
        keep = (v) => inBox(v) && fences.contains(fence.id, v.lat, v.lon);
      }
      if (q.near !== undefined || q.radius_m !== undefined) {
        const parts = (q.near ?? '').split(',').map(Number);
        const [lat, lon] = parts as [number, number];
        if (parts.length !== 2 || !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) throw new ApiError('BAD_QUERY', 'near must be lat,lon in degrees', { field: 'near', got: q.near ?? null });
        if (q.radius_m === undefined) throw new ApiError('BAD_QUERY', 'near needs radius_m', { field: 'radius_m' });
        const inArea = q.bbox ? parseBBox(q.bbox) : null;
        const hits = vehicles.nearest(lat, lon, {
          k: Infinity,
          maxDistanceM: q.radius_m,
          // The sets skip whole partitions of the index; keep() checks them again, cheaply, along with the fence.
          types: types ?? undefined,
          statuses: statuses ?? undefined,
          filter: (v) => keep(v) && (!inArea || (v.lon >= inArea[0] && v.lon <= inArea[2] && v.lat >= inArea[1] && v.lat <= inArea[3])),
        });
        return {
          type: 'FeatureCollection',
          features: hits.map(({ vehicle, distanceM }) => {
            const f = feature(vehicle, now);
            return { ...f, properties: { ...f.properties, distance_m: Math.round(distanceM * 10) / 10 } };
          }),
        };
      }
      const box = q.bbox ? parseBBox(q.bbox) : fenceBox;
      const list = box ? vehicles.inBBox(box[0], box[1], box[2], box[3], keep) : [...vehicles.all()].filter(keep);
      list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return { type: 'FeatureCollection', features: list.map((v) => feature(v, now)) };
    });

    app.get<{ Querystring: NearestQuery }>('/vehicles/nearest', {
      config: { role: 'viewer' },
      schema: {
        tags: ['vehicles'],
        summary: 'Nearest qualifying vehicles, nearest first (great-circle distance)',
        description: 'Vehicles whose last fix is older than max_age_s are never returned. status defaults to available.',
        querystring: {
          type: 'object',
          required: ['lat', 'lon'],
          properties: {
            ...LAT_LON_PROPERTIES,
            type: typeList,
            status: { ...statusList, default: 'available' },
            k: { type: 'integer', minimum: 1, maximum: 100, default: 5 },
            max_age_s: { type: 'number', minimum: 0, default: 120 },
            max_distance_m: { type: 'number', exclusiveMinimum: 0 },
            max_accuracy_m: { type: 'number', exclusiveMinimum: 0, description: 'skip vehicles whose last fix is less precise than this' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' }, type: { type: 'string' }, status: { type: 'string' }, lat: { type: 'number' }, lon: { type: 'number' },
                    distance_m: { type: 'number' }, eta_s: { type: 'integer' }, age_s: { type: 'integer' },
                  },
                },
              },
            },
          },
          400: errorSchema,
        },
      },
    }, async (req) => {
      const q = req.query;
      const types = parseList<VehicleType>(q.type, VEHICLE_TYPES, 'type');
      const statuses = parseList<VehicleStatus>(q.status, VEHICLE_STATUSES, 'status');
      const now = Date.now();
      const oldestTs = now - q.max_age_s * 1000;
      const maxAcc = q.max_accuracy_m;
      const hits = vehicles.nearest(q.lat, q.lon, {
        k: q.k,
        ...(q.max_distance_m === undefined ? {} : { maxDistanceM: q.max_distance_m }),
        types: types ?? undefined,
        statuses: statuses ?? undefined,
        minTs: oldestTs,
        ...(maxAcc === undefined ? {} : { filter: (v: Readonly<LiveVehicle>) => v.accuracyM === null || v.accuracyM <= maxAcc }),
      });
      return {
        results: hits.map(({ vehicle: v, distanceM }) => ({
          id: v.id, type: v.type, status: v.status, lat: v.lat, lon: v.lon,
          distance_m: Math.round(distanceM * 10) / 10, eta_s: etaSeconds(distanceM, v.type, eta), age_s: ageS(v.ts, now),
        })),
      };
    });

    app.get<{ Params: { id: string } }>('/vehicles/:id', {
      config: { role: 'viewer' },
      schema: { tags: ['vehicles'], response: { 200: featureSchema, 404: errorSchema } },
    }, async (req) => {
      const v = vehicles.get(req.params.id);
      if (!v) throw new ApiError('VEHICLE_NOT_FOUND', deps.missing(req.params.id));
      return feature(v, Date.now());
    });
  };

/** GET /vehicles/{id}/track: from history, so only the engine has it. */
const trackRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; limit: number } }>('/vehicles/:id/track', {
      config: { role: 'viewer' },
      schema: {
        tags: ['vehicles'],
        summary: 'Track from history as a GeoJSON LineString Feature (default: the last 24 hours)',
        querystring: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 100000, default: 10000 } } },
        response: { 404: errorSchema, 400: errorSchema },
      },
    }, async (req) => {
      const d = deps.registry.get(req.params.id);
      if (!d || d.kind !== 'vehicle') throw new ApiError('VEHICLE_NOT_FOUND', `no vehicle ${req.params.id}`);
      const to = parseTime(req.query.to, 'to', Date.now());
      const from = parseTime(req.query.from, 'from', to - 86_400_000);
      if (from > to) throw new ApiError('BAD_QUERY', 'from must not be after to', { field: 'from' });
      const points = await track(deps.db, d.id, from, to, req.query.limit);
      return {
        type: 'Feature',
        geometry: { type: 'LineString', coordinates: points.map((p) => [p.lon, p.lat]) },
        properties: {
          id: d.id, type: d.type, from: iso(from), to: iso(to), count: points.length,
          times: points.map((p) => iso(p.ts)), speeds_kmh: points.map((p) => p.speed_kmh),
        },
      };
    });
  };
