// Dispatch reservations under concurrency: rounds of 50 simultaneous POST /api/v1/dispatches
// against an engine child while 500 provisioned ambulances, spread over Jakarta, publish fresh
// fixes; after each round every dispatch is closed (PATCH state closed) so the ambulances are
// available again. Reports the latency of every POST (201 and 409 apart), checks that no vehicle
// was reserved twice within a round. Part of `npm run bench` (section `dispatch`); alone:
//   npx tsx bench/dispatch.ts [--rounds 40] [--concurrency 50] [--ambulances 500] [--ingest 0]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type MqttClient } from 'mqtt';
import { encodeFix, topics } from '../simulators/payloads.ts';
import { mulberry32 } from '../simulators/random.ts';
import { startIngestGenerator, type IngestGenerator } from './http.ts';
import { BENCH_ADMIN_TOKEN, cpuMeter, killChildrenOnSignal, NOISY_PCT, sleep, stampedLog, startEngineChild, type CpuSpan, type EngineChild } from './proc.ts';

const log = stampedLog('dispatch');
const JSON_AUTH = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' };

// Where ambulances stand and incidents happen: Jakarta's road box (simulators/roads.ts ROAD_BOX).
const BOX = { minLat: -6.355, maxLat: -6.115, minLon: 106.695, maxLon: 106.965 };
const M_PER_DEG = 111_195;

export interface DispatchBenchOptions {
  /** provisioned ambulances publishing fixes */
  ambulances: number;
  /** simultaneous POSTs per round */
  concurrency: number;
  /** measured rounds */
  rounds: number;
  /** rounds before the measured ones (connections, JIT), checked but not counted */
  warmupRounds: number;
  /** seconds between an ambulance's fixes (the dispatch default max_age_s is 120) */
  fixIntervalS: number;
  /** extra MQTT ingest meanwhile (fixes/s from 1,000 generator devices in a child process); 0 = none */
  ingestPerS: number;
  seed: number;
  engineEnv?: Record<string, string>;
  engineNodeArgs?: string[];
}

export const DISPATCH_DEFAULTS: DispatchBenchOptions = { ambulances: 500, concurrency: 50, rounds: 40, warmupRounds: 2, fixIntervalS: 5, ingestPerS: 0, seed: 112 };

