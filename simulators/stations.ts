// Seeded sensor stations: the 12 water-level gauges of domain/jakarta-gauges.json, 15 air-quality
// stations, and (for load tests) any number of pump-house water-level sensors.
// sample(nowMs) is deterministic for the same seed and the same sequence of calls.

import gaugesJson from '../domain/jakarta-gauges.json' with { type: 'json' };
import type { Metric, SensorType } from '../ingest/model.ts';
import { deriveSeed, Rng } from './random.ts';
import { JAKARTA_BBOX } from './roads.ts';

/** How a station publishes: the native `reading` topic or a SenML pack on `senml` (CONTRACT.md). */
export type StationFormat = 'reading' | 'senml';
export type StationValues = Partial<Record<Metric, number>>;

export interface SimStation {
  readonly id: string;
  readonly type: Extract<SensorType, 'water_level' | 'air_quality'>;
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
  readonly format: StationFormat;
  readonly meta: Record<string, unknown>;
  /** added to every sample, for scenarios (e.g. `bias.water_level_cm = 300` for a flood wave) */
  readonly bias: StationValues;
  sample(nowMs: number): StationValues;
}

export interface StationOptions {
  seed?: number;
  /** total stations; default 27 (12 gauges + 15 air-quality). Beyond 27, pump-house sensors are added. */
  count?: number;
  /** prefix for ids; leave empty so gauges keep the ids the engine knows thresholds for */
  idPrefix?: string;
}

interface GaugeJson {
  id: string;
  name: string;
  river: string;
  lat: number;
  lon: number;
  siaga3: number | null;
}

export const JAKARTA_GAUGES: readonly GaugeJson[] = (gaugesJson as { gauges: GaugeJson[] }).gauges;

/**
 * Air-quality stations spread over the five cities; aq-01..aq-05 sit near DKI's SPKU stations
 * (Bundaran HI, Kelapa Gading, Jagakarsa, Lubang Buaya, Kebun Jeruk). Approximate, simulation only.
 */
export const AIR_QUALITY_SITES: ReadonlyArray<{ name: string; lat: number; lon: number }> = [
  { name: 'Bundaran HI', lat: -6.195, lon: 106.823 },
  { name: 'Kelapa Gading', lat: -6.153, lon: 106.91 },
  { name: 'Jagakarsa', lat: -6.334, lon: 106.823 },
  { name: 'Lubang Buaya', lat: -6.29, lon: 106.905 },
  { name: 'Kebun Jeruk', lat: -6.207, lon: 106.753 },
  { name: 'Tanjung Priok', lat: -6.11, lon: 106.88 },
  { name: 'Cengkareng', lat: -6.15, lon: 106.735 },
  { name: 'Kemayoran', lat: -6.16, lon: 106.845 },
  { name: 'Kebayoran Baru', lat: -6.24, lon: 106.8 },
  { name: 'Cilandak', lat: -6.29, lon: 106.8 },
  { name: 'Pasar Minggu', lat: -6.285, lon: 106.845 },
  { name: 'Cakung', lat: -6.185, lon: 106.945 },
  { name: 'Duren Sawit', lat: -6.23, lon: 106.915 },
  { name: 'Grogol', lat: -6.165, lon: 106.79 },
  { name: 'Pluit', lat: -6.115, lon: 106.79 },
];

const HOUR = 3_600_000;

function hourWib(nowMs: number): number {
  return (((nowMs / HOUR + 7) % 24) + 24) % 24;
}

/**
 * Urban combustion pollutants: a night-time inversion maximum plus morning and evening rush peaks,
 * lowest in the mid-afternoon when the mixing layer is deepest. Ranges ~0.58 (15:00) to ~1.27 (08:00).
 */
export function trafficDiurnal(nowMs: number): number {
  const h = hourWib(nowMs);
  return 1 + 0.25 * Math.cos((2 * Math.PI * (h - 3)) / 24) + 0.2 * Math.cos((4 * Math.PI * (h - 8)) / 24);
}

