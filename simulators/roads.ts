// A synthetic road network over DKI Jakarta. No road data ships offline, so the simulators drive on
// a seeded stand-in: arterials on a ~1 km grid, a few diagonal avenues, an inner ring road and an
// outer ring (JORR-like) toll road. Good enough for plausible tracks; not a map.

import { Rng } from './random.ts';

/** DKI Jakarta, roughly (the box the brief and the dashboard use). */
export const JAKARTA_BBOX = { minLat: -6.37, maxLat: -6.09, minLon: 106.68, maxLon: 106.98 } as const;

// Roads stay inside this inset box so GPS noise never pushes a fix out of JAKARTA_BBOX,
// and north of -6.115 is mostly Jakarta Bay.
const ROAD_BOX = { minLat: -6.355, maxLat: -6.115, minLon: 106.695, maxLon: 106.965 } as const;

// Local equirectangular projection: the city spans ~30 km, where its error is far below GPS noise.
const LAT0 = -6.23;
export const M_PER_DEG_LAT = 110_574;
export const M_PER_DEG_LON = 111_320 * Math.cos((LAT0 * Math.PI) / 180);

export const ROAD_CLASSES = ['arterial', 'major', 'toll'] as const;
export type RoadClass = (typeof ROAD_CLASSES)[number];
const CLASS_ARTERIAL = 0;
const CLASS_MAJOR = 1;
const CLASS_TOLL = 2;
/** Travel-time discount per class, used only to prefer big roads when routing. */
const CLASS_ROUTE_FACTOR = [1, 1.25, 1.6];
const MAX_ROUTE_FACTOR = 1.6;

export interface RoadGraph {
  readonly nodeCount: number;
  /** nodes of the arterial grid are 0..gridNodeCount-1; ring-road nodes follow */
  readonly gridNodeCount: number;
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  /** projected metres east/north of the projection origin */
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** CSR adjacency: neighbours of n are adjTo[adjStart[n] .. adjStart[n+1]) */
  readonly adjStart: Int32Array;
  readonly adjTo: Int32Array;
  readonly adjLenM: Float64Array;
  /** index into ROAD_CLASSES */
  readonly adjClass: Uint8Array;
  readonly edgeCount: number;
}

export function toXY(lat: number, lon: number): { x: number; y: number } {
  return { x: (lon - JAKARTA_BBOX.minLon) * M_PER_DEG_LON, y: (lat - JAKARTA_BBOX.minLat) * M_PER_DEG_LAT };
}

/** Compass bearing in degrees [0, 360) of a move by (dx east, dy north). */
export function bearingDeg(dx: number, dy: number): number {
  const deg = (Math.atan2(dx, dy) * 180) / Math.PI;
  return deg < 0 ? deg + 360 : deg;
}

/** Great-circle distance in metres (tests and site snapping; the model itself uses the projection). */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = 6_371_008.8;
  const p1 = (lat1 * Math.PI) / 180;
  const p2 = (lat2 * Math.PI) / 180;
  const dp = p2 - p1;
  const dl = ((lon2 - lon1) * Math.PI) / 180;
  const a = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
}

interface EdgeList {
  a: number[];
  b: number[];
  cls: number[];
}

function clampLat(lat: number): number {
  return Math.min(ROAD_BOX.maxLat, Math.max(ROAD_BOX.minLat, lat));
}
function clampLon(lon: number): number {
  return Math.min(ROAD_BOX.maxLon, Math.max(ROAD_BOX.minLon, lon));
}

