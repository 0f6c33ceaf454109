// Query-string values that JSON schema cannot check alone: times and boxes.
import { ApiError } from './errors.ts';

/** ISO 8601 or epoch milliseconds (CONTRACT.md). */
export function parseTime(raw: string | undefined, field: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const ms = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new ApiError('BAD_QUERY', `${field} must be an ISO 8601 time or epoch milliseconds`, { field, got: raw });
  return ms;
}

export function parseBBox(raw: string): [number, number, number, number] {
  const parts = raw.split(',').map(Number);
  const [minLon, minLat, maxLon, maxLat] = parts as [number, number, number, number];
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n)) || minLon > maxLon || minLat > maxLat || minLat < -90 || maxLat > 90 || minLon < -180 || maxLon > 180) {
    throw new ApiError('BAD_QUERY', 'bbox must be minLon,minLat,maxLon,maxLat in degrees with min <= max', { field: 'bbox', got: raw });
  }
  return [minLon, minLat, maxLon, maxLat];
}

/** `5m`, `1h`, `30s`, `1d` -> seconds. */
export function parseDuration(raw: string, field: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(raw);
  const n = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'] : NaN;
  if (!(n > 0)) throw new ApiError('BAD_QUERY', `${field} must be a duration like 30s, 5m, 1h or 1d`, { field, got: raw });
  return n;
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** JSON-schema properties of a WGS84 point in degrees (bodies and query strings). */
export const LAT_LON_PROPERTIES = {
  lat: { type: 'number', minimum: -90, maximum: 90 },
  lon: { type: 'number', minimum: -180, maximum: 180 },
} as const;
