// Runs the early-warning latency benchmark (bench/warning.ts describes it): the engine as a child
// process, sensors and subscribers provisioned through its API and connected over MQTT from this
// process, the load, the crossings and the figures.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { loadConfig } from '../engine/config.ts';
import { silentLogger } from '../engine/log.ts';
import { openDatabase } from '../store/db.ts';
import { Rng, deriveSeed } from '../simulators/random.ts';
import {
  BENCH_ADMIN_TOKEN,
  machine,
  memoryOf,
  sample,
  sampleSum,
  scrape,
  sleep,
  stampedLog,
  startEngineChild,
  treeRssMiB,
  windowCpuMeter,
  type Samples,
  type StopResult,
} from './proc.ts';
import { fmt } from './warning-report.ts';
import { startReceivers, type Receivers } from './warning-receivers.ts';
import {
  AFFECTED_RADIUS_M,
  BOX,
  CROSSING_CM,
  EARTH_RADIUS_M,
  HYSTERESIS,
  latencyStats,
  LEVELS,
  MAX_INFLIGHT_PER_SENSOR,
  NORMAL_CM,
  SUB_RADIUS_M,
  type StageStats,
  type WarningBenchOptions,
  type WarningBenchResult,
} from './warning-scenario.ts';

const round1 = (x: number): number => Math.round(x * 10) / 10;
/** wall-clock ms with sub-ms resolution (the same clock as Date.now(), monotonic within this process) */
const nowMs = (): number => performance.timeOrigin + performance.now();
const defaultLog = stampedLog('warning');

