// CCTV through the API of a real engine: the camera registry, nearest cameras (against brute force), cameras attached
// to dispatches and alerts, the stream route's handshake and errors, and the player's static files. No ffmpeg needed:
// this engine's FFMPEG_PATH points nowhere, which is itself one of the error paths.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Engine } from '../engine/engine.ts';
import { startEngine } from '../engine/engine.ts';
import { loadConfig } from '../engine/config.ts';
import { createLogger } from '../engine/log.ts';
import { ADMIN_TOKEN, auth, provision, tempDataDir } from './helpers/engine.ts';
import { seededRandom } from './helpers/seeded-random.ts';
import { haversineM } from '../geo/distance.ts';
import { Cameras } from '../cctv/cameras.ts';

let engine: Engine;
let viewerToken = '';
let viewer: { authorization: string };
const logLines: string[] = [];

beforeAll(async () => {
  const config = loadConfig(
    { PANTAU_MQTT_PORT: '0', PANTAU_HTTP_PORT: '0', PANTAU_HOST: '127.0.0.1', PANTAU_ADMIN_TOKEN: ADMIN_TOKEN, PANTAU_DATA_DIR: tempDataDir(), FFMPEG_PATH: '/nonexistent/bin/ffmpeg' },
    [],
    {},
  );
  // every log line is kept, at debug level, to prove tokens never reach it
  engine = await startEngine(config, { log: createLogger('debug', (line) => logLines.push(line)) });
  viewerToken = await engine.registry.issueOperatorToken('wall-screen', 'viewer');
  viewer = { authorization: `Bearer ${viewerToken}` };
});
afterAll(async () => {
  await engine?.close();
});

const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = auth) =>
  engine.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

