// The spine over real TCP with real MQTT clients: provision, publish, PUBACK after commit,
// history, live state, refusals, rejects, and a restart on the same data directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { WebSocket } from 'ws';
import mqtt from 'mqtt';
import type { Engine } from '../engine/engine.ts';
import { auth, provision, startTestEngine, tempDataDir } from './helpers/engine.ts';
import { collect, connect, connectRefused, waitFor } from './helpers/mqtt.ts';

const dataDir = tempDataDir();
let engine: Engine;
const tokens: Record<string, string> = {};

async function countRows(table: string, deviceId: string): Promise<number> {
  const [row] = await engine.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE device_id = $1`, [deviceId]);
  return row!.n;
}

beforeAll(async () => {
  engine = await startTestEngine({ dataDir });
  tokens['amb-1'] = await provision(engine, { id: 'amb-1', kind: 'vehicle', type: 'ambulance' });
  tokens['amb-2'] = await provision(engine, { id: 'amb-2', kind: 'vehicle', type: 'ambulance' });
  tokens['truck-ot'] = await provision(engine, { id: 'truck-ot', kind: 'vehicle', type: 'garbage_truck', owntracks: 'dlh/truck7' });
  tokens['katulampa'] = await provision(engine, { id: 'katulampa', kind: 'sensor', type: 'water_level', lat: -6.633, lon: 106.837 });
});
afterAll(async () => {
  await engine?.close();
});

describe('QoS 1 ingest', () => {
  it('acknowledges a fix only once it is in history, and serves it live', async () => {
    const c = await connect(engine, { clientId: 'amb-1', username: 'amb-1', password: tokens['amb-1'] });
    const ts = Date.now() - 1000;
    await c.publishAsync('pantau/v1/vehicles/amb-1/position', JSON.stringify({ ts, lat: -6.2, lon: 106.82, speed_kmh: 42, heading: 90, accuracy_m: 5, seq: 1 }), { qos: 1 });
    // PUBACK arrived: the row must already be committed.
    expect(await countRows('vehicle_positions', 'amb-1')).toBe(1);
    const live = await engine.app.inject({ url: '/api/v1/vehicles/amb-1', headers: auth });
    expect(live.json().properties).toMatchObject({ id: 'amb-1', type: 'ambulance', status: 'available', speed_kmh: 42, ts: new Date(ts).toISOString() });
    await c.endAsync();
  });

  it('stores a repeated fix once (same ts, or same seq)', async () => {
    const c = await connect(engine, { clientId: 'amb-2', username: 'amb-2', password: tokens['amb-2'] });
    const ts = Date.now() - 5000;
    const fix = { ts, lat: -6.25, lon: 106.85, seq: 10 };
    await c.publishAsync('pantau/v1/vehicles/amb-2/position', JSON.stringify(fix), { qos: 1 });
    await c.publishAsync('pantau/v1/vehicles/amb-2/position', JSON.stringify(fix), { qos: 1 });
    await c.publishAsync('pantau/v1/vehicles/amb-2/position', JSON.stringify({ ...fix, ts: ts + 1 }), { qos: 1 }); // same seq
    expect(await countRows('vehicle_positions', 'amb-2')).toBe(1);
    await c.endAsync();
  });

  it('keeps a late fix out of the live position but stores it', async () => {
    const c = await connect(engine, { clientId: 'amb-2b', username: 'amb-2', password: tokens['amb-2'] });
    const now = Date.now();
    await c.publishAsync('pantau/v1/vehicles/amb-2/positions', JSON.stringify([
      { ts: now - 2000, lat: -6.3, lon: 106.8 },
      { ts: now - 60_000, lat: -6.1, lon: 106.7 }, // late: older than the live position
    ]), { qos: 1 });
    const live = engine.vehicles.get('amb-2')!;
    expect(live.ts).toBe(now - 2000);
    expect(live.lat).toBe(-6.3);
    expect(await countRows('vehicle_positions', 'amb-2')).toBe(3);
    await c.publishAsync('pantau/v1/vehicles/amb-2/position', JSON.stringify({ ts: now - 30_000, lat: -6.0, lon: 106.6 }), { qos: 1 });
    expect(engine.vehicles.get('amb-2')!.lat).toBe(-6.3);
    await c.endAsync();
  });

  it('applies a crew status report to the live vehicle and the nearest filter', async () => {
    const c = await connect(engine, { clientId: 'amb-1s', username: 'amb-1', password: tokens['amb-1'] });
    await c.publishAsync('pantau/v1/vehicles/amb-1/status', JSON.stringify({ ts: new Date().toISOString(), status: 'busy' }), { qos: 1 });
    expect(engine.vehicles.get('amb-1')!.status).toBe('busy');
    const near = await engine.app.inject({ url: '/api/v1/vehicles/nearest?lat=-6.2&lon=106.82&max_age_s=3600', headers: auth });
    expect(near.json().results.map((r: { id: string }) => r.id)).not.toContain('amb-1');
    await c.publishAsync('pantau/v1/vehicles/amb-1/status', JSON.stringify({ ts: Date.now(), status: 'available' }), { qos: 1 });
    const [row] = await engine.db.query<{ status: string }>(`SELECT status FROM devices WHERE id = 'amb-1'`);
    expect(row!.status).toBe('available');
    await c.endAsync();
  });

  it('accepts OwnTracks from the vehicle provisioned with that user/device', async () => {
    const c = await connect(engine, { clientId: 'ot-phone', username: 'truck-ot', password: tokens['truck-ot'] });
    const tst = Math.floor(Date.now() / 1000) - 2;
    // owntracks.org/booklet/tech/json/ location example fields
    await c.publishAsync('owntracks/dlh/truck7', JSON.stringify({ _type: 'location', tid: 'T7', acc: 12, batt: 88, conn: 'm', lat: -6.21, lon: 106.84, tst, vel: 18, cog: 270 }), { qos: 1 });
    expect(engine.vehicles.get('truck-ot')).toMatchObject({ lat: -6.21, lon: 106.84, speedKmh: 18, heading: 270, ts: tst * 1000 });
    await c.endAsync();
  });

  it('accepts SenML water level in metres as centimetres, and serves it raw and bucketed', async () => {
    const c = await connect(engine, { clientId: 'katulampa', username: 'katulampa', password: tokens['katulampa'] });
    const bt = Date.now() / 1000 - 120;
    // RFC 8428 section 5.1.2 shape: base name and base time, relative record times
    const pack = [{ bn: 'urn:dev:pantau:katulampa:', bt, n: 'water_level', u: 'm', v: 1.2 }, { n: 'water_level', u: 'm', t: 60, v: 1.85 }];
    await c.publishAsync('pantau/v1/sensors/katulampa/senml', JSON.stringify(pack), { qos: 1 });
    await c.publishAsync('pantau/v1/sensors/katulampa/reading', JSON.stringify({ ts: Date.now(), values: { water_level_cm: 190, battery_pct: 97 } }), { qos: 1 });
    const sensor = (await engine.app.inject({ url: '/api/v1/sensors/katulampa', headers: auth })).json();
    expect(sensor.values.water_level_cm.value).toBe(190);
    expect(sensor.status).toBe('online');
    const raw = (await engine.app.inject({ url: '/api/v1/sensors/katulampa/readings?metric=water_level_cm', headers: auth })).json();
    expect(raw.readings.map((r: { value: number }) => r.value)).toEqual([120, 185, 190]);
    const buckets = (await engine.app.inject({ url: '/api/v1/sensors/katulampa/readings?metric=water_level_cm&bucket=5m', headers: auth })).json();
    const total = buckets.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0);
    expect(total).toBe(3);
    expect(Math.max(...buckets.buckets.map((b: { max: number }) => b.max))).toBe(190);
    await c.endAsync();
  });
});

describe('refusals and rejects', () => {
  it('refuses anonymous connections and bad tokens', async () => {
    expect((await connectRefused(engine, {})).code).toBe(5);
    expect((await connectRefused(engine, { username: 'amb-1', password: 'wrong' })).code).toBe(4);
  });

  it('refuses a zero-length client id with clean session 0 with CONNACK 2 [MQTT-3.1.3-7]', async () => {
    // mqtt.js will not send this CONNECT, so it is written by hand.
    const socket = net.connect(engine.ports.mqtt, '127.0.0.1');
    const connack = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    const str = (s: string) => {
      const b = Buffer.from(s);
      return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
    };
    // MQTT-3.1: protocol name, level 4, flags username|password (clean session 0), keep alive 30, empty client id
    const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc0, 0, 30]), str(''), str('amb-1'), str(tokens['amb-1']!)]);
    expect(body.length).toBeLessThan(128); // one-byte Remaining Length
    socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
    const bytes = await connack;
    expect([...bytes.subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x02]); // CONNACK, return code 2
    socket.destroy();
  });

  it('disconnects a device publishing on another device\'s topic, and stores nothing', async () => {
    const c = await connect(engine, { clientId: 'amb-1x', username: 'amb-1', password: tokens['amb-1'] });
    const before = await countRows('vehicle_positions', 'amb-2');
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('pantau/v1/vehicles/amb-2/position', JSON.stringify({ ts: Date.now(), lat: -6.2, lon: 106.8 }), { qos: 1 });
    await closed;
    expect(await countRows('vehicle_positions', 'amb-2')).toBe(before);
    c.end(true);
  });

  it('lets a device subscribe only to its own device topics', async () => {
    const c = await connect(engine, { clientId: 'amb-1-sub', username: 'amb-1', password: tokens['amb-1'] });
    const [own] = await c.subscribeAsync('pantau/v1/devices/amb-1/#', { qos: 1 });
    expect(own!.qos).toBe(1);
    // mqtt.js turns a SUBACK 0x80 into an error
    await expect(c.subscribeAsync('pantau/v1/devices/amb-2/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(c.subscribeAsync('#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await c.endAsync();
  });

  it('tells the device each reject on its rejects topic and counts it', async () => {
    const c = await connect(engine, { clientId: 'amb-1r', username: 'amb-1', password: tokens['amb-1'] });
    const got = await collect(c, 'pantau/v1/devices/amb-1/rejects');
    const topic = 'pantau/v1/vehicles/amb-1/position';
    const bad: Array<[string, string]> = [
      ['{"ts": 1', 'BAD_JSON'],
      [JSON.stringify({ ts: Date.now(), lon: 106.8 }), 'MISSING_FIELD'],
      [JSON.stringify({ ts: Date.now(), lat: 95, lon: 106.8 }), 'OUT_OF_RANGE'],
      [JSON.stringify({ ts: Date.now() + 3_600_000, lat: -6.2, lon: 106.8 }), 'TS_IN_FUTURE'],
      [JSON.stringify({ ts: 'yesterday', lat: -6.2, lon: 106.8 }), 'BAD_TYPE'],
    ];
    for (const [payload] of bad) await c.publishAsync(topic, payload, { qos: 1 });
    await waitFor(() => got.length >= bad.length);
    expect(got.map((m) => m.json.code)).toEqual(bad.map(([, code]) => code));
    expect(got[0]!.json).toMatchObject({ topic });
    expect(typeof got[0]!.json.message).toBe('string');
    const metrics = (await engine.app.inject({ url: '/metrics' })).body;
    for (const [, code] of bad) expect(metrics).toMatch(new RegExp(`pantau_rejects_total\\{code="${code}"\\} [1-9]`));
    await c.endAsync();
  });

  it('rejects an unknown metric from a sensor but keeps its known metrics', async () => {
    const c = await connect(engine, { clientId: 'katulampa-r', username: 'katulampa', password: tokens['katulampa'] });
    const got = await collect(c, 'pantau/v1/devices/katulampa/rejects');
    const ts = Date.now() - 10_000;
    await c.publishAsync('pantau/v1/sensors/katulampa/reading', JSON.stringify({ ts, values: { water_level_cm: 150, radiation_usv: 3 } }), { qos: 1 });
    await waitFor(() => got.length >= 1);
    expect(got[0]!.json.code).toBe('UNKNOWN_METRIC');
    const [row] = await engine.db.query<{ n: number }>(`SELECT count(*) AS n FROM sensor_readings WHERE device_id = 'katulampa' AND time = to_timestamp($1 / 1000.0)`, [ts]);
    expect(row!.n).toBe(1);
    await c.endAsync();
  });

  it('disconnects a client whose packet exceeds the maximum packet size', async () => {
    const c = await connect(engine, { clientId: 'amb-1big', username: 'amb-1', password: tokens['amb-1'] });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('pantau/v1/vehicles/amb-1/positions', Buffer.alloc(engine.config.maxPacketBytes + 10, 0x20), { qos: 1 });
    await closed;
    c.end(true);
    expect((await engine.app.inject({ url: '/metrics' })).body).toMatch(/pantau_mqtt_auth_failures_total\{reason="packet_too_large"\} 1/);
  });
});

describe('MQTT over WebSocket and operators', () => {
  it('serves MQTT at /mqtt on the HTTP port, and lets an operator read every topic', async () => {
    const op = await mqtt.connectAsync(`ws://127.0.0.1:${engine.ports.http}/mqtt`, { username: 'operator', password: 'test-admin-token-0123456789', reconnectPeriod: 0 });
    const got = await collect(op, 'pantau/v1/vehicles/+/position');
    const dev = await mqtt.connectAsync(`ws://127.0.0.1:${engine.ports.http}/mqtt`, { clientId: 'amb-1ws', username: 'amb-1', password: tokens['amb-1'], reconnectPeriod: 0 });
    await dev.publishAsync('pantau/v1/vehicles/amb-1/position', JSON.stringify({ ts: Date.now(), lat: -6.19, lon: 106.83 }), { qos: 1 });
    await dev.publishAsync('pantau/v1/vehicles/amb-1/position', 'not json', { qos: 1 });
    await waitFor(() => got.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toHaveLength(1); // the refused payload is not forwarded to subscribers
    expect(got[0]!.json.lat).toBe(-6.19);
    await dev.endAsync();
    await op.endAsync();
  });

  it('closes a WebSocket upgrade on another path', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${engine.ports.http}/nope`);
    const err = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(err.message).toMatch(/404|Unexpected server response/);
  });
});

describe('restart', () => {
  it('restores history, the live index and tokens from the same data directory', async () => {
    const before = [...engine.vehicles.all()].map((v) => ({ ...v })).sort((a, b) => a.id.localeCompare(b.id));
    await engine.close();
    engine = await startTestEngine({ dataDir });
    const after = [...engine.vehicles.all()].map((v) => ({ ...v })).sort((a, b) => a.id.localeCompare(b.id));
    expect(after).toEqual(before);
    expect(await countRows('vehicle_positions', 'amb-1')).toBeGreaterThanOrEqual(2);
    const near = await engine.app.inject({ url: '/api/v1/vehicles/nearest?lat=-6.2&lon=106.82&type=ambulance&max_age_s=3600', headers: auth });
    expect(near.json().results[0].id).toBe('amb-1');
    // the device's token survived as a hash
    const c = await connect(engine, { clientId: 'amb-1', username: 'amb-1', password: tokens['amb-1'] });
    await c.endAsync();
  });

  it('refuses a second engine on the same port, naming the variable', async () => {
    const busy = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    const port = (busy.address() as net.AddressInfo).port;
    await expect(startTestEngine({ mqttPort: port })).rejects.toThrow(/PANTAU_MQTT_PORT/);
    busy.close();
  });
});
