// The cell grid under FenceIndex (geo/fence-grid.ts) against turf: a cell the grid calls inside or outside must get
// that answer from turf's booleanPointInPolygon (boundary inside) at every point of it, corners and sides included,
// and every point of every edge must fall in a boundary cell. Seeded polygons at very different scales, holes that
// cut through cells, edges lying exactly on cell lines, slivers, combs.

import { describe, expect, it } from 'vitest';
import { booleanPointInPolygon } from '@turf/turf';
import type { Polygon, Position } from 'geojson';
import {
  buildCellGrid,
  cellKind,
  cellKindAt,
  CELL_BOUNDARY,
  CELL_INSIDE,
  CELL_OUTSIDE,
  chooseCellGrid,
  gridBytes,
  gridShape,
  MAX_GRID_BYTES,
  type CellGrid,
} from '../geo/fence-grid.ts';
import { seededRandom } from './helpers/seeded-random.ts';
import { circleRing, starRing, type Rand } from './helpers/polygons.ts';

type Box = [number, number, number, number];

function rect(x0: number, y0: number, x1: number, y1: number): Position[] {
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
    [x0, y0],
  ];
}

function boxOf(rings: Position[][]): Box {
  const b: Box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of rings[0]!) {
    b[0] = Math.min(b[0], x!);
    b[1] = Math.min(b[1], y!);
    b[2] = Math.max(b[2], x!);
    b[3] = Math.max(b[3], y!);
  }
  return b;
}

/** The polygons under test, each with a name; all valid (no crossings, holes inside their shell). */
function polygons(rand: Rand): Array<[string, Position[][]]> {
  const out: Array<[string, Position[][]]> = [];
  const place = (): [number, number] => [106.6 + rand() * 0.4, -6.4 + rand() * 0.3];
  for (const r of [1e-6, 1e-5, 2e-4, 0.01, 0.3, 4]) {
    const [cx, cy] = place();
    out.push([`convex r=${r}`, [starRing(rand, cx, cy, r, 12 + Math.floor(rand() * 30), 1)]]);
    out.push([`star r=${r}`, [starRing(rand, cx, cy, r, 8 + Math.floor(rand() * 60), 0.4)]]);
    out.push([`holed r=${r}`, [starRing(rand, cx, cy, r, 20, 0.5), circleRing(cx + 0.05 * r, cy - 0.05 * r, 0.25 * r, 5 + Math.floor(rand() * 20))]]);
  }
  // Far from Jakarta, where the coordinates' rounding is coarser.
  out.push(['star near the antimeridian', [starRing(rand, 179.5, 64.2, 0.4, 80, 0.3)]]);
  out.push(['star, 500 jagged vertices', [starRing(rand, 106.8, -6.2, 0.01, 500, 0.5)]]);
  // A comb: 40 teeth one cell-ish wide, so clean cells sit between long parallel edges.
  const comb: Position[] = [[106.8, -6.2]];
  for (let t = 0; t < 40; t++) {
    comb.push([106.8 + t * 0.001, -6.19]);
    comb.push([106.8 + t * 0.001 + 0.0005, -6.19]);
    comb.push([106.8 + t * 0.001 + 0.0005, -6.199]);
    comb.push([106.8 + (t + 1) * 0.001, -6.199]);
  }
  comb.push([106.84, -6.2], [106.8, -6.2]);
  out.push(['comb', [comb]]);
  // A long thin diagonal sliver (a road corridor): the box is mostly outside.
  out.push(['sliver', [[[106.7, -6.3], [106.9, -6.1], [106.9, -6.0999], [106.7, -6.2999], [106.7, -6.3]]]]);
  // Several holes, one of them tiny (inside a single cell) and one long and thin across many cells.
  out.push([
    'many holes',
    [rect(106.8, -6.2, 106.81, -6.19), circleRing(106.803, -6.197, 0.0015, 12), rect(106.8051, -6.1951, 106.80511, -6.19509), rect(106.8011, -6.1921, 106.8089, -6.1919)],
  ]);
  return out;
}

/** A square grid of dyadic coordinates over [0, 1] x [0, 1] units of 1/16, with a hole lying on cell lines. */
function alignedHoled(): { rings: Position[][]; box: Box } {
  const x0 = 106.75;
  const y0 = -6.25;
  const u = 1 / 64; // exact in binary, so cell lines of a 16 x 16 grid fall exactly on the hole's edges
  return { rings: [rect(x0, y0, x0 + 16 * u, y0 + 16 * u), rect(x0 + 4 * u, y0 + 4 * u, x0 + 8 * u, y0 + 12 * u), rect(x0 + 10 * u, y0 + 3 * u, x0 + 10.5 * u, y0 + 3.5 * u)], box: [x0, y0, x0 + 16 * u, y0 + 16 * u] };
}

function turfInside(rings: Position[][], lon: number, lat: number): boolean {
  const poly: Polygon = { type: 'Polygon', coordinates: rings };
  return booleanPointInPolygon([lon, lat], poly);
}

