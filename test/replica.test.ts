// API replicas: the live topic's batches, and a replica following a real engine over TCP (its snapshot,
// moves, dispatch statuses, deletions, a reconnect), answering like the engine, checking tokens with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { loadConfig } from '../engine/config.ts';
import type { Engine } from '../engine/engine.ts';
import { LIVE_BATCH_MAX, LIVE_VEHICLES_TOPIC, LiveBatchError, LiveTopic, parseLiveBatch } from '../engine/live-topic.ts';
import { startReplica, type Replica } from '../engine/replica.ts';
import { createLogger, silentLogger } from '../engine/log.ts';
import type { LiveVehicle } from '../geo/vehicle-index.ts';
import { ADMIN_TOKEN, auth, provision, startTestEngine } from './helpers/engine.ts';
import { connect, waitFor } from './helpers/mqtt.ts';

const vehicle = (id: string, lat = -6.2, lon = 106.8): LiveVehicle => ({
  id, type: 'ambulance', status: 'available', lat, lon, ts: Date.parse('2026-11-23T01:00:00Z'), speedKmh: 30, heading: 90, accuracyM: 5,
});

describe('LiveTopic', () => {
  it('publishes each changed vehicle once per interval with its state then, and removals', () => {
    const state = new Map<string, LiveVehicle>([['a', vehicle('a')], ['b', vehicle('b')]]);
    const sent: Buffer[] = [];
    const topic = new LiveTopic(50, (id) => state.get(id), (p) => sent.push(p), (err) => { throw err; }, () => Date.parse('2026-11-23T01:00:01Z'));
    topic.changed('a');
    topic.changed('a');
    state.set('a', vehicle('a', -6.3));
    topic.changed('gone');
    topic.flush();
    topic.stop();
    expect(sent).toHaveLength(1);
    const batch = parseLiveBatch(sent[0]!);
    expect(batch.atMs).toBe(Date.parse('2026-11-23T01:00:01Z'));
    expect(batch.vehicles).toEqual([vehicle('a', -6.3)]);
    expect(batch.removed).toEqual(['gone']);
  });

  it('publishes nothing when its interval is 0 (the topic is off)', () => {
    const sent: Buffer[] = [];
    const topic = new LiveTopic(0, (id) => vehicle(id), (p) => sent.push(p), (err) => { throw err; });
    topic.changed('a');
    topic.flush();
    topic.stop();
    expect(sent).toEqual([]);
  });

  it(`splits a large batch into messages of at most ${LIVE_BATCH_MAX}`, () => {
    const sent: Buffer[] = [];
    const topic = new LiveTopic(50, (id) => vehicle(id), (p) => sent.push(p), (err) => { throw err; });
    for (let i = 0; i < LIVE_BATCH_MAX + 5; i++) topic.changed(`v${i}`);
    topic.flush();
    topic.stop();
    expect(sent.map((p) => parseLiveBatch(p).vehicles.length)).toEqual([LIVE_BATCH_MAX, 5]);
  });

  it.each([
    ['not json', 'BAD_JSON', ''],
    ['[]', 'BAD_BATCH', 'at'],
    ['{"at":"2026-11-23T01:00:00Z"}', 'BAD_BATCH', 'vehicles'],
    ['{"at":"2026-11-23T01:00:00Z","vehicles":[{"id":"a","type":"tank","status":"available","lat":1,"lon":2,"ts":"2026-11-23T01:00:00Z"}]}', 'BAD_BATCH', 'vehicles[0].type'],
    ['{"at":"2026-11-23T01:00:00Z","vehicles":[{"id":"a","type":"ambulance","status":"available","lat":91,"lon":2,"ts":"2026-11-23T01:00:00Z"}]}', 'BAD_BATCH', 'vehicles[0].lat'],
    ['{"at":"2026-11-23T01:00:00Z","vehicles":[{"id":"a","type":"ambulance","status":"available","lat":1,"lon":2,"ts":"yesterday"}]}', 'BAD_BATCH', 'vehicles[0].ts'],
    ['{"at":"2026-11-23T01:00:00Z","vehicles":[],"removed":[1]}', 'BAD_BATCH', 'removed'],
  ])('refuses %s with %s at "%s"', (payload, code, field) => {
    let err: unknown;
    try {
      parseLiveBatch(payload);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LiveBatchError);
    expect((err as LiveBatchError).code).toBe(code);
    expect((err as LiveBatchError).field).toBe(field);
  });
});

