// Best-first k nearest neighbours by great-circle distance over an rbush of lon/lat points
// (the approach of mourner/rbush-knn and mourner/geokdbush, iterative).
// Two heaps: tree nodes keyed by a lower bound of their distance (as a haversine, which skips an asin per node),
// points keyed by their exact distance in metres (the number returned, so ties are ties in what callers see).
// A point is emitted only when no unexpanded node could still hold a point as near, so results come out
// in (distance, id) order and the walk stops after k of them.

import type RBush from 'rbush';
import type { BBox } from 'rbush';
import { boxMinHav, havToM, haversineCosM, metresToHavCeil } from './distance.ts';
import { MinHeap } from './heap.ts';

/** rbush's internal node (rbush 4 index.js `createNode`); @types/rbush does not declare `tree.data`. */
export interface RBushNode<T> extends BBox {
  children: Array<RBushNode<T> | T>;
  height: number;
  leaf: boolean;
}

/** Filled by nearestInTree when passed in: how much of the tree one query touched. */
export interface KnnStats {
  /** tree nodes whose children were examined (root included) */
  nodesVisited: number;
  /** points looked at in visited leaves (filtered out or not) */
  itemsVisited: number;
}

export interface KnnOptions<T> {
  /** how many results at most; 0 returns none; Infinity with maxDistanceM means "all within" */
  k: number;
  /** inclusive; points farther than this are never returned and nodes farther than this are never opened */
  maxDistanceM?: number;
  /** applied to points before they count toward k */
  filter?: (item: T) => boolean;
  /** breaks ties between equal distances (UTF-16 code unit order) so results are deterministic */
  idOf: (item: T) => string;
  stats?: KnnStats;
}

export interface KnnHit<T> {
  item: T;
  distanceM: number;
}

/**
 * The k items nearest to (lat, lon), nearest first, by haversine metres; ties by id.
 * Items must be points stored as { minX: lon, minY: lat, maxX: lon, maxY: lat }.
 */
export function nearestInTree<T extends BBox>(tree: RBush<T>, lat: number, lon: number, opts: KnnOptions<T>): KnnHit<T>[] {
  checkQuery(lat, lon, opts.k, opts.maxDistanceM);
  const { k, filter, idOf, stats } = opts;
  const maxDistanceM = opts.maxDistanceM ?? Infinity;
  const results: KnnHit<T>[] = [];
  if (stats) {
    stats.nodesVisited = 0;
    stats.itemsVisited = 0;
  }
  if (k === 0) return results;

  const root = (tree as unknown as { data: RBushNode<T> }).data;
  const sinLat = Math.sin((lat * Math.PI) / 180);
  const cosLat = Math.cos((lat * Math.PI) / 180);
  const maxHav = metresToHavCeil(maxDistanceM);
  const nodes = new MinHeap<RBushNode<T>>();
  const items = new MinHeap<T>((a, b) => {
    const ia = idOf(a);
    const ib = idOf(b);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
  let node: RBushNode<T> | undefined = root;

  while (node !== undefined) {
    if (stats) stats.nodesVisited++;
    const children = node.children;
    if (node.leaf) {
      if (stats) stats.itemsVisited += children.length;
      for (let i = 0; i < children.length; i++) {
        const item = children[i] as T;
        if (filter !== undefined && !filter(item)) continue;
        const d = haversineCosM(lat, lon, cosLat, item.minY, item.minX);
        if (d <= maxDistanceM) items.push(item, d);
      }
    } else {
      for (let i = 0; i < children.length; i++) {
        const child = children[i] as RBushNode<T>;
        const bound = boxMinHav(lat, lon, sinLat, cosLat, child.minX, child.minY, child.maxX, child.maxY);
        if (bound <= maxHav) nodes.push(child, bound);
      }
    }
    // Strictly nearer than every unopened node: a node at an equal bound could hold an equal distance with a smaller id.
    const nodeBoundM = nodes.length === 0 ? Infinity : havToM(nodes.peekKey());
    while (items.length > 0 && items.peekKey() < nodeBoundM) {
      const distanceM = items.peekKey();
      results.push({ item: items.pop()!, distanceM });
      if (results.length === k) return results;
    }
    node = nodes.pop();
  }
  return results;
}

/** Throws a RangeError saying what is wrong with a nearest query's point, k or distance limit. */
export function checkQuery(lat: number, lon: number, k: number, maxDistanceM: number | undefined): void {
  if (!(lat >= -90 && lat <= 90)) throw new RangeError(`nearest: lat must be a number in [-90, 90], got ${lat}`);
  if (!(lon >= -180 && lon <= 180)) throw new RangeError(`nearest: lon must be a number in [-180, 180], got ${lon}`);
  if (!(Number.isInteger(k) && k >= 0) && k !== Infinity) {
    throw new RangeError(`nearest: k must be a non-negative integer (or Infinity with maxDistanceM), got ${k}`);
  }
  if (maxDistanceM !== undefined && !(maxDistanceM >= 0)) {
    throw new RangeError(`nearest: maxDistanceM must be a number >= 0 (omit it for no limit), got ${maxDistanceM}`);
  }
}
