// SQL for geofences and their events.
import type { Db } from './db.ts';
import type { FenceInput } from '../geo/fence-validate.ts';
import type { FenceEvent, FenceEventType } from '../geo/fence-tracker.ts';

export interface StoredFence {
  id: string;
  fence: FenceInput;
  /** the Feature's other properties, kept as given */
  properties: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

interface RawFence {
  id: string;
  name: string;
  kind: string | null;
  applies_to: string[] | null;
  dwell_s: number | null;
  geometry: FenceInput['geometry'];
  properties: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

const COLUMNS = `id, name, kind, applies_to, dwell_s, geometry, properties,
  (extract(epoch FROM created_at) * 1000)::float8 AS created_at, (extract(epoch FROM updated_at) * 1000)::float8 AS updated_at`;

const fromRaw = (r: RawFence): StoredFence => ({
  id: r.id,
  fence: { geometry: r.geometry, name: r.name, kind: r.kind, appliesTo: r.applies_to as FenceInput['appliesTo'], dwellS: r.dwell_s },
  properties: r.properties,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function listFences(db: Db): Promise<StoredFence[]> {
  return (await db.query<RawFence>(`SELECT ${COLUMNS} FROM geofences ORDER BY id`)).map(fromRaw);
}

/** Inserts or replaces; returns the stored fence. */
export async function upsertFence(db: Db, id: string, fence: FenceInput, properties: Record<string, unknown>): Promise<StoredFence> {
  const [row] = await db.query<RawFence>(
    `INSERT INTO geofences (id, name, kind, applies_to, dwell_s, geometry, properties) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, applies_to = EXCLUDED.applies_to, dwell_s = EXCLUDED.dwell_s,
       geometry = EXCLUDED.geometry, properties = EXCLUDED.properties, updated_at = now()
     RETURNING ${COLUMNS}`,
    [id, fence.name, fence.kind, fence.appliesTo, fence.dwellS, JSON.stringify(fence.geometry), JSON.stringify(properties)],
  );
  return fromRaw(row!);
}

export async function deleteFence(db: Db, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM geofences WHERE id = $1 RETURNING id', [id])).length > 0;
}

/** A transition as stored and published: the tracker's event with its id. */
export interface FenceEventRow extends FenceEvent {
  id: string;
}

export async function fenceEvents(db: Db, fenceId: string, fromMs: number, toMs: number, type: FenceEventType | null, limit: number): Promise<FenceEventRow[]> {
  return db.query<FenceEventRow>(
    `SELECT id, fence_id AS "fenceId", vehicle_id AS "vehicleId", type, (extract(epoch FROM time) * 1000)::float8 AS ts, lat, lon
     FROM geofence_events WHERE fence_id = $1 AND time >= to_timestamp($2 / 1000.0) AND time <= to_timestamp($3 / 1000.0) AND ($4::text IS NULL OR type = $4)
     ORDER BY time, id LIMIT $5`,
    [fenceId, fromMs, toMs, type, limit],
  );
}

/** Per (fence, vehicle) with events in the window: the last enter, and whether a dwell and an exit followed it. */
export async function lastVisits(db: Db, sinceMs: number): Promise<Array<{ fenceId: string; vehicleId: string; enteredTs: number; dwelled: boolean; exited: boolean }>> {
  return db.query(
    `SELECT fence_id AS "fenceId", vehicle_id AS "vehicleId", (extract(epoch FROM entered) * 1000)::float8 AS "enteredTs",
            coalesce(dwelled_at >= entered, false) AS dwelled, coalesce(exited_at >= entered, false) AS exited
     FROM (SELECT fence_id, vehicle_id, max(time) FILTER (WHERE type = 'enter') AS entered,
                  max(time) FILTER (WHERE type = 'dwell') AS dwelled_at, max(time) FILTER (WHERE type = 'exit') AS exited_at
           FROM geofence_events WHERE time >= to_timestamp($1 / 1000.0) GROUP BY fence_id, vehicle_id) v
     WHERE entered IS NOT NULL`,
    [sinceMs],
  );
}
