// Early warning: turns live sensor readings into alert changes. Per sensor and metric a
// GaugeEvaluator (levels with hysteresis and minimum duration, rate of rise, stuck values); per
// sensor an offline watch; per air-quality station rolling ISPU windows; along the rivers a
// ForecastBook. Evaluation is synchronous in the ingest pipeline (arrival order), the alert
// commits are the AlertCenter's.
import gaugesJson from '../domain/jakarta-gauges.json' with { type: 'json' };
import type { Db } from '../store/db.ts';
import { listThresholds, putThreshold } from '../store/alerts.ts';
import { GaugeEvaluator, NORMAL, validateGaugeConfig, type GaugeChange, type GaugeConfig, type ThresholdLevel } from '../warning/gauge.ts';
import { ForecastBook, linksFromGauges, type ForecastChange, type GaugeLink } from '../warning/forecast.ts';
import { AirWindow } from '../warning/air-window.ts';
import { ISPU_POLLUTANTS, epaPm25Aqi, ispuCategory, stationIspu, type IspuPollutant } from '../warning/ispu.ts';
import { kindOfMetric, levelName, severityOf } from '../warning/levels.ts';
import { areaFromGeoJSON, type Area } from '../geo/area-index.ts';
import type { Metric, Reading } from '../ingest/model.ts';
import type { Registry, Device } from './registry.ts';
import type { SensorState } from './sensor-state.ts';
import type { AlertCenter } from './alerts.ts';
import type { Logger } from './log.ts';

/** The body of PUT /sensors/{id}/thresholds (CONTRACT.md), as stored. */
export interface ThresholdsBody {
  metric: string;
  levels: ThresholdLevel[];
  hysteresis?: number;
  min_duration_s?: number;
  rate_of_rise_per_10min?: number | null;
  expected_interval_s?: number;
  stuck_readings?: number;
  stuck_span_s?: number;
  affected_area?: Record<string, unknown> | null;
  affected_radius_m?: number | null;
  /** gauges downstream of this one and the flood wave's travel time to each */
  downstream?: Array<{ sensor_id: string; travel_s: number }>;
}

export interface WarningOptions {
  expectedIntervalS: number;
  stuckReadings: number;
  stuckSpanS: number;
  airAlertMinRank: number;
  /** ISPU averaging window per pollutant, hours */
  ispuWindowsH: Readonly<Record<IspuPollutant, number>>;
}

interface BundledGauge {
  id: string;
  name: string;
  lat: number;
  lon: number;
  siaga3: number | null;
  siaga2: number | null;
  siaga1: number | null;
  downstream: Array<{ id: string; travel_h: number }>;
}
const BUNDLED = new Map((gaugesJson as { gauges: BundledGauge[] }).gauges.map((g) => [g.id, g]));

/** Hysteresis of the bundled gauges' levels: a few cm of river ripple never flaps a Siaga status. */
const BUNDLED_HYSTERESIS_CM = 5;

/** Default affected radius by sensor type, metres: a gauge's reach of river bank, a station's neighbourhood. */
const DEFAULT_RADIUS_M: Record<string, number> = { water_level: 3000, air_quality: 5000, rain: 3000, weather: 3000 };

/** The metric whose values tell whether a sensor is stuck. */
const PRIMARY_METRIC: Record<string, string> = { water_level: 'water_level_cm', air_quality: 'pm25', rain: 'rain_mm', weather: 'temperature_c' };

const UNITS: Record<string, string> = { water_level_cm: 'cm', rain_mm: 'mm', temperature_c: 'Cel', humidity_pct: '%RH', battery_pct: '%' };

/** The thresholds a bundled Jakarta gauge starts with (domain/jakarta-gauges.json; null levels stay null). */
export function bundledThresholds(id: string): ThresholdsBody | null {
  const g = BUNDLED.get(id);
  if (!g) return null;
  return {
    metric: 'water_level_cm',
    levels: [
      { name: 'SIAGA_3', value: g.siaga3 },
      { name: 'SIAGA_2', value: g.siaga2 },
      { name: 'SIAGA_1', value: g.siaga1 },
    ],
    hysteresis: BUNDLED_HYSTERESIS_CM,
    min_duration_s: 0,
    rate_of_rise_per_10min: null,
    downstream: g.downstream.map((d) => ({ sensor_id: d.id, travel_s: d.travel_h * 3600 })),
  };
}

