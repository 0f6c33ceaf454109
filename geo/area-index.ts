// Early-warning areas: subscribers (residents, schools, hospitals) and sensors each have an area, a circle (centre and
// radius in metres) or a GeoJSON Polygon / MultiPolygon. When a sensor alerts, AreaIndex finds every subscriber area
// meeting the sensor's area: an rbush of bounding boxes (one per circle, one per polygon of a MultiPolygon, so far
// apart parts do not share one huge box) yields candidates, and the exact test runs on those only.
//
// Exact tests (touching counts as meeting):
// - circle / circle: haversine distance between the centres <= r1 + r2.
// - circle / polygon: the centre is in the polygon (turf booleanPointInPolygon, boundary included, holes respected),
//   or some edge of any ring (shell or hole) passes within the radius. The edge point nearest the centre is picked in a
//   local equirectangular projection around the centre, then its distance is measured by haversine. A wrong pick only
//   lengthens the distance, by about the square of the projection's scale error, so the error is an overestimate: it
//   can miss a graze, never invent a meeting. Measured in test/geo-area-index.test.ts against a golden-section search
//   along each edge: under 1e-6 relative for Jakarta-sized areas (1e-9 typical), and up to 1e-4 (3 m in 30 km) with
//   edges up to 50 km at latitude 60; well inside 0.5% for edges under 50 km.
// - polygon / polygon: turf booleanIntersects per pair of parts whose boxes meet (holes as turf treats them: a shell
//   vertex in the other polygon, or ring edges crossing).
// Polygon edges are straight in lon/lat, as RFC 7946 says; a polygon crossing the antimeridian must be cut in two.
//
// Limits of the circle's box (areaBBox): exact on the sphere, then padded by 1e-9 relative. A circle reaching a pole
// gets the full longitude range and its latitude range runs to that pole; a circle crossing the antimeridian gets the
// full longitude range too (a wider search, never a missed one). Within about a degree of a pole the equirectangular
// pick above degrades (cos(lat) -> 0); answers stay on the side of missing a graze.

import RBush from 'rbush';
import type { BBox } from 'rbush';
import type { MultiPolygon, Polygon, Position } from 'geojson';
import { booleanIntersects, booleanPointInPolygon } from '@turf/turf';
import { EARTH_RADIUS_M, haversineCosM, haversineM } from './distance.ts';
import { validateFence } from './fence-validate.ts';

export type Area = { kind: 'circle'; lat: number; lon: number; radiusM: number } | { kind: 'polygon'; geometry: Polygon | MultiPolygon };

/** [minLon, minLat, maxLon, maxLat], degrees */
export type AreaBBox = [minLon: number, minLat: number, maxLon: number, maxLat: number];

/** A rejected area: `field` names the offending member of a `{ geometry, radius_m }` body ('geometry.coordinates[0]'). */
export class AreaError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'AreaError';
  }
}

/** Filled by intersecting() when passed: how much work one query did. */
export interface AreaQueryStats {
  /** index entries (circles, polygons of a (Multi)Polygon) whose box met a box of the query */
  candidates: number;
  /** of those, how many got the exact test (a MultiPolygon already matched through another part needs none) */
  exactTests: number;
}

/** Largest radius areaFromGeoJSON accepts: a region, not a continent; bigger is more likely a unit mistake. */
export const MAX_AREA_RADIUS_M = 1_000_000;

const RAD = Math.PI / 180;
/** Box padding: far above the rounding of asin/sin/cos (1e-15), far below anything geographic. */
const BOX_PAD_REL = 1e-9;
const BOX_PAD_DEG = 1e-12;

type Box = AreaBBox;

interface PreparedCircle {
  kind: 'circle';
  lat: number;
  lon: number;
  radiusM: number;
  cosLat: number;
  point: [number, number];
  box: Box;
}

/** One polygon of a Polygon or MultiPolygon; `poly.bbox` lets turf's booleanPointInPolygon return early outside it. */
interface PreparedPart {
  poly: Polygon & { bbox: Box };
  box: Box;
}

interface PreparedPolygon {
  kind: 'polygon';
  parts: PreparedPart[];
  box: Box;
}

type Prepared = PreparedCircle | PreparedPolygon;