/** Builds the seeded network; the same seed always gives the same graph. */
export function buildRoadGraph(seed: number): RoadGraph {
  const rng = new Rng(seed ^ 0x5eed_0001);
  const spacingM = 1000;
  const rows = Math.floor(((ROAD_BOX.maxLat - ROAD_BOX.minLat) * M_PER_DEG_LAT) / spacingM) + 1;
  const cols = Math.floor(((ROAD_BOX.maxLon - ROAD_BOX.minLon) * M_PER_DEG_LON) / spacingM) + 1;
  const lats: number[] = [];
  const lons: number[] = [];
  const jitterM = 150;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const lat = ROAD_BOX.minLat + (r * spacingM + rng.uniform(-jitterM, jitterM)) / M_PER_DEG_LAT;
      const lon = ROAD_BOX.minLon + (c * spacingM + rng.uniform(-jitterM, jitterM)) / M_PER_DEG_LON;
      lats.push(clampLat(lat));
      lons.push(clampLon(lon));
    }
  }
  const gridNodeCount = lats.length;
  const id = (r: number, c: number) => r * cols + c;

  // Grid edges; every 4th line is a major avenue (the Sudirman-Thamrin / Gatot Subroto kind).
  const grid: EdgeList = { a: [], b: [], cls: [] };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (c + 1 < cols) {
        grid.a.push(id(r, c));
        grid.b.push(id(r, c + 1));
        grid.cls.push(r % 4 === 2 ? CLASS_MAJOR : CLASS_ARTERIAL);
      }
      if (r + 1 < rows) {
        grid.a.push(id(r, c));
        grid.b.push(id(r + 1, c));
        grid.cls.push(c % 4 === 2 ? CLASS_MAJOR : CLASS_ARTERIAL);
      }
    }
  }

  // Rivers, canals and rail lines cut some links: drop ~6% of arterial links, then put back
  // whatever is needed to keep the network connected (union-find over the kept links).
  const parent = new Int32Array(gridNodeCount).map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      const p = parent[parent[i]!]!;
      parent[i] = p;
      i = p;
    }
    return i;
  };
  const edges: EdgeList = { a: [], b: [], cls: [] };
  const dropped: number[] = [];
  for (let e = 0; e < grid.a.length; e++) {
    if (grid.cls[e] === CLASS_ARTERIAL && rng.chance(0.06)) {
      dropped.push(e);
      continue;
    }
    edges.a.push(grid.a[e]!);
    edges.b.push(grid.b[e]!);
    edges.cls.push(grid.cls[e]!);
    parent[find(grid.a[e]!)] = find(grid.b[e]!);
  }
  for (const e of dropped) {
    const ra = find(grid.a[e]!);
    const rb = find(grid.b[e]!);
    if (ra !== rb) {
      parent[ra] = rb;
      edges.a.push(grid.a[e]!);
      edges.b.push(grid.b[e]!);
      edges.cls.push(grid.cls[e]!);
    }
  }

  // Diagonal avenues across the grid.
  const dirs: ReadonlyArray<readonly [number, number]> = [
    [1, 1],
    [1, -1],
    [-1, 1],
    [-1, -1],
  ];
  for (let k = 0; k < 4; k++) {
    const [dr, dc] = dirs[k]!;
    let r = rng.int(Math.floor(rows / 4), Math.floor((3 * rows) / 4));
    let c = rng.int(Math.floor(cols / 4), Math.floor((3 * cols) / 4));
    const steps = rng.int(6, 14);
    for (let s = 0; s < steps; s++) {
      const nr = r + dr;
      const nc = c + dc;
      if (nr < 0 || nr >= rows || nc < 0 || nc >= cols) break;
      edges.a.push(id(r, c));
      edges.b.push(id(nr, nc));
      edges.cls.push(CLASS_MAJOR);
      r = nr;
      c = nc;
    }
  }

  // Ring roads: the inner ring (~5.5 km around the centre) and an outer JORR-like toll ring (~11.5 km),
  // with ramps to the grid every third ring node.
  const nearestGrid = (lat: number, lon: number): number => {
    let best = 0;
    let bestD = Infinity;
    for (let n = 0; n < gridNodeCount; n++) {
      const dx = (lons[n]! - lon) * M_PER_DEG_LON;
      const dy = (lats[n]! - lat) * M_PER_DEG_LAT;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = n;
      }
    }
    return best;
  };
  const rings = [
    { lat: -6.2, lon: 106.83, radiusM: 5500 },
    { lat: -6.225, lon: 106.83, radiusM: 11_500 },
  ];
  for (const ring of rings) {
    const count = Math.round((2 * Math.PI * ring.radiusM) / 1000);
    const first = lats.length;
    for (let i = 0; i < count; i++) {
      const t = (2 * Math.PI * i) / count;
      const rM = ring.radiusM + rng.uniform(-300, 300);
      lats.push(clampLat(ring.lat + (rM * Math.cos(t)) / M_PER_DEG_LAT));
      lons.push(clampLon(ring.lon + (rM * Math.sin(t)) / M_PER_DEG_LON));
    }
    for (let i = 0; i < count; i++) {
      const a = first + i;
      edges.a.push(a);
      edges.b.push(first + ((i + 1) % count));
      edges.cls.push(CLASS_TOLL);
      if (i % 3 === 0) {
        edges.a.push(a);
        edges.b.push(nearestGrid(lats[a]!, lons[a]!));
        edges.cls.push(CLASS_ARTERIAL);
      }
    }
  }

  return toCsr(lats, lons, gridNodeCount, edges);
}

