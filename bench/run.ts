// `npm run bench`: the geo and geofence micro benchmarks, sustained QoS 1 ingest into Pantau (a
// child process with its embedded TimescaleDB) and into a bare Mosquitto driven by the same load
// generator (bench/ingest.ts), HTTP nearest under ingest (bench/http.ts), where a nearest request's server time
// goes with nothing else running (bench/http-cost.ts), dispatch reservations
// under concurrency (bench/dispatch.ts) and early-warning latency from a threshold crossing to the
// subscribers' MQTT deliveries (bench/warning.ts). Progress goes to stderr; stdout gets the tables
// recorded in BENCHMARKS.md.
//
//   npm run bench -- [--rates 5k,10k,20k] [--duration-s 30] [--warmup-s 5] [--devices 1000]
//                    [--only geo,geofence,pantau,mosquitto,http,http-cost,dispatch,warning] [--retry-noisy 1]
//                    [--engine-env K=V] [--engine-prof DIR] [--geofence-*] [--http-*] [--dispatch-*] [--warning-*]
//                    (--help lists them; BENCHMARKS.md explains the columns)
//
// The engine runs in its own process so that it and the generator never share an event loop;
// on this 2-core machine they still share the CPUs, which is why CPU per process is reported.
// Process plumbing (children, /proc, /metrics, the machine line) is bench/proc.ts.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DISPATCH_DEFAULTS, dispatchTable, runDispatchBench, type DispatchBenchOptions, type DispatchResult } from './dispatch.ts';
import { benchGeofences, GEOFENCE_DEFAULTS, geofenceBenchNotes, geofenceTable, parseGeofenceFlag, type GeofenceBenchOptions, type GeofenceRow } from './geofence.ts';
import { runGeoNearest, type GeoResult } from './geo-nearest.ts';
import { HTTP_DEFAULTS, httpTable, runHttpBench, type HttpBenchOptions, type HttpResult } from './http.ts';
import { HTTP_COST_DEFAULTS, httpCostTable, runHttpCostBench } from './http-cost.ts';
import { findMosquitto, ingestText, mosquittoVersion, runIngestRows, type IngestOptions } from './ingest.ts';
import { codeVersion, cpuMeter, killChildrenOnSignal, machine, NOISY_PCT, ROOT, stampedLog, trackChild } from './proc.ts';
import { WARNING_DEFAULTS, warningNotes, warningTable, type WarningBenchOptions, type WarningBenchResult } from './warning.ts';

const progress = stampedLog('bench');
const int = (n: number): string => Math.round(n).toLocaleString('en');

// ---------------------------------------------------------------------------------------------
// Arguments

const SECTIONS = ['geo', 'geofence', 'pantau', 'mosquitto', 'http', 'http-cost', 'dispatch', 'warning'] as const;
type Section = (typeof SECTIONS)[number];
interface BenchOptions {
  ratesPerS: number[];
  durationS: number;
  warmupS: number;
  devices: number;
  only: Set<Section>;
  /** directory for `node --cpu-prof` profiles of the engine child; null = no profiling */
  engineProfDir: string | null;
  /** extra environment for the engine child (tuning experiments, e.g. PANTAU_BATCH_MAX_ROWS) */
  engineEnv: Record<string, string>;
  /** measure a row again (keeping the least disturbed) when other processes took this much CPU, up to retryNoisy times */
  retryNoisy: number;
  geofence: GeofenceBenchOptions;
  http: HttpBenchOptions;
  dispatch: DispatchBenchOptions;
  warning: WarningBenchOptions;
}