/**
 * A box holding the whole area. A polygon's is the box of its positions (edges are straight in lon/lat). A circle's
 * holds its spherical cap: latitude +- the angular radius, longitude +- asin(sin(radius) / cos(lat)), the meridians
 * tangent to the cap, which widen with 1 / cos(lat); full longitude when the cap reaches a pole or the antimeridian.
 */
export function areaBBox(area: Area): AreaBBox {
  if (area.kind === 'circle') return circleBox(area.lat, area.lon, area.radiusM);
  const g = area.geometry;
  return polygonsBox(g.type === 'Polygon' ? [g.coordinates] : g.coordinates);
}

/**
 * Whether the two areas meet (share at least a boundary point); see the top of this file for how. Symmetric. No
 * validation here (it is the hot path): pass areas from areaFromGeoJSON or ones AreaIndex accepted.
 */
export function areasIntersect(a: Area, b: Area): boolean {
  if (a.kind === 'circle' && b.kind === 'circle') return haversineM(a.lat, a.lon, b.lat, b.lon) <= a.radiusM + b.radiusM;
  // Most pairs are far apart: the boxes say so before any per-part preparation.
  if (!boxesMeet(areaBBox(a), areaBBox(b))) return false;
  return meet(prepare(a), prepare(b));
}

/**
 * An Area from a client's GeoJSON geometry: a Point with radiusM (metres, > 0, at most MAX_AREA_RADIUS_M), or a
 * Polygon / MultiPolygon (no radius), checked as geofences are (closed rings, ranges, no self-intersection, holes
 * inside their shell). Positions are reduced to [lon, lat]. Throws AreaError naming the field and what was expected.
 */
export function areaFromGeoJSON(geometry: unknown, radiusM?: number): Area {
  if (typeof geometry !== 'object' || geometry === null || Array.isArray(geometry)) {
    throw new AreaError('geometry', `expected a GeoJSON geometry object (a Point with radius_m, a Polygon or a MultiPolygon), got ${describe(geometry)}`);
  }
  const g = geometry as Record<string, unknown>;
  const type = g.type;
  if (type === 'Point') return circleFromPoint(g.coordinates, radiusM);
  if (type === 'Polygon' || type === 'MultiPolygon') {
    if (radiusM !== undefined && radiusM !== null) {
      throw new AreaError('radius_m', `radius_m applies to a Point only; a ${type} area is the polygon itself (omit radius_m)`);
    }
    // validateFence checks a Feature; the geometry's own checks and field names are the same.
    const checked = validateFence({ type: 'Feature', geometry, properties: { name: 'area' } });
    if (!checked.ok) throw new AreaError(checked.field === '' ? 'geometry' : checked.field, checked.reason);
    return { kind: 'polygon', geometry: checked.fence.geometry };
  }
  if (type === 'Feature') throw new AreaError('geometry.type', 'got a Feature; pass its geometry (a Point with radius_m, a Polygon or a MultiPolygon)');
  throw new AreaError('geometry.type', `geometry type ${JSON.stringify(type ?? null)} is not supported: expected a Point (with radius_m), a Polygon or a MultiPolygon`);
}

interface AreaRecord<T> {
  id: string;
  area: Area;
  data: T;
  entries: Entry<T>[];
  /** the last intersecting() query that matched this area */
  hitQuery: number;
}

/** One circle, or one polygon of a (Multi)Polygon, as the tree holds it. */
interface Entry<T> extends BBox {
  rec: AreaRecord<T>;
  shape: Prepared;
  /** the last query that examined this entry: a MultiPolygon query searches once per part */
  seenQuery: number;
}

export class AreaIndex<T> {
  private readonly tree = new RBush<Entry<T>>();
  private readonly byId = new Map<string, AreaRecord<T>>();
  private query = 0;

  get size(): number {
    return this.byId.size;
  }

  /** Inserts or replaces. The index keeps its own copy of the area (positions reduced to [lon, lat]). */
  set(id: string, area: Area, data: T): void {
    const rec = makeRecord(id, area, data);
    const old = this.byId.get(id);
    if (old !== undefined) for (const e of old.entries) this.tree.remove(e);
    this.byId.set(id, rec);
    for (const e of rec.entries) this.tree.insert(e);
  }

  /** Returns false when no area had this id. */
  remove(id: string): boolean {
    const rec = this.byId.get(id);
    if (rec === undefined) return false;
    this.byId.delete(id);
    for (const e of rec.entries) this.tree.remove(e);
    return true;
  }

