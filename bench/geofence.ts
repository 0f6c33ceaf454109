// Geofence evaluation benchmark: `npx tsx bench/geofence.ts [--fences N] [--vehicles N] [--vertices 50,500]` prints one
// markdown table; `npm run bench` runs it as its `geofence` section (in the bench process, before any engine starts).
// Seeded: 10,000 star-shaped (concave) fences of 50 and of 500 vertices, 200 m - 2 km across (log-uniform), over a
// Jakarta-sized 40 x 30 km area; 100,000 vehicles of mixed types walking randomly (up to ~40 m per fix, accuracy
// 5-50 m). One position update = FenceIndex.containing() + FenceTracker.update(), as the geofence stage runs it.
// Also: bulk load, containing() alone, a sweep over every vehicle, fence edits, and Traccar's way (turf over every
// fence on every fix) on a sample, for scale. Target (issue): >= 100,000 updates/s with 50-vertex fences.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Position } from 'geojson';
import { booleanPointInPolygon } from '@turf/turf';
import { VEHICLE_TYPES, type VehicleType } from '../ingest/model.ts';
import { FenceIndex, type FenceQueryStats } from '../geo/fence-index.ts';
import { FenceTracker } from '../geo/fence-tracker.ts';
import type { FenceInput } from '../geo/fence-validate.ts';
import { VehicleIndex } from '../geo/vehicle-index.ts';
import { seededRandom } from '../test/helpers/seeded-random.ts';

export interface GeofenceRow {
  label: string;
  ops: number;
  /** wall clock */
  ms: number;
  opsPerS: number;
  /** CPU time of this process over the same span (user + system): on a shared machine, less disturbed than ms */
  cpuMs: number;
}

export interface GeofenceBenchOptions {
  fences: number;
  vehicles: number;
  /** one scenario per vertex count */
  vertices: number[];
}

export const GEOFENCE_DEFAULTS: GeofenceBenchOptions = { fences: 10_000, vehicles: 100_000, vertices: [50, 500] };

/** timed rounds of one fix per vehicle, after one untimed round that settles the initial state */
const ROUNDS: Record<number, number> = { 50: 5, 500: 2 };
/** fixes for the linear scan (turf over every fence per fix), which is slow: 28 fixes/s with 500-vertex fences */
const LINEAR_SAMPLE: Record<number, number> = { 50: 200, 500: 50 };
const EDITS = 200;
const EXIT_DELAY_S = 10;
const T0 = 1_736_928_000_000;

// About 40 x 30 km around Monas: 0.36 degrees of longitude and 0.27 of latitude at 6.2 S.
const MIN_LON = 106.65;
const MIN_LAT = -6.37;
const SPAN_LON = 0.36;
const SPAN_LAT = 0.27;
const M_PER_DEG = 111_195;
const COS_LAT = Math.cos((6.2 * Math.PI) / 180);

type Rand = () => number;

function starFence(rand: Rand, vertices: number, i: number): FenceInput {
  const diameterM = 200 * 10 ** rand(); // 200 m - 2 km, log-uniform: many small fences, few large ones
  const rLat = diameterM / 2 / M_PER_DEG;
  const rLon = rLat / COS_LAT;
  const cx = MIN_LON + rLon + rand() * (SPAN_LON - 2 * rLon);
  const cy = MIN_LAT + rLat + rand() * (SPAN_LAT - 2 * rLat);
  const ring: Position[] = [];
  const step = (2 * Math.PI) / vertices;
  for (let k = 0; k < vertices; k++) {
    const a = k * step + (rand() - 0.5) * 0.5 * step;
    const f = 0.5 + 0.5 * rand();
    ring.push([cx + f * rLon * Math.cos(a), cy + f * rLat * Math.sin(a)]);
  }
  ring.push([...ring[0]!]);
  // One fence in five is for some vehicle types only, as depots and hospital zones are.
  const appliesTo: VehicleType[] | null = rand() < 0.2 ? [VEHICLE_TYPES[i % VEHICLE_TYPES.length]!] : null;
  return { geometry: { type: 'Polygon', coordinates: [ring] }, name: `fence ${i}`, kind: null, appliesTo, dwellS: rand() < 0.3 ? 300 : null };
}

interface Fleet {
  types: VehicleType[];
  lat: Float64Array;
  lon: Float64Array;
}

