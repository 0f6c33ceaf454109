// Live geofences in an rbush of their bounding boxes: one entry per polygon, so the parts of a MultiPolygon that lie
// far apart do not share one huge box. Per fix, the tree yields the few polygons whose box holds the point and
// turf's booleanPointInPolygon decides on those candidates only (Traccar tests every fence on every fix instead).
// Between the box and turf sits a cell grid per polygon (geo/fence-grid.ts): a point in a cell wholly outside the
// polygon is out, a point in a cell wholly inside it (no edge touches the cell, its centre is inside) is in, and only
// a point in a cell some edge touches goes to turf. The grid's resolution is chosen per polygon, so that such
// boundary cells cover a small share of its box (see chooseCellGrid for the memory budget).
//
// Boundary rule: a point exactly on an edge or a vertex, of the shell or of a hole, is INSIDE the fence (turf with
// ignoreBoundary false; point-in-polygon-hao decides "on the edge" exactly with robust orient2d). So a vehicle parked
// on a fence line is in the fence, and two fences sharing an edge both contain a point on it.
// Coordinates are planar lon/lat as RFC 7946 says; a fence crossing the antimeridian must be cut in two (section 3.1.9).

import RBush from 'rbush';
import type { BBox } from 'rbush';
import type { Polygon, Position } from 'geojson';
import { booleanPointInPolygon } from '@turf/turf';
import { CELL_BOUNDARY, CELL_OUTSIDE, chooseCellGrid } from './fence-grid.ts';
import { VEHICLE_TYPES, type VehicleType } from '../ingest/model.ts';
import { EARTH_RADIUS_M } from './distance.ts';
import type { FenceInput } from './fence-validate.ts';

/** [minLon, minLat, maxLon, maxLat] */
export type BBox4 = [number, number, number, number];

/** A fence as the index holds it: its own copy (positions reduced to [lon, lat]), shared with the tree, read-only. */
export interface IndexedFence extends Readonly<FenceInput> {
  readonly id: string;
  readonly bbox: Readonly<BBox4>;
}

/** Filled by containing() when passed: how much work one query did. */
export interface FenceQueryStats {
  /** polygon boxes that held the point (and whose fence applies to the vehicle type) */
  boxes: number;
  /** of those, how many the grid could not decide and left to turf's booleanPointInPolygon (boundary cells) */
  turfCalls: number;
  /** of those, how many the grid put inside without turf (interior cells); filled when present */
  gridInside?: number;
}

/** rbush's internal node (rbush 4 index.js `createNode`); @types/rbush does not declare `tree.data`. */
interface TreeNode extends BBox {
  children: Array<TreeNode | PolygonEntry>;
  leaf: boolean;
}

/** One polygon of a fence: its box (for rbush), what the hot path filters on, and the geometry turf tests. */
interface PolygonEntry extends BBox {
  /** the fence's id, here so that a candidate costs no extra object visit */
  id: string;
  /** bit i set when the fence applies to VEHICLE_TYPES[i] (all bits when applies_to is null) */
  appliesMask: number;
  /** set for MultiPolygons only: the fence is reported once even when several of its parts contain the point */
  multi: FenceRecord | null;
  /** turf's booleanPointInPolygon returns early outside `bbox`, and a bare geometry skips its Feature unwrapping */
  poly: Polygon & { bbox: BBox4 };
  /** the polygon's cell grid (fence-grid.ts): 2 bits a cell, row-major, 16 cells a word, rows word-aligned */
  cells: Int32Array;
  cols: number;
  rows: number;
  wordsPerRow: number;
  /** cells per degree of longitude and of latitude (0 for a box without width or height) */
  cellsPerLon: number;
  cellsPerLat: number;
  /**
   * The rings again as flat [lon0, lat0, lon1, lat1, ...] arrays, for the accuracy-circle distance (our own
   * arithmetic, not a containment test): 16 bytes a position in one block instead of two objects per position.
   */
  flatRings: Float64Array[];
}

interface FenceRecord {
  fence: IndexedFence;
  entries: PolygonEntry[];
  /** the last containing() query that matched this fence */
  hitQuery: number;
}

