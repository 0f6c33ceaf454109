// Teltonika's JSON codec (wiki.teltonika-gps.com/view/Codec_JSON):
// {"state": {"reported": {"ts": <epoch ms>, "latlng": "lat,lon", "ang", "sp" (km/h), "sat", "alt", ...}}}.
import { emptyDecoded, type Decoded } from '../model.ts';
import { describe, isAbsent, isObject, NOT_JSON, optionalNumber, parseJson, pushReject, requiredTs } from './common.ts';

const EXPECTED = 'a Teltonika JSON record {"state": {"reported": {"ts", "latlng": "lat,lon", "sp"?, "ang"?}}}';
const LATLNG_EXPECTED = 'a string "lat,lon" in decimal degrees, e.g. "-6.175392,106.827153"';

/** Strict decimal degrees: Number() alone would read "" and " " as 0. */
function degrees(s: string): number {
  const t = s.trim();
  return t.length === 0 ? NaN : Number(t);
}

export function decodeTeltonika(deviceId: string, payload: Buffer): Decoded {
  const out = emptyDecoded();
  const doc = parseJson(payload, out, EXPECTED);
  if (doc === NOT_JSON) return out;
  if (!isObject(doc)) {
    pushReject(out, 'BAD_TYPE', undefined, `payload must be ${EXPECTED}, got ${describe(doc)}`);
    return out;
  }
  const state = doc.state;
  const reported = isObject(state) ? state.reported : undefined;
  if (!isObject(reported)) {
    const absent = isAbsent(state) || (isObject(state) && isAbsent(reported));
    const field = isObject(state) ? 'state.reported' : 'state';
    pushReject(out, absent ? 'MISSING_FIELD' : 'BAD_TYPE', field, `${absent ? 'missing' : 'bad'} ${field}: expected ${EXPECTED}`);
    return out;
  }
  const ts = requiredTs(reported, 'ts', -1, out, 'state.reported.ts');
  if (Number.isNaN(ts)) return out;
  const latlng = reported.latlng;
  if (isAbsent(latlng)) {
    pushReject(out, 'MISSING_FIELD', 'state.reported.latlng', `missing state.reported.latlng: expected ${LATLNG_EXPECTED}`);
    return out;
  }
  const comma = typeof latlng === 'string' ? latlng.indexOf(',') : -1;
  const lat = comma < 0 ? NaN : degrees((latlng as string).slice(0, comma));
  const lon = comma < 0 ? NaN : degrees((latlng as string).slice(comma + 1));
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) {
    pushReject(out, 'BAD_TYPE', 'state.reported.latlng', `state.reported.latlng must be ${LATLNG_EXPECTED}, got ${describe(latlng)}`);
    return out;
  }
  const sp = optionalNumber(reported, 'sp', 'a number, speed in km/h', -1, out, 'state.reported.sp');
  if (Number.isNaN(sp)) return out;
  const ang = optionalNumber(reported, 'ang', 'a number, heading in degrees', -1, out, 'state.reported.ang');
  if (Number.isNaN(ang)) return out;
  out.fixes.push({ deviceId, ts, lat, lon, speedKmh: sp, heading: ang, accuracyM: null, seq: null });
  return out;
}
