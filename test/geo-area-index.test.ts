// AreaIndex against brute force (areasIntersect over ALL areas), and areasIntersect itself against ground truth that
// shares none of its code: 3-D vector angles for circles, golden-section search along each edge plus turf's
// booleanPointInPolygon / pointToPolygonDistance for circle vs polygon, polygon clipping (turf intersect) for polygons.

import { describe, expect, it } from 'vitest';
import { booleanPointInPolygon, destination, intersect, pointToPolygonDistance } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon, Position } from 'geojson';
import { AreaError, AreaIndex, MAX_AREA_RADIUS_M, areaBBox, areaFromGeoJSON, areasIntersect, type Area, type AreaQueryStats } from '../geo/area-index.ts';
import { EARTH_RADIUS_M, haversineM } from '../geo/distance.ts';
import { seededRandom } from './helpers/seeded-random.ts';

type Rand = () => number;

const RAD = Math.PI / 180;
const M_PER_DEG_LAT = EARTH_RADIUS_M * RAD;

// Jakarta-sized box.
const JKT = { lonMin: 106.6, lonMax: 107.0, latMin: -6.4, latMax: -6.0 };

/** A star-shaped (so simple) ring around (cx, cy): jittered angles, radius in [minFrac, 1] x rM metres. */
function starRing(rand: Rand, cx: number, cy: number, rM: number, n: number, minFrac: number): Position[] {
  const rLat = rM / M_PER_DEG_LAT;
  const rLon = rLat / Math.cos(cy * RAD);
  const ring: Position[] = [];
  const step = (2 * Math.PI) / n;
  for (let i = 0; i < n; i++) {
    const a = i * step + (rand() - 0.5) * 0.6 * step;
    const f = minFrac + (1 - minFrac) * rand();
    ring.push([cx + f * rLon * Math.cos(a), cy + f * rLat * Math.sin(a)]);
  }
  ring.push([...ring[0]!]);
  return ring;
}

/** A regular ring traced clockwise, as holes usually are. */
function holeRing(cx: number, cy: number, rM: number, n: number): Position[] {
  const rLat = rM / M_PER_DEG_LAT;
  const rLon = rLat / Math.cos(cy * RAD);
  const ring: Position[] = [];
  for (let i = 0; i < n; i++) ring.push([cx + rLon * Math.cos((-2 * Math.PI * i) / n), cy + rLat * Math.sin((-2 * Math.PI * i) / n)]);
  ring.push([...ring[0]!]);
  return ring;
}

type Kind = 'convex' | 'star' | 'holed';

function polygonRings(rand: Rand, kind: Kind, cx: number, cy: number, rM: number, maxVertices = 40): Position[][] {
  const n = 6 + Math.floor(rand() * (maxVertices - 5));
  if (kind === 'convex') return [starRing(rand, cx, cy, rM, n, 1)];
  if (kind === 'star') return [starRing(rand, cx, cy, rM, n, 0.4)];
  // Jittered angles keep every shell edge at least 0.32 r from the centre, so a hole of 0.25 r fits.
  return [starRing(rand, cx, cy, rM, n, 0.4), holeRing(cx, cy, 0.25 * rM, 5 + Math.floor(rand() * 8))];
}

function randomPolygonGeometry(rand: Rand, cx: number, cy: number, rM: number, maxVertices?: number): Polygon | MultiPolygon {
  const u = rand();
  if (u < 0.2) {
    // Parts 2.5 r apart along a diagonal never overlap.
    const parts = 2 + Math.floor(rand() * 2);
    const step = (2.5 * rM) / M_PER_DEG_LAT;
    const coordinates: Position[][][] = [];
    for (let p = 0; p < parts; p++) {
      coordinates.push(polygonRings(rand, rand() < 0.5 ? 'star' : 'holed', cx + (p * step) / Math.cos(cy * RAD), cy + p * step, rM, maxVertices));
    }
    return { type: 'MultiPolygon', coordinates };
  }
  const kind: Kind = u < 0.45 ? 'convex' : u < 0.7 ? 'star' : 'holed';
  return { type: 'Polygon', coordinates: polygonRings(rand, kind, cx, cy, rM, maxVertices) };
}

/** Half circles, half polygons (convex, concave, holed, multi), size log-uniform in [minM, maxM]. */
function randomArea(rand: Rand, minM: number, maxM: number, box = JKT): Area {
  const cx = box.lonMin + rand() * (box.lonMax - box.lonMin);
  const cy = box.latMin + rand() * (box.latMax - box.latMin);
  const sizeM = minM * (maxM / minM) ** rand();
  if (rand() < 0.5) return { kind: 'circle', lat: cy, lon: cx, radiusM: sizeM };
  return { kind: 'polygon', geometry: randomPolygonGeometry(rand, cx, cy, sizeM) };
}

