// Credentials that change take effect at once. Operators through the API: roles, tokens shown once, rotation and
// deletion (HTTP and MQTT), the last admin kept, API replicas told. Devices and subscribers: the MQTT session of a
// rotated or deleted device, or of a deleted subscriber, is closed; a device's session follows a PATCH of the device.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { cameraStreamRoute } from '../cctv/stream-route.ts';
import type { CameraStreams } from '../cctv/relay.ts';
import { loadConfig } from '../engine/config.ts';
import type { Engine } from '../engine/engine.ts';
import { startReplica, type Replica } from '../engine/replica.ts';
import { silentLogger } from '../engine/log.ts';
import { auth, provision, startTestEngine } from './helpers/engine.ts';
import { connect, connectRefused, waitFor } from './helpers/mqtt.ts';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('operators (PANTAU_ADMIN_TOKEN set)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string> = auth, payload?: unknown) =>
    engine.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

  it('creates a viewer whose token reads but does not change state, and shows the token once', async () => {
    const res = await call('POST', '/api/v1/operators', auth, { id: 'ops-viewer', role: 'viewer' });
    expect(res.statusCode).toBe(201);
    const { token, role } = res.json();
    expect(role).toBe('viewer');
    expect(token).toMatch(/^po_/);
    expect((await call('GET', '/api/v1/vehicles', bearer(token))).statusCode).toBe(200);
    const post = await call('POST', '/api/v1/dispatches', bearer(token), { lat: -6.2, lon: 106.8, type: 'ambulance' });
    expect(post.statusCode).toBe(403);
    expect(post.json().error).toBe('FORBIDDEN');
    expect((await call('GET', '/api/v1/operators', bearer(token))).statusCode).toBe(403);
    // listed without any token or hash
    const list = await call('GET', '/api/v1/operators');
    expect(list.json().operators).toContainEqual({ id: 'ops-viewer', role: 'viewer' });
    expect(list.body).not.toContain('po_');
    expect(list.body).not.toContain('scrypt');
  });

  it.each([
    [{ id: 'ops-viewer', role: 'viewer' }, 409, 'OPERATOR_EXISTS'],
    [{ id: 'x', role: 'superuser' }, 400, 'VALIDATION_FAILED'],
    [{ id: 'bad id', role: 'viewer' }, 400, 'VALIDATION_FAILED'],
    [{ role: 'viewer' }, 400, 'VALIDATION_FAILED'],
    [{ id: 'x', role: 'viewer', token: 'chosen' }, 400, 'VALIDATION_FAILED'],
  ])('refuses %j with %i %s', async (body, status, code) => {
    const res = await call('POST', '/api/v1/operators', auth, body);
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toBe(code);
  });

  it('a role change applies to the next request with the same token', async () => {
    const { token } = (await call('POST', '/api/v1/operators', auth, { id: 'ops-promoted', role: 'viewer' })).json();
    expect((await call('PATCH', '/api/v1/dispatches/none', bearer(token), { state: 'closed' })).statusCode).toBe(403);
    const patched = await call('PATCH', '/api/v1/operators/ops-promoted', auth, { role: 'dispatcher' });
    expect(patched.json()).toEqual({ id: 'ops-promoted', role: 'dispatcher' });
    // past the role check now: the dispatch itself is what is missing
    expect((await call('PATCH', '/api/v1/dispatches/none', bearer(token), { state: 'closed' })).json().error).toBe('DISPATCH_NOT_FOUND');
  });

  it('rotating a token ends the old one at once, on HTTP and on MQTT (its open session is closed)', async () => {
    const { token: old } = (await call('POST', '/api/v1/operators', auth, { id: 'ops-rotated', role: 'viewer' })).json();
    expect((await call('GET', '/api/v1/vehicles', bearer(old))).statusCode).toBe(200); // now cached
    const session = await connect(engine, { username: 'operator', password: old });
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const rotated = await call('POST', '/api/v1/operators/ops-rotated/token');
    expect(rotated.statusCode).toBe(200);
    const { token: fresh } = rotated.json();
    expect(fresh).not.toBe(old);
    await closed;
    await session.endAsync(true);
    expect((await call('GET', '/api/v1/vehicles', bearer(old))).statusCode).toBe(401);
    expect((await call('GET', '/api/v1/vehicles', bearer(fresh))).statusCode).toBe(200);
    expect((await connectRefused(engine, { username: 'operator', password: old })).code).toBe(4);
    const again = await connect(engine, { username: 'operator', password: fresh });
    await again.endAsync(true);
  });

  it("rotating a token closes the operator's live stream (SSE) and camera viewers, not other operators'", async () => {
    const mine = (await call('POST', '/api/v1/operators', auth, { id: 'ops-wall', role: 'viewer' })).json().token as string;
    const theirs = (await call('POST', '/api/v1/operators', auth, { id: 'ops-other', role: 'viewer' })).json().token as string;
    const openSse = (token: string) =>
      new Promise<{ ended: Promise<void>; close(): void }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: engine.ports.http, path: '/api/v1/stream?topics=alerts', headers: bearer(token), agent: false }, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
          res.resume();
          resolve({ ended: new Promise<void>((r) => res.once('close', () => r())), close: () => req.destroy() });
        });
        req.on('error', () => undefined);
      });
    const sse = await openSse(mine);
    const otherSse = await openSse(theirs);
    let otherEnded = false;
    void otherSse.ended.then(() => (otherEnded = true));

    // The camera route on a server of its own, with a relay that keeps every viewer open (no ffmpeg needed).
    expect((await call('POST', '/api/v1/cameras', auth, { id: 'cam-ops', name: 'Ops room', lat: -6.2, lon: 106.8, rtsp_url: 'rtsp://10.0.0.9/ch1' })).statusCode).toBe(201);
    const route = cameraStreamRoute({ registry: engine.registry, cameras: engine.cameras, streams: { watch: () => undefined } as unknown as CameraStreams, log: engine.log });
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => route.handle(req, socket, head));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/cameras/cam-ops/stream`, { headers: bearer(mine) });
    const frames: string[] = [];
    ws.on('message', (data) => frames.push(String(data)));
    const wsClosed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: String(reason) })));
    await new Promise<void>((r, j) => {
      ws.once('open', () => r());
      ws.once('error', j);
    });

    expect((await call('POST', '/api/v1/operators/ops-wall/token')).statusCode).toBe(200);
    await sse.ended;
    expect(await wsClosed).toEqual({ code: 1008, reason: 'UNAUTHORIZED' });
    expect(JSON.parse(frames[0]!)).toMatchObject({ error: 'UNAUTHORIZED' });
    await new Promise((r) => setTimeout(r, 100));
    expect(otherEnded).toBe(false);
    otherSse.close();
    route.close();
    await new Promise<void>((r) => server.close(() => r()));
    // reconnecting with the old token is refused
    await expect(openSse(mine)).rejects.toThrow(/401/);
  });

  it('deleting an operator ends its token; unknown operators are 404', async () => {
    const { token } = (await call('POST', '/api/v1/operators', auth, { id: 'ops-gone', role: 'dispatcher' })).json();
    expect((await call('GET', '/api/v1/vehicles', bearer(token))).statusCode).toBe(200);
    expect((await call('DELETE', '/api/v1/operators/ops-gone')).statusCode).toBe(204);
    expect((await call('GET', '/api/v1/vehicles', bearer(token))).statusCode).toBe(401);
    for (const [method, url] of [['GET', '/api/v1/operators/ops-gone'], ['DELETE', '/api/v1/operators/ops-gone'], ['POST', '/api/v1/operators/ops-gone/token']] as const) {
      const res = await call(method, url);
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toBe('OPERATOR_NOT_FOUND');
    }
    expect((await call('PATCH', '/api/v1/operators/ops-gone', auth, { role: 'viewer' })).json().error).toBe('OPERATOR_NOT_FOUND');
  });

  it('a token check that straddles a rotation does not keep the old token alive', async () => {
    // scrypt per stored operator: with several listed before it, checking zz-late's token takes longer than rotating it
    for (const id of ['aa-1', 'aa-2', 'aa-3', 'aa-4']) await engine.registry.issueOperatorToken(id, 'viewer');
    const old = await engine.registry.createOperator('zz-late', 'viewer');
    const checking = engine.registry.authenticateOperator(old);
    await engine.registry.issueOperatorToken('zz-late', 'viewer');
    await checking;
    expect(await engine.registry.authenticateOperator(old)).toBeNull();
    expect((await call('GET', '/api/v1/vehicles', bearer(old))).statusCode).toBe(401);
  });

  it('with PANTAU_ADMIN_TOKEN set, the last stored admin may go', async () => {
    await call('POST', '/api/v1/operators', auth, { id: 'ops-admin', role: 'admin' });
    expect((await call('PATCH', '/api/v1/operators/ops-admin', auth, { role: 'viewer' })).statusCode).toBe(200);
    expect((await call('DELETE', '/api/v1/operators/ops-admin')).statusCode).toBe(204);
  });
});

describe('devices and subscribers whose credentials end', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('rotating a device token closes the session opened with the old one, and deleting the device closes the new one', async () => {
    const token = await provision(engine, { id: 'amb-stolen', kind: 'vehicle', type: 'ambulance' });
    const first = await connect(engine, { username: 'amb-stolen', password: token });
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    const rotated = await engine.app.inject({ method: 'POST', url: '/api/v1/devices/amb-stolen/token', headers: auth });
    expect(rotated.statusCode).toBe(200);
    await firstClosed;
    await first.endAsync(true);
    expect((await connectRefused(engine, { username: 'amb-stolen', password: token })).code).toBe(4);

    const second = await connect(engine, { username: 'amb-stolen', password: rotated.json().token });
    await second.publishAsync('pantau/v1/vehicles/amb-stolen/position', JSON.stringify({ ts: new Date().toISOString(), lat: -6.2, lon: 106.8 }), { qos: 1 });
    const secondClosed = new Promise<void>((resolve) => second.once('close', () => resolve()));
    expect((await engine.app.inject({ method: 'DELETE', url: '/api/v1/devices/amb-stolen', headers: auth })).statusCode).toBe(204);
    await secondClosed;
    await second.endAsync(true);
    expect(engine.vehicles.get('amb-stolen')).toBeUndefined();
  });

  it("a device's open session follows a PATCH of its OwnTracks key, without reconnecting", async () => {
    const token = await provision(engine, { id: 'gt-relabelled', kind: 'vehicle', type: 'garbage_truck', owntracks: 'dlh/old' });
    const c = await connect(engine, { username: 'gt-relabelled', password: token });
    let closed = false;
    c.on('close', () => (closed = true));
    const patched = await engine.app.inject({ method: 'PATCH', url: '/api/v1/devices/gt-relabelled', headers: auth, payload: { owntracks: 'dlh/new' } });
    expect(patched.statusCode).toBe(200);
    const fix = (lat: number) => JSON.stringify({ _type: 'location', lat, lon: 106.81, tst: Math.floor(Date.now() / 1000) });
    await c.publishAsync('owntracks/dlh/new', fix(-6.21), { qos: 1 });
    await waitFor(() => engine.vehicles.get('gt-relabelled')?.lat === -6.21);
    expect(closed).toBe(false);
    // The old key is no longer the device's: publishing there is refused, which ends the session [MQTT-3.3.5-2].
    const gone = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('owntracks/dlh/old', fix(-6.22), { qos: 1 });
    await gone;
    await c.endAsync(true);
    expect(engine.vehicles.get('gt-relabelled')?.lat).toBe(-6.21);
  });

  it('deleting a subscriber closes its open MQTT session, and its token is refused after', async () => {
    const created = await engine.app.inject({
      method: 'POST', url: '/api/v1/subscribers', headers: auth,
      payload: { name: 'RW 05 Kampung Melayu', area: { type: 'Point', coordinates: [106.866, -6.224] }, radius_m: 500, kinds: ['water_level'] },
    });
    expect(created.statusCode).toBe(201);
    const { id, token, topic } = created.json();
    const c = await connect(engine, { username: id, password: token, clientId: id, clean: false });
    await c.subscribeAsync(topic, { qos: 1 });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    expect((await engine.app.inject({ method: 'DELETE', url: `/api/v1/subscribers/${id}`, headers: auth })).statusCode).toBe(204);
    await closed;
    await c.endAsync(true);
    expect((await connectRefused(engine, { username: id, password: token })).code).toBe(4);
  });
});

describe('operators (generated admin, no PANTAU_ADMIN_TOKEN)', () => {
  let engine: Engine;
  let admin = '';
  beforeAll(async () => {
    engine = await startTestEngine({ adminToken: null });
    admin = engine.generatedAdminToken!;
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('keeps one admin: the only one can be neither demoted nor deleted, until another exists', async () => {
    const h = bearer(admin);
    const demote = await engine.app.inject({ method: 'PATCH', url: '/api/v1/operators/admin', headers: h, payload: { role: 'viewer' } });
    expect(demote.statusCode).toBe(409);
    expect(demote.json().error).toBe('LAST_ADMIN');
    const del = await engine.app.inject({ method: 'DELETE', url: '/api/v1/operators/admin', headers: h });
    expect(del.json().error).toBe('LAST_ADMIN');
    const second = (await engine.app.inject({ method: 'POST', url: '/api/v1/operators', headers: h, payload: { id: 'chief', role: 'admin' } })).json();
    expect((await engine.app.inject({ method: 'DELETE', url: '/api/v1/operators/admin', headers: bearer(second.token) })).statusCode).toBe(204);
    expect((await engine.app.inject({ method: 'GET', url: '/api/v1/operators', headers: h })).statusCode).toBe(401);
    expect((await engine.app.inject({ method: 'GET', url: '/api/v1/operators', headers: bearer(second.token) })).json().operators).toEqual([{ id: 'chief', role: 'admin' }]);
  });

  it('two admins deleted at the same moment, the last two: exactly one goes', async () => {
    const registry = engine.registry;
    await registry.createOperator('twin-a', 'admin');
    await registry.createOperator('twin-b', 'admin');
    // the twins become the last two admins
    for (const o of registry.listOperators()) if (o.role === 'admin' && !o.id.startsWith('twin-')) expect(await registry.removeOperator(o.id)).toBe(true);
    const results = await Promise.allSettled([registry.removeOperator('twin-a'), registry.removeOperator('twin-b')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.constructor.name)).toEqual(['LastAdminError']);
    expect(registry.listOperators().filter((o) => o.role === 'admin')).toHaveLength(1);
  });
});

describe('an API replica hears of operator changes', () => {
  let engine: Engine;
  let replica: Replica;
  beforeAll(async () => {
    engine = await startTestEngine({ liveTopicIntervalMs: 10 });
    const replicaToken = await engine.registry.issueOperatorToken('replica-1', 'viewer');
    replica = await startReplica(loadConfig({
      PANTAU_HTTP_PORT: '0', PANTAU_HOST: '127.0.0.1',
      PANTAU_ENGINE_URL: `http://127.0.0.1:${engine.ports.http}`, PANTAU_ENGINE_MQTT_URL: `mqtt://127.0.0.1:${engine.ports.mqtt}`,
      // trusted for ten minutes: only the engine's message can end it sooner
      PANTAU_REPLICA_TOKEN: replicaToken, PANTAU_REPLICA_AUTH_CACHE_S: '600',
    }), { log: silentLogger });
    await replica.synced();
  }, 30_000);
  afterAll(async () => {
    await replica?.close();
    await engine?.close();
  });

  it('a deleted operator\'s token stops working on the replica within moments, not after the cache time', async () => {
    const { token } = (await engine.app.inject({ method: 'POST', url: '/api/v1/operators', headers: auth, payload: { id: 'desk-7', role: 'viewer' } })).json();
    const ask = async () => (await replica.app.inject({ method: 'GET', url: '/api/v1/vehicles', headers: bearer(token) })).statusCode;
    expect(await ask()).toBe(200); // confirmed by the engine, now trusted
    expect((await engine.app.inject({ method: 'DELETE', url: '/api/v1/operators/desk-7', headers: auth })).statusCode).toBe(204);
    await waitFor(async () => (await ask()) === 401, 5000);
    expect(await ask()).toBe(401);
  });
});
