// `pantau simulate`: the load generator. N vehicles at HZ fixes/s each (phases spread evenly, so the
// total offered rate N*HZ is smooth) and M sensors, against Pantau or, with --no-provision, any broker.

import type { FleetSize } from './city.ts';
import { runCity, runSimulation, type SimLogger, type SimulationHandle, type SimulationStats } from './runner.ts';

export interface SimulateOptions {
  vehicles: number;
  sensors: number;
  /** fixes per second per vehicle */
  rateHz: number;
  /** MQTT broker URL */
  url: string;
  /** HTTP API base URL; null when not provisioning */
  apiUrl: string | null;
  adminToken: string | null;
  provision: boolean;
  seed: number;
  /** stop after this many seconds; null runs until stopped */
  durationS: number | null;
  qos: 0 | 1;
  username: string | null;
  password: string | null;
  /** prepended to device ids so load devices never take over the demo's (default "load-") */
  idPrefix: string;
  sensorIntervalS: number;
  rampS: number;
  statsIntervalS: number;
  help: boolean;
  /** the demo's city (realistic fleet and stations) rather than uniform load */
  city: boolean;
}

export class SimulateArgsError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message);
    this.name = 'SimulateArgsError';
  }
}

export const SIMULATE_USAGE = `Usage: pantau simulate [flags]
  --vehicles N          vehicles (default 100)
  --sensors M           sensor stations (default 0)
  --rate HZ             fixes per second per vehicle (default 1); offered total = N * HZ
  --url URL             MQTT broker, mqtt://HOST:PORT (default mqtt://127.0.0.1:1883)
  --api URL             Pantau HTTP API for provisioning (default http://HOST:8080 of --url)
  --token TOKEN         admin token for provisioning (default $PANTAU_ADMIN_TOKEN)
  --no-provision        do not provision; connect anonymously or with --username/--password
  --username U          MQTT username (with --no-provision)
  --password P          MQTT password (with --no-provision)
  --seed S              random seed (default 1)
  --duration S          stop after S seconds (default: run until Ctrl-C)
  --qos 0|1             publish QoS (default 1)
  --prefix P            device id prefix (default "load-")
  --sensor-interval S   seconds between sensor readings (default 60)
  --ramp S              spread connection opening over S seconds (default 1.5)
  --stats-interval S    seconds between progress lines (default 5)
  --city                the demo's city instead of uniform load: the Jakarta fleet (80 ambulances,
                        300 garbage trucks, 100 Pasukan Biru trucks) and the 27 stations; takes
                        --url, --api, --token, --seed, --duration, --stats-interval`;

