// The demo's flood scenario on the Ciliwung: heavy rain over Bogor, Katulampa rising to Siaga 1
// (domain/README.md: 50 -> 210 cm in about 70 min), the wave reaching Depok ~3 h and Manggarai
// ~9 h later. River time runs `timeScale` times faster than the wall clock (default 60: one river
// hour is one minute), and the scenario scales the gauges' travel times and rate-of-rise
// threshold to match, so forecasts and arrivals line up as they would on the real river.
import mqtt, { type MqttClient } from 'mqtt';
import type { SimStation } from './stations.ts';
import type { SimLogger } from './runner.ts';

const HOUR_MS = 3_600_000;
const MIN_MS = 60_000;

export interface FloodOptions {
  apiUrl: string;
  mqttUrl: string;
  adminToken: string;
  stations: readonly SimStation[];
  /** river seconds per wall second (default 60) */
  timeScale?: number;
  /** wall seconds before the rain starts (default 60) */
  startAfterS?: number;
  /** wall minutes between the starts of two episodes (default: the episode's length plus 10 minutes) */
  repeatEveryMin?: number;
  log: SimLogger;
}

interface Wave {
  gaugeId: string;
  /** river time from the start of the episode to the start of the rise */
  riseStartMs: number;
  riseMs: number;
  holdMs: number;
  /** e-folding time of the recession */
  recessMs: number;
  /** cm added at the crest (the station's own level comes on top) */
  crestCm: number;
}

// Crests put each gauge past the level the story needs: Katulampa and Depok to Siaga 1, Manggarai
// to Siaga 3 or 2 (levels from domain/jakarta-gauges.json; the stations idle at 40-65% of Siaga 3).
// Depok recedes slowly enough to stay above normal until the wave reaches Manggarai: a forecast is
// withdrawn when its upstream gauge recedes.
const WAVES: readonly Wave[] = [
  { gaugeId: 'katulampa', riseStartMs: 1.5 * HOUR_MS, riseMs: 70 * MIN_MS, holdMs: 1 * HOUR_MS, recessMs: 2 * HOUR_MS, crestCm: 200 },
  { gaugeId: 'depok', riseStartMs: 4.5 * HOUR_MS, riseMs: 2 * HOUR_MS, holdMs: 1.5 * HOUR_MS, recessMs: 6 * HOUR_MS, crestCm: 270 },
  { gaugeId: 'manggarai', riseStartMs: 10.5 * HOUR_MS, riseMs: 2 * HOUR_MS, holdMs: 2 * HOUR_MS, recessMs: 4 * HOUR_MS, crestCm: 520 },
];
/** heavy rain over Bogor for 3 river hours from the episode's start, mm per river hour */
const RAIN = { startMs: 0, endMs: 3 * HOUR_MS, peakMmPerH: 60 };
const EPISODE_MS = 24 * HOUR_MS;
export const RAIN_GAUGE = { id: 'hujan-katulampa', name: 'Curah hujan Katulampa (Bogor)', lat: -6.64, lon: 106.84 };

/** Cosine-smoothed rise, a hold at the crest, then exponential recession. */
export function waveCm(w: Wave, riverMs: number): number {
  const t = riverMs - w.riseStartMs;
  if (t <= 0) return 0;
  if (t < w.riseMs) return (w.crestCm * (1 - Math.cos((Math.PI * t) / w.riseMs))) / 2;
  if (t < w.riseMs + w.holdMs) return w.crestCm;
  return w.crestCm * Math.exp(-(t - w.riseMs - w.holdMs) / w.recessMs);
}

export function rainMmPerH(riverMs: number): number {
  if (riverMs < RAIN.startMs || riverMs > RAIN.endMs) return 0;
  return RAIN.peakMmPerH * Math.sin((Math.PI * (riverMs - RAIN.startMs)) / (RAIN.endMs - RAIN.startMs));
}

export interface FloodScenario {
  stop(): Promise<void>;
}

