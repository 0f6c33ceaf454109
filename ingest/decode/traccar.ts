// Traccar's forwarded position JSON (traccar.org/forward): {"position": {fixTime, latitude, longitude,
// speed (knots), course, accuracy, attributes}, "device": {uniqueId, name}}. The device is the caller's deviceId.
import { emptyDecoded, type Decoded } from '../model.ts';
import { describe, isAbsent, isObject, NOT_JSON, optionalNumber, parseJson, pushReject, requiredNumber, requiredTs } from './common.ts';
import { LAT_EXPECTED, LON_EXPECTED } from './native-fix.ts';

const EXPECTED = 'a Traccar forward {"position": {"fixTime", "latitude", "longitude", "speed"?, "course"?, "accuracy"?}, "device"?}';
/** Traccar keeps speed in knots internally and in everything it forwards. */
export const KMH_PER_KNOT = 1.852;

export function decodeTraccar(deviceId: string, payload: Buffer): Decoded {
  const out = emptyDecoded();
  const doc = parseJson(payload, out, EXPECTED);
  if (doc === NOT_JSON) return out;
  if (!isObject(doc)) {
    pushReject(out, 'BAD_TYPE', undefined, `payload must be ${EXPECTED}, got ${describe(doc)}`);
    return out;
  }
  const pos = doc.position;
  if (isAbsent(pos)) {
    pushReject(out, 'MISSING_FIELD', 'position', `missing position: expected ${EXPECTED}`);
    return out;
  }
  if (!isObject(pos)) {
    pushReject(out, 'BAD_TYPE', 'position', `position must be an object, got ${describe(pos)}`);
    return out;
  }
  // Traccar writes fixTime as "2018-09-14T15:34:17.000+0000" (older) or "...+00:00"; both are ISO 8601.
  const ts = requiredTs(pos, 'fixTime', -1, out, 'position.fixTime');
  if (Number.isNaN(ts)) return out;
  const lat = requiredNumber(pos, 'latitude', LAT_EXPECTED, -1, out, 'position.latitude');
  if (Number.isNaN(lat)) return out;
  const lon = requiredNumber(pos, 'longitude', LON_EXPECTED, -1, out, 'position.longitude');
  if (Number.isNaN(lon)) return out;
  const knots = optionalNumber(pos, 'speed', 'a number, speed in knots', -1, out, 'position.speed');
  if (Number.isNaN(knots)) return out;
  const course = optionalNumber(pos, 'course', 'a number, course in degrees', -1, out, 'position.course');
  if (Number.isNaN(course)) return out;
  const accuracy = optionalNumber(pos, 'accuracy', 'a number, accuracy in metres', -1, out, 'position.accuracy');
  if (Number.isNaN(accuracy)) return out;
  out.fixes.push({
    deviceId,
    ts,
    lat,
    lon,
    speedKmh: knots === null ? null : knots * KMH_PER_KNOT,
    heading: course,
    // Traccar leaves accuracy at 0 when the protocol reports none; 0 m is never a real accuracy.
    accuracyM: accuracy === 0 ? null : accuracy,
    seq: null,
  });
  return out;
}
