// PointIndex (the camera index) against brute force on seeded random points, the Tile38 way.
import { describe, expect, it } from 'vitest';
import { PointIndex, type Point } from '../geo/point-index.ts';
import { haversineM } from '../geo/distance.ts';
import { seededRandom } from './helpers/seeded-random.ts';

function brute(points: Iterable<Point>, lat: number, lon: number, k: number, maxDistanceM = Infinity) {
  return [...points]
    .map((p) => ({ id: p.id, d: haversineM(lat, lon, p.lat, p.lon) }))
    .filter((h) => h.d <= maxDistanceM)
    .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, k);
}

describe('PointIndex.nearest', () => {
  const rnd = seededRandom(20261122);
  // Jakarta-sized cluster plus points anywhere on Earth (poles and the antimeridian included).
  const points: Point[] = Array.from({ length: 3000 }, (_, i) =>
    i % 3 === 0
      ? { id: `w${i}`, lat: -90 + rnd() * 180, lon: -180 + rnd() * 360 }
      : { id: `c${i}`, lat: -6.4 + rnd() * 0.4, lon: 106.6 + rnd() * 0.4 },
  );
  const index = new PointIndex<Point>();
  index.load(points);

  it('equals brute force for random queries, k and distance limits', () => {
    for (let q = 0; q < 300; q++) {
      const local = q % 2 === 0;
      const lat = local ? -6.4 + rnd() * 0.4 : -90 + rnd() * 180;
      const lon = local ? 106.6 + rnd() * 0.4 : -180 + rnd() * 360;
      const k = 1 + Math.floor(rnd() * 20);
      const maxDistanceM = q % 3 === 0 ? rnd() * 5000 : undefined;
      const got = index.nearest(lat, lon, k, maxDistanceM);
      const want = brute(points, lat, lon, k, maxDistanceM);
      const context = `query ${q} at ${lat},${lon} k=${k} max=${maxDistanceM}`;
      expect(got.map((h) => h.item.id), context).toEqual(want.map((h) => h.id));
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]!.distanceM - want[i]!.d), context).toBeLessThanOrEqual(1e-6);
    }
  });

  it('stays exact through inserts, replacements and removals', () => {
    const live = new Map(points.map((p) => [p.id, p]));
    const idx = new PointIndex<Point>();
    idx.load(points);
    for (let step = 0; step < 500; step++) {
      const id = `c${Math.floor(rnd() * 3000)}`;
      if (rnd() < 0.3) {
        idx.remove(id);
        live.delete(id);
      } else {
        const p = { id, lat: -6.4 + rnd() * 0.4, lon: 106.6 + rnd() * 0.4 };
        idx.upsert(p);
        live.set(id, p);
      }
    }
    expect(idx.size).toBe(live.size);
    for (let q = 0; q < 50; q++) {
      const lat = -6.4 + rnd() * 0.4;
      const lon = 106.6 + rnd() * 0.4;
      expect(idx.nearest(lat, lon, 5).map((h) => h.item.id)).toEqual(brute(live.values(), lat, lon, 5).map((h) => h.id));
    }
  });

  it('rejects an item out of range with a message naming it', () => {
    const idx = new PointIndex<Point>();
    expect(() => idx.upsert({ id: 'swapped', lat: 106.8, lon: -6.2 })).toThrow(/swapped has lat 106.8.*swapped/);
    expect(idx.size).toBe(0);
    expect(idx.nearest(0, 0, 3)).toEqual([]);
  });
});
