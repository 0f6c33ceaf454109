// The live vehicle state on MQTT, for API replicas (DESIGN.md: "API replicas each keep their own live
// index fed from the broker") and any program that wants the fleet as it changes: every vehicle whose
// position, status or type changed, batched per interval, on `pantau/v1/live/vehicles` (QoS 0, not
// retained; a reader starts from GET /api/v1/vehicles and applies the batches after it).
import type { LiveVehicle } from '../geo/vehicle-index.ts';
import { VEHICLE_STATUSES, VEHICLE_TYPES, type VehicleStatus, type VehicleType } from '../ingest/model.ts';

export const LIVE_VEHICLES_TOPIC = 'pantau/v1/live/vehicles';
/**
 * An operator's token or role changed, or it was deleted: `{"at", "operator"}` (QoS 1, not retained, only the engine
 * publishes). API replicas forget the tokens they trusted, so a revoked token stops working there too.
 */
export const LIVE_OPERATORS_TOPIC = 'pantau/v1/live/operators';
/** vehicles per message at most, so one batch never makes a huge packet */
export const LIVE_BATCH_MAX = 2000;

/** One changed vehicle as published: the fields of GET /vehicles' properties plus its position. */
export interface LiveVehicleMessage {
  id: string;
  type: string;
  status: string;
  lat: number;
  lon: number;
  ts: string;
  speed_kmh: number | null;
  heading: number | null;
  accuracy_m: number | null;
}

export interface LiveBatch {
  /** when the batch was cut (ISO 8601) */
  at: string;
  vehicles: LiveVehicleMessage[];
  /** vehicles no longer live (their device was deleted) */
  removed: string[];
}

/**
 * Collects the ids of changed vehicles and, once per interval, publishes their state as it is then:
 * ten moves of one vehicle inside an interval are one entry. The timer runs only while something changed.
 */
export class LiveTopic {
  private dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly current: (id: string) => Readonly<LiveVehicle> | undefined,
    private readonly publish: (payload: Buffer) => void,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  changed(id: string): void {
    if (this.stopped || this.intervalMs === 0) return; // 0: the topic is off
    this.dirty.add(id);
    if (!this.timer) {
      this.timer = setTimeout(this.flush, this.intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dirty.clear();
  }

  /** Publishes what changed since the last batch (the timer calls it; tests may too). */
  readonly flush = (): void => {
    this.timer = null;
    if (this.dirty.size === 0) return;
    const ids = this.dirty;
    this.dirty = new Set();
    const at = new Date(this.now()).toISOString();
    let batch: LiveBatch = { at, vehicles: [], removed: [] };
    const send = () => {
      try {
        this.publish(Buffer.from(JSON.stringify(batch)));
      } catch (err) {
        this.onError(err);
      }
      batch = { at, vehicles: [], removed: [] };
    };
    for (const id of ids) {
      const v = this.current(id);
      if (v === undefined) batch.removed.push(id);
      else batch.vehicles.push(liveVehicleMessage(v));
      if (batch.vehicles.length + batch.removed.length >= LIVE_BATCH_MAX) send();
    }
    if (batch.vehicles.length + batch.removed.length > 0) send();
  };
}

export function liveVehicleMessage(v: Readonly<LiveVehicle>): LiveVehicleMessage {
  return {
    id: v.id, type: v.type, status: v.status, lat: v.lat, lon: v.lon, ts: new Date(v.ts).toISOString(),
    speed_kmh: v.speedKmh, heading: v.heading, accuracy_m: v.accuracyM,
  };
}

export class LiveBatchError extends Error {
  constructor(
    readonly code: 'BAD_JSON' | 'BAD_BATCH',
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const TYPES: ReadonlySet<string> = new Set(VEHICLE_TYPES);
const STATUSES: ReadonlySet<string> = new Set(VEHICLE_STATUSES);
const nullableNumber = (x: unknown): x is number | null => x === null || (typeof x === 'number' && Number.isFinite(x));

/** One vehicle of a batch or of GET /vehicles, checked; throws LiveBatchError naming the field. */
export function toLiveVehicle(m: unknown, where: string): LiveVehicle {
  if (typeof m !== 'object' || m === null) throw new LiveBatchError('BAD_BATCH', where, `${where} must be an object`);
  const r = m as Record<string, unknown>;
  if (typeof r.id !== 'string' || r.id === '') throw new LiveBatchError('BAD_BATCH', `${where}.id`, `${where}.id must be a non-empty string`);
  if (typeof r.type !== 'string' || !TYPES.has(r.type)) throw new LiveBatchError('BAD_BATCH', `${where}.type`, `${where}.type must be one of ${VEHICLE_TYPES.join(', ')}`);
  if (typeof r.status !== 'string' || !STATUSES.has(r.status)) throw new LiveBatchError('BAD_BATCH', `${where}.status`, `${where}.status must be one of ${VEHICLE_STATUSES.join(', ')}`);
  if (typeof r.lat !== 'number' || !(r.lat >= -90 && r.lat <= 90)) throw new LiveBatchError('BAD_BATCH', `${where}.lat`, `${where}.lat must be a number in [-90, 90]`);
  if (typeof r.lon !== 'number' || !(r.lon >= -180 && r.lon <= 180)) throw new LiveBatchError('BAD_BATCH', `${where}.lon`, `${where}.lon must be a number in [-180, 180]`);
  const ts = typeof r.ts === 'string' ? Date.parse(r.ts) : NaN;
  if (!Number.isFinite(ts)) throw new LiveBatchError('BAD_BATCH', `${where}.ts`, `${where}.ts must be an ISO 8601 time`);
  for (const f of ['speed_kmh', 'heading', 'accuracy_m'] as const) {
    if (r[f] !== undefined && !nullableNumber(r[f])) throw new LiveBatchError('BAD_BATCH', `${where}.${f}`, `${where}.${f} must be a number or null`);
  }
  return {
    id: r.id, type: r.type as VehicleType, status: r.status as VehicleStatus, lat: r.lat, lon: r.lon, ts,
    speedKmh: (r.speed_kmh as number | null | undefined) ?? null, heading: (r.heading as number | null | undefined) ?? null, accuracyM: (r.accuracy_m as number | null | undefined) ?? null,
  };
}

/** A batch from the topic, checked whole before any of it is applied. */
export function parseLiveBatch(payload: Buffer | string): { vehicles: LiveVehicle[]; removed: string[]; atMs: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    throw new LiveBatchError('BAD_JSON', '', `not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new LiveBatchError('BAD_BATCH', '', 'a batch must be an object {at, vehicles, removed}');
  const b = raw as Record<string, unknown>;
  const atMs = typeof b.at === 'string' ? Date.parse(b.at) : NaN;
  if (!Number.isFinite(atMs)) throw new LiveBatchError('BAD_BATCH', 'at', 'at must be an ISO 8601 time');
  if (!Array.isArray(b.vehicles)) throw new LiveBatchError('BAD_BATCH', 'vehicles', 'vehicles must be an array');
  const removed = b.removed ?? [];
  if (!Array.isArray(removed) || !removed.every((id) => typeof id === 'string')) throw new LiveBatchError('BAD_BATCH', 'removed', 'removed must be an array of ids');
  return { vehicles: b.vehicles.map((m, i) => toLiveVehicle(m, `vehicles[${i}]`)), removed: removed as string[], atMs };
}
