// FenceTracker transitions as tables: fixes (or sweeps, or fence edits) in, events out.
// Times in the tables are seconds from T0; events print as "type fence@seconds".

import { describe, expect, it } from 'vitest';
import type { Position } from 'geojson';
import type { VehicleType } from '../ingest/model.ts';
import { FenceIndex } from '../geo/fence-index.ts';
import { FenceTracker, type FenceEvent } from '../geo/fence-tracker.ts';
import { seededRandom } from './helpers/seeded-random.ts';
import type { FenceInput } from '../geo/fence-validate.ts';

const T0 = Date.UTC(2025, 0, 15, 8, 0, 0);
const M_PER_DEG_LON = 111_195 * Math.cos((6.19 * Math.PI) / 180);

const square = (minLon: number, minLat: number, maxLon: number, maxLat: number): Position[] => [
  [minLon, minLat],
  [maxLon, minLat],
  [maxLon, maxLat],
  [minLon, maxLat],
  [minLon, minLat],
];
const fence = (ring: Position[], extra: Partial<FenceInput> = {}): FenceInput => ({
  geometry: { type: 'Polygon', coordinates: [ring] },
  name: 'fence',
  kind: null,
  appliesTo: null,
  dwellS: null,
  ...extra,
});

// A: a 0.02-degree square (about 2.2 km); B overlaps A's south-east corner; D (dwell_s 60) and P (police only)
// lie further east.
const A_RING = square(106.8, -6.2, 106.82, -6.18);
type Pos = readonly [lat: number, lon: number];
const IN: Pos = [-6.19, 106.81];
const IN2: Pos = [-6.185, 106.805];
const OUT: Pos = [-6.19, 106.86];
/** 20 m east of A's east edge */
const NEAR: Pos = [-6.19, 106.82 + 20 / M_PER_DEG_LON];
/** in A and in B */
const BOTH: Pos = [-6.197, 106.818];

function makeIndex(): FenceIndex {
  const index = new FenceIndex();
  index.set('A', fence(A_RING));
  index.set('B', fence(square(106.815, -6.21, 106.83, -6.195)));
  index.set('D', fence(square(106.9, -6.2, 106.92, -6.18), { dwellS: 60 }));
  index.set('P', fence(square(107.0, -6.2, 107.02, -6.18), { appliesTo: ['police'] }));
  return index;
}
const D_IN: Pos = [-6.19, 106.91];
const D_OUT: Pos = [-6.19, 106.95];
const P_IN: Pos = [-6.19, 107.01];

function fmt(events: FenceEvent[], withVehicle = false): string {
  return events.map((e) => `${withVehicle ? `${e.vehicleId} ` : ''}${e.type} ${e.fenceId}@${(e.ts - T0) / 1000}`).join(', ');
}

/** A row: a fix [t, position, accuracy m] or a sweep at t; then the events expected from it. */
type Row = { t: number; at: Pos; acc?: number | null; type?: VehicleType; expect: string } | { sweep: number; expect: string };

function runTable(rows: Row[], exitDelayS: number): { tracker: FenceTracker; index: FenceIndex } {
  const index = makeIndex();
  const tracker = new FenceTracker({ exitDelayS });
  rows.forEach((row, n) => {
    let events: FenceEvent[];
    let what: string;
    if ('sweep' in row) {
      events = tracker.sweep(T0 + row.sweep * 1000, index);
      what = `row ${n}: sweep at ${row.sweep}`;
    } else {
      const [lat, lon] = row.at;
      const inside = index.containing(lat, lon, row.type ?? 'ambulance');
      events = tracker.update('v1', { ts: T0 + row.t * 1000, lat, lon, accuracyM: row.acc ?? null }, inside, index);
      what = `row ${n}: fix at ${row.t} (${lat}, ${lon}) acc ${row.acc ?? null}`;
    }
    expect(fmt(events), what).toBe(row.expect);
  });
  return { tracker, index };
}