function bruteForce(areas: Map<string, Area>, q: Area): string[] {
  const out: string[] = [];
  for (const [id, a] of areas) if (areasIntersect(q, a)) out.push(id);
  return out.sort();
}

// ---- ground truth, independent of geo/area-index.ts and geo/distance.ts ----

/** Great-circle distance from the angle between 3-D unit vectors (atan2 of |a x b| and a . b): no haversine. */
function vectorDistM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const a = [Math.cos(lat1 * RAD) * Math.cos(lon1 * RAD), Math.cos(lat1 * RAD) * Math.sin(lon1 * RAD), Math.sin(lat1 * RAD)] as const;
  const b = [Math.cos(lat2 * RAD) * Math.cos(lon2 * RAD), Math.cos(lat2 * RAD) * Math.sin(lon2 * RAD), Math.sin(lat2 * RAD)] as const;
  const cx = a[1] * b[2] - a[2] * b[1];
  const cy = a[2] * b[0] - a[0] * b[2];
  const cz = a[0] * b[1] - a[1] * b[0];
  return EARTH_RADIUS_M * Math.atan2(Math.hypot(cx, cy, cz), a[0] * b[0] + a[1] * b[1] + a[2] * b[2]);
}

/** Nearest distance from (lat, lon) to the lon/lat-straight edge a-b: 64 samples, then golden-section around the best. */
function edgeDistM(lat: number, lon: number, a: Position, b: Position): number {
  const f = (t: number): number => vectorDistM(lat, lon, a[1]! + t * (b[1]! - a[1]!), a[0]! + t * (b[0]! - a[0]!));
  const N = 64;
  let best = 0;
  let bestD = f(0);
  for (let i = 1; i <= N; i++) {
    const d = f(i / N);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  let lo = Math.max(0, (best - 1) / N);
  let hi = Math.min(1, (best + 1) / N);
  const g = (Math.sqrt(5) - 1) / 2;
  for (let k = 0; k < 60; k++) {
    const m1 = hi - g * (hi - lo);
    const m2 = lo + g * (hi - lo);
    if (f(m1) < f(m2)) hi = m2;
    else lo = m1;
  }
  return Math.min(bestD, f((lo + hi) / 2));
}

function ringsOf(g: Polygon | MultiPolygon): Position[][] {
  return g.type === 'Polygon' ? g.coordinates : g.coordinates.flat();
}

function boundaryDistM(lat: number, lon: number, g: Polygon | MultiPolygon): number {
  let best = Infinity;
  for (const ring of ringsOf(g)) for (let i = 0; i + 1 < ring.length; i++) best = Math.min(best, edgeDistM(lat, lon, ring[i]!, ring[i + 1]!));
  return best;
}

const feature = (geometry: Polygon | MultiPolygon): Feature<Polygon | MultiPolygon> => ({ type: 'Feature', properties: {}, geometry });
const circle = (lat: number, lon: number, radiusM: number): Area => ({ kind: 'circle', lat, lon, radiusM });
const poly = (...rings: Position[][]): Area => ({ kind: 'polygon', geometry: { type: 'Polygon', coordinates: rings } });
const rect = (x0: number, y0: number, x1: number, y1: number): Position[] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];
const mPerDegLon = (lat: number): number => M_PER_DEG_LAT * Math.cos(lat * RAD);

