// Early warning end to end: readings over real MQTT raise, escalate and resolve alerts; the state is
// retained on pantau/v1/alerts/...; subscribers are told over MQTT (persistent session) and signed
// webhooks through the durable outbox, across disconnects, failures and an engine restart.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Engine } from '../engine/engine.ts';
import { auth, provision, startTestEngine, tempDataDir } from './helpers/engine.ts';
import { collect, connect, waitFor } from './helpers/mqtt.ts';
import { webhookSignature } from '../engine/outbox.ts';

const dataDir = tempDataDir();
let engine: Engine;
const tokens: Record<string, string> = {};
const clients: MqttClient[] = [];

// Bundled Jakarta gauges (domain/jakarta-gauges.json) keep their ids, so they start with their levels.
const GAUGES = [
  { id: 'katulampa', lat: -6.633, lon: 106.837 },
  { id: 'depok', lat: -6.4, lon: 106.831 },
  { id: 'manggarai', lat: -6.209, lon: 106.85 },
];

async function sensorClient(id: string): Promise<MqttClient> {
  const c = await connect(engine, { clientId: `dev-${id}`, username: id, password: tokens[id] });
  clients.push(c);
  return c;
}

const readingClients = new Map<string, MqttClient>();
async function read(id: string, values: Record<string, number>, ts: number): Promise<void> {
  let c = readingClients.get(id);
  if (!c || !c.connected) readingClients.set(id, (c = await sensorClient(id)));
  await c.publishAsync(`pantau/v1/sensors/${id}/reading`, JSON.stringify({ ts, values }), { qos: 1 });
}

const get = async (url: string) => {
  const res = await engine.app.inject({ method: 'GET', url, headers: auth });
  return { status: res.statusCode, body: res.json() };
};
const activeAlerts = async (kind?: string) => (await get(`/api/v1/alerts?state=active${kind ? `&kind=${kind}` : ''}`)).body.alerts as Array<Record<string, unknown>>;

async function createSubscriber(body: Record<string, unknown>) {
  const res = await engine.app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: auth, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; token: string; topic: string; webhook_secret?: string };
}