const TABLES: Array<{ name: string; exitDelayS: number; rows: Row[] }> = [
  {
    name: 'simple enter and exit',
    exitDelayS: 0,
    rows: [
      { t: 0, at: OUT, expect: '' },
      { t: 1, at: IN, expect: 'enter A@1' },
      { t: 2, at: IN2, expect: '' },
      { t: 3, at: OUT, expect: 'exit A@3' },
      { t: 4, at: OUT, expect: '' },
      { t: 5, at: IN, expect: 'enter A@5' },
    ],
  },
  {
    name: 'two fences at once, leaving one',
    exitDelayS: 0,
    rows: [
      { t: 0, at: BOTH, expect: 'enter A@0, enter B@0' },
      { t: 1, at: IN, expect: 'exit B@1' },
      { t: 2, at: OUT, expect: 'exit A@2' },
    ],
  },
  {
    name: 'flapping at the boundary: no exit while the accuracy circle overlaps',
    exitDelayS: 0,
    rows: [
      { t: 0, at: IN, acc: 30, expect: 'enter A@0' },
      { t: 1, at: NEAR, acc: 30, expect: '' },
      { t: 2, at: IN, acc: 30, expect: '' },
      { t: 3, at: NEAR, acc: 25, expect: '' },
      { t: 4, at: NEAR, acc: 30, expect: '' },
      { t: 5, at: NEAR, acc: 10, expect: 'exit A@5' },
      { t: 6, at: NEAR, acc: null, expect: '' },
      { t: 7, at: IN, acc: 10, expect: 'enter A@7' },
      { t: 8, at: NEAR, acc: null, expect: 'exit A@8' },
    ],
  },
  {
    name: 'exit delay: the exit comes once outside for exitDelayS, stamped with the first fix outside',
    exitDelayS: 10,
    rows: [
      { t: 0, at: IN, expect: 'enter A@0' },
      { t: 5, at: OUT, expect: '' },
      { t: 10, at: OUT, expect: '' },
      { t: 14, at: OUT, expect: '' },
      { t: 15, at: OUT, expect: 'exit A@5' },
      { t: 16, at: OUT, expect: '' },
    ],
  },
  {
    name: 're-entry cancels a pending exit without events',
    exitDelayS: 10,
    rows: [
      { t: 0, at: IN, expect: 'enter A@0' },
      { t: 5, at: OUT, expect: '' },
      { t: 8, at: IN, expect: '' },
      { t: 12, at: OUT, expect: '' },
      { t: 20, at: NEAR, acc: 30, expect: '' },
      { t: 25, at: OUT, expect: '' },
      { t: 34, at: OUT, expect: '' },
      { t: 35, at: OUT, expect: 'exit A@25' },
    ],
  },
  {
    name: 'late and repeated fixes are ignored',
    exitDelayS: 0,
    rows: [
      { t: 10, at: IN, expect: 'enter A@10' },
      { t: 5, at: OUT, expect: '' },
      { t: 10, at: OUT, expect: '' },
      { t: 11, at: IN, expect: '' },
      { t: 9, at: OUT, expect: '' },
      { t: 12, at: OUT, expect: 'exit A@12' },
      { t: 11, at: IN, expect: '' },
    ],
  },
  {
    name: 'dwell once per visit, stamped enter + dwell_s',
    exitDelayS: 0,
    rows: [
      { t: 0, at: D_IN, expect: 'enter D@0' },
      { t: 30, at: D_IN, expect: '' },
      { t: 65, at: D_IN, expect: 'dwell D@60' },
      { t: 90, at: D_IN, expect: '' },
      { t: 200, at: D_IN, expect: '' },
      { t: 210, at: D_OUT, expect: 'exit D@210' },
      { t: 220, at: D_IN, expect: 'enter D@220' },
      { t: 230, at: D_OUT, expect: 'exit D@230' },
      { t: 240, at: D_IN, expect: 'enter D@240' },
      { t: 300, at: D_IN, expect: 'dwell D@300' },
    ],
  },
  {
    name: 'a dwell earned before leaving comes with the exit; one not earned never comes',
    exitDelayS: 0,
    rows: [
      { t: 0, at: D_IN, expect: 'enter D@0' },
      { t: 100, at: D_OUT, expect: 'dwell D@60, exit D@100' },
      { t: 110, at: D_IN, expect: 'enter D@110' },
      { t: 150, at: D_OUT, expect: 'exit D@150' },
      { sweep: 500, expect: '' },
    ],
  },
  {
    name: 'a pending exit holds the dwell: the exit completes before dwell_s, so no dwell',
    exitDelayS: 30,
    rows: [
      { t: 0, at: D_IN, expect: 'enter D@0' },
      { t: 50, at: D_OUT, expect: '' },
      { t: 70, at: D_OUT, expect: '' },
      { t: 80, at: D_OUT, expect: 'exit D@50' },
    ],
  },
  {
    name: 'a pending exit holds the dwell: re-entry continues the visit, so the dwell comes',
    exitDelayS: 30,
    rows: [
      { t: 0, at: D_IN, expect: 'enter D@0' },
      { t: 50, at: D_OUT, expect: '' },
      { t: 70, at: D_IN, expect: 'dwell D@60' },
      { t: 80, at: D_IN, expect: '' },
    ],
  },
  {
    name: 'sweep: dwell of a vehicle that stopped reporting',
    exitDelayS: 0,
    rows: [
      { t: 0, at: D_IN, expect: 'enter D@0' },
      { sweep: 59, expect: '' },
      { sweep: 60, expect: 'dwell D@60' },
      { sweep: 120, expect: '' },
      { t: 130, at: D_IN, expect: '' },
    ],
  },
  {
    name: 'sweep: pending exit of a vehicle that stopped reporting',
    exitDelayS: 10,
    rows: [
      { t: 0, at: IN, expect: 'enter A@0' },
      { t: 5, at: OUT, expect: '' },
      { sweep: 14, expect: '' },
      { sweep: 15, expect: 'exit A@5' },
      { sweep: 30, expect: '' },
      { t: 31, at: OUT, expect: '' },
      { t: 32, at: IN, expect: 'enter A@32' },
    ],
  },
  {
    name: 'dwell_s reached before leaving: the dwell comes with the first fix outside, the exit later',
    exitDelayS: 10,
    rows: [
      { t: 0, at: D_IN, expect: 'enter D@0' },
      { t: 70, at: D_OUT, expect: 'dwell D@60' },
      { sweep: 90, expect: 'exit D@70' },
    ],
  },
  {
    name: 'applies_to: a police-only fence ignores an ambulance, counts a police car',
    exitDelayS: 0,
    rows: [
      { t: 0, at: P_IN, type: 'ambulance', expect: '' },
      { t: 1, at: P_IN, type: 'police', expect: 'enter P@1' },
      { t: 2, at: OUT, type: 'police', expect: 'exit P@2' },
    ],
  },
];

