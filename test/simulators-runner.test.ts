// The runner against a real in-process MQTT broker (aedes on 127.0.0.1, port 0), and the
// `pantau simulate` argument parser.
import { once } from 'node:events';
import net from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import gauges from '../domain/jakarta-gauges.json' with { type: 'json' };
import { VEHICLE_STATUSES } from '../ingest/model.ts';
import { JAKARTA_BBOX } from '../simulators/city.ts';
import { parseSimulateArgs, SimulateArgsError, simulateCommand, splitFleet, type SimulateOptions } from '../simulators/load.ts';
import { runSimulation, type SimLogger } from '../simulators/runner.ts';

interface Received {
  topic: string;
  payload: string;
  qos: number;
  clientId: string;
  atMs: number;
}

interface TestBroker {
  broker: Aedes;
  server: net.Server;
  url: string;
  received: Received[];
  close(): Promise<void>;
}

async function startBroker(opts: AedesOptions = {}, port = 0): Promise<TestBroker> {
  const broker = await Aedes.createBroker(opts);
  const server = net.createServer(broker.handle);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as net.AddressInfo).port;
  const received: Received[] = [];
  broker.on('publish', (packet, client) => {
    if (!client) return;
    received.push({ topic: packet.topic, payload: packet.payload.toString(), qos: packet.qos, clientId: client.id, atMs: performance.now() });
  });
  return {
    broker,
    server,
    url: `mqtt://127.0.0.1:${bound}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        broker.close(() => server.close(() => resolve()));
      }),
  };
}

function silentLogger(): SimLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push(`${level} ${msg} ${JSON.stringify(fields)}`);
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

function serverConnections(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

function inBox(lat: unknown, lon: unknown): boolean {
  return (
    typeof lat === 'number' &&
    typeof lon === 'number' &&
    lat >= JAKARTA_BBOX.minLat &&
    lat <= JAKARTA_BBOX.maxLat &&
    lon >= JAKARTA_BBOX.minLon &&
    lon <= JAKARTA_BBOX.maxLon
  );
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('simulation runner over MQTT', () => {
  it('connects every device and publishes valid QoS 1 messages on its own topics', async () => {
    const b = await startBroker();
    cleanups.push(b.close);
    const handle = await runSimulation({
      mqttUrl: b.url,
      provision: false,
      seed: 3,
      fleet: { ambulance: 3, garbage_truck: 10, blue_crew_truck: 2 },
      vehicleRateHz: 2,
      owntracksFraction: 0.2,
      publishStatus: true,
      sensorIntervalMs: 300,
      rampMs: 200,
      logger: silentLogger(),
    });
    cleanups.push(() => handle.stop());
    expect(handle.deviceIds).toHaveLength(15 + 27);
    expect(await handle.waitForConnections(5000)).toBe(true);
    expect(b.broker.connectedClients).toBe(42);
    await sleep(1500);
    await handle.stop();

    const ids = new Set(handle.deviceIds);
    const topicsSeen = new Set<string>();
    const gaugeById = new Map(gauges.gauges.map((g) => [g.id, g]));
    const problems: string[] = [];
    for (const m of b.received) {
      expect(ids.has(m.clientId)).toBe(true);
      expect(m.qos).toBe(1);
      const body = JSON.parse(m.payload) as Record<string, unknown> | Array<Record<string, unknown>>;
      let match: RegExpMatchArray | null;
      if ((match = m.topic.match(/^pantau\/v1\/vehicles\/([^/]+)\/position$/))) {
        topicsSeen.add('position');
        const f = body as Record<string, unknown>;
        if (match[1] !== m.clientId) problems.push(`${m.clientId} published ${m.topic}`);
        if (!inBox(f.lat, f.lon)) problems.push(`bad position ${m.payload}`);
        if (typeof f.ts !== 'number' || typeof f.seq !== 'number' || typeof f.speed_kmh !== 'number' || typeof f.heading !== 'number') {
          problems.push(`bad fix ${m.payload}`);
        }
        if (typeof f.accuracy_m !== 'number' || f.accuracy_m < 1) problems.push(`bad accuracy ${m.payload}`);
      } else if ((match = m.topic.match(/^pantau\/v1\/vehicles\/([^/]+)\/status$/))) {
        topicsSeen.add('status');
        const st = body as Record<string, unknown>;
        if (match[1] !== m.clientId || !(VEHICLE_STATUSES as readonly unknown[]).includes(st.status) || typeof st.ts !== 'string') problems.push(`bad status ${m.payload}`);
      } else if ((match = m.topic.match(/^owntracks\/pantau-sim\/([^/]+)$/))) {
        topicsSeen.add('owntracks');
        const o = body as Record<string, unknown>;
        if (match[1] !== m.clientId || o._type !== 'location' || !inBox(o.lat, o.lon)) problems.push(`bad owntracks ${m.payload}`);
        if (typeof o.tst !== 'number' || !Number.isInteger(o.tst) || Math.abs(o.tst - Date.now() / 1000) > 60) problems.push(`bad tst ${m.payload}`);
      } else if ((match = m.topic.match(/^pantau\/v1\/sensors\/([^/]+)\/reading$/))) {
        topicsSeen.add('reading');
        const r = body as { ts?: unknown; values?: Record<string, number> };
        if (match[1] !== m.clientId || typeof r.ts !== 'string' || !r.values) problems.push(`bad reading ${m.payload}`);
        const g = gaugeById.get(m.clientId);
        if (g && !(r.values!.water_level_cm! < g.siaga3!)) problems.push(`gauge above Siaga 3 ${m.payload}`);
        if (m.clientId.startsWith('aq-') && typeof r.values!.pm25 !== 'number') problems.push(`aq without pm25 ${m.payload}`);
      } else if ((match = m.topic.match(/^pantau\/v1\/sensors\/([^/]+)\/senml$/))) {
        topicsSeen.add('senml');
        const pack = body as Array<Record<string, unknown>>;
        const bn = String(pack[0]?.bn ?? '');
        if (match[1] !== m.clientId || !Array.isArray(pack) || typeof pack[0]?.bt !== 'number') problems.push(`bad senml ${m.payload}`);
        for (const rec of pack) {
          const name = bn + String(rec.n);
          if (typeof rec.v !== 'number') problems.push(`senml without v ${m.payload}`);
          if (gaugeById.has(m.clientId) && (!name.endsWith('water_level') || rec.u !== 'm')) problems.push(`bad water senml ${m.payload}`);
        }
      } else {
        problems.push(`unexpected topic ${m.topic}`);
      }
    }
    expect(problems).toEqual([]);
    expect([...topicsSeen].sort()).toEqual(['owntracks', 'position', 'reading', 'senml', 'status']);
    const publishers = new Set(b.received.map((m) => m.clientId));
    expect(publishers.size).toBe(42);

    const s = handle.stats();
    expect(s.devices).toBe(42);
    expect(s.errors).toBe(0);
    expect(s.acked).toBe(s.sent);
    expect(s.acked).toBeGreaterThan(0);
    expect(s.pubackLatencyMs.p50).toBeGreaterThan(0);
    expect(s.pubackLatencyMs.p99).toBeGreaterThanOrEqual(s.pubackLatencyMs.p50);
    expect(s.pubackLatencyMs.max).toBeGreaterThanOrEqual(s.pubackLatencyMs.p99);
    // stop() closed every socket
    expect(s.connected).toBe(0);
    await until(() => b.broker.connectedClients === 0);
    expect(await serverConnections(b.server)).toBe(0);
  });

  it('offers the requested rate, evenly, with increasing ts and seq per device', async () => {
    const b = await startBroker();
    cleanups.push(b.close);
    const handle = await runSimulation({
      mqttUrl: b.url,
      provision: false,
      fleet: splitFleet(40),
      sensors: 0,
      vehicleRateHz: 10,
      rampMs: 300,
      logger: silentLogger(),
    });
    cleanups.push(() => handle.stop());
    expect(await handle.waitForConnections(5000)).toBe(true);
    await sleep(300);
    handle.resetStats();
    const from = performance.now();
    const countFrom = b.received.length;
    await sleep(2000);
    const windowMs = performance.now() - from;
    const delivered = b.received.length - countFrom;
    const expected = (40 * 10 * windowMs) / 1000;
    expect(Math.abs(delivered - expected) / expected).toBeLessThan(0.1);
    const s = handle.stats();
    expect(Math.abs(s.sent - expected) / expected).toBeLessThan(0.1);
    expect(s.offered).toBe(s.sent);
    expect(s.skipped).toBe(0);
    await handle.stop();

    // Even phasing: no 100 ms bin of the window holds more than twice its share.
    const bins = new Map<number, number>();
    for (const m of b.received.slice(countFrom)) {
      if (m.atMs < from || m.atMs > from + windowMs) continue;
      const k = Math.floor((m.atMs - from) / 100);
      bins.set(k, (bins.get(k) ?? 0) + 1);
    }
    for (const n of bins.values()) expect(n).toBeLessThan(2 * 40);

    const last = new Map<string, { ts: number; seq: number }>();
    for (const m of b.received) {
      if (!m.topic.endsWith('/position')) continue;
      const f = JSON.parse(m.payload) as { ts: number; seq: number };
      const prev = last.get(m.clientId);
      if (prev) {
        expect(f.ts).toBeGreaterThan(prev.ts);
        expect(f.seq).toBeGreaterThan(prev.seq);
      }
      last.set(m.clientId, f);
    }
    expect(last.size).toBe(40);
  });

  it('spreads connection opening over the ramp instead of one tick', async () => {
    const b = await startBroker();
    cleanups.push(b.close);
    const connectTimes: number[] = [];
    b.broker.on('client', () => connectTimes.push(performance.now()));
    const handle = await runSimulation({
      mqttUrl: b.url,
      provision: false,
      fleet: splitFleet(100),
      sensors: 0,
      vehicleRateHz: 0.5,
      rampMs: 500,
      logger: silentLogger(),
    });
    cleanups.push(() => handle.stop());
    expect(await handle.waitForConnections(5000)).toBe(true);
    connectTimes.sort((x, y) => x - y);
    expect(connectTimes).toHaveLength(100);
    expect(connectTimes[99]! - connectTimes[0]!).toBeGreaterThan(300);
  });

  it('provisions through the API (rotating existing ids) and connects with each device token', async () => {
    const tokens = new Map<string, string>([['amb-001', 'old-token']]);
    const bodies: Array<Record<string, unknown>> = [];
    const rotated: string[] = [];
    let n = 0;
    const api = Fastify();
    api.addHook('onRequest', async (req, reply) => {
      if (req.headers.authorization !== 'Bearer admin-secret') await reply.code(401).send({ error: 'UNAUTHORIZED', message: 'bad token' });
    });
    api.post('/api/v1/devices', async (req, reply) => {
      const body = req.body as Record<string, unknown>;
      bodies.push(body);
      const id = String(body.id);
      if (body.kind === 'sensor' && (typeof body.lat !== 'number' || typeof body.lon !== 'number')) {
        return reply.code(400).send({ error: 'MISSING_FIELD', message: 'sensors need lat/lon' });
      }
      if (tokens.has(id)) return reply.code(409).send({ error: 'DEVICE_EXISTS', message: `${id} exists` });
      const token = `tok-${id}-${n++}`;
      tokens.set(id, token);
      return reply.code(201).send({ id, token });
    });
    api.post('/api/v1/devices/:id/token', async (req) => {
      const { id } = req.params as { id: string };
      rotated.push(id);
      const token = `rot-${id}-${n++}`;
      tokens.set(id, token);
      return { id, token };
    });
    const apiUrl = await api.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => api.close());

    const b = await startBroker({
      authenticate: (client, username, password, done) => {
        const ok = username === client.id && password !== undefined && tokens.get(client.id) === password.toString();
        if (ok) return done(null, true);
        const err = Object.assign(new Error('bad credentials'), { returnCode: 4 as const });
        done(err, false);
      },
    });
    cleanups.push(b.close);

    const handle = await runSimulation({
      mqttUrl: b.url,
      apiUrl,
      adminToken: 'admin-secret',
      fleet: { ambulance: 2, garbage_truck: 2, blue_crew_truck: 1 },
      owntracksFraction: 0.5,
      sensors: 2,
      rampMs: 50,
      logger: silentLogger(),
    });
    cleanups.push(() => handle.stop());
    expect(await handle.waitForConnections(5000)).toBe(true);
    expect(rotated).toEqual(['amb-001']);
    expect(bodies).toHaveLength(7);
    const trucks = bodies.filter((x) => x.type === 'garbage_truck');
    expect(trucks.map((x) => x.owntracks)).toEqual([undefined, 'pantau-sim/truck-002']);
    expect(trucks[1]).toMatchObject({ id: 'truck-002', kind: 'vehicle' });
    expect(bodies.find((x) => x.id === 'katulampa')).toMatchObject({ kind: 'sensor', type: 'water_level', lat: -6.633, lon: 106.837 });
    expect(bodies.find((x) => x.id === 'amb-002')).toMatchObject({ kind: 'vehicle', type: 'ambulance' });
    expect(bodies.find((x) => x.id === 'amb-002')!.owntracks).toBeUndefined();
    expect(handle.stats().errors).toBe(0);
    await handle.stop();
  });

  it('buffers fixes while the broker is down and sends them as a positions array after reconnecting', async () => {
    const b1 = await startBroker();
    const port = Number(new URL(b1.url).port);
    const handle = await runSimulation({
      mqttUrl: b1.url,
      provision: false,
      fleet: { ambulance: 2, garbage_truck: 2, blue_crew_truck: 0 },
      sensors: 0,
      vehicleRateHz: 5,
      bufferWhileOffline: true,
      logger: silentLogger(),
    });
    cleanups.push(() => handle.stop());
    expect(await handle.waitForConnections(5000)).toBe(true);
    await b1.close();
    await until(() => handle.stats().connected === 0);
    await sleep(600);
    const b2 = await startBroker({}, port);
    cleanups.push(b2.close);
    expect(await handle.waitForConnections(8000)).toBe(true);
    await until(() => new Set(b2.received.filter((m) => m.topic.endsWith('/positions')).map((m) => m.clientId)).size === 4);
    for (const m of b2.received.filter((x) => x.topic.endsWith('/positions'))) {
      expect(m.topic).toBe(`pantau/v1/vehicles/${m.clientId}/positions`);
      const fixes = JSON.parse(m.payload) as Array<{ ts: number; seq: number; lat: number }>;
      expect(fixes.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < fixes.length; i++) expect(fixes[i]!.seq).toBeGreaterThan(fixes[i - 1]!.seq);
    }
    expect(handle.stats().reconnects).toBeGreaterThan(0);
  });

  it('rejects with a clear message when the admin token is refused', async () => {
    const api = Fastify();
    api.post('/api/v1/devices', async (_req, reply) => reply.code(401).send({ error: 'UNAUTHORIZED', message: 'bad token' }));
    const apiUrl = await api.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => api.close());
    await expect(
      runSimulation({ mqttUrl: 'mqtt://127.0.0.1:1', apiUrl, adminToken: 'nope', fleet: { ambulance: 1, garbage_truck: 0, blue_crew_truck: 0 }, sensors: 0, logger: silentLogger() }),
    ).rejects.toThrow(/401 \(check the admin token\)/);
  });

  it('logs, never throws, when the broker is unreachable, and still stops cleanly', async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const logger = silentLogger();
    const handle = await runSimulation({
      mqttUrl: `mqtt://127.0.0.1:${port}`,
      provision: false,
      fleet: { ambulance: 2, garbage_truck: 2, blue_crew_truck: 0 },
      sensors: 0,
      vehicleRateHz: 5,
      logger,
    });
    await sleep(400);
    const s = handle.stats();
    expect(s.connected).toBe(0);
    expect(s.errors).toBeGreaterThan(0);
    expect(s.sent).toBe(0);
    expect(logger.lines.some((l) => l.startsWith('warn mqtt client error'))).toBe(true);
    const t = performance.now();
    await handle.stop();
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