const ALL_TYPES = 0x7fffffff;
/** A type not in VEHICLE_TYPES gets a bit that no applies_to list sets. */
const UNKNOWN_TYPE_BIT = 1 << 30;
const TYPE_BIT = new Map<string, number>(VEHICLE_TYPES.map((t, i) => [t, 1 << i]));

// Shared, never mutated: no options object per call.
const WITH_BOUNDARY = Object.freeze({ ignoreBoundary: false });
const RAD = Math.PI / 180;

export class FenceIndex {
  private readonly tree = new RBush<PolygonEntry>();
  private readonly byId = new Map<string, FenceRecord>();
  /** reused query state: the hot path allocates only turf's copy of the point and the result */
  private readonly point: [number, number] = [0, 0];
  private readonly stack: TreeNode[] = [];
  private query = 0;

  get size(): number {
    return this.byId.size;
  }

  /** Adds or replaces a fence (a validated FenceInput, see validateFence); O(log n) per polygon. */
  set(id: string, fence: FenceInput): void {
    const rec = makeRecord(id, fence);
    const old = this.byId.get(id);
    if (old !== undefined) for (const e of old.entries) this.tree.remove(e);
    this.byId.set(id, rec);
    for (const e of rec.entries) this.tree.insert(e);
  }

  /**
   * Replaces everything with these fences, bulk-loaded (OMT), e.g. on start. A later duplicate id wins.
   * Fences are copied in Z-order of their position, so fences that share a neighbourhood share memory pages: a fix
   * tests a few neighbouring polygons, and with 10,000 fences a query spends most of its time waiting for their
   * coordinates to come from memory (in one run here: 7.8 us per point sorted, 12.5 us unsorted).
   */
  load(fences: Iterable<{ id: string; fence: FenceInput }>): void {
    const byId = new Map<string, FenceInput>();
    for (const { id, fence } of fences) {
      checkInput(id, fence);
      byId.delete(id);
      byId.set(id, fence);
    }
    const order = [...byId].map(([id, fence]) => ({ id, fence, key: 0 }));
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    const anchors = order.map(({ fence }) => firstPosition(fence));
    for (const [x, y] of anchors) {
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    const sx = maxX > minX ? 0xffff / (maxX - minX) : 0;
    const sy = maxY > minY ? 0xffff / (maxY - minY) : 0;
    order.forEach((o, i) => (o.key = morton(Math.floor((anchors[i]![0] - minX) * sx), Math.floor((anchors[i]![1] - minY) * sy))));
    order.sort((a, b) => a.key - b.key);
    const records = new Map(order.map(({ id, fence }) => [id, makeRecord(id, fence)]));
    this.byId.clear();
    this.tree.clear();
    const entries: PolygonEntry[] = [];
    // all() reports the callers' order, not the storage order.
    for (const id of byId.keys()) {
      const rec = records.get(id)!;
      this.byId.set(id, rec);
      for (const e of rec.entries) entries.push(e);
    }
    this.tree.load(entries);
  }

  /** Returns false when no fence had this id. */
  delete(id: string): boolean {
    const rec = this.byId.get(id);
    if (rec === undefined) return false;
    this.byId.delete(id);
    for (const e of rec.entries) this.tree.remove(e);
    return true;
  }

  get(id: string): IndexedFence | undefined {
    return this.byId.get(id)?.fence;
  }

  /** In insertion order; replacing a fence with set() keeps its place. */
  *all(): IterableIterator<IndexedFence> {
    for (const rec of this.byId.values()) yield rec.fence;
  }

  /**
   * Ids of the fences containing (lat, lon), sorted (UTF-16 code unit order). With a vehicle type, fences whose
   * applies_to leaves that type out are skipped; without one, every fence counts. Boundary points are inside.
   * The hot path of the geofence stage: no recursion, no per-candidate allocation of ours. `stats`, when given, is
   * filled with the work done.
   */
  containing(lat: number, lon: number, vehicleType?: VehicleType, stats?: FenceQueryStats): string[] {
    const out: string[] = [];
    if (stats !== undefined) {
      stats.boxes = 0;
      stats.turfCalls = 0;
      stats.gridInside = 0;
    }
    const root = (this.tree as unknown as { data: TreeNode }).data;
    // Written so that NaN fails every box test.
    if (!(lon >= root.minX && lon <= root.maxX && lat >= root.minY && lat <= root.maxY)) return out;
    const query = ++this.query;
    const typeBit = vehicleType === undefined ? ALL_TYPES : (TYPE_BIT.get(vehicleType) ?? UNKNOWN_TYPE_BIT);
    const stack = this.stack;
    let top = 0;
    stack[top++] = root;
    while (top > 0) {
      const node = stack[--top]!;
      const children = node.children;
      if (node.leaf) {
        for (let i = 0; i < children.length; i++) {
          const e = children[i] as PolygonEntry;
          if (!(lon >= e.minX && lon <= e.maxX && lat >= e.minY && lat <= e.maxY) || (e.appliesMask & typeBit) === 0) continue;
          const multi = e.multi;
          if (multi !== null && multi.hitQuery === query) continue;
          if (stats !== undefined) stats.boxes++;
          const kind = entryCellKind(e, lat, lon);
          if (kind === CELL_OUTSIDE) continue;
          if (kind === CELL_BOUNDARY) {
            if (stats !== undefined) stats.turfCalls++;
            if (!this.turf(e, lat, lon)) continue;
          } else if (stats !== undefined) stats.gridInside!++;
          if (multi !== null) multi.hitQuery = query;
          insertSorted(out, e.id);
        }
      } else {
        for (let i = 0; i < children.length; i++) {
          const c = children[i] as TreeNode;
          if (lon >= c.minX && lon <= c.maxX && lat >= c.minY && lat <= c.maxY) stack[top++] = c;
        }
      }
    }
    return out;
  }

  /**
   * Whether fence `id` contains (lat, lon), boundary included. With a vehicle type, false when the fence's
   * applies_to leaves that type out. False for an unknown id.
   */
  contains(id: string, lat: number, lon: number, vehicleType?: VehicleType): boolean {
    const rec = this.byId.get(id);
    if (rec === undefined) return false;
    const appliesTo = rec.fence.appliesTo;
    if (vehicleType !== undefined && appliesTo !== null && !appliesTo.includes(vehicleType)) return false;
    return this.recContains(rec, lat, lon);
  }

  /**
   * Whether a circle of radiusM metres around (lat, lon) (a fix's accuracy circle) touches fence `id`: the centre
   * is inside, or the fence's boundary (shells and holes) is within radiusM. Edge distances are measured in a local
   * equirectangular projection around the centre, good to well under a metre at accuracy-circle sizes.
   * applies_to is not consulted. False for an unknown id; radiusM <= 0 (or NaN) means the point alone.
   */
  overlapsCircle(id: string, lat: number, lon: number, radiusM: number): boolean {
    const rec = this.byId.get(id);
    if (rec === undefined) return false;
    return this.recContains(rec, lat, lon) || boundaryWithin(rec, lat, lon, radiusM);
  }

  /**
   * Whether the boundary of fence `id` (shells and holes) passes within radiusM metres of (lat, lon), measured as in
   * overlapsCircle. For a point already known to be outside the fence (not in containing()), this is overlapsCircle
   * without its point-in-polygon test: what FenceTracker asks for a fix outside a fence it was in.
   */
  boundaryWithin(id: string, lat: number, lon: number, radiusM: number): boolean {
    const rec = this.byId.get(id);
    return rec !== undefined && boundaryWithin(rec, lat, lon, radiusM);
  }

  /** Ids of fences with a polygon whose bounding box intersects the box (edges included), sorted. */
  search(minLon: number, minLat: number, maxLon: number, maxLat: number): string[] {
    if (!(minLon <= maxLon && minLat <= maxLat)) {
      throw new RangeError(`FenceIndex.search: need minLon <= maxLon and minLat <= maxLat, got ${minLon},${minLat},${maxLon},${maxLat} (order is minLon,minLat,maxLon,maxLat)`);
    }
    const ids = new Set<string>();
    for (const e of this.tree.search({ minX: minLon, minY: minLat, maxX: maxLon, maxY: maxLat })) ids.add(e.id);
    return [...ids].sort();
  }

  private recContains(rec: FenceRecord, lat: number, lon: number): boolean {
    const entries = rec.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!(lon >= e.minX && lon <= e.maxX && lat >= e.minY && lat <= e.maxY)) continue;
      const kind = entryCellKind(e, lat, lon);
      if (kind === CELL_OUTSIDE) continue;
      if (kind !== CELL_BOUNDARY || this.turf(e, lat, lon)) return true;
    }
    return false;
  }

  /** turf's booleanPointInPolygon on one polygon, boundary inside, through the reused point. */
  private turf(e: PolygonEntry, lat: number, lon: number): boolean {
    const pt = this.point;
    pt[0] = lon;
    pt[1] = lat;
    return booleanPointInPolygon(pt, e.poly, WITH_BOUNDARY);
  }
}