describe('FenceTracker.update / sweep tables', () => {
  it.each(TABLES)('$name', ({ rows, exitDelayS }) => {
    runTable(rows, exitDelayS);
  });
});

describe('FenceTracker state and positions', () => {
  it('enter carries the fix; exit the first fix outside; dwell the last fix inside', () => {
    const index = makeIndex();
    const tracker = new FenceTracker({ exitDelayS: 10 });
    const fix = (t: number, [lat, lon]: Pos) => ({ ts: T0 + t * 1000, lat, lon, accuracyM: null });
    const step = (t: number, at: Pos): FenceEvent[] => tracker.update('v1', fix(t, at), index.containing(at[0], at[1]), index);
    expect(step(0, D_IN)).toEqual([{ fenceId: 'D', vehicleId: 'v1', type: 'enter', ts: T0, lat: D_IN[0], lon: D_IN[1] }]);
    step(50, [-6.185, 106.905]);
    expect(tracker.state('v1', 'D')).toEqual({ enteredTs: T0, dwelled: false, outsideSinceTs: null });
    // Outside from 70 s on, so the 60 s dwell was earned: it comes now, from where the vehicle was last seen inside.
    expect(step(70, D_OUT)).toEqual([{ fenceId: 'D', vehicleId: 'v1', type: 'dwell', ts: T0 + 60_000, lat: -6.185, lon: 106.905 }]);
    expect(tracker.state('v1', 'D')).toEqual({ enteredTs: T0, dwelled: true, outsideSinceTs: T0 + 70_000 });
    expect(tracker.insideOf('D')).toEqual(['v1']);
    expect(step(75, [-6.18, 106.96])).toEqual([]);
    expect(step(80, OUT)).toEqual([{ fenceId: 'D', vehicleId: 'v1', type: 'exit', ts: T0 + 70_000, lat: D_OUT[0], lon: D_OUT[1] }]);
    expect(tracker.state('v1', 'D')).toBeUndefined();
    expect(tracker.insideOf('D')).toEqual([]);
  });

  it('fencesOf, insideOf, forgetVehicle', () => {
    const index = makeIndex();
    const tracker = new FenceTracker({ exitDelayS: 0 });
    tracker.update('v2', { ts: T0, lat: BOTH[0], lon: BOTH[1], accuracyM: 5 }, index.containing(BOTH[0], BOTH[1]), index);
    tracker.update('v1', { ts: T0, lat: IN[0], lon: IN[1], accuracyM: 5 }, index.containing(IN[0], IN[1]), index);
    expect(tracker.fencesOf('v2')).toEqual(['A', 'B']);
    expect(tracker.insideOf('A')).toEqual(['v1', 'v2']);
    expect(tracker.forgetVehicle('v2')).toBe(true);
    expect(tracker.forgetVehicle('v2')).toBe(false);
    expect(tracker.insideOf('A')).toEqual(['v1']);
    expect(tracker.insideOf('B')).toEqual([]);
    expect(tracker.fencesOf('v2')).toEqual([]);
    expect(tracker.size).toBe(1);
  });

  it('rejects a bad exitDelayS with how to fix it', () => {
    expect(() => new FenceTracker({ exitDelayS: -1 })).toThrow(/exitDelayS must be a number of seconds >= 0/);
    expect(() => new FenceTracker({ exitDelayS: NaN })).toThrow(/exitDelayS/);
  });
});