const addCamera = async (body: Record<string, unknown>) => {
  const res = await inject('POST', '/api/v1/cameras', body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};

describe('camera registry', () => {
  it('registers, lists, shows and deletes cameras, with the password of the RTSP URL hidden', async () => {
    const created = await addCamera({ id: 'cam-hi', name: 'Bundaran HI', lat: -6.1951, lon: 106.8231, rtsp_url: 'rtsp://admin:S3cret@10.20.0.5:554/Streaming/Channels/101' });
    expect(created).toEqual({
      id: 'cam-hi', name: 'Bundaran HI', lat: -6.1951, lon: 106.8231, rtsp_url: 'rtsp://admin:***@10.20.0.5:554/Streaming/Channels/101',
      stream_url: '/api/v1/cameras/cam-hi/stream', streaming: false, viewers: 0, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await inject('GET', '/api/v1/cameras/cam-hi', undefined, viewer)).json()).toEqual(created);
    expect((await inject('GET', '/api/v1/cameras', undefined, viewer)).json().cameras).toContainEqual(created);
    const [row] = await engine.db.query<{ rtsp_url: string }>(`SELECT rtsp_url FROM cameras WHERE id = 'cam-hi'`);
    expect(row!.rtsp_url).toBe('rtsp://admin:S3cret@10.20.0.5:554/Streaming/Channels/101');
    expect(JSON.stringify((await inject('GET', '/api/v1/cameras')).json())).not.toContain('S3cret');

    expect((await inject('DELETE', '/api/v1/cameras/cam-hi')).statusCode).toBe(204);
    const gone = await inject('GET', '/api/v1/cameras/cam-hi');
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error).toBe('CAMERA_NOT_FOUND');
    expect((await inject('DELETE', '/api/v1/cameras/cam-hi')).json().error).toBe('CAMERA_NOT_FOUND');
  });

  it('needs a token to read and the admin role to change', async () => {
    expect((await inject('GET', '/api/v1/cameras', undefined, {})).json().error).toBe('UNAUTHORIZED');
    const body = { id: 'cam-x', name: 'X', lat: -6.2, lon: 106.8, rtsp_url: 'rtsp://10.0.0.1/x' };
    const refused = await inject('POST', '/api/v1/cameras', body, viewer);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('FORBIDDEN');
    await addCamera(body);
    expect((await inject('DELETE', '/api/v1/cameras/cam-x', undefined, viewer)).statusCode).toBe(403);
    expect((await inject('DELETE', '/api/v1/cameras/cam-x')).statusCode).toBe(204);
  });

  const good = { id: 'cam-v', name: 'Valid', lat: -6.2, lon: 106.8, rtsp_url: 'rtsp://10.0.0.1:554/live' };
  it.each([
    [{ ...good, id: 'bad id!' }, 'body.id'],
    [{ ...good, id: undefined }, 'body', 'id'],
    [{ ...good, name: '' }, 'body.name'],
    [{ ...good, lat: -91 }, 'body.lat'],
    [{ ...good, lon: 180.5 }, 'body.lon'],
    [{ ...good, lat: 'north' }, 'body.lat'],
    [{ ...good, rtsp_url: 'http://10.0.0.1/video.mjpg' }, 'body.rtsp_url'],
    [{ ...good, rtsp_url: 'file:///etc/passwd' }, 'body.rtsp_url'],
    [{ ...good, rtsp_url: 'rtsp://:554/x' }, 'body.rtsp_url'],
    [{ ...good, rtsp_url: undefined }, 'body', 'rtsp_url'],
    [{ ...good, colour: 'red' }, 'body', 'colour'],
  ])('refuses %j with VALIDATION_FAILED naming %s', async (body, field, property?: string) => {
    const res = await inject('POST', '/api/v1/cameras', body);
    expect(res.statusCode).toBe(400);
    const err = res.json();
    expect(err.error).toBe('VALIDATION_FAILED');
    expect(typeof err.message).toBe('string');
    expect(err.details.map((d: { field: string }) => d.field)).toContain(field);
    // a missing or unexpected property is named as ajv names it (as for devices)
    if (property) expect(err.details.map((d: { missingProperty?: string; additionalProperty?: string }) => d.missingProperty ?? d.additionalProperty)).toContain(property);
  });

  it('refuses a taken id with 409 CAMERA_EXISTS', async () => {
    await addCamera({ ...good, id: 'cam-dup' });
    const res = await inject('POST', '/api/v1/cameras', { ...good, id: 'cam-dup', name: 'Other' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toBe('CAMERA_EXISTS');
    await inject('DELETE', '/api/v1/cameras/cam-dup');
  });
});

describe('nearest cameras', () => {
  const rnd = seededRandom(112);
  const seeded = Array.from({ length: 300 }, (_, i) => ({ id: `jkt-${String(i).padStart(3, '0')}`, name: `Jakarta ${i}`, lat: -6.4 + rnd() * 0.4, lon: 106.6 + rnd() * 0.4 }));

  beforeAll(async () => {
    for (const c of seeded) await addCamera({ ...c, rtsp_url: `rtsp://10.9.${c.id.slice(4)}.1/live` });
  });

  it('equals brute force on seeded random cameras, with great-circle distance_m', async () => {
    const all = (await inject('GET', '/api/v1/cameras')).json().cameras as Array<{ id: string; lat: number; lon: number }>;
    for (let q = 0; q < 60; q++) {
      const lat = -6.45 + rnd() * 0.5;
      const lon = 106.55 + rnd() * 0.5;
      const k = 1 + Math.floor(rnd() * 12);
      const limit = q % 3 === 0 ? 500 + rnd() * 3000 : undefined;
      const res = await inject('GET', `/api/v1/cameras/nearest?lat=${lat}&lon=${lon}&k=${k}${limit ? `&max_distance_m=${limit}` : ''}`, undefined, viewer);
      expect(res.statusCode).toBe(200);
      const got = res.json().results as Array<{ id: string; distance_m: number; lat: number; lon: number; name: string }>;
      const want = all
        .map((c) => ({ id: c.id, d: haversineM(lat, lon, c.lat, c.lon) }))
        .filter((c) => limit === undefined || c.d <= limit)
        .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1))
        .slice(0, k);
      const context = `query ${q}: ${lat},${lon} k=${k} max=${limit}`;
      expect(got.map((r) => r.id), context).toEqual(want.map((w) => w.id));
      got.forEach((r, i) => expect(Math.abs(r.distance_m - want[i]!.d), context).toBeLessThanOrEqual(0.05 + 1e-9));
    }
  });

  it('answers from the registry restored from the database', async () => {
    const restored = new Cameras(engine.db);
    await restored.load();
    expect(restored.size).toBe(engine.cameras.size);
    expect(restored.nearest(-6.2, 106.8, 5).map((h) => h.item.id)).toEqual(engine.cameras.nearest(-6.2, 106.8, 5).map((h) => h.item.id));
    expect(restored.get('jkt-007')).toEqual(engine.cameras.get('jkt-007'));
  });

  it.each([
    ['/api/v1/cameras/nearest?lon=106.8', 'querystring'],
    ['/api/v1/cameras/nearest?lat=95&lon=106.8', 'querystring.lat'],
    ['/api/v1/cameras/nearest?lat=-6.2&lon=106.8&k=0', 'querystring.k'],
  ])('refuses %s naming %s', async (url, field) => {
    const res = await inject('GET', url);
    expect(res.statusCode).toBe(400);
    expect(res.json().details.map((d: { field: string }) => d.field)).toContain(field);
  });
});

