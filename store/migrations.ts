// Schema migrations: applied in order, once each, the same on the embedded database and a server.
// Policies whose intervals come from config are (re)applied on every start by applyPolicies.
import type { Db } from './db.ts';
import type { Config } from '../engine/config.ts';

interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'devices, operators and the position/reading hypertables',
    sql: `
      CREATE EXTENSION IF NOT EXISTS timescaledb;

      CREATE TABLE devices (
        id text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('vehicle', 'sensor')),
        type text NOT NULL,
        name text,
        lat double precision,
        lon double precision,
        owntracks text UNIQUE,
        meta jsonb NOT NULL DEFAULT '{}',
        token_hash text NOT NULL,
        status text NOT NULL DEFAULT 'available',
        status_ts timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE operators (
        id text PRIMARY KEY,
        role text NOT NULL CHECK (role IN ('admin', 'dispatcher', 'viewer')),
        token_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE vehicle_positions (
        device_id text NOT NULL,
        time timestamptz NOT NULL,
        lat double precision NOT NULL,
        lon double precision NOT NULL,
        speed_kmh real,
        heading real,
        accuracy_m real,
        seq bigint,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (device_id, time)
      );
      SELECT create_hypertable('vehicle_positions', by_range('time', INTERVAL '1 day'));
      ALTER TABLE vehicle_positions SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = 'time DESC');

      CREATE TABLE sensor_readings (
        device_id text NOT NULL,
        metric text NOT NULL,
        time timestamptz NOT NULL,
        value double precision NOT NULL,
        lat double precision,
        lon double precision,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (device_id, metric, time)
      );
      SELECT create_hypertable('sensor_readings', by_range('time', INTERVAL '7 days'));
      ALTER TABLE sensor_readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id, metric', timescaledb.compress_orderby = 'time DESC');

      CREATE TABLE vehicle_status_reports (
        device_id text NOT NULL,
        time timestamptz NOT NULL,
        status text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (device_id, time)
      );
      SELECT create_hypertable('vehicle_status_reports', by_range('time', INTERVAL '30 days'));

      -- 5-minute sensor buckets; real-time aggregation so the newest bucket is never missing.
      CREATE MATERIALIZED VIEW sensor_readings_5m WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT device_id, metric, time_bucket(INTERVAL '5 minutes', time) AS bucket,
               avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS count
        FROM sensor_readings GROUP BY device_id, metric, bucket WITH NO DATA;
    `,
  },
  {
    id: 2,
    name: 'dispatches',
    sql: `
      CREATE TABLE dispatches (
        id text PRIMARY KEY,
        type text NOT NULL,
        lat double precision NOT NULL,
        lon double precision NOT NULL,
        note text,
        vehicle_id text NOT NULL,
        state text NOT NULL CHECK (state IN ('dispatched', 'en_route', 'on_scene', 'closed', 'cancelled')),
        distance_m double precision NOT NULL,
        eta_s integer NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        history jsonb NOT NULL DEFAULT '[]'
      );
      -- The database's own guarantee that no vehicle is reserved twice, whichever node reserves it.
      CREATE UNIQUE INDEX dispatches_one_open_per_vehicle ON dispatches (vehicle_id) WHERE state IN ('dispatched', 'en_route', 'on_scene');
      CREATE INDEX dispatches_by_state ON dispatches (state, created_at DESC);
    `,
  },
  {
    id: 3,
    name: 'geofences and their events',
    sql: `
      CREATE TABLE geofences (
        id text PRIMARY KEY,
        name text NOT NULL,
        kind text,
        applies_to text[],
        dwell_s integer,
        geometry jsonb NOT NULL,
        properties jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE geofence_events (
        id text NOT NULL,
        fence_id text NOT NULL,
        vehicle_id text NOT NULL,
        type text NOT NULL CHECK (type IN ('enter', 'exit', 'dwell')),
        time timestamptz NOT NULL,
        lat double precision NOT NULL,
        lon double precision NOT NULL,
        PRIMARY KEY (fence_id, time, id)
      );
      SELECT create_hypertable('geofence_events', by_range('time', INTERVAL '7 days'));
      CREATE INDEX geofence_events_by_vehicle ON geofence_events (vehicle_id, time DESC);
    `,
  },
  {
    id: 4,
    name: 'early warning: thresholds, alerts, subscribers and the delivery outbox',
    sql: `
      CREATE TABLE sensor_thresholds (
        sensor_id text NOT NULL,
        metric text NOT NULL,
        config jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sensor_id, metric)
      );

      -- One row per alert; its lifecycle (acknowledged, level changes, resolved) updates the row.
      CREATE TABLE alerts (
        id text NOT NULL,
        kind text NOT NULL,
        source_id text NOT NULL,
        level text NOT NULL,
        value double precision,
        unit text,
        state text NOT NULL CHECK (state IN ('active', 'resolved')),
        message text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        raised_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        acknowledged_at timestamptz,
        acknowledged_by text,
        resolved_at timestamptz,
        PRIMARY KEY (id, raised_at)
      );
      SELECT create_hypertable('alerts', by_range('raised_at', INTERVAL '30 days'));
      CREATE INDEX alerts_by_source ON alerts (kind, source_id, raised_at DESC);
      CREATE INDEX alerts_active ON alerts (raised_at DESC) WHERE state = 'active';

      CREATE TABLE subscribers (
        id text PRIMARY KEY,
        name text NOT NULL,
        area jsonb NOT NULL,
        radius_m double precision,
        kinds text[] NOT NULL,
        min_level text,
        webhook_url text,
        webhook_secret text,
        token_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      -- The outbox: written in the same statement as the alert change it carries.
      CREATE TABLE deliveries (
        id text PRIMARY KEY,
        subscriber_id text NOT NULL,
        alert_id text NOT NULL,
        channel text NOT NULL CHECK (channel IN ('mqtt', 'webhook')),
        event text NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        delivered_at timestamptz,
        last_error text
      );
      CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
      CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id, created_at DESC);

      CREATE TABLE delivery_attempts (
        delivery_id text NOT NULL,
        subscriber_id text NOT NULL,
        time timestamptz NOT NULL,
        ok boolean NOT NULL,
        status_code integer,
        error text,
        duration_ms double precision
      );
      SELECT create_hypertable('delivery_attempts', by_range('time', INTERVAL '7 days'));
      CREATE INDEX delivery_attempts_by_subscriber ON delivery_attempts (subscriber_id, time DESC);
    `,
  },
  {
    id: 5,
    name: 'cctv cameras',
    sql: `
      CREATE TABLE cameras (
        id text PRIMARY KEY,
        name text NOT NULL,
        lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
        lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
        rtsp_url text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

export async function migrate(db: Db): Promise<number[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const done = new Set((await db.query<{ id: number }>('SELECT id FROM schema_migrations')).map((r) => r.id));
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.id)) continue;
    // One transaction per migration: a failed one leaves no half-built schema behind.
    await db.query(`BEGIN; ${m.sql}; INSERT INTO schema_migrations (id, name) VALUES (${m.id}, '${m.name.replace(/'/g, "''")}'); COMMIT;`).catch(async (err) => {
      await db.query('ROLLBACK').catch(() => undefined);
      throw new Error(`migration ${m.id} (${m.name}) failed: ${(err as Error).message}`);
    });
    applied.push(m.id);
  }
  return applied;
}

/** Compression, retention and aggregate refresh policies, set from config on every start. */
export async function applyPolicies(db: Db, config: Config): Promise<void> {
  const compressAfter = `${config.compressAfterDays} days`;
  const retain = `${config.retentionDays} days`;
  for (const table of ['vehicle_positions', 'sensor_readings']) {
    await db.query(`SELECT remove_compression_policy($1, if_exists => true)`, [table]);
    await db.query(`SELECT add_compression_policy($1, $2::interval)`, [table, compressAfter]);
  }
  for (const table of ['vehicle_positions', 'sensor_readings', 'vehicle_status_reports', 'geofence_events', 'alerts', 'delivery_attempts']) {
    await db.query(`SELECT remove_retention_policy($1, if_exists => true)`, [table]);
    await db.query(`SELECT add_retention_policy($1, $2::interval)`, [table, retain]);
  }
  await db.query(`SELECT remove_continuous_aggregate_policy('sensor_readings_5m', if_exists => true)`);
  await db.query(
    `SELECT add_continuous_aggregate_policy('sensor_readings_5m', start_offset => INTERVAL '2 days', end_offset => INTERVAL '5 minutes', schedule_interval => INTERVAL '5 minutes')`,
  );
}