describe('FenceTracker.fenceChanged', () => {
  type Veh = { id: string; type: VehicleType; at: Pos; acc?: number };
  /** Puts each vehicle at its position with one fix at T0, then returns the setup. */
  function setup(vehicles: Veh[], exitDelayS = 0) {
    const index = makeIndex();
    const tracker = new FenceTracker({ exitDelayS });
    const live = vehicles.map((v) => ({ id: v.id, type: v.type, lat: v.at[0], lon: v.at[1], ts: T0, accuracyM: v.acc ?? null }));
    for (const v of live) tracker.update(v.id, v, index.containing(v.lat, v.lon, v.type), index);
    return { index, tracker, live };
  }
  const NOW = T0 + 100_000;

  const EDITS: Array<{ name: string; vehicles: Veh[]; change: (index: FenceIndex) => void; expect: string; insideAfter: string[] }> = [
    {
      name: 'fence deleted with vehicles inside: an exit each, at now',
      vehicles: [
        { id: 'v1', type: 'ambulance', at: IN },
        { id: 'v2', type: 'police', at: BOTH },
        { id: 'v3', type: 'ambulance', at: OUT },
      ],
      change: (index) => index.delete('A'),
      expect: 'v1 exit A@100, v2 exit A@100',
      insideAfter: [],
    },
    {
      name: 'fence edited to exclude one vehicle and include another',
      vehicles: [
        { id: 'v1', type: 'ambulance', at: IN },
        { id: 'v2', type: 'ambulance', at: IN2 },
        { id: 'v3', type: 'ambulance', at: OUT },
      ],
      // A moves east: (-6.19, 106.81) stays in, (-6.185, 106.805) falls out, (-6.19, 106.86) comes in.
      change: (index) => index.set('A', fence(square(106.808, -6.2, 106.91, -6.18))),
      expect: 'v2 exit A@100, v3 enter A@100',
      insideAfter: ['v1', 'v3'],
    },
    {
      name: 'fence edited: a vehicle whose accuracy circle still overlaps stays in',
      vehicles: [
        { id: 'v1', type: 'ambulance', at: IN, acc: 30 },
        { id: 'v2', type: 'ambulance', at: IN, acc: 5 },
      ],
      // The new east edge is 20 m west of the vehicles.
      change: (index) => index.set('A', fence(square(106.8, -6.2, 106.81 - 20 / M_PER_DEG_LON, -6.18))),
      expect: 'v2 exit A@100',
      insideAfter: ['v1'],
    },
    {
      name: 'fence edited: applies_to now leaves a type out',
      vehicles: [
        { id: 'v1', type: 'ambulance', at: IN, acc: 30 },
        { id: 'v2', type: 'police', at: IN },
      ],
      change: (index) => index.set('A', fence(A_RING, { appliesTo: ['police'] })),
      expect: 'v1 exit A@100',
      insideAfter: ['v2'],
    },
    {
      name: 'fence created over vehicles: enters at now, applies_to honoured',
      vehicles: [
        { id: 'v1', type: 'ambulance', at: OUT },
        { id: 'v2', type: 'police', at: OUT },
      ],
      change: (index) => index.set('N', fence(square(106.85, -6.2, 106.87, -6.18), { appliesTo: ['police'] })),
      expect: 'v2 enter N@100',
      insideAfter: [],
    },
  ];

  it.each(EDITS)('$name', ({ vehicles, change, expect: expected, insideAfter }) => {
    const { index, tracker, live } = setup(vehicles);
    change(index);
    const changed = index.get('N') !== undefined ? 'N' : 'A';
    expect(fmt(tracker.fenceChanged(changed, live, index, NOW), true)).toBe(expected);
    expect(tracker.insideOf('A')).toEqual(insideAfter);
    // Settled: the same positions again change nothing.
    expect(tracker.fenceChanged(changed, live, index, NOW + 1000)).toEqual([]);
  });

  it('after an edit, the next fixes continue from the new state', () => {
    const { index, tracker, live } = setup([{ id: 'v1', type: 'ambulance', at: OUT }]);
    index.set('A', fence(square(106.808, -6.2, 106.91, -6.18)));
    expect(fmt(tracker.fenceChanged('A', live, index, NOW))).toBe('enter A@100');
    // The fix at T0 is the live position fenceChanged was given: a repeat, ignored.
    const step = (t: number, [lat, lon]: Pos) => tracker.update('v1', { ts: T0 + t * 1000, lat, lon, accuracyM: null }, index.containing(lat, lon, 'ambulance'), index);
    expect(fmt(step(0, OUT))).toBe('');
    expect(fmt(step(101, OUT))).toBe('');
    expect(fmt(step(102, [-6.19, 106.95]))).toBe('exit A@102');
  });

  it('a deleted fence the caller forgot to report is left at the next fix', () => {
    const { index, tracker } = setup([{ id: 'v1', type: 'ambulance', at: IN }], 30);
    index.delete('A');
    const events = tracker.update('v1', { ts: T0 + 5000, lat: IN[0], lon: IN[1], accuracyM: 100 }, index.containing(IN[0], IN[1]), index);
    expect(fmt(events)).toBe('exit A@5');
  });

  it('dwell after an edit shortens dwell_s', () => {
    const { index, tracker, live } = setup([{ id: 'v1', type: 'ambulance', at: IN }]);
    index.set('A', fence(A_RING, { dwellS: 30 }));
    expect(fmt(tracker.fenceChanged('A', live, index, NOW))).toBe('dwell A@30');
  });
});