  /** The index's copy of the area (read-only) and the data. */
  get(id: string): { area: Area; data: T } | undefined {
    const rec = this.byId.get(id);
    return rec === undefined ? undefined : { area: rec.area, data: rec.data };
  }

  /**
   * Replaces everything with these areas, bulk-loaded (rbush OMT load), as at start-up; faster than set() one by one
   * and gives a better tree. A later duplicate id wins.
   */
  load(items: Array<{ id: string; area: Area; data: T }>): void {
    const recs = new Map<string, AreaRecord<T>>();
    for (const { id, area, data } of items) {
      recs.delete(id);
      recs.set(id, makeRecord(id, area, data));
    }
    this.tree.clear();
    this.byId.clear();
    const entries: Entry<T>[] = [];
    for (const [id, rec] of recs) {
      this.byId.set(id, rec);
      for (const e of rec.entries) entries.push(e);
    }
    this.tree.load(entries);
  }

  /**
   * Every indexed area meeting `area` (touching included), sorted by id (UTF-16 code unit order), each once. One
   * rbush search per box of the query (one per polygon of a MultiPolygon), then the exact test on those candidates
   * only. `stats`, when given, is filled with the work done.
   */
  intersecting(area: Area, stats?: AreaQueryStats): Array<{ id: string; data: T }> {
    checkArea(area);
    const q = prepare(area);
    const query = ++this.query;
    let candidates = 0;
    let exactTests = 0;
    const hits: Array<AreaRecord<T>> = [];
    const boxes = q.kind === 'circle' ? [q.box] : q.parts.map((p) => p.box);
    for (const b of boxes) {
      for (const e of this.tree.search({ minX: b[0], minY: b[1], maxX: b[2], maxY: b[3] })) {
        if (e.seenQuery === query) continue;
        e.seenQuery = query;
        candidates++;
        const rec = e.rec;
        if (rec.hitQuery === query) continue;
        exactTests++;
        if (meet(q, e.shape)) {
          rec.hitQuery = query;
          hits.push(rec);
        }
      }
    }
    if (stats !== undefined) {
      stats.candidates = candidates;
      stats.exactTests = exactTests;
    }
    hits.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return hits.map((r) => ({ id: r.id, data: r.data }));
  }
}

function makeRecord<T>(id: string, area: Area, data: T): AreaRecord<T> {
  if (typeof id !== 'string' || id === '') throw new TypeError('AreaIndex: an area needs a non-empty string id');
  checkArea(area, id);
  const own: Area =
    area.kind === 'circle'
      ? { kind: 'circle', lat: area.lat, lon: area.lon, radiusM: area.radiusM }
      : {
          kind: 'polygon',
          geometry:
            area.geometry.type === 'Polygon'
              ? { type: 'Polygon', coordinates: copyRings(area.geometry.coordinates) }
              : { type: 'MultiPolygon', coordinates: area.geometry.coordinates.map(copyRings) },
        };
  const rec: AreaRecord<T> = { id, area: own, data, entries: [], hitQuery: 0 };
  const p = prepare(own);
  const shapes: Prepared[] = p.kind === 'circle' ? [p] : p.parts.map((part) => ({ kind: 'polygon', parts: [part], box: part.box }));
  for (const shape of shapes) {
    const b = shape.box;
    rec.entries.push({ minX: b[0], minY: b[1], maxX: b[2], maxY: b[3], rec, shape, seenQuery: 0 });
  }
  return rec;
}

function copyRings(rings: Position[][]): Position[][] {
  return rings.map((ring) => ring.map((p) => [p[0]!, p[1]!]));
}

