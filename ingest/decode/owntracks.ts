// owntracks/{user}/{device}: OwnTracks JSON (owntracks.org/booklet/tech/json). Only _type "location" carries
// a fix; lwt, transition, waypoint, steps, cmd... are not errors and decode to nothing.
import { emptyDecoded, type Decoded } from '../model.ts';
import { describe, isAbsent, isObject, NOT_JSON, optionalNumber, parseJson, pushReject, requiredNumber } from './common.ts';
import { LAT_EXPECTED, LON_EXPECTED } from './native-fix.ts';

const EXPECTED = 'an OwnTracks message {"_type": "location", "lat", "lon", "tst", "acc"?, "cog"?, "vel"?}';
const TST_EXPECTED = 'a number, epoch seconds';

/** iOS sends -1 for a speed, course or accuracy it does not know (CoreLocation); that is "unknown", not an error. */
function unknownIfNegative(v: number | null): number | null {
  return v !== null && v < 0 ? null : v;
}

export function decodeOwnTracks(deviceId: string, payload: Buffer): Decoded {
  const out = emptyDecoded();
  const doc = parseJson(payload, out, EXPECTED);
  if (doc === NOT_JSON) return out;
  if (!isObject(doc)) {
    pushReject(out, 'BAD_TYPE', undefined, `payload must be ${EXPECTED}, got ${describe(doc)}`);
    return out;
  }
  const type = doc._type;
  if (isAbsent(type)) {
    pushReject(out, 'MISSING_FIELD', '_type', 'missing _type: every OwnTracks message has one, e.g. "location"');
    return out;
  }
  if (typeof type !== 'string') {
    pushReject(out, 'BAD_TYPE', '_type', `_type must be a string such as "location", got ${describe(type)}`);
    return out;
  }
  if (type === 'encrypted') {
    // Dropping it silently would lose every fix of a misconfigured phone; tell the device instead.
    pushReject(out, 'BAD_TYPE', '_type', 'encrypted OwnTracks payloads are not supported: expected plain JSON; clear the encryption key in the app');
    return out;
  }
  if (type !== 'location') return out;

  const lat = requiredNumber(doc, 'lat', LAT_EXPECTED, -1, out);
  if (Number.isNaN(lat)) return out;
  const lon = requiredNumber(doc, 'lon', LON_EXPECTED, -1, out);
  if (Number.isNaN(lon)) return out;
  // booklet: tst is an integer of epoch seconds (apps before Android 0.5.11 / iOS 8.0 sent strings: rejected)
  const tst = requiredNumber(doc, 'tst', TST_EXPECTED, -1, out);
  if (Number.isNaN(tst)) return out;
  const acc = optionalNumber(doc, 'acc', 'a number, accuracy in metres', -1, out);
  if (Number.isNaN(acc)) return out;
  const cog = optionalNumber(doc, 'cog', 'a number, course over ground in degrees', -1, out);
  if (Number.isNaN(cog)) return out;
  const vel = optionalNumber(doc, 'vel', 'a number, velocity in km/h', -1, out);
  if (Number.isNaN(vel)) return out;
  // booklet: acc, cog and vel are left out when zero or unknown, so absent means unknown (null), not 0.
  out.fixes.push({
    deviceId,
    ts: tst * 1000,
    lat,
    lon,
    speedKmh: unknownIfNegative(vel),
    heading: unknownIfNegative(cog),
    accuracyM: unknownIfNegative(acc),
    seq: null,
  });
  return out;
}
