// Delivery of alerts to subscribers from the durable outbox (store/alerts.ts). A delivery stays
// pending in the database until it is confirmed: by the subscriber's MQTT PUBACK, or by a 2xx
// from its webhook. After a restart the pending ones are picked up again, so a warning is never
// lost; a subscriber may see one twice (at least once) and can tell by its delivery_id.
import { createHmac } from 'node:crypto';
import type { Aedes, Client, PublishPacket, PubrelPacket, Subscription } from 'aedes';

/** aedes keeps its persistence on the instance without typing it */
interface WithPersistence {
  persistence: { subscriptionsByTopic(topic: string): Promise<Array<{ clientId: string; qos: number }>> };
}
import type { Db } from '../store/db.ts';
import { pendingDeliveries, recordAttempts, type AttemptRow, type DeliveryRow, type DeliveryUpdate } from '../store/alerts.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Principal } from './registry.ts';

export function subscriberTopic(id: string): string {
  return `pantau/v1/subscribers/${id}/alerts`;
}

/** The signature header value of a webhook body: HMAC-SHA256 with the subscriber's secret, hex. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface OutboxOptions {
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  giveUpS: number;
  /** webhook requests in flight at once */
  concurrency?: number;
}

/** how long confirmations gather before they are recorded in one transaction */
const RECORD_AFTER_MS = 50;

const SUBSCRIBER_TOPIC = /^pantau\/v1\/subscribers\/([^/]+)\/alerts$/;

