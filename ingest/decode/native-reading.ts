// pantau/v1/sensors/{id}/reading: {ts, values: {metric: number}, lat?, lon?} (CONTRACT.md).
// Metrics are judged one by one: an unknown or malformed one is rejected, the others of the payload kept.
import { emptyDecoded, METRIC_NAMES, METRICS, type Decoded, type Metric } from '../model.ts';
import { describe, isObject, NOT_JSON, optionalNumber, parseJson, pushReject, requiredTs } from './common.ts';
import { LAT_EXPECTED, LON_EXPECTED } from './native-fix.ts';

const EXPECTED = 'a reading object {"ts", "values": {"water_level_cm": 185, ...}, "lat"?, "lon"?}';
const METRIC_LIST = METRIC_NAMES.join(', ');

function isMetric(name: string): name is Metric {
  return Object.hasOwn(METRICS, name);
}

function unknownMetricMessage(name: string): string {
  // A SenML-style name without its unit suffix is the likeliest mistake ("water_level" for "water_level_cm").
  const near = METRIC_NAMES.find((m) => METRICS[m].senmlName === name);
  const hint = near !== undefined && near !== name ? `; did you mean ${near} (in ${METRICS[near].unit})?` : '';
  return `unknown metric ${JSON.stringify(name)}: expected one of ${METRIC_LIST}${hint}`;
}

export function decodeNativeReading(deviceId: string, payload: Buffer): Decoded {
  const out = emptyDecoded();
  const doc = parseJson(payload, out, EXPECTED);
  if (doc === NOT_JSON) return out;
  if (!isObject(doc)) {
    pushReject(out, 'BAD_TYPE', undefined, `payload must be ${EXPECTED}, got ${describe(doc)}`);
    return out;
  }
  const ts = requiredTs(doc, 'ts', -1, out);
  if (Number.isNaN(ts)) return out;
  const lat = optionalNumber(doc, 'lat', LAT_EXPECTED, -1, out);
  if (Number.isNaN(lat)) return out;
  const lon = optionalNumber(doc, 'lon', LON_EXPECTED, -1, out);
  if (Number.isNaN(lon)) return out;
  if ((lat === null) !== (lon === null)) {
    const missing = lat === null ? 'lat' : 'lon';
    pushReject(out, 'MISSING_FIELD', missing, `missing ${missing}: a mobile sensor's position needs both lat and lon`);
    return out;
  }
  const values = doc.values;
  if (values === undefined || values === null) {
    pushReject(out, 'MISSING_FIELD', 'values', `missing values: expected an object of metric -> number, metrics ${METRIC_LIST}`);
    return out;
  }
  if (!isObject(values)) {
    pushReject(out, 'BAD_TYPE', 'values', `values must be an object of metric -> number, got ${describe(values)}`);
    return out;
  }
  let count = 0;
  for (const name in values) {
    count++;
    if (!isMetric(name)) {
      pushReject(out, 'UNKNOWN_METRIC', `values.${name}`, unknownMetricMessage(name));
      continue;
    }
    const value = values[name];
    if (typeof value !== 'number') {
      pushReject(out, 'BAD_TYPE', `values.${name}`, `values.${name} must be a number in ${METRICS[name].unit}, got ${describe(value)}`);
      continue;
    }
    out.readings.push({ deviceId, ts, metric: name, value, lat, lon });
  }
  if (count === 0) pushReject(out, 'MISSING_FIELD', 'values', `values is empty: expected at least one of ${METRIC_LIST}`);
  return out;
}