/** A webhook receiver that answers 500 to the first `failures` requests of each delivery. */
function webhookReceiver(failures: number) {
  const received: Array<{ body: string; headers: http.IncomingHttpHeaders; status: number }> = [];
  const seen = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const id = String(req.headers['x-pantau-delivery']);
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      const status = n <= failures ? 500 : 200;
      received.push({ body, headers: req.headers, status });
      res.writeHead(status).end();
    });
  });
  return {
    received,
    async listen() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

beforeAll(async () => {
  engine = await startTestEngine({ dataDir, webhookRetryBaseMs: 50, webhookRetryMaxMs: 200 });
  for (const g of GAUGES) tokens[g.id] = await provision(engine, { id: g.id, kind: 'sensor', type: 'water_level', lat: g.lat, lon: g.lon });
  tokens['pintu-x'] = await provision(engine, { id: 'pintu-x', kind: 'sensor', type: 'water_level', name: 'Pintu X', lat: -6.2, lon: 106.8 });
  tokens['aq-1'] = await provision(engine, { id: 'aq-1', kind: 'sensor', type: 'air_quality', name: 'Bundaran HI', lat: -6.195, lon: 106.823 });
  tokens['bc-1'] = await provision(engine, { id: 'bc-1', kind: 'vehicle', type: 'blue_crew_truck' });
  tokens['bc-far'] = await provision(engine, { id: 'bc-far', kind: 'vehicle', type: 'blue_crew_truck' });
  tokens['gt-1'] = await provision(engine, { id: 'gt-1', kind: 'vehicle', type: 'garbage_truck' });
});

afterAll(async () => {
  for (const c of [...clients, ...readingClients.values()]) await c.endAsync(true).catch(() => undefined);
  await engine?.close();
});

describe('thresholds and gauge status', () => {
  it('starts a bundled Jakarta gauge with its levels; a null level stays unconfigured', async () => {
    const { body } = await get('/api/v1/sensors/katulampa/thresholds');
    expect(body.thresholds[0]).toMatchObject({
      metric: 'water_level_cm',
      levels: [{ name: 'SIAGA_3', value: 80 }, { name: 'SIAGA_2', value: 150 }, { name: 'SIAGA_1', value: 200 }],
      downstream: [{ sensor_id: 'depok', travel_s: 10800 }],
    });
  });

  it('rejects bad thresholds with the field and what was expected', async () => {
    const put = (payload: object) => engine.app.inject({ method: 'PUT', url: '/api/v1/sensors/pintu-x/thresholds', headers: auth, payload });
    const cases: Array<[object, string]> = [
      [{ metric: 'water_level_cm', levels: [{ name: 'SIAGA_3', value: 100 }, { name: 'SIAGA_2', value: 90 }] }, 'body.levels'],
      [{ metric: 'depth_ft', levels: [] }, 'body.metric'],
      [{ metric: 'water_level_cm', levels: [{ name: 'SIAGA_3', value: 100 }], hysteresis: -1 }, 'body.hysteresis'],
      [{ metric: 'water_level_cm', levels: [], downstream: [{ sensor_id: 'pintu-x', travel_s: 60 }] }, 'body.downstream'],
      [{ metric: 'water_level_cm', levels: [], affected_area: { type: 'Polygon', coordinates: [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]] } }, 'body.affected_area'],
    ];
    for (const [payload, field] of cases) {
      const res = await put(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(res.json().details)).toContain(field);
    }
    const missing = await engine.app.inject({ method: 'PUT', url: '/api/v1/sensors/nope/thresholds', headers: auth, payload: { metric: 'water_level_cm', levels: [] } });
    expect(missing.statusCode).toBe(404);
  });

  it('raises once, escalates, ignores a flap inside the hysteresis band, and resolves; state retained on MQTT', async () => {
    const put = await engine.app.inject({
      method: 'PUT', url: '/api/v1/sensors/pintu-x/thresholds', headers: auth,
      payload: { metric: 'water_level_cm', levels: [{ name: 'SIAGA_3', value: 80 }, { name: 'SIAGA_2', value: 150 }, { name: 'SIAGA_1', value: 200 }], hysteresis: 5 },
    });
    expect(put.statusCode, put.body).toBe(200);
    const t0 = Date.now() - 60_000;
    for (const [i, cm] of [50, 81, 79, 82, 79, 151].entries()) await read('pintu-x', { water_level_cm: cm }, t0 + i * 1000);
    const open = await waitFor(async () => {
      const a = (await activeAlerts('water_level')).find((x) => x.source_id === 'pintu-x');
      return a?.level === 'SIAGA_2' ? a : undefined;
    });
    expect(open).toMatchObject({ kind: 'water_level', source_id: 'pintu-x', level: 'SIAGA_2', value: 151, unit: 'cm', state: 'active', peak_level: 'SIAGA_2' });
    const status = await get('/api/v1/sensors/pintu-x');
    expect(status.body.levels).toEqual({ water_level_cm: 'SIAGA_2' });

    // one alert for the whole episode: raised at 81, escalated at 151; the 79s sat inside the band
    await engine.alerts.flush();
    const all = (await get('/api/v1/alerts?kind=water_level&source_id=pintu-x')).body.alerts;
    expect(all).toHaveLength(1);

    // retained: a client arriving now still gets the current state
    const op = await connect(engine, { username: 'operator', password: 'test-admin-token-0123456789' });
    clients.push(op);
    const got = await collect(op, 'pantau/v1/alerts/water_level/pintu-x');
    const retained = await waitFor(() => got.find((m) => m.json.level === 'SIAGA_2'));
    expect(retained.json).toMatchObject({ id: open.id, kind: 'water_level', source_id: 'pintu-x', state: 'active' });

    const ack = await engine.app.inject({ method: 'POST', url: `/api/v1/alerts/${String(open.id)}/ack`, headers: auth });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ acknowledged_by: 'admin', state: 'active' });

    await read('pintu-x', { water_level_cm: 60 }, t0 + 10_000);
    const resolved = await waitFor(() => got.find((m) => m.json.state === 'resolved'));
    expect(resolved.json).toMatchObject({ id: open.id, level: 'SIAGA_2', resolution: 'back below SIAGA_2' });
    expect((await activeAlerts('water_level')).find((x) => x.source_id === 'pintu-x')).toBeUndefined();
    const past = (await get('/api/v1/alerts?state=resolved&kind=water_level')).body.alerts;
    expect(past.find((a: { id: string }) => a.id === open.id)).toMatchObject({ state: 'resolved', acknowledged_by: 'admin' });
  });

  it('a late reading never raises anything', async () => {
    await read('pintu-x', { water_level_cm: 500 }, Date.now() - 3_600_000);
    await new Promise((r) => setTimeout(r, 200));
    expect((await activeAlerts('water_level')).find((x) => x.source_id === 'pintu-x')).toBeUndefined();
  });

  it('raises rate of rise below the first level, and lists Pasukan Biru trucks near the gauge', async () => {
    await engine.app.inject({
      method: 'PUT', url: '/api/v1/sensors/katulampa/thresholds', headers: auth,
      payload: { metric: 'water_level_cm', levels: [{ name: 'SIAGA_3', value: 80 }, { name: 'SIAGA_2', value: 150 }, { name: 'SIAGA_1', value: 200 }], hysteresis: 5, rate_of_rise_per_10min: 15, downstream: [{ sensor_id: 'depok', travel_s: 10800 }] },
    });
    const t0 = Date.now() - 20 * 60_000;
    // Katulampa: 50 -> 74 cm in 8 minutes, still NORMAL (domain/README.md: 50 -> 210 cm in 70 min)
    for (let i = 0; i <= 8; i++) await read('katulampa', { water_level_cm: 50 + i * 3 }, t0 + i * 60_000);
    const rate = await waitFor(async () => (await activeAlerts('rate_of_rise')).find((a) => a.source_id === 'katulampa'));
    expect(rate).toMatchObject({ level: 'RATE_OF_RISE', unit: 'cm/10min' });
    expect(Number(rate.value)).toBeGreaterThanOrEqual(15);
    expect((await activeAlerts('water_level')).find((a) => a.source_id === 'katulampa')).toBeUndefined();

    for (const [id, lat, lon] of [['bc-1', -6.64, 106.84], ['bc-far', -6.4, 106.83], ['gt-1', -6.634, 106.838]] as const) {
      const c = await connect(engine, { username: id, password: tokens[id] });
      await c.publishAsync(`pantau/v1/vehicles/${id}/position`, JSON.stringify({ ts: Date.now(), lat, lon }), { qos: 1 });
      await c.endAsync();
    }
    const near = await get(`/api/v1/alerts/${String(rate.id)}/nearby-vehicles?type=blue_crew_truck&radius_m=2000`);
    expect(near.status).toBe(200);
    expect(near.body.results.map((r: { id: string }) => r.id)).toEqual(['bc-1']);
    expect(near.body.results[0].distance_m).toBeLessThan(2000);
  });
});

