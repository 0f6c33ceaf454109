// SQL for dispatches. A reservation and the vehicle's status change are one statement.
import type { Db } from './db.ts';

export const OPEN_STATES = ['dispatched', 'en_route', 'on_scene'] as const;
export const DISPATCH_STATES = [...OPEN_STATES, 'closed', 'cancelled'] as const;
export type DispatchState = (typeof DISPATCH_STATES)[number];

export interface DispatchRow {
  id: string;
  type: string;
  lat: number;
  lon: number;
  note: string | null;
  vehicleId: string;
  state: DispatchState;
  distanceM: number;
  etaS: number;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  history: Array<{ state: DispatchState; ts: string; by: string | null }>;
}

const COLUMNS = `id, type, lat, lon, note, vehicle_id AS "vehicleId", state, distance_m AS "distanceM", eta_s AS "etaS", created_by AS "createdBy",
  (extract(epoch FROM created_at) * 1000)::float8 AS "createdAt", (extract(epoch FROM updated_at) * 1000)::float8 AS "updatedAt",
  (extract(epoch FROM closed_at) * 1000)::float8 AS "closedAt", history`;

export class VehicleAlreadyReservedError extends Error {}

/** Inserts the dispatch and marks the vehicle dispatched; throws VehicleAlreadyReservedError if it has an open dispatch. */
export async function insertDispatch(db: Db, d: Omit<DispatchRow, 'createdAt' | 'updatedAt' | 'closedAt' | 'history'>): Promise<DispatchRow> {
  try {
    const [row] = await db.query<DispatchRow>(
      `WITH d AS (
         INSERT INTO dispatches (id, type, lat, lon, note, vehicle_id, state, distance_m, eta_s, created_by, history)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, jsonb_build_array(jsonb_build_object('state', $7::text, 'ts', now(), 'by', $10::text)))
         RETURNING *
       ), v AS (
         UPDATE devices SET status = 'dispatched', status_ts = now(), updated_at = now() WHERE id = $6 RETURNING 1
       )
       SELECT ${COLUMNS} FROM d`,
      [d.id, d.type, d.lat, d.lon, d.note, d.vehicleId, d.state, d.distanceM, d.etaS, d.createdBy],
    );
    return row!;
  } catch (err) {
    if ((err as { code?: string }).code === '23505' && /dispatches_one_open_per_vehicle/.test((err as Error).message)) throw new VehicleAlreadyReservedError(d.vehicleId);
    throw err;
  }
}

/** Moves a dispatch to `state` (the caller checked the transition) and sets the vehicle's status with it. */
export async function updateDispatchState(db: Db, id: string, state: DispatchState, vehicleStatus: string, by: string | null): Promise<DispatchRow | null> {
  const [row] = await db.query<DispatchRow>(
    `WITH d AS (
       UPDATE dispatches SET state = $2, updated_at = now(),
         closed_at = CASE WHEN $2 IN ('closed', 'cancelled') THEN now() ELSE closed_at END,
         history = history || jsonb_build_array(jsonb_build_object('state', $2::text, 'ts', now(), 'by', $4::text))
       WHERE id = $1 RETURNING *
     ), v AS (
       UPDATE devices SET status = $3, status_ts = now(), updated_at = now() WHERE id = (SELECT vehicle_id FROM d) RETURNING 1
     )
     SELECT ${COLUMNS} FROM d`,
    [id, state, vehicleStatus, by],
  );
  return row ?? null;
}

export async function listDispatches(db: Db, state: DispatchState | null, limit: number): Promise<DispatchRow[]> {
  return db.query<DispatchRow>(`SELECT ${COLUMNS} FROM dispatches WHERE ($1::text IS NULL OR state = $1) ORDER BY created_at DESC LIMIT $2`, [state, limit]);
}

export async function openDispatches(db: Db): Promise<DispatchRow[]> {
  return db.query<DispatchRow>(`SELECT ${COLUMNS} FROM dispatches WHERE state IN ('dispatched', 'en_route', 'on_scene')`);
}

export async function getDispatch(db: Db, id: string): Promise<DispatchRow | null> {
  const [row] = await db.query<DispatchRow>(`SELECT ${COLUMNS} FROM dispatches WHERE id = $1`, [id]);
  return row ?? null;
}