describe('an API replica following an engine', () => {
  let engine: Engine;
  let replica: Replica;
  const devices: Record<string, MqttClient> = {};
  const places: Record<string, [number, number]> = {
    'amb-1': [-6.2, 106.8],
    'amb-2': [-6.21, 106.81],
    'amb-3': [-6.25, 106.85],
    'truck-1': [-6.2005, 106.8005],
  };
  let viewerToken = '';

  const fix = async (id: string, lat: number, lon: number) => {
    await devices[id]!.publishAsync(`pantau/v1/vehicles/${id}/position`, JSON.stringify({ ts: new Date().toISOString(), lat, lon, accuracy_m: 5 }), { qos: 1 });
  };
  const startTheReplica = async (env: Record<string, string> = {}) =>
    startReplica(loadConfig({
      PANTAU_HTTP_PORT: '0', PANTAU_HOST: '127.0.0.1',
      PANTAU_ENGINE_URL: `http://127.0.0.1:${engine.ports.http}`, PANTAU_ENGINE_MQTT_URL: `mqtt://127.0.0.1:${engine.ports.mqtt}`,
      PANTAU_REPLICA_TOKEN: viewerToken, PANTAU_REPLICA_AUTH_CACHE_S: '0', ...env,
    }), { log: silentLogger });
  const get = async (r: Replica | Engine, url: string, headers: Record<string, string> = auth) => r.app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    engine = await startTestEngine({ liveTopicIntervalMs: 10 });
    viewerToken = await engine.registry.issueOperatorToken('replica-1', 'viewer');
    for (const id of Object.keys(places)) {
      const token = await provision(engine, { id, kind: 'vehicle', type: id.startsWith('amb') ? 'ambulance' : 'garbage_truck' });
      devices[id] = await connect(engine, { username: id, password: token });
    }
    // amb-3 reports before the replica starts (snapshot); the others after (live topic)
    await fix('amb-3', ...places['amb-3']!);
    await waitFor(() => engine.vehicles.get('amb-3'));
    replica = await startTheReplica();
    await replica.synced();
    for (const [id, [lat, lon]] of Object.entries(places)) if (id !== 'amb-3') await fix(id, lat, lon);
  }, 30_000);

  afterAll(async () => {
    await replica?.close();
    for (const c of Object.values(devices)) await c.endAsync(true);
    await engine?.close();
  });

  it('holds the fleet from the snapshot and the live topic, and answers nearest like the engine', async () => {
    await waitFor(() => replica.vehicles.size === 4);
    const url = '/api/v1/vehicles/nearest?lat=-6.2&lon=106.8&k=5&status=available';
    const mine = await get(replica, url);
    const theirs = await get(engine, url);
    expect(mine.statusCode).toBe(200);
    expect(mine.json().results.map((r: { id: string }) => r.id)).toEqual(['amb-1', 'truck-1', 'amb-2', 'amb-3']);
    expect(mine.json().results.map((r: { distance_m: number }) => r.distance_m)).toEqual(theirs.json().results.map((r: { distance_m: number }) => r.distance_m));
    const one = await get(replica, '/api/v1/vehicles/amb-3');
    expect(one.json().properties).toMatchObject({ id: 'amb-3', type: 'ambulance', status: 'available', accuracy_m: 5 });
    expect((await get(replica, '/readyz', {})).statusCode).toBe(200);
    expect((await get(replica, '/healthz', {})).json()).toMatchObject({ status: 'ok', role: 'replica' });
  });

  it('follows moves, dispatch statuses and deletions', async () => {
    await fix('amb-2', -6.3, 106.9);
    await waitFor(() => replica.vehicles.get('amb-2')?.lat === -6.3);

    const d = await engine.app.inject({ method: 'POST', url: '/api/v1/dispatches', headers: auth, payload: { lat: -6.2, lon: 106.8, type: 'ambulance' } });
    expect(d.statusCode).toBe(201);
    expect(d.json().vehicle.id).toBe('amb-1');
    await waitFor(() => replica.vehicles.get('amb-1')?.status === 'dispatched');
    const nearest = await get(replica, '/api/v1/vehicles/nearest?lat=-6.2&lon=106.8&k=5&type=ambulance');
    expect(nearest.json().results.map((r: { id: string }) => r.id)).toEqual(['amb-3', 'amb-2']);

    expect((await engine.app.inject({ method: 'DELETE', url: '/api/v1/devices/truck-1', headers: auth })).statusCode).toBe(204);
    await waitFor(() => !replica.vehicles.get('truck-1'));
    expect((await get(replica, '/api/v1/vehicles/truck-1')).json()).toMatchObject({ error: 'VEHICLE_NOT_FOUND' });
  });

  it('after losing the broker, reads the fleet again: what changed meanwhile is there, what was deleted is gone', async () => {
    const aedes = engine.broker.aedes as unknown as { clients: Record<string, { close(): void }> };
    const id = Object.keys(aedes.clients).find((c) => c.startsWith('pantau-replica-'))!;
    expect(id).toBeDefined();
    aedes.clients[id]!.close();
    await waitFor(() => !replica.ready());
    expect((await get(replica, '/readyz', {})).statusCode).toBe(503);
    // while it is away: amb-3 deleted (its live batch goes nowhere)
    expect((await engine.app.inject({ method: 'DELETE', url: '/api/v1/devices/amb-3', headers: auth })).statusCode).toBe(204);
    await waitFor(() => replica.ready(), 10_000);
    expect(replica.vehicles.get('amb-3')).toBeUndefined();
    expect([...replica.vehicles.all()].map((v) => v.id).sort()).toEqual([...engine.vehicles.all()].map((v) => v.id).sort());
  });

  it('checks tokens with the engine: none, unknown and roles', async () => {
    expect((await get(replica, '/api/v1/vehicles', {})).json()).toMatchObject({ error: 'UNAUTHORIZED' });
    expect((await get(replica, '/api/v1/vehicles', { authorization: 'Bearer not-a-token-of-this-engine' })).statusCode).toBe(401);
    const res = await get(replica, '/api/v1/vehicles', { authorization: `Bearer ${viewerToken}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().features.length).toBe(engine.vehicles.size);
    expect((await get(engine, '/api/v1/whoami', { authorization: `Bearer ${viewerToken}` })).json()).toEqual({ id: 'replica-1', role: 'viewer' });
    expect((await get(engine, '/api/v1/whoami', { authorization: `Bearer ${ADMIN_TOKEN}` })).json()).toEqual({ id: 'admin', role: 'admin' });
  });

  it('says what only the engine answers, and has no routes that change state', async () => {
    const within = await get(replica, '/api/v1/vehicles?within=some-fence');
    expect(within.statusCode).toBe(400);
    expect(within.json()).toMatchObject({ error: 'NOT_ON_REPLICA', details: { field: 'within' } });
    const post = await replica.app.inject({ method: 'POST', url: '/api/v1/dispatches', headers: auth, payload: { lat: -6.2, lon: 106.8, type: 'ambulance' } });
    expect(post.statusCode).toBe(404);
  });

  it('says it lost the engine only when it did: closing the replica logs no warning', async () => {
    const lines: string[] = [];
    const second = await startReplica(loadConfig({
      PANTAU_HTTP_PORT: '0', PANTAU_HOST: '127.0.0.1',
      PANTAU_ENGINE_URL: `http://127.0.0.1:${engine.ports.http}`, PANTAU_ENGINE_MQTT_URL: `mqtt://127.0.0.1:${engine.ports.mqtt}`,
      PANTAU_REPLICA_TOKEN: viewerToken,
    }), { log: createLogger('debug', (l) => lines.push(l)) });
    await second.synced();
    await waitFor(() => second.ready());
    await second.close();
    expect(lines.filter((l) => /lost the engine broker/.test(l))).toEqual([]);
  });

  it('refuses to start without an engine to follow, naming the variable', async () => {
    await expect(startReplica(loadConfig({ PANTAU_HTTP_PORT: '0' }), { log: silentLogger })).rejects.toThrow(/PANTAU_ENGINE_URL/);
  });

  it('nobody but the engine may publish on the live topic', async () => {
    const admin = await connect(engine, { username: 'operator', password: ADMIN_TOKEN });
    const before = replica.vehicles.get('amb-2');
    await admin.publishAsync(LIVE_VEHICLES_TOPIC, JSON.stringify({ at: new Date().toISOString(), vehicles: [], removed: ['amb-2'] }), { qos: 0 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(replica.vehicles.get('amb-2')).toEqual(before);
    await admin.endAsync(true);
  });
});
