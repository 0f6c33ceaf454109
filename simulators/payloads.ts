// Payload encoders for what simulated devices publish (CONTRACT.md "MQTT: devices to the engine").
// Fix encoders concatenate strings: they run up to tens of thousands of times a second in load tests.

import { METRICS, type Metric, type VehicleStatus } from '../ingest/model.ts';
import type { VehicleFix } from './city.ts';
import type { StationValues } from './stations.ts';

export const topics = {
  position: (id: string) => `pantau/v1/vehicles/${id}/position`,
  positions: (id: string) => `pantau/v1/vehicles/${id}/positions`,
  status: (id: string) => `pantau/v1/vehicles/${id}/status`,
  reading: (id: string) => `pantau/v1/sensors/${id}/reading`,
  senml: (id: string) => `pantau/v1/sensors/${id}/senml`,
  /** owntracks value as provisioned, "user/device" */
  owntracks: (userDevice: string) => `owntracks/${userDevice}`,
} as const;

/** Native fix; ts as an ISO 8601 string when isoTs, else epoch ms (both allowed by CONTRACT.md). */
export function encodeFix(f: VehicleFix, isoTs: boolean): string {
  return (
    '{"ts":' +
    (isoTs ? '"' + new Date(f.ts).toISOString() + '"' : f.ts) +
    ',"lat":' +
    f.lat +
    ',"lon":' +
    f.lon +
    ',"speed_kmh":' +
    f.speed_kmh +
    ',"heading":' +
    f.heading +
    ',"accuracy_m":' +
    f.accuracy_m +
    ',"seq":' +
    f.seq +
    '}'
  );
}

/** A tracker's buffer after a reconnect: a JSON array of encoded fixes (the `positions` topic). */
export function encodeFixArray(encodedFixes: readonly string[]): string {
  return '[' + encodedFixes.join(',') + ']';
}

/**
 * OwnTracks location (owntracks.org/booklet/tech/json/): tst in epoch seconds, vel km/h, cog degrees,
 * acc metres, all integers; zero-valued optionals are omitted as the app does (domain/README.md).
 */
export function encodeOwnTracks(f: VehicleFix, tid: string): string {
  const vel = Math.round(f.speed_kmh);
  const cog = Math.round(f.heading) % 360;
  return (
    '{"_type":"location","tid":"' +
    tid +
    '","tst":' +
    Math.floor(f.ts / 1000) +
    ',"lat":' +
    f.lat +
    ',"lon":' +
    f.lon +
    ',"acc":' +
    Math.round(f.accuracy_m) +
    (vel > 0 ? ',"vel":' + vel : '') +
    (cog > 0 ? ',"cog":' + cog : '') +
    '}'
  );
}

/** The OwnTracks last will, published by the broker if the tracker drops off. */
export function encodeOwnTracksLwt(tsMs: number): string {
  return '{"_type":"lwt","tst":' + Math.floor(tsMs / 1000) + '}';
}

export function encodeStatus(tsMs: number, status: VehicleStatus): string {
  return '{"ts":"' + new Date(tsMs).toISOString() + '","status":"' + status + '"}';
}

export function encodeReading(tsMs: number, values: StationValues): string {
  return JSON.stringify({ ts: new Date(tsMs).toISOString(), values });
}

/**
 * SenML pack (RFC 8428): base name and base time on the first record, time in epoch seconds.
 * cm is not a registered SenML unit, so water level goes out in m (domain/README.md).
 */
export function encodeSenml(deviceId: string, tsMs: number, values: StationValues): string {
  const records: Array<Record<string, string | number>> = [];
  for (const metric of Object.keys(values) as Metric[]) {
    const value = values[metric];
    if (value === undefined) continue;
    const rec: Record<string, string | number> =
      metric === 'water_level_cm'
        ? { n: METRICS.water_level_cm.senmlName, u: 'm', v: Math.round(value) / 100 }
        : { n: METRICS[metric].senmlName, u: METRICS[metric].unit, v: value };
    records.push(records.length === 0 ? { bn: `urn:dev:pantau:${deviceId}:`, bt: tsMs / 1000, ...rec } : rec);
  }
  return JSON.stringify(records);
}
