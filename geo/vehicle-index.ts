// Live state of every vehicle: its latest fix and attributes, bucketed into grid cells, the cells in rbushes.
// Each stored LiveVehicle is a snapshot that is replaced, never mutated, so a caller may keep what it was handed.
// Ordering of fixes (a late fix never moves the live position, CONTRACT.md) is the caller's job: upsert always moves.
//
// Layout: vehicles are partitioned by (type, status). Within a partition they sit in grid cells of a fixed size in
// degrees, and the partition's rbush holds one item per non-empty cell (the cell's bounds), not one per vehicle.
// A move within its cell touches no tree; a move to another cell (or partition) is a swap-remove from the old cell's
// member array and a push onto the new one; a tree changes only when a cell empties (removed) or fills (inserted).
// A cell keeps its vehicles' positions in one packed array, so a query scans them without touching the vehicles: with
// each position its unit vector on the sphere, so that a scan rejects a vehicle beyond the current limit by a chord
// length (six flops) and computes the exact haversine (five transcendental calls) only for the few that may qualify.
//
// nearest() is one best-first walk over the selected partitions. Its heap holds rbush nodes, cells, grid squares (the
// selected partitions' cells there) and stand-ins for "everything outside the squares opened so far", each keyed by
// a lower bound of its distance (boxMinHav); vehicles come out of a second heap keyed by exact haversine metres once
// nothing unopened can be as near, so results are exact and in (distance, id) order. The walk starts in the query's
// grid square and widens ring by ring through the squares (hash lookups: over a city, k=5 is answered there without
// touching a tree, which matters because a tree walk from the root costs tens of cache misses per partition); where
// the rings come up empty, or after MAX_RINGS, the partitions' cell trees take over for everything outside them.

import RBush from 'rbush';
import { VEHICLE_STATUSES, VEHICLE_TYPES, type VehicleStatus, type VehicleType } from '../ingest/model.ts';
import { boxMinHav, havToM, haversineCosM, metresToHavCeil } from './distance.ts';
import { checkQuery, type KnnStats, type RBushNode } from './knn.ts';
import { MinHeap } from './heap.ts';

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
  /** only vehicles of these types: other partitions are not searched at all (an empty set matches nothing) */
  types?: ReadonlySet<VehicleType>;
  /** only vehicles in these statuses, as for types */
  statuses?: ReadonlySet<VehicleStatus>;
  /**
   * Only vehicles whose fix is at or after this epoch ms (a fix-age limit). Checked on the cell's packed data, so a
   * query reads a vehicle's record only once it is among the results: prefer it to testing `ts` in `filter`.
   */
  minTs?: number;
  /**
   * Applied before a vehicle counts toward k (fix age, accuracy, ...), after types/statuses. Called only for
   * vehicles that could still be among the results, so not necessarily for every vehicle looked at.
   */
  filter?: VehicleFilter;
  /** filled with how much of the index the query touched: rbush nodes and cells opened, vehicles looked at */
  stats?: KnnStats;
}

export interface NearestHit {
  vehicle: Readonly<LiveVehicle>;
  /** great-circle (haversine) metres */
  distanceM: number;
}

export type { KnnStats as NearestStats } from './knn.ts';

/**
 * Grid cell size in degrees (about 1.1 km of latitude). Measured with bench/geo-nearest.ts (100,000 vehicles, 90% over
 * Jakarta, so about 2,500 per (type, status) partition there; 2 shared cores, best of two runs, microseconds per call):
 *
 *   cell deg | k=5 all | k=5 status available + age filter | k=5 available ambulances (sets) | move ~200 m
 *   0.0025   |  24     | 31                                | 37                              | 9.7
 *   0.005    |  26     | 21                                | 19                              | 6.7
 *   0.01     |  24     | 16                                | 9.6                             | 3.1
 *
 * Smaller cells hold about one vehicle of a partition each, so a query opens more of them (each a few cache misses)
 * and a move more often empties one cell and fills another (an rbush remove and insert); 0.01 opens fewer, fuller
 * cells and only loses on unfiltered queries, which scan more vehicles beyond the answer.
 */