const USAGE = `usage: npm run bench -- [flags]
  --rates LIST      offered fixes/s, comma separated, "k" allowed (default 5k,10k,20k)
  --duration-s S    measured seconds per run (default 30)
  --warmup-s S      seconds of load before measuring (default 5)
  --devices N       simulated vehicles, one MQTT connection each (default 1000)
  --only LIST       sections, comma separated (default all eight, in this order):
                    geo       live vehicle index micro benchmark (seconds)
                    geofence  geofence evaluation, 10,000 fences x 50 and 500 vertices (about 45 s)
                    pantau, mosquitto  the ingest rows above (about 5 to 9 minutes together)
                    http      nearest k=5 under 10,000 fixes/s of ingest, against /healthz (2 to 3 min)
                    http-cost server CPU per request of /healthz, of the nearest route without a search
                              and of nearest itself, nothing else running (about 1 min)
                    dispatch  rounds of 50 concurrent dispatch reservations (about 1 min)
                    warning   threshold crossing to subscribers' MQTT deliveries, 5,000 sensors and
                              10,000 subscribers (several minutes of setup, then about 2 min)
  --engine-prof DIR write V8 CPU profiles of each engine child into DIR (node --cpu-prof);
                    read them with: npx tsx bench/profile-top.ts FILE.cpuprofile
  --engine-env K=V  extra environment variable for the engine (repeatable), e.g. PANTAU_BATCH_MAX_ROWS=5000
  --retry-noisy N   measure a row again, up to N times, when other processes took >= 15% of the
                    machine's CPU during it; the least disturbed attempt is kept (default 1)
  geofence:
  --geofence-fences N    fences (default 10000)
  --geofence-vehicles N  moving vehicles (default 100000; fewer = a shorter run, same per-fix work)
  --geofence-vertices L  vertices per fence, one scenario each (default 50,500)
  http:
  --http-duration-s S    seconds per route (default 10)
  --http-vehicles N      seeded live vehicles (default 100000)
  --http-ingest RATE     fixes/s offered meanwhile by 1000 MQTT devices, "k" allowed (default 10k)
  --http-connections N   HTTP connections (default 10)
  dispatch:
  --dispatch-rounds N       measured rounds (default 40, after 2 warm-up rounds)
  --dispatch-concurrency N  simultaneous POSTs per round (default 50)
  --dispatch-ambulances N   provisioned ambulances publishing fixes (default 500)
  --dispatch-ingest RATE    extra fixes/s from 1000 more MQTT devices meanwhile (default 0: none)
  warning (more flags: npx tsx bench/warning.ts --help):
  --warning-sensors N          water_level sensors, one MQTT connection each (default 5000)
  --warning-subscribers N      subscribers, one persistent MQTT session each (default 10000)
  --warning-duration-s S       measured seconds with crossings (default 60)
  --warning-crossings-per-s R  threshold crossings per second (default 1)`;

class UsageError extends Error {}

function parseRate(raw: string, flag = '--rates'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(k?)\s*$/i.exec(raw);
  if (!m) throw new UsageError(`${flag}: "${raw}" is not a rate such as 10000 or 10k`);
  const n = Math.round(Number(m[1]) * (m[2] ? 1000 : 1));
  if (n <= 0) throw new UsageError(`${flag}: a rate must be above 0, got "${raw}"`);
  return n;
}

