// Geofence state per (vehicle, fence) and the transitions between states: "tag, then compare with the previous
// state" (Traccar's GeofenceEventHandler). The geofence stage tags a fix with FenceIndex.containing(); update()
// compares the tags with what the vehicle was in before and says what happened.
// Pure and clock-free: time comes only from fix timestamps and the `nowMs` a caller passes, so every sequence
// replays to the same events. Event ids are the caller's.
//
// Rules (and the timestamp each event carries):
// - enter: the first fix tagged with the fence; ts, lat, lon of that fix.
// - exit: a fix not tagged with a fence the vehicle is in starts a pending exit, unless the fix's accuracy circle
//   still overlaps the fence (then the vehicle stays in, and a pending exit is cancelled). The exit is emitted once
//   the vehicle has been outside for exitDelayS (a later fix or sweep() shows it), with ts, lat, lon of the FIRST
//   fix outside: when it left, not when we became sure. A fix tagged with the fence again cancels it silently.
// - dwell: once per visit, when the vehicle has been in the fence for its dwell_s; ts = enter ts + dwell_s (when
//   the threshold was crossed, whether a fix or sweep() notices), lat/lon of the last fix inside. If the vehicle
//   left before that moment, no dwell; a pending exit holds the dwell until the exit is cancelled or completed.
// - A fix with ts <= the last ts seen for the vehicle (late or repeated) changes nothing and fires nothing
//   (CONTRACT.md: a late fix never fires a geofence event).
// - Editing or deleting a fence: fenceChanged() settles the vehicles at once, all events at the caller's nowMs.
// Events of one call are sorted by (ts, vehicle id, fence id, enter < dwell < exit).

import type { VehicleType } from '../ingest/model.ts';
import type { FenceIndex } from './fence-index.ts';

export type FenceEventType = 'enter' | 'exit' | 'dwell';

export interface FenceEvent {
  fenceId: string;
  vehicleId: string;
  type: FenceEventType;
  /** epoch ms */
  ts: number;
  lat: number;
  lon: number;
}

export interface FenceFix {
  /** epoch ms */
  ts: number;
  lat: number;
  lon: number;
  /** radius of the fix's accuracy circle in metres; null = unknown, treated as exact */
  accuracyM: number | null;
}

/** A live vehicle as fenceChanged() needs it (a LiveVehicle fits). */
export interface FenceVehicle {
  id: string;
  type: VehicleType;
  lat: number;
  lon: number;
  /** epoch ms of the position */
  ts: number;
  accuracyM: number | null;
}

export interface FenceTrackerOptions {
  /** seconds a vehicle must be seen outside a fence before its exit is emitted; 0 = at the first fix outside */
  exitDelayS: number;
}

/** What the API shows for a vehicle in a fence. */
export interface FenceMembership {
  /** epoch ms of the enter event (or of the fence change that put the vehicle in) */
  enteredTs: number;
  /** the dwell event of this visit has fired */
  dwelled: boolean;
  /** epoch ms of the first fix outside when an exit is pending; null when the vehicle is plainly inside */
  outsideSinceTs: number | null;
}

interface Visit {
  fenceId: string;
  /** the fence's dwell_s, kept here so a fix needs no fence lookup; fenceChanged() refreshes it */
  dwellS: number | null;
  enteredTs: number;
  dwelled: boolean;
  /** the last fix that kept the vehicle in (tagged, or its accuracy circle overlapping) */
  insideLat: number;
  insideLon: number;
  outsideSinceTs: number | null;
  outsideLat: number;
  outsideLon: number;
}

interface VehicleState {
  id: string;
  /** -Infinity until the first fix */
  lastTs: number;
  lat: number;
  lon: number;
  /** a handful at most: an array searched linearly beats a Map here */
  visits: Visit[];
}

const RANK: Record<FenceEventType, number> = { enter: 0, dwell: 1, exit: 2 };

function byTime(a: FenceEvent, b: FenceEvent): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.vehicleId !== b.vehicleId) return a.vehicleId < b.vehicleId ? -1 : 1;
  if (a.fenceId !== b.fenceId) return a.fenceId < b.fenceId ? -1 : 1;
  return RANK[a.type] - RANK[b.type];
}

