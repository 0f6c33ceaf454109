// `npm run bench`: sustained QoS 1 ingest into Pantau (a child process with its embedded
// TimescaleDB) and into a bare Mosquitto driven by the same load generator, plus the geo micro
// benchmark. Progress goes to stderr; stdout gets the tables recorded in BENCHMARKS.md.
//
//   npm run bench -- [--rates 5k,10k,20k] [--duration-s 30] [--warmup-s 5] [--devices 1000]
//                    [--only pantau|mosquitto|geo[,...]] [--retry-noisy 1] [--engine-env K=V]
//                    [--engine-prof DIR]          (--help lists them; BENCHMARKS.md explains the columns)
//
// The engine runs in its own process so that it and the generator never share an event loop;
// on this 2-core machine they still share the CPUs, which is why CPU per process is reported.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../engine/config.ts';
import { silentLogger } from '../engine/log.ts';
import { splitFleet } from '../simulators/load.ts';
import { runSimulation, type SimLogger, type SimulationStats } from '../simulators/runner.ts';
import { openDatabase } from '../store/db.ts';
import { runGeoNearest, type GeoResult } from './geo-nearest.ts';
import { installPublishMeter, type PublishMeter } from './publish-meter.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (line: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Arguments

type Section = 'pantau' | 'mosquitto' | 'geo';
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
}

const USAGE = `usage: npm run bench -- [flags]
  --rates LIST      offered fixes/s, comma separated, "k" allowed (default 5k,10k,20k)
  --duration-s S    measured seconds per run (default 30)
  --warmup-s S      seconds of load before measuring (default 5)
  --devices N       simulated vehicles, one MQTT connection each (default 1000)
  --only LIST       pantau, mosquitto and/or geo (default all three)
  --engine-prof DIR write V8 CPU profiles of each engine child into DIR (node --cpu-prof);
                    read them with: npx tsx bench/profile-top.ts FILE.cpuprofile
  --engine-env K=V  extra environment variable for the engine (repeatable), e.g. PANTAU_BATCH_MAX_ROWS=5000
  --retry-noisy N   measure a row again, up to N times, when other processes took >= 15% of the
                    machine's CPU during it; the least disturbed attempt is kept (default 1)`;

class UsageError extends Error {}

function parseRate(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(k?)\s*$/i.exec(raw);
  if (!m) throw new UsageError(`--rates: "${raw}" is not a rate such as 10000 or 10k`);
  const n = Math.round(Number(m[1]) * (m[2] ? 1000 : 1));
  if (n <= 0) throw new UsageError(`--rates: a rate must be above 0, got "${raw}"`);
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
    only: new Set<Section>(['geo', 'pantau', 'mosquitto']),
    engineProfDir: null,
    engineEnv: {},
    retryNoisy: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '--help' || name === '-h') throw new UsageError('');
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    switch (name) {
      case '--rates':
        opts.ratesPerS = (value ?? '').split(',').map(parseRate);
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
        for (const p of parts) if (p !== 'pantau' && p !== 'mosquitto' && p !== 'geo') throw new UsageError(`--only takes pantau, mosquitto or geo (comma separated), got "${p}"`);
        opts.only = new Set(parts as Section[]);
        break;
      }
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

// ---------------------------------------------------------------------------------------------
// Machine, CPU accounting, child processes

function machine(): { line: string; cpuModel: string; cores: number; memGiB: number } {
  const cpus = os.cpus();
  const cpuModel = (cpus[0]?.model ?? 'unknown CPU').trim();
  const memGiB = os.totalmem() / 2 ** 30;
  const line = `${cpuModel}, ${cpus.length} cores, ${memGiB.toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}, node ${process.version}`;
  return { line, cpuModel, cores: cpus.length, memGiB };
}