function makeFleet(rand: Rand, vehicles: number): Fleet {
  const types: VehicleType[] = [];
  const lat = new Float64Array(vehicles);
  const lon = new Float64Array(vehicles);
  for (let i = 0; i < vehicles; i++) {
    types.push(VEHICLE_TYPES[Math.floor(rand() * VEHICLE_TYPES.length)]!);
    lat[i] = MIN_LAT + rand() * SPAN_LAT;
    lon[i] = MIN_LON + rand() * SPAN_LON;
  }
  return { types, lat, lon };
}

/** Rounds of one fix per vehicle, precomputed so the timed loop measures Pantau, not the random walk. */
function walk(rand: Rand, fleet: Fleet, rounds: number): { lat: Float64Array; lon: Float64Array; acc: Float64Array } {
  const vehicleCount = fleet.lat.length;
  const n = rounds * vehicleCount;
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  const acc = new Float64Array(n);
  const cur = { lat: Float64Array.from(fleet.lat), lon: Float64Array.from(fleet.lon) };
  for (let r = 0; r < rounds; r++) {
    for (let v = 0; v < vehicleCount; v++) {
      const j = r * vehicleCount + v;
      const stepM = 40 * rand();
      const heading = 2 * Math.PI * rand();
      cur.lat[v] = Math.min(MIN_LAT + SPAN_LAT, Math.max(MIN_LAT, cur.lat[v]! + (stepM * Math.cos(heading)) / M_PER_DEG));
      cur.lon[v] = Math.min(MIN_LON + SPAN_LON, Math.max(MIN_LON, cur.lon[v]! + (stepM * Math.sin(heading)) / (M_PER_DEG * COS_LAT)));
      lat[j] = cur.lat[v]!;
      lon[j] = cur.lon[v]!;
      acc[j] = 5 + 45 * rand();
    }
  }
  return { lat, lon, acc };
}