describe('faults', () => {
  it('a fault in early warning never refuses a reading: it is acknowledged, stored, and counted', async () => {
    const original = engine.warnings.onReadings;
    engine.warnings.onReadings = () => {
      throw new Error('judge failed');
    };
    try {
      const ts = Date.now() - 1000;
      await read('pintu-x', { water_level_cm: 42 }, ts); // resolves on the PUBACK
      const s = (await get('/api/v1/sensors/pintu-x')).body;
      expect(s.values.water_level_cm).toMatchObject({ value: 42 });
      const metrics = await engine.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/pantau_warning_errors_total 1/);
    } finally {
      engine.warnings.onReadings = original;
    }
  });
});

describe('flood-wave propagation', () => {
  it('Katulampa at Siaga 1 forecasts Depok at +3 h and Manggarai at +9 h; withdrawn when it recedes', async () => {
    const ts = Date.now() - 5 * 60_000;
    await read('katulampa', { water_level_cm: 210 }, ts);
    const forecasts = await waitFor(async () => {
      const list = await activeAlerts('flood_forecast');
      return list.length === 2 ? list : undefined;
    });
    const by = Object.fromEntries(forecasts.map((f) => [f.source_id, f]));
    expect(by.depok).toMatchObject({ level: 'SIAGA_1', upstream_id: 'katulampa', travel_s: 3 * 3600, expected_at: new Date(ts + 3 * 3600_000).toISOString() });
    expect(by.manggarai).toMatchObject({ level: 'SIAGA_1', upstream_id: 'katulampa', travel_s: 9 * 3600, expected_at: new Date(ts + 9 * 3600_000).toISOString() });

    // the wave reaches Depok: its forecast gives way to the observed status, Manggarai now counts from Depok
    await read('depok', { water_level_cm: 280 }, ts + 1000);
    await waitFor(async () => (await activeAlerts('water_level')).find((a) => a.source_id === 'depok' && a.level === 'SIAGA_2'));
    await waitFor(async () => !(await activeAlerts('flood_forecast')).some((a) => a.source_id === 'depok'));
    const resolvedDepok = (await get('/api/v1/alerts?state=resolved&kind=flood_forecast&source_id=depok')).body.alerts[0];
    expect(resolvedDepok.resolution).toMatch(/^arrived/);

    // Katulampa recedes: its forecasts are withdrawn; Depok, still high, keeps forecasting Manggarai
    await read('katulampa', { water_level_cm: 40 }, ts + 2000);
    await waitFor(async () => !(await activeAlerts('water_level')).some((a) => a.source_id === 'katulampa'));
    const m = await waitFor(async () => (await activeAlerts('flood_forecast')).find((a) => a.source_id === 'manggarai' && a.upstream_id === 'depok'));
    expect(m).toMatchObject({ level: 'SIAGA_2', travel_s: 6 * 3600 });
    await read('depok', { water_level_cm: 100 }, ts + 3000);
    await waitFor(async () => (await activeAlerts('flood_forecast')).length === 0);
    const withdrawn = (await get('/api/v1/alerts?state=resolved&kind=flood_forecast&source_id=manggarai')).body.alerts[0];
    expect(withdrawn.resolution).toMatch(/^withdrawn/);
  });
});

