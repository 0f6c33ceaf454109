// Where a nearest request's server time goes, with nothing else running: the replica's API routes in a child process
// (bench/http-cost-server.ts) over 100,000 vehicles, asked by autocannon here. Rows: the trivial route; the trivial
// route after 10 us of CPU; the nearest route over an index that answers without searching (auth, query validation,
// handler and response: the least any index could cost); the nearest route itself. The server's CPU per request is
// read from /proc, so the client's own work on the same cores does not blur it.
//
//   npx tsx bench/http-cost.ts [--vehicles 100000] [--duration-s 8] [--connections 10]

import autocannon from 'autocannon';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { seededRandom } from '../test/helpers/seeded-random.ts';
import { BENCH_ADMIN_TOKEN, CLOCK_TICKS_PER_S, fromStdout, machineTicks, processTicks, startChild, stopChild, stampedLog, ticksToPct } from './proc.ts';

const log = stampedLog('http-cost');

export interface HttpCostOptions {
  vehicles: number;
  /** seconds per route, run in two mirrored halves */
  durationS: number;
  connections: number;
}

export const HTTP_COST_DEFAULTS: HttpCostOptions = { vehicles: 100_000, durationS: 8, connections: 10 };

export interface HttpCostRow {
  label: string;
  requests: number;
  reqPerS: number;
  /** server CPU (user + system) per request, microseconds */
  serverUs: number;
  /** the worse half's p99 */
  p99Ms: number;
  non2xx: number;
  /** CPU steal by the hypervisor during the row, % of the machine */
  stealPct: number;
}

export interface HttpCostResult {
  options: HttpCostOptions;
  rows: HttpCostRow[];
}

interface Route {
  label: string;
  request: autocannon.Request;
  acc: { requests: number; seconds: number; ticks: number; p99Ms: number; non2xx: number; steal: number };
}

export async function runHttpCostBench(opts: HttpCostOptions): Promise<HttpCostResult> {
  const server = startChild('api', process.execPath, ['--import', 'tsx', 'bench/http-cost-server.ts', String(opts.vehicles)], { ...process.env, NODE_OPTIONS: '' }, log);
  try {
    const port = await fromStdout(server, '"listening <port>" within 120 s', performance.now() + 120_000, (out) => {
      const found = /listening (\d+)/.exec(out)?.[1];
      return found ? Number(found) : null;
    });
    const url = `http://127.0.0.1:${port}`;
    const rand = seededRandom(42);
    const query = (): string => `lat=${(-6.37 + rand() * 0.28).toFixed(5)}&lon=${(106.68 + rand() * 0.3).toFixed(5)}&k=5&max_age_s=86400`;
    const auth = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };
    const probe = await fetch(`${url}/api/v1/vehicles/nearest?${query()}`, { headers: auth });
    const body = (await probe.json()) as { results?: unknown[] };
    if (probe.status !== 200 || body.results?.length !== 5) throw new Error(`a nearest request answered ${probe.status} with ${body.results?.length ?? 'no'} vehicles, expected 200 with 5`);
    const route = (label: string, request: autocannon.Request): Route => ({ label, request, acc: { requests: 0, seconds: 0, ticks: 0, p99Ms: 0, non2xx: 0, steal: 0 } });
    const routes = [
      route('GET /healthz (trivial route)', { method: 'GET', path: '/healthz' }),
      route('GET /spin?us=10 (/healthz\'s answer after 10 us of CPU)', { method: 'GET', path: '/spin?us=10' }),
      route('GET nearest over an index that answers without searching', { method: 'GET', headers: auth, setupRequest: (r) => ({ ...r, path: `/no-search/api/v1/vehicles/nearest?${query()}` }) }),
      route(`GET /api/v1/vehicles/nearest k=5 over ${opts.vehicles.toLocaleString('en')} vehicles`, { method: 'GET', headers: auth, setupRequest: (r) => ({ ...r, path: `/api/v1/vehicles/nearest?${query()}` }) }),
    ];
    // Warm the JIT on every route, then each route in two halves, mirrored, so that drift in the host hits all alike.
    for (const r of routes) await autocannon({ url, connections: opts.connections, duration: 1, requests: [r.request] });
    for (const r of [...routes, ...[...routes].reverse()]) await slice(r, url, server.pid, opts);
    return {
      options: opts,
      rows: routes.map(({ label, acc }) => ({
        label,
        requests: acc.requests,
        reqPerS: acc.requests / acc.seconds,
        serverUs: ((acc.ticks / CLOCK_TICKS_PER_S) * 1e6) / acc.requests,
        p99Ms: acc.p99Ms,
        non2xx: acc.non2xx,
        stealPct: ticksToPct(acc.steal, acc.seconds),
      })),
    };
  } finally {
    await stopChild(server, 10_000);
  }
}

