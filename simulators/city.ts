// A seeded Jakarta city: a synthetic road network and the fleets that drive on it.
// Pure and deterministic: the same options and the same sequence of step() calls give the same fixes.
// Time only advances through step(dtMs); fix(nowMs) merely stamps the current state with nowMs.

import type { VehicleStatus } from '../ingest/model.ts';
import { deriveSeed, hashUniform, Rng } from './random.ts';
import {
  bearingDeg,
  buildRoadGraph,
  edgeSlot,
  JAKARTA_BBOX,
  M_PER_DEG_LAT,
  M_PER_DEG_LON,
  nearestNode,
  nodeDistanceM,
  shortestPath,
  type RoadGraph,
} from './roads.ts';
import { HOSPITALS, RIVERS, WASTE_DEPOTS, type Site } from './sites.ts';

export { JAKARTA_BBOX } from './roads.ts';

export const SIM_VEHICLE_TYPES = ['ambulance', 'garbage_truck', 'blue_crew_truck'] as const;
export type SimVehicleType = (typeof SIM_VEHICLE_TYPES)[number];
export type FleetSize = Record<SimVehicleType, number>;

/**
 * domain/README.md "Scale of a real city": DKI Jakarta runs 80 ambulances (2025); its ~800-1000
 * garbage trucks are scaled to 300 here (Kota Bekasi's whole fleet); Pasukan Biru has 89 dump
 * trucks in East Jakarta alone, so 100 city-wide is a conservative stand-in.
 */
export const DEFAULT_FLEET: Readonly<FleetSize> = Object.freeze({ ambulance: 80, garbage_truck: 300, blue_crew_truck: 100 });

/** Driving speeds in city traffic (km/h); a stopped vehicle reports 0. */
export const SPEED_BANDS_KMH: Readonly<Record<SimVehicleType, { min: number; max: number }>> = Object.freeze({
  ambulance: { min: 20, max: 60 },
  garbage_truck: { min: 5, max: 30 },
  blue_crew_truck: { min: 10, max: 40 },
});

/**
 * Reporting interval per vehicle, fixed at creation. domain/README.md: dispatch-grade trackers report
 * every 1-5 s (ambulances); Teltonika defaults to 30 s while moving (trucks: 10-30 s). Trucks keep
 * their interval while parked too, so the engine never sees them as stale (nearest uses max_age_s=120).
 */
export const REPORT_INTERVAL_MS: Readonly<Record<SimVehicleType, { min: number; max: number }>> = Object.freeze({
  ambulance: { min: 1000, max: 5000 },
  garbage_truck: { min: 10_000, max: 30_000 },
  blue_crew_truck: { min: 10_000, max: 30_000 },
});

const ID_PREFIX: Record<SimVehicleType, string> = { ambulance: 'amb', garbage_truck: 'truck', blue_crew_truck: 'biru' };
const NAME_PREFIX: Record<SimVehicleType, string> = {
  ambulance: 'Ambulans 119',
  garbage_truck: 'Truk Sampah',
  blue_crew_truck: 'Truk Pasukan Biru',
};

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type VehicleActivity = 'parked' | 'driving' | 'stopped' | 'collecting' | 'on_scene' | 'handover' | 'working';

/** One fix in the native payload's field names (CONTRACT.md `pantau/v1/vehicles/{id}/position`). */
export interface VehicleFix {
  /** epoch ms */
  ts: number;
  lat: number;
  lon: number;
  speed_kmh: number;
  /** degrees clockwise from north, the direction of the last movement */
  heading: number;
  accuracy_m: number;
  seq: number;
}

/** The noise-free state, for tests and scenarios. */
export interface VehicleState {
  lat: number;
  lon: number;
  speedKmh: number;
  heading: number;
  status: VehicleStatus;
  activity: VehicleActivity;
  /** the road edge being driven, as "from-to" node ids; null when not moving along one */
  edge: string | null;
}

export interface CityOptions {
  seed?: number;
  fleet?: Partial<FleetSize>;
  /** the city clock at creation (epoch ms); drives rush hours. Default 2025-01-06 08:00 WIB. */
  startMs?: number;
  /** prefix for vehicle ids, e.g. "load-" gives "load-amb-001" */
  idPrefix?: string;
  /** share of garbage trucks whose trackers speak OwnTracks instead of the native topic (default 0.1) */
  owntracksFraction?: number;
  /** 119 ambulance calls a day across the fleet (domain/README.md: ~60 a day) */
  ambulanceCallsPerDay?: number;
  /** share of each fleet in the workshop, parked and reporting out_of_service (default 0.04) */
  outOfServiceFraction?: number;
  /** added to every vehicle's seq counter */
  seqStart?: number;
}

