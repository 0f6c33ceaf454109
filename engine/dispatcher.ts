// 112 dispatch: reserve the nearest qualifying vehicle atomically and follow it to the scene.
// Within one node the choice and the reservation happen in one synchronous step, so two requests
// can never pick the same vehicle; across nodes the database's unique index on open dispatches
// per vehicle refuses the second, and the next candidate is tried.
import crypto from 'node:crypto';
import type { Db } from '../store/db.ts';
import {
  getDispatch,
  insertDispatch,
  listDispatches,
  openDispatches,
  updateDispatchState,
  VehicleAlreadyReservedError,
  type DispatchRow,
  type DispatchState,
  type OPEN_STATES,
} from '../store/dispatches.ts';

type OpenState = (typeof OPEN_STATES)[number];
import type { Registry } from './registry.ts';
import type { VehicleIndex, LiveVehicle } from '../geo/vehicle-index.ts';
import { etaSeconds, type EtaModel } from '../geo/eta.ts';
import type { CrewStatus, VehicleStatus, VehicleType } from '../ingest/model.ts';
import type { Logger } from './log.ts';

export type Dispatch = DispatchRow;

export interface DispatchRequest {
  lat: number;
  lon: number;
  type: VehicleType;
  note: string | null;
  maxAgeS: number;
  maxDistanceM: number | null;
  maxAccuracyM: number | null;
  by: string | null;
}

export interface Reservation {
  dispatch: Dispatch;
  vehicle: Readonly<LiveVehicle>;
}

export class InvalidTransitionError extends Error {}
export class DispatchNotFoundError extends Error {}

/** how far along an open dispatch is; a transition may only move forward, or end it */
const RANK: Record<DispatchState, number> = { dispatched: 0, en_route: 1, on_scene: 2, closed: 3, cancelled: 3 };
/** how many candidates to hold in hand in case the database refuses one (another node took it) */
const CANDIDATES = 5;

const newId = () => `dsp_${Date.now().toString(36)}${crypto.randomBytes(4).toString('hex')}`;

export class Dispatcher {
  /** vehicle id -> its open dispatch */
  private readonly openByVehicle = new Map<string, Dispatch>();

  constructor(
    private readonly db: Db,
    private readonly registry: Registry,
    private readonly vehicles: VehicleIndex,
    private readonly eta: EtaModel,
    private readonly log: Logger,
    /** after each committed change of a dispatch (the live stream) */
    private readonly changed: (d: Dispatch) => void = () => undefined,
  ) {}

  /** Open dispatches from the database; their vehicles' live status is the dispatch's state. */
  async load(): Promise<void> {
    for (const d of await openDispatches(this.db)) {
      this.openByVehicle.set(d.vehicleId, d);
      this.setLiveStatus(d.vehicleId, d.state as OpenState);
    }
  }

  openFor(vehicleId: string): Dispatch | undefined {
    return this.openByVehicle.get(vehicleId);
  }

  /** The nearest qualifying vehicle, reserved; null when none qualifies. */
  async reserve(req: DispatchRequest): Promise<Reservation | null> {
    const oldestTs = Date.now() - req.maxAgeS * 1000;
    const tried = new Set<string>();
    for (;;) {
      // Synchronous from here to setLiveStatus: no other request runs in between.
      const hits = this.vehicles.nearest(req.lat, req.lon, {
        k: CANDIDATES,
        ...(req.maxDistanceM === null ? {} : { maxDistanceM: req.maxDistanceM }),
        // Only the index's (type, available) partition is searched.
        types: new Set([req.type]),
        statuses: new Set(['available'] as const),
        minTs: oldestTs,
        filter: (v) =>
          !tried.has(v.id) &&
          !this.openByVehicle.has(v.id) &&
          (req.maxAccuracyM === null || v.accuracyM === null || v.accuracyM <= req.maxAccuracyM),
      });
      const hit = hits[0];
      if (!hit) return null;
      const vehicle = hit.vehicle;
      tried.add(vehicle.id);
      const pending: Dispatch = {
        id: newId(),
        type: req.type,
        lat: req.lat,
        lon: req.lon,
        note: req.note,
        vehicleId: vehicle.id,
        state: 'dispatched',
        distanceM: Math.round(hit.distanceM * 10) / 10,
        etaS: etaSeconds(hit.distanceM, vehicle.type, this.eta),
        createdBy: req.by,
        createdAt: Date.now(),
        updatedAt: Date.now(),
        closedAt: null,
        history: [],
      };
      this.openByVehicle.set(vehicle.id, pending);
      this.setLiveStatus(vehicle.id, 'dispatched');
      try {
        const stored = await insertDispatch(this.db, pending);
        this.openByVehicle.set(vehicle.id, stored);
        this.changed(stored);
        return { dispatch: stored, vehicle: this.vehicles.get(vehicle.id) ?? vehicle };
      } catch (err) {
        this.openByVehicle.delete(vehicle.id);
        this.setLiveStatus(vehicle.id, 'available');
        if (err instanceof VehicleAlreadyReservedError) {
          this.log.info({ vehicle: vehicle.id }, 'vehicle reserved by another node meanwhile; trying the next');
          continue;
        }
        throw err;
      }
    }
  }