function checkInput(id: string, fence: FenceInput): void {
  if (typeof id !== 'string' || id === '') throw new TypeError('FenceIndex: a fence needs a non-empty string id');
  const g = fence?.geometry;
  if (g === undefined || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) {
    throw new TypeError(`FenceIndex: fence ${id} needs a Polygon or MultiPolygon geometry; pass what validateFence returned`);
  }
}

function firstPosition(fence: FenceInput): [number, number] {
  const g = fence.geometry;
  const p = g.type === 'Polygon' ? g.coordinates[0]?.[0] : g.coordinates[0]?.[0]?.[0];
  return [p?.[0] ?? 0, p?.[1] ?? 0];
}

/** Morton (Z-order) code of two 16-bit integers. */
function morton(x: number, y: number): number {
  return (spread16(x) | (spread16(y) << 1)) >>> 0;
}

function spread16(v: number): number {
  let n = v & 0xffff;
  n = (n | (n << 8)) & 0x00ff00ff;
  n = (n | (n << 4)) & 0x0f0f0f0f;
  n = (n | (n << 2)) & 0x33333333;
  return (n | (n << 1)) & 0x55555555;
}

/**
 * The index's own copy of the fence. The coordinates are copied in one go, each position a fresh [lon, lat] literal
 * (a JS array and its two doubles allocated side by side), so a polygon's positions sit together in memory instead of
 * wherever JSON.parse or validation left them; and a caller changing its object later cannot corrupt the tree.
 */
