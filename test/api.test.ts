// The HTTP API without sockets (fastify inject) over a real engine on the embedded database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine/engine.ts';
import { auth, startTestEngine } from './helpers/engine.ts';
import { seededRandom } from './helpers/seeded-random.ts';
import { haversineM } from '../geo/distance.ts';
import { VEHICLE_STATUSES, VEHICLE_TYPES } from '../ingest/model.ts';
import type { LiveVehicle } from '../geo/vehicle-index.ts';

let engine: Engine;
let viewer: { authorization: string };

beforeAll(async () => {
  engine = await startTestEngine({}, false);
  viewer = { authorization: `Bearer ${await engine.registry.issueOperatorToken('wall-screen', 'viewer')}` };
});
afterAll(async () => {
  await engine?.close();
});

const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = auth) =>
  engine.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

describe('devices', () => {
  it('provisions a vehicle and returns its token once', async () => {
    const res = await inject('POST', '/api/v1/devices', { id: 'bc-01', kind: 'vehicle', type: 'blue_crew_truck', name: 'Pasukan Biru 01', meta: { plate: 'B 9001 PQR' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ id: 'bc-01', token: expect.stringMatching(/^pd_[A-Za-z0-9_-]{43}$/) });
    const got = (await inject('GET', '/api/v1/devices/bc-01')).json();
    expect(got).toMatchObject({ id: 'bc-01', kind: 'vehicle', type: 'blue_crew_truck', status: 'available', meta: { plate: 'B 9001 PQR' } });
    expect(JSON.stringify(got)).not.toMatch(/token|scrypt/);
    const [row] = await engine.db.query<{ token_hash: string }>(`SELECT token_hash FROM devices WHERE id = 'bc-01'`);
    expect(row!.token_hash).toMatch(/^scrypt\$/);
  });

  it.each([
    [{ id: 'bad id!', kind: 'vehicle', type: 'ambulance' }, 400, 'VALIDATION_FAILED', 'body.id'],
    [{ id: 'x1', kind: 'boat', type: 'ambulance' }, 400, 'VALIDATION_FAILED', 'body.kind'],
    [{ id: 'x1', kind: 'vehicle', type: 'submarine' }, 400, 'VALIDATION_FAILED', 'body.type'],
    [{ id: 'x1', kind: 'sensor', type: 'water_level' }, 400, 'VALIDATION_FAILED', 'body.lat'],
    [{ id: 'x1', kind: 'sensor', type: 'water_level', lat: -91, lon: 106 }, 400, 'VALIDATION_FAILED', 'body.lat'],
    [{ kind: 'vehicle', type: 'ambulance' }, 400, 'VALIDATION_FAILED', 'body'],
    [{ id: 'x1', kind: 'vehicle', type: 'ambulance', colour: 'red' }, 400, 'VALIDATION_FAILED', 'body'],
  ])('refuses %j with a coded reason naming the field', async (body, status, code, field) => {
    const res = await inject('POST', '/api/v1/devices', body);
    expect(res.statusCode).toBe(status);
    const err = res.json();
    expect(err.error).toBe(code);
    expect(typeof err.message).toBe('string');
    expect(err.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('refuses a duplicate id and a taken OwnTracks name with 409', async () => {
    await inject('POST', '/api/v1/devices', { id: 'gt-1', kind: 'vehicle', type: 'garbage_truck', owntracks: 'dlh/gt1' });
    expect((await inject('POST', '/api/v1/devices', { id: 'gt-1', kind: 'vehicle', type: 'garbage_truck' })).json().error).toBe('DEVICE_EXISTS');
    expect((await inject('POST', '/api/v1/devices', { id: 'gt-2', kind: 'vehicle', type: 'garbage_truck', owntracks: 'dlh/gt1' })).json().error).toBe('OWNTRACKS_TAKEN');
  });

  it('needs a bearer token, and the admin role to provision', async () => {
    expect((await inject('GET', '/api/v1/devices', undefined, {} as never)).json().error).toBe('UNAUTHORIZED');
    expect((await inject('GET', '/api/v1/devices', undefined, { authorization: 'Bearer nope' })).statusCode).toBe(401);
    expect((await inject('GET', '/api/v1/devices', undefined, viewer)).statusCode).toBe(200);
    const res = await inject('POST', '/api/v1/devices', { id: 'v-1', kind: 'vehicle', type: 'police' }, viewer);
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe('FORBIDDEN');
  });

  it('patches, rotates the token, and deletes', async () => {
    const { token } = (await inject('POST', '/api/v1/devices', { id: 'amb-9', kind: 'vehicle', type: 'ambulance' })).json();
    expect((await inject('PATCH', '/api/v1/devices/amb-9', { name: 'Ambulans Puskesmas', status: 'out_of_service' })).json()).toMatchObject({ name: 'Ambulans Puskesmas', status: 'out_of_service' });
    expect((await inject('PATCH', '/api/v1/devices/amb-9', { type: 'tank' })).statusCode).toBe(400);
    const rotated = (await inject('POST', '/api/v1/devices/amb-9/token')).json();
    expect(rotated.token).not.toBe(token);
    expect(await engine.registry.authenticateDevice('amb-9', token)).toBeNull();
    expect(await engine.registry.authenticateDevice('amb-9', rotated.token)).not.toBeNull();
    expect((await inject('DELETE', '/api/v1/devices/amb-9')).statusCode).toBe(204);
    expect((await inject('GET', '/api/v1/devices/amb-9')).json().error).toBe('DEVICE_NOT_FOUND');
  });
});

describe('vehicles', () => {
  const now = Date.now();
  const fleet: LiveVehicle[] = [];

  beforeAll(() => {
    const rnd = seededRandom(2024);
    for (let i = 0; i < 3000; i++) {
      const v: LiveVehicle = {
        id: `v-${String(i).padStart(4, '0')}`,
        type: VEHICLE_TYPES[Math.floor(rnd() * VEHICLE_TYPES.length)]!,
        status: VEHICLE_STATUSES[Math.floor(rnd() * VEHICLE_STATUSES.length)]!,
        lat: -6.4 + rnd() * 0.35,
        lon: 106.65 + rnd() * 0.35,
        ts: now - Math.floor(rnd() * 600_000),
        speedKmh: Math.round(rnd() * 60),
        heading: Math.round(rnd() * 359),
        accuracyM: Math.round(rnd() * 30),
      };
      fleet.push(v);
      engine.vehicles.upsert(v);
    }
  });

  it('answers nearest exactly as a brute-force great-circle sort, with filters', async () => {
    const rnd = seededRandom(7);
    for (let q = 0; q < 60; q++) {
      const lat = -6.45 + rnd() * 0.45;
      const lon = 106.6 + rnd() * 0.45;
      const k = 1 + Math.floor(rnd() * 12);
      const type = rnd() < 0.7 ? VEHICLE_TYPES[Math.floor(rnd() * VEHICLE_TYPES.length)]! : undefined;
      const maxAgeS = [60, 120, 300, 900][Math.floor(rnd() * 4)]!;
      const maxDistanceM = rnd() < 0.5 ? Math.round(500 + rnd() * 8000) : undefined;
      const url = `/api/v1/vehicles/nearest?lat=${lat}&lon=${lon}&k=${k}&max_age_s=${maxAgeS}${type ? `&type=${type}` : ''}${maxDistanceM ? `&max_distance_m=${maxDistanceM}` : ''}`;
      const res = await inject('GET', url);
      expect(res.statusCode).toBe(200);
      const asOf = Date.now();
      const expected = fleet
        .filter((v) => v.status === 'available' && (!type || v.type === type) && v.ts >= asOf - maxAgeS * 1000)
        .map((v) => ({ id: v.id, d: haversineM(lat, lon, v.lat, v.lon) }))
        .filter((x) => maxDistanceM === undefined || x.d <= maxDistanceM)
        .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1))
        .slice(0, k);
      const got = res.json().results as Array<{ id: string; distance_m: number; eta_s: number; age_s: number; status: string }>;
      expect(got.map((r) => r.id)).toEqual(expected.map((e) => e.id));
      got.forEach((r, i) => {
        expect(r.distance_m).toBeCloseTo(expected[i]!.d, 0);
        expect(r.status).toBe('available');
        expect(r.age_s).toBeLessThanOrEqual(maxAgeS + 1);
        expect(r.eta_s).toBeGreaterThan(0);
      });
    }
  });

  it('never offers a vehicle whose last fix is older than max_age_s', async () => {
    engine.vehicles.upsert({ id: 'stale-amb', type: 'ambulance', status: 'available', lat: -6.5, lon: 107.2, ts: Date.now() - 121_000, speedKmh: 0, heading: 0, accuracyM: 5 });
    const res = (await inject('GET', '/api/v1/vehicles/nearest?lat=-6.5&lon=107.2&type=ambulance&k=1')).json();
    expect(res.results[0].id).not.toBe('stale-amb');
    const older = (await inject('GET', '/api/v1/vehicles/nearest?lat=-6.5&lon=107.2&type=ambulance&k=1&max_age_s=600')).json();
    expect(older.results[0].id).toBe('stale-amb');
  });

  it('lists live positions as GeoJSON, filtered by type, status and bbox', async () => {
    const fc = (await inject('GET', '/api/v1/vehicles?type=ambulance,police&status=available&bbox=106.7,-6.3,106.8,-6.2')).json();
    const expected = fleet.filter((v) => ['ambulance', 'police'].includes(v.type) && v.status === 'available' && v.lon >= 106.7 && v.lon <= 106.8 && v.lat >= -6.3 && v.lat <= -6.2);
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features.map((f: { id: string }) => f.id).sort()).toEqual(expected.map((v) => v.id).sort());
    const f = fc.features[0];
    expect(f.geometry.coordinates).toHaveLength(2);
    expect(Object.keys(f.properties).sort()).toEqual(['accuracy_m', 'age_s', 'heading', 'id', 'speed_kmh', 'status', 'ts', 'type']);
  });

  it.each([
    ['/api/v1/vehicles/nearest?lon=106.8', 'VALIDATION_FAILED'],
    ['/api/v1/vehicles/nearest?lat=-6.2&lon=106.8&k=0', 'VALIDATION_FAILED'],
    ['/api/v1/vehicles/nearest?lat=-6.2&lon=200', 'VALIDATION_FAILED'],
    ['/api/v1/vehicles/nearest?lat=-6.2&lon=106.8&type=tank', 'BAD_QUERY'],
    ['/api/v1/vehicles?bbox=1,2,3', 'BAD_QUERY'],
    ['/api/v1/vehicles/nope', 'VEHICLE_NOT_FOUND'],
  ])('refuses %s with %s', async (url, code) => {
    const res = await inject('GET', url);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.json().error).toBe(code);
  });
});

