// The batch writer: fixes, readings and status reports go to TimescaleDB in batches flushed by
// size or age, one statement per batch. write() resolves only after the batch that holds the
// rows has committed, which is what lets QoS 1 PUBACKs wait for durability (DESIGN.md).
import type { Db } from './db.ts';
import type { Fix, Reading, StatusReport } from '../ingest/model.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { Logger } from '../engine/log.ts';
import type { FenceEventRow } from './geofences.ts';

export interface WriteBatch {
  fixes: readonly Fix[];
  readings: readonly Reading[];
  statuses: readonly StatusReport[];
  /** geofence transitions derived from these fixes: committed with them */
  fenceEvents?: readonly FenceEventRow[];
}

export interface WriterOptions {
  maxRows: number;
  maxAgeMs: number;
  maxQueueRows: number;
}

// Duplicates (same device and ts) are absorbed by the primary keys: redelivery is harmless.
// A status report moves the device's current status only when it is newer than the last one.
const FLUSH_SQL = `
WITH p AS (
  INSERT INTO vehicle_positions (device_id, time, lat, lon, speed_kmh, heading, accuracy_m, seq)
  SELECT d, to_timestamp(t / 1000.0), la, lo, s, h, a, q
  FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::real[], $6::real[], $7::real[], $8::bigint[]) AS x(d, t, la, lo, s, h, a, q)
  ON CONFLICT DO NOTHING RETURNING 1
), r AS (
  INSERT INTO sensor_readings (device_id, metric, time, value, lat, lon)
  SELECT d, m, to_timestamp(t / 1000.0), v, la, lo
  FROM unnest($9::text[], $10::text[], $11::float8[], $12::float8[], $13::float8[], $14::float8[]) AS x(d, m, t, v, la, lo)
  ON CONFLICT DO NOTHING RETURNING 1
), s AS (
  INSERT INTO vehicle_status_reports (device_id, time, status)
  SELECT d, to_timestamp(t / 1000.0), st FROM unnest($15::text[], $16::float8[], $17::text[]) AS x(d, t, st)
  ON CONFLICT DO NOTHING RETURNING device_id, time, status
), u AS (
  UPDATE devices dev SET status = latest.status, status_ts = latest.time, updated_at = now()
  FROM (SELECT DISTINCT ON (device_id) device_id, time, status FROM s ORDER BY device_id, time DESC) latest
  WHERE dev.id = latest.device_id AND (dev.status_ts IS NULL OR dev.status_ts < latest.time)
  RETURNING 1
), e AS (
  INSERT INTO geofence_events (id, fence_id, vehicle_id, type, time, lat, lon)
  SELECT i, f, v, ty, to_timestamp(t / 1000.0), la, lo
  FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::float8[], $23::float8[], $24::float8[]) AS x(i, f, v, ty, t, la, lo)
  ON CONFLICT DO NOTHING RETURNING 1
)
SELECT (SELECT count(*) FROM p) AS positions, (SELECT count(*) FROM r) AS readings, (SELECT count(*) FROM s) AS statuses, (SELECT count(*) FROM e) AS events`;

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

const RETRY_DELAYS_MS = [100, 500, 2000];

interface QueuedWrite extends Waiter {
  batch: WriteBatch;
  rows: number;
}

export class BatchWriter {
  private queue: QueuedWrite[] = [];
  private pendingRows = 0;
  private inFlightRows = 0;
  private flushing = false;
  private timer: NodeJS.Timeout | null = null;
  /** publishes held for room, FIFO; a head index, because shift() on a long array is O(n) */
  private roomWaiters: Array<() => void> = [];
  private roomHead = 0;
  /** waiters let go whose rows have not arrived yet: counted as one row each against the room */
  private admittedAhead = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly db: Db,
    private readonly opts: WriterOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** rows accepted and not yet committed */
  get depth(): number {
    return this.pendingRows + this.inFlightRows;
  }

  /** false also while earlier publishes wait, so a newcomer never overtakes them */
  hasRoom(): boolean {
    return this.roomHead === this.roomWaiters.length && this.depth + this.admittedAhead < this.opts.maxQueueRows;
  }

  /** Resolves when the queue has room again: the caller holds its MQTT acks (and so its socket) meanwhile. */
  waitForRoom(): Promise<void> {
    if (this.hasRoom()) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Queues rows; resolves once they are committed. */
  write(batch: WriteBatch): Promise<void> {
    const rows = batch.fixes.length + batch.readings.length + batch.statuses.length + (batch.fenceEvents?.length ?? 0);
    if (rows === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.queue.push({ batch, rows, resolve, reject }));
    if (this.admittedAhead > 0) this.admittedAhead--;
    this.pendingRows += rows;
    this.metrics.queueRows.set(this.depth);
    if (!this.flushing) {
      if (this.pendingRows >= this.opts.maxRows) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.maxAgeMs);
    }
    return done;
  }