  /** Moves a dispatch forward, or closes or cancels it; the vehicle's status follows. */
  async transition(id: string, state: DispatchState, by: string | null, vehicleStatusAfter?: VehicleStatus): Promise<Dispatch> {
    const current = this.openById(id) ?? (await getDispatch(this.db, id));
    if (!current) throw new DispatchNotFoundError(id);
    if (RANK[current.state] === 3) throw new InvalidTransitionError(`dispatch ${id} is ${current.state} already`);
    if (RANK[state] <= RANK[current.state]) throw new InvalidTransitionError(`dispatch ${id} is ${current.state}; it can move on to ${nextStates(current.state).join(', ')}`);
    const vehicleStatus: VehicleStatus = vehicleStatusAfter ?? (state === 'closed' || state === 'cancelled' ? 'available' : state);
    const updated = await updateDispatchState(this.db, id, state, vehicleStatus, by);
    if (!updated) throw new DispatchNotFoundError(id);
    if (RANK[state] === 3) this.openByVehicle.delete(updated.vehicleId);
    else this.openByVehicle.set(updated.vehicleId, updated);
    this.setLiveStatus(updated.vehicleId, vehicleStatus);
    this.changed(updated);
    return updated;
  }

  /**
   * A crew's status report moves its open dispatch along: en_route and on_scene advance it,
   * available closes it (the crew is done), out_of_service cancels it (the vehicle cannot go).
   */
  crewReported(vehicleId: string, status: CrewStatus): void {
    const open = this.openByVehicle.get(vehicleId);
    if (!open) return;
    const to: DispatchState | null =
      status === 'available' ? 'closed' : status === 'out_of_service' ? 'cancelled' : status === 'busy' ? null : RANK[status] > RANK[open.state] ? status : null;
    if (!to) {
      // busy, or a step back: the dispatch keeps the vehicle
      this.setLiveStatus(vehicleId, open.state as OpenState);
      return;
    }
    this.transition(open.id, to, `crew:${vehicleId}`, status === 'out_of_service' ? 'out_of_service' : undefined).catch((err: Error) =>
      this.log.error({ dispatch: open.id, vehicle: vehicleId, status, err: err.message }, 'could not apply the crew status to its dispatch'),
    );
  }

  async list(state: DispatchState | null, limit: number): Promise<Dispatch[]> {
    return listDispatches(this.db, state, limit);
  }

  async get(id: string): Promise<Dispatch | null> {
    return this.openById(id) ?? getDispatch(this.db, id);
  }

  /** open dispatches are few (one per vehicle on a call): a scan is enough */
  private openById(id: string): Dispatch | undefined {
    for (const d of this.openByVehicle.values()) if (d.id === id) return d;
    return undefined;
  }

  private setLiveStatus(vehicleId: string, status: VehicleStatus): void {
    this.registry.forceStatusLocal(vehicleId, status);
    if (this.vehicles.get(vehicleId)) this.vehicles.setAttributes(vehicleId, { status });
  }
}

function nextStates(state: DispatchState): DispatchState[] {
  return (Object.keys(RANK) as DispatchState[]).filter((s) => RANK[s] > RANK[state]);
}
