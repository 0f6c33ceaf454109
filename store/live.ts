// The newest rows, to rebuild the live picture at start (DESIGN.md: a restart answers at once).
import type { Db } from './db.ts';
import { METRIC_NAMES, type Metric, type VehicleStatus } from '../ingest/model.ts';

export interface LatestFixRow {
  id: string;
  type: string;
  status: VehicleStatus;
  lat: number;
  lon: number;
  ts: number;
  speed_kmh: number | null;
  heading: number | null;
  accuracy_m: number | null;
  seq: number | null;
}

export async function latestFixes(db: Db): Promise<LatestFixRow[]> {
  // One index probe per vehicle on (device_id, time), newest chunk first: no scan of history.
  return db.query<LatestFixRow>(`
    SELECT d.id, d.type, d.status, p.lat, p.lon, (extract(epoch FROM p.time) * 1000)::float8 AS ts,
           p.speed_kmh, p.heading, p.accuracy_m, p.seq
    FROM devices d
    CROSS JOIN LATERAL (
      SELECT lat, lon, time, speed_kmh, heading, accuracy_m, seq FROM vehicle_positions vp
      WHERE vp.device_id = d.id ORDER BY vp.time DESC LIMIT 1
    ) p
    WHERE d.kind = 'vehicle'`);
}

export interface LatestReadingRow {
  id: string;
  metric: Metric;
  value: number;
  ts: number;
  lat: number | null;
  lon: number | null;
}

export async function latestReadings(db: Db): Promise<LatestReadingRow[]> {
  return db.query<LatestReadingRow>(
    `
    SELECT d.id, m.metric, r.value, (extract(epoch FROM r.time) * 1000)::float8 AS ts, r.lat, r.lon
    FROM devices d
    CROSS JOIN unnest($1::text[]) AS m(metric)
    CROSS JOIN LATERAL (
      SELECT value, time, lat, lon FROM sensor_readings sr
      WHERE sr.device_id = d.id AND sr.metric = m.metric ORDER BY sr.time DESC LIMIT 1
    ) r
    WHERE d.kind = 'sensor'`,
    [METRIC_NAMES],
  );
}

/** Per-minute means of the air pollutants over the last day, to refill the rolling ISPU windows at start. */
export async function recentAirMinutes(db: Db, pollutants: readonly string[], sinceMs: number): Promise<Array<{ id: string; metric: string; ts: number; value: number }>> {
  return db.query(
    `SELECT device_id AS id, metric, (extract(epoch FROM time_bucket('1 minute', time)) * 1000)::float8 AS ts, avg(value) AS value
     FROM sensor_readings WHERE metric = ANY($1::text[]) AND time >= $2
     GROUP BY device_id, metric, time_bucket('1 minute', time) ORDER BY 3`,
    [pollutants, new Date(sinceMs).toISOString()],
  );
}
