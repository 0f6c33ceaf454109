// SQL for early warning: sensor thresholds, alerts, subscribers and the delivery outbox.
// An alert change and the deliveries it causes are written by one statement, so a crash never
// leaves an alert raised with nobody told, nor a delivery for an alert that was never stored.
import type { Db } from './db.ts';

export type AlertState = 'active' | 'resolved';

export interface AlertRow {
  id: string;
  kind: string;
  sourceId: string;
  level: string;
  value: number | null;
  unit: string | null;
  state: AlertState;
  message: string;
  details: Record<string, unknown>;
  raisedAt: number;
  updatedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
}

export type DeliveryChannel = 'mqtt' | 'webhook';
export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  subscriberId: string;
  alertId: string;
  channel: DeliveryChannel;
  /** what happened to the alert: raised, escalated, de-escalated, updated, resolved */
  event: string;
  payload: Record<string, unknown>;
  state: DeliveryState;
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
  deliveredAt: number | null;
  lastError: string | null;
}

export interface AttemptRow {
  deliveryId: string;
  subscriberId: string;
  ts: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const ms = (col: string, as: string) => `(extract(epoch FROM ${col}) * 1000)::float8 AS "${as}"`;

const ALERT_COLUMNS = `id, kind, source_id AS "sourceId", level, value, unit, state, message, details,
  ${ms('raised_at', 'raisedAt')}, ${ms('updated_at', 'updatedAt')}, ${ms('acknowledged_at', 'acknowledgedAt')},
  acknowledged_by AS "acknowledgedBy", ${ms('resolved_at', 'resolvedAt')}`;

const DELIVERY_COLUMNS = `id, subscriber_id AS "subscriberId", alert_id AS "alertId", channel, event, payload, state, attempts,
  ${ms('created_at', 'createdAt')}, ${ms('next_attempt_at', 'nextAttemptAt')}, ${ms('delivered_at', 'deliveredAt')}, last_error AS "lastError"`;

/** Upserts alert rows and inserts the deliveries they cause, in one statement. */
export async function commitAlerts(db: Db, alerts: readonly AlertRow[], deliveries: readonly DeliveryRow[]): Promise<void> {
  const a = alerts.map((r) => ({
    id: r.id, kind: r.kind, source_id: r.sourceId, level: r.level, value: r.value, unit: r.unit, state: r.state, message: r.message, details: r.details,
    raised_at: iso(r.raisedAt), updated_at: iso(r.updatedAt), acknowledged_at: iso(r.acknowledgedAt), acknowledged_by: r.acknowledgedBy, resolved_at: iso(r.resolvedAt),
  }));
  const d = deliveries.map((r) => ({
    id: r.id, subscriber_id: r.subscriberId, alert_id: r.alertId, channel: r.channel, event: r.event, payload: r.payload, state: r.state,
    attempts: r.attempts, created_at: iso(r.createdAt), next_attempt_at: iso(r.nextAttemptAt),
  }));
  await db.query(
    `WITH a AS (
       INSERT INTO alerts (id, kind, source_id, level, value, unit, state, message, details, raised_at, updated_at, acknowledged_at, acknowledged_by, resolved_at)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, kind text, source_id text, level text, value float8, unit text, state text, message text,
         details jsonb, raised_at timestamptz, updated_at timestamptz, acknowledged_at timestamptz, acknowledged_by text, resolved_at timestamptz)
       ON CONFLICT (id, raised_at) DO UPDATE SET level = EXCLUDED.level, value = EXCLUDED.value, unit = EXCLUDED.unit, state = EXCLUDED.state,
         message = EXCLUDED.message, details = EXCLUDED.details, updated_at = EXCLUDED.updated_at, acknowledged_at = EXCLUDED.acknowledged_at,
         acknowledged_by = EXCLUDED.acknowledged_by, resolved_at = EXCLUDED.resolved_at
       RETURNING 1
     ), d AS (
       INSERT INTO deliveries (id, subscriber_id, alert_id, channel, event, payload, state, attempts, created_at, next_attempt_at)
       SELECT * FROM jsonb_to_recordset($2::jsonb) AS y(id text, subscriber_id text, alert_id text, channel text, event text, payload jsonb, state text,
         attempts integer, created_at timestamptz, next_attempt_at timestamptz)
       ON CONFLICT (id) DO NOTHING
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM a) AS alerts, (SELECT count(*) FROM d) AS deliveries`,
    [JSON.stringify(a), JSON.stringify(d)],
  );
}

export async function openAlerts(db: Db): Promise<AlertRow[]> {
  return db.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE state = 'active' ORDER BY raised_at`);
}

export async function getAlert(db: Db, id: string): Promise<AlertRow | null> {
  const [row] = await db.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1 ORDER BY raised_at DESC LIMIT 1`, [id]);
  return row ?? null;
}

