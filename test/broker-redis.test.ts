// Two engine nodes sharing MQTT through Redis (REDIS_URL): a publish on one reaches subscribers
// of the other, and a persistent session opened on one is resumed on the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import mqtt from 'mqtt';
import type { Engine } from '../engine/engine.ts';
import { ADMIN_TOKEN, provision, startTestEngine } from './helpers/engine.ts';
import { collect, connect, waitFor } from './helpers/mqtt.ts';

const REDIS_SERVER = '/usr/bin/redis-server';
let redis: ChildProcess;
let a: Engine;
let b: Engine;

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  if (!fs.existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: apt-get install -y redis-server (the Debian package .ci/run installs)`);
  const port = await freePort();
  redis = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(() => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('connect', () => {
      s.destroy();
      ready = true;
    });
    return ready;
  }, 10_000);
  const redisUrl = `redis://127.0.0.1:${port}`;
  a = await startTestEngine({ redisUrl });
  b = await startTestEngine({ redisUrl });
});
let ready = false;

afterAll(async () => {
  await a?.close();
  await b?.close();
  redis?.kill();
});

describe('REDIS_URL', () => {
  it('delivers a publish received by node A to a subscriber of node B', async () => {
    const token = await provision(a, { id: 'amb-r1', kind: 'vehicle', type: 'ambulance' });
    const watcher = await connect(b, { clientId: 'wall-b', username: 'operator', password: ADMIN_TOKEN });
    const got = await collect(watcher, 'pantau/v1/vehicles/+/position');
    const dev = await connect(a, { clientId: 'amb-r1', username: 'amb-r1', password: token });
    await dev.publishAsync('pantau/v1/vehicles/amb-r1/position', JSON.stringify({ ts: Date.now(), lat: -6.2, lon: 106.8 }), { qos: 1 });
    await waitFor(() => got.length >= 1);
    expect(got[0]!.json.lat).toBe(-6.2);
    await dev.endAsync();
    await watcher.endAsync();
  });

  it('resumes on node B a persistent session opened on node A, with what it missed', async () => {
    const token = await provision(a, { id: 'amb-r2', kind: 'vehicle', type: 'ambulance' });
    const first = await connect(a, { clientId: 'wall-persistent', clean: false, username: 'operator', password: ADMIN_TOKEN });
    await first.subscribeAsync('pantau/v1/vehicles/amb-r2/position', { qos: 1 });
    await first.endAsync();
    const dev = await connect(a, { clientId: 'amb-r2', username: 'amb-r2', password: token });
    await dev.publishAsync('pantau/v1/vehicles/amb-r2/position', JSON.stringify({ ts: Date.now(), lat: -6.3, lon: 106.9 }), { qos: 1 });
    await dev.endAsync();
    const got: Array<Record<string, unknown>> = [];
    // the handler is in place before CONNACK: the queued message follows it at once
    const again = mqtt.connect(`mqtt://127.0.0.1:${b.ports.mqtt}`, { clientId: 'wall-persistent', clean: false, username: 'operator', password: ADMIN_TOKEN, reconnectPeriod: 0 });
    again.on('message', (_t, payload) => got.push(JSON.parse(payload.toString())));
    await waitFor(() => got.length >= 1, 8000);
    expect(got[0]!.lat).toBe(-6.3);
    await again.endAsync();
  });
});
