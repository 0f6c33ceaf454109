// Seeded test polygons shared by the geofence suites.
import type { Position } from 'geojson';

export type Rand = () => number;

/** A star-shaped ring around (cx, cy): evenly spaced angles with jitter, radius in [minFrac, 1] x r (minFrac 1: convex). */
export function starRing(rand: Rand, cx: number, cy: number, r: number, n: number, minFrac: number): Position[] {
  const ring: Position[] = [];
  const step = (2 * Math.PI) / n;
  for (let i = 0; i < n; i++) {
    const a = i * step + (rand() - 0.5) * 0.6 * step;
    const rr = r * (minFrac + (1 - minFrac) * rand());
    ring.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
  }
  ring.push([...ring[0]!]);
  return ring;
}

/** A ring traced the other way round, as holes usually are (RFC 7946 3.1.6); the code under test must not care. */
export function circleRing(cx: number, cy: number, r: number, n: number): Position[] {
  const ring: Position[] = [];
  for (let i = 0; i < n; i++) ring.push([cx + r * Math.cos((-2 * Math.PI * i) / n), cy + r * Math.sin((-2 * Math.PI * i) / n)]);
  ring.push([...ring[0]!]);
  return ring;
}
