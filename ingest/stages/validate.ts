// Semantic checks after decoding: records that are well-formed but impossible move to `rejects`.
// Runs for every message (10k/s): arrays are compacted in place and a Reject is built only on failure.
import type { Decoded, Fix, Metric, Reading, Reject, StatusReport } from '../model.ts';

export interface ValidateLimits {
  /** how far ahead of the engine's clock a ts may be (device clock skew) */
  maxFutureMs: number;
}

export const DEFAULT_VALIDATE_LIMITS: Readonly<ValidateLimits> = Object.freeze({ maxFutureMs: 5 * 60_000 });

/** Nothing Pantau stores predates 2000-01-01T00:00:00Z; earlier is a tracker without time (or epoch seconds). */
export const MIN_TS_MS = Date.UTC(2000, 0, 1);
export const MAX_SPEED_KMH = 400;

/** Plausible [min, max] of each metric in its unit; outside is a broken sensor or a unit mistake. */
export const METRIC_RANGES: { readonly [M in Metric]: readonly [number, number] } = {
  water_level_cm: [-1000, 10_000], // gauges read below their zero (tidal, datum shifts); 100 m is no river
  pm25: [0, 100_000],
  pm10: [0, 100_000],
  o3: [0, 100_000],
  co: [0, 100_000],
  no2: [0, 100_000],
  so2: [0, 100_000],
  hc: [0, 100_000],
  rain_mm: [0, 2000], // above the world's 24 h record (1825 mm)
  temperature_c: [-50, 70],
  humidity_pct: [0, 100],
  battery_pct: [0, 100],
};

/** Move every fix, reading and status report that fails a semantic check into `decoded.rejects`. */
export function validate(decoded: Decoded, nowMs: number, limits: Readonly<ValidateLimits>): void {
  const maxTs = nowMs + limits.maxFutureMs;
  const rejects = decoded.rejects;

  const fixes = decoded.fixes;
  let kept = 0;
  for (let i = 0; i < fixes.length; i++) {
    const fix = fixes[i]!;
    const reject = checkFix(fix, nowMs, maxTs);
    if (reject === null) fixes[kept++] = fix;
    else rejects.push(reject);
  }
  fixes.length = kept;

  const readings = decoded.readings;
  kept = 0;
  for (let i = 0; i < readings.length; i++) {
    const reading = readings[i]!;
    const reject = checkReading(reading, nowMs, maxTs);
    if (reject === null) readings[kept++] = reading;
    else rejects.push(reject);
  }
  readings.length = kept;

  const statuses = decoded.statuses;
  kept = 0;
  for (let i = 0; i < statuses.length; i++) {
    const status: StatusReport = statuses[i]!;
    const reject = checkTs(status.ts, nowMs, maxTs);
    if (reject === null) statuses[kept++] = status;
    else rejects.push(reject);
  }
  statuses.length = kept;
}

function checkFix(f: Fix, nowMs: number, maxTs: number): Reject | null {
  const tsReject = checkTs(f.ts, nowMs, maxTs);
  if (tsReject !== null) return tsReject;
  // Written as !(in range) so NaN fails too.
  if (!(f.lat >= -90 && f.lat <= 90)) return outOfRange('lat', `lat ${f.lat}${at(f.ts)}: expected degrees in [-90, 90]`);
  if (!(f.lon >= -180 && f.lon <= 180)) return outOfRange('lon', `lon ${f.lon}${at(f.ts)}: expected degrees in [-180, 180]`);
  if (f.lat === 0 && f.lon === 0) return nullIsland(f.ts);
  const s = f.speedKmh;
  if (s !== null && !(s >= 0 && s <= MAX_SPEED_KMH)) return outOfRange('speed_kmh', `speed_kmh ${s}${at(f.ts)}: expected km/h in [0, ${MAX_SPEED_KMH}]`);
  const h = f.heading;
  if (h !== null && !(h >= 0 && h <= 360)) return outOfRange('heading', `heading ${h}${at(f.ts)}: expected degrees in [0, 360]`);
  const a = f.accuracyM;
  if (a !== null && !(a >= 0 && a < Infinity)) return outOfRange('accuracy_m', `accuracy_m ${a}${at(f.ts)}: expected metres >= 0`);
  const q = f.seq;
  if (q !== null && !(Number.isSafeInteger(q) && q >= 0)) return outOfRange('seq', `seq ${q}${at(f.ts)}: expected a non-negative integer`);
  return null;
}

function checkReading(r: Reading, nowMs: number, maxTs: number): Reject | null {
  const tsReject = checkTs(r.ts, nowMs, maxTs);
  if (tsReject !== null) return tsReject;
  const range = METRIC_RANGES[r.metric];
  const v = r.value;
  if (!(v >= range[0] && v <= range[1])) {
    return outOfRange(r.metric, `${r.metric} ${v}${at(r.ts)}: expected a plausible value in [${range[0]}, ${range[1]}]`);
  }
  if (r.lat !== null || r.lon !== null) {
    const lat = r.lat ?? NaN;
    const lon = r.lon ?? NaN;
    if (!(lat >= -90 && lat <= 90)) return outOfRange('lat', `lat ${r.lat}${at(r.ts)}: expected degrees in [-90, 90]`);
    if (!(lon >= -180 && lon <= 180)) return outOfRange('lon', `lon ${r.lon}${at(r.ts)}: expected degrees in [-180, 180]`);
    if (lat === 0 && lon === 0) return nullIsland(r.ts);
  }
  return null;
}

function checkTs(ts: number, nowMs: number, maxTs: number): Reject | null {
  if (ts > maxTs) {
    const aheadS = Math.round((ts - nowMs) / 1000);
    const maxS = Math.round((maxTs - nowMs) / 1000);
    return {
      code: 'TS_IN_FUTURE',
      field: 'ts',
      message: `ts ${iso(ts)} is ${aheadS} s ahead of the engine's clock: expected at most ${maxS} s ahead; check the device's clock (NTP or GPS time)`,
    };
  }
  if (!(ts >= MIN_TS_MS)) {
    // 1.7e9 read as ms is January 1970: the device most likely sent epoch seconds.
    const hint = ts * 1000 >= MIN_TS_MS && ts * 1000 <= maxTs ? '; it looks like epoch seconds, send epoch milliseconds or ISO 8601' : '';
    return outOfRange('ts', `ts ${iso(ts)} is before 2000-01-01T00:00:00Z: expected the time of the measurement${hint}`);
  }
  return null;
}

function outOfRange(field: string, message: string): Reject {
  return { code: 'OUT_OF_RANGE', field, message };
}

function nullIsland(ts: number): Reject {
  return outOfRange('lat', `lat 0, lon 0${at(ts)} is "null island", what trackers send without a GPS fix: expected a real position`);
}

/** ISO 8601 for messages; toISOString throws outside the Date range (ECMA-262 21.4.1.1). */
function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

/** Names the record in messages, since one payload (positions, SenML) can carry many. */
function at(ts: number): string {
  return ` at ${iso(ts)}`;
}