export interface City {
  readonly seed: number;
  /** the city clock, epoch ms */
  readonly timeMs: number;
  readonly graph: RoadGraph;
  readonly vehicles: readonly SimVehicle[];
  readonly hospitals: readonly Site[];
  /** advances every vehicle by dtMs of simulated time */
  step(dtMs: number): void;
  vehicle(id: string): SimVehicle | undefined;
  /** sends a vehicle to (lat, lon) now, as a dispatcher would; false if the id is unknown */
  dispatch(id: string, lat: number, lon: number): boolean;
}

type Task =
  | { k: 'drive'; to: number; status?: VehicleStatus; stopAndGo?: boolean }
  | { k: 'dwell'; ms: number; status?: VehicleStatus; activity: VehicleActivity };

interface Place {
  node: number;
  name: string;
}

interface CityContext {
  readonly graph: RoadGraph;
  readonly timeMs: number;
  readonly hospitalNodes: readonly number[];
  readonly ambulanceMeanIdleMs: number;
}

export class SimVehicle {
  readonly id: string;
  readonly type: SimVehicleType;
  readonly name: string;
  readonly reportIntervalMs: number;
  /** "user/device" for OwnTracks trackers (provision with this), null for native trackers */
  readonly owntracks: string | null;
  readonly home: Readonly<Site>;
  status: VehicleStatus = 'available';

  private readonly ctx: CityContext;
  private readonly rng: Rng;
  private readonly noiseSeed: number;
  private readonly homeNode: number;
  private readonly outOfService: boolean;
  private readonly seqStart: number;
  private seq = 0;
  private tasks: Task[] = [];

  private node: number;
  private driving = false;
  private path: number[] = [];
  private pathIdx = 0;
  private edgeFrom = 0;
  private edgeTo = 0;
  private edgeLenM = 1;
  private edgePosM = 0;
  private edgeClass = 0;
  private stopAndGo = false;
  private pauseLeftMs = 0;
  private speedKmh = 0;
  private speedChangeInMs = 0;
  private heading: number;
  private dwellLeftMs = 0;
  private activity: VehicleActivity = 'parked';

  constructor(
    ctx: CityContext,
    init: {
      id: string;
      type: SimVehicleType;
      name: string;
      seed: number;
      home: Place;
      owntracks: string | null;
      outOfService: boolean;
      seqStart: number;
    },
  ) {
    this.ctx = ctx;
    this.id = init.id;
    this.type = init.type;
    this.name = init.name;
    this.rng = new Rng(init.seed);
    this.noiseSeed = init.seed;
    this.homeNode = init.home.node;
    this.home = { name: init.home.name, lat: ctx.graph.lat[init.home.node]!, lon: ctx.graph.lon[init.home.node]! };
    this.owntracks = init.owntracks;
    this.outOfService = init.outOfService;
    this.seqStart = init.seqStart;
    const band = REPORT_INTERVAL_MS[init.type];
    this.reportIntervalMs = 1000 * this.rng.int(band.min / 1000, band.max / 1000);
    this.node = init.home.node;
    this.heading = this.rng.int(0, 359);
    this.warmStart();
  }

  /** Places the vehicle somewhere in its daily cycle, so the city does not start with everyone at home. */
  private warmStart(): void {
    const r = this.rng;
    if (this.outOfService) {
      this.startNext();
      return;
    }
    let busy: boolean;
    if (this.type === 'ambulance') {
      // ~60 calls a day of ~1.2 h each across 80 ambulances: ~4% are on a trip at any moment.
      busy = r.chance(0.04);
      if (!busy) this.tasks.push({ k: 'dwell', ms: r.exponential(this.ctx.ambulanceMeanIdleMs), status: 'available', activity: 'parked' });
      this.pushTrip(this.randomNodeNear(this.homeNode, 1000, 8000));
    } else if (this.type === 'garbage_truck') {
      busy = r.chance(0.75);
      if (!busy) this.tasks.push({ k: 'dwell', ms: r.uniform(0, 60 * MIN), status: 'available', activity: 'parked' });
      this.pushRound();
    } else {
      busy = r.chance(0.3);
      if (!busy) this.tasks.push({ k: 'dwell', ms: r.exponential(3 * HOUR), status: 'available', activity: 'parked' });
      this.pushJob();
    }
    this.startNext();
    if (busy) this.advance(r.uniform(0, 60 * MIN));
  }