interface Watch {
  metric: string;
  body: ThresholdsBody;
  evaluator: GaugeEvaluator;
}

interface SensorWatch {
  id: string;
  device: Device;
  /** by metric: thresholds (stored, bundled or health-only) and their evaluator */
  watches: Map<string, Watch>;
  /** last reading of any metric; null until the first (a sensor not yet installed is not offline) */
  lastSeen: number | null;
  offline: boolean;
  air: AirWindow | null;
}

export class ThresholdsError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class Warnings {
  private readonly sensors = new Map<string, SensorWatch>();
  private stored = new Map<string, Map<string, ThresholdsBody>>();
  private forecasts: ForecastBook;
  /** every gauge named by a stored downstream link, at either end */
  private readonly chained = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly registry: Registry,
    private readonly live: SensorState,
    private readonly alerts: AlertCenter,
    private readonly opts: WarningOptions,
    private readonly log: Logger,
  ) {
    this.forecasts = new ForecastBook([], (s) => severityOf(s));
  }

  async load(nowMs: number): Promise<void> {
    for (const t of await listThresholds(this.db)) {
      let m = this.stored.get(t.sensorId);
      if (!m) this.stored.set(t.sensorId, (m = new Map()));
      m.set(t.metric, t.config as unknown as ThresholdsBody);
    }
    for (const d of this.registry.list()) if (d.kind === 'sensor') this.watch(d, nowMs);
    this.rebuildForecasts(nowMs, true);
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.tick(Date.now()), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A sensor was provisioned (or changed): watch it with its stored or bundled thresholds. */
  sensorAdded(d: Device, nowMs: number): void {
    if (d.kind !== 'sensor') return;
    this.watch(d, nowMs);
    // Only a gauge on a river chain changes the forecasts (rebuilding for every sensor of a bulk import is O(n^2)).
    if (this.onChain(d.id)) this.rebuildForecasts(nowMs, false);
  }

  sensorRemoved(id: string, nowMs: number): void {
    if (!this.sensors.delete(id)) return;
    for (const a of this.alerts.active()) if (a.sourceId === id) this.alerts.resolve(a.kind, id, nowMs, 'sensor removed');
    if (this.onChain(id)) this.rebuildForecasts(nowMs, false);
  }

  /** a bundled gauge, or a gauge named in stored downstream links (either end) */
  private onChain(id: string): boolean {
    return BUNDLED.has(id) || this.chained.has(id);
  }

  thresholdsOf(id: string): ThresholdsBody[] {
    const s = this.sensors.get(id);
    if (!s) return [];
    return [...s.watches.values()].filter((w) => w.body.levels.length > 0 || this.stored.get(id)?.has(w.metric)).map((w) => w.body);
  }

  /** Gauge status per metric with thresholds, plus health, for GET /sensors. */
  statusOf(id: string): { levels: Record<string, string>; offline: boolean; stuck: boolean; rising: boolean } | null {
    const s = this.sensors.get(id);
    if (!s) return null;
    const levels: Record<string, string> = {};
    let stuck = false;
    let rising = false;
    for (const w of s.watches.values()) {
      if (w.body.levels.length) levels[w.metric] = w.evaluator.status;
      stuck ||= w.evaluator.stuck;
      rising ||= w.evaluator.rising;
    }
    return { levels, offline: s.offline, stuck, rising };
  }

  /** Validates and applies new thresholds at once (re-judging the last value), then stores them. */
  async setThresholds(id: string, body: ThresholdsBody, nowMs: number): Promise<ThresholdsBody> {
    const s = this.sensors.get(id);
    if (!s) throw new ThresholdsError('id', `no sensor ${id}`);
    const normal = normalise(body, this.opts);
    const config = toGaugeConfig(normal);
    try {
      validateGaugeConfig(config);
    } catch (err) {
      throw new ThresholdsError('levels', (err as Error).message);
    }
    if (normal.affected_area) {
      try {
        areaFromGeoJSON(normal.affected_area);
      } catch (err) {
        throw new ThresholdsError('affected_area', (err as Error).message);
      }
    }
    for (const d of normal.downstream ?? []) if (d.sensor_id === id) throw new ThresholdsError('downstream', 'a gauge cannot be downstream of itself');
    let m = this.stored.get(id);
    if (!m) this.stored.set(id, (m = new Map()));
    const before = m.get(normal.metric);
    // Links change only when this body or the one it replaces names downstream gauges.
    const linksMayChange = normal.downstream !== undefined || before?.downstream !== undefined;
    const previousLinks = linksMayChange ? this.links() : [];
    m.set(normal.metric, normal);
    if (linksMayChange) {
      try {
        new ForecastBook(this.links(), (x) => severityOf(x)); // refuses a cycle before anything changes
      } catch (err) {
        if (before) m.set(normal.metric, before);
        else m.delete(normal.metric);
        throw new ThresholdsError('downstream', (err as Error).message);
      }
    }
    await putThreshold(this.db, { sensorId: id, metric: normal.metric, config: normal as unknown as Record<string, unknown> }).catch((err) => {
      if (before) m.set(normal.metric, before);
      else m.delete(normal.metric);
      throw err;
    });
    const w = s.watches.get(normal.metric);
    if (w) {
      w.body = normal;
      this.apply(s, w, w.evaluator.configure(config, nowMs));
    } else {
      const evaluator = new GaugeEvaluator(config, nowMs, this.restoreOf(s.id, normal.metric));
      const watch = { metric: normal.metric, body: normal, evaluator };
      s.watches.set(normal.metric, watch);
      this.apply(s, watch, evaluator.configure(config, nowMs));
    }
    if (linksMayChange && JSON.stringify(previousLinks) !== JSON.stringify(this.links())) this.rebuildForecasts(nowMs, false);
    return normal;
  }

  /** The area an alert of this sensor concerns: its configured polygon or radius, or a default radius. */
  affectedArea(id: string): Area | null {
    const s = this.sensors.get(id);
    const d = s?.device ?? this.registry.get(id);
    if (!d) return null;
    const bodies = [...(this.stored.get(id)?.values() ?? [])];
    const polygon = bodies.find((b) => b.affected_area)?.affected_area;
    if (polygon) return areaFromGeoJSON(polygon);
    const live = this.live.get(id);
    const lat = live?.lat ?? d.lat;
    const lon = live?.lon ?? d.lon;
    if (lat === null || lon === null) return null;
    const radius = bodies.find((b) => b.affected_radius_m)?.affected_radius_m ?? DEFAULT_RADIUS_M[d.type] ?? 2000;
    return { kind: 'circle', lat, lon, radiusM: radius };
  }

  /** Readings that moved the live picture (late ones never get here), one message's worth. */
  onReadings(readings: readonly Reading[]): void {
    if (readings.length === 0) return;
    const s = this.sensors.get(readings[0]!.deviceId);
    if (!s) return;
    let newest = 0;
    let air = false;
    for (const r of readings) {
      newest = Math.max(newest, r.ts);
      const w = s.watches.get(r.metric);
      if (w) this.apply(s, w, w.evaluator.reading(r.value, r.ts));
      if ((ISPU_POLLUTANTS as readonly string[]).includes(r.metric)) {
        s.air ??= this.newAirWindow();
        s.air.add(r.metric as IspuPollutant, r.value, r.ts);
        air = true;
      }
    }
    if (s.lastSeen === null || newest > s.lastSeen) s.lastSeen = newest;
    if (s.offline) {
      s.offline = false;
      this.alerts.resolve('sensor_offline', s.id, newest, 'reporting again');
    }
    if (air) this.judgeAir(s, newest);
  }

  /** Offline detection, on a timer. */
  tick(nowMs: number): void {
    for (const s of this.sensors.values()) {
      if (s.offline || s.lastSeen === null) continue;
      const expected = this.expectedIntervalS(s);
      if (nowMs - s.lastSeen > 3 * expected * 1000) {
        s.offline = true;
        const silentS = Math.round((nowMs - s.lastSeen) / 1000);
        this.alerts.raise({
          kind: 'sensor_offline', sourceId: s.id, level: 'SENSOR_OFFLINE', value: silentS, unit: 's', ts: nowMs,
          message: `${this.nameOf(s)}: no reading for ${silentS} s (expected every ${expected} s)`,
          details: { last_reading_at: new Date(s.lastSeen).toISOString(), expected_interval_s: expected },
        });
      }
    }
  }

  /** ISPU and US EPA AQI per station, for GET /air-quality. */
  airQuality(nowMs: number) {
    const out = [];
    for (const s of this.sensors.values()) {
      if (!s.air) continue;
      const day = s.air.averages(nowMs);
      const st = stationIspu(day);
      const hourlyValues: Partial<Record<IspuPollutant, number>> = {};
      for (const p of ISPU_POLLUTANTS) {
        const h = s.air.hourly(p, nowMs);
        if (h) hourlyValues[p] = round1(h.avg);
      }
      const hourly = stationIspu(hourlyValues);
      const pm25 = day.pm25;
      out.push({
        station_id: s.id,
        name: s.device.name,
        lat: this.live.get(s.id)?.lat ?? s.device.lat,
        lon: this.live.get(s.id)?.lon ?? s.device.lon,
        ispu: st?.ispu ?? null,
        category: st?.category.name ?? null,
        category_en: st?.category.en ?? null,
        color: st?.category.color ?? null,
        dominant: st?.dominant ?? null,
        values: roundAll(day),
        per_pollutant: st?.per ?? {},
        averaging_h: { ...this.opts.ispuWindowsH },
        averaging: 'rolling mean per pollutant over averaging_h (P.14/2020: 24 h)',
        hourly: {
          label: 'hourly mean, indicative only: ISPU is defined on the 24 h means',
          ispu: hourly?.ispu ?? null,
          category: hourly?.category.name ?? null,
          values: hourlyValues,
        },
        us_epa_aqi: pm25 === undefined ? null : { ...epaPm25Aqi(pm25), pollutant: 'pm25', basis: 'rolling 24 h mean, 2024 PM2.5 breakpoints' },
        updated_at: this.live.get(s.id) ? new Date(this.live.get(s.id)!.lastTs).toISOString() : null,
      });
    }
    return out.sort((a, b) => (a.station_id < b.station_id ? -1 : 1));
  }

  /** Seeds an air window from history (the last day, per-minute means), so a restart keeps the 24 h ISPU. */
  seedAir(rows: ReadonlyArray<{ id: string; metric: string; ts: number; value: number }>, nowMs: number): void {
    const touched = new Set<SensorWatch>();
    for (const r of rows) {
      const s = this.sensors.get(r.id);
      if (!s || !(ISPU_POLLUTANTS as readonly string[]).includes(r.metric) || !(r.value >= 0)) continue;
      s.air ??= this.newAirWindow();
      s.air.add(r.metric as IspuPollutant, r.value, r.ts);
      touched.add(s);
    }
    for (const s of touched) this.judgeAir(s, nowMs);
  }

  // --- internals ---

  private newAirWindow(): AirWindow {
    const ms: Partial<Record<IspuPollutant, number>> = {};
    for (const p of ISPU_POLLUTANTS) ms[p] = this.opts.ispuWindowsH[p] * 3_600_000;
    return new AirWindow(ms);
  }

  private watch(d: Device, nowMs: number): void {
    const existing = this.sensors.get(d.id);
    const s: SensorWatch = existing ?? { id: d.id, device: d, watches: new Map(), lastSeen: this.live.get(d.id)?.lastTs ?? null, offline: false, air: null };
    s.device = d;
    this.sensors.set(d.id, s);
    const bodies = new Map<string, ThresholdsBody>();
    const bundled = bundledThresholds(d.id);
    if (bundled) bodies.set(bundled.metric, bundled);
    for (const [metric, body] of this.stored.get(d.id) ?? []) bodies.set(metric, body);
    const primary = PRIMARY_METRIC[d.type];
    if (primary && !bodies.has(primary)) {
      // A dry day reads 0 mm for hours: a rain gauge is never called stuck unless configured so.
      bodies.set(primary, d.type === 'rain' ? { metric: primary, levels: [], stuck_readings: 0, stuck_span_s: 0 } : { metric: primary, levels: [] });
    }
    for (const [metric, raw] of bodies) {
      if (s.watches.has(metric)) continue;
      const body = normalise(raw, this.opts);
      const evaluator = new GaugeEvaluator(toGaugeConfig(body), nowMs, this.restoreOf(d.id, metric));
      const w = { metric, body, evaluator };
      s.watches.set(metric, w);
      // Re-judge the last stored value: a condition that held when the engine stopped (or that
      // was never committed before a crash) is raised now, never forgotten.
      if (evaluator.lastValue !== null) this.apply(s, w, evaluator.configure(toGaugeConfig(body), nowMs));
    }
    for (const a of this.alerts.active()) if (a.sourceId === d.id && a.kind === 'sensor_offline') s.offline = true;
  }

  private restoreOf(id: string, metric: string) {
    const kind = kindOfMetric(metric);
    const level = this.alerts.get(kind, id);
    const live = this.live.get(id)?.values[metric as Metric];
    return {
      status: level?.level ?? NORMAL,
      ...(live ? { lastTs: live.ts, lastValue: live.value } : {}),
      stuck: this.alerts.get('sensor_stuck', id) !== undefined,
      rising: metric === 'water_level_cm' && this.alerts.get('rate_of_rise', id) !== undefined,
    };
  }

  private expectedIntervalS(s: SensorWatch): number {
    for (const b of this.stored.get(s.id)?.values() ?? []) if (b.expected_interval_s) return b.expected_interval_s;
    return this.opts.expectedIntervalS;
  }

  private nameOf(s: SensorWatch): string {
    return s.device.name ?? s.id;
  }

  private apply(s: SensorWatch, w: Watch, changes: readonly GaugeChange[]): void {
    const primary = PRIMARY_METRIC[s.device.type] === w.metric || (!PRIMARY_METRIC[s.device.type] && s.watches.size === 1);
    const unit = UNITS[w.metric] ?? null;
    const kind = kindOfMetric(w.metric);
    for (const c of changes) {
      switch (c.kind) {
        case 'status':
          if (c.to === NORMAL) this.alerts.resolve(kind, s.id, c.ts, `back below ${c.from}`, c.value);
          else {
            this.alerts.raise({
              kind, sourceId: s.id, level: c.to, value: c.value, unit, ts: c.ts,
              message: `${this.nameOf(s)}: ${c.to.replace('_', ' ')} (${c.value} ${unit ?? ''})`.replace(' )', ')'),
              details: { metric: w.metric, threshold: w.body.levels.find((l) => l.name === c.to)?.value ?? null },
            });
          }
          if (w.metric === 'water_level_cm') this.applyForecasts(this.forecasts.statusChanged(s.id, c.to, c.ts));
          break;
        case 'rate_of_rise':
          if (c.active) {
            this.alerts.raise({
              kind: 'rate_of_rise', sourceId: s.id, level: 'RATE_OF_RISE', value: round1(c.ratePer10min), unit: `${unit ?? ''}/10min`, ts: c.ts,
              message: `${this.nameOf(s)}: rising ${round1(c.ratePer10min)} ${unit ?? ''} per 10 min (at ${c.value} ${unit ?? ''})`,
              details: { metric: w.metric, threshold_per_10min: w.body.rate_of_rise_per_10min ?? null },
            });
          } else this.alerts.resolve('rate_of_rise', s.id, c.ts, 'rise slowed', round1(c.ratePer10min));
          break;
        case 'stuck':
          if (!primary) break;
          if (c.active) {
            this.alerts.raise({
              kind: 'sensor_stuck', sourceId: s.id, level: 'SENSOR_STUCK', value: c.value, unit, ts: c.ts,
              message: `${this.nameOf(s)}: ${w.metric} has read ${c.value} for ${c.readings} readings since ${new Date(c.sinceTs).toISOString()}`,
              details: { metric: w.metric, stuck_since: new Date(c.sinceTs).toISOString() },
            });
          } else this.alerts.resolve('sensor_stuck', s.id, c.ts, 'value changed', c.value);
          break;
        case 'offline':
          break; // watched per sensor (any metric counts), in tick()
      }
    }
  }

  private applyForecasts(changes: readonly ForecastChange[]): void {
    for (const c of changes) {
      if (c.active) {
        const f = c.forecast;
        const target = this.sensors.get(f.target);
        if (!target) continue; // forecasts only for provisioned gauges
        const up = this.sensors.get(f.upstreamId);
        this.alerts.raise({
          kind: 'flood_forecast', sourceId: f.target, level: f.upstreamLevel, value: Math.round(f.travelS / 60), unit: 'min', ts: f.raisedTs,
          message: `${this.nameOf(target)}: flood wave from ${up ? this.nameOf(up) : f.upstreamId} (${f.upstreamLevel.replace('_', ' ')} there) expected around ${new Date(f.expectedAtTs).toISOString()}`,
          details: { upstream_id: f.upstreamId, upstream_level: f.upstreamLevel, expected_at: new Date(f.expectedAtTs).toISOString(), travel_s: f.travelS },
        });
      } else {
        this.alerts.resolve('flood_forecast', c.target, c.ts, c.reason === 'arrived' ? 'arrived: replaced by the observed status' : 'withdrawn: the upstream level receded');
      }
    }
  }

  private judgeAir(s: SensorWatch, ts: number): void {
    const st = stationIspu(s.air!.averages(ts));
    if (!st) return;
    const cat = ispuCategory(st.ispu);
    if (cat.rank >= this.opts.airAlertMinRank) {
      this.alerts.raise({
        kind: 'air_quality', sourceId: s.id, level: levelName(cat.name), value: st.ispu, unit: 'ISPU', ts,
        message: `${this.nameOf(s)}: ISPU ${st.ispu} ${cat.name} (${cat.en}), dominant ${st.dominant}`,
        details: { category: cat.name, dominant: st.dominant },
      });
    } else {
      this.alerts.resolve('air_quality', s.id, ts, `back to ${cat.name}`, st.ispu);
    }
  }

  private links(): GaugeLink[] {
    const byFrom = new Map<string, GaugeLink[]>();
    for (const l of linksFromGauges(gaugesJson as { gauges: BundledGauge[] })) {
      if (!this.sensors.has(l.from)) continue;
      const list = byFrom.get(l.from) ?? [];
      list.push(l);
      byFrom.set(l.from, list);
    }
    // Stored downstream links replace a gauge's bundled ones.
    this.chained.clear();
    for (const [id, m] of this.stored) {
      for (const b of m.values()) {
        if (!b.downstream) continue;
        byFrom.set(id, b.downstream.map((d) => ({ from: id, to: d.sensor_id, travelS: d.travel_s })));
        this.chained.add(id);
        for (const d of b.downstream) this.chained.add(d.sensor_id);
      }
    }
    return [...byFrom.values()].flat().sort((a, b) => (a.from + a.to < b.from + b.to ? -1 : 1));
  }

  /** A new book, fed with every gauge's current status; `restoring` keeps forecasts already open. */
  private rebuildForecasts(nowMs: number, restoring: boolean): void {
    let book: ForecastBook;
    try {
      book = new ForecastBook(this.links(), (x) => severityOf(x));
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'gauge links refused; flood forecasts keep the previous links');
      return;
    }
    const before = new Set(this.alerts.active().filter((a) => a.kind === 'flood_forecast').map((a) => a.sourceId));
    this.forecasts = book;
    const changes: ForecastChange[] = [];
    for (const s of this.sensors.values()) {
      const w = s.watches.get('water_level_cm');
      if (w && w.evaluator.status !== NORMAL) {
        const opened = this.alerts.get('water_level', s.id);
        changes.push(...book.statusChanged(s.id, w.evaluator.status, opened?.raisedAt ?? nowMs));
      }
    }
    this.applyForecasts(changes.filter((c) => c.active));
    const now = new Set(book.all().map((f) => f.target));
    for (const target of before) if (!now.has(target) && !restoring) this.alerts.resolve('flood_forecast', target, nowMs, 'withdrawn: the gauge links changed');
    if (restoring) for (const target of before) if (!now.has(target)) this.alerts.resolve('flood_forecast', target, nowMs, 'withdrawn: no upstream gauge is above normal');
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function roundAll(v: Partial<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = round1(x);
  return out;
}

function normalise(b: ThresholdsBody, o: WarningOptions): ThresholdsBody {
  return {
    metric: b.metric,
    levels: b.levels.map((l) => ({ name: l.name, value: l.value ?? null })),
    hysteresis: b.hysteresis ?? 0,
    min_duration_s: b.min_duration_s ?? 0,
    rate_of_rise_per_10min: b.rate_of_rise_per_10min ?? null,
    expected_interval_s: b.expected_interval_s ?? o.expectedIntervalS,
    stuck_readings: b.stuck_readings ?? o.stuckReadings,
    stuck_span_s: b.stuck_span_s ?? o.stuckSpanS,
    affected_area: b.affected_area ?? null,
    affected_radius_m: b.affected_radius_m ?? null,
    ...(b.downstream ? { downstream: b.downstream } : {}),
  };
}

/** From a normalised body (every default filled in). */
function toGaugeConfig(b: ThresholdsBody): GaugeConfig {
  return {
    levels: b.levels,
    hysteresis: b.hysteresis!,
    minDurationS: b.min_duration_s!,
    rateOfRisePer10min: b.rate_of_rise_per_10min ?? null,
    expectedIntervalS: b.expected_interval_s!,
    stuckReadings: b.stuck_readings!,
    stuckSpanS: b.stuck_span_s!,
  };
}
