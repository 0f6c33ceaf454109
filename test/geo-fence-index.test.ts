// FenceIndex against brute force: turf's booleanPointInPolygon over ALL fences (Traccar's way), on seeded random
// convex, concave, holed and multi-part fences, at random points and exactly on vertices and edges.

import { describe, expect, it } from 'vitest';
import { booleanPointInPolygon, pointToPolygonDistance } from '@turf/turf';
import type { MultiPolygon, Polygon, Position } from 'geojson';
import { VEHICLE_TYPES, type VehicleType } from '../ingest/model.ts';
import { FenceIndex, type FenceQueryStats } from '../geo/fence-index.ts';
import { cellKind, CELL_BOUNDARY, CELL_INSIDE, chooseCellGrid } from '../geo/fence-grid.ts';
import { validateFence, type FenceInput } from '../geo/fence-validate.ts';
import { seededRandom } from './helpers/seeded-random.ts';
import { circleRing, starRing, type Rand } from './helpers/polygons.ts';

// A 0.1 x 0.1 degree patch of central Jakarta, small enough that fences pile up on each other.
const LON0 = 106.8;
const LAT0 = -6.25;
const SPAN = 0.1;

function randomPolygon(rand: Rand, kind: 'convex' | 'star' | 'holed', cx: number, cy: number, r: number): Position[][] {
  const n = 8 + Math.floor(rand() * 40);
  if (kind === 'convex') return [starRing(rand, cx, cy, r, n, 1)];
  if (kind === 'star') return [starRing(rand, cx, cy, r, n, 0.4)];
  // Jittered angles leave every shell edge at least 0.32 r from the centre, so a hole of 0.2 r fits.
  return [starRing(rand, cx, cy, r, n, 0.4), circleRing(cx, cy, 0.2 * r, 6 + Math.floor(rand() * 10))];
}

function randomFence(rand: Rand, i: number): FenceInput {
  const r = 0.002 + rand() * 0.02;
  const cx = LON0 + rand() * SPAN;
  const cy = LAT0 + rand() * SPAN;
  const kinds = ['convex', 'star', 'holed', 'multi'] as const;
  const kind = kinds[i % kinds.length]!;
  let geometry: Polygon | MultiPolygon;
  if (kind === 'multi') {
    // Parts 2.5 r apart along a diagonal never overlap.
    const parts = 2 + Math.floor(rand() * 2);
    const coordinates: Position[][][] = [];
    for (let p = 0; p < parts; p++) coordinates.push(randomPolygon(rand, rand() < 0.5 ? 'star' : 'holed', cx + p * 2.5 * r, cy + p * 2.5 * r, r));
    geometry = { type: 'MultiPolygon', coordinates };
  } else {
    geometry = { type: 'Polygon', coordinates: randomPolygon(rand, kind, cx, cy, r) };
  }
  const u = rand();
  const appliesTo: VehicleType[] | null = u < 0.6 ? null : VEHICLE_TYPES.filter(() => rand() < 0.4);
  const properties = { name: `fence ${i}`, applies_to: appliesTo === null || appliesTo.length === 0 ? undefined : appliesTo };
  const checked = validateFence({ type: 'Feature', geometry, properties });
  if (!checked.ok) throw new Error(`generated fence ${i} (${kind}) is invalid: ${checked.reason}`);
  return checked.fence;
}

function bruteForce(fences: Map<string, FenceInput>, lat: number, lon: number, type?: VehicleType): string[] {
  const out: string[] = [];
  for (const [id, f] of fences) {
    if (type !== undefined && f.appliesTo !== null && !f.appliesTo.includes(type)) continue;
    const feature = { type: 'Feature' as const, properties: {}, geometry: f.geometry };
    if (booleanPointInPolygon([lon, lat], feature)) out.push(id);
  }
  return out.sort();
}

function* positionsOf(g: Polygon | MultiPolygon): Generator<Position> {
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  for (const rings of polygons) for (const ring of rings) yield* ring;
}

function* edgePointsOf(g: Polygon | MultiPolygon, rand: Rand): Generator<Position> {
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  for (const rings of polygons) {
    for (const ring of rings) {
      for (let i = 0; i + 1 < ring.length; i++) {
        const t = rand();
        const a = ring[i]!;
        const b = ring[i + 1]!;
        yield [a[0]! + t * (b[0]! - a[0]!), a[1]! + t * (b[1]! - a[1]!)];
      }
    }
  }
}

