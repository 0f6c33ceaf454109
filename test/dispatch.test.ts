// 112 dispatch: atomic reservation under concurrency, the state flow, crew reports, restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine/engine.ts';
import { auth, provision, startTestEngine, tempDataDir } from './helpers/engine.ts';
import { connect, waitFor } from './helpers/mqtt.ts';
import { haversineM } from '../geo/distance.ts';

const dataDir = tempDataDir();
let engine: Engine;
const tokens: Record<string, string> = {};
const AMBULANCES = Array.from({ length: 10 }, (_, i) => ({ id: `amb-${String(i).padStart(2, '0')}`, lat: -6.2 + i * 0.004, lon: 106.82 + i * 0.003 }));

const post = (payload: object) => engine.app.inject({ method: 'POST', url: '/api/v1/dispatches', headers: auth, payload });
const patch = (id: string, state: string) => engine.app.inject({ method: 'PATCH', url: `/api/v1/dispatches/${id}`, headers: auth, payload: { state } });

async function report(id: string, body: object, topic = 'position') {
  const c = await connect(engine, { clientId: `${id}-${topic}`, username: id, password: tokens[id] });
  await c.publishAsync(`pantau/v1/vehicles/${id}/${topic}`, JSON.stringify(body), { qos: 1 });
  await c.endAsync();
}

beforeAll(async () => {
  engine = await startTestEngine({ dataDir });
  for (const a of AMBULANCES) {
    tokens[a.id] = await provision(engine, { id: a.id, kind: 'vehicle', type: 'ambulance' });
    await report(a.id, { ts: Date.now(), lat: a.lat, lon: a.lon, accuracy_m: 5 });
  }
  tokens['stale-amb'] = await provision(engine, { id: 'stale-amb', kind: 'vehicle', type: 'ambulance' });
  await report('stale-amb', { ts: Date.now() - 10 * 60_000, lat: -6.2, lon: 106.82 }); // on the spot, silent for 10 minutes
  tokens['gt-1'] = await provision(engine, { id: 'gt-1', kind: 'vehicle', type: 'garbage_truck' });
  await report('gt-1', { ts: Date.now(), lat: -6.2, lon: 106.82 });
});
afterAll(async () => {
  await engine?.close();
});

