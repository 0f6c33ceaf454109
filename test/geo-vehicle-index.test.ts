// VehicleIndex against brute force on seeded random fleets (the Tile38 way: nearest checked against a full scan).

import { describe, expect, it } from 'vitest';
import { VEHICLE_STATUSES, VEHICLE_TYPES, type VehicleStatus, type VehicleType } from '../ingest/model.ts';
import { EARTH_RADIUS_M, boxMinDistanceM, haversineM } from '../geo/distance.ts';
import { MinHeap } from '../geo/heap.ts';
import { CELL_SIZE_DEG, VehicleIndex, type LiveVehicle, type NearestOptions, type NearestStats, type VehicleFilter } from '../geo/vehicle-index.ts';
import { seededRandom } from './helpers/seeded-random.ts';

const RAD = Math.PI / 180;
type Rand = () => number;

const between = (rand: Rand, min: number, max: number): number => min + (max - min) * rand();
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function vehicle(rand: Rand, id: string, lat: number, lon: number): LiveVehicle {
  return {
    id,
    type: pick(rand, VEHICLE_TYPES),
    status: pick(rand, VEHICLE_STATUSES),
    lat,
    lon,
    ts: 1_700_000_000_000 + Math.floor(rand() * 3_600_000),
    speedKmh: rand() < 0.2 ? null : between(rand, 0, 90),
    heading: rand() < 0.2 ? null : between(rand, 0, 360),
    accuracyM: null,
  };
}

/** A random point somewhere the fleet or the queries should exercise: Jakarta mostly, and the awkward places. */
function randomPoint(rand: Rand): [lat: number, lon: number] {
  const r = rand();
  if (r < 0.7) return [between(rand, -6.4, -6.0), between(rand, 106.6, 107.1)];
  if (r < 0.8) return [Math.asin(between(rand, -1, 1)) / RAD, between(rand, -180, 180)]; // uniform on the sphere
  if (r < 0.9) return [between(rand, -70, 70), rand() < 0.5 ? between(rand, 178.5, 180) : between(rand, -180, -178.5)];
  const lat = rand() < 0.1 ? 90 : between(rand, 80, 90);
  return [rand() < 0.5 ? lat : -lat, between(rand, -180, 180)];
}

/** Jakarta-heavy fleet plus worldwide, antimeridian and polar vehicles, and some sharing a position (ties). */
function makeFleet(seed: number, n: number): LiveVehicle[] {
  const rand = seededRandom(seed);
  const fleet: LiveVehicle[] = [];
  for (let i = 0; i < n; i++) {
    const [lat, lon] = i < 5000 ? [between(rand, -6.4, -6.0), between(rand, 106.6, 107.1)] : randomPoint(rand);
    // Ids not in insertion order, so tie-breaking by id is actually tested.
    fleet.push(vehicle(rand, `v${Math.floor(rand() * 1e9).toString(36)}-${i}`, lat, lon));
  }
  for (let i = 0; i < n / 50; i++) {
    const twin = pick(rand, fleet);
    fleet.push(vehicle(rand, `dup${i}`, twin.lat, twin.lon));
  }
  return fleet;
}

function bruteNearest(
  fleet: Iterable<Readonly<LiveVehicle>>,
  lat: number,
  lon: number,
  k: number,
  maxDistanceM = Infinity,
  filter?: VehicleFilter,
): Array<{ id: string; distanceM: number }> {
  const all: Array<{ id: string; distanceM: number }> = [];
  for (const v of fleet) {
    if (filter && !filter(v)) continue;
    const distanceM = haversineM(lat, lon, v.lat, v.lon);
    if (distanceM <= maxDistanceM) all.push({ id: v.id, distanceM });
  }
  all.sort((a, b) => a.distanceM - b.distanceM || byId(a.id, b.id));
  return all.slice(0, k);
}

function expectSameAsBrute(index: VehicleIndex, fleet: readonly Readonly<LiveVehicle>[], rand: Rand, queries: number): void {
  const filters: Array<VehicleFilter | undefined> = [
    undefined,
    (v) => v.status === 'available',
    (v) => v.type === 'ambulance' && v.status === 'available',
    undefined, // replaced by a type filter drawn per query
    (v) => v.id.length % 2 === 0,
  ];
  for (let q = 0; q < queries; q++) {
    // Some queries sit exactly on a vehicle (several, for the duplicated positions): distance 0, ties by id.
    const on = rand() < 0.1 ? pick(rand, fleet) : undefined;
    const [lat, lon] = on ? [on.lat, on.lon] : randomPoint(rand);
    const k = 1 + Math.floor(rand() * 20);
    const maxDistanceM = rand() < 0.4 ? undefined : Math.exp(between(rand, Math.log(100), Math.log(5e6)));
    const type = pick(rand, VEHICLE_TYPES);
    const filterIndex = Math.floor(rand() * filters.length);
    const filter: VehicleFilter | undefined = filterIndex === 3 ? (v) => v.type === type : filters[filterIndex];

    const got = index.nearest(lat, lon, { k, maxDistanceM, filter });
    const want = bruteNearest(fleet, lat, lon, k, maxDistanceM, filter);
    const context = `query ${q} at ${lat},${lon} k=${k} max=${maxDistanceM} filter=${filterIndex}`;
    expect(got.map((h) => h.vehicle.id), context).toEqual(want.map((h) => h.id));
    for (let i = 0; i < got.length; i++) {
      expect(Math.abs(got[i]!.distanceM - want[i]!.distanceM), context).toBeLessThanOrEqual(1e-6);
    }
  }
}