  /** Resolves when everything queued so far is committed (or failed). */
  drain(): Promise<void> {
    if (this.depth === 0 && !this.flushing) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (!this.flushing) this.flush();
    return idle;
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing || this.queue.length === 0) return;
    // Whole writes up to maxRows: a write never straddles two batches, so its promise settles
    // with exactly one commit.
    let take = 0;
    let rows = 0;
    while (take < this.queue.length && (take === 0 || rows + this.queue[take]!.rows <= this.opts.maxRows)) rows += this.queue[take++]!.rows;
    const writes = this.queue.splice(0, take);
    this.pendingRows -= rows;
    this.inFlightRows = rows;
    this.flushing = true;
    const settle = (err: Error | null) => {
      // bookkeeping first, so a writer resumed by its promise already sees the room it freed
      this.inFlightRows = 0;
      this.flushing = false;
      this.metrics.queueRows.set(this.depth);
      for (const w of writes) {
        if (err) w.reject(err);
        else w.resolve();
      }
      this.releaseWaiters();
      if (this.queue.length > 0) {
        // Rows that arrived during the commit have already waited one commit: send them now.
        this.flush();
      } else {
        for (const w of this.idleWaiters.splice(0)) w();
      }
    };
    this.commit(writes, rows).then(
      () => settle(null),
      (err: Error) => settle(err),
    );
  }

  /** Lets held publishes go, oldest first, as far as the room freed by a commit reaches. */
  private releaseWaiters(): void {
    this.admittedAhead = 0;
    let room = this.opts.maxQueueRows - this.depth;
    while (room > 0 && this.roomHead < this.roomWaiters.length) {
      const go = this.roomWaiters[this.roomHead]!;
      this.roomWaiters[this.roomHead++] = undefined as never;
      this.admittedAhead++;
      room--;
      go();
    }
    if (this.roomHead === this.roomWaiters.length) {
      this.roomWaiters = [];
      this.roomHead = 0;
    } else if (this.roomHead > 4096 && this.roomHead * 2 > this.roomWaiters.length) {
      this.roomWaiters = this.roomWaiters.slice(this.roomHead);
      this.roomHead = 0;
    }
  }

  private async commit(writes: QueuedWrite[], rows: number): Promise<void> {
    const params = toParams(writes);
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      try {
        const [res] = await this.db.query<{ positions: number; readings: number; statuses: number; events: number }>(FLUSH_SQL, params, 'pantau_flush_v2');
        this.metrics.commitSeconds.observe((performance.now() - t0) / 1000);
        this.metrics.batchRows.observe(rows);
        this.metrics.stored.inc({ table: 'vehicle_positions' }, res?.positions ?? 0);
        this.metrics.stored.inc({ table: 'sensor_readings' }, res?.readings ?? 0);
        this.metrics.stored.inc({ table: 'vehicle_status_reports' }, res?.statuses ?? 0);
        this.metrics.stored.inc({ table: 'geofence_events' }, res?.events ?? 0);
        return;
      } catch (err) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          this.log.error({ rows, err: (err as Error).message }, 'batch commit failed; publishes stay unacknowledged so devices resend');
          throw err;
        }
        this.log.warn({ rows, attempt: attempt + 1, err: (err as Error).message }, 'batch commit failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

function toParams(writes: QueuedWrite[]): unknown[] {
  const fixes: Fix[] = [];
  const readings: Reading[] = [];
  const statuses: StatusReport[] = [];
  const events: FenceEventRow[] = [];
  for (const { batch } of writes) {
    for (const f of batch.fixes) fixes.push(f);
    for (const r of batch.readings) readings.push(r);
    for (const s of batch.statuses) statuses.push(s);
    if (batch.fenceEvents) for (const e of batch.fenceEvents) events.push(e);
  }
  const n = fixes.length;
  const fd = new Array<string>(n);
  const ft = new Array<number>(n);
  const flat = new Array<number>(n);
  const flon = new Array<number>(n);
  const fs = new Array<number | null>(n);
  const fh = new Array<number | null>(n);
  const fa = new Array<number | null>(n);
  const fq = new Array<number | null>(n);
  for (let i = 0; i < n; i++) {
    const f = fixes[i]!;
    fd[i] = f.deviceId;
    ft[i] = f.ts;
    flat[i] = f.lat;
    flon[i] = f.lon;
    fs[i] = f.speedKmh;
    fh[i] = f.heading;
    fa[i] = f.accuracyM;
    fq[i] = f.seq;
  }
  const m = readings.length;
  const rd = new Array<string>(m);
  const rm = new Array<string>(m);
  const rt = new Array<number>(m);
  const rv = new Array<number>(m);
  const rlat = new Array<number | null>(m);
  const rlon = new Array<number | null>(m);
  for (let i = 0; i < m; i++) {
    const r = readings[i]!;
    rd[i] = r.deviceId;
    rm[i] = r.metric;
    rt[i] = r.ts;
    rv[i] = r.value;
    rlat[i] = r.lat;
    rlon[i] = r.lon;
  }
  return [
    fd, ft, flat, flon, fs, fh, fa, fq,
    rd, rm, rt, rv, rlat, rlon,
    statuses.map((s) => s.deviceId), statuses.map((s) => s.ts), statuses.map((s) => s.status),
    events.map((e) => e.id), events.map((e) => e.fenceId), events.map((e) => e.vehicleId), events.map((e) => e.type),
    events.map((e) => e.ts), events.map((e) => e.lat), events.map((e) => e.lon),
  ];
}