/**
 * The rules of fence-tracker.ts restated as plainly as possible, without its shortcuts (dwell_s kept per visit,
 * swap-removal, reverse indexes), to check the tracker against on random walks.
 */
class ReferenceTracker {
  private readonly vehicles = new Map<string, { lastTs: number; lat: number; lon: number; visits: Map<string, RefVisit> }>();
  constructor(private readonly exitDelayMs: number) {}

  update(id: string, fix: { ts: number; lat: number; lon: number; accuracyM: number | null }, inside: readonly string[], index: FenceIndex): FenceEvent[] {
    let s = this.vehicles.get(id);
    if (s === undefined) this.vehicles.set(id, (s = { lastTs: -Infinity, lat: fix.lat, lon: fix.lon, visits: new Map() }));
    if (!(fix.ts > s.lastTs)) return [];
    const out: FenceEvent[] = [];
    for (const [fenceId, v] of [...s.visits]) {
      if (inside.includes(fenceId)) continue;
      if (fix.accuracyM !== null && fix.accuracyM > 0 && index.overlapsCircle(fenceId, fix.lat, fix.lon, fix.accuracyM)) {
        Object.assign(v, { outsideSince: null, inLat: fix.lat, inLon: fix.lon });
        this.dwell(id, fenceId, v, fix.ts, out);
        continue;
      }
      if (v.outsideSince === null) Object.assign(v, { outsideSince: fix.ts, outLat: fix.lat, outLon: fix.lon });
      if (fix.ts - v.outsideSince! >= this.exitDelayMs) this.exit(id, s.visits, fenceId, v, out);
      else this.dwell(id, fenceId, v, fix.ts, out);
    }
    for (const fenceId of inside) {
      let v = s.visits.get(fenceId);
      if (v === undefined) {
        v = { enteredTs: fix.ts, dwellS: index.get(fenceId)!.dwellS, dwelled: false, inLat: fix.lat, inLon: fix.lon, outsideSince: null, outLat: 0, outLon: 0 };
        s.visits.set(fenceId, v);
        out.push({ fenceId, vehicleId: id, type: 'enter', ts: fix.ts, lat: fix.lat, lon: fix.lon });
      } else {
        Object.assign(v, { outsideSince: null, inLat: fix.lat, inLon: fix.lon });
      }
      this.dwell(id, fenceId, v, fix.ts, out);
    }
    Object.assign(s, { lastTs: fix.ts, lat: fix.lat, lon: fix.lon });
    return out.sort(eventOrder);
  }