describe('sensor health', () => {
  it('raises SENSOR_OFFLINE after 3 x the expected interval and clears it at the next reading', async () => {
    await read('pintu-x', { water_level_cm: 61 }, Date.now());
    engine.warnings.tick(Date.now() + 3 * 60_000 + 1000); // PANTAU_SENSOR_EXPECTED_INTERVAL_S 60
    const off = await waitFor(async () => (await activeAlerts('sensor_offline')).find((a) => a.source_id === 'pintu-x'));
    expect(off).toMatchObject({ level: 'SENSOR_OFFLINE', expected_interval_s: 60 });
    expect((await get('/api/v1/sensors/pintu-x')).body.status).toBe('offline');
    await read('pintu-x', { water_level_cm: 62 }, Date.now() + 1000);
    await waitFor(async () => !(await activeAlerts('sensor_offline')).some((a) => a.source_id === 'pintu-x'));
  });

  it('raises SENSOR_STUCK for the same value N times and clears when it moves', async () => {
    await engine.app.inject({
      method: 'PUT', url: '/api/v1/sensors/pintu-x/thresholds', headers: auth,
      payload: { metric: 'water_level_cm', levels: [{ name: 'SIAGA_3', value: 80 }], stuck_readings: 4 },
    });
    const t0 = Date.now() + 2000;
    for (let i = 0; i < 4; i++) await read('pintu-x', { water_level_cm: 63 }, t0 + i * 1000);
    const stuck = await waitFor(async () => (await activeAlerts('sensor_stuck')).find((a) => a.source_id === 'pintu-x'));
    // the run's start is its own field: `since` stays the alert's raise time (the 4th identical reading)
    expect(stuck).toMatchObject({ stuck_since: new Date(t0).toISOString(), since: new Date(t0 + 3000).toISOString() });
    await read('pintu-x', { water_level_cm: 64 }, t0 + 5000);
    await waitFor(async () => !(await activeAlerts('sensor_stuck')).some((a) => a.source_id === 'pintu-x'));
  });
});

describe('air quality', () => {
  it('serves ISPU (24 h) with the hourly value and the US EPA AQI, and raises on Tidak Sehat', async () => {
    const now = Date.now();
    for (let i = 0; i < 3; i++) await read('aq-1', { pm25: 100, pm10: 60, o3: 50 }, now - (3 - i) * 60_000);
    const { body } = await get('/api/v1/air-quality');
    const st = body.stations.find((s: { station_id: string }) => s.station_id === 'aq-1');
    // pm25 100 ug/m3: band 55.4..150.4 -> 100..200: (200-100)/(150.4-55.4)*(100-55.4)+100 = 146.9 -> 147
    expect(st).toMatchObject({ ispu: 147, category: 'Tidak Sehat', dominant: 'pm25', values: { pm25: 100 } });
    expect(st.hourly.label).toMatch(/hourly/);
    // EPA 2024: 55.5..125.4 -> 151..200: (200-151)/(125.4-55.5)*(100-55.5)+151 = 182.2 -> 182
    expect(st.us_epa_aqi).toMatchObject({ aqi: 182, category: 'Unhealthy' });
    const a = await waitFor(async () => (await activeAlerts('air_quality')).find((x) => x.source_id === 'aq-1'));
    expect(a).toMatchObject({ level: 'TIDAK_SEHAT', value: 147, unit: 'ISPU', dominant: 'pm25' });
  });
});

