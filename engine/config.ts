// Everything an operator tunes, validated once and frozen. Units are in the key names.
// Each key comes from an environment variable (CONTRACT.md, Configuration); a flag
// `--name value` (the variable's name without PANTAU_, lower case, dashes) overrides it.
import path from 'node:path';
import { VEHICLE_TYPES, type VehicleType } from '../ingest/model.ts';
import { ISPU_POLLUTANTS, type IspuPollutant } from '../warning/ispu.ts';

export interface Config {
  readonly mqttPort: number;
  readonly httpPort: number;
  readonly host: string;
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  readonly adminToken: string | null;
  readonly redisUrl: string | null;
  readonly allowAnonymous: boolean;
  readonly maxPacketBytes: number;
  readonly maxFutureS: number;
  readonly batchMaxRows: number;
  readonly batchMaxAgeMs: number;
  readonly writerMaxQueueRows: number;
  readonly compressAfterDays: number;
  readonly retentionDays: number;
  readonly jobsIntervalS: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** road distance / great-circle distance, for ETAs */
  readonly etaRoadFactor: number;
  /** typical speed in city traffic per vehicle type, for ETAs */
  readonly typicalSpeedsKmh: Readonly<Record<VehicleType, number>>;
  /** a vehicle outside a fence for this long (and clear of it by its GPS accuracy) has exited */
  readonly geofenceExitDelayS: number;
  /** how often a sensor reports when it has no thresholds saying otherwise; offline after 3x */
  readonly sensorExpectedIntervalS: number;
  /** the same value this many readings in a row is a stuck sensor (0 = off) */
  readonly sensorStuckReadings: number;
  /** or the same value for this long (0 = off) */
  readonly sensorStuckSpanS: number;
  /** rolling averaging window per pollutant for ISPU, hours (P.14/2020: 24 h) */
  readonly ispuWindowsH: Readonly<Record<IspuPollutant, number>>;
  /** the ISPU category rank (0 Baik .. 4 Berbahaya) from which an air-quality alert is raised */
  readonly airAlertMinRank: number;
  /** first retry of a failed webhook delivery; doubles per attempt up to the max */
  readonly webhookRetryBaseMs: number;
  readonly webhookRetryMaxMs: number;
  readonly webhookTimeoutMs: number;
  /** a delivery not confirmed after this long (webhook still failing, MQTT subscriber never back) is marked failed and counted */
  readonly deliveryGiveUpS: number;
  /** GET /api/v1/stream: most events per second per vehicle; moves in between are coalesced into the latest state */
  readonly streamVehicleHz: number;
  /** pantau/v1/live/vehicles (API replicas): changed vehicles are published in one batch this often; 0 = not published (no replicas) */
  readonly liveTopicIntervalMs: number;
  /** `pantau replica`: the engine it follows, over HTTP (snapshot, token checks) and MQTT (the live topic) */
  readonly engineUrl: string | null;
  readonly engineMqttUrl: string | null;
  /** `pantau replica`: an operator token (viewer is enough) for reading the engine */
  readonly replicaToken: string | null;
  /** `pantau replica`: a token the engine confirmed is trusted this long without asking again (less when the engine announces an operator change) */
  readonly replicaAuthCacheS: number;
  /** the stream's resume window (Last-Event-ID): events kept, by count and by age */
  readonly streamBufferEvents: number;
  readonly streamBufferAgeS: number;
  /** a stream client with more than this unsent is closed (and counted) */
  readonly streamMaxBufferedBytes: number;
  /** comment lines this often keep proxies from closing an idle stream */
  readonly streamHeartbeatS: number;
  /** CCTV: the nearest cameras shown with a dispatch or an alert, within this radius (0 = none) */
  readonly cameraAttachCount: number;
  readonly cameraAttachRadiusM: number;
  /** cameras relayed at once (one ffmpeg each); a viewer of one more is told STREAM_LIMIT */
  readonly cameraMaxStreams: number;
  /** a camera's ffmpeg keeps running this long after its last viewer left */
  readonly cameraIdleGraceMs: number;
  /** no video for this long: unreachable at start, restarted later */
  readonly cameraNoVideoTimeoutMs: number;
  /** restart of an ffmpeg that ended while viewers remain: first delay, doubling up to the max */
  readonly cameraRestartBaseMs: number;
  readonly cameraRestartMaxMs: number;
  /** consecutive restarts without video before the viewers are told CAMERA_UNREACHABLE */
  readonly cameraRestartMaxAttempts: number;
  /** the relayed MPEG-1 video: frame rate (MPEG-1 allows only some) and bitrate */
  readonly cameraFps: number;
  readonly cameraVideoKbps: number;
  readonly ffmpegPath: string;
  /** dashboard: an online tile layer under the bundled basemap, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (null = offline only) */
  readonly tileUrl: string | null;
  /** the attribution its provider asks for, shown on the map */
  readonly tileAttribution: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Parser<T> = (raw: string, variable: string) => T;

const port: Parser<number> = (raw, variable) => {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n > 65535) throw new ConfigError(variable, `expected a TCP port 0-65535 (0 = any free port), got "${raw}"`);
  return n;
};
const positiveInt =
  (min: number, max: number): Parser<number> =>
  (raw, variable) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(variable, `expected a whole number from ${min} to ${max}, got "${raw}"`);
    return n;
  };