export const CELL_SIZE_DEG = 0.01;

/**
 * At most this many grid rings around the query's square are searched by hash lookups before the cell trees take
 * over; they take over sooner (from ring SPARSE_AFTER on) where fewer than 1 in SPARSE_RATIO of the squares searched
 * hold a selected cell: in sparse areas lookups mostly find nothing, and a tree skips the empty space in a few steps.
 */
const MAX_RINGS = 16;
const SPARSE_AFTER = 2;
const SPARSE_RATIO = 16;

export interface VehicleIndexOptions {
  /** grid cell size in degrees, in (0, 1]; the default is CELL_SIZE_DEG (tests and benchmarks try others) */
  cellSizeDeg?: number;
}

/** One vehicle: its snapshot, its cell and its slot in the cell's member and position arrays. */
class Entry {
  constructor(
    readonly id: string,
    public v: Readonly<LiveVehicle>,
    public cell: Cell,
    public slot: number,
  ) {}
}

/**
 * The grid: columns and rows of cellSize degrees. Edges come from edgeX/edgeY only, so neighbours share them exactly,
 * and cellX/cellY put a point in a cell whose edges (inclusive) hold it whatever the rounding of the division.
 */
class Grid {
  readonly nx: number;
  readonly ny: number;

  constructor(readonly size: number) {
    this.nx = Math.ceil(360 / size - 1e-9);
    this.ny = Math.ceil(180 / size - 1e-9);
  }

  edgeX(ix: number): number {
    return ix >= this.nx ? 180 : -180 + ix * this.size;
  }

  edgeY(iy: number): number {
    return iy >= this.ny ? 90 : -90 + iy * this.size;
  }

  cellX(lon: number): number {
    let ix = Math.floor((lon + 180) / this.size);
    if (ix > this.nx - 1) ix = this.nx - 1;
    else if (ix < 0) ix = 0;
    while (ix > 0 && lon < this.edgeX(ix)) ix--;
    while (ix < this.nx - 1 && lon > this.edgeX(ix + 1)) ix++;
    return ix;
  }

  cellY(lat: number): number {
    let iy = Math.floor((lat + 90) / this.size);
    if (iy > this.ny - 1) iy = this.ny - 1;
    else if (iy < 0) iy = 0;
    while (iy > 0 && lat < this.edgeY(iy)) iy--;
    while (iy < this.ny - 1 && lat > this.edgeY(iy + 1)) iy++;
    return iy;
  }
}

/**
 * One rbush item: a non-empty grid cell of one partition. Its bounds are computed from its column and row (no boxed
 * doubles to store or to fetch).
 */
class Cell {
  readonly members: Entry[] = [];
  /**
   * members[i]'s lat, lon, fix time (epoch ms) and unit vector (x, y, z) at STRIDE * i + LAT, LON, TS, X, Y, Z: packed
   * doubles, scanned without touching the entries
   */
  readonly coords: number[] = [];
  constructor(
    readonly ix: number,
    readonly iy: number,
    readonly grid: Grid,
    /** the grid square's cells by partition id, shared with the square's other cells */
    readonly square: Square,
    readonly key: number,
    readonly partition: Partition,
  ) {}

  get minX(): number {
    return this.grid.edgeX(this.ix);
  }

  get maxX(): number {
    return this.grid.edgeX(this.ix + 1);
  }

  get minY(): number {
    return this.grid.edgeY(this.iy);
  }

  get maxY(): number {
    return this.grid.edgeY(this.iy + 1);
  }
}

/** The vehicles of one (type, status). */
class Partition {
  readonly tree = new RBush<Cell>();
  /** non-empty cells, i.e. items in the tree */
  cellCount = 0;
  constructor(
    readonly id: number,
    readonly type: VehicleType,
    readonly status: VehicleStatus,
  ) {}
}

/** Heap stand-in for the grid squares of ring `r` (Chebyshev distance r from the query's square) and everything beyond it. */
class Ring {
  constructor(readonly r: number) {}
}

