// HTTP under ingest load: GET nearest (k = 5) over 100,000 live vehicles against an engine child
// that ingests 10,000 fixes/s from 1,000 MQTT devices meanwhile; a trivial route (/healthz) on the
// same server in the same run is the yardstick. Part of `npm run bench` (section `http`); alone:
//   npx tsx bench/http.ts [--vehicles 100000] [--ingest 10000] [--duration-s 10] [--connections 10] [--no-replica]
//
// Three processes: the engine, the MQTT load generator (a child of this one, so its publishing never
// delays the HTTP client's event loop) and the HTTP client (autocannon, here). On a 2-core machine
// they still share the CPUs, so the CPU of each is reported with every row.
//
// Also the load generator child that bench/dispatch.ts reuses; the engine child, CPU accounting and
// /metrics scrapes are bench/proc.ts.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadConfig } from '../engine/config.ts';
import { startEngine } from '../engine/engine.ts';
import { silentLogger } from '../engine/log.ts';
import { splitFleet } from '../simulators/load.ts';
import { runSimulation, type SimulationHandle, type SimulationStats } from '../simulators/runner.ts';
import { mulberry32 } from '../simulators/random.ts';
import {
  BENCH_ADMIN_TOKEN,
  cpuMeter,
  killChildrenOnSignal,
  metric,
  metrics,
  NOISY_PCT,
  ROOT,
  sleep,
  stampedLog,
  startEngineChild,
  startReplicaChild,
  trackChild,
  type CpuSpan,
  type EngineChild,
  type ReplicaChild,
} from './proc.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
const AUTH = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };
const log = stampedLog('http');

// ---------------------------------------------------------------------------------------------
// The engine's figures

/** what the engine says about a span: event-loop delay (prom-client restarts its histogram at each scrape), writer queue, backpressure */
const ENGINE_GAUGES = [
  'pantau_process_nodejs_eventloop_lag_p99_seconds',
  'pantau_process_nodejs_eventloop_lag_max_seconds',
  'pantau_writer_queue_rows',
  'pantau_backpressure_waits_total',
  'pantau_rows_committed_total{table="vehicle_positions"}',
] as const;

// ---------------------------------------------------------------------------------------------
// The MQTT load generator in a child process (this file with --ingest-child), driven over IPC

type GenCommand = { cmd: 'start'; mqttUrl: string; apiUrl: string; devices: number; ratePerS: number } | { cmd: 'reset' | 'stats' | 'stop' };
type GenRequest = GenCommand & { id: number };
type GenReply = { id: number; error?: string; stats?: SimulationStats; connected?: boolean };

export interface IngestGenerator {
  pid: number;
  /** zeroes the generator's counters and PUBACK histogram */
  reset(): Promise<void>;
  stats(): Promise<SimulationStats>;
  /** stops publishing, waits briefly for acks, exits the child */
  stop(): Promise<void>;
}

/**
 * Provisions `devices` vehicles (default fleet mix, ids load-...) through the API and has them
 * publish `ratePerS` QoS 1 fixes/s in total, from a child process; resolves once all are connected.
 */
