// Validation of a geofence as posted to POST /geofences (CONTRACT.md, Geofences): a GeoJSON Feature whose geometry
// is a Polygon or MultiPolygon (holes allowed) with properties {name, kind?, applies_to?, dwell_s?}.
// Every failure names one problem and where it is, so the API can answer 400 INVALID_GEOMETRY with it.
//
// Order of checks (the first failure is reported): the Feature's shape, its properties, each position and ring
// (numbers, ranges, >= 4 positions, closed), geojson-validation as a backstop for the rest of RFC 7946's structure,
// then the geometry's meaning: no self-intersection (turf kinks: no ring crossing or touching itself or another
// ring, no two polygons of a MultiPolygon crossing or touching), no zero-area ring, holes inside their shell and
// not inside each other.
// Ring winding is not checked: RFC 7946 section 3.1.6 says parsers SHOULD NOT reject polygons for it.

import type { MultiPolygon, Polygon, Position } from 'geojson';
import gjv from 'geojson-validation';
import { booleanPointInPolygon, kinks } from '@turf/turf';
import { VEHICLE_TYPES, type VehicleType } from '../ingest/model.ts';

export interface FenceInput {
  /** a fresh copy: positions reduced to [lon, lat] (an altitude is dropped), no `bbox` member */
  geometry: Polygon | MultiPolygon;
  name: string;
  kind: string | null;
  /** null = every vehicle type; otherwise distinct known types, in the order given */
  appliesTo: VehicleType[] | null;
  /** seconds inside before a dwell event; null = no dwell events */
  dwellS: number | null;
}

export type FenceValidation = { ok: true; fence: FenceInput } | { ok: false; reason: string; field: string };

export interface ValidateFenceOptions {
  /** positions over all rings; the self-intersection check is quadratic (about 0.7 s at 10,000 here) */
  maxPositions?: number;
}

export const DEFAULT_MAX_FENCE_POSITIONS = 10_000;

/**
 * Checks a GeoJSON Feature meant as a geofence. On success returns a clean copy of what Pantau keeps; on failure
 * one human reason and the offending field (`geometry.coordinates[0][3]`, `properties.applies_to[1]`, ...;
 * '' means the input as a whole).
 */
export function validateFence(input: unknown, opts: ValidateFenceOptions = {}): FenceValidation {
  try {
    return { ok: true, fence: checkFeature(input, opts.maxPositions ?? DEFAULT_MAX_FENCE_POSITIONS) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: err.message, field: err.field };
    throw err;
  }
}

class Invalid extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