/** Structural checks that keep NaN boxes out of the tree; areaFromGeoJSON does the full validation. */
function checkArea(area: Area, id?: string): void {
  const who = id === undefined ? 'AreaIndex' : `AreaIndex: area ${id}`;
  if (area?.kind === 'circle') {
    const { lat, lon, radiusM } = area;
    if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) throw new RangeError(`${who}: circle centre (lat ${lat}, lon ${lon}) is out of range`);
    if (!(radiusM > 0 && Number.isFinite(radiusM))) throw new RangeError(`${who}: circle radiusM must be a finite number of metres > 0, got ${radiusM}`);
    return;
  }
  const g = area?.kind === 'polygon' ? area.geometry : undefined;
  if (g === undefined || g === null || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) {
    throw new TypeError(`${who}: expected {kind: 'circle', lat, lon, radiusM} or {kind: 'polygon', geometry: Polygon | MultiPolygon}; use areaFromGeoJSON`);
  }
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  if (!Array.isArray(polygons) || polygons.length === 0) throw new RangeError(`${who}: the geometry has no polygons`);
  for (const rings of polygons) {
    if (!Array.isArray(rings) || rings.length === 0) throw new RangeError(`${who}: a polygon has no rings`);
    for (const ring of rings) {
      if (!Array.isArray(ring) || ring.length < 4) throw new RangeError(`${who}: a ring needs at least 4 positions; use areaFromGeoJSON`);
      for (const p of ring) {
        const x = p?.[0];
        const y = p?.[1];
        if (!(typeof x === 'number' && typeof y === 'number' && x >= -180 && x <= 180 && y >= -90 && y <= 90)) {
          throw new RangeError(`${who}: position ${JSON.stringify(p)} is not [lon, lat] in range; use areaFromGeoJSON`);
        }
      }
    }
  }
}

function prepare(area: Area): Prepared {
  if (area.kind === 'circle') {
    const { lat, lon, radiusM } = area;
    return { kind: 'circle', lat, lon, radiusM, cosLat: Math.cos(lat * RAD), point: [lon, lat], box: circleBox(lat, lon, radiusM) };
  }
  const g = area.geometry;
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  const parts = polygons.map((rings): PreparedPart => {
    const box = polygonsBox([rings]);
    return { poly: { type: 'Polygon', coordinates: rings, bbox: box }, box };
  });
  const box: Box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const { box: b } of parts) {
    if (b[0] < box[0]) box[0] = b[0];
    if (b[1] < box[1]) box[1] = b[1];
    if (b[2] > box[2]) box[2] = b[2];
    if (b[3] > box[3]) box[3] = b[3];
  }
  return { kind: 'polygon', parts, box };
}

function circleBox(lat: number, lon: number, radiusM: number): Box {
  const angleRad = radiusM / EARTH_RADIUS_M;
  if (!(angleRad < Math.PI)) return [-180, -90, 180, 90];
  const halfLatDeg = (angleRad / RAD) * (1 + BOX_PAD_REL) + BOX_PAD_DEG;
  const minLat = lat - halfLatDeg;
  const maxLat = lat + halfLatDeg;
  // The cap holds a pole: every meridian crosses it.
  if (maxLat >= 90 || minLat <= -90) return [-180, Math.max(-90, minLat), 180, Math.min(90, maxLat)];
  // Off the poles sin(angle) < cos(lat); rounding right at the limit is caught by the check.
  const s = Math.sin(angleRad) / Math.cos(lat * RAD);
  if (!(s < 1)) return [-180, minLat, 180, maxLat];
  const halfLonDeg = (Math.asin(s) / RAD) * (1 + BOX_PAD_REL) + BOX_PAD_DEG;
  const minLon = lon - halfLonDeg;
  const maxLon = lon + halfLonDeg;
  if (minLon < -180 || maxLon > 180) return [-180, minLat, 180, maxLat];
  return [minLon, minLat, maxLon, maxLat];
}

function polygonsBox(polygons: Position[][][]): Box {
  const box: Box = [Infinity, Infinity, -Infinity, -Infinity];
  // All rings, not just shells: costs little and stays right for a hole poking out of an unchecked polygon.
  for (const rings of polygons) {
    for (const ring of rings) {
      for (let i = 0; i < ring.length; i++) {
        const x = ring[i]![0]!;
        const y = ring[i]![1]!;
        if (x < box[0]) box[0] = x;
        if (x > box[2]) box[2] = x;
        if (y < box[1]) box[1] = y;
        if (y > box[3]) box[3] = y;
      }
    }
  }
  return box;
}

