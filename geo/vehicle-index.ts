// Live state of every vehicle: its latest fix and attributes, in an rbush of points for bbox and nearest queries.
// Each stored LiveVehicle is a snapshot that is replaced, never mutated, so a caller may keep what it was handed.
// Ordering of fixes (a late fix never moves the live position, CONTRACT.md) is the caller's job: upsert always moves.

import RBush from 'rbush';
import type { VehicleStatus, VehicleType } from '../ingest/model.ts';
import { nearestInTree, type KnnStats } from './knn.ts';

export interface LiveVehicle {
  id: string;
  type: VehicleType;
  status: VehicleStatus;
  lat: number;
  lon: number;
  /** epoch ms of the fix */
  ts: number;
  speedKmh: number | null;
  heading: number | null;
  accuracyM: number | null;
}

export type VehicleFilter = (v: Readonly<LiveVehicle>) => boolean;

export interface NearestOptions {
  /** how many results at most; 0 returns none; Infinity together with maxDistanceM means "all within" */
  k: number;
  /** inclusive */
  maxDistanceM?: number;
  /** applied before a vehicle counts toward k (type, status, fix age, ...) */
  filter?: VehicleFilter;
  /** filled with how much of the tree the query touched */
  stats?: KnnStats;
}

export interface NearestHit {
  vehicle: Readonly<LiveVehicle>;
  /** great-circle (haversine) metres */
  distanceM: number;
}

export type { KnnStats as NearestStats } from './knn.ts';

/** One rbush item: a point at the vehicle's fix. The object stays the same across moves; rbush removes by reference. */
interface Entry {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  v: Readonly<LiveVehicle>;
}

const entryId = (e: Entry): string => e.v.id;

export class VehicleIndex {
  private readonly tree = new RBush<Entry>();
  private readonly byId = new Map<string, Entry>();

  get size(): number {
    return this.byId.size;
  }

  /** Inserts a vehicle or moves it to its new fix; O(log n). The vehicle is copied. */
  upsert(v: LiveVehicle): void {
    checkVehicle(v);
    const snapshot: LiveVehicle = { ...v };
    const entry = this.byId.get(v.id);
    if (entry === undefined) {
      const created: Entry = { minX: v.lon, minY: v.lat, maxX: v.lon, maxY: v.lat, v: snapshot };
      this.byId.set(v.id, created);
      this.tree.insert(created);
      return;
    }
    if (entry.minX !== v.lon || entry.minY !== v.lat) {
      // rbush finds the entry by its old bbox, so remove before changing it.
      this.tree.remove(entry);
      entry.minX = entry.maxX = v.lon;
      entry.minY = entry.maxY = v.lat;
      this.tree.insert(entry);
    }
    entry.v = snapshot;
  }

  /**
   * Replaces the index's contents with these vehicles, bulk-loaded (OMT), e.g. when rebuilding live state on start.
   * A later duplicate id wins.
   */
  load(vehicles: Iterable<LiveVehicle>): void {
    // Validate everything before dropping the current contents.
    const loaded = new Map<string, Entry>();
    for (const v of vehicles) {
      checkVehicle(v);
      loaded.set(v.id, { minX: v.lon, minY: v.lat, maxX: v.lon, maxY: v.lat, v: { ...v } });
    }
    this.clear();
    for (const [id, entry] of loaded) this.byId.set(id, entry);
    this.tree.load([...loaded.values()]);
  }

  /** Changes status and/or type without touching the tree. Returns false when the vehicle has no fix yet. */
  setAttributes(id: string, patch: { status?: VehicleStatus; type?: VehicleType }): boolean {
    const entry = this.byId.get(id);
    if (entry === undefined) return false;
    const next: LiveVehicle = { ...entry.v };
    // Only defined fields: `{ status: undefined }` must not erase the status.
    if (patch.status !== undefined) next.status = patch.status;
    if (patch.type !== undefined) next.type = patch.type;
    entry.v = next;
    return true;
  }

  /** Returns false when the id was not indexed. */
  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (entry === undefined) return false;
    this.byId.delete(id);
    this.tree.remove(entry);
    return true;
  }

  clear(): void {
    this.byId.clear();
    this.tree.clear();
  }

  get(id: string): Readonly<LiveVehicle> | undefined {
    return this.byId.get(id)?.v;
  }

  *all(): IterableIterator<Readonly<LiveVehicle>> {
    for (const entry of this.byId.values()) yield entry.v;
  }

  /**
   * Vehicles inside the box (edges included), in no particular order.
   * minLon > maxLon means the box crosses the antimeridian (RFC 7946 section 5.2).
   */
  inBBox(minLon: number, minLat: number, maxLon: number, maxLat: number, filter?: VehicleFilter): Readonly<LiveVehicle>[] {
    checkBBox(minLon, minLat, maxLon, maxLat);
    const found =
      minLon <= maxLon
        ? this.tree.search({ minX: minLon, minY: minLat, maxX: maxLon, maxY: maxLat })
        : this.tree
            .search({ minX: minLon, minY: minLat, maxX: 180, maxY: maxLat })
            .concat(this.tree.search({ minX: -180, minY: minLat, maxX: maxLon, maxY: maxLat }));
    const out: Readonly<LiveVehicle>[] = [];
    for (let i = 0; i < found.length; i++) {
      const v = found[i]!.v;
      if (filter === undefined || filter(v)) out.push(v);
    }
    return out;
  }

  /**
   * The k vehicles nearest to (lat, lon) that pass the filter, nearest first, by great-circle metres; ties by id.
   * Best-first over the tree: only nodes whose distance bound can still beat the k-th result are opened.
   */
  nearest(lat: number, lon: number, opts: NearestOptions): NearestHit[] {
    const filter = opts.filter;
    const hits = nearestInTree(this.tree, lat, lon, {
      k: opts.k,
      maxDistanceM: opts.maxDistanceM,
      filter: filter === undefined ? undefined : (e: Entry) => filter(e.v),
      idOf: entryId,
      stats: opts.stats,
    });
    const out: NearestHit[] = new Array(hits.length);
    for (let i = 0; i < hits.length; i++) {
      const hit = hits[i]!;
      out[i] = { vehicle: hit.item.v, distanceM: hit.distanceM };
    }
    return out;
  }
}

function checkVehicle(v: LiveVehicle): void {
  if (typeof v.id !== 'string' || v.id === '') throw new TypeError('VehicleIndex: a vehicle needs a non-empty string id');
  if (!(v.lat >= -90 && v.lat <= 90)) {
    throw new RangeError(`VehicleIndex: vehicle ${v.id} has lat ${v.lat}; lat must be in [-90, 90] (lat/lon swapped?)`);
  }
  if (!(v.lon >= -180 && v.lon <= 180)) {
    throw new RangeError(`VehicleIndex: vehicle ${v.id} has lon ${v.lon}; lon must be in [-180, 180]`);
  }
}

function checkBBox(minLon: number, minLat: number, maxLon: number, maxLat: number): void {
  if (!(minLon >= -180 && minLon <= 180 && maxLon >= -180 && maxLon <= 180)) {
    throw new RangeError(`inBBox: longitudes must be in [-180, 180], got ${minLon}, ${maxLon}`);
  }
  if (!(minLat >= -90 && maxLat <= 90 && minLat <= maxLat)) {
    throw new RangeError(`inBBox: need -90 <= minLat <= maxLat <= 90, got ${minLat}, ${maxLat} (order is minLon,minLat,maxLon,maxLat)`);
  }
}