function bruteBBox(fleet: Iterable<Readonly<LiveVehicle>>, minLon: number, minLat: number, maxLon: number, maxLat: number): string[] {
  const ids: string[] = [];
  for (const v of fleet) {
    const inLon = minLon <= maxLon ? v.lon >= minLon && v.lon <= maxLon : v.lon >= minLon || v.lon <= maxLon;
    if (inLon && v.lat >= minLat && v.lat <= maxLat) ids.push(v.id);
  }
  return ids.sort(byId);
}

function randomBBox(rand: Rand): [number, number, number, number] {
  const r = rand();
  if (r < 0.6) {
    const minLon = between(rand, 106.5, 107.1);
    const minLat = between(rand, -6.5, -6.0);
    return [minLon, minLat, Math.min(180, minLon + between(rand, 0, 0.3)), Math.min(90, minLat + between(rand, 0, 0.3))];
  }
  if (r < 0.8) return [between(rand, 170, 180), between(rand, -70, 0), between(rand, -180, -170), between(rand, 0, 70)]; // crosses 180
  const a = between(rand, -180, 180);
  const b = between(rand, -180, 180);
  const c = between(rand, -90, 90);
  const d = between(rand, -90, 90);
  return [Math.min(a, b), Math.min(c, d), Math.max(a, b), Math.max(c, d)];
}

describe('haversineM', () => {
  it('matches known arcs on the sphere of radius 6371008.8 m', () => {
    expect(EARTH_RADIUS_M).toBe(6371008.8);
    expect(haversineM(0, 0, 1, 0)).toBeCloseTo((Math.PI / 180) * EARTH_RADIUS_M, 6);
    expect(haversineM(0, 0, 0, 90)).toBeCloseTo((Math.PI / 2) * EARTH_RADIUS_M, 6);
    expect(haversineM(0, 0, 0, 180)).toBeCloseTo(Math.PI * EARTH_RADIUS_M, 6);
    expect(haversineM(90, 0, -90, 0)).toBeCloseTo(Math.PI * EARTH_RADIUS_M, 6);
    expect(haversineM(-6.2, 179.9, -6.2, -179.9)).toBeCloseTo(haversineM(-6.2, 0, -6.2, 0.2), 6);
    expect(haversineM(-6.175392, 106.827153, -6.175392, 106.827153)).toBe(0);
    // Monas to the Katulampa weir in Bogor, about 51 km due south.
    expect(haversineM(-6.175392, 106.827153, -6.633, 106.837)).toBeGreaterThan(50_000);
    expect(haversineM(-6.175392, 106.827153, -6.633, 106.837)).toBeLessThan(52_000);
  });

  it('agrees with the well-conditioned Vincenty sphere formula within 1e-6 m', () => {
    const rand = seededRandom(7);
    for (let i = 0; i < 20_000; i++) {
      const [lat1, lon1] = randomPoint(rand);
      const [lat2, lon2] = randomPoint(rand);
      const p1 = lat1 * RAD;
      const p2 = lat2 * RAD;
      const dl = (lon2 - lon1) * RAD;
      const y = Math.hypot(Math.cos(p2) * Math.sin(dl), Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl));
      const x = Math.sin(p1) * Math.sin(p2) + Math.cos(p1) * Math.cos(p2) * Math.cos(dl);
      const vincenty = EARTH_RADIUS_M * Math.atan2(y, x);
      // asin loses precision next to the antipode; the engine never dispatches across the planet.
      if (vincenty < 19_000_000) expect(Math.abs(haversineM(lat1, lon1, lat2, lon2) - vincenty)).toBeLessThan(1e-6);
    }
  });
});