/** The engine code measured: commit, whether the working tree differs, and a fingerprint to notice edits during the run. */
function codeVersion(): { label: string; fingerprint: string } {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  try {
    const head = git('rev-parse', '--short', 'HEAD').trim();
    const dirs = ['engine', 'store', 'ingest', 'broker', 'geo', 'api', 'simulators', 'package.json', 'package-lock.json'];
    const changes = git('status', '--porcelain', '--', ...dirs).trim();
    const fingerprint = createHash('sha1').update(head).update(git('diff', 'HEAD', '--', ...dirs)).update(changes).digest('hex');
    return { label: `commit ${head}${changes ? ' with uncommitted changes' : ''}`, fingerprint };
  } catch {
    return { label: 'not a git checkout', fingerprint: '' };
  }
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** CPU ticks (user + system) per thread of a process, from /proc; empty when not on Linux. */
function threadTicks(pid: number): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // "tid (comm) state ..." and comm may hold spaces: split after the last ')'
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      out.set(Number(tid), { comm, ticks: Number(fields[11]) + Number(fields[12]) }); // utime, stime
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

interface CpuSplit {
  /** whole process, % of one core */
  totalPct: number;
  /** the busiest threads, "name tid: %" */
  top: string;
  /** the main thread (the event loop) */
  mainPct: number;
  /** the busiest other thread (for Pantau: the embedded database's worker) */
  busiestOtherPct: number;
  busiestOtherComm: string;
}

function cpuBetween(pid: number, before: Map<number, { comm: string; ticks: number }>, after: Map<number, { comm: string; ticks: number }>, elapsedS: number): CpuSplit {
  const pct = (ticks: number): number => (ticks / CLOCK_TICKS_PER_S / elapsedS) * 100;
  let total = 0;
  let main = 0;
  let other = 0;
  let otherComm = '';
  const each: Array<[string, number]> = [];
  for (const [tid, a] of after) {
    const d = a.ticks - (before.get(tid)?.ticks ?? 0);
    total += d;
    each.push([`${tid === pid ? 'main' : a.comm} ${tid}`, d]);
    if (tid === pid) main = d;
    else if (d > other) {
      other = d;
      otherComm = a.comm;
    }
  }
  const top = each
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, d]) => `${name}: ${Math.round(pct(d))}%`)
    .join(', ');
  return { totalPct: pct(total), top, mainPct: pct(main), busiestOtherPct: pct(other), busiestOtherComm: otherComm };
}

/** Whole-machine CPU ticks from /proc/stat: busy (everything but idle and iowait) and steal. */
function machineTicks(): { busy: number; steal: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busy: user + nice + system + irq + softirq + steal, steal };
  } catch {
    return { busy: 0, steal: 0 };
  }
}

/** CPU ticks of every process on the machine, to name what else ran during a window. */
function allProcessTicks(): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(pid), Number(f[11]) + Number(f[12]));
    } catch {
      // gone
    }
  }
  return out;
}

function commandOf(pid: number): string {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (argv.length === 0) return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const cmd = argv.join(' ');
    // the program and its last arguments (the script) say more than a long run of loader flags
    return cmd.length <= 80 ? cmd : `${path.basename(argv[0]!)} ... ${argv.slice(-2).join(' ').slice(-60)}`;
  } catch {
    return `pid ${pid}`;
  }
}

/** The busiest processes other than `exclude` between two samples: "command (pct)", at most three. */
function otherProcesses(before: Map<number, number>, after: Map<number, number>, exclude: Set<number>, elapsedS: number): string {
  const rows: Array<[number, number]> = [];
  for (const [pid, ticks] of after) {
    if (exclude.has(pid)) continue;
    const d = ticks - (before.get(pid) ?? 0);
    if (d > 0) rows.push([pid, d]);
  }
  return rows
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .filter(([, d]) => (d / CLOCK_TICKS_PER_S / elapsedS) * 100 >= 5)
    .map(([pid, d]) => `${commandOf(pid)} (${Math.round((d / CLOCK_TICKS_PER_S / elapsedS) * 100)}%)`)
    .join(', ');
}

interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** resolves with the exit code (or the signal name) */
  exited: Promise<number | string>;
  stdout: () => string;
  /** the last lines of stderr, for error messages */
  tail: () => string;
}

/** children still running, killed if the bench itself is interrupted */
const liveChildren = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const proc of liveChildren) proc.kill('SIGKILL');
    process.stderr.write(`bench: ${signal}; stopped ${liveChildren.size} child process(es)\n`);
    process.exit(130);
  });
}

function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`could not start ${name}: ${command} ${args.join(' ')}`);
  liveChildren.add(proc);
  let out = '';
  const tail: string[] = [];
  let forwarded = 0;
  let suppressed = 0;
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
    if (out.length < 64 * 1024) out += s;
  });
  let partial = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      // Forward the first warnings so a problem is visible; count the rest.
      if (forwarded < 40) {
        forwarded++;
        process.stderr.write(`  [${name}] ${line.slice(0, 400)}\n`);
      } else suppressed++;
    }
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      liveChildren.delete(proc);
      if (suppressed > 0) process.stderr.write(`  [${name}] (${suppressed} more stderr lines not shown)\n`);
      resolve(code ?? signal ?? -1);
    });
  });
  return { name, proc, pid: proc.pid, exited, stdout: () => out, tail: () => tail.join('\n') };
}

async function stopChild(child: Child, timeoutMs: number): Promise<{ code: number | string; ms: number; killed: boolean }> {
  const t0 = performance.now();
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return { code: child.proc.exitCode ?? child.proc.signalCode!, ms: 0, killed: false };
  child.proc.kill('SIGTERM');
  const code = await Promise.race([child.exited, sleep(timeoutMs).then(() => null)]);
  if (code !== null) return { code, ms: performance.now() - t0, killed: false };
  child.proc.kill('SIGKILL');
  return { code: await child.exited, ms: performance.now() - t0, killed: true };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------------------------------------
// Prometheus text from the engine

type Samples = Map<string, number>;

/** `name{labels} value` lines into a map keyed by `name{labels}` exactly as written (`name` alone without labels). */
function parseProm(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) out.set(line.slice(0, space), value);
  }
  return out;
}