function timed(run: () => void): { ms: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  run();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

interface Scenario {
  rows: GeofenceRow[];
  /** per query: polygon boxes holding the point, turf calls left for boundary cells of the per-fence grid, fences containing it */
  candidatesPerFix: number;
  turfCallsPerFix: number;
  hitsPerFix: number;
  eventsPerUpdate: number;
}

function runScenario(vertices: number, fenceCount: number, vehicleCount: number): Scenario {
  const rand = seededRandom(20250115 + vertices);
  const tag = `${fenceCount.toLocaleString('en')} fences x ${vertices} vertices`;
  const rows: GeofenceRow[] = [];
  const record = (label: string, ops: number, { ms, cpuMs }: { ms: number; cpuMs: number }): void => {
    rows.push({ label: `${label} (${tag})`, ops, ms, opsPerS: (ops / ms) * 1000, cpuMs });
  };

  const fences: Array<{ id: string; fence: FenceInput }> = [];
  for (let i = 0; i < fenceCount; i++) fences.push({ id: `fence-${String(i).padStart(5, '0')}`, fence: starFence(rand, vertices, i) });
  const index = new FenceIndex();
  record('FenceIndex.load, bulk', fenceCount, timed(() => index.load(fences)));

  const fleet = makeFleet(rand, vehicleCount);
  const ids = Array.from({ length: vehicleCount }, (_, i) => `veh-${i}`);
  const rounds = ROUNDS[vertices] ?? 2;
  const moves = walk(rand, fleet, rounds + 1);
  const tracker = new FenceTracker({ exitDelayS: EXIT_DELAY_S });

  // How selective the tree is (untimed): polygon boxes holding the point, turf calls left for boundary cells of the per-fence grid,
  // fences truly containing the point.
  let candidates = 0;
  let turfCalls = 0;
  let hits = 0;
  const sample = Math.min(20_000, vehicleCount);
  const stats: FenceQueryStats = { boxes: 0, turfCalls: 0 };
  for (let k = 0; k < sample; k++) {
    hits += index.containing(moves.lat[k]!, moves.lon[k]!, fleet.types[k], stats).length;
    candidates += stats.boxes;
    turfCalls += stats.turfCalls;
  }

  // Round 0 (untimed): every vehicle's first fix, entering whatever it starts in; it also warms up the JIT.
  let events = 0;
  for (let v = 0; v < vehicleCount; v++) {
    const la = moves.lat[v]!;
    const lo = moves.lon[v]!;
    tracker.update(ids[v]!, { ts: T0, lat: la, lon: lo, accuracyM: moves.acc[v]! }, index.containing(la, lo, fleet.types[v]), index);
  }

  const timedFixes = rounds * vehicleCount;
  record(
    'containing() alone',
    timedFixes,
    timed(() => {
      for (let j = vehicleCount; j < (rounds + 1) * vehicleCount; j++) {
        const v = j % vehicleCount;
        if (index.containing(moves.lat[j]!, moves.lon[j]!, fleet.types[v]).length > 1_000_000) throw new Error('unreachable');
      }
    }),
  );

  record(
    'position update: containing() + tracker.update()',
    timedFixes,
    timed(() => {
      for (let j = vehicleCount; j < (rounds + 1) * vehicleCount; j++) {
        const v = j % vehicleCount;
        const la = moves.lat[j]!;
        const lo = moves.lon[j]!;
        const ts = T0 + Math.floor(j / vehicleCount) * 5000;
        events += tracker.update(ids[v]!, { ts, lat: la, lon: lo, accuracyM: moves.acc[j]! }, index.containing(la, lo, fleet.types[v]), index).length;
      }
    }),
  );

  const lastTs = T0 + rounds * 5000;
  let swept = 0;
  record('tracker.sweep() over all vehicles', vehicleCount, timed(() => (swept = tracker.sweep(lastTs + 60_000, index).length)));
  events += swept;

  // Fence edits: move a fence by ~100 m and settle the vehicles in its old and new box (from the live index).
  const live = new VehicleIndex();
  live.load(
    ids.map((id, v) => ({
      id,
      type: fleet.types[v]!,
      status: 'available' as const,
      lat: moves.lat[rounds * vehicleCount + v]!,
      lon: moves.lon[rounds * vehicleCount + v]!,
      ts: lastTs,
      speedKmh: null,
      heading: null,
      accuracyM: moves.acc[rounds * vehicleCount + v]!,
    })),
  );
  const editTargets = Array.from({ length: EDITS }, () => fences[Math.floor(rand() * fenceCount)]!);
  let touched = 0;
  record(
    'fence edit: FenceIndex.set + fenceChanged (vehicles in old and new box)',
    EDITS,
    timed(() => {
      for (let e = 0; e < EDITS; e++) {
        const { id, fence } = editTargets[e]!;
        const old = index.get(id)!.bbox;
        const dLon = 100 / (M_PER_DEG * COS_LAT);
        const ring = (fence.geometry.coordinates[0] as Position[]).map(([x, y]) => [x! + dLon, y!]);
        index.set(id, { ...fence, geometry: { type: 'Polygon', coordinates: [ring] } });
        const nb = index.get(id)!.bbox;
        const near = live.inBBox(Math.min(old[0], nb[0]), Math.min(old[1], nb[1]), Math.max(old[2], nb[2]), Math.max(old[3], nb[3]));
        touched += near.length;
        events += tracker.fenceChanged(id, near, index, lastTs + 120_000 + e).length;
      }
    }),
  );

  // Traccar's way, for scale: turf over every fence for each fix.
  const features = fences.map(({ fence }) => ({ type: 'Feature' as const, properties: {}, geometry: fence.geometry }));
  let linearHits = 0;
  const linearSample = Math.min(vehicleCount, LINEAR_SAMPLE[vertices] ?? 50);
  record(
    'Traccar-style linear scan: turf over all fences per fix',
    linearSample,
    timed(() => {
      for (let k = 0; k < linearSample; k++) {
        for (const f of features) if (booleanPointInPolygon([moves.lon[k]!, moves.lat[k]!], f)) linearHits++;
      }
    }),
  );
  if (linearHits < 0 || touched < 0) throw new Error('unreachable');

  return { rows, candidatesPerFix: candidates / sample, turfCallsPerFix: turfCalls / sample, hitsPerFix: hits / sample, eventsPerUpdate: events / timedFixes };
}

const notes: string[] = [];

/** What the last benchGeofences() run saw besides timings (selectivity of the tree and grid, events per update). */
export function geofenceBenchNotes(): string[] {
  return [...notes];
}

/** Runs one scenario per vertex count (at the defaults about 40 s) and returns one row per measurement. */
export async function benchGeofences(opts: GeofenceBenchOptions = GEOFENCE_DEFAULTS): Promise<GeofenceRow[]> {
  const rows: GeofenceRow[] = [];
  notes.length = 0;
  for (const vertices of opts.vertices) {
    const s = runScenario(vertices, opts.fences, opts.vehicles);
    rows.push(...s.rows);
    notes.push(
      `${vertices} vertices, per point: ${s.candidatesPerFix.toFixed(2)} polygon boxes hold it, ${s.turfCallsPerFix.toFixed(2)} turf calls left for boundary cells of the per-fence grid, ` +
        `${s.hitsPerFix.toFixed(2)} fences contain it (vehicle type honoured); ` +
        `${s.eventsPerUpdate.toFixed(3)} events per update`,
    );
    // Let the previous scenario's fences go before building the next (500-vertex fences take ~300 MB).
    await new Promise((resolve) => setImmediate(resolve));
  }
  return rows;
}

/** The section's text: a description line, the table, the selectivity notes and the target. */
export function geofenceTable(opts: GeofenceBenchOptions, rows: GeofenceRow[], scenarioNotes: string[]): string[] {
  const lines = [
    `Geofences: ${opts.fences.toLocaleString('en')} star-shaped fences of ${opts.vertices.join(' and of ')} vertices over a Jakarta-sized area, ${opts.vehicles.toLocaleString('en')} vehicles walking randomly, exitDelayS ${EXIT_DELAY_S}; ` +
      'one position update = FenceIndex.containing() + FenceTracker.update(), in the bench process (one core), seeded. CPU ms is this process\'s CPU time over the same span (less disturbed than wall time on a shared machine).',
    '',
    '| operation | ops | ms | ops/s | CPU ms | ops per CPU s |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const b = r.label.startsWith('position update') ? '**' : '';
    const perCpuS = r.cpuMs > 0 ? Math.round((r.ops / r.cpuMs) * 1000).toLocaleString('en') : 'n/a';
    lines.push(`| ${b}${r.label}${b} | ${r.ops.toLocaleString('en')} | ${r.ms.toFixed(1)} | ${b}${Math.round(r.opsPerS).toLocaleString('en')}${b} | ${r.cpuMs.toFixed(0)} | ${perCpuS} |`);
  }
  lines.push('');
  for (const n of scenarioNotes) lines.push(`- ${n}`);
  const target = rows.find((r) => r.label.startsWith('position update') && r.label.includes('x 50 vertices'));
  if (target) {
    const scale = opts.fences === GEOFENCE_DEFAULTS.fences && opts.vehicles === GEOFENCE_DEFAULTS.vehicles ? '' : ' (at a reduced scale: the target is set for 10,000 fences and 100,000 vehicles)';
    lines.push(`- Target >= 100,000 updates/s with 50-vertex fences: ${target.opsPerS >= 100_000 ? 'met' : 'NOT met'} (${Math.round(target.opsPerS).toLocaleString('en')}/s)${scale}.`);
  }
  return lines;
}

/** `--fences N --vehicles N --vertices 50,500` over the defaults; throws on a malformed value */
export function parseGeofenceFlag(opts: GeofenceBenchOptions, flag: string, value: string | undefined): boolean {
  const whole = (raw: string | undefined): number => {
    const n = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a whole number above 0, got "${raw ?? ''}"`);
    return n;
  };
  if (flag === '--fences' || flag === '--geofence-fences') opts.fences = whole(value);
  else if (flag === '--vehicles' || flag === '--geofence-vehicles') opts.vehicles = whole(value);
  else if (flag === '--vertices' || flag === '--geofence-vertices') {
    opts.vertices = (value ?? '').split(',').map((v) => {
      const n = whole(v);
      if (n < 3) throw new Error(`${flag}: a polygon needs at least 3 vertices, got ${n}`);
      return n;
    });
  }
  else return false;
  return true;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts: GeofenceBenchOptions = { ...GEOFENCE_DEFAULTS };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!parseGeofenceFlag(opts, argv[i]!, argv[i + 1])) throw new Error(`unknown flag ${argv[i]}; flags: --fences N, --vehicles N, --vertices 50,500`);
  }
  const rows = await benchGeofences(opts);
  console.log(geofenceTable(opts, rows, geofenceBenchNotes()).join('\n'));
}