describe('boxMinDistanceM', () => {
  it('is below the distance to every point of the box, and close to the nearest one', () => {
    const rand = seededRandom(11);
    const steps = 400;
    let violation = '';
    for (let b = 0; b < 600; b++) {
      const lonSpan = rand() < 0.3 ? between(rand, 0, 1) : between(rand, 0, 120);
      const latSpan = rand() < 0.3 ? between(rand, 0, 1) : between(rand, 0, 60);
      const minLon = between(rand, -180, 180 - lonSpan);
      const minLat = between(rand, -90, 90 - latSpan);
      const maxLon = minLon + lonSpan;
      const maxLat = minLat + latSpan;
      for (let q = 0; q < 10; q++) {
        const [lat, lon] = rand() < 0.5 ? randomPoint(rand) : [between(rand, -90, 90), between(rand, -180, 180)];
        const bound = boxMinDistanceM(lat, lon, Math.cos(lat * RAD), minLon, minLat, maxLon, maxLat);
        let nearest = Infinity;
        const sample = (pLat: number, pLon: number): void => {
          const d = haversineM(lat, lon, pLat, pLon);
          // expect() per sample is too slow for millions of samples: record the first violation only.
          if (bound > d && violation === '') violation = `box ${minLon},${minLat},${maxLon},${maxLat} query ${lat},${lon} point ${pLat},${pLon}`;
          nearest = Math.min(nearest, d);
        };
        for (let s = 0; s <= steps; s++) {
          const t = s / steps;
          sample(minLat + t * latSpan, minLon);
          sample(minLat + t * latSpan, maxLon);
          sample(minLat, minLon + t * lonSpan);
          sample(maxLat, minLon + t * lonSpan);
          sample(between(rand, minLat, maxLat), between(rand, minLon, maxLon));
        }
        const inside = lat >= minLat && lat <= maxLat && lon >= minLon && lon <= maxLon;
        // Edges sampled every step: the true minimum is within one step of the sampled one.
        const stepM = (Math.max(lonSpan, latSpan) / steps) * RAD * EARTH_RADIUS_M;
        if (inside) expect(bound).toBe(0);
        else expect(bound).toBeGreaterThanOrEqual(nearest - stepM - 1e-6);
      }
    }
    expect(violation).toBe('');
  });

  it('finds the vertex of the nearer meridian, not the clamped corner, at high latitude', () => {
    // West of a box at 60N: the great circle to the 40E meridian is shortest at its vertex near 66N.
    const bound = boxMinDistanceM(60, 0, Math.cos(60 * RAD), 40, 50, 50, 70);
    const clamped = haversineM(60, 0, 60, 40);
    const vertexLat = Math.atan(Math.tan(60 * RAD) / Math.cos(40 * RAD)) / RAD;
    expect(vertexLat).toBeGreaterThan(66);
    expect(bound).toBeLessThan(clamped - 10_000);
    expect(bound).toBeCloseTo(haversineM(60, 0, vertexLat, 40), 0);
  });

  it('measures across the antimeridian the short way', () => {
    const bound = boxMinDistanceM(0, 179.5, 1, -180, -1, -179, 1);
    expect(bound).toBeCloseTo(haversineM(0, 179.5, 0, 180), 0);
  });
});

describe('MinHeap', () => {
  it('pops in key order, ties by the tie-breaker', () => {
    const rand = seededRandom(3);
    const heap = new MinHeap<string>(byId);
    const pushed: Array<[string, number]> = [];
    for (let i = 0; i < 2000; i++) {
      const key = Math.floor(rand() * 100);
      const value = `x${Math.floor(rand() * 1e6)}`;
      heap.push(value, key);
      pushed.push([value, key]);
    }
    pushed.sort((a, b) => a[1] - b[1] || byId(a[0], b[0]));
    const popped: Array<[string, number]> = [];
    while (heap.length > 0) {
      const key = heap.peekKey();
      popped.push([heap.pop()!, key]);
    }
    expect(popped).toEqual(pushed);
    expect(heap.pop()).toBeUndefined();
  });
});

describe('VehicleIndex.nearest', () => {
  const fleet = makeFleet(42, 6000);
  const index = new VehicleIndex();
  for (const v of fleet) index.upsert(v);

  it('holds every vehicle', () => {
    expect(index.size).toBe(fleet.length);
    expect([...index.all()].map((v) => v.id).sort(byId)).toEqual(fleet.map((v) => v.id).sort(byId));
  });

  it('equals brute force for random points, k, distance limits and filters', () => {
    expectSameAsBrute(index, fleet, seededRandom(1), 1500);
  });

  it('returns everything within maxDistanceM when k is Infinity, and includes the limit itself', () => {
    const rand = seededRandom(5);
    for (let q = 0; q < 50; q++) {
      const [lat, lon] = randomPoint(rand);
      const maxDistanceM = between(rand, 100, 20_000);
      const got = index.nearest(lat, lon, { k: Infinity, maxDistanceM });
      expect(got.map((h) => h.vehicle.id)).toEqual(bruteNearest(fleet, lat, lon, Infinity, maxDistanceM).map((h) => h.id));
    }
    const v = fleet[17]!;
    const d = haversineM(-6.2, 106.8, v.lat, v.lon);
    const atLimit = index.nearest(-6.2, 106.8, { k: 10, maxDistanceM: d, filter: (x) => x.id === v.id });
    expect(atLimit.map((h) => h.vehicle.id)).toEqual([v.id]);
  });

  it('breaks ties by id and finds a vehicle at distance 0', () => {
    const local = new VehicleIndex();
    const rand = seededRandom(9);
    for (const id of ['m', 'c', 'x', 'a', 'k']) local.upsert(vehicle(rand, id, -6.2, 106.8));
    local.upsert(vehicle(rand, 'far', -6.3, 106.8));
    expect(local.nearest(-6.2, 106.8, { k: 6 }).map((h) => [h.vehicle.id, h.distanceM])).toEqual([
      ['a', 0],
      ['c', 0],
      ['k', 0],
      ['m', 0],
      ['x', 0],
      ['far', haversineM(-6.2, 106.8, -6.3, 106.8)],
    ]);
    expect(local.nearest(-6.24, 106.8, { k: 3 }).map((h) => h.vehicle.id)).toEqual(['a', 'c', 'k']);
  });

  it('orders ties by id even when they are spread over many tree nodes', () => {
    const rand = seededRandom(10);
    const local = new VehicleIndex();
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const [lat, lon] = randomPoint(rand);
      local.upsert(vehicle(rand, `other${i}`, lat, lon));
      // 200 vehicles on one spot, inserted in random id order, so they fill many leaves.
      if (i < 200) {
        const id = `same${Math.floor(rand() * 1e9).toString(36)}`;
        ids.push(id);
        local.upsert(vehicle(rand, id, -6.2, 106.8));
      }
    }
    ids.sort(byId);
    expect(local.nearest(-6.2, 106.8, { k: 200 }).map((h) => h.vehicle.id)).toEqual(ids);
    expect(local.nearest(-6.2, 106.8, { k: 7 }).map((h) => h.vehicle.id)).toEqual(ids.slice(0, 7));
    expect(local.nearest(-6.21, 106.8, { k: 7 }).map((h) => h.vehicle.id)).toEqual(ids.slice(0, 7));
  });

  it('visits a small part of the fleet for k=5, even with a selective filter', () => {
    const stats: NearestStats = { nodesVisited: 0, itemsVisited: 0 };
    const rand = seededRandom(21);
    let worstItems = 0;
    let worstFiltered = 0;
    for (let q = 0; q < 200; q++) {
      const [lat, lon] = [between(rand, -6.4, -6.0), between(rand, 106.6, 107.1)];
      index.nearest(lat, lon, { k: 5, stats });
      worstItems = Math.max(worstItems, stats.itemsVisited);
      index.nearest(lat, lon, { k: 5, stats, filter: (v) => v.type === 'ambulance' && v.status === 'available' });
      worstFiltered = Math.max(worstFiltered, stats.itemsVisited);
    }
    expect(stats.nodesVisited).toBeGreaterThan(0);
    expect(worstItems).toBeLessThan(fleet.length / 20);
    // About 1 in 18 vehicles passes: roughly 18 times as many must be looked at, still far from all.
    expect(worstFiltered).toBeLessThan(fleet.length / 4);
  });

  it('answers an empty index, k=0 and a filter nobody passes', () => {
    expect(new VehicleIndex().nearest(0, 0, { k: 5 })).toEqual([]);
    expect(index.nearest(-6.2, 106.8, { k: 0 })).toEqual([]);
    expect(index.nearest(-6.2, 106.8, { k: 5, filter: () => false })).toEqual([]);
    expect(index.nearest(-6.2, 106.8, { k: 5, maxDistanceM: 0, filter: (v) => v.id === 'nobody' })).toEqual([]);
  });

  it('rejects misuse with a message that says what is wrong', () => {
    expect(() => index.nearest(-6.2, 106.8, { k: -1 })).toThrow(/k must be a non-negative integer/);
    expect(() => index.nearest(-6.2, 106.8, { k: 1.5 })).toThrow(RangeError);
    expect(() => index.nearest(106.8, -6.2, { k: 1 })).toThrow(/lat must be/);
    expect(() => index.nearest(-6.2, 200, { k: 1 })).toThrow(/lon must be/);
    expect(() => index.nearest(-6.2, 106.8, { k: 1, maxDistanceM: -5 })).toThrow(/maxDistanceM/);
    expect(() => index.nearest(Number.NaN, 106.8, { k: 1 })).toThrow(RangeError);
  });
});