describe('areasIntersect vs ground truth', () => {
  it('circle/circle: agrees with 3-D vector distances on random pairs, and decides within 1e-6 of touching', () => {
    const rand = seededRandom(41);
    let hits = 0;
    let misses = 0;
    for (const lat0 of [-6.2, 60]) {
      for (let i = 0; i < 2000; i++) {
        const a = circle(lat0 + (rand() - 0.5) * 0.2, 106.8 + (rand() - 0.5) * 0.4, 20 + rand() * 3000);
        const b = circle(lat0 + (rand() - 0.5) * 0.2, 106.8 + (rand() - 0.5) * 0.4, 20 + rand() * 3000);
        if (a.kind !== 'circle' || b.kind !== 'circle') throw new Error('unreachable');
        const d = vectorDistM(a.lat, a.lon, b.lat, b.lon);
        const sum = a.radiusM + b.radiusM;
        if (Math.abs(d - sum) > 1e-9 * sum) expect(areasIntersect(a, b)).toBe(d <= sum);
        if (d <= sum) hits++;
        else misses++;
        // Place b's centre at r1 + r2 (1 +- 1e-6) from a's, on a random bearing (turf destination: spherical trig).
        const bearing = rand() * 360 - 180;
        for (const [f, want] of [
          [1 - 1e-6, true],
          [1 + 1e-6, false],
        ] as const) {
          const [lon, lat] = destination([a.lon, a.lat], (sum * f) / 1000, bearing).geometry.coordinates;
          expect(areasIntersect(a, circle(lat!, lon!, b.radiusM))).toBe(want);
          expect(areasIntersect(circle(lat!, lon!, b.radiusM), a)).toBe(want);
        }
      }
    }
    expect(hits).toBeGreaterThan(150);
    expect(misses).toBeGreaterThan(150);
  });

  it('circle/circle analytic: along a meridian the distance is R x dLat', () => {
    const dLatDeg = 0.02;
    const dM = EARTH_RADIUS_M * dLatDeg * RAD;
    const a = circle(-6.2, 106.8, 1000);
    expect(areasIntersect(a, circle(-6.2 + dLatDeg, 106.8, dM - 1000 + 1e-6))).toBe(true);
    expect(areasIntersect(a, circle(-6.2 + dLatDeg, 106.8, dM - 1000 - 1e-6))).toBe(false);
    // One inside the other.
    expect(areasIntersect(circle(-6.2, 106.8, 5000), circle(-6.201, 106.801, 10))).toBe(true);
  });

  it('circle/polygon: agrees with point-in-polygon + golden-section edge distance, at Jakarta and at lat 60 with 50 km edges', () => {
    const rand = seededRandom(42);
    let inside = 0;
    let outside = 0;
    // Relative overestimate of the edge distance, per case; the bounds documented in geo/area-index.ts.
    const cases = [
      { lat0: -6.2, sizeM: 1500, maxVertices: 40, bound: 1e-6, worst: 0 },
      { lat0: 60, sizeM: 40_000, maxVertices: 8, bound: 2e-4, worst: 0 },
    ];
    for (const c of cases) {
      const { lat0, sizeM, maxVertices } = c;
      const perLon = mPerDegLon(lat0);
      for (let i = 0; i < 400; i++) {
        const g = randomPolygonGeometry(rand, 106.8, lat0, sizeM * (0.2 + rand()), maxVertices);
        // Half the centres near the polygon (many inside), half out to 3 sizes away.
        const spread = rand() < 0.5 ? 2 : 6;
        const lon = 106.8 + ((rand() - 0.5) * spread * sizeM) / perLon;
        const lat = lat0 + ((rand() - 0.5) * spread * sizeM) / M_PER_DEG_LAT;
        const area: Area = { kind: 'polygon', geometry: g };
        if (booleanPointInPolygon([lon, lat], feature(g))) {
          inside++;
          expect(areasIntersect(circle(lat, lon, 1e-3), area)).toBe(true);
          continue;
        }
        outside++;
        const d = boundaryDistM(lat, lon, g);
        // Never a meeting beyond the true distance; always one within the bound over it.
        expect(areasIntersect(circle(lat, lon, d * (1 - 1e-7)), area), `lat ${lat} lon ${lon} d ${d}`).toBe(false);
        expect(areasIntersect(area, circle(lat, lon, d * (1 - 1e-7)))).toBe(false);
        expect(areasIntersect(circle(lat, lon, d * (1 + c.bound)), area), `lat ${lat} lon ${lon} d ${d}`).toBe(true);
        // How far over: bisect the radius at which the answer flips.
        let lo = d * (1 - 1e-7);
        let hi = d * (1 + c.bound);
        for (let k = 0; k < 40; k++) {
          const mid = (lo + hi) / 2;
          if (areasIntersect(circle(lat, lon, mid), area)) hi = mid;
          else lo = mid;
        }
        c.worst = Math.max(c.worst, (hi - d) / d);
      }
    }
    expect(inside).toBeGreaterThan(50);
    expect(outside).toBeGreaterThan(300);
    // The city-scale case is in practice exact (about 1e-9); at lat 60 with 50 km edges about 1e-4.
    expect(cases[0]!.worst).toBeLessThan(1e-7);
    expect(cases[1]!.worst).toBeLessThan(2e-4);
  });

  it('circle/polygon: agrees with turf pointToPolygonDistance to 0.5% at city scale (holes, concave, multi)', () => {
    const rand = seededRandom(43);
    let checked = 0;
    for (let i = 0; i < 300; i++) {
      const g = randomPolygonGeometry(rand, 106.8, -6.2, 300 + rand() * 2000);
      const area: Area = { kind: 'polygon', geometry: g };
      for (let k = 0; k < 5; k++) {
        const lon = 106.8 + (rand() - 0.5) * 0.08;
        const lat = -6.2 + (rand() - 0.5) * 0.08;
        const signedM = pointToPolygonDistance([lon, lat], feature(g), { units: 'meters' });
        if (signedM <= 0) {
          expect(areasIntersect(circle(lat, lon, 0.01), area)).toBe(true);
          continue;
        }
        expect(areasIntersect(circle(lat, lon, signedM * 1.005), area)).toBe(true);
        expect(areasIntersect(circle(lat, lon, signedM * 0.995), area)).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('polygon/polygon: meets exactly when polygon clipping (turf intersect) finds a common area', () => {
    const rand = seededRandom(44);
    let overlapping = 0;
    let apart = 0;
    for (let i = 0; i < 1500; i++) {
      const a = randomPolygonGeometry(rand, 106.8, -6.2, 300 + rand() * 1500);
      const b = randomPolygonGeometry(rand, 106.8 + (rand() - 0.5) * 0.05, -6.2 + (rand() - 0.5) * 0.05, 300 + rand() * 1500);
      const common = intersect({ type: 'FeatureCollection', features: [feature(a), feature(b)] });
      const got = areasIntersect({ kind: 'polygon', geometry: a }, { kind: 'polygon', geometry: b });
      // Random shapes never touch without overlapping; touching is checked by hand below.
      expect(got, `pair ${i}`).toBe(common !== null);
      if (got) overlapping++;
      else apart++;
    }
    expect(overlapping).toBeGreaterThan(200);
    expect(apart).toBeGreaterThan(200);
  });
});

describe('areasIntersect hand cases', () => {
  const x0 = 106.8;
  const y0 = -6.2;
  const d = 0.01; // about 1.1 km
  // A square with a square hole in the middle third.
  const holed = poly(rect(x0, y0, x0 + 3 * d, y0 + 3 * d), rect(x0 + d, y0 + d, x0 + 2 * d, y0 + 2 * d).reverse());
  const holeCentreLat = y0 + 1.5 * d;
  const holeCentreLon = x0 + 1.5 * d;
  const toHoleEdgeM = 0.5 * d * M_PER_DEG_LAT; // the nearest hole edges are the north and south ones

  it('touching circles meet; 1 mm apart they do not', () => {
    const a = circle(-6.2, 106.8, 1000);
    const bLat = -6.19;
    const bLon = 106.815;
    const dM = haversineM(-6.2, 106.8, bLat, bLon);
    expect(areasIntersect(a, circle(bLat, bLon, dM - 1000))).toBe(true);
    expect(areasIntersect(a, circle(bLat, bLon, dM - 1000 - 1e-3))).toBe(false);
  });

  it('a circle wholly inside a hole does not meet the polygon; one reaching the hole edge does', () => {
    expect(areasIntersect(circle(holeCentreLat, holeCentreLon, toHoleEdgeM * 0.99), holed)).toBe(false);
    expect(areasIntersect(circle(holeCentreLat, holeCentreLon, toHoleEdgeM * 1.01), holed)).toBe(true);
    expect(areasIntersect(holed, circle(holeCentreLat, holeCentreLon, toHoleEdgeM * 0.99))).toBe(false);
  });

  it('a circle touching a vertex meets; a hair smaller it does not', () => {
    const lat = y0 - 0.003;
    const lon = x0 - 0.004;
    const r = haversineM(lat, lon, y0, x0);
    expect(areasIntersect(circle(lat, lon, r), holed)).toBe(true);
    expect(areasIntersect(circle(lat, lon, r * (1 - 1e-9)), holed)).toBe(false);
  });

  it('a circle enclosing a polygon meets it, its centre well outside the polygon', () => {
    const small = poly(rect(106.9, -6.3, 106.901, -6.299));
    expect(areasIntersect(circle(-6.3, 106.895, 2000), small)).toBe(true);
    expect(areasIntersect(circle(-6.3, 106.895, 400), small)).toBe(false);
  });

  it('polygon inside polygon, inside a hole, touching the hole, sharing an edge or a vertex', () => {
    const outer = poly(rect(x0, y0, x0 + 3 * d, y0 + 3 * d));
    const inner = poly(rect(x0 + 0.1 * d, y0 + 0.1 * d, x0 + 0.5 * d, y0 + 0.5 * d));
    expect(areasIntersect(outer, inner)).toBe(true);
    expect(areasIntersect(inner, outer)).toBe(true);
    const inHole = poly(rect(x0 + 1.25 * d, y0 + 1.25 * d, x0 + 1.75 * d, y0 + 1.75 * d));
    expect(areasIntersect(holed, inHole)).toBe(false);
    expect(areasIntersect(inHole, holed)).toBe(false);
    const fillsHole = poly(rect(x0 + d, y0 + d, x0 + 2 * d, y0 + 2 * d));
    expect(areasIntersect(holed, fillsHole)).toBe(true);
    const touchesHole = poly(rect(x0 + 1.25 * d, y0 + 1.25 * d, x0 + 2 * d, y0 + 1.75 * d));
    expect(areasIntersect(holed, touchesHole)).toBe(true);
    const east = poly(rect(x0 + 3 * d, y0, x0 + 4 * d, y0 + 3 * d));
    expect(areasIntersect(holed, east)).toBe(true);
    const corner = poly(rect(x0 + 3 * d, y0 + 3 * d, x0 + 4 * d, y0 + 4 * d));
    expect(areasIntersect(holed, corner)).toBe(true);
    const apart = poly(rect(x0 + 3.001 * d, y0, x0 + 4 * d, y0 + 3 * d));
    expect(areasIntersect(holed, apart)).toBe(false);
  });

  it('a MultiPolygon meets through any of its parts', () => {
    const multi: Area = {
      kind: 'polygon',
      geometry: { type: 'MultiPolygon', coordinates: [[rect(x0, y0, x0 + d, y0 + d)], [rect(x0 + 10 * d, y0, x0 + 11 * d, y0 + d)]] },
    };
    expect(areasIntersect(multi, circle(y0 + 0.5 * d, x0 + 10.5 * d, 10))).toBe(true);
    expect(areasIntersect(multi, circle(y0 + 0.5 * d, x0 + 5.5 * d, 10))).toBe(false);
    expect(areasIntersect(multi, poly(rect(x0 + 10.5 * d, y0 + 0.5 * d, x0 + 12 * d, y0 + 2 * d)))).toBe(true);
  });
});

describe('areaBBox', () => {
  /** Points on the circle's rim (turf destination), longitudes folded into [-180, 180]. */
  function rim(lat: number, lon: number, radiusM: number, n = 3600): Position[] {
    const out: Position[] = [];
    for (let i = 0; i < n; i++) {
      const [x, y] = destination([lon, lat], radiusM / 1000, (360 * i) / n - 180).geometry.coordinates;
      out.push([((x! + 540) % 360) - 180, y!]);
    }
    return out;
  }

  it.each([
    [-6, 106.8, 500],
    [-6, 106.8, 50_000],
    [60, 10.7, 500],
    [60, 10.7, 50_000],
    [-85, 0, 100_000],
  ])('circle at lat %d lon %d radius %d m: holds every rim point and is tight', (lat, lon, r) => {
    const [minLon, minLat, maxLon, maxLat] = areaBBox(circle(lat, lon, r));
    let seenW = Infinity;
    let seenE = -Infinity;
    let seenS = Infinity;
    let seenN = -Infinity;
    for (const [x, y] of rim(lat, lon, r)) {
      expect(x!).toBeGreaterThanOrEqual(minLon);
      expect(x!).toBeLessThanOrEqual(maxLon);
      expect(y!).toBeGreaterThanOrEqual(minLat);
      expect(y!).toBeLessThanOrEqual(maxLat);
      seenW = Math.min(seenW, x!);
      seenE = Math.max(seenE, x!);
      seenS = Math.min(seenS, y!);
      seenN = Math.max(seenN, y!);
    }
    // 3,600 rim points come within (1 - cos 0.05 deg) ~ 4e-7 of the true extremes.
    expect((maxLon - minLon - (seenE - seenW)) / (maxLon - minLon)).toBeLessThan(1e-6);
    expect((maxLat - minLat - (seenN - seenS)) / (maxLat - minLat)).toBeLessThan(1e-6);
  });

  it('widens in longitude by 1 / cos(lat): at lat 60 twice as wide in degrees as on the equator', () => {
    const [w60, , e60] = areaBBox(circle(60, 10, 1000));
    const [w0, s0, e0, n0] = areaBBox(circle(0, 10, 1000));
    expect((e60 - w60) / (e0 - w0)).toBeCloseTo(2, 6);
    expect(n0 - s0).toBeCloseTo((2 * 1000) / M_PER_DEG_LAT, 9);
    const [wj, , ej] = areaBBox(circle(-6, 106.8, 1000));
    expect((ej - wj) / (e0 - w0)).toBeCloseTo(1 / Math.cos(6 * RAD), 6);
  });

  it('near a pole and across the antimeridian: the full longitude range', () => {
    // 20 km from lat 89.9 (11 km from the pole) reaches over it.
    const [w, s, e, n] = areaBBox(circle(89.9, 30, 20_000));
    expect([w, e, n]).toEqual([-180, 180, 90]);
    expect(s).toBeCloseTo(89.9 - 20_000 / M_PER_DEG_LAT, 9);
    for (const [, y] of rim(89.9, 30, 20_000, 360)) expect(y!).toBeGreaterThanOrEqual(s);
    const [w2, s2, e2, n2] = areaBBox(circle(-16.5, 179.99, 5000));
    expect([w2, e2]).toEqual([-180, 180]);
    expect(n2 - s2).toBeCloseTo((2 * 5000) / M_PER_DEG_LAT, 9);
    expect(areaBBox(circle(0, 0, 3e7))).toEqual([-180, -90, 180, 90]);
  });

  it('a polygon: the box of its positions (all parts of a MultiPolygon)', () => {
    const g: MultiPolygon = { type: 'MultiPolygon', coordinates: [[rect(106.8, -6.2, 106.81, -6.19)], [rect(106.9, -6.3, 106.91, -6.29)]] };
    expect(areaBBox({ kind: 'polygon', geometry: g })).toEqual([106.8, -6.3, 106.91, -6.19]);
  });

  it('circles across the antimeridian still meet through the index', () => {
    const index = new AreaIndex<number>();
    index.set('west', circle(-16.5, -179.995, 1000), 1);
    index.set('far', circle(-16.5, 0, 1000), 2);
    // About 1.07 km apart across the antimeridian.
    const q = circle(-16.5, 179.995, 100);
    expect(index.intersecting(q).map((h) => h.id)).toEqual(['west']);
    // Its west edge is 0.003 degrees (320 m) east of the query across the antimeridian.
    const square = poly(rect(-179.999, -16.51, -179.99, -16.49));
    index.set('sq', square, 3);
    expect(index.intersecting(circle(-16.5, 179.998, 400)).map((h) => h.id)).toEqual(['sq', 'west']);
    expect(index.intersecting(circle(-16.5, 179.99, 100)).map((h) => h.id)).toEqual([]);
  });
});

describe('AreaIndex vs brute force (10,000 subscribers, 500 queries over Jakarta)', () => {
  const rand = seededRandom(2024);
  const areas = new Map<string, Area>();
  for (let i = 0; i < 10_000; i++) areas.set(`s${String(i).padStart(5, '0')}`, randomArea(rand, 30, 1500));
  const index = new AreaIndex<{ n: number }>();
  index.load([...areas].map(([id, area], n) => ({ id, area, data: { n } })));
  const queries: Area[] = [];
  for (let i = 0; i < 500; i++) queries.push(randomArea(rand, 100, i % 50 === 0 ? 15_000 : 4000));

  it('loads every area', () => {
    expect(index.size).toBe(10_000);
    expect(index.get('s00042')?.data).toEqual({ n: 42 });
  });

  it('answers every query exactly as brute force does, with far fewer exact tests', () => {
    const stats: AreaQueryStats = { candidates: 0, exactTests: 0 };
    const kinds = new Map<string, number>();
    let total = 0;
    let tests = 0;
    for (const q of queries) {
      const got = index.intersecting(q, stats);
      const want = bruteForce(areas, q);
      expect(got.map((h) => h.id)).toEqual(want);
      for (const h of got) {
        expect(h.data).toBe(index.get(h.id)!.data);
        const k = `${q.kind}/${areas.get(h.id)!.kind}`;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
      expect(stats.exactTests).toBeLessThanOrEqual(stats.candidates);
      expect(stats.exactTests).toBeGreaterThanOrEqual(got.length);
      total += got.length;
      tests += stats.exactTests;
    }
    // Means something only if every kind of pair matched often.
    for (const k of ['circle/circle', 'circle/polygon', 'polygon/circle', 'polygon/polygon']) expect(kinds.get(k) ?? 0, k).toBeGreaterThan(500);
    expect(total).toBeGreaterThan(5000);
    expect(tests).toBeLessThan(0.05 * 500 * 10_000);
  });

  it('examines a tiny share of the 10,000 for a small query area (200 m circles)', () => {
    const stats: AreaQueryStats = { candidates: 0, exactTests: 0 };
    let candidates = 0;
    let worst = 0;
    for (let i = 0; i < 200; i++) {
      const q = circle(-6.4 + rand() * 0.4, 106.6 + rand() * 0.4, 200);
      index.intersecting(q, stats);
      candidates += stats.candidates;
      worst = Math.max(worst, stats.candidates);
    }
    expect(candidates / 200).toBeLessThan(0.005 * 10_000);
    expect(worst).toBeLessThan(0.02 * 10_000);
  });

  it('set() one by one gives the same answers as load()', () => {
    const bySet = new AreaIndex<{ n: number }>();
    let n = 0;
    for (const [id, area] of areas) bySet.set(id, area, { n: n++ });
    for (const q of queries.slice(0, 100)) expect(bySet.intersecting(q)).toEqual(index.intersecting(q));
  });

  it('still agrees after removing and replacing areas', () => {
    const ids = [...areas.keys()];
    for (let i = 0; i < 1000; i++) {
      const id = ids[Math.floor(rand() * ids.length)]!;
      if (i % 2 === 0) {
        expect(index.remove(id)).toBe(areas.delete(id));
      } else {
        const a = randomArea(rand, 30, 1500);
        index.set(id, a, { n: -i });
        areas.set(id, a);
      }
    }
    expect(index.size).toBe(areas.size);
    for (const q of queries.slice(0, 150)) expect(index.intersecting(q).map((h) => h.id)).toEqual(bruteForce(areas, q));
  });
});

describe('AreaIndex API', () => {
  const sq = rect(106.8, -6.2, 106.81, -6.19);

  it('set replaces, remove removes, get and size follow', () => {
    const index = new AreaIndex<string>();
    expect(index.intersecting(circle(-6.195, 106.805, 10))).toEqual([]);
    index.set('a', poly(sq), 'A');
    index.set('b', circle(-6.195, 106.805, 50), 'B');
    expect(index.size).toBe(2);
    expect(index.intersecting(circle(-6.195, 106.805, 10))).toEqual([
      { id: 'a', data: 'A' },
      { id: 'b', data: 'B' },
    ]);
    index.set('a', circle(-6.5, 106.9, 100), 'A2');
    expect(index.size).toBe(2);
    expect(index.get('a')).toEqual({ area: circle(-6.5, 106.9, 100), data: 'A2' });
    expect(index.intersecting(circle(-6.195, 106.805, 10))).toEqual([{ id: 'b', data: 'B' }]);
    expect(index.intersecting(circle(-6.5, 106.9, 1))).toEqual([{ id: 'a', data: 'A2' }]);
    expect(index.remove('a')).toBe(true);
    expect(index.remove('a')).toBe(false);
    expect(index.get('a')).toBeUndefined();
    expect(index.size).toBe(1);
    expect(index.intersecting(circle(-6.5, 106.9, 1))).toEqual([]);
  });

  it('reports a MultiPolygon once, whichever parts meet the query, and a MultiPolygon query finds through each part', () => {
    const index = new AreaIndex<null>();
    const two: Area = { kind: 'polygon', geometry: { type: 'MultiPolygon', coordinates: [[sq], [rect(106.82, -6.2, 106.83, -6.19)]] } };
    index.set('m', two, null);
    index.set('c', circle(-6.195, 106.9, 100), null);
    const stats: AreaQueryStats = { candidates: 0, exactTests: 0 };
    expect(index.intersecting(circle(-6.195, 106.815, 2000), stats).map((h) => h.id)).toEqual(['m']);
    expect(stats).toEqual({ candidates: 2, exactTests: 1 });
    const query: Area = { kind: 'polygon', geometry: { type: 'MultiPolygon', coordinates: [[rect(106.805, -6.196, 106.806, -6.195)], [rect(106.899, -6.196, 106.901, -6.194)]] } };
    expect(index.intersecting(query).map((h) => h.id)).toEqual(['c', 'm']);
  });

  it("keeps its own copy: changing the caller's area afterwards changes nothing", () => {
    const index = new AreaIndex<null>();
    const ring = sq.map((p) => [...p]);
    const area = poly(ring);
    index.set('a', area, null);
    ring[2]![0] = 107.5;
    expect(index.intersecting(circle(-6.195, 107.2, 10))).toEqual([]);
    expect(index.get('a')!.area).toEqual(poly(sq));
  });

  it('load replaces everything; a later duplicate id wins', () => {
    const index = new AreaIndex<number>();
    index.set('old', circle(-6.2, 106.8, 100), 0);
    index.load([
      { id: 'x', area: circle(-6.2, 106.8, 100), data: 1 },
      { id: 'x', area: circle(-6.3, 106.8, 100), data: 2 },
    ]);
    expect(index.size).toBe(1);
    expect(index.get('old')).toBeUndefined();
    expect(index.intersecting(circle(-6.3, 106.8, 1))).toEqual([{ id: 'x', data: 2 }]);
    expect(index.intersecting(circle(-6.2, 106.8, 1))).toEqual([]);
  });

  it('rejects malformed areas before they reach the tree', () => {
    const index = new AreaIndex<null>();
    expect(() => index.set('', circle(0, 0, 1), null)).toThrow(/non-empty string id/);
    expect(() => index.set('a', circle(0, 0, 0), null)).toThrow(/radiusM/);
    expect(() => index.set('a', circle(95, 0, 10), null)).toThrow(/out of range/);
    expect(() => index.set('a', poly([[106.8, -6.2], [106.81, -6.2], [106.8, -6.2]]), null)).toThrow(/4 positions/);
    expect(() => index.set('a', { kind: 'polygon', geometry: { type: 'Point', coordinates: [0, 0] } } as unknown as Area, null)).toThrow(/areaFromGeoJSON/);
    expect(() => index.intersecting(circle(Number.NaN, 0, 10))).toThrow(/out of range/);
    expect(index.size).toBe(0);
  });
});

describe('areaFromGeoJSON', () => {
  const sq = rect(106.8, -6.2, 106.81, -6.19);
  const fails = (geometry: unknown, radiusM: number | undefined, field: string, message: RegExp): void => {
    let err: unknown;
    try {
      areaFromGeoJSON(geometry, radiusM);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AreaError);
    expect((err as AreaError).field).toBe(field);
    expect((err as AreaError).message).toMatch(message);
  };

  it('a Point with radius_m is a circle; altitude is dropped', () => {
    expect(areaFromGeoJSON({ type: 'Point', coordinates: [106.8, -6.2] }, 250)).toEqual(circle(-6.2, 106.8, 250));
    expect(areaFromGeoJSON({ type: 'Point', coordinates: [106.8, -6.2, 12] }, 250)).toEqual(circle(-6.2, 106.8, 250));
  });

  it('a Polygon or MultiPolygon is checked and copied to [lon, lat]', () => {
    expect(areaFromGeoJSON({ type: 'Polygon', coordinates: [sq.map(([x, y]) => [x!, y!, 5])] })).toEqual(poly(sq));
    const multi = { type: 'MultiPolygon', coordinates: [[sq], [rect(107, -6.2, 107.01, -6.19)]] };
    expect(areaFromGeoJSON(multi)).toEqual({ kind: 'polygon', geometry: multi });
  });

  it('names the field and says what was expected', () => {
    fails({ type: 'Point', coordinates: [106.8, -6.2] }, undefined, 'radius_m', /needs radius_m/);
    fails({ type: 'Point', coordinates: [106.8, -6.2] }, 0, 'radius_m', /> 0/);
    fails({ type: 'Point', coordinates: [106.8, -6.2] }, -5, 'radius_m', /> 0/);
    fails({ type: 'Point', coordinates: [106.8, -6.2] }, Number.NaN, 'radius_m', /> 0/);
    fails({ type: 'Point', coordinates: [106.8, -6.2] }, MAX_AREA_RADIUS_M * 2, 'radius_m', /limit/);
    fails({ type: 'Point', coordinates: [-6.2, 106.8] }, 100, 'geometry.coordinates', /latitude 106.8 out of range.*swapped/);
    fails({ type: 'Point', coordinates: [106.8] }, 100, 'geometry.coordinates', /\[lon, lat\]/);
    fails({ type: 'Point', coordinates: [106.8, '-6.2'] }, 100, 'geometry.coordinates', /numbers/);
    fails({ type: 'Polygon', coordinates: [sq] }, 100, 'radius_m', /Point only/);
    fails({ type: 'LineString', coordinates: sq }, undefined, 'geometry.type', /"LineString" is not supported.*Point.*Polygon/);
    fails({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [sq] } }, undefined, 'geometry.type', /pass its geometry/);
    fails('POLYGON((...))', undefined, 'geometry', /geometry object/);
    fails(null, undefined, 'geometry', /geometry object/);
    fails({ type: 'Polygon', coordinates: [sq.slice(0, 4)] }, undefined, 'geometry.coordinates[0]', /not closed/);
    const bowtie = [
      [106.8, -6.2],
      [106.81, -6.19],
      [106.81, -6.2],
      [106.8, -6.19],
      [106.8, -6.2],
    ];
    fails({ type: 'Polygon', coordinates: [bowtie] }, undefined, 'geometry.coordinates[0]', /self-intersection/);
    fails({ type: 'MultiPolygon', coordinates: [[sq], [[[1, 2]]]] }, undefined, 'geometry.coordinates[1][0]', /at least 4/);
  });
});