  /** Noise-free position, speed and heading. */
  state(): VehicleState {
    const g = this.ctx.graph;
    let lat = g.lat[this.node]!;
    let lon = g.lon[this.node]!;
    let edge: string | null = null;
    const moving = this.driving && this.pauseLeftMs <= 0;
    if (this.driving) {
      const f = this.edgePosM / this.edgeLenM;
      lat = g.lat[this.edgeFrom]! + (g.lat[this.edgeTo]! - g.lat[this.edgeFrom]!) * f;
      lon = g.lon[this.edgeFrom]! + (g.lon[this.edgeTo]! - g.lon[this.edgeFrom]!) * f;
      if (moving) edge = `${this.edgeFrom}-${this.edgeTo}`;
    }
    return {
      lat,
      lon,
      speedKmh: moving ? this.speedKmh : 0,
      heading: this.heading,
      status: this.status,
      activity: this.activity,
      edge,
    };
  }

  /** The next fix, with GPS noise; allocates a new object (see writeFix for the hot path). */
  fix(nowMs: number): VehicleFix {
    return this.writeFix(nowMs, { ts: 0, lat: 0, lon: 0, speed_kmh: 0, heading: 0, accuracy_m: 0, seq: 0 });
  }

  /**
   * Fills `out` with the next fix stamped nowMs and returns it. Noise depends only on (vehicle, seq),
   * so it does not disturb the movement's random stream.
   */
  writeFix(nowMs: number, out: VehicleFix): VehicleFix {
    const g = this.ctx.graph;
    this.seq++;
    let lat = g.lat[this.node]!;
    let lon = g.lon[this.node]!;
    if (this.driving) {
      const f = this.edgePosM / this.edgeLenM;
      lat = g.lat[this.edgeFrom]! + (g.lat[this.edgeTo]! - g.lat[this.edgeFrom]!) * f;
      lon = g.lon[this.edgeFrom]! + (g.lon[this.edgeTo]! - g.lon[this.edgeFrom]!) * f;
    }
    // A few metres of urban GNSS error: accuracy 3-12 m (mostly small), radial error Rayleigh with
    // sigma = accuracy/2, so ~86% of fixes fall within their reported accuracy.
    const u3 = hashUniform(this.noiseSeed, this.seq, 3);
    const accuracyM = 3 + Math.round(9 * u3 * u3);
    const r = (accuracyM / 2) * Math.sqrt(-2 * Math.log(1 - hashUniform(this.noiseSeed, this.seq, 1)));
    const theta = 2 * Math.PI * hashUniform(this.noiseSeed, this.seq, 2);
    lat += (r * Math.cos(theta)) / M_PER_DEG_LAT;
    lon += (r * Math.sin(theta)) / M_PER_DEG_LON;
    out.ts = nowMs;
    out.lat = Math.round(Math.min(JAKARTA_BBOX.maxLat, Math.max(JAKARTA_BBOX.minLat, lat)) * 1e6) / 1e6;
    out.lon = Math.round(Math.min(JAKARTA_BBOX.maxLon, Math.max(JAKARTA_BBOX.minLon, lon)) * 1e6) / 1e6;
    out.speed_kmh = this.driving && this.pauseLeftMs <= 0 ? Math.round(this.speedKmh * 10) / 10 : 0;
    out.heading = Math.round(this.heading) % 360;
    out.accuracy_m = accuracyM;
    out.seq = this.seqStart + this.seq;
    return out;
  }