describe('pantau simulate command', () => {
  it('runs for --duration against an anonymous broker and prints progress lines', async () => {
    const b = await startBroker();
    cleanups.push(b.close);
    const lines: string[] = [];
    const code = await simulateCommand(
      ['--no-provision', '--url', b.url, '--vehicles', '6', '--sensors', '3', '--sensor-interval', '0.5', '--rate', '5', '--duration', '1.5', '--stats-interval', '0.4', '--ramp', '0.1'],
      { logger: silentLogger(), write: (l) => lines.push(l), writeError: (l) => lines.push(l) },
    );
    expect(code).toBe(0);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toMatch(/connected 0\/9 \| sent \d+ .* acked \d+ .*puback p50 [\d.]+ ms p99 [\d.]+ ms max [\d.]+ ms/);
    expect(b.received.filter((m) => m.topic.startsWith('pantau/v1/vehicles/load-')).length).toBeGreaterThan(20);
    expect(b.received.some((m) => m.topic.startsWith('pantau/v1/sensors/load-'))).toBe(true);
  });

  it('answers bad arguments with exit code 2, the reason and the usage', async () => {
    const errors: string[] = [];
    const code = await simulateCommand(['--rate', 'x', '--no-provision'], { logger: silentLogger(), write: () => {}, writeError: (l) => errors.push(l) });
    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(/--rate must be .*\n\nUsage: pantau simulate/);
  });
});