/**
 * Every clean cell checked at its centre, corners, side midpoints and two random points (against turf); boundary
 * cells are not checked. With `limit`, a random sample of that many cells.
 */
function checkCleanCells(rand: Rand, rings: Position[][], box: Box, grid: CellGrid, limit = Infinity): number {
  const [minX, minY] = box;
  const w = grid.cellsPerLon > 0 ? 1 / grid.cellsPerLon : 0;
  const h = grid.cellsPerLat > 0 ? 1 / grid.cellsPerLat : 0;
  const n = grid.cols * grid.rows;
  let checked = 0;
  for (let k = 0; k < Math.min(n, limit); k++) {
    const idx = n <= limit ? k : Math.floor(rand() * n);
    const c = idx % grid.cols;
    const r = Math.floor(idx / grid.cols);
    const kind = cellKind(grid, c, r);
    if (kind === CELL_BOUNDARY) continue;
    const x0 = minX + c * w;
    const y0 = minY + r * h;
    const fx = [0, 0.5, 1, rand(), rand()];
    const fy = [0, 0.5, 1, rand(), rand()];
    for (let i = 0; i < fx.length; i++) {
      for (let j = 0; j < fy.length; j++) {
        const lon = Math.min(box[2], x0 + fx[i]! * w);
        const lat = Math.min(box[3], y0 + fy[j]! * h);
        expect(turfInside(rings, lon, lat), `cell (${c}, ${r}) kind ${kind} at (${lon}, ${lat})`).toBe(kind === CELL_INSIDE);
      }
    }
    checked++;
  }
  return checked;
}

/** Vertices and points on every edge must fall in boundary cells (else a point on an edge could be answered "out"). */
function checkEdgesInBoundaryCells(rand: Rand, rings: Position[][], box: Box, grid: CellGrid): void {
  for (const ring of rings) {
    for (let i = 0; i + 1 < ring.length; i++) {
      const a = ring[i]!;
      const b = ring[i + 1]!;
      for (const t of [0, 1, rand(), rand(), 0.5]) {
        const lon = a[0]! + t * (b[0]! - a[0]!);
        const lat = a[1]! + t * (b[1]! - a[1]!);
        if (lon < box[0] || lon > box[2] || lat < box[1] || lat > box[3]) continue;
        expect(cellKindAt(grid, box[0], box[1], lon, lat), `edge point (${lon}, ${lat})`).toBe(CELL_BOUNDARY);
      }
    }
  }
}