function positive(flag: string, raw: string | undefined, integer: boolean): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} needs a ${integer ? 'whole ' : ''}number above 0, got "${raw ?? ''}"`);
  }
  return n;
}

function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const opts: BenchOptions = {
    ratesPerS: [5000, 10_000, 20_000],
    durationS: 30,
    warmupS: 5,
    devices: 1000,
    only: new Set<Section>(SECTIONS),
    engineProfDir: null,
    engineEnv: {},
    retryNoisy: 1,
    geofence: { ...GEOFENCE_DEFAULTS },
    http: { ...HTTP_DEFAULTS },
    dispatch: { ...DISPATCH_DEFAULTS },
    warning: { ...WARNING_DEFAULTS },
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '--help' || name === '-h') throw new UsageError('');
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    switch (name) {
      case '--rates':
        opts.ratesPerS = (value ?? '').split(',').map((r) => parseRate(r));
        break;
      case '--duration-s':
        opts.durationS = positive(name, value, false);
        break;
      case '--warmup-s':
        opts.warmupS = value === '0' ? 0 : positive(name, value, false);
        break;
      case '--devices':
        opts.devices = positive(name, value, true);
        break;
      case '--only': {
        const parts = (value ?? '').split(',').map((s) => s.trim());
        for (const p of parts) if (!(SECTIONS as readonly string[]).includes(p)) throw new UsageError(`--only takes ${SECTIONS.join(', ')} (comma separated), got "${p}"`);
        opts.only = new Set(parts as Section[]);
        break;
      }
      case '--geofence-fences':
      case '--geofence-vehicles':
      case '--geofence-vertices':
        try {
          parseGeofenceFlag(opts.geofence, name, value);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        break;
      case '--http-duration-s':
        opts.http.durationS = positive(name, value, false);
        break;
      case '--http-vehicles':
        opts.http.vehicles = positive(name, value, true);
        break;
      case '--http-ingest':
        opts.http.ingestPerS = parseRate(value ?? '', name);
        break;
      case '--http-connections':
        opts.http.connections = positive(name, value, true);
        break;
      case '--dispatch-rounds':
        opts.dispatch.rounds = positive(name, value, true);
        break;
      case '--dispatch-concurrency':
        opts.dispatch.concurrency = positive(name, value, true);
        break;
      case '--dispatch-ambulances':
        opts.dispatch.ambulances = positive(name, value, true);
        break;
      case '--dispatch-ingest':
        opts.dispatch.ingestPerS = value === '0' ? 0 : parseRate(value ?? '', name);
        break;
      case '--warning-sensors':
        opts.warning.sensors = positive(name, value, true);
        break;
      case '--warning-subscribers':
        opts.warning.subscribers = positive(name, value, true);
        break;
      case '--warning-duration-s':
        opts.warning.durationS = positive(name, value, false);
        break;
      case '--warning-crossings-per-s':
        opts.warning.crossingsPerS = positive(name, value, false);
        break;
      case '--engine-prof':
        if (!value) throw new UsageError('--engine-prof needs a directory');
        opts.engineProfDir = path.resolve(value);
        break;
      case '--retry-noisy':
        opts.retryNoisy = value === '0' ? 0 : positive(name, value, true);
        break;
      case '--engine-env': {
        const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(value ?? '');
        if (!m) throw new UsageError(`--engine-env takes NAME=VALUE, got "${value ?? ''}"`);
        opts.engineEnv[m[1]!] = m[2]!;
        break;
      }
      default:
        throw new UsageError(`unknown flag "${arg}"`);
    }
  }
  return opts;
}

function geoTable(geo: GeoResult): string[] {
  const lines = [`| live index, ${int(geo.vehicles)} vehicles | ops | ms | ops/s |`, '|---|---:|---:|---:|'];
  for (const r of geo.rows) lines.push(`| ${r.name} | ${int(r.ops)} | ${r.ms.toFixed(1)} | **${int(r.opsPerS)}** |`);
  return lines;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write((err.message ? `bench: ${err.message}\n\n` : '') + USAGE + '\n');
    process.exit(err.message ? 2 : 0);
  }
  killChildrenOnSignal('bench');
  const started = new Date();
  const host = machine();
  const code = codeVersion();
  // Fail before the long runs when the comparison broker is missing: never skip it silently.
  const mosquitto = opts.only.has('mosquitto') ? findMosquitto() : null;
  const mosquittoVer = mosquitto ? await mosquittoVersion(mosquitto) : null;
  progress(`machine: ${host.line}; code: ${code.label}`);
  if (Object.keys(opts.engineEnv).length > 0) progress(`engine environment: ${JSON.stringify(opts.engineEnv)}`);
  const sections = SECTIONS.filter((x) => opts.only.has(x));
  progress(
    `plan: ${sections.join(', ')}` +
      (opts.only.has('pantau') || opts.only.has('mosquitto') ? `; ingest rows at ${opts.ratesPerS.join(', ')}/s, ${opts.devices} devices, warm-up ${opts.warmupS} s, measure ${opts.durationS} s` : '') +
      (opts.only.has('geofence') ? `; geofence ${opts.geofence.fences} fences x ${opts.geofence.vertices.join('/')} vertices, ${opts.geofence.vehicles} vehicles` : '') +
      (opts.only.has('http') ? `; http ${opts.http.durationS} s per route, ${opts.http.vehicles} vehicles, ingest ${opts.http.ingestPerS}/s` : '') +
      (opts.only.has('dispatch') ? `; dispatch ${opts.dispatch.rounds} rounds x ${opts.dispatch.concurrency}, ${opts.dispatch.ambulances} ambulances` : '') +
      (opts.only.has('warning') ? `; warning ${opts.warning.sensors} sensors, ${opts.warning.subscribers} subscribers, ${opts.warning.crossingsPerS} crossings/s for ${opts.warning.durationS} s` : ''),
  );
  // A section that fails must not cost the others: its text says so instead.
  const failed = (what: string, err: unknown): string[] => {
    const message = err instanceof Error ? err.message : String(err);
    progress(`${what} failed: ${message}`);
    return [`**${what} failed:** ${message.replace(/\s+/g, ' ').slice(0, 600)}`];
  };
  /** for --engine-prof: node flags writing the engine's profiles into a directory of their own */
  const profArgs = (name: string): string[] | undefined => {
    if (!opts.engineProfDir) return undefined;
    const dir = path.join(opts.engineProfDir, `engine-${name}-${Date.now()}`);
    fs.mkdirSync(dir, { recursive: true });
    return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  };

  // The in-process micro benchmarks first, while no engine or generator shares the machine.
  let geo: GeoResult | null = null;
  if (opts.only.has('geo')) {
    progress('geo: nearest/upsert micro benchmark on 100,000 vehicles');
    geo = runGeoNearest();
  }
  let geofenceText: string[] | null = null;
  if (opts.only.has('geofence')) {
    progress(`geofence: ${opts.geofence.fences} fences x ${opts.geofence.vertices.join(' and ')} vertices, ${opts.geofence.vehicles} vehicles (in this process)`);
    try {
      const cpu = cpuMeter({});
      const rows: GeofenceRow[] = await benchGeofences(opts.geofence);
      const span = cpu();
      geofenceText = geofenceTable(opts.geofence, rows, geofenceBenchNotes());
      geofenceText.push(
        `- CPU during the section, % of one core: the bench process ${Math.round(span.byProcess.self ?? 0)}%, machine ${Math.round(span.machinePct)}% of ${os.cpus().length * 100}% ` +
          `(other processes ${Math.round(span.othersPct)}%${span.others ? `: ${span.others}` : ''})` +
          (span.othersPct >= NOISY_PCT ? ': measured on a shared machine; rerun it on a quiet one.' : '.'),
      );
      const target = rows.find((r) => r.label.startsWith('position update') && r.label.includes('x 50 vertices'));
      if (target) progress(`geofence: ${Math.round(target.opsPerS)} position updates/s with 50-vertex fences`);
    } catch (err) {
      geofenceText = failed('The geofence section', err);
    }
  }

  const ingest: IngestOptions = {
    ratesPerS: opts.ratesPerS,
    durationS: opts.durationS,
    warmupS: opts.warmupS,
    devices: opts.devices,
    pantau: opts.only.has('pantau'),
    mosquitto,
    retryNoisy: opts.retryNoisy,
    engineEnv: opts.engineEnv,
    engineNodeArgs: profArgs,
  };
  const rows = await runIngestRows(ingest);

  let httpText: string[] | null = null;
  if (opts.only.has('http')) {
    progress(`http: nearest k=5 over ${opts.http.vehicles} vehicles and /healthz, ${opts.http.durationS} s each, under ${opts.http.ingestPerS} fixes/s of ingest`);
    try {
      const r: HttpResult = await runHttpBench({ ...opts.http, engineEnv: opts.engineEnv, engineNodeArgs: profArgs('http') });
      httpText = httpTable(r);
    } catch (err) {
      httpText = failed('The http section', err);
    }
  }
  let httpCostText: string[] | null = null;
  if (opts.only.has('http-cost')) {
    progress('http-cost: server CPU per request of /healthz, of nearest without a search and of nearest, nothing else running');
    try {
      httpCostText = httpCostTable(await runHttpCostBench(HTTP_COST_DEFAULTS));
    } catch (err) {
      httpCostText = failed('The http-cost section', err);
    }
  }
  let dispatchText: string[] | null = null;
  if (opts.only.has('dispatch')) {
    progress(`dispatch: ${opts.dispatch.rounds} rounds of ${opts.dispatch.concurrency} concurrent reservations, ${opts.dispatch.ambulances} ambulances`);
    try {
      const r: DispatchResult = await runDispatchBench({ ...opts.dispatch, engineEnv: opts.engineEnv, engineNodeArgs: profArgs('dispatch') });
      dispatchText = dispatchTable(r);
      progress(`dispatch: reservation p50 ${r.reserved.p50Ms.toFixed(1)} ms, p99 ${r.reserved.p99Ms.toFixed(1)} ms, ${r.refused.count} refused (409), ${r.duplicates.length} double reservations`);
    } catch (err) {
      dispatchText = failed('The dispatch section', err);
    }
  }
  // Last, and in a fresh process of its own (bench/warning.ts): its 15,000 MQTT clients time-stamp every
  // receipt, so what the earlier sections left in this process's heap must not delay them.
  let warningText: string[] | null = null;
  if (opts.only.has('warning')) {
    const w = opts.warning;
    progress(`warning: ${w.sensors} sensors every ${w.intervalS} s, ${w.subscribers} subscribers, ${w.crossingsPerS} threshold crossings/s for ${w.durationS} s`);
    try {
      const r: WarningBenchResult = await warningInChild(w, opts.engineEnv, profArgs('warning'));
      warningText = [...warningTable(r), '', ...warningNotes(r)];
      progress(`warning: delivery latency p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms; ${r.deliveries.received} of ${r.deliveries.expected} expected deliveries received`);
    } catch (err) {
      warningText = failed('The warning section', err);
    }
  }

  const finished = new Date();
  const codeChanged = code.fingerprint !== codeVersion().fingerprint;
  const out: string[] = [];
  out.push(`## Pantau benchmark, ${started.toISOString().slice(0, 10)}`);
  out.push('');
  out.push(`Machine: ${host.line}. Run ${started.toISOString()} to ${finished.toISOString()} (${((finished.getTime() - started.getTime()) / 60000).toFixed(1)} min). Code: ${code.label}.`);
  if (codeChanged) out.push('**The engine or simulator code changed while the benchmark ran: rows after the change measured other code. Rerun.**');
  if (rows.length > 0) out.push(...ingestText(rows, ingest, mosquittoVer));
  if (geo) {
    out.push('');
    out.push(...geoTable(geo));
    out.push('');
    out.push(`Items visited per nearest k=5: ${geo.itemsVisited.unfiltered.toFixed(1)} unfiltered, ${geo.itemsVisited.filtered.toFixed(1)} with the available-ambulance filter.`);
  }
  for (const text of [geofenceText, httpText, httpCostText, dispatchText, warningText]) {
    if (!text) continue;
    out.push('');
    out.push(...text);
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);

