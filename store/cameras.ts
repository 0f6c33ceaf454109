// SQL for the CCTV camera registry.
import type { Db } from './db.ts';

export interface CameraRow {
  id: string;
  name: string;
  lat: number;
  lon: number;
  rtspUrl: string;
  createdAt: number;
}

const COLUMNS = `id, name, lat, lon, rtsp_url AS "rtspUrl", (extract(epoch FROM created_at) * 1000)::float8 AS "createdAt"`;

export async function listCameras(db: Db): Promise<CameraRow[]> {
  return db.query<CameraRow>(`SELECT ${COLUMNS} FROM cameras ORDER BY id`);
}

/** Inserts a camera; null when the id is taken. */
export async function insertCamera(db: Db, c: Omit<CameraRow, 'createdAt'>): Promise<CameraRow | null> {
  const [row] = await db.query<CameraRow>(
    `INSERT INTO cameras (id, name, lat, lon, rtsp_url) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
    [c.id, c.name, c.lat, c.lon, c.rtspUrl],
  );
  return row ?? null;
}

export async function deleteCamera(db: Db, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM cameras WHERE id = $1 RETURNING id', [id])).length > 0;
}