export class FenceTracker {
  private readonly exitDelayMs: number;
  private readonly vehicles = new Map<string, VehicleState>();
  /** fence id -> ids of the vehicles in it (pending exits included) */
  private readonly byFence = new Map<string, Set<string>>();

  constructor(opts: FenceTrackerOptions) {
    if (!(Number.isFinite(opts?.exitDelayS) && opts.exitDelayS >= 0)) {
      throw new RangeError(`FenceTracker: exitDelayS must be a number of seconds >= 0 (0 = exit at the first fix outside), got ${opts?.exitDelayS}`);
    }
    this.exitDelayMs = opts.exitDelayS * 1000;
  }

  /** Vehicles with any state (a last fix ts or a fence). */
  get size(): number {
    return this.vehicles.size;
  }

  /**
   * One fix of a vehicle, tagged with the fences containing it (FenceIndex.containing with the vehicle's type).
   * Returns the events it causes; a late or repeated fix returns none and leaves the state as it was.
   */
  update(vehicleId: string, fix: FenceFix, inside: readonly string[], index: FenceIndex): FenceEvent[] {
    const events: FenceEvent[] = [];
    let s = this.vehicles.get(vehicleId);
    if (s === undefined) {
      if (!Number.isFinite(fix.ts)) return events;
      s = { id: vehicleId, lastTs: -Infinity, lat: fix.lat, lon: fix.lon, visits: [] };
      this.vehicles.set(vehicleId, s);
    } else if (!(fix.ts > s.lastTs)) {
      return events;
    }
    const { ts, lat, lon } = fix;
    const visits = s.visits;
    // Fences the vehicle was in and this fix is not tagged with. Backwards: leave() removes by swapping with the last.
    for (let i = visits.length - 1; i >= 0; i--) {
      const v = visits[i]!;
      if (inside.includes(v.fenceId)) continue;
      const fence = index.get(v.fenceId);
      if (fence === undefined) {
        // Deleted without fenceChanged(): nothing to stay in.
        this.leave(s, i, ts, lat, lon, false, events);
        continue;
      }
      // Not tagged, so not inside: the circle overlaps the fence exactly when the boundary is within the radius.
      if (fix.accuracyM !== null && fix.accuracyM > 0 && index.boundaryWithin(v.fenceId, lat, lon, fix.accuracyM)) {
        stayIn(v, lat, lon);
        this.dwellIfDue(s, v, ts, events);
        continue;
      }
      if (v.outsideSinceTs === null) {
        v.outsideSinceTs = ts;
        v.outsideLat = lat;
        v.outsideLon = lon;
      }
      if (ts - v.outsideSinceTs >= this.exitDelayMs) this.leave(s, i, v.outsideSinceTs, v.outsideLat, v.outsideLon, true, events);
      else this.dwellIfDue(s, v, ts, events);
    }
    for (let j = 0; j < inside.length; j++) {
      const fenceId = inside[j]!;
      let v = findVisit(visits, fenceId);
      if (v === undefined) {
        v = this.enter(s, fenceId, index.get(fenceId)?.dwellS ?? null, ts, lat, lon, events);
      } else {
        stayIn(v, lat, lon);
      }
      this.dwellIfDue(s, v, ts, events);
    }
    s.lastTs = ts;
    s.lat = lat;
    s.lon = lon;
    if (events.length > 1) events.sort(byTime);
    return events;
  }