  /** Advances this vehicle by dtMs of simulated time (event-driven: cost grows with events, not dt). */
  advance(dtMs: number): void {
    let left = dtMs;
    for (let guard = 0; left > 0 && guard < 100_000; guard++) {
      if (!this.driving) {
        if (this.dwellLeftMs > left) {
          this.dwellLeftMs -= left;
          return;
        }
        left -= this.dwellLeftMs;
        this.dwellLeftMs = 0;
        this.startNext();
        continue;
      }
      if (this.pauseLeftMs > 0) {
        const used = Math.min(left, this.pauseLeftMs);
        this.pauseLeftMs -= used;
        left -= used;
        if (this.pauseLeftMs <= 0) this.activity = 'driving';
        continue;
      }
      const mPerMs = this.speedKmh / 3600;
      const toEndMs = (this.edgeLenM - this.edgePosM) / mPerMs;
      if (toEndMs <= left && toEndMs <= this.speedChangeInMs) {
        left -= toEndMs;
        this.speedChangeInMs -= toEndMs;
        this.arrive();
      } else if (this.speedChangeInMs <= left) {
        left -= this.speedChangeInMs;
        this.edgePosM += mPerMs * this.speedChangeInMs;
        this.pickSpeed();
      } else {
        this.edgePosM += mPerMs * left;
        this.speedChangeInMs -= left;
        left = 0;
      }
    }
  }

  /** Drops the current plan and drives to `node`, works there, then resumes the normal cycle. */
  dispatchTo(node: number): void {
    this.tasks = [];
    if (this.type === 'ambulance') this.pushTrip(node);
    else {
      this.tasks.push({ k: 'drive', to: node, status: 'busy' });
      this.tasks.push({ k: 'dwell', ms: 30 * MIN, activity: 'working' });
    }
    this.status = 'busy';
    if (this.driving) {
      // Finish the current edge, then route from its end.
      this.path = [this.edgeFrom, this.edgeTo];
      this.pathIdx = 0;
      this.pauseLeftMs = 0;
      this.stopAndGo = false;
      this.activity = 'driving';
    } else {
      this.dwellLeftMs = 0;
      this.startNext();
    }
  }

  private arrive(): void {
    this.node = this.edgeTo;
    this.pathIdx++;
    if (this.pathIdx >= this.path.length - 1) {
      this.driving = false;
      this.startNext();
      return;
    }
    // Garbage trucks stop at bins along the street between collection points.
    if (this.stopAndGo && this.rng.chance(0.3)) {
      this.pauseLeftMs = this.rng.uniform(15_000, 60_000);
      this.activity = 'collecting';
    }
    this.enterEdge();
  }

  private enterEdge(): void {
    const g = this.ctx.graph;
    const from = this.path[this.pathIdx]!;
    const to = this.path[this.pathIdx + 1]!;
    const slot = edgeSlot(g, from, to);
    this.edgeFrom = from;
    this.edgeTo = to;
    this.edgeLenM = slot >= 0 ? g.adjLenM[slot]! : Math.max(1, nodeDistanceM(g, from, to));
    this.edgeClass = slot >= 0 ? g.adjClass[slot]! : 0;
    this.edgePosM = 0;
    this.heading = bearingDeg(g.x[to]! - g.x[from]!, g.y[to]! - g.y[from]!);
    this.pickSpeed();
  }

  /** A new speed within the type's band: faster on big roads, slower in rush hours (WIB = UTC+7). */
  private pickSpeed(): void {
    const band = SPEED_BANDS_KMH[this.type];
    const hourWib = (((this.ctx.timeMs / HOUR + 7) % 24) + 24) % 24;
    const rush = (hourWib >= 6.5 && hourWib < 9.5) || (hourWib >= 16 && hourWib < 19.5) ? 0.25 : 0;
    const classBoost = [0, 0.1, 0.25][this.edgeClass] ?? 0;
    const frac = Math.min(1, Math.max(0.02, 0.2 + 0.6 * this.rng.next() + classBoost - rush));
    this.speedKmh = band.min + (band.max - band.min) * frac;
    this.speedChangeInMs = this.rng.uniform(15_000, 60_000);
  }

  private startNext(): void {
    for (let attempt = 0; attempt < 8; attempt++) {
      if (this.tasks.length === 0) this.plan();
      const t = this.tasks.shift();
      if (!t) break;
      if (t.status) this.status = t.status;
      if (t.k === 'dwell') {
        this.driving = false;
        this.dwellLeftMs = Math.max(1, t.ms);
        this.activity = t.activity;
        return;
      }
      const path = shortestPath(this.ctx.graph, this.node, t.to);
      if (path.length < 2) continue;
      this.path = path;
      this.pathIdx = 0;
      this.driving = true;
      this.stopAndGo = t.stopAndGo === true;
      this.pauseLeftMs = 0;
      this.activity = 'driving';
      this.enterEdge();
      return;
    }
    this.driving = false;
    this.dwellLeftMs = MIN;
    this.activity = 'parked';
  }