describe('operations', () => {
  it('reports liveness, readiness, metrics and the OpenAPI document', async () => {
    const health = (await inject('GET', '/healthz', undefined, {} as never)).json();
    expect(health).toMatchObject({ status: 'ok', ports: { mqtt: expect.any(Number), http: expect.any(Number) }, database: 'embedded' });
    expect((await inject('GET', '/readyz', undefined, {} as never)).json()).toEqual({ status: 'ready', database: true, broker: true });
    const metrics = await inject('GET', '/metrics', undefined, {} as never);
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.body).toMatch(/pantau_vehicles_live \d+/);
    // open fds still reported (read off the event loop); the per-handle collectors, which block it, are gone
    if (process.platform === 'linux') expect(metrics.body).toMatch(/^pantau_process_process_open_fds \d+$/m);
    expect(metrics.body).not.toMatch(/nodejs_active_handles|nodejs_active_resources|nodejs_active_requests/);
    const doc = (await inject('GET', '/docs/json', undefined, {} as never)).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/devices', '/api/v1/vehicles/nearest', '/api/v1/sensors/{id}/readings', '/healthz']));
    expect((await inject('GET', '/', undefined, {} as never)).body).toMatch(/<title>Pantau<\/title>/);
  });

  it('answers unknown routes with a coded 404', async () => {
    const res = await inject('GET', '/api/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('NOT_FOUND');
  });
});