function fail(reason: string, field: string): never {
  throw new Invalid(reason, field);
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Rounds to 1e-7 degrees (about 1 cm) for messages. */
function fmt(p: readonly number[]): string {
  return `[${p.map((x) => Math.round(x * 1e7) / 1e7).join(', ')}]`;
}

function checkFeature(input: unknown, maxPositions: number): FenceInput {
  if (!isObject(input)) fail(`a fence is a GeoJSON Feature object, got ${describe(input)}`, '');
  const type = input.type;
  if (type !== 'Feature') {
    if (type === 'Polygon' || type === 'MultiPolygon') {
      fail(`got a bare ${type} geometry; send a Feature: {"type": "Feature", "geometry": <the ${type}>, "properties": {"name": ...}}`, 'type');
    }
    if (type === 'FeatureCollection') fail('got a FeatureCollection; send one Feature per fence', 'type');
    fail(`type must be "Feature", got ${type === undefined ? 'nothing' : JSON.stringify(type)}`, 'type');
  }
  const geometry = input.geometry;
  if (geometry === undefined || geometry === null) fail('geometry is missing: a fence needs a Polygon or MultiPolygon', 'geometry');
  if (!isObject(geometry)) fail(`geometry must be a Polygon or MultiPolygon object, got ${describe(geometry)}`, 'geometry');
  if (geometry.type !== 'Polygon' && geometry.type !== 'MultiPolygon') {
    fail(`geometry type ${JSON.stringify(geometry.type ?? null)} is not supported: a fence is a Polygon or MultiPolygon`, 'geometry.type');
  }
  const props = checkProperties(input.properties);

  const multi = geometry.type === 'MultiPolygon';
  const polygons = readCoordinates(geometry.coordinates, multi, maxPositions);

  // The structure is ours now; geojson-validation catches what the walk above does not look at (e.g. a bad bbox).
  const problems = gjv.isFeature(input, true);
  if (problems.length > 0) fail(`not valid GeoJSON: ${problems[0]}`, '');

  const where = new Where(multi);
  const geom: Polygon | MultiPolygon = multi ? { type: 'MultiPolygon', coordinates: polygons } : { type: 'Polygon', coordinates: polygons[0]! };
  const found = kinks(geom).features;
  if (found.length > 0) failKink(polygons, found[0]!.geometry.coordinates, where);
  // After kinks: a symmetric bowtie's lobes cancel to zero area, and it should be called a self-intersection.
  for (let p = 0; p < polygons.length; p++) {
    const rings = polygons[p]!;
    for (let r = 0; r < rings.length; r++) {
      if (Math.abs(ringArea(rings[r]!)) < 1e-14) {
        fail(`${where.ring(p, r)} has zero area: its positions lie on one line`, where.ringField(p, r));
      }
    }
  }
  for (let p = 0; p < polygons.length; p++) checkHoles(polygons[p]!, p, where);

  return { geometry: geom, ...props };
}

function checkProperties(raw: unknown): Omit<FenceInput, 'geometry'> {
  if (!isObject(raw)) fail(`properties must be an object with at least a name, e.g. {"name": "Pintu Air Manggarai"}; got ${describe(raw ?? null)}`, 'properties');
  const name = raw.name;
  if (name === undefined || name === null) fail('properties.name is required (a non-empty string)', 'properties.name');
  if (typeof name !== 'string') fail(`properties.name must be a non-empty string, got ${describe(name)}`, 'properties.name');
  if (name.trim() === '') fail('properties.name must not be empty', 'properties.name');

  let kind: string | null = null;
  if (raw.kind !== undefined && raw.kind !== null) {
    if (typeof raw.kind !== 'string' || raw.kind.trim() === '') {
      fail(`properties.kind must be a non-empty string when given, got ${describe(raw.kind)}`, 'properties.kind');
    }
    kind = raw.kind;
  }

  let appliesTo: VehicleType[] | null = null;
  const at = raw.applies_to;
  if (at !== undefined && at !== null) {
    if (!Array.isArray(at)) fail(`properties.applies_to must be an array of vehicle types such as ["ambulance"], got ${describe(at)}`, 'properties.applies_to');
    if (at.length === 0) fail('properties.applies_to is empty: omit it to apply the fence to every vehicle type', 'properties.applies_to');
    appliesTo = [];
    for (let i = 0; i < at.length; i++) {
      const t: unknown = at[i];
      if (typeof t !== 'string' || !(VEHICLE_TYPES as readonly string[]).includes(t)) {
        const what = typeof t === 'string' ? `'${t}'` : describe(t);
        fail(`applies_to contains unknown vehicle type ${what}; known types: ${VEHICLE_TYPES.join(', ')}`, `properties.applies_to[${i}]`);
      }
      if (!appliesTo.includes(t as VehicleType)) appliesTo.push(t as VehicleType);
    }
  }

  let dwellS: number | null = null;
  const d = raw.dwell_s;
  if (d !== undefined && d !== null) {
    if (typeof d !== 'number') fail(`properties.dwell_s must be a number of seconds, got ${describe(d)}`, 'properties.dwell_s');
    if (!Number.isFinite(d) || d <= 0) fail(`properties.dwell_s must be a positive number of seconds, got ${d}`, 'properties.dwell_s');
    dwellS = d;
  }
  return { name, kind, appliesTo, dwellS };
}

/** Labels rings the way the user wrote them: "ring 1" in a Polygon, "ring 1 of polygon 2" in a MultiPolygon. */
class Where {
  constructor(private readonly multi: boolean) {}
  ring(p: number, r: number): string {
    return this.multi ? `ring ${r} of polygon ${p}` : `ring ${r}`;
  }
  /** holes are numbered by their ring index: ring 0 is the shell, so the first hole is hole 1 */
  hole(p: number, r: number): string {
    return this.multi ? `hole ${r} of polygon ${p}` : `hole ${r}`;
  }
  /** path below geometry.coordinates, as in messages */
  ringPath(p: number, r: number): string {
    return this.multi ? `coordinates[${p}][${r}]` : `coordinates[${r}]`;
  }
  ringField(p: number, r: number): string {
    return `geometry.${this.ringPath(p, r)}`;
  }
}

/** Walks the coordinates array and returns a copy as polygons of rings of [lon, lat]. */
function readCoordinates(raw: unknown, multi: boolean, maxPositions: number): Position[][][] {
  const where = new Where(multi);
  if (!Array.isArray(raw)) {
    fail(`geometry.coordinates must be an array of ${multi ? 'polygons (arrays of rings)' : 'rings (arrays of [lon, lat] positions)'}, got ${describe(raw ?? null)}`, 'geometry.coordinates');
  }
  const rawPolygons: unknown[] = multi ? raw : [raw];
  if (rawPolygons.length === 0) fail('geometry.coordinates is empty: a MultiPolygon needs at least one polygon', 'geometry.coordinates');
  let positions = 0;
  const polygons: Position[][][] = [];
  for (let p = 0; p < rawPolygons.length; p++) {
    const rawRings = rawPolygons[p];
    const polyField = multi ? `geometry.coordinates[${p}]` : 'geometry.coordinates';
    if (!Array.isArray(rawRings)) fail(`${multi ? `polygon ${p}` : 'the polygon'} must be an array of rings, got ${describe(rawRings)}`, polyField);
    if (rawRings.length === 0) fail(`${multi ? `polygon ${p}` : 'the polygon'} has no rings: it needs an outer ring (and optional holes)`, polyField);
    const rings: Position[][] = [];
    for (let r = 0; r < rawRings.length; r++) {
      const rawRing: unknown = rawRings[r];
      if (!Array.isArray(rawRing)) fail(`${where.ring(p, r)} must be an array of [lon, lat] positions, got ${describe(rawRing)}`, where.ringField(p, r));
      positions += rawRing.length;
      if (positions > maxPositions) {
        fail(`the geometry has more than ${maxPositions} positions; simplify it (e.g. turf simplify) before posting`, 'geometry.coordinates');
      }
      const ring: Position[] = [];
      for (let i = 0; i < rawRing.length; i++) ring.push(readPosition(rawRing[i], `${where.ringPath(p, r)}[${i}]`));
      if (ring.length < 4) {
        fail(`${where.ring(p, r)} has ${ring.length} position${ring.length === 1 ? '' : 's'}; a linear ring needs at least 4 (3 corners and the first repeated at the end)`, where.ringField(p, r));
      }
      const first = ring[0]!;
      const last = ring[ring.length - 1]!;
      if (first[0] !== last[0] || first[1] !== last[1]) {
        fail(`${where.ring(p, r)} is not closed: first position ${fmt(first)} differs from last ${fmt(last)}; repeat the first position at the end`, where.ringField(p, r));
      }
      rings.push(ring);
    }
    polygons.push(rings);
  }
  return polygons;
}

function readPosition(raw: unknown, path: string): Position {
  const field = `geometry.${path}`;
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > 3) {
    fail(`position at ${path} must be [lon, lat] (or [lon, lat, altitude]), got ${Array.isArray(raw) ? `${raw.length} numbers` : describe(raw)}`, field);
  }
  for (let k = 0; k < raw.length; k++) {
    const x: unknown = raw[k];
    if (typeof x !== 'number' || !Number.isFinite(x)) fail(`position at ${path} must hold numbers only, got ${describe(x)} at index ${k}`, field);
  }
  const lon = raw[0] as number;
  const lat = raw[1] as number;
  if (lon < -180 || lon > 180) fail(`longitude ${lon} out of range at ${path}: must be in [-180, 180]`, field);
  if (lat < -90 || lat > 90) fail(`latitude ${lat} out of range at ${path}: must be in [-90, 90] (positions are [lon, lat]; swapped?)`, field);
  return [lon, lat];
}