/** Ornstein-Uhlenbeck step: keeps a noise term stationary (sd `sd`) with correlation time tauMs. */
function ou(x: number, dtMs: number, tauMs: number, sd: number, rng: Rng): number {
  const a = Math.exp(-dtMs / tauMs);
  return x * a + Math.sqrt(1 - a * a) * sd * rng.normal();
}

class WaterLevelStation implements SimStation {
  readonly type = 'water_level' as const;
  readonly bias: StationValues = {};
  private readonly rng: Rng;
  private readonly baseCm: number;
  private readonly ceilingCm: number;
  private readonly sigmaCmPerSqrtH: number;
  private readonly tideAmpCm: number;
  private levelCm: number;
  private lastMs: number | null = null;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly lat: number,
    readonly lon: number,
    readonly format: StationFormat,
    readonly meta: Record<string, unknown>,
    /** the gauge's first alert level (Siaga 3); normal weather stays below it */
    firstThresholdCm: number,
    seed: number,
    tideAmpCm: number,
  ) {
    this.rng = new Rng(seed);
    this.tideAmpCm = tideAmpCm;
    this.baseCm = firstThresholdCm * this.rng.uniform(0.4, 0.65);
    this.ceilingCm = firstThresholdCm * 0.9 - tideAmpCm;
    this.sigmaCmPerSqrtH = firstThresholdCm * 0.02;
    this.levelCm = this.baseCm * this.rng.uniform(0.9, 1.1);
  }

  sample(nowMs: number): StationValues {
    const dtMs = this.lastMs === null ? 0 : Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    // Slow mean-reverting random walk (time constant 6 h).
    const pull = 1 - Math.exp(-dtMs / (6 * HOUR));
    this.levelCm += (this.baseCm - this.levelCm) * pull + this.sigmaCmPerSqrtH * Math.sqrt(dtMs / HOUR) * this.rng.normal();
    this.levelCm = Math.min(this.ceilingCm, Math.max(this.baseCm * 0.3, this.levelCm));
    // Jakarta Bay's tide is mainly diurnal (period ~24.84 h); only the estuary gauge feels it.
    const tide = this.tideAmpCm * Math.sin((2 * Math.PI * nowMs) / (24.84 * HOUR));
    const cm = this.levelCm + tide + (this.bias.water_level_cm ?? 0);
    return { water_level_cm: Math.max(0, Math.round(cm)) };
  }
}

class AirQualityStation implements SimStation {
  readonly type = 'air_quality' as const;
  readonly bias: StationValues = {};
  private readonly rng: Rng;
  private readonly factor: number;
  private readonly pm10Ratio: number;
  private readonly so2Factor: number;
  private readonly o3Factor: number;
  private noise = 0;
  private noiseO3 = 0;
  private lastMs: number | null = null;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly lat: number,
    readonly lon: number,
    readonly format: StationFormat,
    readonly meta: Record<string, unknown>,
    seed: number,
  ) {
    this.rng = new Rng(seed);
    this.factor = this.rng.uniform(0.8, 1.25);
    this.pm10Ratio = this.rng.uniform(1.4, 1.9);
    // The port and industry along the north coast add SO2.
    this.so2Factor = (lat > -6.16 ? 1.5 : 1) * this.rng.uniform(0.8, 1.2);
    this.o3Factor = this.rng.uniform(0.8, 1.2);
    this.noise = this.rng.normal() * 0.2;
  }

  sample(nowMs: number): StationValues {
    const dtMs = this.lastMs === null ? 0 : Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    this.noise = ou(this.noise, dtMs, 2 * HOUR, 0.2, this.rng);
    this.noiseO3 = ou(this.noiseO3, dtMs, 2 * HOUR, 0.15, this.rng);
    const d = trafficDiurnal(nowMs);
    const n = Math.exp(this.noise);
    const h = hourWib(nowMs);
    // Jakarta PM2.5 is mostly 20-80 ug/m3 (ISPU Sedang to Tidak Sehat, domain/ispu-breakpoints.json).
    const pm25 = 42 * this.factor * d * n;
    const sun = Math.max(0, Math.sin((Math.PI * (h - 6)) / 12));
    const b = this.bias;
    const r1 = (x: number) => Math.round(x * 10) / 10;
    return {
      pm25: r1(pm25 + (b.pm25 ?? 0)),
      pm10: r1(pm25 * this.pm10Ratio + (b.pm10 ?? 0)),
      // Photochemical: highest around noon, low at night.
      o3: r1((15 + 85 * sun) * this.o3Factor * Math.exp(this.noiseO3) + (b.o3 ?? 0)),
      co: Math.round(1100 * this.factor * d * n + (b.co ?? 0)),
      no2: r1(38 * this.factor * d * n + (b.no2 ?? 0)),
      so2: r1(18 * this.so2Factor * Math.exp(0.5 * this.noise) + (b.so2 ?? 0)),
    };
  }
}