async function scrape(url: string): Promise<Samples | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    return parseProm(await res.text());
  } catch {
    return null;
  }
}

const sample = (m: Samples | null, key: string): number => m?.get(key) ?? 0;

// ---------------------------------------------------------------------------------------------
// One load run: the same generator against either target

interface Target {
  kind: 'pantau' | 'mosquitto';
  mqttUrl: string;
  pid: number;
  /** Pantau only */
  apiUrl?: string;
  metricsUrl?: string;
}

interface LoadResult {
  kind: Target['kind'];
  offeredPerS: number;
  devices: number;
  /** the generator's counters for the measured window; its latency covers the publishes sent in
   * the window, answered at any time before the generator closed (so a backlog shows) */
  window: SimulationStats;
  windowS: number;
  /** PUBACKs received during the window per second, whenever their publish was sent */
  deliveredPerS: number;
  sentPerS: number;
  /** Pantau: rows committed to vehicle_positions during the window per second, from /metrics */
  committedPerS: number | null;
  targetCpu: CpuSplit;
  generatorCpuPct: number;
  /** the whole machine during the window, % of one core (so up to cores x 100), and its steal part */
  machineCpuPct: number;
  machineStealPct: number;
  /** the busiest other processes during the window */
  others: string;
  /** how many times this row was measured (noisy attempts are repeated) */
  attempts: number;
  /** devices connected when the window began, and at its end */
  connectedAtStart: number;
  connectedAtEnd: number;
  /** worst per-second event-loop delay p99 of the engine, ms (Pantau only) */
  engineLagP99Ms: number | null;
  writerQueueMaxRows: number | null;
  backpressureWaits: number | null;
  dropped: number | null;
  commitMeanMs: number | null;
  batchMeanRows: number | null;
  /** whole run (connect, warm-up, window, final flush): PUBACKs received */
  ackedTotal: number;
  sentTotal: number;
  failedTotal: number;
  /** publishes still unanswered when the generator closed its sockets */
  unansweredAtClose: number;
  /** Pantau only, filled after the engine stopped */
  rows: number | null;
  engineStopMs: number | null;
  engineExit: number | string | null;
}

function generatorLogger(tag: string): SimLogger {
  const write = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    void process.stderr.write(`  [gen ${tag}] ${level} ${msg} ${JSON.stringify(fields).slice(0, 300)}\n`);
  return { info: write('info'), warn: write('warn'), error: write('error') };
}

const snapshot = (m: PublishMeter): PublishMeter => ({ sent: m.sent, acked: m.acked, failed: m.failed });