export class Outbox {
  /** MQTT deliveries nobody is subscribed for yet, by subscriber: handed over on SUBSCRIBE */
  private readonly waiting = new Map<string, Map<string, DeliveryRow>>();
  /** MQTT deliveries handed to the broker, waiting for the subscriber's PUBACK */
  private readonly handed = new Map<string, { row: DeliveryRow; at: number }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly queue: DeliveryRow[] = [];
  private inFlight = 0;
  private updates: DeliveryUpdate[] = [];
  private attempts: AttemptRow[] = [];
  private recording: Promise<void> | null = null;
  private stopped = false;
  private readonly sweeper: NodeJS.Timeout;
  /** MQTT deliveries sent early (prepublish) whose outbox row is not committed yet */
  private readonly uncommitted = new Set<string>();
  /** their confirmations, recorded once the row exists */
  private readonly held = new Map<string, { update: DeliveryUpdate; attempt: AttemptRow }>();
  /**
   * Delivery id by the payload buffer handed to the broker. The memory persistence gives an acknowledgement the very
   * buffer that was published, so a PUBACK is matched without parsing the payload (a persistence that copies payloads,
   * such as Redis, falls back to parsing it).
   */
  private readonly sentPayloads = new WeakMap<Buffer, string>();
  private recordTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly aedes: Aedes,
    private readonly webhookOf: (subscriberId: string) => WebhookTarget | null,
    private readonly principalOf: (client: Client) => Principal | undefined,
    private readonly opts: OutboxOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    aedes.on('ack', this.onAck);
    aedes.on('subscribe', this.onSubscribe);
    this.sweeper = setInterval(() => this.giveUpMqtt(Date.now()), Math.min(60_000, (opts.giveUpS * 1000) / 2));
    this.sweeper.unref();
  }

  /**
   * MQTT deliveries nobody confirmed within the give-up time (a subscriber that never came back)
   * are marked failed, so neither memory nor the outbox grows without bound.
   */
  giveUpMqtt(nowMs: number): void {
    const limitMs = this.opts.giveUpS * 1000;
    const expire = (row: DeliveryRow, why: string) => {
      this.metrics.deliveries.inc({ channel: 'mqtt', outcome: 'failed' });
      this.push(
        { id: row.id, state: 'failed', attempts: row.attempts, nextAttemptAt: nowMs, deliveredAt: null, lastError: why },
        { deliveryId: row.id, subscriberId: row.subscriberId, ts: nowMs, ok: false, statusCode: null, error: why, durationMs: null },
      );
    };
    for (const [subscriberId, m] of this.waiting) {
      for (const [id, row] of m) {
        if (nowMs - row.createdAt <= limitMs) continue;
        m.delete(id);
        expire(row, 'given up: the subscriber did not subscribe within PANTAU_DELIVERY_GIVE_UP_S');
      }
      if (m.size === 0) this.waiting.delete(subscriberId);
    }
    for (const [id, h] of this.handed) {
      if (nowMs - h.row.createdAt <= limitMs) continue;
      this.handed.delete(id);
      expire(h.row, 'given up: the subscriber did not acknowledge within PANTAU_DELIVERY_GIVE_UP_S');
    }
  }

  /** Picks up what a previous run left pending. */
  async load(): Promise<number> {
    const rows = await pendingDeliveries(this.db);
    this.accept(rows);
    return rows.length;
  }

  /** MQTT deliveries of an alert change still being committed: connected subscribers need not wait for it. */
  prepublish(rows: readonly DeliveryRow[]): void {
    for (const row of rows) {
      if (this.stopped || row.channel !== 'mqtt') continue;
      this.uncommitted.add(row.id);
      this.handOver(row);
    }
  }

  /** Deliveries just committed with their alert change (or left pending by a previous run). */
  accept(rows: readonly DeliveryRow[]): void {
    for (const row of rows) {
      if (this.stopped) return;
      if (row.channel === 'webhook') {
        this.scheduleWebhook(row);
      } else if (this.uncommitted.delete(row.id)) {
        const held = this.held.get(row.id);
        if (held) {
          this.held.delete(row.id);
          this.push(held.update, held.attempt);
        }
      } else {
        this.handOver(row);
      }
    }
  }

  /** Pending deliveries in memory (MQTT waiting or unacknowledged, webhooks scheduled or running). */
  get pendingCount(): number {
    let n = this.handed.size + this.timers.size + this.queue.length + this.inFlight;
    for (const m of this.waiting.values()) n += m.size;
    return n;
  }

  /** Resolves when every recorded attempt is committed. */
  async flush(): Promise<void> {
    while (this.recording || this.updates.length) {
      if (this.recording) await this.recording;
      else await this.record();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    this.aedes.off('ack', this.onAck);
    this.aedes.off('subscribe', this.onSubscribe);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.recordTimer) clearTimeout(this.recordTimer);
    this.recordTimer = null;
    // one last try to record confirmations; what fails here is delivered again after the restart
    if (this.recording) await this.recording;
    if (this.updates.length) await this.record();
  }

  forgetSubscriber(id: string): void {
    this.waiting.delete(id);
    for (const [deliveryId, h] of this.handed) if (h.row.subscriberId === id) this.handed.delete(deliveryId);
    for (const [deliveryId, t] of this.timers) {
      if (deliveryId.startsWith(`${id}\u0000`)) {
        clearTimeout(t);
        this.timers.delete(deliveryId);
      }
    }
  }

  // MQTT: the broker keeps QoS 1 messages for persistent sessions it knows; a subscription it does
  // not know (nobody subscribed yet, or the engine restarted) waits here until a SUBSCRIBE.
  private handOver(row: DeliveryRow): void {
    const topic = subscriberTopic(row.subscriberId);
    (this.aedes as unknown as WithPersistence).persistence.subscriptionsByTopic(topic).then(
      (subs) => this.publishOrWait(row, topic, subs),
      () => this.publishOrWait(row, topic, []),
    );
  }

  private publishOrWait(row: DeliveryRow, topic: string, subs: ReadonlyArray<{ qos: number }>): void {
    if (this.stopped) return;
    if (!subs.length) {
      let m = this.waiting.get(row.subscriberId);
      if (!m) this.waiting.set(row.subscriberId, (m = new Map()));
      m.set(row.id, row);
      return;
    }
    const qos1 = subs.some((s) => s.qos > 0);
    this.handed.set(row.id, { row, at: Date.now() });
    const payload = Buffer.from(JSON.stringify(row.payload));
    this.sentPayloads.set(payload, row.id);
    const packet = { cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false } as PublishPacket;
    this.aedes.publish(packet, () => {
      // A QoS 0 subscription never acknowledges: handing it over is all the broker can do.
      if (!qos1) this.confirmMqtt(row.id, 'delivered at QoS 0 (the subscription asked for no acknowledgement)');
    });
  }

  private readonly onSubscribe = (subs: Subscription[], client: Client) => {
    const who = this.principalOf(client);
    if (who?.kind !== 'subscriber' || !subs.some((s) => s.topic === subscriberTopic(who.id))) return;
    const m = this.waiting.get(who.id);
    if (!m) return;
    this.waiting.delete(who.id);
    // after aedes has stored the subscription (the event fires before SUBACK is written)
    setImmediate(() => {
      for (const row of m.values()) this.handOver(row);
    });
  };

  private readonly onAck = (packet: PublishPacket | PubrelPacket | undefined, _client: Client) => {
    // aedes passes no packet for an acknowledgement of a message id it does not know
    const topic = (packet as { topic?: string } | undefined)?.topic;
    if (!topic || !SUBSCRIBER_TOPIC.test(topic)) return;
    const payload = (packet as PublishPacket).payload as Buffer;
    let id: unknown = this.sentPayloads.get(payload);
    if (id === undefined) {
      try {
        id = JSON.parse(String(payload)).delivery_id;
      } catch {
        return;
      }
    }
    if (typeof id === 'string') this.confirmMqtt(id, null);
  };

  private confirmMqtt(id: string, note: string | null): void {
    const h = this.handed.get(id);
    if (!h) return;
    this.handed.delete(id);
    const now = Date.now();
    this.metrics.deliveries.inc({ channel: 'mqtt', outcome: 'delivered' });
    const attempts = h.row.attempts + 1;
    this.push(
      { id, state: 'delivered', attempts, nextAttemptAt: h.row.nextAttemptAt, deliveredAt: now, lastError: null },
      { deliveryId: id, subscriberId: h.row.subscriberId, ts: now, ok: true, statusCode: null, error: note, durationMs: now - h.at },
    );
  }

  // Webhooks: POST the payload, signed; retry with exponential backoff until a 2xx or give-up.
  private scheduleWebhook(row: DeliveryRow): void {
    const key = `${row.subscriberId}\u0000${row.id}`;
    const delay = Math.max(0, row.nextAttemptAt - Date.now());
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.queue.push(row);
      this.pump();
    }, delay);
    this.timers.set(key, t);
  }

  private pump(): void {
    const max = this.opts.concurrency ?? 16;
    while (!this.stopped && this.inFlight < max && this.queue.length) {
      const row = this.queue.shift()!;
      this.inFlight++;
      void this.post(row).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async post(row: DeliveryRow): Promise<void> {
    const target = this.webhookOf(row.subscriberId);
    const started = Date.now();
    const attempts = row.attempts + 1;
    if (!target) {
      // the subscriber or its webhook was removed: nothing left to deliver to
      this.push(
        { id: row.id, state: 'failed', attempts, nextAttemptAt: started, deliveredAt: null, lastError: 'subscriber has no webhook any more' },
        { deliveryId: row.id, subscriberId: row.subscriberId, ts: started, ok: false, statusCode: null, error: 'subscriber has no webhook any more', durationMs: 0 },
      );
      return;
    }
    const body = JSON.stringify(row.payload);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'pantau-webhook/1',
          'x-pantau-delivery': row.id,
          'x-pantau-event': row.event,
          'x-pantau-signature': webhookSignature(target.secret, body),
        },
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        redirect: 'manual',
      });
      statusCode = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      error = e.name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    }
    const now = Date.now();
    const attempt: AttemptRow = { deliveryId: row.id, subscriberId: row.subscriberId, ts: now, ok: error === null, statusCode, error, durationMs: now - started };
    if (error === null) {
      this.metrics.deliveries.inc({ channel: 'webhook', outcome: 'delivered' });
      this.push({ id: row.id, state: 'delivered', attempts, nextAttemptAt: row.nextAttemptAt, deliveredAt: now, lastError: null }, attempt);
      return;
    }
    if (now - row.createdAt > this.opts.giveUpS * 1000) {
      this.metrics.deliveries.inc({ channel: 'webhook', outcome: 'failed' });
      this.log.warn({ subscriber: row.subscriberId, delivery: row.id, attempts, error }, 'webhook delivery given up (PANTAU_DELIVERY_GIVE_UP_S)');
      this.push({ id: row.id, state: 'failed', attempts, nextAttemptAt: now, deliveredAt: null, lastError: error }, attempt);
      return;
    }
    this.metrics.deliveries.inc({ channel: 'webhook', outcome: 'retry' });
    const backoff = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** (attempts - 1));
    // +-20% jitter, so many subscribers of one failing host do not retry in lockstep
    const next = now + Math.round(backoff * (0.8 + 0.4 * Math.random()));
    this.push({ id: row.id, state: 'pending', attempts, nextAttemptAt: next, deliveredAt: null, lastError: error }, attempt);
    if (!this.stopped) this.scheduleWebhook({ ...row, attempts, nextAttemptAt: next, lastError: error });
  }

  private push(update: DeliveryUpdate, attempt: AttemptRow): void {
    if (this.uncommitted.has(update.id)) {
      this.held.set(update.id, { update, attempt });
      return;
    }
    this.updates.push(update);
    this.attempts.push(attempt);
    this.scheduleRecord();
  }

  // One transaction for the confirmations of a whole fan-out (an alert's subscribers acknowledge within tens of ms),
  // not one per event-loop turn: the database thread then competes less with delivering the next alert.
  private scheduleRecord(): void {
    this.recordTimer ??= setTimeout(() => {
      this.recordTimer = null;
      void this.record();
    }, RECORD_AFTER_MS);
  }

  private record(): Promise<void> {
    if (this.recording) return this.recording;
    if (!this.updates.length) return Promise.resolve();
    const updates = this.updates;
    const attempts = this.attempts;
    this.updates = [];
    this.attempts = [];
    this.recording = recordAttempts(this.db, updates, attempts)
      .catch(async (err: Error) => {
        // kept and retried: a confirmation lost here would only mean a duplicate after a restart
        this.log.error({ err: err.message, updates: updates.length }, 'recording delivery attempts failed; retrying');
        this.updates = [...updates, ...this.updates];
        this.attempts = [...attempts, ...this.attempts];
        await new Promise((r) => setTimeout(r, 1000));
      })
      .finally(() => {
        this.recording = null;
        if (this.updates.length && !this.stopped) this.scheduleRecord();
      });
    return this.recording;
  }
}