function makeRecord(id: string, fence: FenceInput): FenceRecord {
  checkInput(id, fence);
  const g = fence.geometry;
  const source: Position[][][] = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  const polygons: Position[][][] = source.map((rings) => rings.map((ring) => ring.map((p) => [p[0]!, p[1]!])));
  // The shell bounds its holes (validateFence checks that), so its box is the polygon's.
  const boxes = polygons.map((rings) => ringBBox(rings[0] ?? []));
  const bbox: BBox4 = [Infinity, Infinity, -Infinity, -Infinity];
  for (const b of boxes) {
    if (b[0] < bbox[0]) bbox[0] = b[0];
    if (b[1] < bbox[1]) bbox[1] = b[1];
    if (b[2] > bbox[2]) bbox[2] = b[2];
    if (b[3] > bbox[3]) bbox[3] = b[3];
  }
  if (!(bbox[0] <= bbox[2] && bbox[1] <= bbox[3])) throw new RangeError(`FenceIndex: fence ${id} has no positions (or NaN ones); pass what validateFence returned`);
  const appliesTo = fence.appliesTo === null ? null : Object.freeze([...fence.appliesTo]) as VehicleType[];
  let appliesMask = ALL_TYPES;
  if (appliesTo !== null) {
    appliesMask = 0;
    for (const t of appliesTo) appliesMask |= TYPE_BIT.get(t) ?? 0;
  }
  const fenceOut: IndexedFence = Object.freeze({
    id,
    geometry: g.type === 'Polygon' ? { type: 'Polygon' as const, coordinates: polygons[0]! } : { type: 'MultiPolygon' as const, coordinates: polygons },
    name: fence.name,
    kind: fence.kind,
    appliesTo,
    dwellS: fence.dwellS,
    bbox: Object.freeze(bbox),
  });
  const rec: FenceRecord = { fence: fenceOut, entries: [], hitQuery: 0 };
  const multi = polygons.length > 1 ? rec : null;
  for (let i = 0; i < polygons.length; i++) {
    const b = boxes[i]!;
    const poly: Polygon & { bbox: BBox4 } = { type: 'Polygon', coordinates: polygons[i]!, bbox: b };
    const { cells, cols, rows, wordsPerRow, cellsPerLon, cellsPerLat } = chooseCellGrid(poly.coordinates, b);
    const flatRings = poly.coordinates.map((ring) => {
      const flat = new Float64Array(ring.length * 2);
      for (let k = 0; k < ring.length; k++) {
        flat[2 * k] = ring[k]![0]!;
        flat[2 * k + 1] = ring[k]![1]!;
      }
      return flat;
    });
    rec.entries.push({ minX: b[0], minY: b[1], maxX: b[2], maxY: b[3], id, appliesMask, multi, poly, cells, cols, rows, wordsPerRow, cellsPerLon, cellsPerLat, flatRings });
  }
  return rec;
}

