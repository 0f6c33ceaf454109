// SQL for devices and operators. Only store/ speaks SQL.
import type { Db } from './db.ts';
import type { DeviceKind, VehicleStatus } from '../ingest/model.ts';

export interface DeviceRow {
  id: string;
  kind: DeviceKind;
  type: string;
  name: string | null;
  lat: number | null;
  lon: number | null;
  owntracks: string | null;
  meta: Record<string, unknown>;
  tokenHash: string;
  status: VehicleStatus;
  statusTs: number | null;
  createdAt: number;
  updatedAt: number;
}

const COLUMNS = `id, kind, type, name, lat, lon, owntracks, meta, token_hash, status,
  (extract(epoch FROM status_ts) * 1000)::float8 AS status_ts,
  (extract(epoch FROM created_at) * 1000)::float8 AS created_at,
  (extract(epoch FROM updated_at) * 1000)::float8 AS updated_at`;

interface RawDevice {
  id: string;
  kind: DeviceKind;
  type: string;
  name: string | null;
  lat: number | null;
  lon: number | null;
  owntracks: string | null;
  meta: Record<string, unknown>;
  token_hash: string;
  status: VehicleStatus;
  status_ts: number | null;
  created_at: number;
  updated_at: number;
}

const fromRaw = (r: RawDevice): DeviceRow => ({
  id: r.id,
  kind: r.kind,
  type: r.type,
  name: r.name,
  lat: r.lat,
  lon: r.lon,
  owntracks: r.owntracks,
  meta: r.meta,
  tokenHash: r.token_hash,
  status: r.status,
  statusTs: r.status_ts,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function listDevices(db: Db): Promise<DeviceRow[]> {
  return (await db.query<RawDevice>(`SELECT ${COLUMNS} FROM devices ORDER BY id`)).map(fromRaw);
}

export async function insertDevice(db: Db, d: Omit<DeviceRow, 'createdAt' | 'updatedAt' | 'statusTs'>): Promise<DeviceRow> {
  const [row] = await db.query<RawDevice>(
    `INSERT INTO devices (id, kind, type, name, lat, lon, owntracks, meta, token_hash, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
    [d.id, d.kind, d.type, d.name, d.lat, d.lon, d.owntracks, JSON.stringify(d.meta), d.tokenHash, d.status],
  );
  return fromRaw(row!);
}

export type DevicePatch = Partial<Pick<DeviceRow, 'type' | 'name' | 'lat' | 'lon' | 'owntracks' | 'meta' | 'tokenHash' | 'status'>>;

const PATCH_COLUMNS: Record<keyof DevicePatch, string> = {
  type: 'type',
  name: 'name',
  lat: 'lat',
  lon: 'lon',
  owntracks: 'owntracks',
  meta: 'meta',
  tokenHash: 'token_hash',
  status: 'status',
};

export async function updateDevice(db: Db, id: string, patch: DevicePatch): Promise<DeviceRow | null> {
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [key, value] of Object.entries(patch) as [keyof DevicePatch, unknown][]) {
    if (value === undefined) continue;
    params.push(key === 'meta' ? JSON.stringify(value) : value);
    sets.push(`${PATCH_COLUMNS[key]} = $${params.length}`);
  }
  if (patch.status !== undefined) sets.push('status_ts = now()');
  sets.push('updated_at = now()');
  const [row] = await db.query<RawDevice>(`UPDATE devices SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, params);
  return row ? fromRaw(row) : null;
}

export async function deleteDevice(db: Db, id: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM devices WHERE id = $1 RETURNING id', [id]);
  return rows.length > 0;
}

export interface OperatorRow {
  id: string;
  role: 'admin' | 'dispatcher' | 'viewer';
  tokenHash: string;
}

export async function listOperators(db: Db): Promise<OperatorRow[]> {
  return db.query<OperatorRow>(`SELECT id, role, token_hash AS "tokenHash" FROM operators ORDER BY id`);
}

export async function deleteOperator(db: Db, id: string): Promise<boolean> {
  const rows = await db.query('DELETE FROM operators WHERE id = $1 RETURNING id', [id]);
  return rows.length > 0;
}

export async function upsertOperator(db: Db, op: OperatorRow): Promise<void> {
  await db.query(
    `INSERT INTO operators (id, role, token_hash) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role, token_hash = EXCLUDED.token_hash`,
    [op.id, op.role, op.tokenHash],
  );
}