  /**
   * Time passing without fixes: dwells whose moment has come (enter ts + dwell_s <= nowMs) and pending exits that
   * have waited exitDelayS (first outside ts + exitDelayS <= nowMs), for vehicles that stopped reporting.
   * Call it every second or so; the events carry the moments above, not nowMs.
   */
  sweep(nowMs: number, index: FenceIndex): FenceEvent[] {
    const events: FenceEvent[] = [];
    for (const s of this.vehicles.values()) {
      const visits = s.visits;
      for (let i = visits.length - 1; i >= 0; i--) {
        const v = visits[i]!;
        const fence = index.get(v.fenceId);
        if (fence === undefined) {
          this.leave(s, i, nowMs, s.lat, s.lon, false, events);
        } else if (v.outsideSinceTs !== null && nowMs - v.outsideSinceTs >= this.exitDelayMs) {
          this.leave(s, i, v.outsideSinceTs, v.outsideLat, v.outsideLon, true, events);
        } else {
          this.dwellIfDue(s, v, nowMs, events);
        }
      }
    }
    if (events.length > 1) events.sort(byTime);
    return events;
  }

  /**
   * After FenceIndex.set(fenceId, ...) or delete(fenceId): settles the vehicles against that fence alone, at nowMs.
   * Deleted: every vehicle in it exits (ts nowMs, its last known position); `vehicles` is not needed.
   * Set (created or edited): each given vehicle (the live positions) enters or exits as the new shape and
   * applies_to say, with the accuracy rule of update() (a circle still overlapping keeps the vehicle in; an exit here
   * is immediate, the exit delay being for GPS noise, not for edits). Vehicles in the fence that are not given keep
   * their state until their next fix.
   */
  fenceChanged(fenceId: string, vehicles: Iterable<FenceVehicle>, index: FenceIndex, nowMs: number): FenceEvent[] {
    const events: FenceEvent[] = [];
    const fence = index.get(fenceId);
    if (fence === undefined) {
      const ids = this.byFence.get(fenceId);
      if (ids !== undefined) {
        for (const vehicleId of [...ids]) {
          const s = this.vehicles.get(vehicleId)!;
          const i = s.visits.findIndex((v) => v.fenceId === fenceId);
          this.leave(s, i, nowMs, s.lat, s.lon, false, events);
        }
      }
    } else {
      // An edit may change dwell_s: every visit of this fence takes the new value, given vehicle or not.
      for (const vehicleId of this.byFence.get(fenceId) ?? []) {
        const v = findVisit(this.vehicles.get(vehicleId)!.visits, fenceId);
        if (v !== undefined) v.dwellS = fence.dwellS;
      }
      for (const veh of vehicles) {
        let s = this.vehicles.get(veh.id);
        if (s === undefined) {
          s = { id: veh.id, lastTs: -Infinity, lat: veh.lat, lon: veh.lon, visits: [] };
          this.vehicles.set(veh.id, s);
        }
        // The live position is the newest the engine knows: fixes older than it are late from now on.
        if (veh.ts >= s.lastTs) {
          s.lastTs = veh.ts;
          s.lat = veh.lat;
          s.lon = veh.lon;
        }
        const applies = fence.appliesTo === null || fence.appliesTo.includes(veh.type);
        const i = s.visits.findIndex((v) => v.fenceId === fenceId);
        if (applies && index.contains(fenceId, veh.lat, veh.lon)) {
          const v = i < 0 ? this.enter(s, fenceId, fence.dwellS, nowMs, veh.lat, veh.lon, events) : s.visits[i]!;
          stayIn(v, veh.lat, veh.lon);
          this.dwellIfDue(s, v, nowMs, events);
        } else if (i >= 0) {
          const v = s.visits[i]!;
          if (applies && veh.accuracyM !== null && veh.accuracyM > 0 && index.boundaryWithin(fenceId, veh.lat, veh.lon, veh.accuracyM)) {
            stayIn(v, veh.lat, veh.lon);
            this.dwellIfDue(s, v, nowMs, events);
          } else {
            this.leave(s, i, nowMs, veh.lat, veh.lon, true, events);
          }
        }
      }
    }
    if (events.length > 1) events.sort(byTime);
    return events;
  }

  /** Ids of the vehicles in the fence (a pending exit still counts as in), sorted. */
  insideOf(fenceId: string): string[] {
    const ids = this.byFence.get(fenceId);
    return ids === undefined ? [] : [...ids].sort();
  }

  /** Ids of the fences the vehicle is in (a pending exit still counts as in), sorted. */
  fencesOf(vehicleId: string): string[] {
    const s = this.vehicles.get(vehicleId);
    if (s === undefined) return [];
    return s.visits.map((v) => v.fenceId).sort();
  }