export interface AlertQuery {
  state: AlertState | null;
  kind: string | null;
  sourceId: string | null;
  from: number;
  to: number;
  limit: number;
}

export async function listAlerts(db: Db, q: AlertQuery): Promise<AlertRow[]> {
  return db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts
     WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR source_id = $3)
       AND raised_at <= $5 AND (raised_at >= $4 OR state = 'active')
     ORDER BY raised_at DESC LIMIT $6`,
    [q.state, q.kind, q.sourceId, iso(q.from), iso(q.to), q.limit],
  );
}

// Thresholds: the body of PUT /sensors/{id}/thresholds, kept as given.
export interface ThresholdRow {
  sensorId: string;
  metric: string;
  config: Record<string, unknown>;
}

export async function listThresholds(db: Db): Promise<ThresholdRow[]> {
  return db.query<ThresholdRow>(`SELECT sensor_id AS "sensorId", metric, config FROM sensor_thresholds ORDER BY sensor_id, metric`);
}

export async function putThreshold(db: Db, t: ThresholdRow): Promise<void> {
  await db.query(
    `INSERT INTO sensor_thresholds (sensor_id, metric, config) VALUES ($1, $2, $3)
     ON CONFLICT (sensor_id, metric) DO UPDATE SET config = EXCLUDED.config, updated_at = now()`,
    [t.sensorId, t.metric, JSON.stringify(t.config)],
  );
}

export async function deleteThresholds(db: Db, sensorId: string): Promise<void> {
  await db.query(`DELETE FROM sensor_thresholds WHERE sensor_id = $1`, [sensorId]);
}

// Subscribers.
export interface SubscriberRow {
  id: string;
  name: string;
  area: Record<string, unknown>;
  radiusM: number | null;
  kinds: string[];
  minLevel: string | null;
  webhookUrl: string | null;
  webhookSecret: string | null;
  tokenHash: string;
  createdAt: number;
}

const SUBSCRIBER_COLUMNS = `id, name, area, radius_m AS "radiusM", kinds, min_level AS "minLevel", webhook_url AS "webhookUrl",
  webhook_secret AS "webhookSecret", token_hash AS "tokenHash", ${ms('created_at', 'createdAt')}`;

export async function listSubscribers(db: Db): Promise<SubscriberRow[]> {
  return db.query<SubscriberRow>(`SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers ORDER BY id`);
}

export async function insertSubscriber(db: Db, s: Omit<SubscriberRow, 'createdAt'>): Promise<SubscriberRow> {
  const [row] = await db.query<SubscriberRow>(
    `INSERT INTO subscribers (id, name, area, radius_m, kinds, min_level, webhook_url, webhook_secret, token_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${SUBSCRIBER_COLUMNS}`,
    [s.id, s.name, JSON.stringify(s.area), s.radiusM, s.kinds, s.minLevel, s.webhookUrl, s.webhookSecret, s.tokenHash],
  );
  return row!;
}

/** Many at once (benchmarks and imports): one statement. */
export async function insertSubscribers(db: Db, rows: ReadonlyArray<Omit<SubscriberRow, 'createdAt'>>): Promise<void> {
  const json = rows.map((s) => ({
    id: s.id, name: s.name, area: s.area, radius_m: s.radiusM, kinds: s.kinds, min_level: s.minLevel, webhook_url: s.webhookUrl, webhook_secret: s.webhookSecret, token_hash: s.tokenHash,
  }));
  await db.query(
    `INSERT INTO subscribers (id, name, area, radius_m, kinds, min_level, webhook_url, webhook_secret, token_hash)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, name text, area jsonb, radius_m float8, kinds text[], min_level text, webhook_url text, webhook_secret text, token_hash text)`,
    [JSON.stringify(json)],
  );
}

export async function deleteSubscriber(db: Db, id: string): Promise<boolean> {
  const rows = await db.query(
    `WITH d AS (DELETE FROM deliveries WHERE subscriber_id = $1 AND state = 'pending') DELETE FROM subscribers WHERE id = $1 RETURNING id`,
    [id],
  );
  return rows.length > 0;
}

// The outbox.
export async function pendingDeliveries(db: Db): Promise<DeliveryRow[]> {
  return db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE state = 'pending' ORDER BY created_at`);
}

