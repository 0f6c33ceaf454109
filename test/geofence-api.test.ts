// Geofences end to end: the API, fixes over MQTT, events on MQTT and in history, edits, restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Engine } from '../engine/engine.ts';
import { ADMIN_TOKEN, auth, provision, startTestEngine, tempDataDir } from './helpers/engine.ts';
import { collect, connect, waitFor } from './helpers/mqtt.ts';

const dataDir = tempDataDir();
let engine: Engine;
let watcher: MqttClient;
let events: Array<{ topic: string; json: Record<string, unknown> }>;
const tokens: Record<string, string> = {};

// Kampung Melayu, roughly: a 2 x 2 km square with a 500 m hole (the river bank that never floods)
const square = (lon0: number, lat0: number, d: number) => [[lon0, lat0], [lon0 + d, lat0], [lon0 + d, lat0 + d], [lon0, lat0 + d], [lon0, lat0]];
const FLOOD = {
  type: 'Feature',
  id: 'banjir-kampung-melayu',
  geometry: { type: 'Polygon', coordinates: [square(106.85, -6.23, 0.02), square(106.855, -6.225, 0.005)] },
  properties: { name: 'Banjir Kampung Melayu', kind: 'flood', applies_to: ['garbage_truck', 'blue_crew_truck'], dwell_s: 2, source: 'BPBD' },
};

const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  engine.app.inject({ method, url: `/api/v1${url}`, headers: auth, ...(payload ? { payload } : {}) });

async function fix(id: string, body: Record<string, unknown>) {
  const c = await connect(engine, { clientId: `${id}-${Math.random()}`, username: id, password: tokens[id] });
  await c.publishAsync(`pantau/v1/vehicles/${id}/position`, JSON.stringify(body), { qos: 1 });
  await c.endAsync();
}

beforeAll(async () => {
  engine = await startTestEngine({ dataDir, geofenceExitDelayS: 0 });
  tokens['biru-1'] = await provision(engine, { id: 'biru-1', kind: 'vehicle', type: 'blue_crew_truck' });
  tokens['amb-1'] = await provision(engine, { id: 'amb-1', kind: 'vehicle', type: 'ambulance' });
  watcher = await connect(engine, { username: 'operator', password: ADMIN_TOKEN });
  events = await collect(watcher, 'pantau/v1/events/geofence/#');
});
afterAll(async () => {
  await watcher?.endAsync();
  await engine?.close();
});