/** A grid square: its cells by partition id (undefined where a partition has no vehicle there). */
type Square = (Cell | undefined)[];

type WalkNode = RBushNode<Cell> | Cell | Square | Ring;

/** The k-th smallest of the numbers offered so far (a max-heap of the k smallest); its array is kept between queries. */
class KthSmallest {
  private readonly heap: number[] = [];
  private k = 0;
  private n = 0;

  reset(k: number): void {
    this.k = k;
    this.n = 0;
  }

  /** Infinity until k numbers were offered. */
  get value(): number {
    return this.n === this.k && this.k > 0 ? this.heap[0]! : Infinity;
  }

  /** Offers a number; true when the k-th smallest changed (or became known). */
  offer(x: number): boolean {
    const heap = this.heap;
    if (this.n < this.k) {
      let pos = this.n++;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!(x > heap[parent]!)) break;
        heap[pos] = heap[parent]!;
        pos = parent;
      }
      heap[pos] = x;
      return this.n === this.k;
    }
    if (!(x < heap[0]!)) return false;
    // Replace the largest and sift it down.
    const n = this.n;
    let pos = 0;
    while (true) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]! > heap[child]!) child++;
      if (!(heap[child]! > x)) break;
      heap[pos] = heap[child]!;
      pos = child;
    }
    heap[pos] = x;
    return true;
  }
}