/**
 * The kind of grid cell (lat, lon) falls in (CELL_OUTSIDE, CELL_INSIDE or CELL_BOUNDARY), for a point already known
 * to be in the entry's box. Truncation is floor here (never negative); the max edge of the box maps to cols (rows),
 * which is clamped to the last cell. A point on a cell line may land on either side: see fence-grid.ts for why
 * that is safe.
 */
function entryCellKind(e: PolygonEntry, lat: number, lon: number): number {
  let c = ((lon - e.minX) * e.cellsPerLon) | 0;
  if (c >= e.cols) c = e.cols - 1;
  let r = ((lat - e.minY) * e.cellsPerLat) | 0;
  if (r >= e.rows) r = e.rows - 1;
  return (e.cells[r * e.wordsPerRow + (c >>> 4)]! >>> ((c & 15) << 1)) & 3;
}

/** Inserts id into the sorted array (UTF-16 code unit order, as Array.prototype.sort): results hold a handful. */
function insertSorted(out: string[], id: string): void {
  let k = out.length;
  out.push(id);
  while (k > 0 && out[k - 1]! > id) {
    out[k] = out[k - 1]!;
    k--;
  }
  out[k] = id;
}

function boundaryWithin(rec: FenceRecord, lat: number, lon: number, radiusM: number): boolean {
  if (!(radiusM > 0)) return false;
  // One linear projection for everything below, boxes included, so the box test never disagrees with the edges.
  const kx = Math.cos(lat * RAD) * RAD * EARTH_RADIUS_M;
  const ky = RAD * EARTH_RADIUS_M;
  const rLon = radiusM / kx;
  const rLat = radiusM / ky;
  for (const e of rec.entries) {
    if (lon < e.minX - rLon || lon > e.maxX + rLon || lat < e.minY - rLat || lat > e.maxY + rLat) continue;
    const rings = e.flatRings;
    for (let r = 0; r < rings.length; r++) {
      if (ringWithin(rings[r]!, lat, lon, kx, ky, rLon, rLat, radiusM * radiusM)) return true;
    }
  }
  return false;
}

function ringBBox(ring: readonly Position[]): BBox4 {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < ring.length; i++) {
    const x = ring[i]![0]!;
    const y = ring[i]![1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return [minX, minY, maxX, maxY];
}

/**
 * Whether a segment of the ring passes within sqrt(r2) metres of (lat, lon), in the projection
 * x = (lon - lon0) kx, y = (lat - lat0) ky. Segments whose box is farther than (rLon, rLat) are skipped unprojected.
 */
function ringWithin(ring: Float64Array, lat: number, lon: number, kx: number, ky: number, rLon: number, rLat: number, r2: number): boolean {
  const loLon = lon - rLon;
  const hiLon = lon + rLon;
  const loLat = lat - rLat;
  const hiLat = lat + rLat;
  let blon = ring[0]!;
  let blat = ring[1]!;
  for (let i = 2; i < ring.length; i += 2) {
    const alon = blon;
    const alat = blat;
    blon = ring[i]!;
    blat = ring[i + 1]!;
    if ((alon < loLon && blon < loLon) || (alon > hiLon && blon > hiLon) || (alat < loLat && blat < loLat) || (alat > hiLat && blat > hiLat)) continue;
    const ax = (alon - lon) * kx;
    const ay = (alat - lat) * ky;
    const dx = (blon - lon) * kx - ax;
    const dy = (blat - lat) * ky - ay;
    // Closest point of the segment to the origin: a + t (b - a), t clamped to [0, 1].
    const len2 = dx * dx + dy * dy;
    let t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    const px = ax + t * dx;
    const py = ay + t * dy;
    if (px * px + py * py <= r2) return true;
  }
  return false;
}