async function drive(target: Target, ratePerS: number, opts: BenchOptions, meter: PublishMeter, adminToken?: string): Promise<LoadResult> {
  const tag = `${target.kind} ${ratePerS}/s`;
  const runStart = snapshot(meter);
  const sim = await runSimulation({
    mqttUrl: target.mqttUrl,
    provision: target.kind === 'pantau',
    apiUrl: target.apiUrl,
    adminToken,
    fleet: splitFleet(opts.devices),
    sensors: 0,
    vehicleRateHz: ratePerS / opts.devices,
    qos: 1,
    idPrefix: 'load-',
    // Let every publish still queued at the end be answered, so acks and rows can be compared.
    stopFlushMs: 30_000,
    logger: generatorLogger(tag),
  });
  try {
    // Connected devices publish at once, so an overloaded broker may starve later CONNECTs: measure
    // what connected within a minute and say so, rather than abort the whole benchmark.
    if (!(await sim.waitForConnections(60_000))) {
      const s = sim.stats();
      progress(`${tag}: only ${s.connected} of ${s.devices} devices connected within 60 s (client errors ${s.errors}, reconnects ${s.reconnects}); measuring anyway`);
    } else progress(`${tag}: ${opts.devices} devices connected; warming up ${opts.warmupS} s`);
    await sleep(opts.warmupS * 1000);

    let m0: Samples | null = null;
    if (target.metricsUrl) m0 = await scrape(target.metricsUrl); // also starts a fresh event-loop delay interval
    const connectedAtStart = sim.stats().connected;
    sim.resetStats();
    const meter0 = snapshot(meter);
    const cpu0 = threadTicks(target.pid);
    const host0 = machineTicks();
    const procs0 = allProcessTicks();
    const gen0 = process.cpuUsage();
    const t0 = performance.now();
    let lagP99MaxS = 0;
    let queueMax = 0;
    let mLast = m0;
    const endAt = t0 + opts.durationS * 1000;
    let nextReport = t0 + 5000;
    let prev = snapshot(meter);
    let prevAt = t0;
    while (performance.now() < endAt) {
      await sleep(Math.min(1000, Math.max(0, endAt - performance.now())));
      if (target.metricsUrl) {
        const m = await scrape(target.metricsUrl);
        if (m) {
          mLast = m;
          lagP99MaxS = Math.max(lagP99MaxS, sample(m, 'pantau_process_nodejs_eventloop_lag_p99_seconds'));
          queueMax = Math.max(queueMax, sample(m, 'pantau_writer_queue_rows'));
        }
      }
      const now = performance.now();
      if (now >= nextReport || now >= endAt) {
        const s = sim.stats();
        const dt = (now - prevAt) / 1000;
        progress(
          `${tag}: ${(s.elapsedMs / 1000).toFixed(0)} s acked ${Math.round((meter.acked - prev.acked) / dt)}/s sent ${Math.round((meter.sent - prev.sent) / dt)}/s` +
            ` in flight ${s.inflight} skipped ${s.skipped} lagged ${s.lagged}` +
            (target.metricsUrl ? ` | engine queue ${sample(mLast, 'pantau_writer_queue_rows')} rows, loop p99 ${Math.round(sample(mLast, 'pantau_process_nodejs_eventloop_lag_p99_seconds') * 1000)} ms` : ''),
        );
        prev = snapshot(meter);
        prevAt = now;
        nextReport += 5000;
      }
    }
    const meter1 = snapshot(meter);
    const window = sim.stats();
    const elapsedS = (performance.now() - t0) / 1000;
    const targetCpu = cpuBetween(target.pid, cpu0, threadTicks(target.pid), elapsedS);
    const gen = process.cpuUsage(gen0);
    const generatorCpuPct = ((gen.user + gen.system) / 1e6 / elapsedS) * 100;
    const host1 = machineTicks();
    const others = otherProcesses(procs0, allProcessTicks(), new Set([target.pid, process.pid]), elapsedS);
    const machineCpuPct = ((host1.busy - host0.busy) / CLOCK_TICKS_PER_S / elapsedS) * 100;
    const machineStealPct = ((host1.steal - host0.steal) / CLOCK_TICKS_PER_S / elapsedS) * 100;
    progress(`${tag}: CPU of the ${target.kind} process by thread: ${targetCpu.top}; generator process ${Math.round(generatorCpuPct)}%; machine ${Math.round(machineCpuPct)}% of ${os.cpus().length * 100}% (steal ${Math.round(machineStealPct)}%)${others ? `; others: ${others}` : ''}`);

    if (Math.abs(window.sent - (meter1.sent - meter0.sent)) > window.sent * 0.01 + 10) {
      progress(`${tag}: warning: the publish meter counted ${meter1.sent - meter0.sent} sends in the window, the generator ${window.sent}`);
    }
    progress(`${tag}: measured; stopping the generator (it waits up to 30 s for ${window.inflight} publishes in flight)`);
    await sim.stop();
    const after = sim.stats();
    const delta = (key: string): number => sample(mLast, key) - sample(m0, key);
    const commits = delta('pantau_commit_seconds_count');
    const batches = delta('pantau_batch_rows_count');
    return {
      kind: target.kind,
      offeredPerS: ratePerS,
      devices: opts.devices,
      // counters of the window; latency of the window's publishes, including answers after it
      window: { ...window, pubackLatencyMs: after.pubackLatencyMs },
      windowS: elapsedS,
      deliveredPerS: (meter1.acked - meter0.acked) / elapsedS,
      sentPerS: (meter1.sent - meter0.sent) / elapsedS,
      committedPerS: target.metricsUrl ? delta('pantau_rows_committed_total{table="vehicle_positions"}') / elapsedS : null,
      targetCpu,
      generatorCpuPct,
      machineCpuPct,
      machineStealPct,
      others,
      attempts: 1,
      connectedAtStart,
      connectedAtEnd: window.connected,
      engineLagP99Ms: target.metricsUrl ? lagP99MaxS * 1000 : null,
      writerQueueMaxRows: target.metricsUrl ? queueMax : null,
      backpressureWaits: target.metricsUrl ? delta('pantau_backpressure_waits_total') : null,
      dropped: target.metricsUrl ? [...(mLast?.entries() ?? [])].filter(([k]) => k.startsWith('pantau_dropped_total')).reduce((a, [, v]) => a + v, 0) : null,
      commitMeanMs: target.metricsUrl && commits > 0 ? (delta('pantau_commit_seconds_sum') / commits) * 1000 : null,
      batchMeanRows: target.metricsUrl && batches > 0 ? delta('pantau_batch_rows_sum') / batches : null,
      ackedTotal: meter.acked - runStart.acked,
      sentTotal: meter.sent - runStart.sent,
      failedTotal: meter.failed - runStart.failed,
      unansweredAtClose: after.inflight,
      rows: null,
      engineStopMs: null,
      engineExit: null,
    };
  } finally {
    await sim.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Pantau as a child process

async function countRows(dataDir: string): Promise<number> {
  const config = loadConfig({ PANTAU_DATA_DIR: dataDir, PANTAU_LOG_LEVEL: 'silent' });
  const db = await openDatabase(config, silentLogger);
  try {
    const [row] = await db.query<{ n: number }>('SELECT count(*)::bigint AS n FROM vehicle_positions');
    return Number(row?.n ?? 0);
  } finally {
    await db.close();
  }
}

async function runPantau(ratePerS: number, opts: BenchOptions, meter: PublishMeter): Promise<LoadResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-bench-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PANTAU_MQTT_PORT: '0',
    PANTAU_HTTP_PORT: '0',
    PANTAU_HOST: '127.0.0.1',
    PANTAU_DATA_DIR: dataDir,
    PANTAU_ADMIN_TOKEN: ADMIN_TOKEN,
    PANTAU_LOG_LEVEL: 'warn',
    ...opts.engineEnv,
  };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'PANTAU_ALLOW_ANONYMOUS', 'NODE_OPTIONS']) delete env[k];
  const nodeArgs: string[] = [];
  if (opts.engineProfDir) {
    // one directory per run: each thread (main, database worker, loader) writes a profile of its own
    const dir = path.join(opts.engineProfDir, `engine-${ratePerS}-${Date.now()}`);
    fs.mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const t0 = performance.now();
  const child = startChild('engine', process.execPath, [...nodeArgs, 'bin/pantau.js', 'serve'], env);
  try {
    // `pantau serve` prints its addresses once listening (engine/cli.ts); PANTAU_HOST keeps them numeric.
    let mqttPort = 0;
    let httpPort = 0;
    const deadline = performance.now() + 120_000;
    while (!mqttPort || !httpPort) {
      if (child.proc.exitCode !== null) throw new Error(`the engine exited with code ${child.proc.exitCode} while starting:\n${child.tail()}`);
      if (performance.now() > deadline) throw new Error(`the engine did not print its ports within 120 s:\n${child.tail()}`);
      const out = child.stdout();
      mqttPort = Number(/mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
      httpPort = Number(/http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(out)?.[1] ?? 0);
      await sleep(50);
    }
    const base = `http://127.0.0.1:${httpPort}`;
    while ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) !== 200) {
      if (child.proc.exitCode !== null) throw new Error(`the engine exited with code ${child.proc.exitCode}:\n${child.tail()}`);
      if (performance.now() > deadline) throw new Error(`the engine was not ready within 120 s:\n${child.tail()}`);
      await sleep(100);
    }
    progress(`pantau ${ratePerS}/s: engine pid ${child.pid} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (mqtt ${mqttPort}, http ${httpPort}, data ${dataDir})`);
    const result = await drive({ kind: 'pantau', mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, pid: child.pid, apiUrl: base, metricsUrl: `${base}/metrics` }, ratePerS, opts, meter, ADMIN_TOKEN);

    const stopped = await stopChild(child, 120_000);
    result.engineStopMs = stopped.ms;
    result.engineExit = stopped.code;
    if (stopped.killed) progress(`pantau ${ratePerS}/s: the engine did not exit within 120 s of SIGTERM and was killed`);
    progress(`pantau ${ratePerS}/s: engine drained and exited (${stopped.code}) in ${(stopped.ms / 1000).toFixed(1)} s; counting rows`);
    result.rows = await countRows(dataDir);
    return result;
  } finally {
    await stopChild(child, 10_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Bare Mosquitto as a child process

function findMosquitto(): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    const p = path.join(d, 'mosquitto');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  throw new Error(
    'the mosquitto broker is not installed, and the benchmark compares Pantau with it: install Debian\'s package with ' +
      '`apt-get install -y mosquitto` (or run only Pantau with `npm run bench -- --only pantau,geo`)',
  );
}

async function runMosquitto(binary: string, ratePerS: number, opts: BenchOptions, meter: PublishMeter): Promise<LoadResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-bench-mosquitto-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  // Zero = no limit: with its default limits Mosquitto drops QoS 1 messages under this load.
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'max_queued_messages 0',
      'max_inflight_messages 0',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(conf, 0o644);
  const child = startChild('mosquitto', binary, ['-c', conf], process.env);
  try {
    const deadline = performance.now() + 10_000;
    while (!(await canConnect(port))) {
      if (child.proc.exitCode !== null) throw new Error(`mosquitto exited with code ${child.proc.exitCode}:\n${child.tail()}`);
      if (performance.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within 10 s:\n${child.tail()}`);
      await sleep(50);
    }
    progress(`mosquitto ${ratePerS}/s: pid ${child.pid} listening on ${port}`);
    return await drive({ kind: 'mosquitto', mqttUrl: `mqtt://127.0.0.1:${port}`, pid: child.pid }, ratePerS, opts, meter);
  } finally {
    await stopChild(child, 10_000);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function mosquittoVersion(binary: string): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn(binary, ['-h'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', () => resolve(/mosquitto version (\S+)/.exec(out)?.[1] ?? 'unknown'));
    p.on('error', () => resolve('unknown'));
  });
}

// ---------------------------------------------------------------------------------------------
// Tables

const int = (n: number): string => Math.round(n).toLocaleString('en');
const ms = (n: number): string => (n < 10 ? n.toFixed(1) : int(n));
const pct = (n: number): string => `${Math.round(n)}%`;

/** other processes' share of the CPU (% of one core) from which a row counts as disturbed */
const NOISY_PCT = 15;

/** CPU the machine spent outside the broker under test and the bench process (other work, or the kernel's) */
const otherCpuPct = (r: LoadResult): number => Math.max(0, r.machineCpuPct - r.targetCpu.totalPct - r.generatorCpuPct);

/** a row whose measurement failed */
interface FailedRow {
  kind: Target['kind'];
  offeredPerS: number;
  error: string;
}
type Row = LoadResult | FailedRow;

const brokerName = (kind: Target['kind']): string => (kind === 'pantau' ? 'Pantau (embedded TimescaleDB)' : 'Mosquitto (bare)');

function loadTable(rows: Row[]): string[] {
  const results = rows.filter((r): r is LoadResult => !('error' in r));
  const mosquittoAt = new Map(results.filter((r) => r.kind === 'mosquitto').map((r) => [r.offeredPerS, r]));
  const lines = [
    `| broker | offered fixes/s | sent fixes/s | delivered fixes/s | vs Mosquitto | PUBACK p50 ms | p99 ms | max ms | gen skipped / lagged | engine loop p99 ms (worst 1 s) | writer queue max | CPU broker (main + db thread) | CPU generator | CPU machine of ${os.cpus().length * 100}% (other processes) | acked (whole run) | rows afterwards | loss |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if ('error' in r) {
      lines.push(`| ${brokerName(r.kind)} | ${int(r.offeredPerS)} | failed: ${r.error.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 300)} |${' |'.repeat(14)}`);
      continue;
    }
    const w = r.window;
    const m = mosquittoAt.get(r.offeredPerS);
    const ratio = r.kind === 'pantau' && m ? `${(r.deliveredPerS / m.deliveredPerS).toFixed(2)}x` : r.kind === 'mosquitto' ? 'baseline' : 'n/a';
    const cpu =
      r.kind === 'pantau'
        ? `${pct(r.targetCpu.totalPct)} (${pct(r.targetCpu.mainPct)} + ${pct(r.targetCpu.busiestOtherPct)})`
        : pct(r.targetCpu.totalPct);
    let loss = 'n/a (no store)';
    let rows = 'n/a';
    if (r.rows !== null) {
      rows = int(r.rows);
      const lost = Math.max(0, r.ackedTotal - r.rows);
      loss = lost === 0 ? '0' : `**${int(lost)}**`;
    }
    const acked = int(r.ackedTotal);
    lines.push(
      `| ${brokerName(r.kind)} | ${int(r.offeredPerS)} | ${int(r.sentPerS)} | **${int(r.deliveredPerS)}** | ${ratio} |` +
        ` ${ms(w.pubackLatencyMs.p50)} | ${ms(w.pubackLatencyMs.p99)} | ${ms(w.pubackLatencyMs.max)} | ${int(w.skipped)} / ${int(w.lagged)} |` +
        ` ${r.engineLagP99Ms === null ? 'n/a' : ms(r.engineLagP99Ms)} | ${r.writerQueueMaxRows === null ? 'n/a' : int(r.writerQueueMaxRows)} |` +
        ` ${cpu} | ${pct(r.generatorCpuPct)} | ${pct(r.machineCpuPct)} (${pct(otherCpuPct(r))}) | ${acked} | ${rows} | ${loss} |`,
    );
  }
  return lines;
}

function notes(results: LoadResult[]): string[] {
  const out: string[] = [];
  const pantau = results.filter((r) => r.kind === 'pantau').sort((a, b) => a.offeredPerS - b.offeredPerS);
  for (const r of pantau) {
    const extra = r.rows !== null ? r.rows - r.ackedTotal : 0;
    out.push(
      `- Pantau at ${int(r.offeredPerS)}/s: ${int(r.deliveredPerS)}/s delivered (${((r.deliveredPerS / r.offeredPerS) * 100).toFixed(1)}% of offered), ` +
        `p99 PUBACK ${ms(r.window.pubackLatencyMs.p99)} ms; commits ${r.commitMeanMs === null ? 'n/a' : ms(r.commitMeanMs)} ms mean of ${r.batchMeanRows === null ? 'n/a' : int(r.batchMeanRows)} rows; ` +
        `backpressure waits ${int(r.backpressureWaits ?? 0)}, dropped ${int(r.dropped ?? 0)}; ` +
        `rows committed during the window ${r.committedPerS === null ? 'n/a' : int(r.committedPerS)}/s; ` +
        `whole run: sent ${int(r.sentTotal)}, acked ${int(r.ackedTotal)}, rows ${r.rows === null ? 'n/a' : int(r.rows)} (rows - acked = ${int(extra)}; publishes failed ${int(r.failedTotal)}, unanswered at close ${int(r.unansweredAtClose)}); ` +
        `SIGTERM to exit ${r.engineStopMs === null ? 'n/a' : (r.engineStopMs / 1000).toFixed(1)} s` +
        (r.window.reconnects > 0 ? `; the generator's clients reconnected ${int(r.window.reconnects)} times` : '') +
        (r.machineStealPct >= 1 ? `; CPU steal by the hypervisor ${pct(r.machineStealPct)}` : '') +
        '.',
    );
  }
  // Targets (issue text): 10,000 fixes/s sustained, p99 PUBACK < 250 ms, zero loss, plateau above capacity.
  const at10k = pantau.find((r) => r.offeredPerS === 10_000);
  if (at10k) {
    const sustained = at10k.deliveredPerS >= 0.99 * 10_000;
    out.push(`- Target 10,000 fixes/s sustained: ${sustained ? 'met' : 'NOT met'} (${int(at10k.deliveredPerS)}/s).`);
    const p99ok = at10k.window.pubackLatencyMs.p99 < 250;
    out.push(`- Target p99 PUBACK < 250 ms at 10,000/s: ${p99ok ? 'met' : 'NOT met'} (${ms(at10k.window.pubackLatencyMs.p99)} ms).`);
  }
  if (pantau.length > 0) {
    const lossy = pantau.filter((r) => r.rows !== null && r.ackedTotal > r.rows);
    out.push(`- Target zero loss (every acknowledged fix in the database): ${lossy.length === 0 ? 'met at every rate' : `NOT met at ${lossy.map((r) => int(r.offeredPerS)).join(', ')}/s`}.`);
    let best = 0;
    const collapsed: string[] = [];
    for (const r of pantau) {
      if (best > 0 && r.deliveredPerS < 0.8 * best) collapsed.push(`${int(r.offeredPerS)}/s offered delivers ${int(r.deliveredPerS)}/s after ${int(best)}/s`);
      best = Math.max(best, r.deliveredPerS);
    }
    if (pantau.length > 1) out.push(`- Plateau above capacity (no rate below 80% of the best at a lower offer): ${collapsed.length === 0 ? 'holds' : 'COLLAPSES: ' + collapsed.join('; ')}.`);
  }
  for (const r of results) {
    if (otherCpuPct(r) >= NOISY_PCT) {
      out.push(
        `- ${r.kind} at ${int(r.offeredPerS)}/s: other processes used ${pct(otherCpuPct(r))} of the machine's CPU during the window` +
          (r.others ? ` (${r.others})` : '') +
          `${r.attempts > 1 ? `, the least of ${r.attempts} attempts` : ''}: this row measured a shared machine; rerun it on a quiet one.`,
      );
    }
    if (r.connectedAtStart < r.devices || r.connectedAtEnd < r.devices || r.window.reconnects > 0) {
      out.push(
        `- ${r.kind} at ${int(r.offeredPerS)}/s: ${int(r.connectedAtStart)} of ${int(r.devices)} devices were connected when the window began and ${int(r.connectedAtEnd)} when it ended ` +
          `(${int(r.window.reconnects)} reconnects, ${int(r.window.errors)} client errors during it): connections were refused or timed out under load.`,
      );
    }
    if (r.window.lagged > 0 || r.sentPerS < 0.98 * r.offeredPerS) {
      out.push(`- ${r.kind} at ${int(r.offeredPerS)}/s: the generator sent ${int(r.sentPerS)}/s (skipped ${int(r.window.skipped)} at its in-flight cap, lagged ${int(r.window.lagged)} behind its schedule): the offered load was not fully applied.`);
    }
  }
  return out;
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
  const started = new Date();
  const host = machine();
  const code = codeVersion();
  // Fail before the long runs when the comparison broker is missing: never skip it silently.
  const mosquitto = opts.only.has('mosquitto') ? findMosquitto() : null;
  const mosquittoVer = mosquitto ? await mosquittoVersion(mosquitto) : null;
  progress(`machine: ${host.line}; code: ${code.label}`);
  if (Object.keys(opts.engineEnv).length > 0) progress(`engine environment: ${JSON.stringify(opts.engineEnv)}`);
  progress(`plan: ${[...opts.only].join(', ')}; rates ${opts.ratesPerS.join(', ')}/s; ${opts.devices} devices; warm-up ${opts.warmupS} s; measure ${opts.durationS} s`);

  let geo: GeoResult | null = null;
  if (opts.only.has('geo')) {
    progress('geo: nearest/upsert micro benchmark on 100,000 vehicles');
    geo = runGeoNearest();
  }

  const meter = installPublishMeter();
  const plan: Array<{ kind: Target['kind']; rate: number }> = [];
  for (const rate of opts.ratesPerS) {
    if (opts.only.has('pantau')) plan.push({ kind: 'pantau', rate });
    if (mosquitto) plan.push({ kind: 'mosquitto', rate });
  }
  const rows: Row[] = [];
  const loadStart = performance.now();
  let firstAttemptsMs = 0;
  for (let i = 0; i < plan.length; i++) {
    const { kind, rate } = plan[i]!;
    const run = (): Promise<LoadResult> => (kind === 'pantau' ? runPantau(rate, opts, meter) : runMosquitto(mosquitto!, rate, opts, meter));
    const t0 = performance.now();
    let best: LoadResult;
    try {
      best = await run();
    } catch (err) {
      // One failed row must not cost the whole table.
      const error = err instanceof Error ? err.message : String(err);
      progress(`${kind} ${rate}/s failed: ${error}`);
      rows.push({ kind, offeredPerS: rate, error });
      continue;
    } finally {
      firstAttemptsMs += performance.now() - t0;
    }
    // Repeat a row disturbed by other processes, keeping the least disturbed attempt, as long as the
    // rows still to come (estimated from those so far) fit in about nine minutes of load.
    for (let attempt = 2; attempt <= opts.retryNoisy + 1 && otherCpuPct(best) >= NOISY_PCT; attempt++) {
      const rowMs = performance.now() - t0;
      const remainingMs = (firstAttemptsMs / (i + 1)) * (plan.length - i - 1);
      if (performance.now() - loadStart + rowMs + remainingMs > 9 * 60_000) {
        progress(`${kind} ${rate}/s: other processes took ${Math.round(otherCpuPct(best))}% of the CPU; no time left to measure it again`);
        break;
      }
      progress(`${kind} ${rate}/s: other processes took ${Math.round(otherCpuPct(best))}% of the CPU (${best.others || 'short-lived'}); measuring again`);
      try {
        const again = await run();
        again.attempts = attempt;
        best = otherCpuPct(again) < otherCpuPct(best) ? again : { ...best, attempts: attempt };
      } catch (err) {
        progress(`${kind} ${rate}/s: the repeat failed (${err instanceof Error ? err.message : String(err)}); keeping the first attempt`);
        best = { ...best, attempts: attempt };
      }
    }
    rows.push(best);
  }
  const results = rows.filter((r): r is LoadResult => !('error' in r));

  const finished = new Date();
  const codeChanged = code.fingerprint !== codeVersion().fingerprint;
  const out: string[] = [];
  out.push(`## Pantau benchmark, ${started.toISOString().slice(0, 10)}`);
  out.push('');
  out.push(`Machine: ${host.line}. Run ${started.toISOString()} to ${finished.toISOString()} (${((finished.getTime() - started.getTime()) / 60000).toFixed(1)} min). Code: ${code.label}.`);
  if (codeChanged) out.push('**The engine or simulator code changed while the benchmark ran: rows after the change measured other code. Rerun.**');
  if (rows.length > 0) {
    out.push(
      `Load: ${opts.devices} simulated vehicles (one MQTT connection each, default fleet mix, no sensors), QoS 1, one native JSON fix per publish, ` +
        `${opts.warmupS} s warm-up then ${opts.durationS} s measured per row; every engine and broker a fresh child process` +
        (mosquittoVer ? `; Mosquitto ${mosquittoVer} (Debian) with max_queued_messages 0, max_inflight_messages 0, persistence false.` : '.'),
    );
    if (Object.keys(opts.engineEnv).length > 0) out.push(`Engine environment beyond the defaults: ${Object.entries(opts.engineEnv).map(([k, v]) => `${k}=${v}`).join(', ')}.`);
    out.push('');
    out.push(...loadTable(rows));
    out.push('');
    out.push(...notes(results));
  }
  if (geo) {
    out.push('');
    out.push(...geoTable(geo));
    out.push('');
    out.push(`Items visited per nearest k=5: ${geo.itemsVisited.unfiltered.toFixed(1)} unfiltered, ${geo.itemsVisited.filtered.toFixed(1)} with the available-ambulance filter.`);
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