describe('VehicleIndex updates', () => {
  it('stays exact through random moves, inserts, removals and attribute changes', () => {
    const rand = seededRandom(77);
    const index = new VehicleIndex();
    const model = new Map<string, LiveVehicle>();
    for (const v of makeFleet(78, 3000)) {
      index.upsert(v);
      model.set(v.id, { ...v });
    }
    let nextId = 0;
    for (let round = 0; round < 10; round++) {
      for (let op = 0; op < 1500; op++) {
        const ids = [...model.keys()];
        const r = rand();
        if (r < 0.6) {
          // A move: usually a short hop, sometimes across the world, sometimes no move at all.
          const old = model.get(pick(rand, ids))!;
          const hop = rand();
          const [lat, lon] =
            hop < 0.7
              ? [Math.max(-90, Math.min(90, old.lat + between(rand, -0.01, 0.01))), Math.max(-180, Math.min(180, old.lon + between(rand, -0.01, 0.01)))]
              : hop < 0.9
                ? randomPoint(rand)
                : [old.lat, old.lon];
          const moved = { ...old, lat, lon, ts: old.ts + 1000, speedKmh: between(rand, 0, 60) };
          index.upsert(moved);
          model.set(moved.id, moved);
        } else if (r < 0.75) {
          const [lat, lon] = randomPoint(rand);
          const added = vehicle(rand, `new${nextId++}`, lat, lon);
          index.upsert(added);
          model.set(added.id, added);
        } else if (r < 0.85) {
          const id = pick(rand, ids);
          expect(index.remove(id)).toBe(true);
          model.delete(id);
        } else {
          const id = pick(rand, ids);
          const patch = rand() < 0.5 ? { status: pick(rand, VEHICLE_STATUSES) } : { type: pick(rand, VEHICLE_TYPES), status: undefined };
          expect(index.setAttributes(id, patch)).toBe(true);
          const prev = model.get(id)!;
          model.set(id, { ...prev, ...(patch.status ? { status: patch.status } : {}), ...(patch.type ? { type: patch.type } : {}) });
        }
      }
      expect(index.size).toBe(model.size);
      for (const [id, v] of model) expect(index.get(id)).toEqual(v);
      expect(index.inBBox(-180, -90, 180, 90).length).toBe(model.size);
      const current = [...model.values()];
      expectSameAsBrute(index, current, rand, 100);
      for (let b = 0; b < 30; b++) {
        const box = randomBBox(rand);
        expect(index.inBBox(...box).map((v) => v.id).sort(byId), `box ${box}`).toEqual(bruteBBox(current, ...box));
      }
    }
  });

  it('keeps snapshots: neither the caller’s object nor an earlier get() changes with later updates', () => {
    const rand = seededRandom(4);
    const index = new VehicleIndex();
    const input = vehicle(rand, 'amb-1', -6.2, 106.8);
    input.status = 'available';
    index.upsert(input);
    input.lat = 10; // the caller's object is not the index's
    const before = index.get('amb-1')!;
    expect(before.lat).toBe(-6.2);
    index.setAttributes('amb-1', { status: 'busy' });
    index.upsert({ ...input, lat: -6.3 });
    expect(before.status).toBe('available');
    expect(before.lat).toBe(-6.2);
    expect(index.get('amb-1')).toMatchObject({ lat: -6.3, status: 'available' });
  });

  it('changes attributes without losing the rest, and reports unknown ids', () => {
    const rand = seededRandom(6);
    const index = new VehicleIndex();
    index.upsert({ ...vehicle(rand, 'f1', -6.2, 106.8), type: 'fire_truck', status: 'available' });
    expect(index.setAttributes('f1', { status: undefined, type: undefined })).toBe(true);
    expect(index.get('f1')).toMatchObject({ type: 'fire_truck', status: 'available', lat: -6.2, lon: 106.8 });
    index.setAttributes('f1', { status: 'busy' });
    expect(index.nearest(-6.2, 106.8, { k: 1, filter: (v) => v.status === 'available' })).toEqual([]);
    expect(index.nearest(-6.2, 106.8, { k: 1, filter: (v) => v.status === 'busy' })[0]?.vehicle.id).toBe('f1');
    expect(index.setAttributes('ghost', { status: 'busy' })).toBe(false);
    expect(index.remove('ghost')).toBe(false);
    expect(index.remove('f1')).toBe(true);
    expect(index.get('f1')).toBeUndefined();
    expect(index.size).toBe(0);
    expect(index.nearest(-6.2, 106.8, { k: 1 })).toEqual([]);
  });

  it('rejects positions out of range and keeps the old state', () => {
    const rand = seededRandom(8);
    const index = new VehicleIndex();
    const v = vehicle(rand, 'p1', -6.2, 106.8);
    index.upsert(v);
    expect(() => index.upsert({ ...v, lat: 106.8, lon: -6.2 })).toThrow(/lat\/lon swapped/);
    expect(() => index.upsert({ ...v, lon: 181 })).toThrow(RangeError);
    expect(() => index.upsert({ ...v, lat: Number.NaN })).toThrow(RangeError);
    expect(() => index.upsert({ ...v, id: '' })).toThrow(TypeError);
    expect(index.get('p1')?.lat).toBe(-6.2);
    expect(() => index.inBBox(0, 10, 1, 5)).toThrow(/minLat <= maxLat/);
    expect(() => index.inBBox(0, 0, 200, 5)).toThrow(/longitudes/);
  });

  it('bulk load answers like one-by-one upserts, and a bad vehicle leaves the contents alone', () => {
    const fleet = makeFleet(31, 5500);
    const loaded = new VehicleIndex();
    loaded.load(fleet);
    expect(loaded.size).toBe(fleet.length);
    expectSameAsBrute(loaded, fleet, seededRandom(32), 300);
    const rand = seededRandom(33);
    for (let b = 0; b < 50; b++) {
      const box = randomBBox(rand);
      expect(loaded.inBBox(...box).map((v) => v.id).sort(byId)).toEqual(bruteBBox(fleet, ...box));
    }
    expect(() => loaded.load([{ ...fleet[0]!, id: 'bad', lat: 91 }])).toThrow(RangeError);
    expect(loaded.size).toBe(fleet.length);
    // Moves after a bulk load still find and remove the old entry.
    loaded.upsert({ ...fleet[0]!, lat: 0, lon: 0 });
    expect(loaded.inBBox(-1, -1, 1, 1).map((v) => v.id)).toContain(fleet[0]!.id);
    expect(loaded.inBBox(-180, -90, 180, 90).length).toBe(fleet.length);
  });
});