  /** The vehicle's state in the fence, or undefined when it is not in it. A copy. */
  state(vehicleId: string, fenceId: string): FenceMembership | undefined {
    const v = this.vehicles.get(vehicleId)?.visits.find((x) => x.fenceId === fenceId);
    return v === undefined ? undefined : { enteredTs: v.enteredTs, dwelled: v.dwelled, outsideSinceTs: v.outsideSinceTs };
  }

  /**
   * After a restart: a visit found by update() from the last position gets back its real enter time and
   * whether its dwell already fired (from the stored events), so nothing fires twice. No events.
   */
  restoreVisit(vehicleId: string, fenceId: string, enteredTs: number, dwelled: boolean): boolean {
    const v = findVisit(this.vehicles.get(vehicleId)?.visits ?? [], fenceId);
    if (v === undefined) return false;
    v.enteredTs = enteredTs;
    v.dwelled = dwelled;
    return true;
  }

  /** Drops everything about a vehicle (e.g. its device was deleted) without events. False when it had no state. */
  forgetVehicle(vehicleId: string): boolean {
    const s = this.vehicles.get(vehicleId);
    if (s === undefined) return false;
    for (const v of s.visits) this.unlink(v.fenceId, vehicleId);
    this.vehicles.delete(vehicleId);
    return true;
  }

  private enter(s: VehicleState, fenceId: string, dwellS: number | null, ts: number, lat: number, lon: number, events: FenceEvent[]): Visit {
    const v: Visit = { fenceId, dwellS, enteredTs: ts, dwelled: false, insideLat: lat, insideLon: lon, outsideSinceTs: null, outsideLat: 0, outsideLon: 0 };
    s.visits.push(v);
    let ids = this.byFence.get(fenceId);
    if (ids === undefined) {
      ids = new Set();
      this.byFence.set(fenceId, ids);
    }
    ids.add(s.id);
    events.push({ fenceId, vehicleId: s.id, type: 'enter', ts, lat, lon });
    return v;
  }

  /** Ends visit i with an exit at ts, after the dwell it earned before leaving (if any, and if the fence still exists). */
  private leave(s: VehicleState, i: number, ts: number, lat: number, lon: number, fenceExists: boolean, events: FenceEvent[]): void {
    const v = s.visits[i]!;
    if (fenceExists) this.dwellIfDue(s, v, ts, events);
    events.push({ fenceId: v.fenceId, vehicleId: s.id, type: 'exit', ts, lat, lon });
    const last = s.visits.pop()!;
    if (i < s.visits.length) s.visits[i] = last;
    this.unlink(v.fenceId, s.id);
  }

  /** Fires the visit's dwell if its moment is at or before `atTs` and the vehicle had not left by then. */
  private dwellIfDue(s: VehicleState, v: Visit, atTs: number, events: FenceEvent[]): void {
    if (v.dwelled || v.dwellS === null) return;
    const dueTs = v.enteredTs + v.dwellS * 1000;
    if (dueTs > atTs) return;
    if (v.outsideSinceTs !== null && dueTs > v.outsideSinceTs) return;
    v.dwelled = true;
    events.push({ fenceId: v.fenceId, vehicleId: s.id, type: 'dwell', ts: dueTs, lat: v.insideLat, lon: v.insideLon });
  }

  private unlink(fenceId: string, vehicleId: string): void {
    const ids = this.byFence.get(fenceId);
    if (ids === undefined) return;
    ids.delete(vehicleId);
    if (ids.size === 0) this.byFence.delete(fenceId);
  }
}

function findVisit(visits: Visit[], fenceId: string): Visit | undefined {
  for (let i = 0; i < visits.length; i++) if (visits[i]!.fenceId === fenceId) return visits[i];
  return undefined;
}

/** The vehicle is (still) in: a pending exit is off. */
function stayIn(v: Visit, lat: number, lon: number): void {
  v.outsideSinceTs = null;
  v.insideLat = lat;
  v.insideLon = lon;
}