/**
 * The stations of the simulated city. Every other gauge, every third air-quality station and every
 * other pump sensor publish SenML, the rest the native reading topic, so both decoders get traffic.
 */
export function createStations(opts: StationOptions = {}): SimStation[] {
  const seed = (opts.seed ?? 1) >>> 0;
  const prefix = opts.idPrefix ?? '';
  const count = opts.count ?? JAKARTA_GAUGES.length + AIR_QUALITY_SITES.length;
  if (!Number.isInteger(count) || count < 0) throw new Error(`createStations: count must be a non-negative integer, got ${count}`);
  const out: SimStation[] = [];
  let index = 0;
  const nextSeed = () => deriveSeed(seed, index++, 0x57a7);

  for (let i = 0; i < JAKARTA_GAUGES.length && out.length < count; i++) {
    const g = JAKARTA_GAUGES[i]!;
    // siaga3 is never null in the bundled data; 150 cm (the common Waspada level) if it ever is.
    const first = g.siaga3 ?? 150;
    const tide = g.id === 'pasar-ikan' ? 35 : 0;
    out.push(
      new WaterLevelStation(prefix + g.id, g.name, g.lat, g.lon, i % 2 === 1 ? 'senml' : 'reading', { simulated: true, river: g.river }, first, nextSeed(), tide),
    );
  }
  for (let i = 0; i < AIR_QUALITY_SITES.length && out.length < count; i++) {
    const s = AIR_QUALITY_SITES[i]!;
    const id = `${prefix}aq-${String(i + 1).padStart(2, '0')}`;
    out.push(new AirQualityStation(id, `Stasiun kualitas udara ${s.name}`, s.lat, s.lon, (i + 1) % 3 === 0 ? 'senml' : 'reading', { simulated: true }, nextSeed()));
  }
  // domain/README.md: 178 IoT water-level sensors at pump houses; beyond the reference stations,
  // load tests get pump-house sensors scattered over the city.
  const rng = new Rng(seed ^ 0x9a3b);
  const pumps = count - out.length;
  const width = Math.max(4, String(pumps).length);
  for (let i = 0; i < pumps; i++) {
    const lat = rng.uniform(JAKARTA_BBOX.minLat + 0.02, JAKARTA_BBOX.maxLat - 0.02);
    const lon = rng.uniform(JAKARTA_BBOX.minLon + 0.02, JAKARTA_BBOX.maxLon - 0.02);
    const first = rng.uniform(150, 300);
    const id = `${prefix}pump-${String(i + 1).padStart(width, '0')}`;
    out.push(new WaterLevelStation(id, `Rumah pompa ${i + 1}`, lat, lon, i % 2 === 1 ? 'senml' : 'reading', { simulated: true }, first, nextSeed(), 0));
  }
  return out;
}
