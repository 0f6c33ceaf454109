// Geofences as a service of the engine: the fence index and the membership tracker in memory,
// fences and events in the database. Events from fixes are committed in the same batch as the
// fixes (ingest); events from fence edits and from the sweep (dwell, delayed exits) go through
// the writer here. Every committed event is published on pantau/v1/events/geofence/{fenceId}.
import crypto from 'node:crypto';
import type { Db } from '../store/db.ts';
import { deleteFence, lastVisits, listFences, upsertFence, type FenceEventRow, type StoredFence } from '../store/geofences.ts';
import type { BatchWriter } from '../store/writer.ts';
import { FenceIndex } from '../geo/fence-index.ts';
import { FenceTracker, type FenceEvent } from '../geo/fence-tracker.ts';
import type { FenceInput } from '../geo/fence-validate.ts';
import type { VehicleIndex } from '../geo/vehicle-index.ts';
import type { Logger } from './log.ts';

/** how far back stored events are read to restore visits at start */
const RESTORE_WINDOW_MS = 30 * 86_400_000;

let counter = 0;
const eventId = () => `gfe_${Date.now().toString(36)}${(counter++ % 46656).toString(36).padStart(3, '0')}${crypto.randomBytes(2).toString('hex')}`;

export function toRows(events: readonly FenceEvent[]): FenceEventRow[] {
  return events.map((e) => ({ id: eventId(), fenceId: e.fenceId, vehicleId: e.vehicleId, type: e.type, ts: e.ts, lat: e.lat, lon: e.lon }));
}

export class Geofences {
  readonly index = new FenceIndex();
  readonly tracker: FenceTracker;
  private readonly stored = new Map<string, StoredFence>();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly vehicles: VehicleIndex,
    private readonly writer: BatchWriter,
    /** publishes committed events (set once the broker exists) */
    private readonly publish: (events: readonly FenceEventRow[]) => void,
    private readonly log: Logger,
    exitDelayS: number,
  ) {
    this.tracker = new FenceTracker({ exitDelayS });
  }

  /**
   * Fences from the database, and each live vehicle's membership from its last position: no
   * events, since nothing changed while the engine was down as far as it can know.
   */
  async load(): Promise<void> {
    const fences = await listFences(this.db);
    for (const f of fences) this.stored.set(f.id, f);
    this.index.load(fences.map((f) => ({ id: f.id, fence: f.fence })));
    for (const v of this.vehicles.all()) {
      this.tracker.update(v.id, { ts: v.ts, lat: v.lat, lon: v.lon, accuracyM: v.accuracyM }, this.index.containing(v.lat, v.lon, v.type), this.index);
    }
    // the visits' real enter times and dwells, so no dwell fires twice across a restart
    for (const visit of await lastVisits(this.db, Date.now() - RESTORE_WINDOW_MS)) {
      if (!visit.exited) this.tracker.restoreVisit(visit.vehicleId, visit.fenceId, visit.enteredTs, visit.dwelled);
    }
  }

  startSweeping(everyMs: number): void {
    this.sweepTimer = setInterval(() => {
      const events = this.tracker.sweep(Date.now(), this.index);
      if (events.length) void this.commit(events);
    }, everyMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  list(): StoredFence[] {
    return [...this.stored.values()];
  }

  get(id: string): StoredFence | undefined {
    return this.stored.get(id);
  }

  /** Creates or replaces a fence, then re-evaluates every live vehicle against it. */
  async put(id: string, fence: FenceInput, properties: Record<string, unknown>): Promise<StoredFence> {
    const saved = await upsertFence(this.db, id, fence, properties);
    this.stored.set(id, saved);
    this.index.set(id, saved.fence);
    await this.commit(this.tracker.fenceChanged(id, this.vehicles.all(), this.index, Date.now()));
    return saved;
  }

  /** Deletes a fence; the vehicles inside it exit. */
  async remove(id: string): Promise<boolean> {
    if (!this.stored.has(id)) return false;
    await deleteFence(this.db, id);
    this.stored.delete(id);
    this.index.delete(id);
    await this.commit(this.tracker.fenceChanged(id, this.vehicles.all(), this.index, Date.now()));
    return true;
  }

  private async commit(events: readonly FenceEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = toRows(events);
    try {
      await this.writer.write({ fixes: [], readings: [], statuses: [], fenceEvents: rows });
      this.publish(rows);
    } catch (err) {
      this.log.error({ events: rows.length, err: (err as Error).message }, 'geofence events could not be stored');
    }
  }
}
