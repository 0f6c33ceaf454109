// Builds web/src/basemap.geojson, the dashboard's offline basemap, from the repo's own data: the simulated
// city's box (JAKARTA_BBOX) and road network, the rivers of the gauges in domain/jakarta-gauges.json, and a
// graticule. `npm run build:basemap` rewrites the file; test/web-basemap.test.ts fails when it is stale.
//
// The city outline is an APPROXIMATION of DKI Jakarta's mainland boundary, drawn inside JAKARTA_BBOX for the
// simulated city: good enough to orient an operator, not an administrative boundary. The roads are the
// simulators' synthetic network (seed 1, the demo's), so vehicles of the demo drive on the lines drawn here.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import gaugesJson from '../../domain/jakarta-gauges.json' with { type: 'json' };
import { buildRoadGraph, JAKARTA_BBOX, ROAD_CLASSES, haversineM } from '../../simulators/roads.ts';
import { RIVERS } from '../../simulators/sites.ts';

export const BASEMAP_FILE = fileURLToPath(new URL('../src/basemap.geojson', import.meta.url));
/** the seed of `pantau demo`'s city (simulators/runner.ts default) */
const DEMO_SEED = 1;
/** 1e-5 degrees is about 1 m: finer only makes the bundle bigger */
const round = (x: number) => Math.round(x * 1e5) / 1e5;

type Position = [number, number];
interface Feature {
  type: 'Feature';
  properties: Record<string, unknown>;
  geometry: { type: 'Polygon'; coordinates: Position[][] } | { type: 'LineString'; coordinates: Position[] } | { type: 'MultiLineString'; coordinates: Position[][] };
}

/**
 * Vertices as fractions of JAKARTA_BBOX (x east from minLon, y north from minLat), clockwise from the
 * north-west corner along the coast of Jakarta Bay, then the borders with Bekasi, Depok and Tangerang.
 */
const OUTLINE_FRACTIONS: ReadonlyArray<readonly [number, number]> = [
  [0.03, 0.88], [0.2, 0.93], [0.37, 0.9], [0.5, 0.92], [0.62, 0.96], [0.78, 0.94], [0.93, 0.96], [0.99, 0.93],
  [0.99, 0.72], [0.95, 0.55], [0.9, 0.38], [0.83, 0.18], [0.77, 0.02], [0.62, 0.0], [0.5, 0.03], [0.38, 0.0],
  [0.28, 0.08], [0.22, 0.22], [0.12, 0.3], [0.07, 0.45], [0.01, 0.6], [0.0, 0.76],
];

function outline(): Feature {
  const { minLon, maxLon, minLat, maxLat } = JAKARTA_BBOX;
  const ring: Position[] = OUTLINE_FRACTIONS.map(([fx, fy]) => [round(minLon + fx * (maxLon - minLon)), round(minLat + fy * (maxLat - minLat))]);
  ring.push(ring[0]!);
  return {
    type: 'Feature',
    properties: { layer: 'outline', name: 'DKI Jakarta (approximate outline of the simulated city)' },
    geometry: { type: 'Polygon', coordinates: [ring] },
  };
}

interface Gauge {
  id: string;
  name: string;
  river: string;
  lat: number;
  lon: number;
}

/**
 * Each river of simulators/sites.ts through the gauges on it, south to north (these rivers flow to Jakarta Bay):
 * a gauge replaces a river point within 500 m of it, so every line passes exactly through its gauges.
 */
