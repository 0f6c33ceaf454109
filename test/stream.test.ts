// The live stream end to end: GET /api/v1/stream over real HTTP, fed by real MQTT publishes and API
// calls; per-vehicle coalescing, resuming with Last-Event-ID, a client that stops reading, and auth.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Engine } from '../engine/engine.ts';
import { ADMIN_TOKEN, auth, provision, startTestEngine, tempDataDir } from './helpers/engine.ts';
import { connect, waitFor } from './helpers/mqtt.ts';
import { redactAccessToken } from '../api/stream.ts';
import { loadConfig } from '../engine/config.ts';

// Small bounds so the window and the slow-client limit are reached in a test's time.
const RING_EVENTS = 40;
const MAX_BUFFERED_BYTES = 256 * 1024;

let engine: Engine;
const tokens: Record<string, string> = {};
const clients: MqttClient[] = [];
const streams: Stream[] = [];

interface SseEvent {
  id: string | undefined;
  event: string;
  data: Record<string, unknown>;
}
interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** the error body of a refused request */
  body: Record<string, unknown> | null;
  events: SseEvent[];
  comments: string[];
  /** the client's Last-Event-ID, as EventSource keeps it */
  lastId: string | undefined;
  of(topic: string): SseEvent[];
  close(): void;
}

/** A minimal EventSource (HTML Living Standard 9.2.6) over node:http, one connection, no reconnects. */
function openStream(opts: { topics?: string; lastEventId?: string; token?: string | null; tokenInQuery?: boolean } = {}): Promise<Stream> {
  const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
  const query = new URLSearchParams();
  if (opts.topics !== undefined) query.set('topics', opts.topics);
  if (token && opts.tokenInQuery) query.set('access_token', token);
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token && !opts.tokenInQuery) headers.authorization = `Bearer ${token}`;
  if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: engine.ports.http, path: `/api/v1/stream?${query}`, headers, agent: false }, (res) => {
      res.setEncoding('utf8');
      const s: Stream = {
        status: res.statusCode ?? 0, headers: res.headers, body: null, events: [], comments: [], lastId: undefined,
        of: (topic) => s.events.filter((e) => e.event === topic),
        close: () => req.destroy(),
      };
      streams.push(s);
      if (s.status !== 200) {
        let text = '';
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ ...s, body: JSON.parse(text) }));
        return;
      }
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = '';
          let data: string | null = null;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) s.comments.push(line.slice(1).trim());
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') s.lastId = value;
            else if (field === 'event') event = value;
            else if (field === 'data') data = data === null ? value : `${data}\n${value}`;
          }
          if (data !== null) s.events.push({ id: s.lastId, event: event || 'message', data: JSON.parse(data) });
        }
      });
      res.on('error', () => undefined);
      resolve(s);
    });
    req.on('error', (err) => (streams.length ? undefined : reject(err)));
  });
}

