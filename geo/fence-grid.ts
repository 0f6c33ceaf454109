// The cell grid FenceIndex lays over each polygon's bounding box, so that most points need no point-in-polygon test.
// Each cell is one of three kinds:
// - BOUNDARY: some edge of some ring (shell or hole) touches the cell rectangle grown by CELL_MARGIN_DEG. Points
//   here are left to turf's booleanPointInPolygon.
// - INSIDE / OUTSIDE: no edge touches the grown rectangle, so no point of it lies on the boundary and all its
//   points share one answer, that of the cell's centre. The centre is decided at build time by the even-odd ray
//   test, for all cells of a row at once: each crossing of the row's centre line with an edge flips the parity of
//   the centres right of it.
//
// Why the answer of a clean cell equals turf's, boundary rule included: turf (point-in-polygon-hao) counts ray
// crossings over all rings of the polygon together and calls a point on an edge or vertex inside. A point of a clean
// cell is more than CELL_MARGIN_DEG (1e-9 degrees, 0.1 mm) from every edge, far beyond any rounding here or in turf
// (about 1e-14 degrees), so it is not on the boundary and its crossing parity is that of the whole connected,
// boundary-free grown rectangle, centre included. Holes need no special case for the same reason: parity over all
// rings. Points on a cell line, which the lookup may put in either neighbour, are inside that neighbour's grown
// rectangle too.
//
// The resolution is chosen per polygon (chooseCellGrid): cells about square in degrees, as many as it takes to bring
// the boundary cells down to BOUNDARY_SHARE of the box, within a memory budget that grows with the vertex count.
// Building costs a step per (edge, row it spans) and per 16 cells: about 0.02 ms for the benchmark's 50-vertex
// fences (1.8 KiB of grid), 0.2 ms for its 500-vertex ones (9 KiB).

import type { Position } from 'geojson';

export const CELL_OUTSIDE = 0;
export const CELL_INSIDE = 1;
export const CELL_BOUNDARY = 2;
export type CellKind = typeof CELL_OUTSIDE | typeof CELL_INSIDE | typeof CELL_BOUNDARY;

/**
 * Degrees a cell is grown by when deciding whether an edge touches it: far above the rounding of the cell arithmetic
 * and of turf's (about 1e-14 degrees), far below anything geographic (1e-9 degrees is 0.1 mm).
 */
export const CELL_MARGIN_DEG = 1e-9;

/** Aim: boundary cells cover at most this share of the box (so of the points in it, spread evenly). */
export const BOUNDARY_SHARE = 0.05;
/**
 * Memory budget of a polygon's grid: 1 KiB plus 16 bytes a vertex (a vertex costs the index about 60 bytes of
 * coordinates already), at most 16 KiB (256 x 256 cells). 4 cells a byte.
 */
export const MAX_GRID_BYTES_BASE = 1024;
export const MAX_GRID_BYTES_PER_VERTEX = 16;
export const MAX_GRID_BYTES = 16_384;
/** Fewer cells than this are not worth a smaller allocation. */
const MIN_CELLS = 64;
/** Most columns (rows) a grid has. */
export const MAX_SIDE = 1024;

/**
 * A polygon's grid: 2 bits a cell (a CellKind), 16 cells a word, row-major from (minX, minY); each row starts on a
 * word (wordsPerRow words, the last one padded), so that a row can be written a word at a time.
 */
export interface CellGrid {
  cols: number;
  rows: number;
  wordsPerRow: number;
  /** cells per degree of longitude and of latitude; 0 when the box has no extent that way (one column or row) */
  cellsPerLon: number;
  cellsPerLat: number;
  cells: Int32Array;
  /** cells of each kind, for choosing the resolution and for reports */
  inside: number;
  boundary: number;
}

/** The kind of cell (col, row). */
export function cellKind(grid: CellGrid, col: number, row: number): CellKind {
  return ((grid.cells[row * grid.wordsPerRow + (col >>> 4)]! >>> ((col & 15) << 1)) & 3) as CellKind;
}

/**
 * The kind of the cell a point of the box falls in, by FenceIndex's own arithmetic (it inlines the same): truncation
 * is floor inside the box, and the box's max edge, which maps to cols (rows), goes to the last cell.
 */
export function cellKindAt(grid: CellGrid, minX: number, minY: number, lon: number, lat: number): CellKind {
  let c = ((lon - minX) * grid.cellsPerLon) | 0;
  if (c >= grid.cols) c = grid.cols - 1;
  let r = ((lat - minY) * grid.cellsPerLat) | 0;
  if (r >= grid.rows) r = grid.rows - 1;
  return cellKind(grid, c, r);
}