export async function startFloodScenario(opts: FloodOptions): Promise<FloodScenario> {
  const scale = opts.timeScale ?? 60;
  if (!(scale >= 1 && scale <= 3600)) throw new Error(`flood scenario: timeScale must be 1-3600, got ${scale}`);
  const base = opts.apiUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'application/json' };
  const api = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const res = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status >= 400 && res.status !== 409) throw new Error(`flood scenario: ${method} ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return res;
  };

  // Thresholds on the river's clock: travel times and the rate of rise divided and multiplied by the scale.
  await api('PUT', '/sensors/katulampa/thresholds', {
    metric: 'water_level_cm',
    levels: [{ name: 'SIAGA_3', value: 80 }, { name: 'SIAGA_2', value: 150 }, { name: 'SIAGA_1', value: 200 }],
    hysteresis: 5,
    rate_of_rise_per_10min: 15 * scale,
    downstream: [{ sensor_id: 'depok', travel_s: (3 * 3600) / scale }],
  });
  await api('PUT', '/sensors/depok/thresholds', {
    metric: 'water_level_cm',
    levels: [{ name: 'SIAGA_3', value: 200 }, { name: 'SIAGA_2', value: 270 }, { name: 'SIAGA_1', value: 350 }],
    hysteresis: 5,
    downstream: [{ sensor_id: 'manggarai', travel_s: (6 * 3600) / scale }],
  });

  // The rain gauge is the scenario's own device.
  let res = await api('POST', '/devices', { id: RAIN_GAUGE.id, kind: 'sensor', type: 'rain', name: RAIN_GAUGE.name, lat: RAIN_GAUGE.lat, lon: RAIN_GAUGE.lon, meta: { simulated: true, scenario: 'flood' } });
  if (res.status === 409) res = await api('POST', `/devices/${RAIN_GAUGE.id}/token`, {});
  const { token } = (await res.json()) as { token: string };
  const rain: MqttClient = await mqtt.connectAsync(opts.mqttUrl, { username: RAIN_GAUGE.id, password: token, clientId: `sim-${RAIN_GAUGE.id}`, reconnectPeriod: 2000 });

  const gauges = new Map(opts.stations.filter((s) => s.type === 'water_level').map((s) => [s.id, s]));
  const episodeWallMs = EPISODE_MS / scale;
  const repeatMs = (opts.repeatEveryMin ?? episodeWallMs / MIN_MS + 10) * MIN_MS;
  const t0 = Date.now() + (opts.startAfterS ?? 60) * 1000;
  const told = new Set<string>();
  const tell = (key: string, msg: string) => {
    if (told.has(key)) return;
    told.add(key);
    opts.log.info({ scenario: 'flood' }, msg);
  };
  opts.log.info({ scenario: 'flood', startsInS: opts.startAfterS ?? 60, timeScale: scale }, `flood scenario: rain over Bogor in ${opts.startAfterS ?? 60} s; one river hour = ${60 / scale} wall minute(s)`);

  // the rain gauge reports every 15 river minutes; the bias is updated every 5 (at most once a second)
  const rainEveryMs = Math.max(100, (15 * MIN_MS) / scale);
  const stepMs = Math.min(1000, Math.max(50, (5 * MIN_MS) / scale));
  let lastRainMs = Date.now();
  const step = () => {
    const now = Date.now();
    const sinceStart = now - t0;
    const episode = sinceStart < 0 ? -1 : Math.floor(sinceStart / repeatMs);
    const riverMs = sinceStart < 0 ? -1 : ((sinceStart % repeatMs) * scale);
    for (const w of WAVES) {
      const g = gauges.get(w.gaugeId);
      if (!g) continue;
      const cm = riverMs < 0 || riverMs > EPISODE_MS ? 0 : waveCm(w, riverMs);
      g.bias.water_level_cm = Math.round(cm);
      if (cm > 0) tell(`${episode}:${w.gaugeId}:rise`, `flood scenario: ${g.name} is rising`);
    }
    // Rain: the depth that fell since the last report, in river time.
    const dtRiverH = ((now - lastRainMs) * scale) / HOUR_MS;
    if (now - lastRainMs >= rainEveryMs) {
      const mmPerH = riverMs < 0 ? 0 : rainMmPerH(riverMs);
      if (mmPerH > 0) tell(`${episode}:rain`, 'flood scenario: heavy rain over Bogor');
      rain.publish(`pantau/v1/sensors/${RAIN_GAUGE.id}/reading`, JSON.stringify({ ts: now, values: { rain_mm: Math.round(mmPerH * dtRiverH * 10) / 10 } }), { qos: 1 });
      lastRainMs = now;
    }
  };
  const timer = setInterval(step, stepMs);
  step();

  return {
    async stop() {
      clearInterval(timer);
      for (const w of WAVES) {
        const g = gauges.get(w.gaugeId);
        if (g) g.bias.water_level_cm = 0;
      }
      await rain.endAsync().catch(() => undefined);
    },
  };
}