  sweep(nowMs: number): FenceEvent[] {
    const out: FenceEvent[] = [];
    for (const [id, s] of this.vehicles) {
      for (const [fenceId, v] of [...s.visits]) {
        if (v.outsideSince !== null && nowMs - v.outsideSince >= this.exitDelayMs) this.exit(id, s.visits, fenceId, v, out);
        else this.dwell(id, fenceId, v, nowMs, out);
      }
    }
    return out.sort(eventOrder);
  }

  private dwell(id: string, fenceId: string, v: RefVisit, atTs: number, out: FenceEvent[]): void {
    if (v.dwelled || v.dwellS === null) return;
    const due = v.enteredTs + v.dwellS * 1000;
    if (due > atTs || (v.outsideSince !== null && due > v.outsideSince)) return;
    v.dwelled = true;
    out.push({ fenceId, vehicleId: id, type: 'dwell', ts: due, lat: v.inLat, lon: v.inLon });
  }

  private exit(id: string, visits: Map<string, RefVisit>, fenceId: string, v: RefVisit, out: FenceEvent[]): void {
    this.dwell(id, fenceId, v, v.outsideSince!, out);
    out.push({ fenceId, vehicleId: id, type: 'exit', ts: v.outsideSince!, lat: v.outLat, lon: v.outLon });
    visits.delete(fenceId);
  }
}

interface RefVisit {
  enteredTs: number;
  dwellS: number | null;
  dwelled: boolean;
  inLat: number;
  inLon: number;
  outsideSince: number | null;
  outLat: number;
  outLon: number;
}

const TYPE_RANK = { enter: 0, dwell: 1, exit: 2 };
function eventOrder(a: FenceEvent, b: FenceEvent): number {
  return a.ts - b.ts || (a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : 0) || (a.fenceId < b.fenceId ? -1 : a.fenceId > b.fenceId ? 1 : 0) || TYPE_RANK[a.type] - TYPE_RANK[b.type];
}

describe('FenceTracker against a plain restatement of its rules, on seeded random walks', () => {
  it.each([0, 10, 30])('exitDelayS %i', (exitDelayS) => {
    const rand = seededRandom(4000 + exitDelayS);
    const index = makeIndex();
    // More dwell fences, overlapping A, B and each other, with short dwell_s so that dwells happen often.
    index.set('W1', fence(square(106.805, -6.205, 106.825, -6.185), { dwellS: 20 }));
    index.set('W2', fence(square(106.81, -6.195, 106.905, -6.175), { dwellS: 45 }));
    const tracker = new FenceTracker({ exitDelayS });
    const reference = new ReferenceTracker(exitDelayS * 1000);
    const types: VehicleType[] = ['ambulance', 'police'];
    const fleet = Array.from({ length: 12 }, (_, i) => ({ id: `v${i}`, type: types[i % 2]!, lat: -6.2 + rand() * 0.03, lon: 106.79 + rand() * 0.14, ts: T0 }));
    let now = T0;
    let events = 0;
    for (let step = 0; step < 8000; step++) {
      now += Math.floor(rand() * 3000);
      if (rand() < 0.03) {
        expect(tracker.sweep(now, index), `sweep at step ${step}`).toEqual(reference.sweep(now));
        continue;
      }
      const v = fleet[Math.floor(rand() * fleet.length)]!;
      // Mostly small moves near fence edges; now and then a jump, a late fix or a repeat.
      const u = rand();
      if (u < 0.9) {
        v.lat = Math.min(-6.165, Math.max(-6.215, v.lat + (rand() - 0.5) * 0.001));
        v.lon = Math.min(107.03, Math.max(106.78, v.lon + (rand() - 0.5) * 0.001));
        v.ts = now;
      } else if (u < 0.95) {
        v.lat = -6.21 + rand() * 0.04;
        v.lon = 106.78 + rand() * 0.25;
        v.ts = now;
      } else if (u < 0.98) {
        v.ts -= 5000;
      }
      const accuracyM = rand() < 0.3 ? null : 5 + rand() * 60;
      const inside = index.containing(v.lat, v.lon, v.type);
      const fix = { ts: v.ts, lat: v.lat, lon: v.lon, accuracyM };
      const got = tracker.update(v.id, fix, inside, index);
      expect(got, `step ${step}: ${v.id} at (${v.lat}, ${v.lon}) ts ${v.ts - T0} acc ${accuracyM} in [${inside}]`).toEqual(reference.update(v.id, fix, inside, index));
      events += got.length;
    }
    expect(events).toBeGreaterThan(250);
  });
});
