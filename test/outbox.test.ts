// The outbox's MQTT side against a plain aedes over real TCP: acknowledgements matched to their deliveries, and the
// confirmations of one fan-out recorded together.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Aedes, type Client } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { Outbox, subscriberTopic } from '../engine/outbox.ts';
import { createMetrics } from '../engine/metrics.ts';
import { silentLogger } from '../engine/log.ts';
import type { Db } from '../store/db.ts';
import type { DeliveryRow } from '../store/alerts.ts';

interface Recorded {
  updates: Array<{ id: string; state: string }>;
  attempts: Array<{ delivery_id: string; ok: boolean }>;
}

/** A database that keeps what recordAttempts sends (the only statement the MQTT side issues). */
function fakeDb(): Db & { recorded: Recorded[] } {
  const recorded: Recorded[] = [];
  return {
    embedded: true,
    recorded,
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      if (/UPDATE deliveries/.test(sql) && params) recorded.push({ updates: JSON.parse(String(params[0])), attempts: JSON.parse(String(params[1])) });
      return [] as T[];
    },
    async ping() {
      return true;
    },
    async close() {},
  };
}

function row(subscriberId: string, n: number): DeliveryRow {
  const id = `d-${subscriberId}-${n}`;
  const now = Date.now();
  return {
    id, subscriberId, alertId: 'a-1', channel: 'mqtt', event: 'raised',
    payload: { id: 'a-1', kind: 'water_level', source_id: 'katulampa', level: 'SIAGA_3', event: 'raised', delivery_id: id },
    state: 'pending', attempts: 0, createdAt: now, nextAttemptAt: now, deliveredAt: null, lastError: null,
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Outbox over MQTT', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup() {
    const aedes = await Aedes.createBroker();
    const server = net.createServer((socket) => aedes.handle(socket));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const db = fakeDb();
    const principalOf = (c: Client) => ({ kind: 'subscriber' as const, id: c.id });
    const outbox = new Outbox(db, aedes, () => null, principalOf as never, { retryBaseMs: 10, retryMaxMs: 100, timeoutMs: 1000, giveUpS: 60 }, silentLogger, createMetrics());
    cleanups.push(async () => {
      await outbox.stop();
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    });
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const subscriber = async (id: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> => {
      const c = await mqtt.connectAsync(url, { clientId: id, clean: false, reconnectPeriod: 0, ...opts });
      cleanups.unshift(() => c.endAsync(true));
      await c.subscribeAsync(subscriberTopic(id), { qos: 1 });
      return c;
    };
    return { aedes, db, outbox, subscriber };
  }

  it('records the PUBACKs of one fan-out as delivered, each once, in one transaction', async () => {
    const { db, outbox, subscriber } = await setup();
    const clients = await Promise.all(['s1', 's2', 's3', 's4'].map((id) => subscriber(id)));
    const got: string[] = [];
    for (const c of clients) c.on('message', (_t, payload) => got.push(JSON.parse(String(payload)).delivery_id as string));
    const rows = ['s1', 's2', 's3', 's4'].flatMap((id) => [row(id, 1), row(id, 2)]);
    outbox.accept(rows);
    await until(() => db.recorded.flatMap((r) => r.updates).length === rows.length, 'all confirmations recorded');
    expect(got.sort()).toEqual(rows.map((r) => r.id).sort());
    const updates = db.recorded.flatMap((r) => r.updates);
    expect(updates.map((u) => u.id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(updates.every((u) => u.state === 'delivered')).toBe(true);
    expect(db.recorded.flatMap((r) => r.attempts).every((a) => a.ok)).toBe(true);
    // the eight acknowledgements arrive within a few ms of each other: one statement (two on a slow machine), not one
    // per acknowledgement as before (six of eight)
    expect(db.recorded.length).toBeLessThanOrEqual(2);
    expect(outbox.pendingCount).toBe(0);
  });

  it('matches an acknowledgement whose payload is a copy (a persistence that serialises packets) by its delivery_id', async () => {
    const { aedes, db, outbox, subscriber } = await setup();
    const c = await subscriber('s9');
    // Hold the message: mqtt.js sends the PUBACK only once handleMessage calls back.
    const held: Array<{ topic: string; payload: Buffer }> = [];
    c.handleMessage = (packet) => {
      held.push({ topic: packet.topic, payload: packet.payload as Buffer });
    };
    const r = row('s9', 1);
    outbox.accept([r]);
    await until(() => held.length === 1, 'the message to arrive');
    expect(outbox.pendingCount).toBe(1);
    const client = (aedes as unknown as { clients: Record<string, Client> }).clients.s9!;
    aedes.emit('ack', { cmd: 'publish', topic: held[0]!.topic, payload: Buffer.from(held[0]!.payload), qos: 1, retain: false, dup: false } as never, client);
    await until(() => db.recorded.length === 1, 'the confirmation to be recorded');
    expect(db.recorded[0]!.updates).toEqual([expect.objectContaining({ id: r.id, state: 'delivered' })]);
    expect(outbox.pendingCount).toBe(0);
  });

  it('ignores an acknowledgement of another topic or of an unreadable payload', async () => {
    const { aedes, db, outbox, subscriber } = await setup();
    const c = await subscriber('s5');
    // a delivery handed over and not acknowledged (no PUBACK: handleMessage never calls back)
    c.handleMessage = () => undefined;
    const r = row('s5', 1);
    outbox.accept([r]);
    await until(() => outbox.pendingCount === 1 && (aedes as unknown as { clients: Record<string, Client> }).clients.s5 !== undefined, 'the delivery to be handed over');
    await new Promise((res) => setTimeout(res, 50));
    const client = (aedes as unknown as { clients: Record<string, Client> }).clients.s5!;
    // its delivery_id, but on another topic; then its topic with a payload that does not parse; then no packet at all
    aedes.emit('ack', { cmd: 'publish', topic: 'pantau/v1/alerts/water_level/x', payload: Buffer.from(JSON.stringify({ delivery_id: r.id })), qos: 1 } as never, client);
    aedes.emit('ack', { cmd: 'publish', topic: subscriberTopic('s5'), payload: Buffer.from('not json'), qos: 1 } as never, client);
    aedes.emit('ack', undefined as never, client);
    await new Promise((res) => setTimeout(res, 120)); // past the 50 ms the recording waits
    await outbox.flush();
    expect(db.recorded).toEqual([]);
    expect(outbox.pendingCount).toBe(1);
  });
});
