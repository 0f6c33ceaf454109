// Micro benchmark of the live vehicle index: `npx tsx bench/geo-nearest.ts [--cell-deg 0.005]` (bench/run.ts reuses it).
// Seeded: 100,000 vehicles (90% over Jakarta, 10% worldwide), 10,000 nearest(k=5) queries, 100,000 upserts.
// --cell-deg tries another grid cell size than the index's default (geo/vehicle-index.ts CELL_SIZE_DEG).

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { VEHICLE_STATUSES, VEHICLE_TYPES } from '../ingest/model.ts';
import { VehicleIndex, type LiveVehicle, type NearestStats, type VehicleIndexOptions } from '../geo/vehicle-index.ts';
import { seededRandom } from '../test/helpers/seeded-random.ts';

export const GEO_VEHICLES = 100_000;
const QUERIES = 10_000;
const UPSERTS = 100_000;

export interface GeoRow {
  name: string;
  ops: number;
  ms: number;
  opsPerS: number;
}

export interface GeoResult {
  vehicles: number;
  rows: GeoRow[];
  /** mean items visited per nearest k=5 query */
  itemsVisited: { unfiltered: number; filtered: number };
}

function time(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

/** Runs the whole seeded micro benchmark (a few seconds) and returns one row per operation. */
export function runGeoNearest(opts: VehicleIndexOptions = {}): GeoResult {
  const rand = seededRandom(20240501);
  const between = (min: number, max: number): number => min + (max - min) * rand();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const jakarta = (): [number, number] => [between(-6.4, -6.0), between(106.6, 107.1)];

  const fleet: LiveVehicle[] = [];
  for (let i = 0; i < GEO_VEHICLES; i++) {
    const [lat, lon] = i % 10 === 0 ? [between(-85, 85), between(-180, 180)] : jakarta();
    fleet.push({
      id: `veh-${i}`,
      type: pick(VEHICLE_TYPES),
      status: pick(VEHICLE_STATUSES),
      lat,
      lon,
      ts: 1_700_000_000_000,
      speedKmh: null,
      heading: null,
      accuracyM: null,
    });
  }
  const queries = Array.from({ length: QUERIES }, jakarta);
  const moves = Array.from({ length: UPSERTS }, () => {
    const v = fleet[Math.floor(rand() * GEO_VEHICLES)]!;
    return { ...v, lat: Math.max(-90, Math.min(90, v.lat + between(-0.002, 0.002))), lon: Math.max(-180, Math.min(180, v.lon + between(-0.002, 0.002))) };
  });

  const rows: GeoRow[] = [];
  const record = (name: string, ops: number, ms: number): void => {
    rows.push({ name, ops, ms, opsPerS: (ops / ms) * 1000 });
  };

  const index = new VehicleIndex(opts);
  record('upsert (insert into growing tree)', GEO_VEHICLES, time(() => fleet.forEach((v) => index.upsert(v))));
  const bulk = new VehicleIndex(opts);
  record('load (bulk, OMT)', GEO_VEHICLES, time(() => bulk.load(fleet)));

  // Warm up the JIT on a different set of points.
  for (let i = 0; i < 2000; i++) index.nearest(-6.2 + i * 1e-5, 106.8, { k: 5 });

  const stats: NearestStats = { nodesVisited: 0, itemsVisited: 0 };
  let itemsVisited = 0;
  record(
    'nearest k=5',
    QUERIES,
    time(() => {
      for (const [lat, lon] of queries) {
        index.nearest(lat, lon, { k: 5, stats });
        itemsVisited += stats.itemsVisited;
      }
    }),
  );
  const availableAmbulance = (v: Readonly<LiveVehicle>): boolean => v.type === 'ambulance' && v.status === 'available';
  let itemsVisitedFiltered = 0;
  record(
    'nearest k=5, available ambulances (1 in 18)',
    QUERIES,
    time(() => {
      for (const [lat, lon] of queries) {
        index.nearest(lat, lon, { k: 5, filter: availableAmbulance, stats });
        itemsVisitedFiltered += stats.itemsVisited;
      }
    }),
  );
  // What GET /vehicles/nearest asks by default: status available (a partition set), fixes younger than max_age_s.
  const available = new Set(['available'] as const);
  const oldestTs = 1_700_000_000_000 - 120_000;
  record(
    'nearest k=5, statuses {available} + fix age as minTs (the HTTP query)',
    QUERIES,
    time(() => {
      for (const [lat, lon] of queries) index.nearest(lat, lon, { k: 5, statuses: available, minTs: oldestTs });
    }),
  );
  const ambulances = new Set(['ambulance'] as const);
  record(
    'nearest k=5, available ambulances as types/statuses sets (the dispatcher)',
    QUERIES,
    time(() => {
      for (const [lat, lon] of queries) index.nearest(lat, lon, { k: 5, types: ambulances, statuses: available, minTs: oldestTs });
    }),
  );
  record(
    'nearest k=5 on the bulk-loaded tree',
    QUERIES,
    time(() => {
      for (const [lat, lon] of queries) bulk.nearest(lat, lon, { k: 5 });
    }),
  );
  record('upsert (move ~200 m)', UPSERTS, time(() => moves.forEach((v) => index.upsert(v))));
  record(
    'nearest k=5 after the moves',
    QUERIES,
    time(() => {
      for (const [lat, lon] of queries) index.nearest(lat, lon, { k: 5 });
    }),
  );
  return { vehicles: GEO_VEHICLES, rows, itemsVisited: { unfiltered: itemsVisited / QUERIES, filtered: itemsVisitedFiltered / QUERIES } };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--cell-deg');
  const cellSizeDeg = at > 0 ? Number(process.argv[at + 1]) : undefined;
  const result = runGeoNearest(cellSizeDeg === undefined ? {} : { cellSizeDeg });
  console.log(`VehicleIndex, ${result.vehicles.toLocaleString('en')} vehicles${cellSizeDeg === undefined ? '' : `, cells of ${cellSizeDeg} degrees`}, node ${process.version}`);
  console.log('| operation | ops | ms | ops/s |');
  console.log('|---|---:|---:|---:|');
  for (const r of result.rows) {
    console.log(`| ${r.name} | ${r.ops.toLocaleString('en')} | ${r.ms.toFixed(1)} | ${Math.round(r.opsPerS).toLocaleString('en')} |`);
  }
  console.log(`items visited per nearest k=5: ${result.itemsVisited.unfiltered.toFixed(1)} unfiltered, ${result.itemsVisited.filtered.toFixed(1)} filtered`);
}