type FlagKind = 'value' | 'switch';
const FLAGS: Record<string, FlagKind> = {
  '--vehicles': 'value',
  '--sensors': 'value',
  '--rate': 'value',
  '--url': 'value',
  '--api': 'value',
  '--token': 'value',
  '--no-provision': 'switch',
  '--username': 'value',
  '--password': 'value',
  '--seed': 'value',
  '--duration': 'value',
  '--qos': 'value',
  '--prefix': 'value',
  '--sensor-interval': 'value',
  '--ramp': 'value',
  '--stats-interval': 'value',
  '--help': 'switch',
  '--city': 'switch',
};

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new SimulateArgsError(flag, `${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function positiveNumber(flag: string, raw: string, max: number, what: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) {
    throw new SimulateArgsError(flag, `${flag} must be ${what} greater than 0 and at most ${max}, got "${raw}"`);
  }
  return n;
}

function urlWith(flag: string, raw: string, protocols: readonly string[], example: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new SimulateArgsError(flag, `${flag} must be a URL like ${example}, got "${raw}"`);
  }
  if (!protocols.includes(u.protocol) || u.hostname === '') {
    throw new SimulateArgsError(flag, `${flag} must be a URL like ${example} (${protocols.map((p) => p + '//').join(', ')}), got "${raw}"`);
  }
  return u;
}

/**
 * Parses the arguments after `simulate` (both `--flag value` and `--flag=value`). Throws
 * SimulateArgsError naming the offending flag. The admin token defaults to env.PANTAU_ADMIN_TOKEN.
 */
export function parseSimulateArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): SimulateOptions {
  const raw = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      switches.add('--help');
      continue;
    }
    if (!arg.startsWith('--')) throw new SimulateArgsError(arg, `unexpected argument "${arg}"; flags look like --vehicles 100 (see --help)`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const kind = FLAGS[name];
    if (!kind) throw new SimulateArgsError(name, `unknown flag ${name} (see --help)`);
    if (kind === 'switch') {
      if (eq >= 0) throw new SimulateArgsError(name, `${name} takes no value`);
      switches.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new SimulateArgsError(name, `${name} needs a value`);
      i++;
    }
    if (raw.has(name)) throw new SimulateArgsError(name, `${name} given twice`);
    raw.set(name, value);
  }

  const help = switches.has('--help');
  const provision = !switches.has('--no-provision');
  const vehicles = raw.has('--vehicles') ? wholeNumber('--vehicles', raw.get('--vehicles')!, 0, 100_000) : 100;
  const sensors = raw.has('--sensors') ? wholeNumber('--sensors', raw.get('--sensors')!, 0, 100_000) : 0;
  const rateHz = raw.has('--rate') ? positiveNumber('--rate', raw.get('--rate')!, 1000, 'fixes per second per vehicle') : 1;
  const urlRaw = raw.get('--url') ?? 'mqtt://127.0.0.1:1883';
  const url = urlWith('--url', urlRaw, ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'], 'mqtt://HOST:PORT');
  const seed = raw.has('--seed') ? wholeNumber('--seed', raw.get('--seed')!, -2_147_483_648, 4_294_967_295) : 1;
  const durationS = raw.has('--duration') ? positiveNumber('--duration', raw.get('--duration')!, 31_536_000, 'a number of seconds') : null;
  const qosRaw = raw.get('--qos') ?? '1';
  if (qosRaw !== '0' && qosRaw !== '1') throw new SimulateArgsError('--qos', `--qos must be 0 or 1, got "${qosRaw}"`);
  const sensorIntervalS = raw.has('--sensor-interval') ? positiveNumber('--sensor-interval', raw.get('--sensor-interval')!, 86_400, 'a number of seconds') : 60;
  const rampRaw = raw.get('--ramp');
  let rampS = 1.5;
  if (rampRaw !== undefined) {
    rampS = Number(rampRaw);
    if (rampRaw.trim() === '' || !Number.isFinite(rampS) || rampS < 0 || rampS > 600) {
      throw new SimulateArgsError('--ramp', `--ramp must be a number of seconds from 0 to 600, got "${rampRaw}"`);
    }
  }
  const statsIntervalS = raw.has('--stats-interval') ? positiveNumber('--stats-interval', raw.get('--stats-interval')!, 3600, 'a number of seconds') : 5;
  const idPrefix = raw.get('--prefix') ?? 'load-';
  if (!/^[A-Za-z0-9_.-]*$/.test(idPrefix)) {
    throw new SimulateArgsError('--prefix', `--prefix may contain only letters, digits, "_", "." and "-" (it becomes part of MQTT topics), got "${idPrefix}"`);
  }
  const username = raw.get('--username') ?? null;
  const password = raw.get('--password') ?? null;

  if (!help && vehicles === 0 && sensors === 0) throw new SimulateArgsError('--vehicles', '--vehicles and --sensors are both 0: nothing to simulate');
  if (password !== null && username === null) throw new SimulateArgsError('--password', '--password needs --username');

  let apiUrl: string | null = null;
  let adminToken: string | null = null;
  if (provision) {
    if (username !== null) {
      throw new SimulateArgsError('--username', '--username/--password apply only with --no-provision; provisioned devices connect with their own tokens');
    }
    // CONTRACT.md: the HTTP API listens on PANTAU_HTTP_PORT, 8080 by default.
    apiUrl = raw.has('--api')
      ? urlWith('--api', raw.get('--api')!, ['http:', 'https:'], 'http://HOST:PORT').toString().replace(/\/+$/, '')
      : `http://${url.hostname}:8080`;
    adminToken = raw.get('--token') ?? env.PANTAU_ADMIN_TOKEN ?? null;
    if (!help && (adminToken === null || adminToken === '')) {
      throw new SimulateArgsError('--token', '--token (or PANTAU_ADMIN_TOKEN) is required to provision devices; or pass --no-provision to connect anonymously or with --username/--password');
    }
  } else {
    if (raw.has('--api')) throw new SimulateArgsError('--api', '--api is only used for provisioning; drop it or drop --no-provision');
    if (raw.has('--token')) throw new SimulateArgsError('--token', '--token is only used for provisioning; with --no-provision use --username/--password');
  }

  return {
    vehicles,
    sensors,
    rateHz,
    url: urlRaw,
    apiUrl,
    adminToken,
    provision,
    seed,
    durationS,
    qos: qosRaw === '1' ? 1 : 0,
    username,
    password,
    idPrefix,
    sensorIntervalS,
    rampS,
    statsIntervalS,
    help,
    city: switches.has('--city'),
  };
}