function toCsr(lats: number[], lons: number[], gridNodeCount: number, edges: EdgeList): RoadGraph {
  const n = lats.length;
  const lat = Float64Array.from(lats);
  const lon = Float64Array.from(lons);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (lon[i]! - JAKARTA_BBOX.minLon) * M_PER_DEG_LON;
    y[i] = (lat[i]! - JAKARTA_BBOX.minLat) * M_PER_DEG_LAT;
  }
  const degree = new Int32Array(n + 1);
  for (let e = 0; e < edges.a.length; e++) {
    degree[edges.a[e]!]!++;
    degree[edges.b[e]!]!++;
  }
  const adjStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) adjStart[i + 1] = adjStart[i]! + degree[i]!;
  const fill = adjStart.slice(0, n);
  const total = adjStart[n]!;
  const adjTo = new Int32Array(total);
  const adjLenM = new Float64Array(total);
  const adjClass = new Uint8Array(total);
  for (let e = 0; e < edges.a.length; e++) {
    const a = edges.a[e]!;
    const b = edges.b[e]!;
    // Never shorter than 1 m, so travel time along an edge is always positive.
    const len = Math.max(1, Math.hypot(x[a]! - x[b]!, y[a]! - y[b]!));
    const cls = edges.cls[e]!;
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const slot = fill[from]!++;
      adjTo[slot] = to;
      adjLenM[slot] = len;
      adjClass[slot] = cls;
    }
  }
  return { nodeCount: n, gridNodeCount, lat, lon, x, y, adjStart, adjTo, adjLenM, adjClass, edgeCount: edges.a.length };
}

/** Index into the adjacency arrays of the edge a -> b, or -1. */
export function edgeSlot(g: RoadGraph, a: number, b: number): number {
  for (let s = g.adjStart[a]!; s < g.adjStart[a + 1]!; s++) if (g.adjTo[s] === b) return s;
  return -1;
}

export function nearestNode(g: RoadGraph, lat: number, lon: number, gridOnly = true): number {
  const { x, y } = toXY(lat, lon);
  const limit = gridOnly ? g.gridNodeCount : g.nodeCount;
  let best = 0;
  let bestD = Infinity;
  for (let n = 0; n < limit; n++) {
    const d = (g.x[n]! - x) ** 2 + (g.y[n]! - y) ** 2;
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best;
}

export function nodeDistanceM(g: RoadGraph, a: number, b: number): number {
  return Math.hypot(g.x[a]! - g.x[b]!, g.y[a]! - g.y[b]!);
}

/**
 * A* over route cost (length discounted for big roads); the heuristic divides straight-line distance
 * by the largest discount, so it never overestimates and the path is optimal. Returns node ids from
 * `from` to `to` inclusive ([from] when they are equal, [] when unreachable).
 */
export function shortestPath(g: RoadGraph, from: number, to: number): number[] {
  if (from === to) return [from];
  const n = g.nodeCount;
  const gScore = new Float64Array(n).fill(Infinity);
  const cameFrom = new Int32Array(n).fill(-1);
  const closed = new Uint8Array(n);
  const heap = new MinHeap();
  const h = (v: number) => nodeDistanceM(g, v, to) / MAX_ROUTE_FACTOR;
  gScore[from] = 0;
  heap.push(h(from), from);
  while (heap.size > 0) {
    const v = heap.pop();
    if (v === to) break;
    if (closed[v]) continue;
    closed[v] = 1;
    const gv = gScore[v]!;
    for (let s = g.adjStart[v]!; s < g.adjStart[v + 1]!; s++) {
      const w = g.adjTo[s]!;
      if (closed[w]) continue;
      const cand = gv + g.adjLenM[s]! / CLASS_ROUTE_FACTOR[g.adjClass[s]!]!;
      if (cand < gScore[w]!) {
        gScore[w] = cand;
        cameFrom[w] = v;
        heap.push(cand + h(w), w);
      }
    }
  }
  if (cameFrom[to] === -1) return [];
  const path: number[] = [];
  for (let v = to; v !== -1; v = cameFrom[v]!) path.push(v);
  return path.reverse();
}

/** Binary min-heap of (priority, node) pairs; lazy deletion is done by the caller. */
class MinHeap {
  private pri: number[] = [];
  private val: number[] = [];

  get size(): number {
    return this.pri.length;
  }

  push(p: number, v: number): void {
    const pri = this.pri;
    const val = this.val;
    let i = pri.length;
    pri.push(p);
    val.push(v);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (pri[parent]! <= p) break;
      pri[i] = pri[parent]!;
      val[i] = val[parent]!;
      i = parent;
    }
    pri[i] = p;
    val[i] = v;
  }

  pop(): number {
    const pri = this.pri;
    const val = this.val;
    const top = val[0]!;
    const lastP = pri.pop()!;
    const lastV = val.pop()!;
    const len = pri.length;
    if (len > 0) {
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        if (l >= len) break;
        const r = l + 1;
        const c = r < len && pri[r]! < pri[l]! ? r : l;
        if (pri[c]! >= lastP) break;
        pri[i] = pri[c]!;
        val[i] = val[c]!;
        i = c;
      }
      pri[i] = lastP;
      val[i] = lastV;
    }
    return top;
  }
}