const bool: Parser<boolean> = (raw, variable) => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off|)$/i.test(raw)) return false;
  throw new ConfigError(variable, `expected 1 or 0, got "${raw}"`);
};
const url =
  (schemes: string[]): Parser<string> =>
  (raw, variable) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new ConfigError(variable, `expected a URL like ${schemes[0]}://host:port/..., got "${raw}"`);
    }
    if (!schemes.includes(u.protocol.replace(/:$/, ''))) throw new ConfigError(variable, `expected a ${schemes.join(' or ')} URL, got "${u.protocol}"`);
    return raw;
  };
const token: Parser<string> = (raw, variable) => {
  if (raw.length < 16) throw new ConfigError(variable, 'must be at least 16 characters');
  return raw;
};
const oneOf =
  <T extends string>(values: readonly T[]): Parser<T> =>
  (raw, variable) => {
    if (!(values as readonly string[]).includes(raw)) throw new ConfigError(variable, `expected one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };
const text: Parser<string> = (raw) => raw;
/** A slippy-map tile URL template (Leaflet's): http(s) with {z}, {x} and {y}. */
const tileTemplate: Parser<string> = (raw, variable) => {
  url(['https', 'http'])(raw, variable);
  const missing = ['{z}', '{x}', '{y}'].filter((p) => !raw.includes(p));
  if (missing.length) throw new ConfigError(variable, `expected a tile URL template with {z}, {x} and {y} (e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png); ${missing.join(', ')} missing in "${raw}"`);
  return raw;
};
const decimal =
  (min: number, max: number): Parser<number> =>
  (raw, variable) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new ConfigError(variable, `expected a number from ${min} to ${max}, got "${raw}"`);
    return n;
  };

export const DEFAULT_SPEEDS_KMH: Readonly<Record<VehicleType, number>> = Object.freeze({
  ambulance: 40,
  fire_truck: 35,
  police: 40,
  blue_crew_truck: 25,
  garbage_truck: 20,
  other: 30,
});
/** `ambulance=45,garbage_truck=18`: the types named override the defaults */
const speeds: Parser<Readonly<Record<VehicleType, number>>> = (raw, variable) => {
  const out: Record<string, number> = { ...DEFAULT_SPEEDS_KMH };
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [type, value] = part.split('=').map((x) => x.trim());
    const n = Number(value);
    if (!type || !(VEHICLE_TYPES as readonly string[]).includes(type)) throw new ConfigError(variable, `unknown vehicle type "${type}"; expected type=km/h pairs for ${VEHICLE_TYPES.join(', ')}`);
    if (!(n >= 1 && n <= 200)) throw new ConfigError(variable, `speed of ${type} must be 1-200 km/h, got "${value}"`);
    out[type] = n;
  }
  return Object.freeze(out) as Record<VehicleType, number>;
};

const DEFAULT_ISPU_WINDOWS_H: Readonly<Record<IspuPollutant, number>> = Object.freeze(Object.fromEntries(ISPU_POLLUTANTS.map((p) => [p, 24])) as Record<IspuPollutant, number>);
/** `pm25=24,o3=8`: the pollutants named override the 24 h default */
const windows: Parser<Readonly<Record<IspuPollutant, number>>> = (raw, variable) => {
  const out: Record<string, number> = { ...DEFAULT_ISPU_WINDOWS_H };
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, value] = part.split('=').map((x) => x.trim());
    const n = Number(value);
    if (!name || !(ISPU_POLLUTANTS as readonly string[]).includes(name)) throw new ConfigError(variable, `unknown pollutant "${name}"; expected pollutant=hours pairs for ${ISPU_POLLUTANTS.join(', ')}`);
    if (!(n >= 1 && n <= 168)) throw new ConfigError(variable, `window of ${name} must be 1-168 hours, got "${value}"`);
    out[name] = n;
  }
  return Object.freeze(out) as Record<IspuPollutant, number>;
};

interface Spec<T> {
  variable: string;
  parse: Parser<T>;
  fallback: T;
}
const spec = <T>(variable: string, parse: Parser<T>, fallback: T): Spec<T> => ({ variable, parse, fallback });

const SPECS: { [K in keyof Config]: Spec<Config[K]> } = {
  mqttPort: spec('PANTAU_MQTT_PORT', port, 1883),
  httpPort: spec('PANTAU_HTTP_PORT', port, 8080),
  host: spec('PANTAU_HOST', text, '0.0.0.0'),
  databaseUrl: spec<string | null>('DATABASE_URL', url(['postgres', 'postgresql']), null),
  dataDir: spec('PANTAU_DATA_DIR', text, './data'),
  adminToken: spec<string | null>('PANTAU_ADMIN_TOKEN', token, null),
  redisUrl: spec<string | null>('REDIS_URL', url(['redis', 'rediss']), null),
  allowAnonymous: spec('PANTAU_ALLOW_ANONYMOUS', bool, false),
  maxPacketBytes: spec('PANTAU_MAX_PACKET_BYTES', positiveInt(1024, 268_435_455), 256 * 1024),
  maxFutureS: spec('PANTAU_MAX_FUTURE_S', positiveInt(0, 86_400), 300),
  batchMaxRows: spec('PANTAU_BATCH_MAX_ROWS', positiveInt(1, 50_000), 5000),
  batchMaxAgeMs: spec('PANTAU_BATCH_MAX_AGE_MS', positiveInt(1, 10_000), 20),
  writerMaxQueueRows: spec('PANTAU_WRITER_MAX_QUEUE_ROWS', positiveInt(1000, 10_000_000), 10_000),
  compressAfterDays: spec('PANTAU_COMPRESS_AFTER_DAYS', positiveInt(1, 3650), 7),
  retentionDays: spec('PANTAU_RETENTION_DAYS', positiveInt(1, 36_500), 365),
  jobsIntervalS: spec('PANTAU_JOBS_INTERVAL_S', positiveInt(1, 86_400), 60),
  logLevel: spec('PANTAU_LOG_LEVEL', oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const), 'info'),
  etaRoadFactor: spec('PANTAU_ETA_ROAD_FACTOR', decimal(1, 5), 1.4),
  typicalSpeedsKmh: spec('PANTAU_TYPICAL_SPEEDS_KMH', speeds, DEFAULT_SPEEDS_KMH),
  geofenceExitDelayS: spec('PANTAU_GEOFENCE_EXIT_DELAY_S', positiveInt(0, 3600), 10),
  sensorExpectedIntervalS: spec('PANTAU_SENSOR_EXPECTED_INTERVAL_S', positiveInt(1, 86_400), 60),
  sensorStuckReadings: spec('PANTAU_SENSOR_STUCK_READINGS', positiveInt(0, 100_000), 30),
  sensorStuckSpanS: spec('PANTAU_SENSOR_STUCK_SPAN_S', positiveInt(0, 30 * 86_400), 3 * 3600),
  ispuWindowsH: spec('PANTAU_ISPU_WINDOWS_H', windows, DEFAULT_ISPU_WINDOWS_H),
  airAlertMinRank: spec('PANTAU_AIR_ALERT_MIN_RANK', positiveInt(1, 4), 2),
  webhookRetryBaseMs: spec('PANTAU_WEBHOOK_RETRY_BASE_MS', positiveInt(10, 3_600_000), 1000),
  webhookRetryMaxMs: spec('PANTAU_WEBHOOK_RETRY_MAX_MS', positiveInt(10, 86_400_000), 10 * 60_000),
  webhookTimeoutMs: spec('PANTAU_WEBHOOK_TIMEOUT_MS', positiveInt(100, 120_000), 5000),
  deliveryGiveUpS: spec('PANTAU_DELIVERY_GIVE_UP_S', positiveInt(1, 365 * 86_400), 7 * 86_400),
  streamVehicleHz: spec('PANTAU_STREAM_VEHICLE_HZ', decimal(0.01, 100), 1),
  liveTopicIntervalMs: spec('PANTAU_LIVE_TOPIC_INTERVAL_MS', positiveInt(0, 60_000), 50),
  engineUrl: spec<string | null>('PANTAU_ENGINE_URL', url(['http', 'https']), null),
  engineMqttUrl: spec<string | null>('PANTAU_ENGINE_MQTT_URL', url(['mqtt', 'mqtts', 'ws', 'wss']), null),
  replicaToken: spec<string | null>('PANTAU_REPLICA_TOKEN', token, null),
  replicaAuthCacheS: spec('PANTAU_REPLICA_AUTH_CACHE_S', positiveInt(0, 86_400), 60),
  streamBufferEvents: spec('PANTAU_STREAM_BUFFER_EVENTS', positiveInt(10, 1_000_000), 20_000),
  streamBufferAgeS: spec('PANTAU_STREAM_BUFFER_AGE_S', positiveInt(1, 86_400), 300),
  streamMaxBufferedBytes: spec('PANTAU_STREAM_MAX_BUFFERED_BYTES', positiveInt(65_536, 1_073_741_824), 1_048_576),
  streamHeartbeatS: spec('PANTAU_STREAM_HEARTBEAT_S', positiveInt(1, 3600), 15),
  cameraAttachCount: spec('PANTAU_CAMERA_ATTACH_COUNT', positiveInt(0, 50), 3),
  cameraAttachRadiusM: spec('PANTAU_CAMERA_ATTACH_RADIUS_M', positiveInt(1, 100_000), 1000),
  cameraMaxStreams: spec('PANTAU_CAMERA_MAX_STREAMS', positiveInt(1, 1000), 8),
  cameraIdleGraceMs: spec('PANTAU_CAMERA_IDLE_GRACE_MS', positiveInt(0, 3_600_000), 15_000),
  cameraNoVideoTimeoutMs: spec('PANTAU_CAMERA_NO_VIDEO_TIMEOUT_MS', positiveInt(500, 300_000), 10_000),
  cameraRestartBaseMs: spec('PANTAU_CAMERA_RESTART_BASE_MS', positiveInt(10, 600_000), 1000),
  cameraRestartMaxMs: spec('PANTAU_CAMERA_RESTART_MAX_MS', positiveInt(10, 3_600_000), 30_000),
  cameraRestartMaxAttempts: spec('PANTAU_CAMERA_RESTART_MAX_ATTEMPTS', positiveInt(1, 1000), 6),
  // ISO/IEC 11172-2 frame_rate_code: the whole-number rates MPEG-1 can carry
  cameraFps: spec('PANTAU_CAMERA_FPS', (raw, variable) => Number(oneOf(['24', '25', '30', '50', '60'] as const)(raw, variable)), 25),
  cameraVideoKbps: spec('PANTAU_CAMERA_VIDEO_KBPS', positiveInt(64, 50_000), 1000),
  ffmpegPath: spec('FFMPEG_PATH', text, '/usr/bin/ffmpeg'),
  tileUrl: spec<string | null>('PANTAU_TILE_URL', tileTemplate, null),
  tileAttribution: spec('PANTAU_TILE_ATTRIBUTION', text, ''),
};

/** `PANTAU_MQTT_PORT` -> `--mqtt-port`, `DATABASE_URL` -> `--database-url`. */
export function flagName(variable: string): string {
  return '--' + variable.replace(/^PANTAU_/, '').toLowerCase().replace(/_/g, '-');
}

/** Flags given as `--mqtt-port 1884` or `--mqtt-port=1884`, mapped back to variable names. */
function flagsToEnv(argv: readonly string[]): Record<string, string> {
  const byFlag = new Map(Object.values(SPECS).map((s) => [flagName(s.variable), s.variable]));
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const variable = byFlag.get(name);
    if (!variable) continue;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(variable, `flag ${name} needs a value`);
    out[variable] = value;
  }
  return out;
}

/** Builds the frozen config; throws ConfigError naming the variable at the first bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = [], overrides: Partial<Config> = {}): Config {
  const merged: Record<string, string | undefined> = { ...env, ...flagsToEnv(argv) };
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SPECS) as [keyof Config, Spec<unknown>][]) {
    const raw = merged[s.variable];
    out[key] = raw === undefined || raw === '' ? s.fallback : s.parse(raw, s.variable);
  }
  Object.assign(out, overrides);
  out.dataDir = path.resolve(out.dataDir as string);
  return Object.freeze(out) as unknown as Config;
}

/** The variable a config key is read from, for error messages (e.g. a port in use). */
export function variableOf(key: keyof Config): string {
  return SPECS[key].variable;
}
