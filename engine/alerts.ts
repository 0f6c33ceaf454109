// The alert lifecycle: raised, acknowledged, resolved. One alert per (kind, source) stays open while
// its condition holds; a new reading that changes nothing writes nothing. Each change, and the
// deliveries it causes, is committed in one statement (the outbox); the retained state on
// pantau/v1/alerts/{kind}/{sourceId} and webhooks follow the commit. The first MQTT attempt to a
// subscriber that is connected now goes out while the commit runs (`early`): it is confirmed in
// the outbox only after the commit, and should the engine stop before the commit, the restart
// judges the last readings again and raises the alert anew, so it is still never lost.
import { randomUUID } from 'node:crypto';
import type { Db } from '../store/db.ts';
import { commitAlerts, getAlert, openAlerts, type AlertRow, type DeliveryRow } from '../store/alerts.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { severityOf } from '../warning/levels.ts';

export interface AlertInput {
  kind: string;
  sourceId: string;
  level: string;
  value: number | null;
  unit: string | null;
  message: string;
  details?: Record<string, unknown>;
  /** when the condition was observed (the reading's time), epoch ms */
  ts: number;
}

export type AlertEvent = 'raised' | 'escalated' | 'deescalated' | 'updated' | 'acknowledged' | 'resolved';

/** Who must be told of a change: the engine's subscriber matching, injected. */
export type Recipients = (alert: AlertRow, event: AlertEvent, severity: number) => DeliveryTarget[];
export interface DeliveryTarget {
  subscriberId: string;
  channels: ReadonlyArray<'mqtt' | 'webhook'>;
}

/** The JSON an alert is shown as, on MQTT (CONTRACT.md) and in the API. */
export function alertView(a: AlertRow) {
  return {
    // the kind's own details first: they can never shadow the contract's fields below
    ...a.details,
    id: a.id,
    kind: a.kind,
    source_id: a.sourceId,
    level: a.level,
    value: a.value,
    unit: a.unit,
    since: new Date(a.raisedAt).toISOString(),
    state: a.state,
    message: a.message,
    updated_at: new Date(a.updatedAt).toISOString(),
    acknowledged_at: a.acknowledgedAt === null ? null : new Date(a.acknowledgedAt).toISOString(),
    acknowledged_by: a.acknowledgedBy,
    resolved_at: a.resolvedAt === null ? null : new Date(a.resolvedAt).toISOString(),
  };
}

const keyOf = (kind: string, sourceId: string) => `${kind}\u0000${sourceId}`;

interface Pending {
  alerts: Map<string, AlertRow>;
  deliveries: DeliveryRow[];
  changed: AlertRow[];
}