describe('parseSimulateArgs', () => {
  const env = { PANTAU_ADMIN_TOKEN: 'env-token' };

  it('parses the documented flags and defaults', () => {
    const o = parseSimulateArgs(['--vehicles', '1000', '--sensors=50', '--rate', '20', '--url', 'mqtt://10.0.0.5:1884', '--seed', '7', '--duration', '30', '--qos', '0'], env);
    expect(o).toMatchObject<Partial<SimulateOptions>>({
      vehicles: 1000,
      sensors: 50,
      rateHz: 20,
      url: 'mqtt://10.0.0.5:1884',
      apiUrl: 'http://10.0.0.5:8080',
      adminToken: 'env-token',
      provision: true,
      seed: 7,
      durationS: 30,
      qos: 0,
      idPrefix: 'load-',
    });
    const anon = parseSimulateArgs(['--no-provision', '--vehicles', '5', '--username', 'u', '--password', 'p'], {});
    expect(anon).toMatchObject({ provision: false, apiUrl: null, adminToken: null, username: 'u', password: 'p', qos: 1, rateHz: 1, durationS: null });
    expect(parseSimulateArgs(['--api', 'http://h:9000/', '--token', 't'], {})).toMatchObject({ apiUrl: 'http://h:9000', adminToken: 't' });
    expect(parseSimulateArgs(['--help'], {}).help).toBe(true);
  });

  it.each([
    [['--vehicles', 'many'], '--vehicles', /whole number/],
    [['--vehicles', '-3'], '--vehicles', /whole number/],
    [['--vehicles', '2.5'], '--vehicles', /whole number/],
    [['--sensors', ''], '--sensors', /whole number/],
    [['--rate', '0'], '--rate', /greater than 0/],
    [['--rate', 'fast'], '--rate', /fixes per second/],
    [['--rate'], '--rate', /needs a value/],
    [['--rate', '--vehicles', '3'], '--rate', /needs a value/],
    [['--url', 'http://x:1883'], '--url', /mqtt:\/\/HOST:PORT/],
    [['--url', 'not a url'], '--url', /URL/],
    [['--qos', '2'], '--qos', /0 or 1/],
    [['--duration', '-1'], '--duration', /greater than 0/],
    [['--seed', 'abc'], '--seed', /whole number/],
    [['--frobnicate'], '--frobnicate', /unknown flag/],
    [['vehicles'], 'vehicles', /unexpected argument/],
    [['--no-provision=yes'], '--no-provision', /takes no value/],
    [['--vehicles', '0', '--sensors', '0', '--no-provision'], '--vehicles', /nothing to simulate/],
    [['--vehicles', '1', '--vehicles', '2'], '--vehicles', /twice/],
    [[], '--token', /PANTAU_ADMIN_TOKEN/],
    [['--token', 't', '--username', 'u'], '--username', /--no-provision/],
    [['--no-provision', '--password', 'p'], '--password', /needs --username/],
    [['--no-provision', '--token', 't'], '--token', /only used for provisioning/],
    [['--prefix', 'a/b', '--no-provision'], '--prefix', /letters, digits/],
    [['--api', 'mqtt://h:1', '--token', 't'], '--api', /http:\/\/HOST:PORT/],
  ] as const)('rejects %j naming %s', (argv, flag, message) => {
    let error: unknown;
    try {
      parseSimulateArgs([...argv], {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SimulateArgsError);
    expect((error as SimulateArgsError).flag).toBe(flag);
    expect((error as SimulateArgsError).message).toMatch(message);
    expect((error as SimulateArgsError).message).toContain(flag);
  });
});