  /** The next cycle once the task list runs out. */
  private plan(): void {
    const r = this.rng;
    if (this.outOfService) {
      this.tasks.push({ k: 'dwell', ms: DAY, status: 'out_of_service', activity: 'parked' });
      return;
    }
    if (this.node !== this.homeNode) {
      this.tasks.push({ k: 'drive', to: this.homeNode, status: 'available' });
      return;
    }
    if (this.type === 'ambulance') {
      // Calls arrive as a Poisson process: mean idle = fleet size / calls a day.
      this.tasks.push({ k: 'dwell', ms: r.exponential(this.ctx.ambulanceMeanIdleMs), status: 'available', activity: 'parked' });
      this.pushTrip(this.randomNodeNear(this.homeNode, 1000, 8000));
    } else if (this.type === 'garbage_truck') {
      // Unloading and the crew's break at the pool between rounds.
      this.tasks.push({ k: 'dwell', ms: r.uniform(20 * MIN, 60 * MIN), status: 'available', activity: 'parked' });
      this.pushRound();
    } else {
      this.tasks.push({ k: 'dwell', ms: r.exponential(3 * HOUR), status: 'available', activity: 'parked' });
      this.pushJob();
    }
  }

  /** Scene, then the nearest hospital for the handover, then home (available again after the handover). */
  private pushTrip(scene: number): void {
    const r = this.rng;
    const g = this.ctx.graph;
    let hospital = this.homeNode;
    let best = Infinity;
    for (const h of this.ctx.hospitalNodes) {
      const d = nodeDistanceM(g, scene, h);
      if (d < best) {
        best = d;
        hospital = h;
      }
    }
    this.tasks.push(
      { k: 'drive', to: scene, status: 'busy' },
      { k: 'dwell', ms: r.uniform(10 * MIN, 25 * MIN), activity: 'on_scene' },
      { k: 'drive', to: hospital },
      { k: 'dwell', ms: r.uniform(10 * MIN, 20 * MIN), activity: 'handover' },
      { k: 'drive', to: this.homeNode, status: 'available' },
    );
  }

  /** A collection round: 6-12 points near the pool in nearest-neighbour order, 1-4 min at each. */
  private pushRound(): void {
    const r = this.rng;
    const g = this.ctx.graph;
    const points: number[] = [];
    const count = r.int(6, 12);
    for (let i = 0; i < count; i++) points.push(this.randomNodeNear(this.homeNode, 500, 3500));
    let at = this.node;
    while (points.length > 0) {
      let bestI = 0;
      let best = Infinity;
      for (let i = 0; i < points.length; i++) {
        const d = nodeDistanceM(g, at, points[i]!);
        if (d < best) {
          best = d;
          bestI = i;
        }
      }
      at = points.splice(bestI, 1)[0]!;
      this.tasks.push({ k: 'drive', to: at, status: 'busy', stopAndGo: true });
      this.tasks.push({ k: 'dwell', ms: r.uniform(1 * MIN, 4 * MIN), activity: 'collecting' });
    }
  }

  /** A drainage job: a site up to 5 km from the depot, 30-120 min of work there. */
  private pushJob(): void {
    const r = this.rng;
    this.tasks.push(
      { k: 'drive', to: this.randomNodeNear(this.homeNode, 500, 5000), status: 'busy' },
      { k: 'dwell', ms: r.uniform(30 * MIN, 120 * MIN), activity: 'working' },
    );
  }

  private randomNodeNear(center: number, minM: number, maxM: number): number {
    const g = this.ctx.graph;
    let fallback = center;
    for (let i = 0; i < 200; i++) {
      const n = this.rng.int(0, g.gridNodeCount - 1);
      const d = nodeDistanceM(g, center, n);
      if (d >= minM && d <= maxM) return n;
      if (d > 0 && d <= maxM) fallback = n;
    }
    return fallback;
  }
}

class CityImpl implements City, CityContext {
  readonly seed: number;
  timeMs: number;
  readonly graph: RoadGraph;
  readonly vehicles: SimVehicle[] = [];
  readonly hospitals: readonly Site[] = HOSPITALS;
  readonly hospitalNodes: number[];
  readonly ambulanceMeanIdleMs: number;
  private readonly byId = new Map<string, SimVehicle>();