function rivers(): Feature[] {
  const gauges = (gaugesJson as { gauges: Gauge[] }).gauges;
  const used = new Set<string>();
  const out: Feature[] = [];
  for (const river of RIVERS) {
    const names = river.name.split('/').map((n) => n.trim());
    const mine = gauges.filter((g) => names.includes(g.river.replace(/\s*\(.*\)$/, '')));
    const points: Array<{ lat: number; lon: number }> = mine.map((g) => ({ lat: g.lat, lon: g.lon }));
    for (const [lat, lon] of river.points) {
      if (!mine.some((g) => haversineM(g.lat, g.lon, lat, lon) < 500)) points.push({ lat, lon });
    }
    points.sort((a, b) => a.lat - b.lat);
    for (const g of mine) used.add(g.id);
    out.push({
      type: 'Feature',
      properties: { layer: 'river', name: river.name, gauges: mine.map((g) => g.id) },
      geometry: { type: 'LineString', coordinates: points.map((p) => [round(p.lon), round(p.lat)]) },
    });
  }
  const missing = gauges.filter((g) => !used.has(g.id)).map((g) => `${g.id} (${g.river})`);
  if (missing.length) throw new Error(`build-basemap: no river of simulators/sites.ts carries the gauges ${missing.join(', ')}; add the river there`);
  return out;
}

/** The demo city's road network, one MultiLineString per road class, each edge once. */
function roads(): Feature[] {
  const g = buildRoadGraph(DEMO_SEED);
  const byClass: Position[][][] = ROAD_CLASSES.map(() => []);
  for (let a = 0; a < g.nodeCount; a++) {
    for (let s = g.adjStart[a]!; s < g.adjStart[a + 1]!; s++) {
      const b = g.adjTo[s]!;
      if (b <= a) continue;
      byClass[g.adjClass[s]!]!.push([
        [round(g.lon[a]!), round(g.lat[a]!)],
        [round(g.lon[b]!), round(g.lat[b]!)],
      ]);
    }
  }
  return ROAD_CLASSES.map((cls, i) => ({
    type: 'Feature' as const,
    properties: { layer: 'road', class: cls, source: `simulators/roads.ts buildRoadGraph(${DEMO_SEED})` },
    geometry: { type: 'MultiLineString' as const, coordinates: byClass[i]! },
  }));
}

/** Lines every 0.05 degrees over the box, labelled by the value they mark. */
function graticule(stepDeg = 0.05): Feature[] {
  const { minLon, maxLon, minLat, maxLat } = JAKARTA_BBOX;
  const out: Feature[] = [];
  // integer steps so that float error never adds or drops a line
  for (let i = Math.ceil(minLon / stepDeg); i * stepDeg <= maxLon + 1e-9; i++) {
    const lon = round(i * stepDeg);
    out.push({ type: 'Feature', properties: { layer: 'graticule', lon }, geometry: { type: 'LineString', coordinates: [[lon, minLat], [lon, maxLat]] } });
  }
  for (let i = Math.ceil(minLat / stepDeg); i * stepDeg <= maxLat + 1e-9; i++) {
    const lat = round(i * stepDeg);
    out.push({ type: 'Feature', properties: { layer: 'graticule', lat }, geometry: { type: 'LineString', coordinates: [[minLon, lat], [maxLon, lat]] } });
  }
  return out;
}

export function buildBasemap(): { type: 'FeatureCollection'; bbox: number[]; properties: Record<string, unknown>; features: Feature[] } {
  const { minLon, minLat, maxLon, maxLat } = JAKARTA_BBOX;
  return {
    type: 'FeatureCollection',
    bbox: [minLon, minLat, maxLon, maxLat],
    properties: {
      generated_by: 'web/scripts/build-basemap.ts (npm run build:basemap)',
      note: 'Schematic basemap of the simulated city: the outline is approximate, the roads are synthetic, the rivers join the gauges of domain/jakarta-gauges.json.',
    },
    features: [outline(), ...graticule(), ...roads(), ...rivers()],
  };
}

/** The file's exact text: one feature per line keeps diffs of a regenerated file readable. */
export function basemapText(): string {
  const fc = buildBasemap();
  const head = JSON.stringify({ type: fc.type, bbox: fc.bbox, properties: fc.properties });
  return `${head.slice(0, -1)},"features":[\n${fc.features.map((f) => JSON.stringify(f)).join(',\n')}\n]}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  fs.writeFileSync(BASEMAP_FILE, basemapText());
  process.stdout.write(`wrote ${BASEMAP_FILE}\n`);
}