describe('FenceIndex.containing vs brute force', () => {
  const rand = seededRandom(112);
  const fences = new Map<string, FenceInput>();
  for (let i = 0; i < 300; i++) fences.set(`f${String(i).padStart(3, '0')}`, randomFence(rand, i));
  const index = new FenceIndex();
  for (const [id, f] of fences) index.set(id, f);
  const pickType = (): VehicleType | undefined => (rand() < 0.3 ? undefined : VEHICLE_TYPES[Math.floor(rand() * VEHICLE_TYPES.length)]);

  it('indexes every fence', () => {
    expect(index.size).toBe(300);
    expect([...index.all()].map((f) => f.id).sort()).toEqual([...fences.keys()].sort());
  });

  it('agrees at 5,000 random points (with and without a vehicle type)', () => {
    let nonEmpty = 0;
    for (let i = 0; i < 5000; i++) {
      const lat = LAT0 - 0.01 + rand() * (SPAN + 0.04);
      const lon = LON0 - 0.01 + rand() * (SPAN + 0.04);
      const type = pickType();
      const got = index.containing(lat, lon, type);
      expect(got, `(${lat}, ${lon}) ${type}`).toEqual(bruteForce(fences, lat, lon, type));
      if (got.length > 0) nonEmpty++;
    }
    // The test means something only if points often land in fences, and in several at once.
    expect(nonEmpty).toBeGreaterThan(1000);
  });

  it('agrees on every vertex of every ring (shells and holes): vertices are inside', () => {
    let checked = 0;
    for (const [id, f] of fences) {
      for (const [lon, lat] of positionsOf(f.geometry)) {
        const got = index.containing(lat!, lon!);
        expect(got).toEqual(bruteForce(fences, lat!, lon!));
        expect(got).toContain(id);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('agrees at points on (or within rounding of) every edge', () => {
    for (const f of fences.values()) {
      for (const [lon, lat] of edgePointsOf(f.geometry, rand)) {
        const type = pickType();
        expect(index.containing(lat!, lon!, type)).toEqual(bruteForce(fences, lat!, lon!, type));
      }
    }
  });

  it('agrees on a 65 x 65 lattice over each fence box (contains() against turf)', () => {
    for (const [id, f] of [...fences].slice(0, 40)) {
      const [x0, y0, x1, y1] = index.get(id)!.bbox;
      const feature = { type: 'Feature' as const, properties: {}, geometry: f.geometry };
      for (let i = 0; i <= 64; i++) {
        for (let j = 0; j <= 64; j++) {
          const lon = x0 + ((x1 - x0) * i) / 64;
          const lat = y0 + ((y1 - y0) * j) / 64;
          expect(index.contains(id, lat, lon), `${id} at (${lat}, ${lon})`).toBe(booleanPointInPolygon([lon, lat], feature));
        }
      }
    }
  });

  it('still agrees after deleting and replacing fences', () => {
    const ids = [...fences.keys()];
    for (let i = 0; i < 60; i++) {
      const id = ids[Math.floor(rand() * ids.length)]!;
      if (i % 2 === 0) {
        index.delete(id);
        fences.delete(id);
      } else {
        const f = randomFence(rand, i);
        index.set(id, f);
        fences.set(id, f);
      }
    }
    expect(index.size).toBe(fences.size);
    for (let i = 0; i < 2000; i++) {
      const lat = LAT0 + rand() * SPAN;
      const lon = LON0 + rand() * SPAN;
      expect(index.containing(lat, lon)).toEqual(bruteForce(fences, lat, lon));
    }
  });

  it('bulk load gives the same answers as set()', () => {
    const bulk = new FenceIndex();
    bulk.load([...fences].map(([id, fence]) => ({ id, fence })));
    for (let i = 0; i < 2000; i++) {
      const lat = LAT0 + rand() * SPAN;
      const lon = LON0 + rand() * SPAN;
      const type = pickType();
      expect(bulk.containing(lat, lon, type)).toEqual(index.containing(lat, lon, type));
    }
  });
});

describe('FenceIndex cell grid vs brute force: fences from 10 cm to 800 km, holes through cells', () => {
  // Fences of every size on one spot, so that tiny ones sit in the interior cells of huge ones and vice versa.
  const rand = seededRandom(4242);
  const CX = 106.85;
  const CY = -6.2;
  const fences = new Map<string, FenceInput>();
  const radii = [1e-6, 3e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 4];
  let n = 0;
  for (const r of radii) {
    for (let k = 0; k < 4; k++) {
      const cx = CX + (rand() - 0.5) * 2 * r;
      const cy = CY + (rand() - 0.5) * 2 * r;
      const nv = 8 + Math.floor(rand() * (r < 1e-4 ? 20 : 300));
      let rings: Position[][];
      if (k === 0) rings = [starRing(rand, cx, cy, r, nv, 1)];
      else if (k === 1) rings = [starRing(rand, cx, cy, r, nv, 0.4)];
      // Holes: a circle, and a thin bar (0.05 r high) that cuts across many cells of the shell's grid.
      else if (k === 2) rings = [starRing(rand, cx, cy, r, nv, 0.6), circleRing(cx - 0.2 * r, cy, 0.15 * r, 7 + Math.floor(rand() * 30))];
      else {
        const bar: Position[] = [
          [cx - 0.3 * r, cy + 0.2 * r],
          [cx + 0.3 * r, cy + 0.2 * r],
          [cx + 0.3 * r, cy + 0.25 * r],
          [cx - 0.3 * r, cy + 0.25 * r],
          [cx - 0.3 * r, cy + 0.2 * r],
        ];
        rings = [starRing(rand, cx, cy, r, nv, 0.6), bar, circleRing(cx, cy - 0.2 * r, 0.1 * r, 9)];
      }
      const checked = validateFence({ type: 'Feature', geometry: { type: 'Polygon', coordinates: rings }, properties: { name: `r${r} k${k}` } });
      if (!checked.ok) throw new Error(`generated fence r=${r} k=${k} is invalid: ${checked.reason}`);
      fences.set(`g${String(n++).padStart(2, '0')}`, checked.fence);
    }
  }
  const index = new FenceIndex();
  index.load([...fences].map(([id, fence]) => ({ id, fence })));

  /** The grid the index holds for a fence (it is deterministic), with its box. */
  const gridOf = (id: string) => {
    const rings = index.get(id)!.geometry.coordinates as Position[][];
    const b = index.get(id)!.bbox;
    return { rings, box: [b[0], b[1], b[2], b[3]] as [number, number, number, number], grid: chooseCellGrid(rings, b) };
  };
  const check = (lon: number, lat: number, what: string): void => {
    const expected = bruteForce(fences, lat, lon);
    expect(index.containing(lat, lon), `${what} (${lat}, ${lon})`).toEqual(expected);
    for (const id of fences.keys()) expect(index.contains(id, lat, lon), `${what}: ${id} at (${lat}, ${lon})`).toBe(expected.includes(id));
  };

  it('agrees at random points at every scale around the fences', () => {
    for (const r of radii) {
      for (let i = 0; i < 150; i++) check(CX + (rand() - 0.5) * 3 * r, CY + (rand() - 0.5) * 3 * r, `random at scale ${r}`);
    }
  });

  it('agrees in interior cells (centres and random points), where no turf call is made', () => {
    const stats: FenceQueryStats = { boxes: 0, turfCalls: 0 };
    let answeredByGrid = 0;
    for (const id of fences.keys()) {
      const { box, grid } = gridOf(id);
      const w = 1 / grid.cellsPerLon;
      const h = 1 / grid.cellsPerLat;
      let found = 0;
      for (let tries = 0; tries < 4000 && found < 25; tries++) {
        const c = Math.floor(rand() * grid.cols);
        const r = Math.floor(rand() * grid.rows);
        if (cellKind(grid, c, r) !== CELL_INSIDE) continue;
        found++;
        const fx = found % 2 === 0 ? 0.5 : rand();
        const fy = found % 2 === 0 ? 0.5 : rand();
        const lon = box[0] + (c + fx) * w;
        const lat = box[1] + (r + fy) * h;
        check(lon, lat, `interior cell of ${id}`);
        expect(index.containing(lat, lon, undefined, stats)).toContain(id);
        answeredByGrid += stats.gridInside!;
      }
      expect(found, `interior cells of ${id}`).toBeGreaterThan(0);
    }
    expect(answeredByGrid).toBeGreaterThan(0);
  });

  it('agrees exactly on cell lines and cell corners (either neighbour may get the point)', () => {
    for (const id of fences.keys()) {
      const { box, grid } = gridOf(id);
      const w = 1 / grid.cellsPerLon;
      const h = 1 / grid.cellsPerLat;
      for (let i = 0; i < 40; i++) {
        const c = Math.floor(rand() * (grid.cols + 1));
        const r = Math.floor(rand() * (grid.rows + 1));
        const onX = Math.min(box[2], box[0] + c * w);
        const onY = Math.min(box[3], box[1] + r * h);
        check(onX, onY, `corner (${c}, ${r}) of ${id}`);
        check(onX, box[1] + rand() * (box[3] - box[1]), `column line ${c} of ${id}`);
        check(box[0] + rand() * (box[2] - box[0]), onY, `row line ${r} of ${id}`);
        // and a hair either side of the line
        check(onX + 1e-12, onY - 1e-12, `next to corner (${c}, ${r}) of ${id}`);
      }
    }
  });

  it('agrees on vertices and on edges of shells and holes, which only boundary cells hold', () => {
    for (const [id, f] of fences) {
      const { box, grid } = gridOf(id);
      for (const [lon, lat] of positionsOf(f.geometry)) {
        check(lon!, lat!, `vertex of ${id}`);
        expect(index.contains(id, lat!, lon!)).toBe(true);
      }
      let k = 0;
      for (const [lon, lat] of edgePointsOf(f.geometry, rand)) {
        if (k++ % 5 === 0) check(lon!, lat!, `edge point of ${id}`);
        const c = Math.min(grid.cols - 1, Math.floor((lon! - box[0]) * grid.cellsPerLon));
        const r = Math.min(grid.rows - 1, Math.floor((lat! - box[1]) * grid.cellsPerLat));
        expect(cellKind(grid, c, r), `edge point of ${id} in cell (${c}, ${r})`).toBe(CELL_BOUNDARY);
      }
    }
  });

  it('is not fooled by NaN', () => {
    expect(index.containing(NaN, CX)).toEqual([]);
    expect(index.containing(CY, NaN)).toEqual([]);
    for (const id of fences.keys()) {
      expect(index.contains(id, NaN, NaN)).toBe(false);
      expect(index.contains(id, CY, NaN)).toBe(false);
    }
  });
});

describe('FenceIndex at the boundary (exactly representable coordinates)', () => {
  // A square with a square hole; all coordinates are multiples of 1/1024 degree, so midpoints are exact.
  const d = 1 / 1024;
  const x0 = 106.8125;
  const y0 = -6.1875;
  const square = (ax: number, ay: number, bx: number, by: number): Position[] => [
    [ax, ay],
    [bx, ay],
    [bx, by],
    [ax, by],
    [ax, ay],
  ];
  const holed: FenceInput = {
    geometry: { type: 'Polygon', coordinates: [square(x0, y0, x0 + 8 * d, y0 + 8 * d), square(x0 + 2 * d, y0 + 2 * d, x0 + 4 * d, y0 + 4 * d)] },
    name: 'holed',
    kind: null,
    appliesTo: null,
    dwellS: null,
  };
  // Shares the holed square's east edge.
  const neighbour: FenceInput = { ...holed, name: 'east', geometry: { type: 'Polygon', coordinates: [square(x0 + 8 * d, y0, x0 + 16 * d, y0 + 8 * d)] } };
  const index = new FenceIndex();
  index.set('holed', holed);
  index.set('east', neighbour);

  const table: Array<[string, number, number, string[]]> = [
    ['inside', x0 + 1 * d, y0 + 1 * d, ['holed']],
    ['shell vertex', x0, y0, ['holed']],
    ['shell edge midpoint', x0 + 4 * d, y0, ['holed']],
    ['shared edge: in both', x0 + 8 * d, y0 + 5 * d, ['east', 'holed']],
    ['shared vertex: in both', x0 + 8 * d, y0 + 8 * d, ['east', 'holed']],
    ['in the hole: outside', x0 + 3 * d, y0 + 3 * d, []],
    ['hole edge: inside', x0 + 3 * d, y0 + 2 * d, ['holed']],
    ['hole vertex: inside', x0 + 4 * d, y0 + 4 * d, ['holed']],
    ['just outside the shell', x0 - d / 1024, y0 + d, []],
    ['outside everything', x0 + 20 * d, y0, []],
  ];
  it.each(table)('%s', (_name, lon, lat, expected) => {
    expect(index.containing(lat, lon)).toEqual(expected);
    for (const id of ['holed', 'east']) expect(index.contains(id, lat, lon)).toBe(expected.includes(id));
  });
});

describe('FenceIndex API', () => {
  const sq: Position[] = [
    [106.8, -6.2],
    [106.82, -6.2],
    [106.82, -6.18],
    [106.8, -6.18],
    [106.8, -6.2],
  ];
  const fence = (name: string, appliesTo: VehicleType[] | null = null, ring = sq): FenceInput => ({
    geometry: { type: 'Polygon', coordinates: [ring] },
    name,
    kind: null,
    appliesTo,
    dwellS: null,
  });

  it('honours applies_to only when a vehicle type is given', () => {
    const index = new FenceIndex();
    index.set('amb', fence('ambulances only', ['ambulance']));
    index.set('all', fence('everyone'));
    expect(index.containing(-6.19, 106.81)).toEqual(['all', 'amb']);
    expect(index.containing(-6.19, 106.81, 'ambulance')).toEqual(['all', 'amb']);
    expect(index.containing(-6.19, 106.81, 'garbage_truck')).toEqual(['all']);
    expect(index.contains('amb', -6.19, 106.81, 'police')).toBe(false);
    expect(index.contains('amb', -6.19, 106.81)).toBe(true);
  });

  it('reports a MultiPolygon once, from either part', () => {
    const index = new FenceIndex();
    const east = sq.map(([x, y]) => [x! + 0.05, y!]);
    index.set('m', { ...fence('two parts'), geometry: { type: 'MultiPolygon', coordinates: [[sq], [east]] } });
    expect(index.containing(-6.19, 106.81)).toEqual(['m']);
    expect(index.containing(-6.19, 106.86)).toEqual(['m']);
    expect(index.containing(-6.19, 106.835)).toEqual([]);
    index.get('m')!.bbox.forEach((x, k) => expect(x).toBeCloseTo([106.8, -6.2, 106.87, -6.18][k]!, 12));
    expect(index.search(106.83, -6.3, 106.84, -6.1)).toEqual([]);
    expect(index.search(106.84, -6.3, 106.9, -6.1)).toEqual(['m']);
  });

  it('set replaces, delete removes, get/all/size follow', () => {
    const index = new FenceIndex();
    expect(index.containing(-6.19, 106.81)).toEqual([]);
    index.set('a', fence('a'));
    index.set('b', fence('b'));
    expect(index.size).toBe(2);
    index.set('a', fence('a moved', null, sq.map(([x, y]) => [x! + 1, y!])));
    expect(index.size).toBe(2);
    expect(index.get('a')!.name).toBe('a moved');
    expect(index.containing(-6.19, 106.81)).toEqual(['b']);
    expect(index.containing(-6.19, 107.81)).toEqual(['a']);
    expect(index.delete('a')).toBe(true);
    expect(index.delete('a')).toBe(false);
    expect(index.get('a')).toBeUndefined();
    expect([...index.all()].map((f) => f.id)).toEqual(['b']);
    expect(index.search(106.7, -6.3, 107.9, -6.0)).toEqual(['b']);
    expect(() => index.search(107, -6.3, 106, -6.0)).toThrow(/minLon <= maxLon/);
    expect(() => index.set('', fence('x'))).toThrow(/non-empty string id/);
  });

  it('overlapsCircle: inside, within the radius of an edge (shell or hole), or not', () => {
    const index = new FenceIndex();
    const hole: Position[] = [
      [106.805, -6.195],
      [106.805, -6.185],
      [106.815, -6.185],
      [106.815, -6.195],
      [106.805, -6.195],
    ];
    index.set('h', { ...fence('holed'), geometry: { type: 'Polygon', coordinates: [sq, hole] } });
    const mPerDegLon = 111_195 * Math.cos((6.19 * Math.PI) / 180);
    const east20m = 106.82 + 20 / mPerDegLon;
    expect(index.overlapsCircle('h', -6.19, east20m, 25)).toBe(true);
    expect(index.overlapsCircle('h', -6.19, east20m, 15)).toBe(false);
    expect(index.overlapsCircle('h', -6.19, east20m, 0)).toBe(false);
    expect(index.overlapsCircle('h', -6.199, 106.801, 0)).toBe(true);
    // 10 m inside the hole's west edge: outside the fence but 10 m from it.
    const inHole = 106.805 + 10 / mPerDegLon;
    expect(index.overlapsCircle('h', -6.19, inHole, 12)).toBe(true);
    expect(index.overlapsCircle('h', -6.19, inHole, 8)).toBe(false);
    expect(index.overlapsCircle('nope', -6.19, 106.81, 1000)).toBe(false);
  });

  it('boundaryWithin is overlapsCircle for points outside, and only measures the boundary for points inside', () => {
    const index = new FenceIndex();
    index.set('a', fence('a'));
    const mPerDegLon = 111_195 * Math.cos((6.19 * Math.PI) / 180);
    const east20m = 106.82 + 20 / mPerDegLon;
    expect(index.boundaryWithin('a', -6.19, east20m, 25)).toBe(true);
    expect(index.boundaryWithin('a', -6.19, east20m, 15)).toBe(false);
    // 20 m inside the east edge: inside, but the boundary is 20 m away.
    const west20m = 106.82 - 20 / mPerDegLon;
    expect(index.overlapsCircle('a', -6.19, west20m, 5)).toBe(true);
    expect(index.boundaryWithin('a', -6.19, west20m, 5)).toBe(false);
    expect(index.boundaryWithin('a', -6.19, west20m, 25)).toBe(true);
    expect(index.boundaryWithin('nope', -6.19, east20m, 1000)).toBe(false);
  });

  it('keeps its own copy: changing the caller\'s object afterwards changes nothing', () => {
    const index = new FenceIndex();
    const f = fence('a', ['ambulance'], sq.map((p) => [...p]));
    index.set('a', f);
    (f.geometry.coordinates[0] as Position[])[2]![0] = 107.5;
    f.appliesTo!.push('police');
    expect(index.containing(-6.19, 107.2)).toEqual([]);
    expect(index.containing(-6.19, 106.81, 'police')).toEqual([]);
    expect(index.get('a')!.geometry.coordinates[0]![2]).toEqual([106.82, -6.18]);
  });

  it('set() on an existing id keeps its place in all()', () => {
    const index = new FenceIndex();
    for (const id of ['c', 'a', 'b']) index.set(id, fence(id));
    index.set('a', fence('a again'));
    expect([...index.all()].map((f) => f.id)).toEqual(['c', 'a', 'b']);
    index.load([{ id: 'z', fence: fence('z') }, { id: 'y', fence: fence('y') }]);
    expect([...index.all()].map((f) => f.id)).toEqual(['z', 'y']);
  });

  it('stats: the cell grid answers most candidates without turf, without changing answers (brute force above)', () => {
    const rand = seededRandom(3);
    const index = new FenceIndex();
    for (let i = 0; i < 200; i++) index.set(`f${i}`, randomFence(rand, i));
    const stats: FenceQueryStats = { boxes: 0, turfCalls: 0 };
    let boxes = 0;
    let turfCalls = 0;
    let gridInside = 0;
    let hits = 0;
    for (let i = 0; i < 3000; i++) {
      hits += index.containing(LAT0 + rand() * SPAN, LON0 + rand() * SPAN, undefined, stats).length;
      expect(stats.turfCalls + stats.gridInside!).toBeLessThanOrEqual(stats.boxes);
      boxes += stats.boxes;
      turfCalls += stats.turfCalls;
      gridInside += stats.gridInside!;
    }
    // Every hit is a grid "inside" or a turf "true"; most candidates need no turf call.
    expect(gridInside).toBeLessThanOrEqual(hits);
    expect(turfCalls).toBeGreaterThanOrEqual(hits - gridInside);
    expect(gridInside).toBeGreaterThan(0.7 * hits);
    expect(turfCalls).toBeLessThan(0.2 * boxes);
  });

  it('overlapsCircle agrees with turf pointToPolygonDistance on random points and fences', () => {
    const rand = seededRandom(7);
    const index = new FenceIndex();
    for (let i = 0; i < 40; i++) {
      const f = randomFence(rand, i);
      index.set(`f${i}`, f);
      const feature = { type: 'Feature' as const, properties: {}, geometry: f.geometry };
      for (let k = 0; k < 30; k++) {
        const [x0, y0, x1, y1] = index.get(`f${i}`)!.bbox;
        const lon = x0 - 0.005 + rand() * (x1 - x0 + 0.01);
        const lat = y0 - 0.005 + rand() * (y1 - y0 + 0.01);
        const signedM = pointToPolygonDistance([lon, lat], feature, { units: 'meters' });
        if (signedM <= 0) {
          expect(index.overlapsCircle(`f${i}`, lat, lon, 0)).toBe(true);
          continue;
        }
        // 1% either side: the local projection and turf's geodesic differ by far less at these sizes.
        expect(index.overlapsCircle(`f${i}`, lat, lon, signedM * 1.01)).toBe(true);
        expect(index.overlapsCircle(`f${i}`, lat, lon, signedM * 0.99)).toBe(false);
      }
    }
  });
});