describe('VehicleIndex.inBBox', () => {
  it('equals brute force, including boxes across the antimeridian, with a filter', () => {
    const fleet = makeFleet(55, 6000);
    const index = new VehicleIndex();
    for (const v of fleet) index.upsert(v);
    const rand = seededRandom(56);
    for (let b = 0; b < 300; b++) {
      const box = randomBBox(rand);
      expect(index.inBBox(...box).map((v) => v.id).sort(byId), `box ${box}`).toEqual(bruteBBox(fleet, ...box));
      const available = index.inBBox(...box, (v) => v.status === 'available');
      const want = bruteBBox(
        fleet.filter((v) => v.status === 'available'),
        ...box,
      );
      expect(available.map((v) => v.id).sort(byId)).toEqual(want);
    }
  });
});

/** A random non-empty subset, or undefined (no restriction) a third of the time. */
function randomSubset<T>(rand: Rand, all: readonly T[]): ReadonlySet<T> | undefined {
  if (rand() < 0.33) return undefined;
  const chosen = all.filter(() => rand() < 0.35);
  return new Set(chosen.length > 0 ? chosen : [pick(rand, all)]);
}

/** nearest with these options against brute force over the fleet (sets and filter applied by the brute force too). */
function expectNearestLikeBrute(
  index: VehicleIndex,
  fleet: Iterable<Readonly<LiveVehicle>>,
  lat: number,
  lon: number,
  opts: NearestOptions,
  context: string,
): void {
  const { types, statuses, filter, minTs } = opts;
  const keep: VehicleFilter = (v) =>
    (!types || types.has(v.type)) && (!statuses || statuses.has(v.status)) && (minTs === undefined || v.ts >= minTs) && (!filter || filter(v));
  const got = index.nearest(lat, lon, opts);
  const want = bruteNearest(fleet, lat, lon, opts.k, opts.maxDistanceM, keep);
  expect(got.map((h) => h.vehicle.id), context).toEqual(want.map((h) => h.id));
  for (let i = 0; i < got.length; i++) expect(got[i]!.distanceM, context).toBe(want[i]!.distanceM);
}