/** The warning section as `bench/warning.ts --json` in a child process; its progress goes to stderr. */
async function warningInChild(w: WarningBenchOptions, engineEnv: Record<string, string>, engineNodeArgs: string[] | undefined): Promise<WarningBenchResult> {
  const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-bench-warning-')), 'result.json');
  const flags: Record<string, number | undefined> = {
    '--sensors': w.sensors, '--subscribers': w.subscribers, '--duration-s': w.durationS, '--interval-s': w.intervalS, '--crossings-per-s': w.crossingsPerS,
    '--seed': w.seed, '--warmup-s': w.warmupS, '--hold-s': w.holdS, '--grace-s': w.graceS, '--connect-batch': w.connectBatch, '--receivers': w.receivers,
  };
  const args = ['--import', 'tsx', 'bench/warning.ts', '--json', json];
  for (const [flag, value] of Object.entries(flags)) if (value !== undefined) args.push(flag, String(value));
  for (const [k, v] of Object.entries(engineEnv)) args.push('--engine-env', `${k}=${v}`);
  for (const a of engineNodeArgs ?? []) args.push('--engine-node-arg', a);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await trackChild(child);
  try {
    if (code !== 0) throw new Error(`bench/warning.ts exited with ${code} (its output is above)`);
    return JSON.parse(fs.readFileSync(json, 'utf8')) as WarningBenchResult;
  } finally {
    fs.rmSync(path.dirname(json), { recursive: true, force: true });
  }
}
