// 112 dispatch (CONTRACT.md, Dispatch): reserve the nearest available vehicle, follow it to the scene.
import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from './deps.ts';
import { ApiError, errorSchema } from './errors.ts';
import { iso, LAT_LON_PROPERTIES } from './params.ts';
import { attachedCamerasSchema, camerasNear } from './cameras.ts';
import { VEHICLE_TYPES, type VehicleType } from '../ingest/model.ts';
import { DISPATCH_STATES, type DispatchState } from '../store/dispatches.ts';
import { DispatchNotFoundError, InvalidTransitionError, type Dispatch } from '../engine/dispatcher.ts';

const dispatchSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    lat: { type: 'number' },
    lon: { type: 'number' },
    note: { type: ['string', 'null'] },
    state: { type: 'string', enum: [...DISPATCH_STATES] },
    vehicle: {
      type: 'object',
      properties: { id: { type: 'string' }, type: { type: 'string' }, status: { type: 'string' }, lat: { type: ['number', 'null'] }, lon: { type: ['number', 'null'] } },
    },
    distance_m: { type: 'number' },
    eta_s: { type: 'integer' },
    created_by: { type: ['string', 'null'] },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    closed_at: { type: ['string', 'null'] },
    history: { type: 'array', items: { type: 'object', properties: { state: { type: 'string' }, ts: { type: 'string' }, by: { type: ['string', 'null'] } } } },
    cameras: attachedCamerasSchema,
  },
} as const;

/** The JSON a dispatch is shown as, in the API and on the live stream. */
export function dispatchView(d: Dispatch, vehicles: ApiDeps['vehicles'], registry: ApiDeps['registry']) {
  const v = vehicles.get(d.vehicleId);
  const device = registry.get(d.vehicleId);
  return {
    id: d.id, type: d.type, lat: d.lat, lon: d.lon, note: d.note, state: d.state,
    vehicle: { id: d.vehicleId, type: device?.type ?? d.type, status: v?.status ?? device?.status ?? 'unknown', lat: v?.lat ?? null, lon: v?.lon ?? null },
    distance_m: d.distanceM, eta_s: d.etaS, created_by: d.createdBy,
    created_at: iso(d.createdAt), updated_at: iso(d.updatedAt), closed_at: iso(d.closedAt), history: d.history,
  };
}

interface CreateBody {
  lat: number;
  lon: number;
  type: VehicleType;
  note?: string;
  max_age_s: number;
  max_distance_m?: number;
  max_accuracy_m?: number;
}

export const dispatchesRoutes =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    const present = (d: Dispatch) => ({ ...dispatchView(d, deps.vehicles, deps.registry), cameras: camerasNear(deps, d.lat, d.lon) });

    app.post<{ Body: CreateBody }>('/dispatches', {
      config: { role: 'dispatcher' },
      schema: {
        tags: ['dispatch'],
        summary: 'Reserve the nearest available vehicle of a type for an incident; two requests never get the same vehicle',
        body: {
          type: 'object',
          required: ['lat', 'lon'],
          additionalProperties: false,
          properties: {
            ...LAT_LON_PROPERTIES,
            type: { type: 'string', enum: [...VEHICLE_TYPES], default: 'ambulance' },
            note: { type: 'string', maxLength: 2000 },
            max_age_s: { type: 'number', minimum: 1, default: 120, description: 'a vehicle silent longer is never reserved' },
            max_distance_m: { type: 'number', exclusiveMinimum: 0 },
            max_accuracy_m: { type: 'number', exclusiveMinimum: 0 },
          },
        },
        response: { 201: dispatchSchema, 400: errorSchema, 409: errorSchema },
      },
    }, async (req, reply) => {
      const b = req.body;
      const got = await deps.dispatcher.reserve({
        lat: b.lat, lon: b.lon, type: b.type, note: b.note ?? null, maxAgeS: b.max_age_s,
        maxDistanceM: b.max_distance_m ?? null, maxAccuracyM: b.max_accuracy_m ?? null, by: req.operator?.id ?? null,
      });
      if (!got) {
        throw new ApiError('NO_VEHICLE_AVAILABLE', `no available ${b.type} has reported within ${b.max_age_s} s${b.max_distance_m ? ` and ${b.max_distance_m} m` : ''}`, {
          type: b.type, max_age_s: b.max_age_s, ...(b.max_distance_m ? { max_distance_m: b.max_distance_m } : {}),
        });
      }
      return reply.code(201).send(present(got.dispatch));
    });

    app.get<{ Querystring: { state?: DispatchState; limit: number } }>('/dispatches', {
      config: { role: 'viewer' },
      schema: {
        tags: ['dispatch'],
        summary: 'Dispatches, newest first',
        querystring: { type: 'object', properties: { state: { type: 'string', enum: [...DISPATCH_STATES] }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
        response: { 200: { type: 'object', properties: { dispatches: { type: 'array', items: dispatchSchema } } } },
      },
    }, async (req) => ({ dispatches: (await deps.dispatcher.list(req.query.state ?? null, req.query.limit)).map(present) }));

    app.get<{ Params: { id: string } }>('/dispatches/:id', {
      config: { role: 'viewer' },
      schema: { tags: ['dispatch'], response: { 200: dispatchSchema, 404: errorSchema } },
    }, async (req) => {
      const d = await deps.dispatcher.get(req.params.id);
      if (!d) throw new ApiError('DISPATCH_NOT_FOUND', `no dispatch ${req.params.id}`);
      return present(d);
    });

    app.patch<{ Params: { id: string }; Body: { state: DispatchState } }>('/dispatches/:id', {
      config: { role: 'dispatcher' },
      schema: {
        tags: ['dispatch'],
        summary: 'Move a dispatch on: en_route, on_scene, closed or cancelled; closing or cancelling makes the vehicle available',
        body: { type: 'object', required: ['state'], additionalProperties: false, properties: { state: { type: 'string', enum: ['en_route', 'on_scene', 'closed', 'cancelled'] } } },
        response: { 200: dispatchSchema, 404: errorSchema, 409: errorSchema },
      },
    }, async (req) => {
      try {
        return present(await deps.dispatcher.transition(req.params.id, req.body.state, req.operator?.id ?? null));
      } catch (err) {
        if (err instanceof DispatchNotFoundError) throw new ApiError('DISPATCH_NOT_FOUND', `no dispatch ${req.params.id}`);
        if (err instanceof InvalidTransitionError) throw new ApiError('INVALID_TRANSITION', err.message);
        throw err;
      }
    });
  };