/** Random queries with k in {1, 5, 50, Infinity within a distance}, partition sets and filters. */
function expectPartitionQueriesLikeBrute(index: VehicleIndex, fleet: readonly Readonly<LiveVehicle>[], rand: Rand, queries: number): void {
  const filters: Array<VehicleFilter | undefined> = [undefined, undefined, (v) => v.ts % 3 !== 0, (v) => v.id.length % 2 === 0, (v) => v.speedKmh === null];
  for (let q = 0; q < queries; q++) {
    const on = rand() < 0.15 ? pick(rand, fleet) : undefined;
    const [lat, lon] = on ? [on.lat, on.lon] : randomPoint(rand);
    const kind = Math.floor(rand() * 4);
    const k = [1, 5, 50, Infinity][kind]!;
    const maxDistanceM =
      k === Infinity ? Math.exp(between(rand, Math.log(50), Math.log(30_000))) : rand() < 0.5 ? undefined : Math.exp(between(rand, Math.log(100), Math.log(5e6)));
    const opts: NearestOptions = { k, maxDistanceM, types: randomSubset(rand, VEHICLE_TYPES), statuses: randomSubset(rand, VEHICLE_STATUSES), filter: pick(rand, filters) };
    // a fix-age limit at a random vehicle's fix time: some pass, some do not, one exactly at it
    if (rand() < 0.4) opts.minTs = pick(rand, fleet).ts;
    const context = `query ${q} at ${lat},${lon} k=${k} max=${maxDistanceM} types=${opts.types ? [...opts.types] : '*'} statuses=${opts.statuses ? [...opts.statuses] : '*'}`;
    expectNearestLikeBrute(index, fleet, lat, lon, opts, context);
  }
}