function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dp = (lat2 - lat1) * rad;
  const dl = (lon2 - lon1) * rad;
  const a = Math.sin(dp / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dl / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Runs fn over items with at most `concurrency` at once; the first error stops the rest and is thrown. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const worker = async (): Promise<void> => {
    while (failed === null && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failed !== null) throw failed;
}

// ---------------------------------------------------------------------------------------------
// The run's state

/** a sensor or a subscriber: its place, credentials and whether its MQTT connection is up */
interface Peer {
  idx: number;
  id: string;
  token: string;
  topic: string;
  lat: number;
  lon: number;
  connected: boolean;
}

/** a subscriber: connected from a receiver process (bench/warning-receivers.ts) */
interface Sub extends Peer {
  radiusM: number;
}

interface Crossing {
  n: number;
  sensorIdx: number;
  sensorId: string;
  tsMs: number;
  value: number;
  expected: readonly number[];
  expectedSet: ReadonlySet<number>;
  t0: number;
  t0Wall: number;
  /** subscriber index -> receipt time (nowMs) */
  received: Map<number, number>;
  pubackMs: number | null;
  resolve: { tsMs: number; t0: number; received: Map<number, number> } | null;
}

/** a sensor: connected from this process, which times its crossings */
interface Sensor extends Peer {
  client: MqttClient | null;
  everConnected: boolean;
  lastTs: number;
  inflight: number;
  crossing: Crossing | null;
  holdUntil: number;
  expected: number[] | null;
}

interface DeliveryMsg {
  event?: string;
  source_id?: string;
  since?: string;
  resolved_at?: string | null;
  delivery_id?: string;
}

const noop = (): void => undefined;
// ---------------------------------------------------------------------------------------------

export async function runWarningBench(input: WarningBenchOptions): Promise<WarningBenchResult> {
  const opts = {
    sensors: input.sensors,
    subscribers: input.subscribers,
    durationS: input.durationS,
    intervalS: input.intervalS,
    crossingsPerS: input.crossingsPerS,
    seed: input.seed,
    warmupS: input.warmupS ?? input.intervalS,
    graceS: input.graceS ?? 10,
    holdS: input.holdS ?? input.intervalS,
    connectBatch: input.connectBatch ?? 200,
    provisionConcurrency: input.provisionConcurrency ?? 16,
    receivers: input.receivers ?? 2,
    engineEnv: input.engineEnv ?? {},
  };
  for (const k of ['sensors', 'subscribers', 'durationS', 'intervalS', 'crossingsPerS', 'connectBatch', 'provisionConcurrency', 'receivers'] as const) {
    if (!(opts[k] > 0)) throw new Error(`runWarningBench: ${k} must be above 0, got ${opts[k]}`);
  }
  const log = input.log ?? defaultLog;
  const startedAt = new Date();
  const host = machine();

  // Seeded places: sensors and subscribers in the Jakarta box, subscriber radii, then noise and picks.
  const placeRng = new Rng(deriveSeed(opts.seed, 1));
  const sensors: Sensor[] = [];
  const width = String(opts.sensors - 1).length;
  for (let i = 0; i < opts.sensors; i++) {
    const id = `wl-${String(i).padStart(width, '0')}`;
    sensors.push({
      idx: i, id, token: '', topic: `pantau/v1/sensors/${id}/reading`,
      lat: round6(placeRng.uniform(BOX.minLat, BOX.maxLat)), lon: round6(placeRng.uniform(BOX.minLon, BOX.maxLon)),
      client: null, connected: false, everConnected: false, lastTs: 0, inflight: 0, crossing: null, holdUntil: 0, expected: null,
    });
  }
  const subRng = new Rng(deriveSeed(opts.seed, 2));
  const subs: Sub[] = [];
  for (let j = 0; j < opts.subscribers; j++) {
    subs.push({
      idx: j, id: '', token: '', topic: '',
      lat: round6(subRng.uniform(BOX.minLat, BOX.maxLat)), lon: round6(subRng.uniform(BOX.minLon, BOX.maxLon)),
      radiusM: Math.round(subRng.uniform(SUB_RADIUS_M.min, SUB_RADIUS_M.max)),
      connected: false,
    });
  }
  const noise = new Rng(deriveSeed(opts.seed, 3));
  const picks = new Rng(deriveSeed(opts.seed, 4));

  // One socket per client: the sensors' in this process, the subscribers' shared by the receivers (which
  // inherit this limit). Say so early when the descriptor limit cannot hold them.
  const fdLimit = Number(/^Max open files\s+(\d+)/m.exec(readOr('/proc/self/limits'))?.[1] ?? Infinity);
  const perProcess = Math.max(opts.sensors, Math.ceil(opts.subscribers / opts.receivers));
  if (fdLimit < perProcess + 200) {
    throw new Error(`a process may open ${fdLimit} files but one needs a socket per client (${perProcess} + a few): raise it with \`ulimit -n ${perProcess + 1000}\``);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-bench-warning-'));
  log(`machine: ${host.line}`);
  log(`plan: ${opts.sensors} sensors every ${opts.intervalS} s, ${opts.subscribers} subscribers, ${opts.crossingsPerS} crossings/s for ${opts.durationS} s (warm-up ${opts.warmupS} s, hold ${opts.holdS} s, grace ${opts.graceS} s), seed ${opts.seed}`);
  const engine = await startEngineChild({ dataDir, env: opts.engineEnv, nodeArgs: input.engineNodeArgs, log });
  const pid = engine.pid;
  const engineReadyAt = nowMs();
  log(engine.ready);

  const headers = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const api = async <T>(method: string, url: string, body: unknown, expect: number): Promise<T> => {
    const res = await fetch(`${engine.httpUrl}/api/v1${url}`, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    if (res.status !== expect) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };

  // Everything that must be closed, whatever happens: each client is taken out of its holder once.
  let receivers: Receivers | null = null;
  const closeAll = async (): Promise<void> => {
    await receivers?.close();
    receivers = null;
    const clients: MqttClient[] = [];
    for (const s of sensors) {
      if (s.client) clients.push(s.client);
      s.client = null;
      s.connected = false;
    }
    for (let i = 0; i < clients.length; i += 1000) await Promise.all(clients.slice(i, i + 1000).map((c) => c.endAsync(true).catch(() => undefined)));
  };
  let scheduler: NodeJS.Timeout | null = null;
  const elMonitor = monitorEventLoopDelay({ resolution: 5 });
  let engineStop: StopResult | null = null;

  try {
    // --- subscribers: create, then connect in batches (persistent sessions, QoS 1 on their topic)
    let t = performance.now();
    await pool(subs, opts.provisionConcurrency, async (s) => {
      const r = await api<{ id: string; token: string; topic: string }>('POST', '/subscribers', {
        name: `bench subscriber ${s.idx}`,
        area: { type: 'Point', coordinates: [s.lon, s.lat] },
        radius_m: s.radiusM,
        kinds: ['water_level'],
      }, 201);
      s.id = r.id;
      s.token = r.token;
      s.topic = r.topic;
    });
    const subscribersCreateS = (performance.now() - t) / 1000;
    log(`${opts.subscribers} subscribers created in ${subscribersCreateS.toFixed(1)} s`);

    const counters = {
      received: 0, badPayload: 0, duplicates: 0, unexpected: 0, unmatched: 0, resolvedDuplicates: 0,
      other: {} as Record<string, number>, subErrors: 0, subReconnects: 0, sensorErrors: 0, sensorReconnects: 0,
    };
    const crossings: Crossing[] = [];
    const crossingByKey = new Map<string, Crossing>();
    const resolveByKey = new Map<string, Crossing>();
    /** delivery_id -> (crossing, receipt) of raised deliveries, to join with the engine's database afterwards */
    const deliveryLog = new Map<string, { crossing: Crossing; atWall: number }>();

    const onDelivery = (s: Sub, payload: string, at: number): void => {
      let m: DeliveryMsg;
      try {
        m = JSON.parse(payload) as DeliveryMsg;
      } catch {
        counters.badPayload++;
        return;
      }
      counters.received++;
      if (m.event === 'raised') {
        const c = crossingByKey.get(`${m.source_id}|${Date.parse(m.since ?? '')}`);
        if (!c) {
          counters.unmatched++;
          return;
        }
        if (c.received.has(s.idx)) {
          counters.duplicates++;
          return;
        }
        c.received.set(s.idx, at);
        if (!c.expectedSet.has(s.idx)) counters.unexpected++;
        if (m.delivery_id) deliveryLog.set(m.delivery_id, { crossing: c, atWall: at });
      } else if (m.event === 'resolved') {
        const c = resolveByKey.get(`${m.source_id}|${Date.parse(m.resolved_at ?? '')}`);
        if (!c?.resolve) {
          counters.other.resolved_unmatched = (counters.other.resolved_unmatched ?? 0) + 1;
          return;
        }
        if (c.resolve.received.has(s.idx)) counters.resolvedDuplicates++;
        else c.resolve.received.set(s.idx, at);
      } else {
        const e = m.event ?? 'none';
        counters.other[e] = (counters.other[e] ?? 0) + 1;
      }
    };

    const inBatches = async <T>(items: readonly T[], fn: (x: T) => Promise<boolean>, what: string): Promise<number> => {
      let ok = 0;
      let nextReport = performance.now() + 10_000;
      for (let i = 0; i < items.length; i += opts.connectBatch) {
        const results = await Promise.all(items.slice(i, i + opts.connectBatch).map(fn));
        ok += results.filter(Boolean).length;
        if (performance.now() >= nextReport) {
          log(`  ${what}: ${ok} of ${items.length} connected`);
          nextReport += 10_000;
        }
      }
      return ok;
    };

    t = performance.now();
    // The subscribers live in receiver processes (bench/warning-receivers.ts), which stamp each receipt.
    receivers = startReceivers(opts.receivers, {
      delivery: (idx, at, payload) => onDelivery(subs[idx]!, payload, at),
      state: (idx, connected) => void (subs[idx]!.connected = connected),
      count: (name) => void counters[name]++,
    });
    const subscribersConnected = await receivers.connect(engine.mqttUrl, subs, opts.connectBatch);
    const subscribersConnectS = (performance.now() - t) / 1000;
    log(`${subscribersConnected} of ${opts.subscribers} subscribers connected and subscribed in ${subscribersConnectS.toFixed(1)} s (${opts.connectBatch} at a time in each of ${opts.receivers} receiver processes)`);
    if (subscribersConnected < opts.subscribers) log(`warning: ${opts.subscribers - subscribersConnected} subscribers did not connect; their deliveries will count as missed`);

    // --- sensors: provisioned after the subscribers, so that no sensor waits long enough before its
    // first reading to be judged offline (3 x PANTAU_SENSOR_EXPECTED_INTERVAL_S)
    t = performance.now();
    await pool(sensors, opts.provisionConcurrency, async (s) => {
      const r = await api<{ id: string; token: string }>('POST', '/devices', { id: s.id, kind: 'sensor', type: 'water_level', name: `bench gauge ${s.idx}`, lat: s.lat, lon: s.lon }, 201);
      s.token = r.token;
    });
    const sensorsCreateS = (performance.now() - t) / 1000;
    log(`${opts.sensors} sensors provisioned in ${sensorsCreateS.toFixed(1)} s`);
    t = performance.now();
    await pool(sensors, opts.provisionConcurrency, async (s) => {
      await api('PUT', `/sensors/${encodeURIComponent(s.id)}/thresholds`, {
        metric: 'water_level_cm', levels: LEVELS, hysteresis: HYSTERESIS, min_duration_s: 0, affected_radius_m: AFFECTED_RADIUS_M,
      }, 200);
    });
    const thresholdsS = (performance.now() - t) / 1000;
    log(`thresholds set on ${opts.sensors} sensors in ${thresholdsS.toFixed(1)} s`);

    // --- load generation
    const load = {
      offered: 0, sent: 0, acked: 0, failed: 0, skippedDisconnected: 0, skippedInflight: 0, lagged: 0,
      inWindow: false, windowOffered: 0, windowSent: 0, windowAcked: 0, pubacks: [] as number[],
    };
    const nextTs = (s: Sensor): number => (s.lastTs = Math.max(Date.now(), s.lastTs + 1));
    const normalValue = (): number => Math.max(0, round1(NORMAL_CM.mean + noise.normal() * NORMAL_CM.sd));
    const publish = (s: Sensor, value: number, tsMs: number, onAck?: (err: Error | undefined) => void): void => {
      const sentAt = performance.now();
      const windowed = load.inWindow;
      load.sent++;
      if (windowed) load.windowSent++;
      s.inflight++;
      s.client!.publish(s.topic, `{"ts":${tsMs},"values":{"water_level_cm":${value}}}`, { qos: 1 }, (err) => {
        s.inflight--;
        if (err) load.failed++;
        else {
          load.acked++;
          if (load.inWindow) load.windowAcked++;
          if (windowed) load.pubacks.push(performance.now() - sentAt);
        }
        onAck?.(err);
      });
    };

    const connectSensor = (s: Sensor): Promise<boolean> =>
      new Promise((resolve) => {
        const options: IClientOptions = {
          clientId: s.id, username: s.id, password: s.token, clean: true,
          keepalive: 60, reconnectPeriod: 2000, connectTimeout: 30_000, reschedulePings: false, log: noop,
        };
        const c = mqtt.connect(engine.mqttUrl, options);
        s.client = c;
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          resolve(false);
        }, 60_000);
        c.on('connect', () => {
          s.connected = true;
          if (!s.everConnected) {
            s.everConnected = true;
            // a gauge reports as soon as it is up: its first reading, at normal level
            publish(s, normalValue(), nextTs(s));
          }
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            resolve(true);
          }
        });
        c.on('close', () => void (s.connected = false));
        c.on('reconnect', () => void counters.sensorReconnects++);
        c.on('error', () => void counters.sensorErrors++);
      });
    t = performance.now();
    const sensorsConnected = await inBatches(sensors, connectSensor, 'sensors');
    const sensorsConnectS = (performance.now() - t) / 1000;
    log(`${sensorsConnected} of ${opts.sensors} sensors connected in ${sensorsConnectS.toFixed(1)} s (each published its first reading)`);

    // One timer drives the schedule: sensor i reports at start + cycle * interval + i * interval / n.
    const periodMs = opts.intervalS * 1000;
    const n = sensors.length;
    const schedStart = performance.now() + 50;
    let cycle = 0;
    let nextIdx = 0;
    let crossingsOn = false;
    let crossAt = 0;
    let crossK = 0;
    const crossEveryMs = 1000 / opts.crossingsPerS;

    const cross = (): void => {
      let s: Sensor | null = null;
      for (let tries = 0; tries < 100 && s === null; tries++) {
        const cand = sensors[picks.int(0, n - 1)]!;
        if (cand.connected && cand.crossing === null && cand.inflight < MAX_INFLIGHT_PER_SENSOR) s = cand;
      }
      if (s === null) return; // every candidate was alerting or offline: counted by the crossings total
      if (s.expected === null) {
        const list: number[] = [];
        for (const sub of subs) if (haversineM(s.lat, s.lon, sub.lat, sub.lon) <= AFFECTED_RADIUS_M + sub.radiusM) list.push(sub.idx);
        s.expected = list;
      }
      const value = round1(picks.uniform(CROSSING_CM.min, CROSSING_CM.max));
      const tsMs = nextTs(s);
      const c: Crossing = {
        n: crossings.length, sensorIdx: s.idx, sensorId: s.id, tsMs, value, expected: s.expected, expectedSet: new Set(s.expected),
        t0: 0, t0Wall: 0, received: new Map(), pubackMs: null, resolve: null,
      };
      crossings.push(c);
      crossingByKey.set(`${s.id}|${tsMs}`, c);
      s.crossing = c;
      s.holdUntil = performance.now() + opts.holdS * 1000;
      c.t0Wall = Date.now();
      c.t0 = nowMs();
      publish(s, value, tsMs, (err) => {
        if (!err) c.pubackMs = nowMs() - c.t0;
      });
    };

    const scheduled = (s: Sensor, dueAt: number, now: number): void => {
      load.offered++;
      if (load.inWindow) load.windowOffered++;
      if (!s.connected) {
        load.skippedDisconnected++;
        return;
      }
      if (s.inflight >= MAX_INFLIGHT_PER_SENSOR) {
        load.skippedInflight++;
        return;
      }
      if (now - dueAt > 100) load.lagged++;
      const c = s.crossing;
      if (c === null) {
        publish(s, normalValue(), nextTs(s));
      } else if (now < s.holdUntil) {
        // still high: the same level, so no alert change
        publish(s, round1(Math.max(LEVELS[0]!.value + 1, c.value + noise.normal())), nextTs(s));
      } else {
        // back to normal: resolves the alert
        const tsMs = nextTs(s);
        c.resolve = { tsMs, t0: nowMs(), received: new Map() };
        resolveByKey.set(`${s.id}|${tsMs}`, c);
        s.crossing = null;
        publish(s, normalValue(), tsMs);
      }
    };

    const tick = (): void => {
      const now = performance.now();
      while (true) {
        const due = schedStart + cycle * periodMs + (nextIdx * periodMs) / n;
        if (due > now) break;
        scheduled(sensors[nextIdx]!, due, now);
        if (++nextIdx === n) {
          nextIdx = 0;
          cycle++;
        }
      }
      while (crossingsOn && crossAt + crossK * crossEveryMs <= now) {
        crossK++;
        cross();
      }
    };
    scheduler = setInterval(tick, 5);

    log(`warm-up: ${opts.warmupS} s of normal readings (${Math.round(n / opts.intervalS)} readings/s)`);
    await sleep(opts.warmupS * 1000);

    // --- the measured window
    const m0 = await scrape(engine.metricsUrl);
    const cpu = windowCpuMeter(pid, receivers.pids);
    elMonitor.enable();
    const w0 = performance.now();
    load.inWindow = true;
    crossAt = w0;
    crossK = 0;
    crossingsOn = true;
    let lagP99MaxS = 0;
    let peakRss = 0;
    let mLast: Samples | null = m0;
    const endAt = w0 + opts.durationS * 1000;
    let nextReport = w0 + 5000;
    let prevAcked = load.windowAcked;
    let prevAt = w0;
    while (performance.now() < endAt) {
      await sleep(Math.min(2000, Math.max(0, endAt - performance.now())));
      const m = await scrape(engine.metricsUrl);
      if (m) {
        mLast = m;
        lagP99MaxS = Math.max(lagP99MaxS, sample(m, 'pantau_process_nodejs_eventloop_lag_p99_seconds'));
      }
      peakRss = Math.max(peakRss, treeRssMiB(pid) ?? 0);
      const now = performance.now();
      if (now >= nextReport || now >= endAt) {
        const got = crossings.reduce((a, c) => a + c.received.size, 0);
        const exp = crossings.reduce((a, c) => a + c.expected.length, 0);
        log(
          `${((now - w0) / 1000).toFixed(0)} s: readings acked ${Math.round(((load.windowAcked - prevAcked) * 1000) / (now - prevAt))}/s, ` +
            `crossings ${crossings.length}, raised deliveries ${got} of ${exp} expected so far | engine loop p99 ${Math.round(sample(mLast, 'pantau_process_nodejs_eventloop_lag_p99_seconds') * 1000)} ms, ` +
            `writer queue ${sample(mLast, 'pantau_writer_queue_rows')}, mqtt clients ${sampleSum(mLast, 'pantau_mqtt_clients')}`,
        );
        prevAcked = load.windowAcked;
        prevAt = now;
        nextReport += 5000;
      }
    }
    crossingsOn = false;
    const windowS = (performance.now() - w0) / 1000;
    load.inWindow = false;
    elMonitor.disable();
    const { target: engineCpu, selfPct: benchCpuPct, machinePct: machineCpuPct, stealPct, others } = cpu(windowS);
    const mem = memoryOf(pid);
    const rssNow = treeRssMiB(pid);
    log(`window over (${windowS.toFixed(1)} s): engine CPU by thread ${engineCpu.top}; bench ${Math.round(benchCpuPct)}%; machine ${Math.round(machineCpuPct)}% of ${host.cores * 100}%${others ? `; others: ${others}` : ''}`);

    // --- drain: held sensors return to normal at their next reading, then deliveries get the grace
    const drainDeadline = performance.now() + (opts.holdS + opts.intervalS + 5) * 1000;
    while (sensors.some((s) => s.crossing !== null) && performance.now() < drainDeadline) await sleep(200);
    const stillHigh = sensors.filter((s) => s.crossing !== null).length;
    if (stillHigh) log(`warning: ${stillHigh} crossing sensors did not get back to normal (disconnected?)`);
    log(`all crossings resolved; waiting ${opts.graceS} s for deliveries in flight`);
    const expectedAll = (): number => crossings.reduce((a, c) => a + c.expected.length, 0);
    const receivedAll = (): number => crossings.reduce((a, c) => a + [...c.received.keys()].filter((k) => c.expectedSet.has(k)).length, 0);
    const graceEnd = performance.now() + opts.graceS * 1000;
    while (performance.now() < graceEnd) {
      await sleep(250);
      // every resolve delivered too: nothing more to wait for
      if (receivedAll() === expectedAll() && crossings.every((c) => !c.resolve || c.resolve.received.size >= c.expected.length)) break;
    }
    const mEnd = (await scrape(engine.metricsUrl)) ?? mLast;
    clearInterval(scheduler);
    scheduler = null;

    // --- the figures (snapshot now: what arrives later is missed)
    const latencies: number[] = [];
    const firsts: number[] = [];
    const lasts: number[] = [];
    let expected = 0;
    let receivedExpected = 0;
    let alertsMissing = 0;
    let withoutRecipients = 0;
    const resolveLat: number[] = [];
    let resolveExpected = 0;
    let resolveReceived = 0;
    const crossingPubacks: number[] = [];
    const perAlert: WarningBenchResult['perAlert'] = [];
    const spanOf = (m: ReadonlyMap<number, number>, from: number): [number | null, number | null] => {
      if (m.size === 0) return [null, null];
      const v = [...m.values()].map((x) => round1(x - from));
      return [Math.min(...v), Math.max(...v)];
    };
    for (const c of crossings) {
      const [f, l] = spanOf(c.received, c.t0);
      const [rf, rl] = c.resolve ? spanOf(c.resolve.received, c.resolve.t0) : [null, null];
      perAlert.push({
        atS: round1((c.t0 - (crossings[0]?.t0 ?? c.t0)) / 1000), engineS: round1((c.t0 - engineReadyAt) / 1000), sensor: c.sensorId, expected: c.expected.length, received: c.received.size,
        firstMs: f, lastMs: l, resolveReceived: c.resolve?.received.size ?? 0, resolveFirstMs: rf, resolveLastMs: rl,
      });
      expected += c.expected.length;
      if (c.expected.length === 0) withoutRecipients++;
      let first = Infinity;
      let last = -Infinity;
      let got = 0;
      for (const j of c.expected) {
        const at = c.received.get(j);
        if (at === undefined) continue;
        got++;
        const l = at - c.t0;
        latencies.push(l);
        first = Math.min(first, l);
        last = Math.max(last, l);
      }
      receivedExpected += got;
      if (got < c.expected.length) alertsMissing++;
      if (got > 0) firsts.push(first);
      if (got > 0 && got === c.expected.length) lasts.push(last);
      if (c.pubackMs !== null) crossingPubacks.push(c.pubackMs);
      if (c.resolve) {
        resolveExpected += c.expected.length;
        for (const j of c.expected) {
          const at = c.resolve.received.get(j);
          if (at === undefined) continue;
          resolveReceived++;
          resolveLat.push(at - c.resolve.t0);
        }
      }
    }
    const delta = (key: string, ...labels: string[]): number => sampleSum(mEnd, key, ...labels) - sampleSum(m0, key, ...labels);
    const commits = sample(mLast, 'pantau_commit_seconds_count') - sample(m0, 'pantau_commit_seconds_count');
    const alertChanges = delta('pantau_alert_changes_total');
    const raised = delta('pantau_alert_changes_total', 'kind="water_level"', 'event="raised"');
    const resolvedN = delta('pantau_alert_changes_total', 'kind="water_level"', 'event="resolved"');
    // sensor health over the whole run (a sensor waiting too long for its first reading would show here)
    const offlineRaised = sampleSum(mEnd, 'pantau_alert_changes_total', 'kind="sensor_offline"', 'event="raised"');
    const stuckRaised = sampleSum(mEnd, 'pantau_alert_changes_total', 'kind="sensor_stuck"', 'event="raised"');
    const mqttClients = sampleSum(mLast, 'pantau_mqtt_clients');
    const readingCommitMeanMs = commits > 0 ? ((sample(mLast, 'pantau_commit_seconds_sum') - sample(m0, 'pantau_commit_seconds_sum')) / commits) * 1000 : null;
    const lat = latencyStats(latencies);
    log(`raised deliveries: ${receivedExpected} of ${expected} expected received (${expected - receivedExpected} missed); p50 ${fmt(lat.p50)} ms, p99 ${fmt(lat.p99)} ms, max ${fmt(lat.max)} ms`);

    // --- stop everything: clients, then the engine (SIGTERM drains), then read its database
    log('closing MQTT clients');
    await closeAll();
    log('stopping the engine (SIGTERM)');
    engineStop = await engine.stop(120_000);
    log(`engine exited (${engineStop.code}) in ${(engineStop.ms / 1000).toFixed(1)} s${engineStop.killed ? ' (killed after 120 s)' : ''}`);
    const { stages, note: stagesNote } = await deliveryStages(dataDir, deliveryLog, log);

    return {
      options: opts,
      machine: host.line,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      setup: { engineStartS: engine.startMs / 1000, subscribersCreateS, subscribersConnectS, sensorsCreateS, thresholdsS, sensorsConnectS, subscribersConnected, sensorsConnected },
      windowS,
      readings: {
        offeredPerS: load.windowOffered / windowS + crossings.length / windowS,
        sentPerS: load.windowSent / windowS,
        ackedPerS: load.windowAcked / windowS,
        skippedDisconnected: load.skippedDisconnected,
        skippedInflight: load.skippedInflight,
        failed: load.failed,
        pubackMs: latencyStats(load.pubacks),
        lagged: load.lagged,
      },
      alerts: {
        crossings: crossings.length, raised, resolved: resolvedN, offlineRaised, stuckRaised,
        otherChanges: alertChanges - raised - resolvedN - (delta('pantau_alert_changes_total', 'kind="sensor_offline"') + delta('pantau_alert_changes_total', 'kind="sensor_stuck"')),
        withoutRecipients, recipientsMean: crossings.length ? expected / crossings.length : 0,
      },
      deliveries: {
        expected, received: receivedExpected, missed: expected - receivedExpected, alertsMissing,
        duplicates: counters.duplicates, unexpected: counters.unexpected, unmatched: counters.unmatched,
        otherEvents: { ...counters.other, ...(counters.badPayload ? { bad_payload: counters.badPayload } : {}), ...(counters.resolvedDuplicates ? { resolved_duplicates: counters.resolvedDuplicates } : {}) },
      },
      latencyMs: lat,
      firstMs: latencyStats(firsts),
      lastMs: latencyStats(lasts),
      resolved: { expected: resolveExpected, received: resolveReceived, latencyMs: latencyStats(resolveLat) },
      crossingPubackMs: latencyStats(crossingPubacks),
      perAlert,
      stages,
      stagesNote,
      engine: {
        cpu: engineCpu, rssMiB: rssNow, peakRssMiB: Math.max(peakRss, mem?.peakMiB ?? 0) || null, loopP99MaxMs: lagP99MaxS * 1000, mqttClients,
        readingCommitMeanMs, readingCommits: commits, stopS: engineStop.ms / 1000, exit: engineStop.code, killed: engineStop.killed,
      },
      bench: {
        cpuPct: benchCpuPct,
        rssMiB: process.memoryUsage().rss / 2 ** 20,
        loopP99Ms: elMonitor.percentile(99) / 1e6,
        loopMaxMs: elMonitor.max / 1e6,
      },
      machineCpu: { totalPct: machineCpuPct, otherPct: Math.max(0, machineCpuPct - engineCpu.totalPct - benchCpuPct), stealPct, others },
    };
  } finally {
    if (scheduler) clearInterval(scheduler);
    elMonitor.disable();
    await closeAll();
    if (!engineStop) await engine.stop(10_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * Splits each received `raised` delivery's latency with the engine's own records (read after it
 * exited): deliveries.created_at is when the alert change and its deliveries were made (the reading
 * evaluated); the MQTT attempt's time minus its duration_ms is when the outbox handed the message to
 * the broker (after the commit of alert + deliveries and the subscription lookup); the attempt's time
 * is when the subscriber's PUBACK came back.
 */
async function deliveryStages(
  dataDir: string,
  received: ReadonlyMap<string, { crossing: Pick<Crossing, 't0Wall'>; atWall: number }>,
  log: (line: string) => void,
): Promise<{ stages: StageStats[] | null; note: string }> {
  if (received.size === 0) return { stages: null, note: 'no deliveries received' };
  let db: Awaited<ReturnType<typeof openDatabase>> | null = null;
  try {
    db = await openDatabase(loadConfig({ PANTAU_DATA_DIR: dataDir, PANTAU_LOG_LEVEL: 'silent' }), silentLogger);
    const rows = await db.query<{ id: string; created: number; attempt_at: number | null; duration_ms: number | null }>(
      `SELECT d.id, extract(epoch FROM d.created_at) * 1000 AS created,
              extract(epoch FROM t.time) * 1000 AS attempt_at, t.duration_ms
         FROM deliveries d LEFT JOIN delivery_attempts t ON t.delivery_id = d.id AND t.ok
        WHERE d.event = 'raised' AND d.channel = 'mqtt'`,
    );
    const evaluated: number[] = [];
    const handed: number[] = [];
    const broker: number[] = [];
    const ackBack: number[] = [];
    let withAttempt = 0;
    for (const r of rows) {
      const got = received.get(r.id);
      if (!got) continue;
      const created = Number(r.created);
      evaluated.push(created - got.crossing.t0Wall);
      if (r.attempt_at === null || r.duration_ms === null) continue;
      withAttempt++;
      const attemptAt = Number(r.attempt_at);
      const handedAt = attemptAt - Number(r.duration_ms);
      handed.push(handedAt - created);
      broker.push(got.atWall - handedAt);
      ackBack.push(attemptAt - got.atWall);
    }
    log(`engine records: ${rows.length} raised MQTT deliveries, ${evaluated.length} matched to receipts, ${withAttempt} with their PUBACK recorded`);
    return {
      stages: [
        { name: 'reading published -> alert evaluated (broker, auth/ACL, decode, live state, thresholds)', ms: latencyStats(evaluated) },
        { name: 'evaluated -> handed to the broker (commit of alert + deliveries, subscription lookup)', ms: latencyStats(handed) },
        { name: 'handed to the broker -> received by the subscriber', ms: latencyStats(broker) },
        { name: 'received -> PUBACK recorded by the engine', ms: latencyStats(ackBack) },
      ],
      note: `${evaluated.length} of ${received.size} received deliveries found in the engine's database, ${withAttempt} with a recorded PUBACK; engine times are Date.now() (ms)`,
    };
  } catch (err) {
    return { stages: null, note: `the engine's database could not be read: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    await db?.close().catch(() => undefined);
  }
}