export interface LatencySummary {
  count: number;
  minMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface DispatchResult {
  opts: DispatchBenchOptions;
  reserved: LatencySummary;
  refused: LatencySummary;
  /** answers other than 201 and 409, and requests that failed: "status: count" */
  otherAnswers: Record<string, number>;
  otherSummary: LatencySummary;
  close: LatencySummary;
  closeFailures: number;
  /** first send to last answer of each measured round */
  roundWall: LatencySummary;
  /** within-round duplicates: "round r: vehicle v n times" (empty = none) */
  duplicates: string[];
  /** reserved vehicles that are not ambulances of this bench or of the generator */
  wrongVehicles: string[];
  /** open dispatches the API lists after the last round was closed */
  openAfter: number;
  /** distinct vehicles reserved over all measured rounds */
  distinctVehicles: number;
  medianDistanceM: number;
  fixes: { sent: number; acked: number; failed: number };
  ingest: { ackedPerS: number; pubackP99Ms: number } | null;
  cpu: CpuSpan;
  /** the first refusal or unexpected answer, for the notes */
  firstOddAnswer: string;
}

/** nearest-rank quantiles of a sample */
export function summarize(values: number[]): LatencySummary {
  if (values.length === 0) return { count: 0, minMs: NaN, p50Ms: NaN, p99Ms: NaN, maxMs: NaN, meanMs: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { count: sorted.length, minMs: sorted[0]!, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: sorted[sorted.length - 1]!, meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

interface Ambulance {
  id: string;
  token: string;
  lat: number;
  lon: number;
  client: MqttClient | null;
  timer: NodeJS.Timeout | null;
  seq: number;
}

async function provision(engine: EngineChild, ambulances: Ambulance[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ambulances.length) {
      const a = ambulances[next++]!;
      const res = await fetch(`${engine.httpUrl}/api/v1/devices`, {
        method: 'POST',
        headers: JSON_AUTH,
        body: JSON.stringify({ id: a.id, kind: 'vehicle', type: 'ambulance', name: `Bench ambulance ${a.id.slice(-4)}` }),
      });
      const body = (await res.json().catch(() => null)) as { token?: string } | null;
      if (res.status !== 201 || typeof body?.token !== 'string') throw new Error(`provisioning ${a.id}: POST /api/v1/devices answered ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      a.token = body.token;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** Connects every ambulance and has it publish a fix at once and every fixIntervalS (QoS 1), a few metres around its place. */
function startPublishing(engine: EngineChild, ambulances: Ambulance[], fixIntervalS: number, rand: () => number): { connected: () => number; counters: { sent: number; acked: number; failed: number } } {
  const counters = { sent: 0, acked: 0, failed: 0 };
  let connected = 0;
  const seqStart = Math.floor((Date.now() - Date.UTC(2024, 0, 1)) / 100);
  const publish = (a: Ambulance): void => {
    if (!a.client?.connected) return;
    const jitter = (): number => ((rand() - 0.5) * 20) / M_PER_DEG; // +-10 m
    const payload = encodeFix({ ts: Date.now(), lat: a.lat + jitter(), lon: a.lon + jitter(), speed_kmh: 0, heading: 0, accuracy_m: 8, seq: seqStart + a.seq++ }, false);
    counters.sent++;
    a.client.publish(topics.position(a.id), payload, { qos: 1 }, (err) => {
      if (err) counters.failed++;
      else counters.acked++;
    });
  };
  for (const a of ambulances) {
    const client = connect(engine.mqttUrl, { clientId: a.id, username: a.id, password: a.token, clean: true, reconnectPeriod: 1000, connectTimeout: 10_000, keepalive: 60 });
    a.client = client;
    let first = true;
    client.on('connect', () => {
      connected++;
      publish(a);
      if (first) {
        first = false;
        // phases spread over the interval, so the fixes arrive evenly
        const phase = rand() * fixIntervalS * 1000;
        setTimeout(() => {
          if (a.client) a.timer = setInterval(() => publish(a), fixIntervalS * 1000);
        }, phase);
      }
    });
    client.on('close', () => void (connected = Math.max(0, connected - 1)));
    client.on('error', () => void counters.failed++);
  }
  return { connected: () => connected, counters };
}

async function stopPublishing(ambulances: Ambulance[]): Promise<void> {
  await Promise.all(
    ambulances.map(async (a) => {
      if (a.timer) clearInterval(a.timer);
      a.timer = null;
      const c = a.client;
      a.client = null;
      if (c) await c.endAsync(true).catch(() => undefined);
    }),
  );
}

interface Answer {
  status: number;
  ms: number;
  body: string;
}

async function timedFetch(url: string, init: RequestInit): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, init);
    const body = await res.text();
    return { status: res.status, ms: performance.now() - t0, body };
  } catch (err) {
    // status 0: the request failed (connection refused or reset)
    return { status: 0, ms: performance.now() - t0, body: err instanceof Error ? err.message : String(err) };
  }
}

export async function runDispatchBench(opts: DispatchBenchOptions): Promise<DispatchResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-bench-dispatch-'));
  const rand = mulberry32(opts.seed);
  const place = (): { lat: number; lon: number } => ({ lat: BOX.minLat + rand() * (BOX.maxLat - BOX.minLat), lon: BOX.minLon + rand() * (BOX.maxLon - BOX.minLon) });
  const ambulances: Ambulance[] = Array.from({ length: opts.ambulances }, (_, i) => ({ id: `bench-amb-${String(i + 1).padStart(4, '0')}`, token: '', ...place(), client: null, timer: null, seq: 0 }));
  let engine: EngineChild | null = null;
  let gen: IngestGenerator | null = null;
  try {
    engine = await startEngineChild({ name: 'dispatch engine', dataDir, env: opts.engineEnv, nodeArgs: opts.engineNodeArgs, log });
    log(engine.ready);
    const api = `${engine.httpUrl}/api/v1`;
    log(`provisioning ${opts.ambulances} ambulances`);
    await provision(engine, ambulances);
    const fixes = startPublishing(engine, ambulances, opts.fixIntervalS, rand);
    // Ready when every ambulance is connected and in the live index, as an ambulance.
    const deadline = performance.now() + 90_000;
    for (;;) {
      const res = await fetch(`${api}/vehicles?type=ambulance`, { headers: JSON_AUTH }).catch(() => null);
      const body = res ? ((await res.json().catch(() => null)) as { features?: Array<{ id?: string }> } | null) : null;
      const live = (body?.features ?? []).filter((f) => f.id?.startsWith('bench-amb-')).length;
      if (fixes.connected() >= opts.ambulances && live >= opts.ambulances) break;
      if (performance.now() > deadline) throw new Error(`after 90 s, ${fixes.connected()} of ${opts.ambulances} ambulances were connected and ${live} live`);
      await sleep(250);
    }
    log(`${opts.ambulances} ambulances connected and live, a fix every ${opts.fixIntervalS} s each`);
    if (opts.ingestPerS > 0) {
      gen = await startIngestGenerator({ tag: 'dispatch', mqttUrl: engine.mqttUrl, apiUrl: engine.httpUrl, devices: 1000, ratePerS: opts.ingestPerS });
      log(`generator pid ${gen.pid}: ${opts.ingestPerS} fixes/s from 1,000 devices; warming up 5 s`);
      await sleep(5000);
      await gen.reset();
    }

    const reservedMs: number[] = [];
    const refusedMs: number[] = [];
    const otherMs: number[] = [];
    const otherAnswers: Record<string, number> = {};
    const closeMs: number[] = [];
    const roundMs: number[] = [];
    const duplicates: string[] = [];
    const wrongVehicles: string[] = [];
    const distinct = new Set<string>();
    const distances: number[] = [];
    let closeFailures = 0;
    let firstOddAnswer = '';
    let cpu: (() => CpuSpan) | null = null;
    const total = opts.warmupRounds + opts.rounds;
    for (let r = 0; r < total; r++) {
      const measured = r >= opts.warmupRounds;
      if (r === opts.warmupRounds) cpu = cpuMeter(gen ? { engine: engine.pid, generator: gen.pid } : { engine: engine.pid });
      // Bodies first, then every request started in the same tick: the barrier.
      const bodies = Array.from({ length: opts.concurrency }, (_, i) => JSON.stringify({ ...place(), type: 'ambulance', note: `bench round ${r} request ${i}` }));
      const t0 = performance.now();
      const answers = await Promise.all(bodies.map((body) => timedFetch(`${api}/dispatches`, { method: 'POST', headers: JSON_AUTH, body })));
      if (measured) roundMs.push(performance.now() - t0);
      const byVehicle = new Map<string, number>();
      const toClose: string[] = [];
      for (const a of answers) {
        if (a.status === 201) {
          const d = JSON.parse(a.body) as { id: string; vehicle: { id: string }; distance_m: number };
          toClose.push(d.id);
          byVehicle.set(d.vehicle.id, (byVehicle.get(d.vehicle.id) ?? 0) + 1);
          if (!d.vehicle.id.startsWith('bench-amb-') && !/^load-amb/.test(d.vehicle.id)) wrongVehicles.push(d.vehicle.id);
          if (measured) {
            reservedMs.push(a.ms);
            distinct.add(d.vehicle.id);
            distances.push(d.distance_m);
          }
        } else {
          if (!firstOddAnswer) firstOddAnswer = `${a.status === 0 ? 'request failed' : a.status}: ${a.body.slice(0, 200)}`;
          if (!measured) continue;
          if (a.status === 409) refusedMs.push(a.ms);
          else {
            otherMs.push(a.ms);
            const key = a.status === 0 ? 'failed' : String(a.status);
            otherAnswers[key] = (otherAnswers[key] ?? 0) + 1;
          }
        }
      }
      for (const [vehicle, n] of byVehicle) if (n > 1) duplicates.push(`round ${r}: ${vehicle} reserved ${n} times`);
      // Close them all (concurrently too), so the next round finds every ambulance available.
      const closed = await Promise.all(toClose.map((id) => timedFetch(`${api}/dispatches/${id}`, { method: 'PATCH', headers: JSON_AUTH, body: '{"state":"closed"}' })));
      for (const c of closed) {
        if (c.status !== 200) {
          closeFailures++;
          if (!firstOddAnswer) firstOddAnswer = `PATCH closed answered ${c.status}: ${c.body.slice(0, 200)}`;
        } else if (measured) closeMs.push(c.ms);
      }
      if (measured && (r - opts.warmupRounds + 1) % 10 === 0) {
        const s = summarize(reservedMs);
        log(`round ${r - opts.warmupRounds + 1}/${opts.rounds}: 201 p50 ${s.p50Ms.toFixed(1)} ms p99 ${s.p99Ms.toFixed(1)} ms so far; 409 ${refusedMs.length}; other ${otherMs.length}`);
      }
    }
    const span = cpu!();
    let ingest: DispatchResult['ingest'] = null;
    if (gen) {
      const s = await gen.stats();
      ingest = { ackedPerS: (s.acked * 1000) / Math.max(1, s.elapsedMs), pubackP99Ms: s.pubackLatencyMs.p99 };
    }
    const open = await fetch(`${api}/dispatches?state=dispatched&limit=1000`, { headers: JSON_AUTH });
    const openBody = (await open.json().catch(() => null)) as { dispatches?: unknown[] } | null;
    const openAfter = open.status === 200 ? (openBody?.dispatches?.length ?? 0) : -1;
    await stopPublishing(ambulances);
    const sortedDistances = distances.sort((a, b) => a - b);
    return {
      opts,
      reserved: summarize(reservedMs),
      refused: summarize(refusedMs),
      otherAnswers,
      otherSummary: summarize(otherMs),
      close: summarize(closeMs),
      closeFailures,
      roundWall: summarize(roundMs),
      duplicates,
      wrongVehicles,
      openAfter,
      distinctVehicles: distinct.size,
      medianDistanceM: sortedDistances[Math.floor(sortedDistances.length / 2)] ?? NaN,
      fixes: { ...fixes.counters },
      ingest,
      cpu: span,
      firstOddAnswer,
    };
  } finally {
    await stopPublishing(ambulances);
    await gen?.stop();
    await engine?.stop(60_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const int = (n: number): string => Math.round(n).toLocaleString('en');
const ms = (n: number): string => (Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(1) : int(n));
const pct = (n: number): string => `${Math.round(n)}%`;

/** the section's text: a description line, the table, the checks and notes */
export function dispatchTable(r: DispatchResult): string[] {
  const o = r.opts;
  const row = (label: string, s: LatencySummary): string => `| ${label} | ${int(s.count)} | ${ms(s.minMs)} | **${ms(s.p50Ms)}** | **${ms(s.p99Ms)}** | ${ms(s.maxMs)} | ${ms(s.meanMs)} |`;
  const lines = [
    `Dispatch: ${int(o.ambulances)} provisioned ambulances spread over Jakarta, each publishing a QoS 1 fix every ${o.fixIntervalS} s` +
      (o.ingestPerS > 0 ? `, while a generator process offers ${int(o.ingestPerS)} fixes/s from 1,000 more devices` : ', no other ingest') +
      `; ${o.rounds} rounds of ${o.concurrency} simultaneous POST /api/v1/dispatches (type ambulance, default max_age_s) from random points over Jakarta, after ${o.warmupRounds} warm-up rounds; ` +
      `after each round every dispatch is closed (PATCH, also concurrent), so each round starts with all ambulances available. Latency: from fetch() to the whole answer read, in the bench process.`,
    '',
    '| request | count | min ms | p50 ms | p99 ms | max ms | mean ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('POST /api/v1/dispatches: 201, reserved', r.reserved),
    row('POST /api/v1/dispatches: 409, no vehicle available', r.refused),
  ];
  const others = Object.entries(r.otherAnswers);
  if (others.length > 0) lines.push(row(`POST /api/v1/dispatches: other (${others.map(([k, n]) => `${k}: ${n}`).join(', ')})`, r.otherSummary));
  lines.push(row(`PATCH /api/v1/dispatches/{id} state closed (up to ${o.concurrency} at once)`, r.close));
  lines.push(row(`one round of ${o.concurrency} POSTs, first sent to last answered`, r.roundWall));
  lines.push('');
  const requests = r.reserved.count + r.refused.count + r.otherSummary.count;
  lines.push(
    `- Reservation p99 under ${o.concurrency} concurrent requests: **${ms(r.reserved.p99Ms)} ms** (p50 ${ms(r.reserved.p50Ms)} ms) over ${int(r.reserved.count)} reservations; ` +
      `${int(r.refused.count)} of ${int(requests)} requests answered 409${others.length > 0 ? `, ${others.map(([k, n]) => `${n} answered ${k}`).join(', ')}` : ''}.`,
  );
  lines.push(
    r.duplicates.length === 0
      ? `- No vehicle reserved twice within a round: checked in all ${o.warmupRounds + o.rounds} rounds (warm-up included); ${int(r.distinctVehicles)} distinct ambulances were reserved over the measured rounds, median distance ${int(r.medianDistanceM)} m.`
      : `- **A vehicle was reserved twice within a round** (${r.duplicates.length} times): ${r.duplicates.slice(0, 5).join('; ')}.`,
  );
  if (r.wrongVehicles.length > 0) lines.push(`- **Reserved vehicles that are not ambulances**: ${r.wrongVehicles.slice(0, 5).join(', ')}.`);
  lines.push(
    r.openAfter === 0 && r.closeFailures === 0
      ? '- Every dispatch closed: none was open after the last round.'
      : `- **${int(r.closeFailures)} closes failed; ${r.openAfter < 0 ? 'the list of open dispatches could not be read' : `${int(r.openAfter)} dispatches still open after the last round`}.**`,
  );
  if (r.firstOddAnswer) lines.push(`- First answer other than 201 (warm-up included): ${r.firstOddAnswer.replace(/\|/g, '/').replace(/\s+/g, ' ')}.`);
  lines.push(`- Ambulance fixes: ${int(r.fixes.sent)} sent, ${int(r.fixes.acked)} acknowledged, ${int(r.fixes.failed)} failed or client errors.`);
  if (r.ingest) lines.push(`- Ingest meanwhile: ${int(r.ingest.ackedPerS)} fixes/s acknowledged of ${int(o.ingestPerS)} offered, PUBACK p99 ${ms(r.ingest.pubackP99Ms)} ms.`);
  const c = r.cpu.byProcess;
  lines.push(
    `- CPU over the measured rounds, % of one core: engine ${pct(c.engine ?? 0)}${c.generator !== undefined ? `, generator ${pct(c.generator)}` : ''}, bench process (client and ambulances) ${pct(c.self ?? 0)}, ` +
      `machine ${pct(r.cpu.machinePct)} of ${os.cpus().length * 100}% (other processes ${pct(r.cpu.othersPct)}${r.cpu.others ? `: ${r.cpu.others}` : ''})` +
      (r.cpu.othersPct >= NOISY_PCT ? ': this run measured a shared machine; rerun it on a quiet one.' : '.'),
  );
  return lines;
}

// ---------------------------------------------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  killChildrenOnSignal('bench/dispatch');
  const arg = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const result = await runDispatchBench({
    ...DISPATCH_DEFAULTS,
    rounds: arg('--rounds', DISPATCH_DEFAULTS.rounds),
    concurrency: arg('--concurrency', DISPATCH_DEFAULTS.concurrency),
    ambulances: arg('--ambulances', DISPATCH_DEFAULTS.ambulances),
    ingestPerS: arg('--ingest', DISPATCH_DEFAULTS.ingestPerS),
  });
  process.stdout.write(dispatchTable(result).join('\n') + '\n');
  process.exit(0);
}
