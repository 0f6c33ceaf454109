// History queries over the hypertables.
import type { Db } from './db.ts';

export interface TrackPoint {
  ts: number;
  lat: number;
  lon: number;
  speed_kmh: number | null;
  heading: number | null;
}

export async function track(db: Db, deviceId: string, fromMs: number, toMs: number, limit: number): Promise<TrackPoint[]> {
  return db.query<TrackPoint>(
    `SELECT (extract(epoch FROM time) * 1000)::float8 AS ts, lat, lon, speed_kmh, heading
     FROM vehicle_positions WHERE device_id = $1 AND time >= to_timestamp($2 / 1000.0) AND time <= to_timestamp($3 / 1000.0)
     ORDER BY time LIMIT $4`,
    [deviceId, fromMs, toMs, limit],
  );
}

export interface RawReading {
  ts: number;
  metric: string;
  value: number;
  lat: number | null;
  lon: number | null;
}

export async function readings(db: Db, deviceId: string, metric: string | null, fromMs: number, toMs: number, limit: number): Promise<RawReading[]> {
  return db.query<RawReading>(
    `SELECT (extract(epoch FROM time) * 1000)::float8 AS ts, metric, value, lat, lon
     FROM sensor_readings WHERE device_id = $1 AND ($2::text IS NULL OR metric = $2)
       AND time >= to_timestamp($3 / 1000.0) AND time <= to_timestamp($4 / 1000.0)
     ORDER BY time, metric LIMIT $5`,
    [deviceId, metric, fromMs, toMs, limit],
  );
}

export interface Bucket {
  ts: number;
  metric: string;
  avg: number;
  min: number;
  max: number;
  count: number;
}

const FIVE_MINUTES_S = 300;

/** Buckets of `bucketS` seconds: from the 5-minute continuous aggregate when the size is 5 minutes, else computed on the raw rows. */
export async function readingBuckets(db: Db, deviceId: string, metric: string | null, fromMs: number, toMs: number, bucketS: number): Promise<Bucket[]> {
  const params = [deviceId, metric, fromMs, toMs];
  if (bucketS === FIVE_MINUTES_S) {
    return db.query<Bucket>(
      `SELECT (extract(epoch FROM bucket) * 1000)::float8 AS ts, metric, avg, min, max, count
       FROM sensor_readings_5m WHERE device_id = $1 AND ($2::text IS NULL OR metric = $2)
         AND bucket >= time_bucket(INTERVAL '5 minutes', to_timestamp($3 / 1000.0)) AND bucket <= to_timestamp($4 / 1000.0)
       ORDER BY bucket, metric`,
      params,
    );
  }
  return db.query<Bucket>(
    `SELECT (extract(epoch FROM b) * 1000)::float8 AS ts, metric, avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
     FROM (SELECT time_bucket(make_interval(secs => $5), time) AS b, metric, value FROM sensor_readings
           WHERE device_id = $1 AND ($2::text IS NULL OR metric = $2)
             AND time >= to_timestamp($3 / 1000.0) AND time <= to_timestamp($4 / 1000.0)) x
     GROUP BY b, metric ORDER BY b, metric`,
    [...params, bucketS],
  );
}