async function slice(route: Route, url: string, pid: number, opts: HttpCostOptions): Promise<void> {
  const durationS = opts.durationS / 2;
  const ticks0 = processTicks(pid);
  const steal0 = machineTicks().steal;
  const t0 = performance.now();
  const result = await autocannon({ url, connections: opts.connections, duration: durationS, requests: [route.request] });
  const seconds = (performance.now() - t0) / 1000;
  const acc = route.acc;
  acc.requests += result.requests.total;
  acc.seconds += seconds;
  acc.ticks += processTicks(pid) - ticks0;
  acc.steal += machineTicks().steal - steal0;
  acc.p99Ms = Math.max(acc.p99Ms, result.latency.p99);
  acc.non2xx += result.non2xx + result.errors;
  log(`${route.label}, ${durationS} s: ${Math.round(result.requests.total / seconds)} req/s, p99 ${result.latency.p99} ms`);
}

const int = (n: number): string => Math.round(n).toLocaleString('en');

export function httpCostTable(r: HttpCostResult): string[] {
  const o = r.options;
  const [trivial, , noSearch, nearest] = r.rows;
  const lines = [
    `Server time per request, nothing else running: the replica's API routes in a child process over ${int(o.vehicles)} live vehicles (uniform over Jakarta, all available), ` +
      `autocannon with ${o.connections} connections from this process, ${o.durationS} s per route in two mirrored halves after 1 s of warm-up each; ` +
      `server CPU read from /proc (user + system, 10 ms ticks). Auth compares a constant token (the engine's token hash is left out).`,
    '',
    '| request | requests | req/s | vs trivial | server CPU per request | vs trivial | p99 ms | non-2xx / errors | CPU steal |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    const first = row === trivial;
    lines.push(
      `| ${row.label} | ${int(row.requests)} | **${int(row.reqPerS)}** | ${first ? 'baseline' : `${(row.reqPerS / trivial!.reqPerS).toFixed(2)}x`} | ` +
        `${row.serverUs.toFixed(1)} us | ${first ? 'baseline' : `${(row.serverUs / trivial!.serverUs).toFixed(2)}x`} | ${row.p99Ms} | ${row.non2xx} | ${row.stealPct.toFixed(0)}% |`,
    );
  }
  if (trivial && noSearch && nearest) {
    lines.push(
      '',
      `- 0.75x of the trivial route's req/s allows a nearest request about ${(trivial.serverUs / 0.75).toFixed(0)} us of server CPU here ` +
        `(${(trivial.serverUs / 0.75 - trivial.serverUs).toFixed(0)} us more than the trivial route). Without any search the route costs ${noSearch.serverUs.toFixed(0)} us ` +
        `(${(noSearch.reqPerS / trivial.reqPerS).toFixed(2)}x the req/s); the search adds ${(nearest.serverUs - noSearch.serverUs).toFixed(0)} us.`,
    );
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const arg = (flag: string, fallback: number): number => {
    const i = args.indexOf(flag);
    const n = i >= 0 ? Number(args[i + 1]) : fallback;
    if (!(n > 0)) throw new Error(`${flag} needs a number above 0`);
    return n;
  };
  const result = await runHttpCostBench({
    vehicles: arg('--vehicles', HTTP_COST_DEFAULTS.vehicles),
    durationS: arg('--duration-s', HTTP_COST_DEFAULTS.durationS),
    connections: arg('--connections', HTTP_COST_DEFAULTS.connections),
  });
  process.stdout.write(`${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, node ${process.version}\n\n${httpCostTable(result).join('\n')}\n`);
}
