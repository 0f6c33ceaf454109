// HTTP under ingest load: nearest (k = 5) over 100,000 live vehicles and dispatch reservations,
// against an engine child that ingests 10,000 fixes/s from 1,000 MQTT devices meanwhile; a
// trivial route (/healthz) on the same server in the same run is the yardstick.
//   npx tsx bench/http.ts [--vehicles 100000] [--ingest 10000] [--duration-s 10]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadConfig } from '../engine/config.ts';
import { startEngine } from '../engine/engine.ts';
import { silentLogger } from '../engine/log.ts';
import { splitFleet } from '../simulators/load.ts';
import { runSimulation } from '../simulators/runner.ts';
import { mulberry32 } from '../simulators/random.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => void process.stderr.write(`[http ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

export interface HttpRow {
  label: string;
  connections: number;
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export interface HttpBenchOptions {
  vehicles: number;
  ingestPerS: number;
  durationS: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** 100,000 vehicles with fresh positions over Jakarta, straight into the database before the engine starts. */
async function seed(dataDir: string, vehicles: number): Promise<void> {
  const engine = await startEngine(loadConfig({ PANTAU_DATA_DIR: dataDir, PANTAU_ADMIN_TOKEN: ADMIN_TOKEN, PANTAU_LOG_LEVEL: 'silent' }), { log: silentLogger, listen: false });
  try {
    await engine.db.query(
      `INSERT INTO devices (id, kind, type, token_hash)
       SELECT 'seed-' || i, 'vehicle', (ARRAY['ambulance','garbage_truck','blue_crew_truck','fire_truck','police','other'])[1 + i % 6], 'none'
       FROM generate_series(1, $1) i`,
      [vehicles],
    );
    await engine.db.query(
      `INSERT INTO vehicle_positions (device_id, time, lat, lon, speed_kmh, accuracy_m)
       SELECT 'seed-' || i, now(), -6.37 + random() * 0.28, 106.68 + random() * 0.30, random() * 50, 5 + random() * 10
       FROM generate_series(1, $1) i`,
      [vehicles],
    );
  } finally {
    await engine.close();
  }
}

async function cannon(label: string, port: number, connections: number, durationS: number, request: autocannon.Request): Promise<HttpRow> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}`, connections, duration: durationS, requests: [request] });
  return {
    label,
    connections,
    reqPerS: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

export async function runHttpBench(opts: HttpBenchOptions): Promise<HttpRow[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-bench-http-'));
  log(`seeding ${opts.vehicles} vehicles`);
  await seed(dataDir, opts.vehicles);
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/pantau.js'), 'serve'], {
    env: { ...process.env, PANTAU_DATA_DIR: dataDir, PANTAU_MQTT_PORT: String(mqttPort), PANTAU_HTTP_PORT: String(httpPort), PANTAU_HOST: '127.0.0.1', PANTAU_ADMIN_TOKEN: ADMIN_TOKEN, PANTAU_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 300) throw new Error('engine did not become ready');
      await sleep(200);
    }
    const live = (await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()).match(/^pantau_vehicles_live (\d+)/m)?.[1];
    log(`engine ready with ${live} live vehicles; starting ${opts.ingestPerS} fixes/s of ingest`);
    const devices = 1000;
    const sim = await runSimulation({
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, apiUrl: `http://127.0.0.1:${httpPort}`, adminToken: ADMIN_TOKEN,
      fleet: splitFleet(devices), sensors: 0, vehicleRateHz: opts.ingestPerS / devices, qos: 1, idPrefix: 'load-', logger: { info: () => {}, warn: () => {}, error: (f, m) => log(`generator: ${m} ${JSON.stringify(f)}`) },
    });
    await sim.waitForConnections(60_000);
    await sleep(3000);
    sim.resetStats();
    const rnd = mulberry32(42);
    const point = () => `lat=${(-6.37 + rnd() * 0.28).toFixed(5)}&lon=${(106.68 + rnd() * 0.3).toFixed(5)}`;
    const rows: HttpRow[] = [];
    let firstRefusal = '';
    for (const connections of [10]) {
      log('trivial route');
      rows.push(await cannon('GET /healthz (trivial route)', httpPort, connections, opts.durationS, { method: 'GET', path: '/healthz' }));
      log('nearest');
      rows.push(
        await cannon(`GET /api/v1/vehicles/nearest k=5 over ${Number(live).toLocaleString('en-US')} vehicles`, httpPort, connections, opts.durationS, {
          method: 'GET',
          headers: AUTH,
          setupRequest: (req) => ({ ...req, path: `/api/v1/vehicles/nearest?${point()}&k=5&max_age_s=86400` }),
        }),
      );
    }
    log('dispatch reservations, 50 concurrent');
    rows.push(
      await cannon('POST /api/v1/dispatches (reserve nearest ambulance)', httpPort, 50, opts.durationS, {
        method: 'POST',
        path: '/api/v1/dispatches',
        headers: { ...AUTH, 'content-type': 'application/json' },
        setupRequest: (req) => {
          const [lat, lon] = [-6.37 + rnd() * 0.28, 106.68 + rnd() * 0.3];
          return { ...req, body: JSON.stringify({ lat, lon, type: 'ambulance', max_age_s: 86400 }) };
        },
        onResponse: (status, body) => {
          if (status >= 300 && !firstRefusal) firstRefusal = `${status} ${body.slice(0, 200)}`;
        },
      }),
    );
    if (firstRefusal) log(`first refused dispatch: ${firstRefusal}`);
    const s = sim.stats();
    log(`ingest during the HTTP runs: ${Math.round((s.acked * 1000) / s.elapsedMs)} fixes/s acked, PUBACK p99 ${s.pubackLatencyMs.p99} ms`);
    rows.push({ label: `(ingest meanwhile: MQTT QoS 1 fixes acked/s, PUBACK p99)`, connections: devices, reqPerS: Math.round((s.acked * 1000) / s.elapsedMs), p50Ms: s.pubackLatencyMs.p50, p99Ms: s.pubackLatencyMs.p99, non2xx: 0, errors: s.errors });
    await sim.stop();
    return rows;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export function httpTable(rows: HttpRow[]): string[] {
  const trivial = rows[0]!.reqPerS;
  return [
    '| request | connections | req/s | vs trivial | p50 ms | p99 ms | non-2xx | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.label} | ${r.connections} | **${r.reqPerS.toLocaleString('en-US')}** | ${r.label.startsWith('(') ? 'n/a' : (r.reqPerS / trivial).toFixed(2) + 'x'} | ${r.p50Ms} | ${r.p99Ms} | ${r.non2xx} | ${r.errors} |`),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const rows = await runHttpBench({ vehicles: arg('--vehicles', 100_000), ingestPerS: arg('--ingest', 10_000), durationS: arg('--duration-s', 10) });
  process.stdout.write(httpTable(rows).join('\n') + '\n');
}
