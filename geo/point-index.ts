// Fixed points (cameras) in an rbush for great-circle nearest queries: the best-first walk of knn.ts
// over a plain tree of points. Items are replaced, never mutated.

import RBush from 'rbush';
import { nearestInTree, type KnnStats } from './knn.ts';

export interface Point {
  id: string;
  lat: number;
  lon: number;
}

interface Entry<T extends Point> {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  item: T;
}

export interface PointHit<T> {
  item: T;
  /** great-circle (haversine) metres */
  distanceM: number;
}

const entryId = <T extends Point>(e: Entry<T>): string => e.item.id;

export class PointIndex<T extends Point> {
  private readonly tree = new RBush<Entry<T>>();
  private readonly byId = new Map<string, Entry<T>>();

  get size(): number {
    return this.byId.size;
  }

  /** Replaces the contents, bulk-loaded (OMT); a later duplicate id wins. */
  load(items: Iterable<T>): void {
    const loaded = new Map<string, Entry<T>>();
    for (const item of items) loaded.set(item.id, entryOf(item));
    this.byId.clear();
    this.tree.clear();
    for (const [id, entry] of loaded) this.byId.set(id, entry);
    this.tree.load([...loaded.values()]);
  }

  /** Inserts or replaces the item of this id. */
  upsert(item: T): void {
    const entry = entryOf(item);
    const old = this.byId.get(item.id);
    if (old !== undefined) this.tree.remove(old);
    this.byId.set(item.id, entry);
    this.tree.insert(entry);
  }

  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (entry === undefined) return false;
    this.byId.delete(id);
    this.tree.remove(entry);
    return true;
  }

  get(id: string): T | undefined {
    return this.byId.get(id)?.item;
  }

  *all(): IterableIterator<T> {
    for (const entry of this.byId.values()) yield entry.item;
  }

  /** The k items nearest to (lat, lon), nearest first by great-circle metres, ties by id; maxDistanceM inclusive. */
  nearest(lat: number, lon: number, k: number, maxDistanceM?: number, stats?: KnnStats): PointHit<T>[] {
    return nearestInTree(this.tree, lat, lon, { k, maxDistanceM, idOf: entryId, stats }).map((h) => ({ item: h.item.item, distanceM: h.distanceM }));
  }
}

function entryOf<T extends Point>(item: T): Entry<T> {
  if (typeof item.id !== 'string' || item.id === '') throw new TypeError('PointIndex: an item needs a non-empty string id');
  if (!(item.lat >= -90 && item.lat <= 90)) throw new RangeError(`PointIndex: ${item.id} has lat ${item.lat}; lat must be in [-90, 90] (lat/lon swapped?)`);
  if (!(item.lon >= -180 && item.lon <= 180)) throw new RangeError(`PointIndex: ${item.id} has lon ${item.lon}; lon must be in [-180, 180]`);
  return { minX: item.lon, minY: item.lat, maxX: item.lon, maxY: item.lat, item };
}