describe('VehicleIndex partitions (types, statuses) and grid cells', () => {
  it('uses a documented default cell size', () => {
    expect([0.0025, 0.005, 0.01]).toContain(CELL_SIZE_DEG);
  });

  for (const cellSizeDeg of [CELL_SIZE_DEG, 0.0025, 0.007, 1]) {
    it(`equals brute force with types/statuses sets, filters and k in {1, 5, 50, Infinity} (cells of ${cellSizeDeg} degrees)`, () => {
      const fleet = makeFleet(100 + Math.round(cellSizeDeg * 1e4), 4000);
      const index = new VehicleIndex({ cellSizeDeg });
      for (const v of fleet) index.upsert(v);
      expectPartitionQueriesLikeBrute(index, fleet, seededRandom(101), 400);
    });
  }

  it('stays exact through moves across cells and partitions, removals, attribute changes and a reload', () => {
    const rand = seededRandom(120);
    const index = new VehicleIndex();
    const model = new Map<string, LiveVehicle>();
    for (const v of makeFleet(121, 2500)) {
      index.upsert(v);
      model.set(v.id, { ...v });
    }
    let nextId = 0;
    for (let round = 0; round < 6; round++) {
      for (let op = 0; op < 2000; op++) {
        const ids = [...model.keys()];
        const r = rand();
        if (r < 0.55) {
          // Mostly hops of a cell or two (often across an edge), sometimes with a new type or status too.
          const old = model.get(pick(rand, ids))!;
          const step = CELL_SIZE_DEG * between(rand, -2, 2);
          const [lat, lon] =
            rand() < 0.85
              ? [Math.max(-90, Math.min(90, old.lat + step)), Math.max(-180, Math.min(180, old.lon + CELL_SIZE_DEG * between(rand, -2, 2)))]
              : randomPoint(rand);
          const moved: LiveVehicle = { ...old, lat, lon, ts: old.ts + 1000 };
          if (rand() < 0.2) moved.status = pick(rand, VEHICLE_STATUSES);
          if (rand() < 0.1) moved.type = pick(rand, VEHICLE_TYPES);
          index.upsert(moved);
          model.set(moved.id, moved);
        } else if (r < 0.65) {
          const [lat, lon] = randomPoint(rand);
          const added = vehicle(rand, `n${nextId++}`, lat, lon);
          index.upsert(added);
          model.set(added.id, added);
        } else if (r < 0.75) {
          const id = pick(rand, ids);
          expect(index.remove(id)).toBe(true);
          model.delete(id);
        } else {
          const id = pick(rand, ids);
          const patch: { status?: VehicleStatus; type?: VehicleType } = {};
          if (rand() < 0.7) patch.status = pick(rand, VEHICLE_STATUSES);
          if (rand() < 0.4) patch.type = pick(rand, VEHICLE_TYPES);
          expect(index.setAttributes(id, patch)).toBe(true);
          model.set(id, { ...model.get(id)!, ...patch });
        }
      }
      expect(index.size).toBe(model.size);
      for (const [id, v] of model) expect(index.get(id)).toEqual(v);
      const current = [...model.values()];
      expectPartitionQueriesLikeBrute(index, current, rand, 120);
      for (let b = 0; b < 30; b++) {
        const box = randomBBox(rand);
        expect(index.inBBox(...box).map((v) => v.id).sort(byId), `box ${box}`).toEqual(bruteBBox(current, ...box));
      }
      if (round === 3) {
        // A reload keeps answering the same, and moves after it still find their cells.
        index.load(current);
        expectPartitionQueriesLikeBrute(index, current, rand, 60);
      }
    }
  });

  it('orders exact ties by id across partitions and cells, with and without sets', () => {
    const rand = seededRandom(130);
    const index = new VehicleIndex();
    const fleet: LiveVehicle[] = [];
    // 120 vehicles on one spot (a cell corner) and 120 on another (inside a cell), in every partition, in random id order.
    const corner = [-6.2, 106.8];
    const inside = [-6.2 + CELL_SIZE_DEG / 3, 106.8 + CELL_SIZE_DEG / 3];
    for (let i = 0; i < 240; i++) {
      const [lat, lon] = i % 2 === 0 ? corner : inside;
      const v = { ...vehicle(rand, `t${Math.floor(rand() * 1e9).toString(36)}${i}`, lat!, lon!), type: VEHICLE_TYPES[i % VEHICLE_TYPES.length]!, status: VEHICLE_STATUSES[(i >> 1) % VEHICLE_STATUSES.length]! };
      fleet.push(v);
      index.upsert(v);
    }
    for (const [lat, lon] of [corner, inside, [-6.2 + CELL_SIZE_DEG / 6, 106.8 + CELL_SIZE_DEG / 6]] as Array<[number, number]>) {
      for (const k of [1, 5, 50, 200]) {
        expectNearestLikeBrute(index, fleet, lat, lon, { k }, `ties k=${k}`);
        expectNearestLikeBrute(index, fleet, lat, lon, { k, statuses: new Set(['available', 'busy']) }, `ties k=${k} statuses`);
        expectNearestLikeBrute(index, fleet, lat, lon, { k, types: new Set(['ambulance']), filter: (v) => v.id < 'tm' }, `ties k=${k} ambulance`);
      }
    }
    // maxDistanceM exactly at the tie distance includes all of them.
    const d = haversineM(corner[0]!, corner[1]!, inside[0]!, inside[1]!);
    expectNearestLikeBrute(index, fleet, corner[0]!, corner[1]!, { k: Infinity, maxDistanceM: d }, 'all within the tie distance');
    expect(index.nearest(corner[0]!, corner[1]!, { k: Infinity, maxDistanceM: d }).length).toBe(240);
  });

  it('finds vehicles exactly on cell edges, on the antimeridian and at the poles', () => {
    const rand = seededRandom(140);
    const index = new VehicleIndex();
    const fleet: LiveVehicle[] = [];
    const spots: Array<[number, number]> = [
      [90, 0], [90, 123], [-90, -45], [0, 180], [0, -180], [10, 180], [-10, -180], [89.99, 179.99], [-89.99, -179.99],
    ];
    for (let i = 0; i < 40; i++) spots.push([-6.2 + i * CELL_SIZE_DEG, 106.8 + i * CELL_SIZE_DEG]);
    for (let i = 0; i < 40; i++) spots.push([Math.round(between(rand, -89, 89)), Math.round(between(rand, -179, 179))]);
    spots.forEach(([lat, lon], i) => {
      const v = vehicle(rand, `e${i}`, lat, lon);
      fleet.push(v);
      index.upsert(v);
    });
    for (const [lat, lon] of spots) {
      for (const k of [1, 3, 50]) expectNearestLikeBrute(index, fleet, lat, lon, { k }, `at ${lat},${lon} k=${k}`);
      expectNearestLikeBrute(index, fleet, lat, lon, { k: Infinity, maxDistanceM: 500_000 }, `within 500 km of ${lat},${lon}`);
      expectNearestLikeBrute(index, fleet, lat, lon, { k: 2, statuses: new Set(['available']) }, `available near ${lat},${lon}`);
    }
    expect(index.inBBox(179, -20, -179, 20).map((v) => v.id).sort(byId)).toEqual(bruteBBox(fleet, 179, -20, -179, 20));
    expect(index.inBBox(180, -90, 180, 90).map((v) => v.id).sort(byId)).toEqual(['e3', 'e5']);
    expect(index.inBBox(-180, -90, -180, 90).map((v) => v.id).sort(byId)).toEqual(['e4', 'e6']);
    expect(index.inBBox(-180, 89.999, 180, 90).map((v) => v.id).sort(byId)).toEqual(['e0', 'e1']);
  });

  it('inBBox equals brute force for boxes on cell edges and across the antimeridian, with a filter', () => {
    const fleet = makeFleet(150, 5000);
    const rand = seededRandom(151);
    for (const cellSizeDeg of [CELL_SIZE_DEG, 0.0025, 1]) {
      const index = new VehicleIndex({ cellSizeDeg });
      index.load(fleet);
      for (let b = 0; b < 150; b++) {
        let box = randomBBox(rand);
        // Snap some boxes to the grid so edges fall exactly on cell edges.
        if (b % 3 === 0) box = box.map((x, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, Math.round(x / cellSizeDeg) * cellSizeDeg))) as typeof box;
        if (box[1] > box[3]) box = [box[0], box[3], box[2], box[1]];
        expect(index.inBBox(...box).map((v) => v.id).sort(byId), `box ${box}`).toEqual(bruteBBox(fleet, ...box));
        const busy = (v: Readonly<LiveVehicle>): boolean => v.status === 'busy';
        expect(index.inBBox(...box, busy).map((v) => v.id).sort(byId)).toEqual(bruteBBox(fleet.filter(busy), ...box));
      }
    }
  });

  it('searches only the selected partitions: an empty set finds nothing, fewer vehicles are looked at', () => {
    const fleet = makeFleet(160, 6000);
    const index = new VehicleIndex();
    index.load(fleet);
    expect(index.nearest(-6.2, 106.8, { k: 5, types: new Set() })).toEqual([]);
    expect(index.nearest(-6.2, 106.8, { k: 5, statuses: new Set() })).toEqual([]);
    const rand = seededRandom(161);
    const byFilter: NearestStats = { nodesVisited: 0, itemsVisited: 0 };
    const bySets: NearestStats = { nodesVisited: 0, itemsVisited: 0 };
    let filterItems = 0;
    let setItems = 0;
    const types = new Set(['ambulance'] as const);
    const statuses = new Set(['available'] as const);
    for (let q = 0; q < 100; q++) {
      const [lat, lon] = [between(rand, -6.4, -6.0), between(rand, 106.6, 107.1)];
      const a = index.nearest(lat, lon, { k: 5, filter: (v) => v.type === 'ambulance' && v.status === 'available', stats: byFilter });
      const b = index.nearest(lat, lon, { k: 5, types, statuses, stats: bySets });
      expect(b).toEqual(a);
      filterItems += byFilter.itemsVisited;
      setItems += bySets.itemsVisited;
      expect(bySets.nodesVisited).toBeGreaterThan(0);
    }
    expect(setItems * 5).toBeLessThan(filterItems);
  });

  it('answers a nested query from inside a filter, and vehicles of types or statuses outside the enums', () => {
    const rand = seededRandom(170);
    const fleet = makeFleet(171, 800);
    const index = new VehicleIndex();
    index.load(fleet);
    const odd = { ...vehicle(rand, 'odd', -6.2, 106.8), type: 'hovercraft' as VehicleType, status: 'sleeping' as VehicleStatus };
    index.upsert(odd);
    const all = [...fleet, odd];
    expectNearestLikeBrute(index, all, -6.2, 106.8, { k: 3 }, 'with an odd vehicle');
    expect(index.nearest(-6.2, 106.8, { k: 1, statuses: new Set(['sleeping' as VehicleStatus]) })[0]?.vehicle.id).toBe('odd');
    expect(index.inBBox(106.79, -6.21, 106.81, -6.19).map((v) => v.id)).toContain('odd');
    // A filter that itself asks the index (e.g. "has a neighbour within 2 km") gets a correct answer both times.
    const hasNeighbour: VehicleFilter = (v) => index.nearest(v.lat, v.lon, { k: 2, maxDistanceM: 2000 }).length === 2;
    expectNearestLikeBrute(index, all, -6.25, 106.85, { k: 10, filter: hasNeighbour }, 'nested');
    expect(index.setAttributes('odd', { type: 'ambulance', status: 'available' })).toBe(true);
    expect(index.nearest(-6.2, 106.8, { k: 1, types: new Set(['ambulance']), statuses: new Set(['available']) })[0]?.vehicle.id).toBe('odd');
    expect(index.remove('odd')).toBe(true);
    expectNearestLikeBrute(index, fleet, -6.2, 106.8, { k: 5, types: new Set(['ambulance']) }, 'after removing the odd one');
  });

  it('minTs follows every fix, one at the same position included, and equals a filter on ts', () => {
    const index = new VehicleIndex();
    const at = (id: string, ts: number, lat = -6.2, lon = 106.8): LiveVehicle => ({ id, type: 'ambulance', status: 'available', lat, lon, ts, speedKmh: null, heading: null, accuracyM: null });
    index.upsert(at('old', 1000));
    index.upsert(at('new', 5000, -6.21));
    const ids = (minTs: number) => index.nearest(-6.2, 106.8, { k: 5, minTs }).map((h) => h.vehicle.id);
    expect(ids(2000)).toEqual(['new']);
    index.upsert(at('old', 6000)); // reports again from where it stood
    expect(ids(2000)).toEqual(['old', 'new']);
    index.upsert(at('old', 7000, -6.2 + CELL_SIZE_DEG * 3)); // and from another cell
    expect(ids(6500)).toEqual(['old']);
    index.setAttributes('old', { status: 'dispatched' });
    expect(index.nearest(-6.2, 106.8, { k: 5, minTs: 6500, statuses: new Set(['dispatched'] as const) }).map((h) => h.vehicle.id)).toEqual(['old']);
    index.remove('new');
    expect(ids(0)).toEqual(['old']);
  });

  it('rejects a bad cell size', () => {
    expect(() => new VehicleIndex({ cellSizeDeg: 0 })).toThrow(/cellSizeDeg/);
    expect(() => new VehicleIndex({ cellSizeDeg: 5 })).toThrow(RangeError);
  });
});