describe('fence cell grid vs turf', () => {
  const rand = seededRandom(20260101);
  const cases = polygons(rand);

  it.each(cases)('%s: chosen grid', (_name, rings) => {
    const box = boxOf(rings);
    const grid = chooseCellGrid(rings, box);
    expect(gridBytes(grid)).toBeLessThanOrEqual(MAX_GRID_BYTES);
    expect(grid.inside + grid.boundary).toBeLessThanOrEqual(grid.cols * grid.rows);
    checkCleanCells(rand, rings, box, grid, 3000);
    checkEdgesInBoundaryCells(rand, rings, box, grid);
  });

  it.each(cases)('%s: fixed coarse, odd and fine grids', (_name, rings) => {
    const box = boxOf(rings);
    for (const [cols, rows] of [
      [1, 1],
      [7, 3],
      [37, 23],
      [256, 256],
    ] as const) {
      const grid = buildCellGrid(rings, box, cols, rows);
      checkCleanCells(rand, rings, box, grid, 600);
      checkEdgesInBoundaryCells(rand, rings, box, grid);
    }
  });

  it('a hole whose edges lie exactly on cell lines: cells on either side keep their answer', () => {
    const { rings, box } = alignedHoled();
    for (const size of [16, 32, 64, 15, 17]) {
      const grid = buildCellGrid(rings, box, size, size);
      expect(checkCleanCells(rand, rings, box, grid)).toBeGreaterThan(0);
      checkEdgesInBoundaryCells(rand, rings, box, grid);
    }
    // At 16 x 16 the hole's cells are wholly outside, the shell's interior wholly inside.
    const grid = buildCellGrid(rings, box, 16, 16);
    expect(cellKind(grid, 5, 6)).toBe(CELL_OUTSIDE);
    expect(cellKind(grid, 1, 1)).toBe(CELL_INSIDE);
    expect(cellKind(grid, 4, 6)).toBe(CELL_BOUNDARY);
    expect(cellKind(grid, 10, 3)).toBe(CELL_BOUNDARY);
  });

  it('every cell kind at 16 x 16 over a square with a square hole, computed by hand', () => {
    // Square [0, 8] x [0, 8] units of 1/1024 degree, hole [2, 4] x [2, 4]; a 16 x 16 grid has cells of half a unit, so
    // a cell is a boundary cell exactly when its closed rectangle meets a ring (its rectangle grown by 1e-9 degrees).
    const d = 1 / 1024;
    const x0 = 106.8125;
    const y0 = -6.1875;
    const rings = [rect(x0, y0, x0 + 8 * d, y0 + 8 * d), rect(x0 + 2 * d, y0 + 2 * d, x0 + 4 * d, y0 + 4 * d)];
    const grid = buildCellGrid(rings, [x0, y0, x0 + 8 * d, y0 + 8 * d], 16, 16);
    const touches = (lo: number, v: number): boolean => v === lo || v === lo - 1; // cell k spans [k/2, (k+1)/2]
    for (let r = 0; r < 16; r++) {
      for (let c = 0; c < 16; c++) {
        const onShell = c === 0 || c === 15 || r === 0 || r === 15;
        const inHoleSpan = (k: number): boolean => k >= 3 && k <= 8;
        const onHole = (inHoleSpan(c) && (touches(4, r) || touches(8, r))) || (inHoleSpan(r) && (touches(4, c) || touches(8, c)));
        const inHole = c >= 4 && c <= 7 && r >= 4 && r <= 7;
        const expected = onShell || onHole ? CELL_BOUNDARY : inHole ? CELL_OUTSIDE : CELL_INSIDE;
        expect(cellKind(grid, c, r), `cell (${c}, ${r})`).toBe(expected);
      }
    }
  });

  it('rings reaching beyond the box (not valid: holes outside or across the shell) still get turf\'s answer (even-odd over all rings)', () => {
    const rings = [rect(106.8, -6.2, 106.81, -6.19), rect(106.79, -6.198, 106.805, -6.196), rect(106.806, -6.205, 106.807, -6.185)];
    const box: Box = [106.8, -6.2, 106.81, -6.19];
    for (const [cols, rows] of [
      [16, 16],
      [64, 48],
    ] as const) {
      const grid = buildCellGrid(rings, box, cols, rows);
      expect(checkCleanCells(rand, rings, box, grid)).toBeGreaterThan(0);
    }
    // A 1 cm shell and a 20-degree bar through it, whose far ends would overflow 32-bit cell arithmetic.
    const tiny = [rect(106.8, -6.2, 106.8000001, -6.1999999), rect(106.80000004, -16.2, 106.80000006, 3.8)];
    const tinyBox: Box = [106.8, -6.2, 106.8000001, -6.1999999];
    const grid = chooseCellGrid(tiny, tinyBox);
    expect(grid.inside).toBeGreaterThan(0);
    expect(checkCleanCells(rand, tiny, tinyBox, grid)).toBeGreaterThan(0);
    checkEdgesInBoundaryCells(rand, tiny, tinyBox, grid);
  });

  it('a flat box (no width or no height) gets one column or row, all boundary', () => {
    const vertical: Position[][] = [[[106.8, -6.2], [106.8, -6.1], [106.8, -6.15], [106.8, -6.2]]];
    const g1 = buildCellGrid(vertical, boxOf(vertical), 16, 16);
    expect(g1.cols).toBe(1);
    expect(g1.boundary).toBe(g1.rows);
    const horizontal: Position[][] = [[[106.8, -6.2], [106.9, -6.2], [106.85, -6.2], [106.8, -6.2]]];
    const g2 = chooseCellGrid(horizontal, boxOf(horizontal));
    expect(g2.rows).toBe(1);
    expect(g2.boundary).toBe(g2.cols);
  });

  it('chooses finer grids for more vertices, within the memory budget, and leaves few boundary cells on plain fences', () => {
    const r2 = seededRandom(5);
    const simple = [rect(106.8, -6.2, 106.81, -6.195)];
    const g4 = chooseCellGrid(simple, boxOf(simple));
    expect(g4.boundary / (g4.cols * g4.rows)).toBeLessThan(0.08);
    const star50 = [starRing(r2, 106.8, -6.2, 0.005, 50, 0.5)];
    const star500 = [starRing(r2, 106.8, -6.2, 0.005, 500, 0.5)];
    const star5000 = [starRing(r2, 106.8, -6.2, 0.005, 5000, 0.5)];
    const g50 = chooseCellGrid(star50, boxOf(star50));
    const g500 = chooseCellGrid(star500, boxOf(star500));
    const g5000 = chooseCellGrid(star5000, boxOf(star5000));
    expect(gridBytes(g50)).toBeLessThanOrEqual(1024 + 16 * 50);
    expect(g50.boundary / (g50.cols * g50.rows)).toBeLessThan(0.15);
    expect(g500.cols * g500.rows).toBeGreaterThan(g50.cols * g50.rows);
    expect(gridBytes(g5000)).toBeLessThanOrEqual(MAX_GRID_BYTES);
  });

  it('gridShape keeps cells about square in degrees, in whole words of 16 columns', () => {
    expect(gridShape(0.02, 0.01, 4096)).toEqual([96, 42]);
    expect(gridShape(0.01, 0.01, 4096)).toEqual([64, 64]);
    expect(gridShape(1, 1e-6, 4096)).toEqual([1024, 4]);
    expect(gridShape(1e-6, 1, 4096)).toEqual([16, 256]);
    expect(gridShape(1, 0, 4096)).toEqual([1024, 1]);
    expect(gridShape(0, 1, 100)).toEqual([1, 100]);
    expect(gridShape(1, 0, 100)).toEqual([96, 1]);
  });
});