export class AlertCenter {
  private readonly open = new Map<string, AlertRow>();
  private pending: Pending = { alerts: new Map(), deliveries: [], changed: [] };
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly recipients: Recipients,
    /** after commit: retained state to MQTT and deliveries to the outbox */
    private readonly committed: (alerts: readonly AlertRow[], deliveries: readonly DeliveryRow[]) => void,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** the deliveries of one change as soon as they exist, before their commit */
    private readonly early: (deliveries: readonly DeliveryRow[]) => void = () => undefined,
  ) {}

  async load(): Promise<void> {
    for (const a of await openAlerts(this.db)) this.open.set(keyOf(a.kind, a.sourceId), a);
  }

  get(kind: string, sourceId: string): AlertRow | undefined {
    return this.open.get(keyOf(kind, sourceId));
  }

  active(): AlertRow[] {
    return [...this.open.values()];
  }

  /** Raises an alert, or changes the open one of this kind and source; nothing happens when nothing changed. */
  raise(input: AlertInput): AlertRow {
    const key = keyOf(input.kind, input.sourceId);
    const current = this.open.get(key);
    const details = input.details ?? {};
    if (!current) {
      const alert: AlertRow = {
        id: randomUUID(), kind: input.kind, sourceId: input.sourceId, level: input.level, value: input.value, unit: input.unit,
        state: 'active', message: input.message, details: { ...details, peak_level: input.level },
        raisedAt: input.ts, updatedAt: input.ts, acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null,
      };
      this.open.set(key, alert);
      this.change(alert, 'raised', severityOf(alert.level));
      return alert;
    }
    const sameLevel = current.level === input.level;
    if (sameLevel && current.message === input.message && sameDetails(current.details, details)) return current;
    const before = severityOf(current.level);
    const after = severityOf(input.level);
    const peak = after > severityOf(String(current.details.peak_level ?? current.level)) ? input.level : String(current.details.peak_level ?? current.level);
    const next: AlertRow = {
      ...current, level: input.level, value: input.value, unit: input.unit, message: input.message,
      details: { ...details, peak_level: peak }, updatedAt: Math.max(input.ts, current.updatedAt),
    };
    this.open.set(key, next);
    // An escalation is news to whoever is interested at the new level; a de-escalation to whoever
    // heard of the higher one.
    const event: AlertEvent = after > before ? 'escalated' : after < before ? 'deescalated' : 'updated';
    this.change(next, event, Math.max(before, after));
    return next;
  }

  /** Resolves the open alert of this kind and source, if any. */
  resolve(kind: string, sourceId: string, ts: number, reason: string, value: number | null = null): AlertRow | null {
    const key = keyOf(kind, sourceId);
    const current = this.open.get(key);
    if (!current) return null;
    this.open.delete(key);
    const at = Math.max(ts, current.updatedAt);
    const next: AlertRow = { ...current, state: 'resolved', resolvedAt: at, updatedAt: at, value: value ?? current.value, details: { ...current.details, resolution: reason } };
    this.change(next, 'resolved', severityOf(String(current.details.peak_level ?? current.level)));
    return next;
  }

  /** Acknowledges an alert, open or resolved; a second acknowledgement keeps the first. */
  async ack(id: string, by: string, nowMs: number): Promise<AlertRow | null> {
    const openOne = [...this.open.values()].find((a) => a.id === id);
    const current = openOne ?? this.pending.alerts.get(id) ?? (await getAlert(this.db, id));
    if (!current) return null;
    if (current.acknowledgedAt !== null) return current;
    const next: AlertRow = { ...current, acknowledgedAt: nowMs, acknowledgedBy: by, updatedAt: Math.max(nowMs, current.updatedAt) };
    if (openOne && next.state === 'active') this.open.set(keyOf(next.kind, next.sourceId), next);
    this.change(next, 'acknowledged', 0);
    await this.flush();
    return next;
  }

  /** Resolves when every change made so far is committed (or the center is stopped). */
  async flush(): Promise<void> {
    while (!this.stopped && (this.flushing || this.pending.changed.length)) {
      if (this.flushing) await this.flushing;
      else await this.runFlush();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private change(alert: AlertRow, event: AlertEvent, severity: number): void {
    this.metrics.alerts.inc({ kind: alert.kind, event });
    this.pending.alerts.set(alert.id, alert);
    this.pending.changed.push(alert);
    if (event !== 'acknowledged') {
      const payloadBase = alertView(alert);
      const now = Date.now();
      const made: DeliveryRow[] = [];
      for (const target of this.recipients(alert, event, severity)) {
        for (const channel of target.channels) {
          const id = randomUUID();
          made.push({
            id, subscriberId: target.subscriberId, alertId: alert.id, channel, event,
            payload: { ...payloadBase, event, delivery_id: id },
            state: 'pending', attempts: 0, createdAt: now, nextAttemptAt: now, deliveredAt: null, lastError: null,
          });
        }
      }
      for (const d of made) this.pending.deliveries.push(d);
      if (made.length) this.early(made);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.retryTimer || this.stopped) return;
    this.scheduled = true;
    // Changes made in the same turn of the event loop (one message's readings) share one commit.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing && this.pending.changed.length) void this.runFlush();
    });
  }

  private runFlush(): Promise<void> {
    const batch = this.pending;
    this.pending = { alerts: new Map(), deliveries: [], changed: [] };
    this.flushing = (async () => {
      try {
        await commitAlerts(this.db, [...batch.alerts.values()], batch.deliveries);
        this.committed(batch.changed, batch.deliveries);
      } catch (err) {
        // Nothing is lost: the batch goes back in front of newer changes and is retried.
        this.metrics.alertCommitErrors.inc();
        this.log.error({ err: (err as Error).message, alerts: batch.alerts.size }, 'alert commit failed; retrying');
        for (const [id, a] of this.pending.alerts) batch.alerts.set(id, a);
        this.pending = { alerts: batch.alerts, deliveries: [...batch.deliveries, ...this.pending.deliveries], changed: [...batch.changed, ...this.pending.changed] };
        if (!this.stopped) {
          await new Promise<void>((r) => {
            this.retryTimer = setTimeout(() => {
              this.retryTimer = null;
              r();
            }, 1000);
          });
        }
      } finally {
        this.flushing = null;
      }
      if (this.pending.changed.length) this.schedule();
    })();
    return this.flushing;
  }
}

function sameDetails(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  for (const k of Object.keys(b)) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}