/** Shoelace area in square degrees, relative to the first position to keep the sums small. */
function ringArea(ring: readonly Position[]): number {
  const x0 = ring[0]![0]!;
  const y0 = ring[0]![1]!;
  let twice = 0;
  for (let i = 1; i + 1 < ring.length; i++) {
    const a = ring[i]!;
    const b = ring[i + 1]!;
    twice += (a[0]! - x0) * (b[1]! - y0) - (b[0]! - x0) * (a[1]! - y0);
  }
  return twice / 2;
}

/** Says which rings meet at a point kinks found: the rings with a segment through it (within rounding). */
function failKink(polygons: Position[][][], at: Position, where: Where): never {
  const x = at[0]!;
  const y = at[1]!;
  const involved: Array<[number, number]> = [];
  for (let p = 0; p < polygons.length; p++) {
    const rings = polygons[p]!;
    for (let r = 0; r < rings.length; r++) if (ringPassesNear(rings[r]!, x, y, 1e-9)) involved.push([p, r]);
  }
  const [first, second] = involved;
  if (first === undefined) fail(`self-intersection at ${fmt(at)}`, 'geometry.coordinates');
  const [p, r] = first;
  if (second === undefined) fail(`self-intersection at ${fmt(at)}: ${where.ring(p, r)} crosses or touches itself`, where.ringField(p, r));
  const [p2, r2] = second;
  if (p2 !== p) {
    fail(
      `self-intersection at ${fmt(at)}: polygon ${p} and polygon ${p2} cross or touch; the polygons of a MultiPolygon must not share edges (merge them into one polygon)`,
      `geometry.coordinates[${p2}]`,
    );
  }
  const what = r === 0 ? `${where.hole(p, r2)} crosses or touches its shell` : `${where.hole(p, r)} and ${where.hole(p, r2)} cross or touch`;
  fail(`self-intersection at ${fmt(at)}: ${what}`, where.ringField(p, r2));
}