describe('cameras attached to dispatches and alerts', () => {
  // Surabaya and Bandung: far from the seeded Jakarta cameras.
  const SCENE = { lat: -7.2575, lon: 112.7521 };
  const near = (id: string, dNorthM: number) => ({ id, name: `Camera ${id}`, lat: SCENE.lat + dNorthM / 111_195, lon: SCENE.lon, rtsp_url: `rtsp://10.7.0.1/${id}` });

  beforeAll(async () => {
    for (const c of [near('sby-900', 900), near('sby-150', 150), near('sby-1500', 1500), near('sby-400', -400), near('sby-700', 700)]) await addCamera(c);
  });

  it('gives a dispatch the 3 nearest cameras within 1 km, in its POST response, GET and list', async () => {
    await provision(engine, { id: 'amb-sby', kind: 'vehicle', type: 'ambulance' });
    engine.vehicles.upsert({ id: 'amb-sby', type: 'ambulance', status: 'available', lat: SCENE.lat + 0.01, lon: SCENE.lon, ts: Date.now(), speedKmh: null, heading: null, accuracyM: null });
    const res = await inject('POST', '/api/v1/dispatches', { ...SCENE, type: 'ambulance', note: '112: flooding' });
    expect(res.statusCode, res.body).toBe(201);
    const d = res.json();
    expect(d.cameras.map((c: { id: string }) => c.id)).toEqual(['sby-150', 'sby-400', 'sby-700']);
    expect(d.cameras[0]).toEqual({ id: 'sby-150', name: 'Camera sby-150', distance_m: expect.closeTo(150, 0) });
    for (const c of d.cameras) expect(c.distance_m).toBeCloseTo(haversineM(SCENE.lat, SCENE.lon, engine.cameras.get(c.id)!.lat, SCENE.lon), 1);
    expect((await inject('GET', `/api/v1/dispatches/${d.id}`, undefined, viewer)).json().cameras).toEqual(d.cameras);
    const listed = (await inject('GET', '/api/v1/dispatches', undefined, viewer)).json().dispatches.find((x: { id: string }) => x.id === d.id);
    expect(listed.cameras).toEqual(d.cameras);
    const cancelled = await engine.app.inject({ method: 'PATCH', url: `/api/v1/dispatches/${d.id}`, headers: auth, payload: { state: 'cancelled' } });
    expect(cancelled.json().cameras).toEqual(d.cameras);
    // a dispatch with no camera within the radius carries an empty list
    engine.vehicles.upsert({ id: 'amb-sby', type: 'ambulance', status: 'available', lat: -8.65, lon: 115.2, ts: Date.now(), speedKmh: null, heading: null, accuracyM: null });
    const bali = await inject('POST', '/api/v1/dispatches', { lat: -8.65, lon: 115.2, type: 'ambulance' });
    expect(bali.statusCode, bali.body).toBe(201);
    expect(bali.json().cameras).toEqual([]);
  });

  it("gives an alert view the cameras nearest to its source's location, without changing the stored alert", async () => {
    await provision(engine, { id: 'gauge-sby', kind: 'sensor', type: 'water_level', lat: SCENE.lat, lon: SCENE.lon });
    const a = engine.alerts.raise({ kind: 'water_level', sourceId: 'gauge-sby', level: 'SIAGA_3', value: 95, unit: 'cm', message: 'Siaga 3 at gauge-sby', ts: Date.now() });
    const active = (await inject('GET', '/api/v1/alerts?state=active', undefined, viewer)).json().alerts.find((x: { id: string }) => x.id === a.id);
    expect(active.cameras.map((c: { id: string }) => c.id)).toEqual(['sby-150', 'sby-400', 'sby-700']);
    expect((await inject('GET', `/api/v1/alerts/${a.id}`, undefined, viewer)).json().cameras).toEqual(active.cameras);
    await engine.alerts.flush();
    const past = (await inject('GET', '/api/v1/alerts?kind=water_level&source_id=gauge-sby', undefined, viewer)).json().alerts[0];
    expect(past.cameras).toEqual(active.cameras);
    const [row] = await engine.db.query<{ details: Record<string, unknown> }>('SELECT details FROM alerts WHERE id = $1', [a.id]);
    expect(row!.details).not.toHaveProperty('cameras');
    // a source with no known location: no cameras, no error
    const lost = engine.alerts.raise({ kind: 'sensor_offline', sourceId: 'nowhere', level: 'SENSOR_OFFLINE', value: null, unit: null, message: 'gone', ts: Date.now() });
    expect((await inject('GET', `/api/v1/alerts/${lost.id}`, undefined, viewer)).json().cameras).toEqual([]);
  });
});

