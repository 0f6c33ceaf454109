// One native fix object (CONTRACT.md: {ts, lat, lon, speed_kmh?, heading?, accuracy_m?, seq?}), shared by
// the `position` and `positions` decoders so both report the same field paths.
import type { Decoded } from '../model.ts';
import { describe, isObject, optionalNumber, pushReject, requiredNumber, requiredTs } from './common.ts';

export const FIX_EXPECTED = 'a fix object {"ts", "lat", "lon", "speed_kmh"?, "heading"?, "accuracy_m"?, "seq"?}';
export const LAT_EXPECTED = 'a number, latitude in degrees (WGS84)';
export const LON_EXPECTED = 'a number, longitude in degrees (WGS84)';
export const SPEED_KMH_EXPECTED = 'a number, speed in km/h';
export const HEADING_EXPECTED = 'a number, heading in degrees clockwise from north';
export const ACCURACY_M_EXPECTED = 'a number, horizontal accuracy in metres';

/** Push a Fix read from `v`, or one reject naming the first bad field (`[index].field` when index >= 0). */
export function readNativeFix(deviceId: string, v: unknown, index: number, out: Decoded): void {
  if (!isObject(v)) {
    const field = index < 0 ? undefined : `[${index}]`;
    const hint = index < 0 && Array.isArray(v) ? ' (an array of fixes goes to .../positions)' : '';
    pushReject(out, 'BAD_TYPE', field, `${field ?? 'payload'} must be ${FIX_EXPECTED}, got ${describe(v)}${hint}`);
    return;
  }
  const ts = requiredTs(v, 'ts', index, out);
  if (Number.isNaN(ts)) return;
  const lat = requiredNumber(v, 'lat', LAT_EXPECTED, index, out);
  if (Number.isNaN(lat)) return;
  const lon = requiredNumber(v, 'lon', LON_EXPECTED, index, out);
  if (Number.isNaN(lon)) return;
  const speedKmh = optionalNumber(v, 'speed_kmh', SPEED_KMH_EXPECTED, index, out);
  if (Number.isNaN(speedKmh)) return;
  const heading = optionalNumber(v, 'heading', HEADING_EXPECTED, index, out);
  if (Number.isNaN(heading)) return;
  const accuracyM = optionalNumber(v, 'accuracy_m', ACCURACY_M_EXPECTED, index, out);
  if (Number.isNaN(accuracyM)) return;
  const seq = optionalNumber(v, 'seq', 'a non-negative integer sequence number', index, out);
  if (Number.isNaN(seq)) return;
  out.fixes.push({ deviceId, ts, lat, lon, speedKmh, heading, accuracyM, seq });
}
