// Process plumbing shared by the benchmarks (bench/run.ts and its sections in bench/ingest.ts,
// bench/http.ts, bench/dispatch.ts, bench/warning*.ts): the machine and code line, CPU and memory
// from /proc, child processes (the engine among them), and the engine's Prometheus text.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** the admin token of every engine child the benchmarks start (each in a fresh data directory) */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** other processes' share of the machine's CPU (% of one core) from which a measurement counts as disturbed */
export const NOISY_PCT = 15;

/** a line on stderr as it is */
const toStderr = (line: string): void => void process.stderr.write(`${line}\n`);

/** Progress lines on stderr as "[tag HH:MM:SS] line". */
export const stampedLog =
  (tag: string) =>
  (line: string): void =>
    void process.stderr.write(`[${tag} ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Machine and code

export function machine(): { line: string; cpuModel: string; cores: number; memGiB: number } {
  const cpus = os.cpus();
  const cpuModel = (cpus[0]?.model ?? 'unknown CPU').trim();
  const memGiB = os.totalmem() / 2 ** 30;
  const line = `${cpuModel}, ${cpus.length} cores, ${memGiB.toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}, node ${process.version}`;
  return { line, cpuModel, cores: cpus.length, memGiB };
}

/** The engine code measured: commit, whether the working tree differs, and a fingerprint to notice edits during the run. */
export function codeVersion(): { label: string; fingerprint: string } {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  try {
    const head = git('rev-parse', '--short', 'HEAD').trim();
    const dirs = ['engine', 'store', 'ingest', 'broker', 'geo', 'api', 'warning', 'cctv', 'simulators', 'package.json', 'package-lock.json'];
    const changes = git('status', '--porcelain', '--', ...dirs).trim();
    const fingerprint = createHash('sha1').update(head).update(git('diff', 'HEAD', '--', ...dirs)).update(changes).digest('hex');
    return { label: `commit ${head}${changes ? ' with uncommitted changes' : ''}`, fingerprint };
  } catch {
    return { label: 'not a git checkout', fingerprint: '' };
  }
}

// ---------------------------------------------------------------------------------------------
// CPU and memory from /proc (Linux; elsewhere the readers return nothing)

export const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** ticks over a span of elapsedS seconds, in % of one core */
export const ticksToPct = (ticks: number, elapsedS: number): number => (ticks / CLOCK_TICKS_PER_S / elapsedS) * 100;

export type ThreadTicks = Map<number, { comm: string; ticks: number }>;

/** CPU ticks (user + system) per thread of a process; empty when unreadable. */
export function threadTicks(pid: number): ThreadTicks {
  const out: ThreadTicks = new Map();
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

export interface CpuSplit {
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

export function cpuBetween(pid: number, before: ThreadTicks, after: ThreadTicks, elapsedS: number): CpuSplit {
  const pct = (ticks: number): number => ticksToPct(ticks, elapsedS);
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

/** CPU ticks (user + system, all threads) of a process; null when unreadable (gone). */
function readProcessTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** CPU ticks (user + system, all threads) of a process; 0 when unavailable. */
export const processTicks = (pid: number): number => readProcessTicks(pid) ?? 0;

/** Whole-machine CPU ticks from /proc/stat: busy (everything but idle and iowait) and steal. */
export function machineTicks(): { busy: number; steal: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busy: user + nice + system + irq + softirq + steal, steal };
  } catch {
    return { busy: 0, steal: 0 };
  }
}

/** CPU ticks of every process on the machine, to name what else ran during a span. */
export function allProcessTicks(): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    const ticks = readProcessTicks(Number(pid));
    if (ticks !== null) out.set(Number(pid), ticks);
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

/** The busiest processes other than `exclude` between two samples: "command (pct)", at most three of 5% or more. */
export function otherProcesses(before: Map<number, number>, after: Map<number, number>, exclude: ReadonlySet<number>, elapsedS: number): string {
  const rows: Array<[number, number]> = [];
  for (const [pid, ticks] of after) {
    if (exclude.has(pid)) continue;
    const d = ticks - (before.get(pid) ?? 0);
    if (d > 0) rows.push([pid, d]);
  }
  return rows
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .filter(([, d]) => ticksToPct(d, elapsedS) >= 5)
    .map(([pid, d]) => `${commandOf(pid)} (${Math.round(ticksToPct(d, elapsedS))}%)`)
    .join(', ');
}

/** CPU over a window, in % of one core: one process by thread, this (the bench) process, the machine and what else ran. */
export interface WindowCpu {
  target: CpuSplit;
  /** this process and its helper processes */
  selfPct: number;
  /** the whole machine (up to cores x 100) and its steal part */
  machinePct: number;
  stealPct: number;
  /** the busiest processes other than the target and this one */
  others: string;
}

/**
 * Starts measuring the CPU of process `pid` by thread, of this process (with its helper processes `mine`)
 * and of the machine; call the result with the window's length to end it.
 */
export function windowCpuMeter(pid: number, mine: readonly number[] = []): (elapsedS: number) => WindowCpu {
  const threads0 = threadTicks(pid);
  const host0 = machineTicks();
  const procs0 = allProcessTicks();
  const self0 = process.cpuUsage();
  const mineTicks = () => mine.reduce((a, p) => a + processTicks(p), 0);
  const mine0 = mineTicks();
  return (elapsedS) => {
    const target = cpuBetween(pid, threads0, threadTicks(pid), elapsedS);
    const self = process.cpuUsage(self0);
    const host1 = machineTicks();
    const others = otherProcesses(procs0, allProcessTicks(), new Set([pid, process.pid, ...mine]), elapsedS);
    return {
      target,
      selfPct: ((self.user + self.system) / 1e6 / elapsedS) * 100 + ticksToPct(mineTicks() - mine0, elapsedS),
      machinePct: ticksToPct(host1.busy - host0.busy, elapsedS),
      stealPct: ticksToPct(host1.steal - host0.steal, elapsedS),
      others,
    };
  };
}

/** CPU over a span, in % of one core: named processes, the whole machine, and what else took the rest */
export interface CpuSpan {
  /** label -> % of one core */
  byProcess: Record<string, number>;
  machinePct: number;
  /** the machine minus the named processes: other work on the machine, and the kernel */
  othersPct: number;
  /** the busiest other processes, "command (pct)", at most three of 5% or more */
  others: string;
  seconds: number;
}

/** Starts measuring CPU of the given processes (this one included as "self"); call the result to end the span. */
export function cpuMeter(pids: Record<string, number>): () => CpuSpan {
  const t0 = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processTicks(pid)]));
  const self0 = process.cpuUsage();
  const m0 = machineTicks().busy;
  const all0 = allProcessTicks();
  return () => {
    const s = (performance.now() - t0) / 1000;
    const byProcess: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pids)) byProcess[k] = ticksToPct(processTicks(pid) - before[k]!, s);
    const self = process.cpuUsage(self0);
    byProcess.self = ((self.user + self.system) / 1e6 / s) * 100;
    const machinePct = ticksToPct(machineTicks().busy - m0, s);
    const named = Object.values(byProcess).reduce((a, b) => a + b, 0);
    const others = otherProcesses(all0, allProcessTicks(), new Set([process.pid, ...Object.values(pids)]), s);
    return { byProcess, machinePct, othersPct: Math.max(0, machinePct - named), others, seconds: s };
  };
}

/** Resident memory of a process now and at its peak (VmRSS, VmHWM), MiB; null when unreadable. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = kb('VmRSS');
    const peak = kb('VmHWM');
    return Number.isFinite(rss) ? { rssMiB: rss / 1024, peakMiB: Number.isFinite(peak) ? peak / 1024 : rss / 1024 } : null;
  } catch {
    return null;
  }
}

/** Resident memory of a process and all its descendants (the engine's database may be a thread or a child), MiB. */
export function treeRssMiB(pid: number): number | null {
  const own = memoryOf(pid);
  if (!own) return null;
  let total = own.rssMiB;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const children = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      for (const c of children ? children.split(/\s+/).map(Number) : []) total += treeRssMiB(c) ?? 0;
    }
  } catch {
    // no children file (older kernels): the process alone
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** every child the benchmarks started and that still runs: killed if the bench is interrupted, and when it exits */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const proc of liveChildren) proc.kill('SIGKILL');
});

/** Counts `proc` among the bench's children until it exits; resolves with its exit code (or signal name). */
export function trackChild(proc: ChildProcess): Promise<number | string> {
  liveChildren.add(proc);
  return new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      liveChildren.delete(proc);
      resolve(code ?? signal ?? -1);
    });
  });
}

/** SIGKILLs every child still running; returns how many. */
export function killBenchChildren(): number {
  const n = liveChildren.size;
  for (const proc of liveChildren) proc.kill('SIGKILL');
  return n;
}

/** On SIGINT or SIGTERM: kill every child, say so as `label`, exit 130. */
export function killChildrenOnSignal(label: string): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const n = killBenchChildren();
      process.stderr.write(`${label}: ${signal}; stopped ${n} child process(es)\n`);
      process.exit(130);
    });
  }
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** resolves with the exit code (or the signal name) */
  exited: Promise<number | string>;
  stdout: () => string;
  /** the last lines of stderr, for error messages */
  tail: () => string;
}

export interface StopResult {
  code: number | string;
  ms: number;
  killed: boolean;
}

/** Spawns a child in the repository root; the first 40 lines of its stderr go to `log` as "  [name] line". */
export function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void = toStderr): Child {
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`could not start ${name}: ${command} ${args.join(' ')}`);
  const exited = trackChild(proc);
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
        log(`  [${name}] ${line.slice(0, 400)}`);
      } else suppressed++;
    }
  });
  void exited.then(() => {
    if (suppressed > 0) log(`  [${name}] (${suppressed} more stderr lines not shown)`);
  });
  return { name, proc, pid: proc.pid, exited, stdout: () => out, tail: () => tail.join('\n') };
}

/**
 * Polls a starting child's stdout until `read` finds what it prints once ready (a port, say); throws, with the
 * child's last stderr lines, when the child exits first or `deadline` (a performance.now() time) passes.
 */
export async function fromStdout<T>(child: Child, what: string, deadline: number, read: (out: string) => T | null): Promise<T> {
  while (true) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`the ${child.name} exited with ${child.proc.exitCode ?? child.proc.signalCode} while starting:\n${child.tail()}`);
    }
    if (performance.now() > deadline) throw new Error(`the ${child.name} did not print ${what} in time:\n${child.tail()}`);
    const found = read(child.stdout());
    if (found !== null) return found;
    await sleep(50);
  }
}

/** SIGTERM, then SIGKILL after timeoutMs. */
export async function stopChild(child: Child, timeoutMs: number): Promise<StopResult> {
  const t0 = performance.now();
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return { code: child.proc.exitCode ?? child.proc.signalCode!, ms: 0, killed: false };
  child.proc.kill('SIGTERM');
  const code = await Promise.race([child.exited, sleep(timeoutMs).then(() => null)]);
  if (code !== null) return { code, ms: performance.now() - t0, killed: false };
  child.proc.kill('SIGKILL');
  return { code: await child.exited, ms: performance.now() - t0, killed: true };
}

// ---------------------------------------------------------------------------------------------
// The engine as a child: `node bin/pantau.js serve`

export interface EngineChildOptions {
  dataDir: string;
  /** for its forwarded stderr lines (default "engine") */
  name?: string;
  /** extra environment (run.ts --engine-env) */
  env?: Record<string, string>;
  /** node flags before the script (run.ts --engine-prof: --cpu-prof ...) */
  nodeArgs?: string[];
  /** its first stderr lines and a kill by stop() (default: stderr) */
  log?: (line: string) => void;
}

export interface EngineChild {
  child: Child;
  pid: number;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** mqtt://127.0.0.1:PORT */
  mqttUrl: string;
  metricsUrl: string;
  /** from spawn to /readyz answering 200 */
  startMs: number;
  /** "engine pid N ready in S s (mqtt P, http P, data DIR)", for a progress line */
  ready: string;
  /** the last lines of its stderr */
  tail(): string;
  /** SIGTERM, then SIGKILL after timeoutMs (default 60 s), which it reports through the log */
  stop(timeoutMs?: number): Promise<StopResult>;
}

/**
 * `node bin/pantau.js serve` as a child process: the given data directory, ports chosen by the
 * engine (0) and read from what it prints, BENCH_ADMIN_TOKEN, log level warn, no external database
 * or Redis; resolves once /readyz answers 200.
 */
export async function startEngineChild(opts: EngineChildOptions): Promise<EngineChild> {
  const log = opts.log ?? toStderr;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PANTAU_MQTT_PORT: '0',
    PANTAU_HTTP_PORT: '0',
    PANTAU_HOST: '127.0.0.1',
    PANTAU_DATA_DIR: opts.dataDir,
    PANTAU_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    PANTAU_LOG_LEVEL: 'warn',
    ...opts.env,
  };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'PANTAU_ALLOW_ANONYMOUS', 'NODE_OPTIONS']) delete env[k];
  const t0 = performance.now();
  const child = startChild(opts.name ?? 'engine', process.execPath, [...(opts.nodeArgs ?? []), 'bin/pantau.js', 'serve'], env, log);
  const stop = async (timeoutMs = 60_000): Promise<StopResult> => {
    const stopped = await stopChild(child, timeoutMs);
    if (stopped.killed) log(`the engine did not exit within ${Math.round(timeoutMs / 1000)} s of SIGTERM and was killed`);
    return stopped;
  };
  try {
    // `pantau serve` prints its addresses once listening (engine/cli.ts); PANTAU_HOST keeps them numeric.
    const deadline = performance.now() + 120_000;
    const [mqttPort, httpPort] = await fromStdout(child, 'its ports within 120 s', deadline, (out) => {
      const mqtt = /mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      const http = /http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(out)?.[1];
      return mqtt && http ? [Number(mqtt), Number(http)] : null;
    });
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    await untilReady(child, 'engine', httpUrl, deadline);
    const startMs = performance.now() - t0;
    return {
      child,
      pid: child.pid,
      httpUrl,
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      metricsUrl: `${httpUrl}/metrics`,
      startMs,
      ready: `engine pid ${child.pid} ready in ${(startMs / 1000).toFixed(1)} s (mqtt ${mqttPort}, http ${httpPort}, data ${opts.dataDir})`,
      tail: child.tail,
      stop,
    };
  } catch (err) {
    await stop(10_000);
    throw err;
  }
}

/** Polls the child's /readyz until 200; throws with its stderr's tail when it exits or the deadline passes. */
async function untilReady(child: Child, what: string, httpUrl: string, deadline: number): Promise<void> {
  while ((await fetch(`${httpUrl}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (child.proc.exitCode !== null) throw new Error(`the ${what} exited with code ${child.proc.exitCode}:\n${child.tail()}`);
    if (performance.now() > deadline) throw new Error(`the ${what} was not ready within 120 s:\n${child.tail()}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// An API replica as a child: `node bin/pantau.js replica`, following an engine child

export interface ReplicaChild {
  child: Child;
  pid: number;
  httpUrl: string;
  /** from spawn to /readyz answering 200 (the engine's fleet read and the live topic subscribed) */
  startMs: number;
  stop(timeoutMs?: number): Promise<StopResult>;
}

export async function startReplicaChild(engine: EngineChild, opts: { log?: (line: string) => void; nodeArgs?: string[] } = {}): Promise<ReplicaChild> {
  const log = opts.log ?? toStderr;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PANTAU_HTTP_PORT: '0',
    PANTAU_HOST: '127.0.0.1',
    PANTAU_ENGINE_URL: engine.httpUrl,
    PANTAU_ENGINE_MQTT_URL: engine.mqttUrl,
    PANTAU_REPLICA_TOKEN: BENCH_ADMIN_TOKEN,
    PANTAU_LOG_LEVEL: 'warn',
  };
  for (const k of ['NODE_OPTIONS']) delete env[k];
  const t0 = performance.now();
  const child = startChild('replica', process.execPath, [...(opts.nodeArgs ?? []), 'bin/pantau.js', 'replica'], env, log);
  const stop = (timeoutMs = 30_000) => stopChild(child, timeoutMs);
  try {
    const deadline = performance.now() + 120_000;
    const port = await fromStdout(child, 'its port within 120 s', deadline, (out) => {
      const found = /http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(out)?.[1];
      return found ? Number(found) : null;
    });
    const httpUrl = `http://127.0.0.1:${port}`;
    await untilReady(child, 'replica', httpUrl, deadline);
    return { child, pid: child.pid, httpUrl, startMs: performance.now() - t0, stop };
  } catch (err) {
    await stop(10_000);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Prometheus text from the engine

export type Samples = Map<string, number>;

/** `name{labels} value` lines into a map keyed by `name{labels}` exactly as written (`name` alone without labels). */
export function parseProm(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) out.set(line.slice(0, space), value);
  }
  return out;
}