describe('stream route', () => {
  /** Opens the stream WebSocket; resolves with the refused handshake's status and body, or the messages and close. */
  function openStream(path: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; body: Record<string, string> } | { messages: Array<{ binary: boolean; data: Buffer }>; code: number; reason: string }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${engine.ports.http}${path}`, { headers });
      const messages: Array<{ binary: boolean; data: Buffer }> = [];
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
      });
      ws.on('message', (data: Buffer, binary) => messages.push({ binary, data }));
      ws.on('close', (code, reason) => resolve({ messages, code, reason: reason.toString() }));
      ws.on('error', (err) => {
        if (!/Unexpected server response/.test(err.message)) reject(err);
      });
    });
  }

  beforeAll(async () => {
    await addCamera({ id: 'cam-gate', name: 'Pintu Air Manggarai', lat: -6.2087, lon: 106.8497, rtsp_url: 'rtsp://op:Pa55@10.30.0.2/ch1' });
  });

  it('refuses a handshake without a valid token with 401 UNAUTHORIZED', async () => {
    expect(await openStream('/api/v1/cameras/cam-gate/stream')).toEqual({ status: 401, body: { error: 'UNAUTHORIZED', message: 'send Authorization: Bearer <token> or ?access_token=<token>' } });
    expect(await openStream('/api/v1/cameras/cam-gate/stream?access_token=po_not-a-real-token')).toEqual({ status: 401, body: { error: 'UNAUTHORIZED', message: 'unknown or revoked token' } });
    expect(await openStream('/api/v1/cameras/cam-gate/stream', { authorization: 'Bearer po_wrong' })).toMatchObject({ status: 401 });
  });

  it('refuses an unknown camera with 404 CAMERA_NOT_FOUND', async () => {
    expect(await openStream(`/api/v1/cameras/no-such-cam/stream?access_token=${viewerToken}`)).toEqual({ status: 404, body: { error: 'CAMERA_NOT_FOUND', message: 'no camera no-such-cam' } });
  });

  it('accepts a viewer token from the query or the header; a missing ffmpeg reaches the viewer as FFMPEG_MISSING naming the package', async () => {
    for (const [path, headers] of [
      [`/api/v1/cameras/cam-gate/stream?access_token=${encodeURIComponent(viewerToken)}`, {}],
      ['/api/v1/cameras/cam-gate/stream', viewer],
    ] as const) {
      const got = await openStream(path, headers);
      expect(got).toMatchObject({ code: 1011, reason: 'FFMPEG_MISSING' });
      if (!('messages' in got)) throw new Error('refused');
      expect(got.messages).toHaveLength(1);
      expect(got.messages[0]!.binary).toBe(false);
      expect(JSON.parse(got.messages[0]!.data.toString())).toEqual({
        error: 'FFMPEG_MISSING',
        message: "ffmpeg was not found at /nonexistent/bin/ffmpeg: install Debian's ffmpeg package (apt-get install -y ffmpeg) or set FFMPEG_PATH",
      });
    }
    expect(await engine.metrics.registry.getSingleMetricAsString('pantau_camera_stream_errors_total')).toMatch(/code="FFMPEG_MISSING"} 2/);
    expect(engine.cameraStreams.status('cam-gate')).toEqual({ streaming: false, viewers: 0, pid: null });
  });

  it('answers a plain GET of the stream with 426 UPGRADE_REQUIRED, and leaves /mqtt and other paths as they were', async () => {
    const plain = await inject('GET', '/api/v1/cameras/cam-gate/stream', undefined, viewer);
    expect(plain.statusCode).toBe(426);
    expect(plain.json().error).toBe('UPGRADE_REQUIRED');
    expect((await inject('GET', '/api/v1/cameras/nope/stream', undefined, viewer)).json().error).toBe('CAMERA_NOT_FOUND');
    const other = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${engine.ports.http}/api/v1/cameras`, { headers: viewer });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(other).toBe(404);
  });

  it('never writes a token or an RTSP password to the log', () => {
    const all = logLines.join('\n');
    expect(all).toContain('camera stream failed');
    expect(all).not.toContain(viewerToken);
    expect(all).not.toContain(ADMIN_TOKEN);
    expect(all).not.toContain('Pa55');
    expect(all).not.toContain('S3cret');
  });
});

describe('player files', () => {
  it('serves the camera page, its script and JSMpeg from npm under /web/, and nothing outside web/', async () => {
    const page = await inject('GET', '/web/camera.html', undefined, {});
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('/web/vendor/jsmpeg.min.js');
    const player = await inject('GET', '/web/camera-player.js', undefined, {});
    expect(player.statusCode).toBe(200);
    expect(player.body).toContain('PantauCamera');
    const jsmpeg = await inject('GET', '/web/vendor/jsmpeg.min.js', undefined, {});
    expect(jsmpeg.statusCode).toBe(200);
    expect(jsmpeg.headers['content-type']).toMatch(/javascript/);
    expect(jsmpeg.body).toMatch(/jsmpeg-player v6\.[\s\S]*\.JSMpeg=/);
    for (const bad of ['/web/..%2Fpackage.json', '/web/%2E%2E%2Fpackage.json', '/web/missing.html', '/web/.env']) {
      expect((await inject('GET', bad, undefined, {})).statusCode, bad).toBe(404);
    }
  });
});
