// Embedded mode runs TimescaleDB's policy jobs itself (PGlite has no background workers):
// compression, retention and the continuous aggregate's refresh, with intervals from config.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine/engine.ts';
import { startTestEngine } from './helpers/engine.ts';
import { startJobRunner } from '../store/jobs.ts';
import { silentLogger } from '../engine/log.ts';

let engine: Engine;
const DAY = 86_400_000;

beforeAll(async () => {
  engine = await startTestEngine({ compressAfterDays: 2, retentionDays: 30 }, false);
});
afterAll(async () => {
  await engine?.close();
});

describe('policy jobs on the embedded database', () => {
  it('sets the policies from config', async () => {
    const jobs = await engine.db.query<{ proc_name: string; hypertable_name: string; config: Record<string, unknown> }>(
      `SELECT proc_name, hypertable_name, config FROM timescaledb_information.jobs WHERE job_id >= 1000 ORDER BY proc_name, hypertable_name`,
    );
    const compression = jobs.filter((j) => j.proc_name === 'policy_compression').map((j) => [j.hypertable_name, j.config.compress_after]);
    expect(compression).toEqual([['sensor_readings', '2 days'], ['vehicle_positions', '2 days']]);
    const retention = jobs.filter((j) => j.proc_name === 'policy_retention').map((j) => [j.hypertable_name, j.config.drop_after]);
    expect(retention).toEqual([['alerts', '30 days'], ['delivery_attempts', '30 days'], ['geofence_events', '30 days'], ['sensor_readings', '30 days'], ['vehicle_positions', '30 days'], ['vehicle_status_reports', '30 days']]);
    expect(jobs.some((j) => j.proc_name === 'policy_refresh_continuous_aggregate')).toBe(true);
  });

  it('compresses old chunks, drops expired ones and refreshes the 5-minute aggregate when due', async () => {
    const now = Date.now();
    const at = (daysAgo: number) => now - daysAgo * DAY;
    await engine.db.query(
      `INSERT INTO vehicle_positions (device_id, time, lat, lon) SELECT 'amb-1', to_timestamp(t / 1000.0), -6.2, 106.8 FROM unnest($1::float8[]) t`,
      [[at(40), at(10), at(5), at(0.01)]],
    );
    await engine.db.query(
      `INSERT INTO sensor_readings (device_id, metric, time, value) SELECT 'katulampa', 'water_level_cm', to_timestamp(t / 1000.0), 100 FROM unnest($1::float8[]) t`,
      [[at(1), at(1) + 60_000, at(1) + 120_000]],
    );
    const runner = startJobRunner(engine.db, 3_600_000, silentLogger);
    const ran = await runner.runDue();
    runner.stop();
    expect(ran.length).toBeGreaterThanOrEqual(6);
    const chunks = await engine.db.query<{ range_end: Date; is_compressed: boolean }>(
      `SELECT range_end, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'vehicle_positions' ORDER BY range_end`,
    );
    expect(chunks.map((c) => c.is_compressed)).toEqual([true, true, false]); // 10 and 5 days old compressed; the 40-day chunk dropped
    const [{ n }] = (await engine.db.query<{ n: number }>(`SELECT count(*) AS n FROM vehicle_positions`)) as [{ n: number }];
    expect(n).toBe(3);
    // the refresh ran: the day-old readings are materialized, not only computed on the fly
    const [watermark] = await engine.db.query<{ ms: number }>(
      `SELECT (extract(epoch FROM _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(id))) * 1000)::float8 AS ms
       FROM _timescaledb_catalog.hypertable WHERE id = (SELECT mat_hypertable_id FROM _timescaledb_catalog.continuous_agg WHERE user_view_name = 'sensor_readings_5m')`,
    );
    expect(watermark!.ms).toBeGreaterThan(at(1));
    const buckets = await engine.db.query<{ count: number }>(`SELECT count FROM sensor_readings_5m WHERE device_id = 'katulampa'`);
    expect(buckets.reduce((s, b) => s + Number(b.count), 0)).toBe(3);
  });

  it('keeps its one connection usable after an SQL error', async () => {
    await expect(engine.db.query('SELECT * FROM no_such_table')).rejects.toThrow(/does not exist/);
    await expect(engine.db.query('SELECT 1 AS x WHERE 1 = $1', [1])).resolves.toEqual([{ x: 1 }]);
    await expect(engine.db.query('INSERT INTO devices (id) VALUES ($1)', ['x'])).rejects.toThrow(/null value/);
    await expect(engine.db.query('SELECT 2 AS x')).resolves.toEqual([{ x: 2 }]);
  });
});