function boxesMeet(a: Box, b: Box): boolean {
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

function meet(a: Prepared, b: Prepared): boolean {
  if (!boxesMeet(a.box, b.box)) return false;
  if (a.kind === 'circle') {
    if (b.kind === 'circle') return haversineCosM(a.lat, a.lon, a.cosLat, b.lat, b.lon) <= a.radiusM + b.radiusM;
    return circleMeetsPolygon(a, b);
  }
  if (b.kind === 'circle') return circleMeetsPolygon(b, a);
  for (const pa of a.parts) {
    for (const pb of b.parts) {
      if (boxesMeet(pa.box, pb.box) && booleanIntersects(pa.poly, pb.poly)) return true;
    }
  }
  return false;
}

function circleMeetsPolygon(c: PreparedCircle, p: PreparedPolygon): boolean {
  for (const part of p.parts) {
    const pb = part.box;
    if (!boxesMeet(c.box, pb)) continue;
    if (c.lon >= pb[0] && c.lon <= pb[2] && c.lat >= pb[1] && c.lat <= pb[3] && booleanPointInPolygon(c.point, part.poly)) return true;
    for (const ring of part.poly.coordinates) if (ringWithin(ring, c)) return true;
  }
  return false;
}

/** Longitude difference folded to [-180, 180], so a circle next to the antimeridian measures the short way. */
function wrapLonDeg(d: number): number {
  return d > 180 ? d - 360 : d < -180 ? d + 360 : d;
}

/**
 * Whether an edge of the ring passes within the circle's radius. Per edge: the point nearest the centre in the
 * projection x = dLon cos(lat0), y = dLat (degrees), then the haversine distance to that point of the edge.
 */
function ringWithin(ring: Position[], c: PreparedCircle): boolean {
  const { lat, lon, cosLat, radiusM, box } = c;
  // Edges whose box misses the circle's box hold no point of the circle.
  const [loLon, loLat, hiLon, hiLat] = box;
  let bLon = ring[0]![0]!;
  let bLat = ring[0]![1]!;
  for (let i = 1; i < ring.length; i++) {
    const aLon = bLon;
    const aLat = bLat;
    bLon = ring[i]![0]!;
    bLat = ring[i]![1]!;
    if ((aLon < loLon && bLon < loLon) || (aLon > hiLon && bLon > hiLon) || (aLat < loLat && bLat < loLat) || (aLat > hiLat && bLat > hiLat)) continue;
    const aDLon = wrapLonDeg(aLon - lon);
    const bDLon = wrapLonDeg(bLon - lon);
    const ax = aDLon * cosLat;
    const ay = aLat - lat;
    const dx = bDLon * cosLat - ax;
    const dy = bLat - lat - ay;
    const len2 = dx * dx + dy * dy;
    let t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    // t = 0 and t = 1 are the vertices themselves, measured exactly (haversine is 360-periodic in longitude).
    const pLon = t === 0 ? aLon : t === 1 ? bLon : lon + aDLon + t * (bDLon - aDLon);
    const pLat = t === 0 ? aLat : t === 1 ? bLat : aLat + t * (bLat - aLat);
    if (haversineCosM(lat, lon, cosLat, pLat, pLon) <= radiusM) return true;
  }
  return false;
}

function circleFromPoint(coordinates: unknown, radiusM: unknown): Area {
  if (!Array.isArray(coordinates) || coordinates.length < 2 || coordinates.length > 3) {
    throw new AreaError('geometry.coordinates', `a Point's coordinates must be [lon, lat] (or [lon, lat, altitude]), got ${describe(coordinates)}`);
  }
  for (let k = 0; k < coordinates.length; k++) {
    const x: unknown = coordinates[k];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new AreaError('geometry.coordinates', `a Point's coordinates must be numbers, got ${describe(x)} at index ${k}`);
  }
  const lon = coordinates[0] as number;
  const lat = coordinates[1] as number;
  if (lon < -180 || lon > 180) throw new AreaError('geometry.coordinates', `longitude ${lon} out of range: must be in [-180, 180]`);
  if (lat < -90 || lat > 90) throw new AreaError('geometry.coordinates', `latitude ${lat} out of range: must be in [-90, 90] (coordinates are [lon, lat]; swapped?)`);
  if (radiusM === undefined || radiusM === null) throw new AreaError('radius_m', 'a Point area needs radius_m, its radius in metres (> 0)');
  if (typeof radiusM !== 'number' || !Number.isFinite(radiusM) || radiusM <= 0) {
    throw new AreaError('radius_m', `radius_m must be a number of metres > 0, got ${describe(radiusM)}`);
  }
  if (radiusM > MAX_AREA_RADIUS_M) {
    throw new AreaError('radius_m', `radius_m ${radiusM} is over the ${MAX_AREA_RADIUS_M} m limit; use a Polygon for a larger area`);
  }
  return { kind: 'circle', lat, lon, radiusM };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