describe('subscribers', () => {
  it('validates a subscriber and lists it', async () => {
    const bad = await engine.app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: auth, payload: { name: 'x', area: { type: 'Point', coordinates: [106.8, -6.2] } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'INVALID_GEOMETRY' });
    const badKind = await engine.app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: auth, payload: { name: 'x', area: { type: 'Point', coordinates: [106.8, -6.2] }, radius_m: 10, kinds: ['tsunami'] } });
    expect(badKind.statusCode).toBe(400);
  });

  let school: { id: string; got: Array<Record<string, unknown>> } | undefined;

  it('delivers over MQTT to a subscriber that was offline, when it reconnects (persistent session)', async () => {
    const sub = await createSubscriber({ name: 'SDN Manggarai 01', area: { type: 'Point', coordinates: [106.85, -6.21] }, radius_m: 500, kinds: ['water_level'] });
    // no subscription may be refused or reach beyond its own topic
    const opts = { clientId: `client-${sub.id}`, username: sub.id, password: sub.token, clean: false };
    let c = await connect(engine, opts);
    const sa = await c.subscribeAsync(sub.topic, { qos: 1 });
    expect(sa[0]?.qos).toBe(1);
    // SUBACK 0x80 for a filter outside its topics (mqtt.js turns it into an error)
    await expect(c.subscribeAsync('pantau/v1/devices/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await c.endAsync();

    // Manggarai rises to Siaga 3 while the subscriber is away
    await read('manggarai', { water_level_cm: 760 }, Date.now());
    const alert = await waitFor(async () => (await activeAlerts('water_level')).find((a) => a.source_id === 'manggarai'));

    c = await connect(engine, opts);
    clients.push(c);
    const got: Array<Record<string, unknown>> = [];
    c.on('message', (_t, p) => got.push(JSON.parse(p.toString())));
    const msg = await waitFor(() => got.find((m) => m.id === alert.id));
    expect(msg).toMatchObject({ kind: 'water_level', source_id: 'manggarai', level: 'SIAGA_3', event: 'raised' });
    const deliveries = await waitFor(async () => {
      const d = (await get(`/api/v1/subscribers/${sub.id}/deliveries`)).body.deliveries;
      return d[0]?.state === 'delivered' ? d : undefined;
    });
    expect(deliveries[0]).toMatchObject({ channel: 'mqtt', alert_id: alert.id, state: 'delivered', attempts: 1 });
    expect(deliveries[0].attempt_log).toHaveLength(1);
    school = { id: sub.id, got };
  });

  it('a subscriber whose area is far away, or that asked for a higher level, hears nothing', async () => {
    const far = await createSubscriber({ name: 'far', area: { type: 'Point', coordinates: [107.5, -7.0] }, radius_m: 1000, kinds: ['water_level'] });
    const high = await createSubscriber({ name: 'high', area: { type: 'Point', coordinates: [106.85, -6.21] }, radius_m: 1000, kinds: ['water_level'], min_level: 'SIAGA_1' });
    await read('manggarai', { water_level_cm: 860 }, Date.now() + 1000);
    const escalated = await waitFor(async () => (await activeAlerts('water_level')).find((a) => a.source_id === 'manggarai' && a.level === 'SIAGA_2'));
    await engine.alerts.flush();
    // a connected subscriber gets it at once, and the outbox records its PUBACK once the row is committed
    await waitFor(() => school!.got.find((m) => m.id === escalated.id && m.event === 'escalated'));
    const recorded = await waitFor(async () => {
      const d = (await get(`/api/v1/subscribers/${school!.id}/deliveries`)).body.deliveries as Array<{ event: string; state: string }>;
      return d.find((x) => x.event === 'escalated' && x.state === 'delivered');
    });
    expect(recorded).toMatchObject({ channel: 'mqtt', attempts: 1 });
    expect((await get(`/api/v1/subscribers/${far.id}/deliveries`)).body.deliveries).toEqual([]);
    expect((await get(`/api/v1/subscribers/${high.id}/deliveries`)).body.deliveries).toEqual([]);
  });

  it('gives up an MQTT delivery to a subscriber that never comes, after PANTAU_DELIVERY_GIVE_UP_S', async () => {
    const ghost = await createSubscriber({ name: 'never connects', area: { type: 'Point', coordinates: [106.85, -6.209] }, radius_m: 200, kinds: ['water_level'] });
    await read('manggarai', { water_level_cm: 960 }, Date.now() + 2000);
    await waitFor(async () => (await get(`/api/v1/subscribers/${ghost.id}/deliveries`)).body.deliveries.length === 1);
    engine.outbox.giveUpMqtt(Date.now() + engine.config.deliveryGiveUpS * 1000 + 1000);
    const d = (await get(`/api/v1/subscribers/${ghost.id}/deliveries`)).body.deliveries;
    expect(d[0]).toMatchObject({ channel: 'mqtt', state: 'failed', last_error: expect.stringMatching(/did not subscribe/) });
  });

  it('a webhook that fails twice, then succeeds, gets the alert exactly once, signed', async () => {
    const hook = webhookReceiver(2);
    const url = await hook.listen();
    try {
      const sub = await createSubscriber({ name: 'BPBD relay', area: { type: 'Polygon', coordinates: [[[106.78, -6.22], [106.82, -6.22], [106.82, -6.18], [106.78, -6.18], [106.78, -6.22]]] }, kinds: ['water_level'], webhook_url: url });
      expect(sub.webhook_secret).toBeTruthy();
      await read('pintu-x', { water_level_cm: 90 }, Date.now() + 10_000);
      const ok = await waitFor(() => hook.received.find((r) => r.status === 200), 10_000);
      const body = JSON.parse(ok.body);
      expect(body).toMatchObject({ kind: 'water_level', source_id: 'pintu-x', level: 'SIAGA_3', event: 'raised' });
      expect(ok.headers['x-pantau-signature']).toBe(webhookSignature(sub.webhook_secret!, ok.body));
      await new Promise((r) => setTimeout(r, 600)); // longer than the retry backoff: nothing more may come
      expect(hook.received.map((r) => r.status)).toEqual([500, 500, 200]);
      const d = (await get(`/api/v1/subscribers/${sub.id}/deliveries`)).body.deliveries.filter((x: { channel: string }) => x.channel === 'webhook');
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ state: 'delivered', attempts: 3 });
      expect(d[0].attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([500, 500, 200]);
    } finally {
      await hook.close();
    }
  });

  it('a restart between raising and delivering still delivers, over MQTT and webhook', async () => {
    const hook = webhookReceiver(0);
    // the receiver is down while the alert is raised: the first attempts fail to connect
    const url = await hook.listen();
    await hook.close();
    const sub = await createSubscriber({ name: 'RW 07 Kampung Melayu', area: { type: 'Point', coordinates: [106.8, -6.2] }, radius_m: 300, kinds: ['water_level'], webhook_url: url });
    await engine.app.inject({
      method: 'PUT', url: '/api/v1/sensors/pintu-x/thresholds', headers: auth,
      payload: { metric: 'water_level_cm', levels: [{ name: 'SIAGA_3', value: 80 }, { name: 'SIAGA_2', value: 150 }] },
    });
    await read('pintu-x', { water_level_cm: 160 }, Date.now() + 20_000);
    const alert = await waitFor(async () => (await activeAlerts('water_level')).find((a) => a.source_id === 'pintu-x' && a.level === 'SIAGA_2'));
    await engine.alerts.flush();

    for (const c of readingClients.values()) await c.endAsync(true).catch(() => undefined);
    readingClients.clear();
    await engine.close();
    engine = await startTestEngine({ dataDir, webhookRetryBaseMs: 50, webhookRetryMaxMs: 200 });

    // the receiver comes back on the same port, the subscriber connects for the first time
    const port = Number(new URL(url).port);
    const back = webhookReceiver(0);
    const server = await new Promise<http.Server>((resolve) => {
      const s = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          back.received.push({ body, headers: req.headers, status: 200 });
          res.writeHead(200).end();
        });
      });
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
    try {
      const c = await connect(engine, { clientId: `client-${sub.id}`, username: sub.id, password: sub.token, clean: false });
      clients.push(c);
      const got = await collect(c, sub.topic);
      const m = await waitFor(() => got.find((x) => x.json.id === alert.id), 10_000);
      expect(m.json).toMatchObject({ level: 'SIAGA_2', source_id: 'pintu-x' });
      const w = await waitFor(() => back.received.find((r) => JSON.parse(r.body).id === alert.id), 10_000);
      expect(JSON.parse(w.body)).toMatchObject({ level: 'SIAGA_2' });
      // the alert itself survived the restart, still open
      expect((await activeAlerts('water_level')).find((a) => a.id === alert.id)).toBeTruthy();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
