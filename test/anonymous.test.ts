// PANTAU_ALLOW_ANONYMOUS=1 (development): anonymous clients publish for provisioned devices;
// a publish for an unknown device is refused with UNKNOWN_DEVICE on that id's rejects topic.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Engine } from '../engine/engine.ts';
import { provision, startTestEngine } from './helpers/engine.ts';
import { collect, connect, waitFor } from './helpers/mqtt.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine({ allowAnonymous: true });
  await provision(engine, { id: 'dev-amb', kind: 'vehicle', type: 'ambulance' });
});
afterAll(async () => {
  await engine?.close();
});

it('accepts anonymous publishes for a provisioned device and refuses unknown ones with a reason', async () => {
  const c = await connect(engine, {});
  const rejects = await collect(c, 'pantau/v1/devices/+/rejects');
  await c.publishAsync('pantau/v1/vehicles/dev-amb/position', JSON.stringify({ ts: Date.now(), lat: -6.2, lon: 106.8 }), { qos: 1 });
  expect(engine.vehicles.get('dev-amb')).toBeDefined();
  await c.publishAsync('pantau/v1/vehicles/ghost/position', JSON.stringify({ ts: Date.now(), lat: -6.2, lon: 106.8 }), { qos: 1 });
  await waitFor(() => rejects.length >= 1);
  expect(rejects[0]).toMatchObject({ topic: 'pantau/v1/devices/ghost/rejects', json: { code: 'UNKNOWN_DEVICE', topic: 'pantau/v1/vehicles/ghost/position' } });
  const [row] = await engine.db.query<{ n: number }>(`SELECT count(*) AS n FROM vehicle_positions WHERE device_id = 'ghost'`);
  expect(row!.n).toBe(0);
  await c.endAsync();
});