export async function subscriberDeliveries(db: Db, subscriberId: string, limit: number): Promise<Array<DeliveryRow & { attemptLog: AttemptRow[] }>> {
  return db.query(
    `SELECT ${DELIVERY_COLUMNS},
       COALESCE((SELECT jsonb_agg(jsonb_build_object('ts', (extract(epoch FROM t.time) * 1000)::float8, 'ok', t.ok, 'statusCode', t.status_code,
           'error', t.error, 'durationMs', t.duration_ms) ORDER BY t.time)
         FROM delivery_attempts t WHERE t.delivery_id = d.id AND t.subscriber_id = d.subscriber_id), '[]'::jsonb) AS "attemptLog"
     FROM deliveries d WHERE subscriber_id = $1 ORDER BY created_at DESC LIMIT $2`,
    [subscriberId, limit],
  );
}

export interface DeliveryUpdate {
  id: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number;
  deliveredAt: number | null;
  lastError: string | null;
}

/** Records attempts and the deliveries' new state, in one statement. */
export async function recordAttempts(db: Db, updates: readonly DeliveryUpdate[], attempts: readonly AttemptRow[]): Promise<void> {
  const u = updates.map((x) => ({ id: x.id, state: x.state, attempts: x.attempts, next_attempt_at: iso(x.nextAttemptAt), delivered_at: iso(x.deliveredAt), last_error: x.lastError }));
  const t = attempts.map((x) => ({ delivery_id: x.deliveryId, subscriber_id: x.subscriberId, time: iso(x.ts), ok: x.ok, status_code: x.statusCode, error: x.error, duration_ms: x.durationMs }));
  await db.query(
    `WITH u AS (
       UPDATE deliveries d SET state = x.state, attempts = x.attempts, next_attempt_at = x.next_attempt_at, delivered_at = x.delivered_at, last_error = x.last_error
       FROM jsonb_to_recordset($1::jsonb) AS x(id text, state text, attempts integer, next_attempt_at timestamptz, delivered_at timestamptz, last_error text)
       WHERE d.id = x.id AND d.state = 'pending'
       RETURNING 1
     ), t AS (
       INSERT INTO delivery_attempts (delivery_id, subscriber_id, time, ok, status_code, error, duration_ms)
       SELECT * FROM jsonb_to_recordset($2::jsonb) AS y(delivery_id text, subscriber_id text, time timestamptz, ok boolean, status_code integer, error text, duration_ms float8)
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM u) AS updated, (SELECT count(*) FROM t) AS attempts`,
    [JSON.stringify(u), JSON.stringify(t)],
  );
}