/** One scrape of a /metrics URL; null when it did not answer 200 within 5 s. */
export async function scrape(url: string): Promise<Samples | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    return parseProm(await res.text());
  } catch {
    return null;
  }
}

/** a series' value, 0 when absent */
export const sample = (m: Samples | null, key: string): number => m?.get(key) ?? 0;

/** Sum of every series of a metric whose labels contain all of `labels` (e.g. 'event="raised"'). */
export function sampleSum(m: Samples | null, name: string, ...labels: string[]): number {
  let total = 0;
  for (const [k, v] of m ?? []) {
    if (k !== name && !k.startsWith(`${name}{`)) continue;
    if (labels.every((l) => k.includes(l))) total += v;
  }
  return total;
}

/** samples from the engine's /metrics (one scrape), keyed `name` or `name{labels}` exactly as written; NaN when absent */
export async function metrics<K extends string>(httpUrl: string, names: readonly K[]): Promise<Record<K, number>> {
  const found = await scrape(`${httpUrl}/metrics`);
  const out = {} as Record<K, number>;
  for (const name of names) out[name] = found?.get(name) ?? NaN;
  return out;
}

/** one sample from the engine's /metrics; null when absent */
export async function metric(httpUrl: string, name: string): Promise<number | null> {
  const v = (await metrics(httpUrl, [name]))[name];
  return v === undefined || Number.isNaN(v) ? null : v;
}