/** What one nearest() call reuses; a nested call (from inside a filter) gets its own. */
class Scratch {
  /** kept between queries (reset, not rebuilt), so a query allocates nothing here once their arrays have grown */
  readonly nodes = new MinHeap<WalkNode>();
  /** equal distances in UTF-16 code unit order of the ids */
  readonly items = new MinHeap<Entry>((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  readonly kth = new KthSmallest();
  /** ids of the partitions searched */
  readonly selected: number[] = [];
}

const RAD = Math.PI / 180;

/** Layout of a cell's packed coords: one vehicle every STRIDE numbers. */
const STRIDE = 6;
const LAT = 0;
const LON = 1;
const TS = 2;
const X = 3;
const Y = 4;
const Z = 5;

/**
 * Slack added to a chord length (unit sphere) before it may reject a vehicle: well above the rounding of unit vectors
 * and of their difference (a few 1e-16 per coordinate), well below a millimetre (1e-13 of the Earth's radius is 0.6 um).
 * Vehicles that pass are measured exactly, so the slack costs only a rare extra haversine.
 */
const CHORD_SLACK = 1e-13;

/** Squared chord length on the unit sphere above which a point's haversine exceeds limitHav (with slack). */
function chordSqLimit(limitHav: number): number {
  if (!(limitHav < 1)) return Infinity;
  // chord = 2 sin(angle / 2) = 2 sqrt(hav)
  const chord = 2 * Math.sqrt(limitHav) + CHORD_SLACK;
  return chord * chord;
}

/** Writes the packed record of a vehicle at `at` (STRIDE numbers). */
function pack(coords: number[], at: number, lat: number, lon: number, ts: number): void {
  const cosLat = Math.cos(lat * RAD);
  coords[at + LAT] = lat;
  coords[at + LON] = lon;
  coords[at + TS] = ts;
  coords[at + X] = cosLat * Math.cos(lon * RAD);
  coords[at + Y] = cosLat * Math.sin(lon * RAD);
  coords[at + Z] = Math.sin(lat * RAD);
}

export class VehicleIndex {
  private readonly byId = new Map<string, Entry>();
  /** type -> status -> partition; every enum pair exists from the start, others (unchecked input) on first use */
  private readonly partitionOf = new Map<string, Map<string, Partition>>();
  private readonly partitions: Partition[] = [];
  /** non-empty grid squares by iy * nx + ix: their cells by partition id */
  private readonly squares = new Map<number, Square>();
  private readonly grid: Grid;
  private readonly rings: Ring[] = [];
  /** stands in for everything outside the rings searched: the cell trees */
  private readonly trees = new Ring(-1);
  private readonly scratch = new Scratch();
  private walking = false;

  constructor(opts: VehicleIndexOptions = {}) {
    const size = opts.cellSizeDeg ?? CELL_SIZE_DEG;
    if (!(size > 0 && size <= 1)) throw new RangeError(`VehicleIndex: cellSizeDeg must be in (0, 1], got ${size}`);
    this.grid = new Grid(size);
    for (let r = 0; r <= MAX_RINGS; r++) this.rings.push(new Ring(r));
    for (const type of VEHICLE_TYPES) for (const status of VEHICLE_STATUSES) this.partitionFor(type, status);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Inserts a vehicle or moves it to its new fix (and partition, when type or status changed); O(1) unless a cell fills or empties. The vehicle is copied. */
  upsert(v: LiveVehicle): void {
    checkVehicle(v);
    const snapshot: LiveVehicle = { ...v };
    const entry = this.byId.get(v.id);
    if (entry === undefined) {
      const created = new Entry(v.id, snapshot, undefined as unknown as Cell, -1);
      this.addTo(created, this.partitionFor(v.type, v.status), this.grid.cellX(v.lon), this.grid.cellY(v.lat), v.lat, v.lon);
      this.byId.set(v.id, created);
      return;
    }
    const old = entry.v;
    entry.v = snapshot;
    const cell = entry.cell;
    const samePartition = old.type === v.type && old.status === v.status;
    if (samePartition && v.lon >= cell.minX && v.lon <= cell.maxX && v.lat >= cell.minY && v.lat <= cell.maxY) {
      // Still inside its cell: only the packed position and fix time change.
      pack(cell.coords, STRIDE * entry.slot, v.lat, v.lon, v.ts);
      return;
    }
    const partition = samePartition ? cell.partition : this.partitionFor(v.type, v.status);
    this.takeOut(entry);
    this.addTo(entry, partition, this.grid.cellX(v.lon), this.grid.cellY(v.lat), v.lat, v.lon);
  }

  /**
   * Replaces the index's contents with these vehicles, each cell tree bulk-loaded (OMT), e.g. when rebuilding live
   * state on start. A later duplicate id wins.
   */
  load(vehicles: Iterable<LiveVehicle>): void {
    // Validate everything before dropping the current contents.
    const loaded = new Map<string, LiveVehicle>();
    for (const v of vehicles) {
      checkVehicle(v);
      loaded.set(v.id, { ...v });
    }
    this.clear();
    const created: Cell[][] = this.partitions.map(() => []);
    for (const [id, v] of loaded) {
      const entry = new Entry(id, v, undefined as unknown as Cell, -1);
      const partition = this.partitionFor(v.type, v.status);
      const cell = this.cellFor(partition, this.grid.cellX(v.lon), this.grid.cellY(v.lat));
      if (cell.members.length === 0) (created[partition.id] ??= []).push(cell);
      this.place(entry, cell, v.lat, v.lon);
      this.byId.set(id, entry);
    }
    for (const partition of this.partitions) {
      const cells = created[partition.id] ?? [];
      partition.tree.load(cells);
      partition.cellCount = cells.length;
    }
  }

  /** Changes status and/or type: the vehicle moves to its new partition (O(1) unless a cell fills or empties). Returns false when the vehicle has no fix yet. */
  setAttributes(id: string, patch: { status?: VehicleStatus; type?: VehicleType }): boolean {
    const entry = this.byId.get(id);
    if (entry === undefined) return false;
    const next: LiveVehicle = { ...entry.v };
    // Only defined fields: `{ status: undefined }` must not erase the status.
    if (patch.status !== undefined) next.status = patch.status;
    if (patch.type !== undefined) next.type = patch.type;
    entry.v = next;
    const cell = entry.cell;
    if (cell.partition.type !== next.type || cell.partition.status !== next.status) {
      const partition = this.partitionFor(next.type, next.status);
      this.takeOut(entry);
      this.addTo(entry, partition, cell.ix, cell.iy, next.lat, next.lon);
    }
    return true;
  }

  /** Returns false when the id was not indexed. */
  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (entry === undefined) return false;
    this.byId.delete(id);
    this.takeOut(entry);
    return true;
  }

  clear(): void {
    this.byId.clear();
    this.squares.clear();
    for (const partition of this.partitions) {
      partition.tree.clear();
      partition.cellCount = 0;
    }
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
    const out: Readonly<LiveVehicle>[] = [];
    const crosses = minLon > maxLon;
    for (const partition of this.partitions) {
      if (partition.cellCount === 0) continue;
      if (!crosses) {
        collect(partition.tree.search({ minX: minLon, minY: minLat, maxX: maxLon, maxY: maxLat }), minLon, minLat, maxLon, maxLat, false, filter, out);
        continue;
      }
      collect(partition.tree.search({ minX: minLon, minY: minLat, maxX: 180, maxY: maxLat }), minLon, minLat, maxLon, maxLat, true, filter, out);
      // A cell reaching minLon was found by the first search already.
      const west = partition.tree.search({ minX: -180, minY: minLat, maxX: maxLon, maxY: maxLat }).filter((c) => c.maxX < minLon);
      collect(west, minLon, minLat, maxLon, maxLat, true, filter, out);
    }
    return out;
  }

  /**
   * The k vehicles nearest to (lat, lon) that are of `types`, in `statuses` and pass the filter, nearest first, by
   * great-circle metres; ties by id. One best-first walk (see the top of this file): only what can still beat the
   * k-th result is opened, and vehicles are emitted once nothing unopened could hold one as near.
   */
  nearest(lat: number, lon: number, opts: NearestOptions): NearestHit[] {
    checkQuery(lat, lon, opts.k, opts.maxDistanceM);
    const { k, filter, stats, types, statuses } = opts;
    const minTs = opts.minTs ?? -Infinity;
    const maxDistanceM = opts.maxDistanceM ?? Infinity;
    const out: NearestHit[] = [];
    if (stats) {
      stats.nodesVisited = 0;
      stats.itemsVisited = 0;
    }
    if (k === 0 || this.byId.size === 0) return out;

    const nested = this.walking;
    const scratch = nested ? new Scratch() : this.scratch;
    const { nodes, items, kth, selected } = scratch;
    this.walking = true;
    try {
      selected.length = 0;
      const partitions = this.partitions;
      for (let p = 0; p < partitions.length; p++) {
        const partition = partitions[p]!;
        if (partition.cellCount === 0) continue;
        if (types !== undefined && !types.has(partition.type)) continue;
        if (statuses !== undefined && !statuses.has(partition.status)) continue;
        selected.push(partition.id);
      }
      if (selected.length === 0) return out;

      const sinLat = Math.sin(lat * RAD);
      const cosLat = Math.cos(lat * RAD);
      const qx = cosLat * Math.cos(lon * RAD);
      const qy = cosLat * Math.sin(lon * RAD);
      const qz = sinLat;
      // Nothing farther than limitM is kept, nothing bounded beyond limitHav opened: maxDistanceM, then, once k
      // vehicles passed the filter, the k-th of them (inclusive: one at exactly that distance may still win by id).
      const pruning = k !== Infinity;
      kth.reset(pruning ? k : 0);
      let limitM = maxDistanceM;
      let limitHav = metresToHavCeil(maxDistanceM);
      let limitChordSq = chordSqLimit(limitHav);
      const { nx, ny } = this.grid;
      const cx = this.grid.cellX(lon);
      const cy = this.grid.cellY(lat);
      // After the rings, the trees: they skip what the rings covered, and their nodes are keyed no lower than the
      // bound of everything outside the rings.
      let treeFloor = -1;
      let x0 = cx;
      let x1 = cx;
      let y0 = cy;
      let y1 = cy;
      let probed = 0;
      let found = 0;
      nodes.push(this.rings[0]!, 0);
      let nodesVisited = 0;
      let itemsVisited = 0;

      while (nodes.length > 0 && nodes.peekKey() <= limitHav) {
        const key = nodes.peekKey();
        const node = nodes.pop()!;
        const isSquare = Array.isArray(node);
        if (isSquare || (node as Partial<Cell>).coords !== undefined) {
          // A grid square (its selected partitions' cells) or one cell: scan the packed positions.
          const m = isSquare ? selected.length : 1;
          for (let j = 0; j < m; j++) {
            const cell = isSquare ? (node as Square)[selected[j]!] : (node as Cell);
            if (cell === undefined) continue;
            nodesVisited++;
            const coords = cell.coords;
            const n = coords.length;
            itemsVisited += n / STRIDE;
            for (let i = 0, slot = 0; i < n; i += STRIDE, slot++) {
              if (!(coords[i + TS]! >= minTs)) continue;
              // Beyond the limit by the chord (with slack): no need for the exact distance.
              const dx = coords[i + X]! - qx;
              const dy = coords[i + Y]! - qy;
              const dz = coords[i + Z]! - qz;
              if (dx * dx + dy * dy + dz * dz > limitChordSq) continue;
              const d = haversineCosM(lat, lon, cosLat, coords[i + LAT]!, coords[i + LON]!);
              if (!(d <= limitM)) continue;
              const entry = cell.members[slot]!;
              if (filter !== undefined && !filter(entry.v)) continue;
              items.push(entry, d);
              if (pruning && kth.offer(d) && kth.value < limitM) {
                limitM = kth.value;
                limitHav = metresToHavCeil(limitM);
                limitChordSq = chordSqLimit(limitHav);
              }
            }
          }
        } else if ((node as Partial<Ring>).r !== undefined) {
          const r = (node as Ring).r;
          if (r >= 0) {
            // Open the squares at Chebyshev distance r (clipped to the grid), then stand in for what lies beyond.
            x0 = cx - r > 0 ? cx - r : 0;
            x1 = cx + r < nx - 1 ? cx + r : nx - 1;
            y0 = cy - r > 0 ? cy - r : 0;
            y1 = cy + r < ny - 1 ? cy + r : ny - 1;
            if (cy - r >= 0) {
              for (let ix = x0; ix <= x1; ix++) found += this.pushSquare(nodes, ix, cy - r, lat, lon, sinLat, cosLat, limitHav, selected);
              probed += x1 - x0 + 1;
            }
            if (r > 0 && cy + r < ny) {
              for (let ix = x0; ix <= x1; ix++) found += this.pushSquare(nodes, ix, cy + r, lat, lon, sinLat, cosLat, limitHav, selected);
              probed += x1 - x0 + 1;
            }
            if (r > 0) {
              const from = cy - r + 1 > 0 ? cy - r + 1 : 0;
              const to = cy + r - 1 < ny - 1 ? cy + r - 1 : ny - 1;
              for (let iy = from; iy <= to; iy++) {
                if (cx - r >= 0) {
                  found += this.pushSquare(nodes, cx - r, iy, lat, lon, sinLat, cosLat, limitHav, selected);
                  probed++;
                }
                if (cx + r < nx) {
                  found += this.pushSquare(nodes, cx + r, iy, lat, lon, sinLat, cosLat, limitHav, selected);
                  probed++;
                }
              }
            }
            const beyond = this.outsideHav(lat, lon, sinLat, cosLat, x0, y0, x1, y1);
            const next = r === MAX_RINGS || (r >= SPARSE_AFTER && found * SPARSE_RATIO < probed) ? this.trees : this.rings[r + 1]!;
            if (beyond <= limitHav) nodes.push(next, beyond > key ? beyond : key);
          } else {
            // Everything outside the rings: the partitions' cell trees, keyed no lower than this ring.
            treeFloor = key;
            for (let j = 0; j < selected.length; j++) {
              const root = (partitions[selected[j]!]!.tree as unknown as { data: RBushNode<Cell> }).data;
              const bound = boxMinHav(lat, lon, sinLat, cosLat, root.minX, root.minY, root.maxX, root.maxY);
              if (bound <= limitHav) nodes.push(root, bound > treeFloor ? bound : treeFloor);
            }
          }
        } else {
          nodesVisited++;
          // A leaf's children are cells, an inner node's are nodes: both carry their bounds.
          const children = (node as RBushNode<Cell>).children as Array<RBushNode<Cell> | Cell>;
          const leaf = (node as RBushNode<Cell>).leaf;
          const minX = this.grid.edgeX(x0);
          const maxX = this.grid.edgeX(x1 + 1);
          const minY = this.grid.edgeY(y0);
          const maxY = this.grid.edgeY(y1 + 1);
          for (let i = 0; i < children.length; i++) {
            const child = children[i]!;
            if (leaf) {
              const c = child as Cell;
              if (c.ix >= x0 && c.ix <= x1 && c.iy >= y0 && c.iy <= y1) continue; // a ring opened it
            } else if (child.minX >= minX && child.maxX <= maxX && child.minY >= minY && child.maxY <= maxY) {
              continue; // all its cells are in the rings
            }
            const bound = boxMinHav(lat, lon, sinLat, cosLat, child.minX, child.minY, child.maxX, child.maxY);
            if (bound <= limitHav) nodes.push(child, bound > treeFloor ? bound : treeFloor);
          }
        }
        if (items.length === 0) continue;
        // Strictly nearer than every unopened node: a node at an equal bound could hold an equal distance with a smaller id.
        const nodeBoundM = nodes.length === 0 ? Infinity : havToM(nodes.peekKey());
        while (items.length > 0 && items.peekKey() < nodeBoundM && out.length < k) {
          const distanceM = items.peekKey();
          out.push({ vehicle: items.pop()!.v, distanceM });
        }
        if (out.length === k) break;
      }
      // What is left unopened is beyond the limit: the vehicles held come first.
      while (items.length > 0 && out.length < k) {
        const distanceM = items.peekKey();
        out.push({ vehicle: items.pop()!.v, distanceM });
      }
      if (stats) {
        stats.nodesVisited = nodesVisited;
        stats.itemsVisited = itemsVisited;
      }
      return out;
    } finally {
      nodes.reset();
      items.reset();
      this.walking = nested;
    }
  }

  /** Pushes grid square (ix, iy), keyed by its bound, when it holds a cell of a selected partition; 1 when it does. */
  private pushSquare(
    nodes: MinHeap<WalkNode>,
    ix: number,
    iy: number,
    lat: number,
    lon: number,
    sinLat: number,
    cosLat: number,
    limitHav: number,
    selected: readonly number[],
  ): number {
    const cells = this.squares.get(iy * this.grid.nx + ix);
    if (cells === undefined) return 0;
    for (let j = 0; j < selected.length; j++) {
      const id = selected[j]!;
      if (id < cells.length && cells[id] !== undefined) {
        const bound = boxMinHav(lat, lon, sinLat, cosLat, this.grid.edgeX(ix), this.grid.edgeY(iy), this.grid.edgeX(ix + 1), this.grid.edgeY(iy + 1));
        if (bound <= limitHav) nodes.push(cells, bound);
        return 1;
      }
    }
    return 0;
  }

  /**
   * A lower bound of the haversine from (lat, lon), inside squares [x0, x1] x [y0, y1], to any point outside them:
   * a great circle leaving the block crosses its boundary, so the nearest of its four sides bounds it.
   */
  private outsideHav(lat: number, lon: number, sinLat: number, cosLat: number, x0: number, y0: number, x1: number, y1: number): number {
    const west = this.grid.edgeX(x0);
    const east = this.grid.edgeX(x1 + 1);
    const south = this.grid.edgeY(y0);
    const north = this.grid.edgeY(y1 + 1);
    const w = boxMinHav(lat, lon, sinLat, cosLat, west, south, west, north);
    const e = boxMinHav(lat, lon, sinLat, cosLat, east, south, east, north);
    const s = boxMinHav(lat, lon, sinLat, cosLat, west, south, east, south);
    const n = boxMinHav(lat, lon, sinLat, cosLat, west, north, east, north);
    const we = w < e ? w : e;
    const sn = s < n ? s : n;
    return we < sn ? we : sn;
  }

  private partitionFor(type: VehicleType, status: VehicleStatus): Partition {
    let byStatus = this.partitionOf.get(type);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.partitionOf.set(type, byStatus);
    }
    let partition = byStatus.get(status);
    if (partition === undefined) {
      partition = new Partition(this.partitions.length, type, status);
      byStatus.set(status, partition);
      this.partitions.push(partition);
    }
    return partition;
  }

  /** The partition's cell at (ix, iy), created empty (and not in the tree yet) when missing. */
  private cellFor(partition: Partition, ix: number, iy: number): Cell {
    const key = iy * this.grid.nx + ix;
    let square = this.squares.get(key);
    if (square === undefined) {
      square = new Array<Cell | undefined>(this.partitions.length).fill(undefined);
      this.squares.set(key, square);
    }
    let cell = partition.id < square.length ? square[partition.id] : undefined;
    if (cell === undefined) {
      cell = new Cell(ix, iy, this.grid, square, key, partition);
      while (square.length < partition.id) square.push(undefined);
      square[partition.id] = cell;
    }
    return cell;
  }

  private place(entry: Entry, cell: Cell, lat: number, lon: number): void {
    entry.cell = cell;
    entry.slot = cell.members.length;
    cell.members.push(entry);
    pack(cell.coords, cell.coords.length, lat, lon, entry.v.ts);
  }

  /** Puts the entry into cell (ix, iy) of the partition; the cell enters the partition's tree when it was empty. */
  private addTo(entry: Entry, partition: Partition, ix: number, iy: number, lat: number, lon: number): void {
    const cell = this.cellFor(partition, ix, iy);
    if (cell.members.length === 0) {
      partition.tree.insert(cell);
      partition.cellCount++;
    }
    this.place(entry, cell, lat, lon);
  }

  /** Swap-removes the entry from its cell; a cell left empty leaves its partition's tree and its square. */
  private takeOut(entry: Entry): void {
    const cell = entry.cell;
    const members = cell.members;
    const coords = cell.coords;
    const last = members.pop()!;
    const from = coords.length - STRIDE;
    if (last !== entry) {
      const slot = entry.slot;
      members[slot] = last;
      coords.copyWithin(STRIDE * slot, from, from + STRIDE);
      last.slot = slot;
    }
    coords.length = from;
    if (members.length > 0) return;
    const partition = cell.partition;
    partition.tree.remove(cell);
    partition.cellCount--;
    const square = cell.square;
    square[partition.id] = undefined;
    for (let i = 0; i < square.length; i++) if (square[i] !== undefined) return;
    this.squares.delete(cell.key);
  }
}

/** Pushes the members of these cells that lie in the box (edges included) and pass the filter. */
function collect(
  cells: readonly Cell[],
  minLon: number,
  minLat: number,
  maxLon: number,
  maxLat: number,
  crosses: boolean,
  filter: VehicleFilter | undefined,
  out: Readonly<LiveVehicle>[],
): void {
  for (let c = 0; c < cells.length; c++) {
    const cell = cells[c]!;
    const coords = cell.coords;
    const whole = !crosses && cell.minX >= minLon && cell.maxX <= maxLon && cell.minY >= minLat && cell.maxY <= maxLat;
    for (let i = 0, slot = 0; i < coords.length; i += STRIDE, slot++) {
      const lat = coords[i + LAT]!;
      const lon = coords[i + LON]!;
      if (!whole) {
        const inLon = crosses ? lon >= minLon || lon <= maxLon : lon >= minLon && lon <= maxLon;
        if (!(inLon && lat >= minLat && lat <= maxLat)) continue;
      }
      const v = cell.members[slot]!.v;
      if (filter === undefined || filter(v)) out.push(v);
    }
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