export async function startIngestGenerator(opts: { tag: string; mqttUrl: string; apiUrl: string; devices: number; ratePerS: number }): Promise<IngestGenerator> {
  // fork() passes this process's execArgv (tsx's loader) on, so the child runs this TypeScript file.
  const proc = fork(THIS_FILE, ['--ingest-child'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  if (proc.pid === undefined) throw new Error(`${opts.tag}: could not start the load generator`);
  const exited = trackChild(proc);
  let nextId = 1;
  const waiting = new Map<number, { resolve: (r: GenReply) => void; reject: (e: Error) => void }>();
  proc.on('message', (m: GenReply) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error) w.reject(new Error(`load generator: ${m.error}`));
    else w.resolve(m);
  });
  void exited.then((code) => {
    for (const w of waiting.values()) w.reject(new Error(`the load generator exited (${code})`));
    waiting.clear();
  });
  const request = (msg: GenCommand): Promise<GenReply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      proc.send({ ...msg, id }, (err) => {
        if (err) {
          waiting.delete(id);
          reject(err);
        }
      });
    });
  const gen: IngestGenerator = {
    pid: proc.pid,
    reset: async () => void (await request({ cmd: 'reset' })),
    stats: async () => (await request({ cmd: 'stats' })).stats!,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      await Promise.race([request({ cmd: 'stop' }).catch(() => undefined), sleep(15_000)]);
      await Promise.race([exited, sleep(5000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  try {
    const started = await request({ cmd: 'start', mqttUrl: opts.mqttUrl, apiUrl: opts.apiUrl, devices: opts.devices, ratePerS: opts.ratePerS });
    if (!started.connected) log(`${opts.tag}: not every generator device connected within 60 s; measuring anyway`);
  } catch (err) {
    proc.kill('SIGKILL');
    await exited;
    throw err;
  }
  return gen;
}

/** the child side: one simulation, answering the parent's requests */
function ingestChild(): void {
  let sim: SimulationHandle | null = null;
  const reply = (m: GenReply): void => void process.send!(m);
  // the parent went away (it was killed): stop at once
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: GenRequest) => {
    void (async () => {
      try {
        switch (m.cmd) {
          case 'start': {
            sim = await runSimulation({
              mqttUrl: m.mqttUrl,
              apiUrl: m.apiUrl,
              adminToken: BENCH_ADMIN_TOKEN,
              fleet: splitFleet(m.devices),
              sensors: 0,
              vehicleRateHz: m.ratePerS / m.devices,
              qos: 1,
              idPrefix: 'load-',
              logger: {
                info: () => {},
                warn: (f, msg) => void process.stderr.write(`  [generator] warn ${msg} ${JSON.stringify(f).slice(0, 300)}\n`),
                error: (f, msg) => void process.stderr.write(`  [generator] error ${msg} ${JSON.stringify(f).slice(0, 300)}\n`),
              },
            });
            reply({ id: m.id, connected: await sim.waitForConnections(60_000) });
            break;
          }
          case 'reset':
            sim?.resetStats();
            reply({ id: m.id });
            break;
          case 'stats':
            if (!sim) throw new Error('not started');
            reply({ id: m.id, stats: sim.stats() });
            break;
          case 'stop':
            await sim?.stop();
            // the reply first, then close the channel (which ends this process)
            process.send!({ id: m.id } satisfies GenReply, () => process.disconnect());
            break;
        }
      } catch (err) {
        reply({ id: m.id, error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
}

// ---------------------------------------------------------------------------------------------
// The HTTP benchmark

export interface HttpBenchOptions {
  /** seeded live vehicles */
  vehicles: number;
  /** fixes/s offered by the generator during the HTTP runs */
  ingestPerS: number;
  /** MQTT devices of the generator */
  devices: number;
  /** seconds per route */
  durationS: number;
  warmupS: number;
  /** HTTP connections (autocannon keeps one request in flight per connection) */
  connections: number;
  /** also measure an API replica (`pantau replica`, a fourth process) following the engine */
  replica: boolean;
  engineEnv?: Record<string, string>;
  engineNodeArgs?: string[];
}

export const HTTP_DEFAULTS: HttpBenchOptions = { vehicles: 100_000, ingestPerS: 10_000, devices: 1000, durationS: 10, warmupS: 5, connections: 10, replica: true };

export type HttpServer = 'engine' | 'replica';

export interface HttpRow {
  /** which process answered: the engine itself, or an API replica following it */
  server: HttpServer;
  label: string;
  connections: number;
  requests: number;
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** fixes the engine committed to vehicle_positions during the row, per s (from its /metrics) */
  committedPerS: number;
  /** the generator during this row: acks of the publishes it sent during the row, and their PUBACK p99 */
  ingestAckedPerS: number;
  ingestPubackP99Ms: number;
  /** the engine's event-loop delay over the row (from its /metrics), ms */
  engineLoopP99Ms: number;
  engineLoopMaxMs: number;
  /** the engine's writer queue at the end of the row, and publishes held for room during it */
  writerQueueRows: number;
  backpressureWaits: number;
  cpu: CpuSpan;
}

export interface HttpResult {
  opts: HttpBenchOptions;
  liveVehicles: number;
  rows: HttpRow[];
  /** what one nearest request answered before the runs (a sanity check), per server */
  probe: string;
  /** the replica: time to start and read the fleet, live-topic updates it applied per s during its rows, its lag at the end */
  replica: { startMs: number; vehicles: number; updatesPerS: number; lagMs: number } | null;
}

/** `vehicles` vehicles with fresh positions over Jakarta, straight into the database before the engine starts. */
async function seed(dataDir: string, vehicles: number): Promise<void> {
  const engine = await startEngine(loadConfig({ PANTAU_DATA_DIR: dataDir, PANTAU_ADMIN_TOKEN: BENCH_ADMIN_TOKEN, PANTAU_LOG_LEVEL: 'silent' }), { log: silentLogger, listen: false });
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

/** the parts of autocannon's result beyond bench/autocannon.d.ts */
interface CannonExtras {
  duration: number;
  timeouts: number;
}

/** autocannon's return value is also an event emitter: 'response' gives every response's latency */
interface CannonTracker extends Promise<autocannon.Result> {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): this;
}

/** one route's slices added up */
interface RouteAcc {
  server: HttpServer;
  label: string;
  request: autocannon.Request;
  latencies: number[];
  seconds: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  committedRows: number;
  ingestAcked: number;
  ingestMs: number;
  pubackP99Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  queueMaxRows: number;
  backpressureWaits: number;
  spans: CpuSpan[];
}

const COMMITTED = 'pantau_rows_committed_total{table="vehicle_positions"}';
const TRIVIAL_LABEL = 'GET /healthz (trivial route)';
const SHAPED_LABEL = "GET /healthz?{nearest's query} (trivial route, asked like nearest)";

/** One autocannon run of `durationS` on a route (at targetUrl), added to its accumulator; the ingest figures are the engine's (httpUrl). */
async function slice(acc: RouteAcc, targetUrl: string, httpUrl: string, opts: HttpBenchOptions, durationS: number, gen: IngestGenerator, pids: Record<string, number>): Promise<void> {
  await gen.reset();
  const before = await metrics(httpUrl, ENGINE_GAUGES); // also restarts the engine's event-loop delay histogram
  const cpu = cpuMeter(pids);
  const tracker = autocannon({ url: targetUrl, connections: opts.connections, duration: durationS, requests: [acc.request] }) as unknown as CannonTracker;
  const latencies: number[] = [];
  tracker.on('response', (_client, _status, _bytes, ms) => void latencies.push(ms));
  const result = await tracker;
  const span = cpu();
  const ingest = await gen.stats();
  const after = await metrics(httpUrl, ENGINE_GAUGES);
  const extra = result as unknown as CannonExtras;
  acc.latencies.push(...latencies);
  acc.seconds += extra.duration || durationS;
  acc.non2xx += result.non2xx;
  acc.errors += result.errors;
  acc.timeouts += extra.timeouts ?? 0;
  acc.committedRows += after[COMMITTED] - before[COMMITTED];
  acc.ingestAcked += ingest.acked;
  acc.ingestMs += ingest.elapsedMs;
  acc.pubackP99Ms = Math.max(acc.pubackP99Ms, ingest.pubackLatencyMs.p99);
  acc.loopP99Ms = Math.max(acc.loopP99Ms, after.pantau_process_nodejs_eventloop_lag_p99_seconds * 1000);
  acc.loopMaxMs = Math.max(acc.loopMaxMs, after.pantau_process_nodejs_eventloop_lag_max_seconds * 1000);
  acc.queueMaxRows = Math.max(acc.queueMaxRows, after.pantau_writer_queue_rows);
  acc.backpressureWaits += after.pantau_backpressure_waits_total - before.pantau_backpressure_waits_total;
  acc.spans.push(span);
  const sorted = latencies.sort((a, b) => a - b);
  log(
    `${acc.label}, ${durationS} s: ${Math.round(latencies.length / (extra.duration || durationS))} req/s, p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p99 ${quantile(sorted, 0.99).toFixed(1)} ms; ` +
      `ingest ${Math.round((after[COMMITTED] - before[COMMITTED]) / span.seconds)} fixes/s committed, ${Math.round((ingest.acked * 1000) / Math.max(1, ingest.elapsedMs))}/s of the slice's publishes acked; ` +
      `engine loop delay p99 ${Math.round(after.pantau_process_nodejs_eventloop_lag_p99_seconds * 1000)} ms, writer queue ${after.pantau_writer_queue_rows} rows; ` +
      `CPU ${Object.entries(span.byProcess).map(([k, v]) => `${k} ${Math.round(v)}%`).join(', ')}, machine ${Math.round(span.machinePct)}% (others ${Math.round(span.othersPct)}%${span.others ? `: ${span.others}` : ''})`,
  );
}

/** nearest-rank quantile of a sorted sample; NaN when empty */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function finish(acc: RouteAcc, connections: number): HttpRow {
  const sorted = acc.latencies.sort((a, b) => a - b);
  const total = acc.spans.reduce((a, s) => a + s.seconds, 0) || 1;
  const weighted = (f: (s: CpuSpan) => number): number => acc.spans.reduce((a, s) => a + f(s) * s.seconds, 0) / total;
  const byProcess: Record<string, number> = {};
  for (const k of new Set(acc.spans.flatMap((s) => Object.keys(s.byProcess)))) byProcess[k] = weighted((s) => s.byProcess[k] ?? 0);
  const busiest = [...acc.spans].sort((a, b) => b.othersPct - a.othersPct)[0];
  return {
    server: acc.server,
    label: acc.label,
    connections,
    requests: sorted.length,
    reqPerS: sorted.length / (acc.seconds || 1),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? NaN,
    non2xx: acc.non2xx,
    errors: acc.errors,
    timeouts: acc.timeouts,
    committedPerS: acc.committedRows / total,
    ingestAckedPerS: (acc.ingestAcked * 1000) / Math.max(1, acc.ingestMs),
    ingestPubackP99Ms: acc.pubackP99Ms,
    engineLoopP99Ms: acc.loopP99Ms,
    engineLoopMaxMs: acc.loopMaxMs,
    writerQueueRows: acc.queueMaxRows,
    backpressureWaits: acc.backpressureWaits,
    cpu: { byProcess, machinePct: weighted((s) => s.machinePct), othersPct: weighted((s) => s.othersPct), others: busiest?.others ?? '', seconds: total },
  };
}

export async function runHttpBench(opts: HttpBenchOptions): Promise<HttpResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-bench-http-'));
  let engine: EngineChild | null = null;
  let gen: IngestGenerator | null = null;
  let replica: ReplicaChild | null = null;
  try {
    log(`seeding ${opts.vehicles} vehicles`);
    await seed(dataDir, opts.vehicles);
    engine = await startEngineChild({ name: 'http engine', dataDir, env: opts.engineEnv, nodeArgs: opts.engineNodeArgs, log });
    log(engine.ready);
    log(`engine ready with ${(await metric(engine.httpUrl, 'pantau_vehicles_live')) ?? 0} live vehicles; starting ${opts.ingestPerS} fixes/s of ingest from ${opts.devices} devices (a child process)`);
    gen = await startIngestGenerator({ tag: 'http', mqttUrl: engine.mqttUrl, apiUrl: engine.httpUrl, devices: opts.devices, ratePerS: opts.ingestPerS });
    log(`generator pid ${gen.pid}: devices connected; warming up ${opts.warmupS} s`);
    await sleep(opts.warmupS * 1000);
    const liveVehicles = (await metric(engine.httpUrl, 'pantau_vehicles_live')) ?? 0;

    const rnd = mulberry32(42);
    const point = (): string => `lat=${(-6.37 + rnd() * 0.28).toFixed(5)}&lon=${(106.68 + rnd() * 0.3).toFixed(5)}`;
    const nearestPath = (): string => `/api/v1/vehicles/nearest?${point()}&k=5&max_age_s=86400`;
    // One request first: a benchmark of answers that are errors or empty would mean nothing.
    const res = await fetch(`${engine.httpUrl}${nearestPath()}`, { headers: AUTH });
    const body = (await res.json().catch(() => null)) as { results?: unknown[] } | null;
    const probe = `${res.status}, ${body?.results?.length ?? 'no'} vehicles`;
    if (res.status !== 200 || (body?.results?.length ?? 0) !== 5) throw new Error(`a nearest request answered ${probe}, expected 200 with 5 vehicles`);

    // The generator's devices publish while the others still connect: let a backlog from that drain
    // before measuring (a backlog that does not drain means the engine cannot keep up, and is measured).
    const drainUntil = performance.now() + 20_000;
    let queue = (await metrics(engine.httpUrl, ['pantau_writer_queue_rows'])).pantau_writer_queue_rows;
    while (queue > 1000 && performance.now() < drainUntil) {
      await sleep(500);
      queue = (await metrics(engine.httpUrl, ['pantau_writer_queue_rows'])).pantau_writer_queue_rows;
    }
    log(`engine writer queue ${queue} rows${queue > 1000 ? ' after waiting 20 s for it to drain: ingest is behind, measuring anyway' : ''}`);

    const pids: Record<string, number> = { engine: engine.pid, generator: gen.pid };
    const acc = (server: HttpServer, label: string, request: autocannon.Request): RouteAcc => ({
      server, label, request, latencies: [], seconds: 0, non2xx: 0, errors: 0, timeouts: 0, committedRows: 0, ingestAcked: 0, ingestMs: 0,
      pubackP99Ms: 0, loopP99Ms: 0, loopMaxMs: 0, queueMaxRows: 0, backpressureWaits: 0, spans: [],
    });
    const routes = (server: HttpServer) => [
      acc(server, TRIVIAL_LABEL, { method: 'GET', path: '/healthz' }),
      // The client builds a fresh nearest query string per request (setupRequest), which costs it CPU on the same cores;
      // this row asks /healthz the same way (same query string, same token) to show how much of the gap is the client's.
      acc(server, SHAPED_LABEL, { method: 'GET', headers: AUTH, setupRequest: (req) => ({ ...req, path: `/healthz?${point()}&k=5&max_age_s=86400` }) }),
      acc(server, `GET /api/v1/vehicles/nearest k=5 over ${Math.round(liveVehicles).toLocaleString('en')} vehicles`, {
        method: 'GET',
        headers: AUTH,
        setupRequest: (req) => ({ ...req, path: nearestPath() }),
      }),
    ] as const;
    // Each route in two halves, mirrored (trivial, shaped, nearest, nearest, shaped, trivial): all routes see the same
    // drift (a growing backlog, other processes) on average.
    const half = opts.durationS / 2;
    const mirrored = <T>(xs: readonly T[]): T[] => [...xs, ...[...xs].reverse()];
    const engineRoutes = routes('engine');
    for (const route of mirrored(engineRoutes)) await slice(route, engine.httpUrl, engine.httpUrl, opts, half, gen, pids);
    const rows = engineRoutes.map((route) => finish(route, opts.connections));

    // The same two routes on an API replica following the engine (started only now, so that the
    // engine's rows above ran without it).
    let replicaFigures: HttpResult['replica'] = null;
    let probes = `engine ${probe}`;
    if (opts.replica) {
      replica = await startReplicaChild(engine, { log });
      pids.replica = replica.pid;
      const vehicles = (await metric(replica.httpUrl, 'pantau_vehicles_live')) ?? 0;
      log(`replica pid ${replica.pid} ready in ${(replica.startMs / 1000).toFixed(1)} s with ${vehicles} vehicles (${replica.httpUrl})`);
      await sleep(2000);
      const r = await fetch(`${replica.httpUrl}${nearestPath()}`, { headers: AUTH });
      const rBody = (await r.json().catch(() => null)) as { results?: unknown[] } | null;
      const rProbe = `${r.status}, ${rBody?.results?.length ?? 'no'} vehicles`;
      if (r.status !== 200 || (rBody?.results?.length ?? 0) !== 5) throw new Error(`a nearest request to the replica answered ${rProbe}, expected 200 with 5 vehicles`);
      probes += `; replica ${rProbe}`;
      const updatesBefore = (await metric(replica.httpUrl, 'pantau_replica_updates_total')) ?? 0;
      const t0 = performance.now();
      const replicaRoutes = routes('replica');
      for (const route of mirrored(replicaRoutes)) await slice(route, replica.httpUrl, engine.httpUrl, opts, half, gen, pids);
      const updates = ((await metric(replica.httpUrl, 'pantau_replica_updates_total')) ?? 0) - updatesBefore;
      replicaFigures = {
        startMs: replica.startMs,
        vehicles,
        updatesPerS: updates / ((performance.now() - t0) / 1000),
        lagMs: ((await metric(replica.httpUrl, 'pantau_replica_lag_seconds')) ?? NaN) * 1000,
      };
      rows.push(...replicaRoutes.map((route) => finish(route, opts.connections)));
    }
    return { opts, liveVehicles, rows, probe: probes, replica: replicaFigures };
  } finally {
    await replica?.stop();
    await gen?.stop();
    await engine?.stop(60_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const int = (n: number): string => Math.round(n).toLocaleString('en');
const ms = (n: number): string => (n < 10 ? n.toFixed(1) : int(n));
const pct = (n: number): string => `${Math.round(n)}%`;

/** the section's text: a description line, the table, the targets and notes */
export function httpTable(r: HttpResult): string[] {
  const o = r.opts;
  const trivialOf = (server: HttpServer) => r.rows.find((row) => row.server === server && row.label === TRIVIAL_LABEL);
  const shapedOf = (server: HttpServer) => r.rows.find((row) => row.server === server && row.label === SHAPED_LABEL);
  const lines = [
    `HTTP under ingest: ${int(r.liveVehicles)} live vehicles (${int(o.vehicles)} seeded over Jakarta, the rest the generator's), while a generator process offers ${int(o.ingestPerS)} QoS 1 fixes/s from ${int(o.devices)} MQTT devices; ` +
      `autocannon with ${o.connections} connections, ${o.durationS} s per route in two halves (trivial, shaped, nearest, nearest, shaped, trivial) after ${o.warmupS} s of ingest; nearest from seeded random points over Jakarta, max_age_s 86400; ` +
      'latency percentiles over every response of both halves; engine loop delay and PUBACK p99: the worse half; writer queue: the higher of the two halves\' ends. ' +
      `First both routes on the engine itself; then ${r.replica ? 'both on an API replica (`pantau replica`, started after the engine\'s rows) that follows the engine over MQTT (pantau/v1/live/vehicles) and answers from its own live index' : 'no replica (--no-replica)'}. ` +
      `Engine, generator, HTTP client (the bench process)${r.replica ? ' and replica' : ''} are separate processes sharing the machine's ${os.cpus().length} cores.`,
    '',
    `| server | request | connections | requests | req/s | vs trivial | p50 ms | p99 ms | max ms | non-2xx / errors / timeouts | ingest meanwhile: fixes/s committed | fixes/s acked (sent in the row) | PUBACK p99 ms | engine loop delay p99 / max ms | writer queue rows | CPU engine | CPU replica | CPU generator | CPU HTTP client | CPU machine of ${os.cpus().length * 100}% (other processes) |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    const c = row.cpu.byProcess;
    const trivial = trivialOf(row.server);
    lines.push(
      `| ${row.server} | ${row.label} | ${row.connections} | ${int(row.requests)} | **${int(row.reqPerS)}** | ${row === trivial || !trivial ? 'baseline' : `${(row.reqPerS / trivial.reqPerS).toFixed(2)}x`} |` +
        ` ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${ms(row.maxMs)} | ${int(row.non2xx)} / ${int(row.errors)} / ${int(row.timeouts)} | ${int(row.committedPerS)} | ${int(row.ingestAckedPerS)} | ${ms(row.ingestPubackP99Ms)} | ${ms(row.engineLoopP99Ms)} / ${ms(row.engineLoopMaxMs)} | ${int(row.writerQueueRows)} |` +
        ` ${pct(c.engine ?? 0)} | ${c.replica === undefined ? '' : pct(c.replica)} | ${pct(c.generator ?? 0)} | ${pct(c.self ?? 0)} | ${pct(row.cpu.machinePct)} (${pct(row.cpu.othersPct)}) |`,
    );
  }
  lines.push('');
  for (const server of ['engine', 'replica'] as const) {
    const trivial = trivialOf(server);
    const shaped = shapedOf(server);
    const nearest = r.rows.find((row) => row.server === server && row !== trivial && row !== shaped);
    if (!trivial || !nearest) continue;
    const ratio = nearest.reqPerS / trivial.reqPerS;
    lines.push(
      `- ${server}: target nearest req/s >= 0.75x the trivial route's: ${ratio >= 0.75 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x: ${int(nearest.reqPerS)} against ${int(trivial.reqPerS)} req/s); target nearest p99 < 10 ms: ${nearest.p99Ms < 10 ? 'met' : 'NOT met'} (${ms(nearest.p99Ms)} ms)` +
        (shaped ? `. Against /healthz asked like nearest (same client work per request), nearest makes ${(nearest.reqPerS / shaped.reqPerS).toFixed(2)}x; the verdict stays on the plain route.` : '.'),
    );
  }
  if (r.replica) {
    lines.push(
      `- The replica started and read the engine's ${int(r.replica.vehicles)} vehicles in ${(r.replica.startMs / 1000).toFixed(1)} s; during its rows it applied ${int(r.replica.updatesPerS)} vehicle changes/s from the live topic (changes are batched per vehicle every PANTAU_LIVE_TOPIC_INTERVAL_MS), and its newest batch was ${ms(r.replica.lagMs)} ms old when applied at the end.`,
    );
  }
  lines.push(`- Sanity check before the runs: one nearest request answered ${r.probe}.`);
  for (const row of r.rows) {
    const name = `${row.server}: ${row.label}`;
    if (row.committedPerS < 0.98 * o.ingestPerS || row.ingestAckedPerS < 0.98 * o.ingestPerS) {
      lines.push(
        `- During "${name}" the engine committed ${int(row.committedPerS)} fixes/s and acknowledged ${int(row.ingestAckedPerS)}/s of the publishes sent in the row, of the ${int(o.ingestPerS)} offered: ingest fell behind` +
          (row.backpressureWaits > 0 ? ` (${int(row.backpressureWaits)} publishes held for room in the writer queue)` : '') +
          (row.server === 'engine' ? '; HTTP requests then wait on the same event loop as the backlog.' : '.'),
      );
    }
    if (row.non2xx + row.errors + row.timeouts > 0) lines.push(`- "${name}": ${int(row.non2xx)} non-2xx answers, ${int(row.errors)} errors, ${int(row.timeouts)} timeouts.`);
    if (row.cpu.othersPct >= NOISY_PCT) lines.push(`- "${name}": other processes took ${pct(row.cpu.othersPct)} of the machine's CPU${row.cpu.others ? ` (${row.cpu.others})` : ''}: this row measured a shared machine; rerun it on a quiet one.`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------

if (process.argv[1] && THIS_FILE === path.resolve(process.argv[1])) {
  if (process.argv.includes('--ingest-child')) {
    ingestChild();
  } else {
    killChildrenOnSignal('bench/http');
    const arg = (name: string, fallback: number): number => {
      const i = process.argv.indexOf(name);
      return i > 0 ? Number(process.argv[i + 1]) : fallback;
    };
    const opts: HttpBenchOptions = {
      ...HTTP_DEFAULTS,
      vehicles: arg('--vehicles', HTTP_DEFAULTS.vehicles),
      ingestPerS: arg('--ingest', HTTP_DEFAULTS.ingestPerS),
      durationS: arg('--duration-s', HTTP_DEFAULTS.durationS),
      connections: arg('--connections', HTTP_DEFAULTS.connections),
      replica: !process.argv.includes('--no-replica'),
    };
    const result = await runHttpBench(opts);
    process.stdout.write(httpTable(result).join('\n') + '\n');
    process.exit(0);
  }
}