describe('geofences', () => {
  it.each([
    [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[106.8, -6.2], [106.81, -6.2], [106.81, -6.21], [106.8, -6.21]]] }, properties: { name: 'x' } }, /closed/],
    [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[106.8, -6.2], [106.81, -6.21], [106.8, -6.2]]] }, properties: { name: 'x' } }, /4 positions|at least 4/],
    [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[106.8, -6.2], [106.81, -6.21], [106.81, -6.2], [106.8, -6.21], [106.8, -6.2]]] }, properties: { name: 'bowtie' } }, /self-intersect/],
    [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [square(200, -6.2, 0.01)] }, properties: { name: 'x' } }, /longitude|range/],
    [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [square(106.8, -6.2, 0.01), square(106.9, -6.2, 0.001)] }, properties: { name: 'x' } }, /hole/],
    [{ type: 'Feature', geometry: { type: 'Point', coordinates: [106.8, -6.2] }, properties: { name: 'x' } }, /Polygon|MultiPolygon/],
    [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [square(106.8, -6.2, 0.01)] }, properties: { name: 'x', applies_to: ['tank'] } }, /tank/],
  ])('refuses invalid geometry %# with INVALID_GEOMETRY and its reason', async (feature, reason) => {
    const res = await api('POST', '/geofences', feature);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('INVALID_GEOMETRY');
    expect(res.json().message).toMatch(reason);
    expect(typeof res.json().details.field).toBe('string');
  });

  it('tags fixes and fires enter, dwell and exit on MQTT and into history; applies_to and late fixes respected', async () => {
    expect((await api('POST', '/geofences', FLOOD)).json()).toEqual({ id: 'banjir-kampung-melayu' });
    const t0 = Date.now() - 60_000;
    await fix('biru-1', { ts: t0, lat: -6.24, lon: 106.84 }); // outside
    await fix('amb-1', { ts: t0, lat: -6.22, lon: 106.852 }); // inside, but not a type the fence applies to
    await fix('biru-1', { ts: t0 + 1000, lat: -6.22, lon: 106.852, accuracy_m: 5 }); // inside
    await waitFor(() => events.length >= 1);
    expect(events[0]).toMatchObject({ topic: 'pantau/v1/events/geofence/banjir-kampung-melayu', json: { fence_id: 'banjir-kampung-melayu', vehicle_id: 'biru-1', type: 'enter', ts: new Date(t0 + 1000).toISOString() } });
    const inside = (await api('GET', '/geofences/banjir-kampung-melayu/inside')).json();
    expect(inside.vehicles.map((v: { id: string }) => v.id)).toEqual(['biru-1']);
    const within = (await api('GET', '/vehicles?within=banjir-kampung-melayu')).json();
    expect(within.features.map((f: { id: string }) => f.id).sort()).toEqual(['amb-1', 'biru-1']); // geometry, whatever the type
    expect((await api('GET', '/geofences?contains=-6.22,106.852')).json().features.map((f: { id: string }) => f.id)).toEqual(['banjir-kampung-melayu']);
    expect((await api('GET', '/geofences?contains=-6.2225,106.8575')).json().features).toHaveLength(0); // in the hole
    // dwell: the sweep fires it once the vehicle has been in for dwell_s, with no new fix
    await waitFor(() => events.some((e) => e.json.type === 'dwell'), 8000);
    // out, clear of the fence by more than its accuracy
    await fix('biru-1', { ts: Date.now(), lat: -6.24, lon: 106.84, accuracy_m: 5 });
    await waitFor(() => events.some((e) => e.json.type === 'exit'));
    // a late fix inside changes nothing
    await fix('biru-1', { ts: t0 + 2000, lat: -6.22, lon: 106.852 });
    await new Promise((r) => setTimeout(r, 300));
    expect(events.map((e) => e.json.type)).toEqual(['enter', 'dwell', 'exit']);
    const history = (await api('GET', `/geofences/banjir-kampung-melayu/events?from=${t0 - 1000}`)).json();
    expect(history.events.map((e: { type: string; vehicle_id: string }) => `${e.type}:${e.vehicle_id}`)).toEqual(['enter:biru-1', 'dwell:biru-1', 'exit:biru-1']);
    expect(history.events.map((e: { id: string }) => e.id)).toEqual(events.map((e) => e.json.id));
  });

  it('does not exit while the accuracy circle still overlaps the fence', async () => {
    await fix('biru-1', { ts: Date.now(), lat: -6.22, lon: 106.852, accuracy_m: 5 });
    await waitFor(() => events.filter((e) => e.json.type === 'enter').length === 2);
    // 100 m outside the west edge, with a 300 m accuracy circle: still counted inside
    await fix('biru-1', { ts: Date.now() + 1, lat: -6.22, lon: 106.849, accuracy_m: 300 });
    await new Promise((r) => setTimeout(r, 300));
    expect(events.filter((e) => e.json.type === 'exit')).toHaveLength(1);
    expect((await api('GET', '/geofences/banjir-kampung-melayu/inside')).json().vehicles).toHaveLength(1);
  });

  it('re-evaluates vehicles when a fence is edited or deleted', async () => {
    await fix('biru-1', { ts: Date.now() + 2, lat: -6.22, lon: 106.852, accuracy_m: 5 }); // plainly inside
    const before = events.length;
    // shrink the fence away from the truck: it exits
    const moved = { ...FLOOD, geometry: { type: 'Polygon', coordinates: [square(106.9, -6.23, 0.01)] } };
    const putRes = await api('PUT', '/geofences/banjir-kampung-melayu', moved);
    expect(putRes.statusCode).toBe(200);
    await waitFor(() => events.length >= before + 1);
    expect(events[before]!.json).toMatchObject({ type: 'exit', vehicle_id: 'biru-1' });
    // grow it back over the truck: it enters; then delete: it exits
    expect((await api('PUT', '/geofences/banjir-kampung-melayu', FLOOD)).statusCode).toBe(200);
    await waitFor(() => events.length >= before + 2);
    expect(events[before + 1]!.json).toMatchObject({ type: 'enter', vehicle_id: 'biru-1' });
    expect((await api('DELETE', '/geofences/banjir-kampung-melayu')).statusCode).toBe(204);
    await waitFor(() => events.length >= before + 3);
    expect(events[before + 2]!.json).toMatchObject({ type: 'exit', vehicle_id: 'biru-1' });
    expect((await api('GET', '/geofences/banjir-kampung-melayu')).json().error).toBe('GEOFENCE_NOT_FOUND');
  });

  it('restores fences and who is inside after a restart, without firing enter again', async () => {
    expect((await api('POST', '/geofences', { ...FLOOD, id: 'pool-cakung' })).statusCode).toBe(201);
    await waitFor(() => events.some((e) => e.json.fence_id === 'pool-cakung' && e.json.type === 'enter'));
    const entered = Date.parse(events.find((e) => e.json.fence_id === 'pool-cakung' && e.json.type === 'enter')!.json.ts as string);
    await watcher.endAsync();
    await engine.close();
    engine = await startTestEngine({ dataDir, geofenceExitDelayS: 0 });
    watcher = await connect(engine, { username: 'operator', password: ADMIN_TOKEN });
    events = await collect(watcher, 'pantau/v1/events/geofence/#');
    expect((await api('GET', '/geofences/pool-cakung')).json().properties).toMatchObject({ name: 'Banjir Kampung Melayu', source: 'BPBD', applies_to: ['garbage_truck', 'blue_crew_truck'] });
    const inside = (await api('GET', '/geofences/pool-cakung/inside')).json().vehicles;
    expect(inside.map((v: { id: string }) => v.id)).toEqual(['biru-1']);
    expect(Date.parse(inside[0].entered_at)).toBe(entered); // the stored enter time, not the last fix's
    await fix('biru-1', { ts: Date.now() + 10, lat: -6.221, lon: 106.852 });
    await new Promise((r) => setTimeout(r, 300));
    expect(events.filter((e) => e.json.type === 'enter')).toHaveLength(0);
  });
});