describe('dispatch', () => {
  it('reserves the nearest fresh available ambulance with distance and ETA', async () => {
    const res = await post({ lat: -6.2001, lon: 106.8201, note: '112: chest pain' });
    expect(res.statusCode).toBe(201);
    const d = res.json();
    expect(d).toMatchObject({ state: 'dispatched', type: 'ambulance', note: '112: chest pain', vehicle: { id: 'amb-00', status: 'dispatched' } });
    expect(d.distance_m).toBeCloseTo(haversineM(-6.2001, 106.8201, -6.2, 106.82), 0);
    expect(d.eta_s).toBeGreaterThan(0);
    expect(engine.vehicles.get('amb-00')!.status).toBe('dispatched');
    // the stale one sits exactly there and was never offered
    expect(d.vehicle.id).not.toBe('stale-amb');
    expect((await patch(d.id, 'cancelled')).json().state).toBe('cancelled');
    expect(engine.vehicles.get('amb-00')!.status).toBe('available');
  });

  it('gives 30 simultaneous requests exactly 10 distinct ambulances and 20 x 409', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => post({ lat: -6.19 + (i % 7) * 0.002, lon: 106.83 })));
    const ok = results.filter((r) => r.statusCode === 201).map((r) => r.json());
    const refused = results.filter((r) => r.statusCode === 409);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(20);
    expect(refused.every((r) => r.json().error === 'NO_VEHICLE_AVAILABLE')).toBe(true);
    const vehicles = ok.map((d) => d.vehicle.id);
    expect(new Set(vehicles).size).toBe(10);
    expect(vehicles).not.toContain('stale-amb');
    const [row] = await engine.db.query<{ n: number }>(`SELECT count(*) AS n FROM dispatches WHERE state = 'dispatched'`);
    expect(row!.n).toBe(10);
    for (const d of ok) expect((await patch(d.id, 'closed')).statusCode).toBe(200);
    expect([...engine.vehicles.all()].filter((v) => v.type === 'ambulance' && v.status === 'available')).toHaveLength(11);
  });

  it('moves forward only, and closing makes the vehicle available again', async () => {
    const d = (await post({ lat: -6.18, lon: 106.86 })).json();
    expect((await patch(d.id, 'on_scene')).json()).toMatchObject({ state: 'on_scene', vehicle: { status: 'on_scene' } });
    const back = await patch(d.id, 'en_route');
    expect(back.statusCode).toBe(409);
    expect(back.json().error).toBe('INVALID_TRANSITION');
    const closed = (await patch(d.id, 'closed')).json();
    expect(closed).toMatchObject({ state: 'closed', vehicle: { status: 'available' } });
    expect(closed.history.map((h: { state: string }) => h.state)).toEqual(['dispatched', 'on_scene', 'closed']);
    expect((await patch(d.id, 'cancelled')).json().error).toBe('INVALID_TRANSITION');
    expect((await patch('dsp_nope', 'closed')).json().error).toBe('DISPATCH_NOT_FOUND');
    const list = (await engine.app.inject({ url: '/api/v1/dispatches?state=closed', headers: auth })).json();
    expect(list.dispatches.map((x: { id: string }) => x.id)).toContain(d.id);
  });

  it('refuses with 409 when no vehicle of the type qualifies, and validates the request', async () => {
    const none = await post({ lat: -6.2, lon: 106.82, type: 'fire_truck' });
    expect(none.statusCode).toBe(409);
    expect(none.json().error).toBe('NO_VEHICLE_AVAILABLE');
    const far = await post({ lat: -6.2, lon: 106.82, type: 'garbage_truck', max_distance_m: 1 });
    expect(far.statusCode).toBe(201); // gt-1 is right there
    const bad = await post({ lat: 200, lon: 106.82 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('VALIDATION_FAILED');
    await patch(far.json().id, 'closed');
  });

  it('follows the crew: en_route and on_scene advance the dispatch, available closes it', async () => {
    const d = (await post({ lat: -6.16, lon: 106.86 })).json();
    const id = d.vehicle.id as string;
    await report(id, { ts: Date.now(), status: 'en_route' }, 'status');
    await waitFor(() => engine.vehicles.get(id)?.status === 'en_route');
    await report(id, { ts: Date.now() + 1, status: 'on_scene' }, 'status');
    await waitFor(() => engine.vehicles.get(id)?.status === 'on_scene');
    await report(id, { ts: Date.now() + 2, status: 'available' }, 'status');
    await waitFor(() => engine.vehicles.get(id)?.status === 'available');
    const after = (await engine.app.inject({ url: `/api/v1/dispatches/${d.id}`, headers: auth })).json();
    expect(after.state).toBe('closed');
    expect(after.history.map((h: { state: string; by: string }) => `${h.state}:${h.by}`)).toEqual(['dispatched:admin', `en_route:crew:${id}`, `on_scene:crew:${id}`, `closed:crew:${id}`]);
  });

  it('keeps dispatches and the vehicles\' dispatch status across a restart', async () => {
    const d = (await post({ lat: -6.15, lon: 106.87 })).json();
    await patch(d.id, 'en_route');
    await engine.close();
    engine = await startTestEngine({ dataDir });
    expect(engine.vehicles.get(d.vehicle.id)!.status).toBe('en_route');
    const again = (await engine.app.inject({ url: `/api/v1/dispatches/${d.id}`, headers: auth })).json();
    expect(again.state).toBe('en_route');
    // still reserved: a new request gets another ambulance
    const other = (await post({ lat: -6.15, lon: 106.87 })).json();
    expect(other.vehicle.id).not.toBe(d.vehicle.id);
    expect((await patch(d.id, 'closed')).json().vehicle.status).toBe('available');
  });
});
