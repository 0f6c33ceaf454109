// Runs the simulated city against a broker: provisions every device through the HTTP API, opens one
// MQTT connection per device with its own credentials, and publishes on a single small-tick scheduler
// (one timer for all devices; each device keeps its own due time, so offered rates stay exact).

import { connect, type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { VehicleStatus } from '../ingest/model.ts';
import { createCity, type City, type FleetSize, type SimVehicle, type VehicleFix } from './city.ts';
import { LatencyHistogram } from './histogram.ts';
import {
  encodeFix,
  encodeFixArray,
  encodeOwnTracks,
  encodeOwnTracksLwt,
  encodeReading,
  encodeSenml,
  encodeStatus,
  topics,
} from './payloads.ts';
import { mulberry32 } from './random.ts';
import { createStations, type SimStation } from './stations.ts';

/** Structurally the engine's logger (engine/log.ts): fields first, then the message. */
export interface SimLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export const consoleLogger: SimLogger = {
  info: (fields, msg) => process.stderr.write(`info ${msg} ${JSON.stringify(fields)}\n`),
  warn: (fields, msg) => process.stderr.write(`warn ${msg} ${JSON.stringify(fields)}\n`),
  error: (fields, msg) => process.stderr.write(`error ${msg} ${JSON.stringify(fields)}\n`),
};

export interface SimulationOptions {
  /** mqtt://, mqtts://, ws:// or wss:// */
  mqttUrl: string;
  /** base URL of the engine's HTTP API (without /api/v1); required when provisioning */
  apiUrl?: string;
  /** admin bearer token; required when provisioning */
  adminToken?: string;
  /** provision devices through the API and use their tokens (default true) */
  provision?: boolean;
  /** shared MQTT credentials when provision is false (omit both for an anonymous broker) */
  username?: string;
  password?: string;
  seed?: number;
  /** default DEFAULT_FLEET (80 / 300 / 100) */
  fleet?: Partial<FleetSize>;
  /** number of sensor stations (default 27: the 12 gauges and 15 air-quality stations) */
  sensors?: number;
  /** default 60 s */
  sensorIntervalMs?: number;
  /**
   * Load mode: every vehicle publishes at this rate (fixes/s), phases spread evenly so the total
   * offered rate is smooth. Also turns off OwnTracks, status messages and offline buffering and
   * sends epoch-ms timestamps, so every message is one native fix.
   */
  vehicleRateHz?: number;
  /** share of garbage trucks publishing OwnTracks (default 0.1; 0 in load mode) */
  owntracksFraction?: number;
  /** default 1 */
  qos?: 0 | 1;
  /** prepended to every device id (default none, so gauges keep their ids) */
  idPrefix?: string;
  /** spread connection opening over this long (default 1500 ms) */
  rampMs?: number;
  /** scheduler tick (default 10 ms in load mode, 50 ms in city mode) */
  tickMs?: number;
  /** city model step (default 100 ms) */
  stepMs?: number;
  /** unacknowledged QoS 1 publishes per device before further fixes are skipped (default 1000) */
  maxInflightPerDevice?: number;
  /** buffer fixes while offline and send them as one `positions` array on reconnect (default true; false in load mode) */
  bufferWhileOffline?: boolean;
  /** publish `status` on connect and on change (default true; false in load mode) */
  publishStatus?: boolean;
  ambulanceCallsPerDay?: number;
  /** parallel provisioning requests (default 16) */
  provisionConcurrency?: number;
  /**
   * Added to every fix's seq. Default: deciseconds since 2024-01-01, so a rerun against a running
   * engine does not repeat seq values of an earlier run (fits a 32-bit int until 2030).
   */
  seqStart?: number;
  /** how long stop() waits for in-flight acks before closing sockets (default 2000 ms) */
  stopFlushMs?: number;
  logger?: SimLogger;
}

export interface SimulationStats {
  devices: number;
  connected: number;
  /** publish() calls */
  sent: number;
  /** publishes completed: PUBACK received (QoS 1) or written to the socket (QoS 0) */
  acked: number;
  /** client errors and failed publishes */
  errors: number;
  /** publish() call to its callback */
  pubackLatencyMs: { p50: number; p99: number; max: number };
  /** fixes and readings the schedule produced for connected-at-least-once devices */
  offered: number;
  /** offered but not published on their own: device offline (buffered in city mode) or in-flight cap */
  skipped: number;
  /** schedule slots dropped because this process's event loop fell more than 1 s behind */
  lagged: number;
  /** publishes awaiting their callback now */
  inflight: number;
  reconnects: number;
  /** since start or the last resetStats() */
  elapsedMs: number;
}

export interface SimulationHandle {
  readonly deviceIds: readonly string[];
  readonly city: City;
  readonly stations: readonly SimStation[];
  stats(): SimulationStats;
  /** zeroes the counters and the latency histogram (devices, connected and inflight are live values) */
  resetStats(): void;
  /** resolves true once every device is connected, false on timeout */
  waitForConnections(timeoutMs?: number): Promise<boolean>;
  /** stops publishing, waits briefly for in-flight acks, disconnects every client */
  stop(): Promise<void>;
  /** resolves after stop() completed */
  readonly done: Promise<void>;
}

type Mode = 'native' | 'owntracks' | 'reading' | 'senml';

interface Slot {
  readonly id: string;
  readonly kind: 'vehicle' | 'sensor';
  readonly type: string;
  readonly vehicle: SimVehicle | null;
  readonly station: SimStation | null;
  readonly mode: Mode;
  readonly topic: string;
  readonly positionsTopic: string;
  readonly statusTopic: string;
  readonly isoTs: boolean;
  readonly tid: string;
  readonly intervalMs: number;
  nextDueMs: number;
  lastTsMs: number;
  client: MqttClient | null;
  connected: boolean;
  everConnected: boolean;
  inflight: number;
  password: string | undefined;
  lastStatus: VehicleStatus | null;
  buffer: string[] | null;
}

const OFFLINE_BUFFER_MAX = 120;

/** A slot's connection state before its device first connects. */
function freshConnection(): Pick<Slot, 'lastTsMs' | 'client' | 'connected' | 'everConnected' | 'inflight' | 'password' | 'lastStatus'> {
  return { lastTsMs: 0, client: null, connected: false, everConnected: false, inflight: 0, password: undefined, lastStatus: null };
}
const noop = (): void => {};
const LAG_LIMIT_MS = 1000;
const MQTT_PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:']);

function rateLimitedLog(logger: SimLogger, windowMs = 5000) {
  const seen = new Map<string, { until: number; suppressed: number }>();
  return (level: keyof SimLogger, fields: Record<string, unknown>, msg: string): void => {
    const now = Date.now();
    const entry = seen.get(msg);
    if (entry && now < entry.until) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    seen.set(msg, { until: now + windowMs, suppressed: 0 });
    try {
      logger[level](suppressed > 0 ? { ...fields, suppressedSinceLast: suppressed } : fields, msg);
    } catch {
      // a broken logger must not break the simulation
    }
  };
}

export async function runSimulation(opts: SimulationOptions): Promise<SimulationHandle> {
  const logger = opts.logger ?? consoleLogger;
  const log = rateLimitedLog(logger);
  let url: URL;
  try {
    url = new URL(opts.mqttUrl);
  } catch {
    throw new Error(`runSimulation: mqttUrl "${opts.mqttUrl}" is not a URL; expected mqtt://HOST:PORT`);
  }
  if (!MQTT_PROTOCOLS.has(url.protocol)) throw new Error(`runSimulation: mqttUrl must start with mqtt://, mqtts://, ws:// or wss://, got "${opts.mqttUrl}"`);
  const provision = opts.provision ?? true;
  if (provision && (!opts.apiUrl || !opts.adminToken)) {
    throw new Error('runSimulation: provisioning needs apiUrl and adminToken (or pass provision: false)');
  }
  const loadMode = opts.vehicleRateHz !== undefined;
  if (loadMode && !(opts.vehicleRateHz! > 0)) throw new Error(`runSimulation: vehicleRateHz must be > 0, got ${opts.vehicleRateHz}`);
  const seed = opts.seed ?? 1;
  const qos = opts.qos ?? 1;
  // City trackers report every 1-30 s, so a coarser tick is plenty; load mode needs 10 ms for smooth rates.
  const tickMs = opts.tickMs ?? (loadMode ? 10 : 50);
  const stepMs = opts.stepMs ?? 100;
  const rampMs = opts.rampMs ?? 1500;
  const maxInflight = opts.maxInflightPerDevice ?? 1000;
  const bufferWhileOffline = opts.bufferWhileOffline ?? !loadMode;
  const publishStatus = opts.publishStatus ?? !loadMode;
  const sensorIntervalMs = opts.sensorIntervalMs ?? 60_000;
  if (!(sensorIntervalMs > 0)) throw new Error(`runSimulation: sensorIntervalMs must be > 0, got ${sensorIntervalMs}`);
  const idPrefix = opts.idPrefix ?? '';

  const startWallMs = Date.now();
  const city = createCity({
    seed,
    fleet: opts.fleet,
    startMs: startWallMs,
    idPrefix,
    owntracksFraction: opts.owntracksFraction ?? (loadMode ? 0 : 0.1),
    ambulanceCallsPerDay: opts.ambulanceCallsPerDay,
    seqStart: opts.seqStart ?? Math.floor((startWallMs - Date.UTC(2024, 0, 1)) / 100),
  });
  const stations = createStations({ seed, count: opts.sensors, idPrefix });

  // Due times are on the monotonic clock; payload timestamps on the wall clock.
  const rng = mulberry32(seed ^ 0x2f6b);
  const t0 = performance.now();
  const slots: Slot[] = [];
  const vehicleIntervalMs = loadMode ? 1000 / opts.vehicleRateHz! : 0;
  city.vehicles.forEach((v, i) => {
    const intervalMs = loadMode ? vehicleIntervalMs : v.reportIntervalMs;
    const phase = loadMode ? (i / city.vehicles.length) * intervalMs : rng() * intervalMs;
    const mode: Mode = v.owntracks ? 'owntracks' : 'native';
    slots.push({
      id: v.id,
      kind: 'vehicle',
      type: v.type,
      vehicle: v,
      station: null,
      mode,
      topic: v.owntracks ? topics.owntracks(v.owntracks) : topics.position(v.id),
      positionsTopic: topics.positions(v.id),
      statusTopic: topics.status(v.id),
      // Dispatch-grade ambulance terminals send ISO strings, the truck trackers epoch ms: both decoders' paths.
      isoTs: !loadMode && v.type === 'ambulance',
      tid: v.id.slice(-2),
      intervalMs,
      nextDueMs: t0 + phase,
      ...freshConnection(),
      buffer: bufferWhileOffline ? [] : null,
    });
  });
  stations.forEach((s, i) => {
    const phase = loadMode ? (i / stations.length) * sensorIntervalMs : rng() * sensorIntervalMs;
    slots.push({
      id: s.id,
      kind: 'sensor',
      type: s.type,
      vehicle: null,
      station: s,
      mode: s.format,
      topic: s.format === 'senml' ? topics.senml(s.id) : topics.reading(s.id),
      positionsTopic: '',
      statusTopic: '',
      isoTs: true,
      tid: '',
      intervalMs: sensorIntervalMs,
      nextDueMs: t0 + phase,
      ...freshConnection(),
      buffer: null,
    });
  });

  if (provision) {
    await provisionAll(slots, opts.apiUrl!, opts.adminToken!, opts.provisionConcurrency ?? 16, logger);
  } else {
    for (const s of slots) s.password = opts.password;
  }

  const counters = { sent: 0, acked: 0, errors: 0, offered: 0, skipped: 0, lagged: 0, reconnects: 0 };
  const hist = new LatencyHistogram();
  let statsStart = performance.now();
  let generation = 0;
  let connectedCount = 0;
  let inflightTotal = 0;
  let stopping = false;
  const pubOpts: IClientPublishOptions = { qos };
  const scratch: VehicleFix = { ts: 0, lat: 0, lon: 0, speed_kmh: 0, heading: 0, accuracy_m: 0, seq: 0 };

  const send = (s: Slot, topic: string, payload: string): void => {
    if (s.inflight >= maxInflight) {
      counters.skipped++;
      return;
    }
    s.inflight++;
    inflightTotal++;
    counters.sent++;
    const started = performance.now();
    const gen = generation;
    s.client!.publish(topic, payload, pubOpts, (err) => {
      s.inflight--;
      inflightTotal--;
      // Completions of publishes sent before resetStats() belong to the previous window.
      if (gen !== generation) return;
      if (err) {
        if (!stopping) {
          counters.errors++;
          log('warn', { device: s.id, topic, error: err.message }, 'publish failed');
        }
        return;
      }
      counters.acked++;
      hist.record(performance.now() - started);
    });
  };

  const sendStatus = (s: Slot, nowWall: number): void => {
    const status = s.vehicle!.status;
    s.lastStatus = status;
    send(s, s.statusTopic, encodeStatus(nowWall, status));
  };

  const onConnect = (s: Slot): void => {
    if (!s.connected) {
      s.connected = true;
      connectedCount++;
    }
    s.everConnected = true;
    if (stopping || !s.vehicle) return;
    const nowWall = Date.now();
    if (publishStatus) sendStatus(s, nowWall);
    if (s.buffer && s.buffer.length > 0) {
      // A tracker's backlog after a reconnect: one `positions` array (OwnTracks sends them one by one).
      if (s.mode === 'owntracks') for (const p of s.buffer) send(s, s.topic, p);
      else send(s, s.positionsTopic, encodeFixArray(s.buffer));
      s.buffer = [];
    }
  };

  const emit = (s: Slot, nowWall: number): void => {
    counters.offered++;
    let payload: string;
    if (s.vehicle) {
      // ts strictly increases per device: the engine treats a repeated (device, ts) as a duplicate.
      const ts = nowWall > s.lastTsMs ? nowWall : s.lastTsMs + 1;
      s.lastTsMs = ts;
      s.vehicle.writeFix(ts, scratch);
      payload = s.mode === 'owntracks' ? encodeOwnTracks(scratch, s.tid) : encodeFix(scratch, s.isoTs);
    } else {
      const values = s.station!.sample(nowWall);
      payload = s.mode === 'senml' ? encodeSenml(s.id, nowWall, values) : encodeReading(nowWall, values);
    }
    if (!s.connected) {
      counters.skipped++;
      if (s.buffer) {
        s.buffer.push(payload);
        if (s.buffer.length > OFFLINE_BUFFER_MAX) s.buffer.shift();
      }
      return;
    }
    send(s, s.topic, payload);
  };

  let lastStepPerf = performance.now();
  const tick = (): void => {
    try {
      const nowPerf = performance.now();
      if (nowPerf - lastStepPerf >= stepMs) {
        // Cap a huge gap (a suspended laptop) so the city does not fast-forward hours.
        city.step(Math.min(nowPerf - lastStepPerf, 60_000));
        lastStepPerf = nowPerf;
        if (publishStatus) {
          const nowWall = Date.now();
          for (const s of slots) {
            if (s.vehicle && s.connected && s.vehicle.status !== s.lastStatus) sendStatus(s, nowWall);
          }
        }
      }
      const nowWall = Date.now();
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i]!;
        if (s.nextDueMs > nowPerf) continue;
        if (!s.everConnected) {
          // The schedule starts with the device's first connection; keep its phase meanwhile.
          while (s.nextDueMs <= nowPerf) s.nextDueMs += s.intervalMs;
          continue;
        }
        const behind = nowPerf - s.nextDueMs;
        if (behind > LAG_LIMIT_MS) {
          const missed = Math.floor(behind / s.intervalMs);
          counters.lagged += missed;
          s.nextDueMs += missed * s.intervalMs;
        }
        while (s.nextDueMs <= nowPerf) {
          emit(s, nowWall);
          s.nextDueMs += s.intervalMs;
        }
      }
    } catch (err) {
      counters.errors++;
      log('error', { error: err instanceof Error ? err.message : String(err) }, 'simulation tick failed');
    }
  };

  const openClient = (s: Slot): void => {
    const options: IClientOptions = {
      clientId: s.id,
      clean: true,
      // 1-2 s, jittered so a broker restart is not answered by every device in the same millisecond.
      reconnectPeriod: 1000 + Math.floor(rng() * 1000),
      connectTimeout: 10_000,
      keepalive: 60,
      // Lean publish path: no keepalive timer reset per publish (traffic already keeps the
      // connection alive) and no per-call debug logging.
      reschedulePings: false,
      log: noop,
    };
    const username = provision ? s.id : opts.username;
    if (username !== undefined) options.username = username;
    if (s.password !== undefined) options.password = s.password;
    if (s.mode === 'owntracks') options.will = { topic: s.topic, payload: Buffer.from(encodeOwnTracksLwt(Date.now())), qos: 0, retain: false };
    let client: MqttClient;
    try {
      client = connect(opts.mqttUrl, options);
    } catch (err) {
      counters.errors++;
      log('error', { device: s.id, error: err instanceof Error ? err.message : String(err) }, 'mqtt connect failed');
      return;
    }
    s.client = client;
    client.on('connect', () => onConnect(s));
    client.on('close', () => {
      if (s.connected) {
        s.connected = false;
        connectedCount--;
      }
    });
    client.on('reconnect', () => {
      counters.reconnects++;
    });
    client.on('error', (err) => {
      if (stopping) return;
      counters.errors++;
      log('warn', { device: s.id, error: err.message }, 'mqtt client error');
    });
  };

  // Open connections in small batches every 10 ms over rampMs, never all in one tick.
  const perBatch = Math.max(1, Math.ceil(slots.length / Math.max(1, rampMs / 10)));
  let nextToOpen = 0;
  const openBatch = (): void => {
    for (let k = 0; k < perBatch && nextToOpen < slots.length; k++) openClient(slots[nextToOpen++]!);
    if (nextToOpen >= slots.length) clearInterval(rampTimer);
  };
  const rampTimer = setInterval(openBatch, 10);
  openBatch();
  const tickTimer = setInterval(tick, tickMs);

  logger.info(
    {
      vehicles: city.vehicles.length,
      sensors: stations.length,
      mqttUrl: opts.mqttUrl,
      mode: loadMode ? `load ${opts.vehicleRateHz} Hz per vehicle` : 'city',
      qos,
    },
    'simulation started',
  );

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  let stopPromise: Promise<void> | null = null;
  const stopFlushMs = opts.stopFlushMs ?? 2000;

  const closeClient = (s: Slot): Promise<void> =>
    new Promise<void>((resolve) => {
      const c = s.client;
      if (!c) return resolve();
      const timer = setTimeout(() => {
        // Acks did not arrive in time: drop the socket (end() is already in progress).
        (c.stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
        resolve();
      }, stopFlushMs);
      c.end(!s.connected, () => {
        clearTimeout(timer);
        resolve();
      });
    });

  const stats = (): SimulationStats => ({
    devices: slots.length,
    connected: connectedCount,
    sent: counters.sent,
    acked: counters.acked,
    errors: counters.errors,
    pubackLatencyMs: { p50: hist.quantile(0.5), p99: hist.quantile(0.99), max: hist.max },
    offered: counters.offered,
    skipped: counters.skipped,
    lagged: counters.lagged,
    inflight: inflightTotal,
    reconnects: counters.reconnects,
    elapsedMs: performance.now() - statsStart,
  });

  return {
    deviceIds: slots.map((s) => s.id),
    city,
    stations,
    stats,
    resetStats(): void {
      for (const k of Object.keys(counters) as Array<keyof typeof counters>) counters[k] = 0;
      hist.reset();
      generation++;
      statsStart = performance.now();
    },
    async waitForConnections(timeoutMs = 30_000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (connectedCount < slots.length) {
        if (stopping || Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    },
    stop(): Promise<void> {
      if (stopPromise) return stopPromise;
      stopping = true;
      clearInterval(tickTimer);
      clearInterval(rampTimer);
      stopPromise = Promise.all(slots.map(closeClient)).then(() => {
        logger.info({ ...stats() }, 'simulation stopped');
        resolveDone();
      });
      return stopPromise;
    },
    done,
  };
}

interface DeviceBody {
  id: string;
  kind: 'vehicle' | 'sensor';
  type: string;
  name: string;
  lat?: number;
  lon?: number;
  owntracks?: string;
  meta: Record<string, unknown>;
}

function deviceBody(s: Slot): DeviceBody {
  if (s.vehicle) {
    const v = s.vehicle;
    const body: DeviceBody = { id: v.id, kind: 'vehicle', type: v.type, name: v.name, meta: { simulated: true, home: v.home.name } };
    if (v.owntracks) body.owntracks = v.owntracks;
    return body;
  }
  const st = s.station!;
  return { id: st.id, kind: 'sensor', type: st.type, name: st.name, lat: st.lat, lon: st.lon, meta: st.meta };
}

/**
 * CONTRACT.md: POST /api/v1/devices -> 201 {id, token}; an existing id -> 409 DEVICE_EXISTS, then
 * POST /api/v1/devices/{id}/token rotates and returns a fresh token.
 */
async function provisionAll(slots: Slot[], apiUrl: string, adminToken: string, concurrency: number, logger: SimLogger): Promise<void> {
  const base = apiUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  let created = 0;
  let rotated = 0;
  let next = 0;
  let failure: Error | null = null;

  const readToken = async (res: Response, what: string): Promise<string> => {
    const body = (await res.json().catch(() => null)) as { token?: unknown } | null;
    if (!body || typeof body.token !== 'string') throw new Error(`provisioning: ${what} answered ${res.status} without a token`);
    return body.token;
  };
  const explain = async (res: Response, what: string): Promise<Error> => {
    const text = await res.text().catch(() => '');
    const hint = res.status === 401 || res.status === 403 ? ' (check the admin token)' : '';
    return new Error(`provisioning: ${what} answered ${res.status}${hint}: ${text.slice(0, 300)}`);
  };

  const one = async (s: Slot): Promise<void> => {
    const what = `POST ${base}/api/v1/devices (${s.id})`;
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1/devices`, { method: 'POST', headers, body: JSON.stringify(deviceBody(s)) });
    } catch (err) {
      throw new Error(`provisioning: cannot reach ${base}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (res.status === 201 || res.status === 200) {
      s.password = await readToken(res, what);
      created++;
      return;
    }
    if (res.status !== 409) throw await explain(res, what);
    await res.body?.cancel();
    const rotateWhat = `POST ${base}/api/v1/devices/${s.id}/token`;
    // A JSON body, because fastify refuses an empty body declared as application/json.
    const rot = await fetch(`${base}/api/v1/devices/${encodeURIComponent(s.id)}/token`, { method: 'POST', headers, body: '{}' });
    if (rot.status !== 200 && rot.status !== 201) throw await explain(rot, rotateWhat);
    s.password = await readToken(rot, rotateWhat);
    rotated++;
  };

  const worker = async (): Promise<void> => {
    while (failure === null && next < slots.length) {
      const s = slots[next++]!;
      try {
        await one(s);
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, slots.length)) }, worker));
  if (failure) throw failure;
  logger.info({ created, rotated, apiUrl: base }, 'devices provisioned');
}

/** The demo's city (engine/cli.ts): runSimulation in city mode, taking the engine's logger as `log`. */
export function runCity(opts: Omit<SimulationOptions, 'logger' | 'vehicleRateHz'> & { log?: SimLogger }): Promise<SimulationHandle> {
  const { log, ...rest } = opts;
  return runSimulation({ ...rest, logger: log ?? consoleLogger });
}
