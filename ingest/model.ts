// The one data model every decoder produces and every later stage consumes.
// Times are epoch milliseconds inside the engine; ISO 8601 strings only at the edges.

export const VEHICLE_TYPES = ['ambulance', 'garbage_truck', 'blue_crew_truck', 'fire_truck', 'police', 'other'] as const;
export const SENSOR_TYPES = ['water_level', 'air_quality', 'rain', 'weather'] as const;
/** What a crew's terminal may report on pantau/v1/vehicles/{id}/status (en_route and on_scene advance an open dispatch). */
export const CREW_STATUSES = ['available', 'busy', 'out_of_service', 'en_route', 'on_scene'] as const;
/** A vehicle's live status: the crew's, or set by a dispatch (dispatched until the crew moves it on). */
export const VEHICLE_STATUSES = ['available', 'busy', 'out_of_service', 'dispatched', 'en_route', 'on_scene'] as const;

export type VehicleType = (typeof VEHICLE_TYPES)[number];
export type SensorType = (typeof SENSOR_TYPES)[number];
export type VehicleStatus = (typeof VEHICLE_STATUSES)[number];
export type CrewStatus = (typeof CREW_STATUSES)[number];
export type DeviceKind = 'vehicle' | 'sensor';

/** Metric name -> its unit and the SenML names/units that map onto it (CONTRACT.md, RFC 8428 units registry). */
export const METRICS = {
  water_level_cm: { unit: 'cm', senmlName: 'water_level', senmlUnits: { m: 100, cm: 1 } },
  pm25: { unit: 'ug/m3', senmlName: 'pm25', senmlUnits: { 'ug/m3': 1 } },
  pm10: { unit: 'ug/m3', senmlName: 'pm10', senmlUnits: { 'ug/m3': 1 } },
  o3: { unit: 'ug/m3', senmlName: 'o3', senmlUnits: { 'ug/m3': 1 } },
  co: { unit: 'ug/m3', senmlName: 'co', senmlUnits: { 'ug/m3': 1 } },
  no2: { unit: 'ug/m3', senmlName: 'no2', senmlUnits: { 'ug/m3': 1 } },
  so2: { unit: 'ug/m3', senmlName: 'so2', senmlUnits: { 'ug/m3': 1 } },
  hc: { unit: 'ug/m3', senmlName: 'hc', senmlUnits: { 'ug/m3': 1 } },
  rain_mm: { unit: 'mm', senmlName: 'rain', senmlUnits: { mm: 1, m: 1000 } },
  temperature_c: { unit: 'Cel', senmlName: 'temperature', senmlUnits: { Cel: 1 } },
  humidity_pct: { unit: '%RH', senmlName: 'humidity', senmlUnits: { '%RH': 1, '%': 1 } },
  battery_pct: { unit: '%', senmlName: 'battery', senmlUnits: { '%': 1, '%EL': 1 } },
} as const satisfies Record<string, { unit: string; senmlName: string; senmlUnits: Record<string, number> }>;

export type Metric = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as Metric[];

export interface Fix {
  deviceId: string;
  /** epoch ms */
  ts: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  heading: number | null;
  accuracyM: number | null;
  seq: number | null;
}

export interface Reading {
  deviceId: string;
  ts: number;
  metric: Metric;
  value: number;
  /** a mobile sensor's position with this reading */
  lat: number | null;
  lon: number | null;
}

export interface StatusReport {
  deviceId: string;
  ts: number;
  status: CrewStatus;
}

export const REJECT_CODES = [
  'BAD_JSON',
  'MISSING_FIELD',
  'BAD_TYPE',
  'OUT_OF_RANGE',
  'UNKNOWN_METRIC',
  'BAD_UNIT',
  'TOO_LARGE',
  'TS_IN_FUTURE',
  'UNKNOWN_TOPIC',
  'WRONG_KIND',
  'UNKNOWN_DEVICE',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

/** What a device is told on pantau/v1/devices/{id}/rejects (plus the topic). */
export interface Reject {
  code: RejectCode;
  message: string;
  /** the offending field, e.g. "lat" or "[3].ts" */
  field?: string;
}

/** What a decoder makes of one MQTT payload: everything it could accept, and a reason for everything it could not. */
export interface Decoded {
  fixes: Fix[];
  readings: Reading[];
  statuses: StatusReport[];
  rejects: Reject[];
}

export function emptyDecoded(): Decoded {
  return { fixes: [], readings: [], statuses: [], rejects: [] };
}