/** Whether a segment of the ring passes within tol degrees of (x, y), planar. */
function ringPassesNear(ring: readonly Position[], x: number, y: number, tol: number): boolean {
  for (let i = 0; i + 1 < ring.length; i++) {
    const ax = ring[i]![0]! - x;
    const ay = ring[i]![1]! - y;
    const dx = ring[i + 1]![0]! - x - ax;
    const dy = ring[i + 1]![1]! - y - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 > 0 ? Math.min(1, Math.max(0, -(ax * dx + ay * dy) / len2)) : 0;
    const px = ax + t * dx;
    const py = ay + t * dy;
    if (px * px + py * py <= tol * tol) return true;
  }
  return false;
}

/**
 * With no crossings or touches left, a hole is inside or outside another ring as a whole, so one of its
 * positions decides.
 */
function checkHoles(rings: Position[][], p: number, where: Where): void {
  const shell: Polygon = { type: 'Polygon', coordinates: [rings[0]!] };
  for (let h = 1; h < rings.length; h++) {
    if (!booleanPointInPolygon(rings[h]![0]!, shell)) {
      fail(`${where.hole(p, h)} lies outside its shell (${where.ring(p, 0)})`, where.ringField(p, h));
    }
  }
  // Boxes first: with many holes the pairs are many, and only a box holding the other hole's position can nest it.
  const boxes = rings.map(ringBox);
  for (let a = 1; a < rings.length; a++) {
    const [x, y] = rings[a]![0]!;
    for (let b = 1; b < rings.length; b++) {
      const box = boxes[b]!;
      if (a === b || x! < box[0] || x! > box[2] || y! < box[1] || y! > box[3]) continue;
      if (booleanPointInPolygon(rings[a]![0]!, { type: 'Polygon', coordinates: [rings[b]!] })) {
        fail(`${where.hole(p, a)} lies inside ${where.hole(p, b)}; nested holes are not allowed (make the inner area a separate polygon of a MultiPolygon)`, where.ringField(p, a));
      }
    }
  }
}

function ringBox(ring: readonly Position[]): [number, number, number, number] {
  const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of ring) {
    if (x! < box[0]) box[0] = x!;
    if (y! < box[1]) box[1] = y!;
    if (x! > box[2]) box[2] = x!;
    if (y! > box[3]) box[3] = y!;
  }
  return box;
}