/** Splits N vehicles in the proportions of the default Jakarta fleet (80 : 300 : 100, domain/README.md). */
export function splitFleet(n: number): FleetSize {
  const ambulance = Math.round((n * 80) / 480);
  const blue = Math.round((n * 100) / 480);
  return { ambulance, garbage_truck: n - ambulance - blue, blue_crew_truck: blue };
}

/** Starts the load generator; stops by itself after durationS when given (await handle.done). */
export async function runSimulate(opts: SimulateOptions, logger: SimLogger): Promise<SimulationHandle> {
  const handle = opts.city
    ? await runCity({ mqttUrl: opts.url, apiUrl: opts.apiUrl ?? undefined, adminToken: opts.adminToken ?? undefined, seed: opts.seed, log: logger })
    : await runSimulation({
        mqttUrl: opts.url,
        apiUrl: opts.apiUrl ?? undefined,
        adminToken: opts.adminToken ?? undefined,
        provision: opts.provision,
        username: opts.username ?? undefined,
        password: opts.password ?? undefined,
        seed: opts.seed,
        fleet: splitFleet(opts.vehicles),
        sensors: opts.sensors,
        sensorIntervalMs: opts.sensorIntervalS * 1000,
        vehicleRateHz: opts.rateHz,
        qos: opts.qos,
        idPrefix: opts.idPrefix,
        rampMs: opts.rampS * 1000,
        logger,
      });
  if (opts.durationS !== null) {
    const timer = setTimeout(() => void handle.stop(), opts.durationS * 1000);
    void handle.done.then(() => clearTimeout(timer));
  }
  return handle;
}

/** One progress line: totals, rates over the last interval and PUBACK latency. */
export function formatStats(now: SimulationStats, prev: SimulationStats | null, intervalMs: number): string {
  const perS = (a: number, b: number | undefined) => Math.round(((a - (b ?? 0)) * 1000) / Math.max(1, intervalMs));
  const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
  return (
    `simulate ${(now.elapsedMs / 1000).toFixed(1)}s` +
    ` connected ${now.connected}/${now.devices}` +
    ` | sent ${now.sent} (${perS(now.sent, prev?.sent)}/s)` +
    ` acked ${now.acked} (${perS(now.acked, prev?.acked)}/s)` +
    ` | puback p50 ${ms(now.pubackLatencyMs.p50)} ms p99 ${ms(now.pubackLatencyMs.p99)} ms max ${ms(now.pubackLatencyMs.max)} ms` +
    ` | inflight ${now.inflight} skipped ${now.skipped} lagged ${now.lagged} errors ${now.errors}`
  );
}

/** Prints formatStats every intervalMs until the simulation stops or the returned function is called. */
export function printStats(
  handle: SimulationHandle,
  opts: { intervalMs?: number; write?: (line: string) => void } = {},
): () => void {
  const intervalMs = opts.intervalMs ?? 5000;
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  let prev: SimulationStats | null = null;
  let prevAt = performance.now();
  const timer = setInterval(() => {
    const now = handle.stats();
    const at = performance.now();
    // After resetStats() the counters restart; rates then count from zero.
    const base = prev && prev.sent <= now.sent ? prev : null;
    write(formatStats(now, base, base ? at - prevAt : now.elapsedMs));
    prev = now;
    prevAt = at;
  }, intervalMs);
  const stop = () => clearInterval(timer);
  void handle.done.then(stop);
  return stop;
}

/**
 * The whole `pantau simulate` command: parse, run, print progress, stop on SIGINT/SIGTERM or after
 * --duration, print a final line. Resolves the process exit code (2 for bad arguments).
 */
export async function simulateCommand(
  argv: readonly string[],
  io: { logger: SimLogger; write?: (line: string) => void; writeError?: (line: string) => void },
): Promise<number> {
  const write = io.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const writeError = io.writeError ?? ((line: string) => process.stderr.write(line + '\n'));
  let opts: SimulateOptions;
  try {
    opts = parseSimulateArgs(argv);
  } catch (err) {
    if (err instanceof SimulateArgsError) {
      writeError(`pantau simulate: ${err.message}\n\n${SIMULATE_USAGE}`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    write(SIMULATE_USAGE);
    return 0;
  }
  let handle: SimulationHandle;
  try {
    handle = await runSimulate(opts, io.logger);
  } catch (err) {
    writeError(`pantau simulate: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const stopPrinting = printStats(handle, { intervalMs: opts.statsIntervalS * 1000, write });
  const onSignal = () => void handle.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await handle.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  stopPrinting();
  write(formatStats(handle.stats(), null, handle.stats().elapsedMs));
  return 0;
}