/** Scratch space of buildCellGrid, reused: per row, bit c set when the parity changes between cells c - 1 and c. */
let toggles = new Int32Array(1024);
/** words of scratch space kept between builds (a rare huge grid's is dropped) */
const SCRATCH_KEEP = 1 << 14;

/** floor((v - min) * perDeg) clamped to [0, n - 1]: the lookup's own arithmetic, clamped for the margins. */
function cellOf(v: number, min: number, perDeg: number, n: number): number {
  const k = Math.floor((v - min) * perDeg);
  return k < 0 ? 0 : k >= n ? n - 1 : k;
}

/**
 * The grid of a polygon (shell and holes) over its box [minX, minY, maxX, maxY], at cols x rows cells (fewer when the
 * box is flat: a box without width gets one column, without height one row).
 */
export function buildCellGrid(rings: readonly (readonly Position[])[], box: readonly [number, number, number, number], cols: number, rows: number): CellGrid {
  const [minX, minY, maxX, maxY] = box;
  const cellsPerLon = maxX > minX ? cols / (maxX - minX) : 0;
  const cellsPerLat = maxY > minY ? rows / (maxY - minY) : 0;
  if (cellsPerLon === 0) cols = 1;
  if (cellsPerLat === 0) rows = 1;
  const h = cellsPerLat > 0 ? 1 / cellsPerLat : 0;
  const m = CELL_MARGIN_DEG;
  const wordsPerRow = (cols + 15) >>> 4;
  const words = wordsPerRow * rows;
  const cells = new Int32Array(words);
  if (toggles.length < words) toggles = new Int32Array(words);
  else toggles.fill(0, 0, words);
  let boundary = 0;

  // One pass over (edge, row band it reaches), for two things:
  // 1. Boundary cells. The part of the edge inside the band (grown by m) is a segment whose x-extent, grown by 2m,
  //    gives the columns: that marks every cell whose rectangle grown by m the edge touches (and a few more within
  //    2m, which only costs turf calls).
  // 2. The even-odd test at the clean cells' centres: where the edge crosses the row's centre line (half-open in y,
  //    as usual, so that a vertex on the line counts once or twice, never wrongly once), the parity of the crossings
  //    left of a centre changes for the cells whose centre is right of it. A crossing can be near a clean cell's
  //    centre only through an edge touching the cell, which would have made it a boundary cell; so rounding in the
  //    column arithmetic only ever meets those.
  for (const ring of rings) {
    for (let i = 0; i + 1 < ring.length; i++) {
      const ax = ring[i]![0]!;
      const ay = ring[i]![1]!;
      const bx = ring[i + 1]![0]!;
      const by = ring[i + 1]![1]!;
      const dx = bx - ax;
      const dy = by - ay;
      const yLo = ay < by ? ay : by;
      const yHi = ay < by ? by : ay;
      const r1 = cellOf(yHi + 2 * m, minY, cellsPerLat, rows);
      for (let r = cellOf(yLo - 2 * m, minY, cellsPerLat, rows); r <= r1; r++) {
        const bandLo = minY + r * h - m;
        const bandHi = minY + (r + 1) * h + m;
        if (yHi < bandLo || yLo > bandHi) continue;
        let xLo = ax < bx ? ax : bx;
        let xHi = ax < bx ? bx : ax;
        if (dy !== 0 && (yLo < bandLo || yHi > bandHi)) {
          const t0 = Math.min(1, Math.max(0, (bandLo - ay) / dy));
          const t1 = Math.min(1, Math.max(0, (bandHi - ay) / dy));
          const x0 = ax + t0 * dx;
          const x1 = ax + t1 * dx;
          xLo = x0 < x1 ? x0 : x1;
          xHi = x0 < x1 ? x1 : x0;
        }
        const row = r * wordsPerRow;
        const c1 = cellOf(xHi + 2 * m, minX, cellsPerLon, cols);
        for (let c = cellOf(xLo - 2 * m, minX, cellsPerLon, cols); c <= c1; c++) {
          const bit = 2 << ((c & 15) << 1);
          const word = row + (c >>> 4);
          if ((cells[word]! & bit) === 0) {
            cells[word]! |= bit;
            boundary++;
          }
        }
        const cy = minY + (r + 0.5) * h;
        if (ay > cy !== by > cy) {
          // the first column whose centre, minX + (c + 0.5) / cellsPerLon, is right of the crossing
          const x = ax + ((cy - ay) / dy) * dx;
          let c = Math.floor((x - minX) * cellsPerLon - 0.5) + 1;
          if (c < 0) c = 0;
          if (c < cols) toggles[row + (c >>> 4)]! ^= 1 << (c & 15);
        }
      }
    }
  }

  // 3. Per row, a word (16 cells) at a time: the running parity (prefix XOR of the toggles) puts the clean cells with
  // odd parity inside.
  let inside = 0;
  // the columns of a row's last word that exist (padding stays outside)
  const lastMask = (cols & 15) === 0 ? 0xffff : (1 << (cols & 15)) - 1;
  for (let r = 0; r < rows; r++) {
    let carry = 0;
    for (let word = r * wordsPerRow, end = word + wordsPerRow; word < end; word++) {
      let p = toggles[word]!;
      p ^= p << 1;
      p ^= p << 2;
      p ^= p << 4;
      p ^= p << 8;
      p = (p ^ carry) & 0xffff;
      carry = (p & 0x8000) !== 0 ? 0xffff : 0;
      if (word === end - 1) p &= lastMask;
      if (p === 0) continue;
      const old = cells[word]!;
      // a boundary cell has its high bit set: shifted down it masks out its own low bit
      const set = spread16(p) & ~(old >>> 1);
      cells[word] = old | set;
      inside += popcount(set);
    }
  }
  if (toggles.length > SCRATCH_KEEP) toggles = new Int32Array(1024);
  return { cols, rows, wordsPerRow, cellsPerLon, cellsPerLat, cells, inside, boundary };
}