  constructor(opts: CityOptions) {
    this.seed = (opts.seed ?? 1) >>> 0;
    this.timeMs = opts.startMs ?? Date.UTC(2025, 0, 6, 1, 0, 0);
    const fleet: FleetSize = { ...DEFAULT_FLEET, ...opts.fleet };
    for (const t of SIM_VEHICLE_TYPES) {
      if (!Number.isInteger(fleet[t]) || fleet[t] < 0) throw new Error(`createCity: fleet.${t} must be a non-negative integer, got ${fleet[t]}`);
    }
    this.graph = buildRoadGraph(this.seed);
    const g = this.graph;
    const place = (s: Site): Place => ({ node: nearestNode(g, s.lat, s.lon), name: s.name });
    const hospitals = HOSPITALS.map(place);
    this.hospitalNodes = hospitals.map((h) => h.node);
    const depots = WASTE_DEPOTS.map(place);
    const crewDepots = riverDepots().map(place);
    const callsPerDay = opts.ambulanceCallsPerDay ?? 60;
    if (!(callsPerDay > 0)) throw new Error(`createCity: ambulanceCallsPerDay must be > 0, got ${callsPerDay}`);
    this.ambulanceMeanIdleMs = (Math.max(1, fleet.ambulance) / callsPerDay) * DAY;
    const otFraction = opts.owntracksFraction ?? 0.1;
    const oosFraction = opts.outOfServiceFraction ?? 0.04;
    const prefix = opts.idPrefix ?? '';
    const homes: Record<SimVehicleType, Place[]> = { ambulance: hospitals, garbage_truck: depots, blue_crew_truck: crewDepots };

    let index = 0;
    for (const type of SIM_VEHICLE_TYPES) {
      const n = fleet[type];
      const width = Math.max(3, String(n).length);
      for (let i = 0; i < n; i++) {
        const seed = deriveSeed(this.seed, index++, 0x7e41c1e);
        const home = homes[type][i % homes[type].length]!;
        const id = `${prefix}${ID_PREFIX[type]}-${String(i + 1).padStart(width, '0')}`;
        // Evenly spaced picks give exactly round(n * fraction) of each, reproducibly.
        const owntracks = type === 'garbage_truck' && Math.floor((i + 1) * otFraction) > Math.floor(i * otFraction);
        const outOfService = Math.floor((i + 1) * oosFraction + 0.5) > Math.floor(i * oosFraction + 0.5);
        const v = new SimVehicle(this, {
          id,
          type,
          name: `${NAME_PREFIX[type]} ${String(i + 1).padStart(width, '0')} (${home.name})`,
          seed,
          home,
          owntracks: owntracks ? `pantau-sim/${id}` : null,
          outOfService,
          seqStart: opts.seqStart ?? 0,
        });
        this.vehicles.push(v);
        this.byId.set(id, v);
      }
    }
  }

  step(dtMs: number): void {
    if (!(dtMs > 0)) return;
    this.timeMs += dtMs;
    for (const v of this.vehicles) v.advance(dtMs);
  }

  vehicle(id: string): SimVehicle | undefined {
    return this.byId.get(id);
  }

  dispatch(id: string, lat: number, lon: number): boolean {
    const v = this.byId.get(id);
    if (!v) return false;
    v.dispatchTo(nearestNode(this.graph, lat, lon));
    return true;
  }
}

/** Crew depots every ~3 km along the rivers of sites.ts (inside the city box only). */
function riverDepots(): Site[] {
  const out: Site[] = [];
  for (const river of RIVERS) {
    for (let i = 0; i + 1 < river.points.length; i++) {
      const [lat1, lon1] = river.points[i]!;
      const [lat2, lon2] = river.points[i + 1]!;
      const lenM = Math.hypot((lat2 - lat1) * M_PER_DEG_LAT, (lon2 - lon1) * M_PER_DEG_LON);
      const n = Math.max(1, Math.round(lenM / 3000));
      for (let k = 0; k < n; k++) {
        const f = (k + 0.5) / n;
        out.push({ name: `Pos Pasukan Biru ${river.name} ${out.length + 1}`, lat: lat1 + (lat2 - lat1) * f, lon: lon1 + (lon2 - lon1) * f });
      }
    }
  }
  return out;
}

export function createCity(opts: CityOptions = {}): City {
  return new CityImpl(opts);
}