const seqOf = (id: string | undefined) => Number(id!.split('-')[1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const api = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object) =>
  engine.app.inject({ method, url: `/api/v1${url}`, headers: auth, ...(payload ? { payload } : {}) });
const metric = async (line: RegExp) => Number(line.exec((await engine.app.inject({ url: '/metrics' })).body)?.[1] ?? 0);

let connections = 0;
async function device(id: string): Promise<MqttClient> {
  const c = await connect(engine, { clientId: `${id}-${connections++}`, username: id, password: tokens[id] });
  clients.push(c);
  return c;
}
async function fix(id: string, body: Record<string, unknown>) {
  await (await device(id)).publishAsync(`pantau/v1/vehicles/${id}/position`, JSON.stringify(body), { qos: 1 });
}
async function reading(id: string, cm: number) {
  await (await device(id)).publishAsync(`pantau/v1/sensors/${id}/reading`, JSON.stringify({ ts: Date.now(), values: { water_level_cm: cm } }), { qos: 1 });
}

// Pintu air in Kampung Melayu and a square fence around it
const square = (lon0: number, lat0: number, d: number) => [[lon0, lat0], [lon0 + d, lat0], [lon0 + d, lat0 + d], [lon0, lat0 + d], [lon0, lat0]];
const FENCE = { type: 'Feature', id: 'pool-tebet', geometry: { type: 'Polygon', coordinates: [square(106.85, -6.23, 0.02)] }, properties: { name: 'Pool Tebet' } };

beforeAll(async () => {
  engine = await startTestEngine({
    dataDir: tempDataDir(), streamBufferEvents: RING_EVENTS, streamMaxBufferedBytes: MAX_BUFFERED_BYTES, streamHeartbeatS: 1, geofenceExitDelayS: 0,
  });
  for (const id of ['amb-1', 'amb-2', 'amb-3']) tokens[id] = await provision(engine, { id, kind: 'vehicle', type: 'ambulance' });
  tokens['gt-1'] = await provision(engine, { id: 'gt-1', kind: 'vehicle', type: 'garbage_truck' });
  tokens['pintu-s'] = await provision(engine, { id: 'pintu-s', kind: 'sensor', type: 'water_level', lat: -6.215, lon: 106.86 });
  const put = await api('PUT', '/sensors/pintu-s/thresholds', {
    metric: 'water_level_cm', levels: [{ name: 'SIAGA_3', value: 80 }, { name: 'SIAGA_2', value: 150 }, { name: 'SIAGA_1', value: 200 }], hysteresis: 5,
  });
  expect(put.statusCode, put.body).toBe(200);
  expect((await api('POST', '/geofences', FENCE)).statusCode).toBe(201);
});

afterAll(async () => {
  for (const s of streams) s.close();
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await engine?.close();
});

describe('GET /api/v1/stream', () => {
  it('sends vehicle, alert, geofence-event and dispatch events from MQTT publishes and API calls', async () => {
    const s = await openStream();
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);

    const t = Date.now();
    await fix('amb-1', { ts: t, lat: -6.22, lon: 106.86, speed_kmh: 32, heading: 90 }); // inside the fence
    const v = await waitFor(() => s.of('vehicles').find((e) => e.data.id === 'amb-1'));
    expect(Object.keys(v.data).sort()).toEqual(['age_s', 'heading', 'id', 'lat', 'lon', 'speed_kmh', 'status', 'ts', 'type']);
    expect(v.data).toMatchObject({ id: 'amb-1', type: 'ambulance', status: 'available', lat: -6.22, lon: 106.86, speed_kmh: 32, heading: 90, ts: new Date(t).toISOString() });
    expect(v.data.age_s).toBeGreaterThanOrEqual(0);
    const enter = await waitFor(() => s.of('events').find((e) => e.data.vehicle_id === 'amb-1'));
    expect(Object.keys(enter.data).sort()).toEqual(['fence_id', 'id', 'lat', 'lon', 'ts', 'type', 'vehicle_id']);
    expect(enter.data).toMatchObject({ fence_id: 'pool-tebet', type: 'enter', ts: new Date(t).toISOString(), lat: -6.22, lon: 106.86 });

    await reading('pintu-s', 90);
    const raised = await waitFor(() => s.of('alerts').find((e) => e.data.source_id === 'pintu-s'));
    expect(raised.data).toMatchObject({ kind: 'water_level', level: 'SIAGA_3', value: 90, state: 'active', acknowledged_by: null });
    const listed = (await api('GET', '/alerts?state=active&kind=water_level')).json().alerts.find((a: { id: string }) => a.id === raised.data.id);
    expect(listed).toMatchObject(raised.data); // the API may add to the view (cameras nearby)
    expect((await api('POST', `/alerts/${String(raised.data.id)}/ack`)).statusCode).toBe(200);
    const acked = await waitFor(() => s.of('alerts').find((e) => e.data.id === raised.data.id && e.data.acknowledged_by === 'admin'));
    expect(acked.data.state).toBe('active');

    const created = await api('POST', '/dispatches', { lat: -6.221, lon: 106.861, note: '112: fall' });
    expect(created.statusCode, created.body).toBe(201);
    const dispatched = await waitFor(() => s.of('dispatches').find((e) => e.data.id === created.json().id));
    expect(created.json()).toMatchObject(dispatched.data); // the API may add to the view (cameras nearby)
    expect(dispatched.data).toMatchObject({ state: 'dispatched', vehicle: { id: 'amb-1', status: 'dispatched' } });
    const moved = await api('PATCH', `/dispatches/${created.json().id}`, { state: 'en_route' });
    expect(moved.statusCode).toBe(200);
    const enRoute = await waitFor(() => s.of('dispatches').find((e) => e.data.state === 'en_route'));
    expect(moved.json()).toMatchObject(enRoute.data);
    // the vehicle's status followed the dispatch, and the vehicles topic says so
    await waitFor(() => s.of('vehicles').find((e) => e.data.id === 'amb-1' && e.data.status === 'en_route'), 4000);
    expect((await api('PATCH', `/dispatches/${created.json().id}`, { state: 'closed' })).statusCode).toBe(200);

    // one sequence for all topics, each event with its id
    const seqs = s.events.map((e) => seqOf(e.id));
    expect(seqs.every((n, i) => i === 0 || n > seqs[i - 1]!)).toBe(true);
    s.close();
  });

  it('coalesces many fixes of one vehicle within the throttle window into one event with the last position', async () => {
    const s = await openStream({ topics: 'vehicles' });
    // ten connections publishing at once, so that all ten land well inside the default 1 s window
    const senders = await Promise.all(Array.from({ length: 10 }, () => device('amb-2')));
    const t0 = Date.now() - 5000;
    const fixes = senders.map((_, i) => ({ ts: t0 + i * 100, lat: -6.3 + i * 0.001, lon: 106.8 + i * 0.001 }));
    const started = Date.now();
    await Promise.all(senders.map((c, i) => c.publishAsync('pantau/v1/vehicles/amb-2/position', JSON.stringify(fixes[i]), { qos: 1 })));
    expect(Date.now() - started).toBeLessThan(800);
    const first = await waitFor(() => s.of('vehicles').find((e) => e.data.id === 'amb-2'));
    const firstAt = Date.now();
    await sleep(1500);
    const mine = s.of('vehicles').filter((e) => e.data.id === 'amb-2');
    expect(mine).toHaveLength(1);
    expect(first.data).toMatchObject({ lat: fixes[9]!.lat, lon: fixes[9]!.lon, ts: new Date(fixes[9]!.ts).toISOString() });

    // the next move is the next window's: one more event, a window after
    await fix('amb-2', { ts: t0 + 2000, lat: -6.29, lon: 106.81 });
    const second = await waitFor(() => s.of('vehicles').filter((e) => e.data.id === 'amb-2')[1], 4000);
    expect(second.data).toMatchObject({ lat: -6.29, lon: 106.81 });
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(900);
    s.close();
  });

  it('resumes after a reconnect with Last-Event-ID: everything missed, in order, no duplicates', async () => {
    const reference = await openStream();
    const a = await openStream();
    await fix('gt-1', { ts: Date.now() - 1000, lat: -6.25, lon: 106.8 });
    await waitFor(() => a.of('vehicles').find((e) => e.data.id === 'gt-1'));
    const lastSeen = a.lastId!;
    a.close();

    // while a is away: vehicles move, an alert escalates, a dispatch is made and cancelled
    await fix('gt-1', { ts: Date.now(), lat: -6.251, lon: 106.8 });
    await fix('amb-3', { ts: Date.now(), lat: -6.2, lon: 106.83 });
    await reading('pintu-s', 160);
    const d = (await api('POST', '/dispatches', { lat: -6.2, lon: 106.83 })).json();
    expect(d.vehicle.id).toBe('amb-3');
    await api('PATCH', `/dispatches/${d.id}`, { state: 'cancelled' });
    await waitFor(() => reference.of('dispatches').find((e) => e.data.state === 'cancelled'));
    await sleep(1300); // the coalesced vehicle events of the last window
    const missed = reference.events.filter((e) => seqOf(e.id) > seqOf(lastSeen));
    expect(missed.length).toBeGreaterThanOrEqual(5);
    expect(missed.length).toBeLessThan(RING_EVENTS);
    expect(new Set(missed.map((e) => e.event))).toEqual(new Set(['vehicles', 'alerts', 'dispatches']));

    const b = await openStream({ lastEventId: lastSeen });
    await waitFor(() => b.events.length >= missed.length);
    expect(b.events.map((e) => e.id)).toEqual(missed.map((e) => e.id));
    expect(b.events.map((e) => e.data)).toEqual(missed.map((e) => e.data));
    expect(b.lastId).toBe(reference.lastId);

    // and then it is live again
    await reading('pintu-s', 60);
    await waitFor(() => b.of('alerts').find((e) => e.data.state === 'resolved'));
    const all = [...a.events, ...b.events].map((e) => e.id);
    expect(new Set(all).size).toBe(all.length);
    const fromA = reference.events.filter((e) => seqOf(e.id) >= seqOf(a.events[0]!.id)).map((e) => e.id);
    await waitFor(() => reference.events.length && seqOf(reference.lastId) >= seqOf(b.lastId));
    expect(all).toEqual(fromA.slice(0, all.length));
    expect(await metric(/^pantau_stream_resumes_total\{outcome="resumed"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    reference.close();
    b.close();
  });

  it('sends event: reset for an id older than the window, or unknown, then carries on live', async () => {
    const c = await openStream({ topics: 'dispatches' });
    await waitFor(() => c.lastId); // set by the first lines, before any event
    const away = c.lastId!;
    c.close();
    // more dispatch events than the ring keeps
    for (let i = 0; i < RING_EVENTS / 2 + 1; i++) {
      const d = (await api('POST', '/dispatches', { lat: -6.2, lon: 106.83 })).json();
      expect((await api('PATCH', `/dispatches/${d.id}`, { state: 'cancelled' })).statusCode).toBe(200);
    }
    const r = await openStream({ topics: 'dispatches', lastEventId: away });
    const reset = await waitFor(() => r.events[0]);
    expect(reset).toMatchObject({ event: 'reset', id: engine.feed.lastId, data: { reason: 'too_old' } });
    const d = (await api('POST', '/dispatches', { lat: -6.2, lon: 106.83 })).json();
    await waitFor(() => r.of('dispatches').find((e) => e.data.id === d.id));
    expect(r.events.map((e) => e.event)).toEqual(['reset', 'dispatches']);
    await api('PATCH', `/dispatches/${d.id}`, { state: 'cancelled' });

    for (const unknown of ['nonsense', `${engine.feed.epoch}-99999999`, `00000000-1`]) {
      const u = await openStream({ lastEventId: unknown });
      expect((await waitFor(() => u.events[0])).data.reason).toBe('unknown_id');
      u.close();
    }
    expect(await metric(/^pantau_stream_resumes_total\{outcome="reset"\} (\d+)/m)).toBe(4);
    r.close();
  });

  it('drops a client that stops reading, counts it, and stays healthy', async () => {
    const good = await openStream({ topics: 'alerts' });
    const raw = net.connect(engine.ports.http, '127.0.0.1');
    raw.pause(); // sends its request, never reads
    raw.write(`GET /api/v1/stream?topics=alerts&access_token=${ADMIN_TOKEN} HTTP/1.1\r\nHost: pantau\r\nAccept: text/event-stream\r\n\r\n`);
    let rawClosed = false;
    raw.on('close', () => (rawClosed = true));
    raw.on('error', () => undefined);
    await waitFor(async () => (await metric(/^pantau_stream_clients (\d+)/m)) === 2);

    // Megabytes of events: the kernel's socket buffers take some before the engine holds any.
    // Published into the feed directly: MQTT at a test's pace would take minutes to fill them.
    const filler = 'x'.repeat(4000);
    let produced = 0;
    while ((await metric(/^pantau_stream_clients_dropped_total\{reason="slow"\} (\d+)/m)) === 0) {
      for (let i = 0; i < 8; i++) engine.feed.publish('alerts', { id: `synthetic-${produced++}`, kind: 'test', message: filler });
      // at the pace of the good client, which shares this process (and its two cores) with the engine
      await waitFor(() => good.events.length === produced);
      expect(produced).toBeLessThan(50_000); // 200 MB: something is wrong
    }
    await waitFor(async () => (await metric(/^pantau_stream_clients (\d+)/m)) === 1);
    expect(await metric(/^pantau_stream_clients_dropped_total\{reason="slow"\} (\d+)/m)).toBe(1);
    // the good client read everything
    expect(good.events.map((e) => e.data.id)).toEqual(Array.from({ length: produced }, (_, i) => `synthetic-${i}`));

    // the dropped one learns it is closed as soon as it reads
    raw.resume();
    await waitFor(() => rawClosed);

    // healthy: the API answers, MQTT goes on, the good client gets real events
    const health = await fetch(`http://127.0.0.1:${engine.ports.http}/healthz`);
    expect(health.status).toBe(200);
    await reading('pintu-s', 91);
    await waitFor(() => good.of('alerts').find((e) => e.data.source_id === 'pintu-s' && e.data.value === 91));
    good.close();
  });

  it('needs a token (header or ?access_token=, viewer is enough), sends heartbeats, and refuses unknown topics', async () => {
    const none = await openStream({ token: null });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'UNAUTHORIZED' });
    expect((await openStream({ token: 'po_not-a-token', tokenInQuery: true })).status).toBe(401);
    // the query parameter is the stream's only: elsewhere a token goes in the header
    const elsewhere = await fetch(`http://127.0.0.1:${engine.ports.http}/api/v1/vehicles?access_token=${ADMIN_TOKEN}`);
    expect(elsewhere.status).toBe(401);

    const viewer = await engine.registry.issueOperatorToken('wall-screen', 'viewer');
    const s = await openStream({ token: viewer, tokenInQuery: true, topics: 'alerts,dispatches' });
    expect(s.status).toBe(200);
    await waitFor(() => s.comments.includes('heartbeat'), 3000);
    s.close();

    const bad = await openStream({ topics: 'vehicles,boats' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'BAD_QUERY', details: { field: 'topics', got: ['boats'], allowed: ['vehicles', 'alerts', 'events', 'dispatches'] } });
    expect(String(bad.body!.message)).toMatch(/boats/);

    expect(redactAccessToken('/api/v1/stream?topics=alerts&access_token=po_secret&x=1')).toBe('/api/v1/stream?topics=alerts&access_token=[redacted]&x=1');
    expect(redactAccessToken('/api/v1/stream?access_token=po_secret')).not.toMatch(/po_secret/);
  });

  it('is configured by validated keys with the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({ streamVehicleHz: 1, streamBufferEvents: 20_000, streamBufferAgeS: 300, streamMaxBufferedBytes: 1_048_576, streamHeartbeatS: 15 });
    expect(loadConfig({ PANTAU_STREAM_VEHICLE_HZ: '0.5' }).streamVehicleHz).toBe(0.5);
    const wrong: Array<[string, string]> = [['PANTAU_STREAM_VEHICLE_HZ', '0'], ['PANTAU_STREAM_BUFFER_EVENTS', 'many'], ['PANTAU_STREAM_MAX_BUFFERED_BYTES', '100'], ['PANTAU_STREAM_HEARTBEAT_S', '0']];
    for (const [variable, value] of wrong) {
      expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}:`));
    }
  });
});