/** Bit i of a 16-bit value to bit 2i. */
function spread16(v: number): number {
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  return (v | (v << 1)) & 0x55555555;
}

function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * Columns and rows for about `budget` cells about square in degrees over a box of width x height degrees. Columns
 * come in whole words of 16 (a row takes whole words anyway), at most MAX_SIDE either way (so that building, which
 * costs a step per row an edge spans, stays bounded for slivers).
 */
export function gridShape(width: number, height: number, budget: number): [number, number] {
  const side = (n: number): number => Math.max(1, Math.min(MAX_SIDE, n));
  if (!(width > 0)) return [1, side(budget)];
  if (!(height > 0)) return [side(16 * Math.max(1, Math.round(budget / 16))), 1];
  const cols = side(16 * Math.max(1, Math.round(Math.sqrt((budget * width) / height) / 16)));
  return [cols, side(Math.floor(budget / cols))];
}

/**
 * The grid FenceIndex keeps for a polygon. A segment crosses about |dx| / w + |dy| / h cells, so with n cells about
 * square over a W x H box the boundary cells cover about P / sqrt(n) of it, P = sum(|dx| + |dy|) / sqrt(W H) over all
 * edges (good to a few per cent until edges crowd into the same cells, and then an overestimate). So
 * n = (P / BOUNDARY_SHARE)^2, at least MIN_CELLS and within the budget of MAX_GRID_BYTES_BASE + MAX_GRID_BYTES_PER_VERTEX
 * a vertex, at most MAX_GRID_BYTES.
 */
export function chooseCellGrid(rings: readonly (readonly Position[])[], box: readonly [number, number, number, number]): CellGrid {
  const width = box[2] - box[0];
  const height = box[3] - box[1];
  let vertices = 0;
  let travel = 0;
  for (const ring of rings) {
    for (let i = 0; i + 1 < ring.length; i++) {
      travel += Math.abs(ring[i + 1]![0]! - ring[i]![0]!) + Math.abs(ring[i + 1]![1]! - ring[i]![1]!);
      vertices++;
    }
  }
  const budget = 4 * Math.min(MAX_GRID_BYTES, MAX_GRID_BYTES_BASE + MAX_GRID_BYTES_PER_VERTEX * vertices);
  const p = width > 0 && height > 0 ? travel / Math.sqrt(width * height) : 0;
  const want = Math.max(MIN_CELLS, Math.min(budget, Math.ceil((p / BOUNDARY_SHARE) ** 2)));
  const [cols, rows] = gridShape(width, height, want);
  return buildCellGrid(rings, box, cols, rows);
}

/** Bytes the grid's cells take (the Int32Array's contents). */
export function gridBytes(grid: CellGrid): number {
  return grid.cells.byteLength;
}
