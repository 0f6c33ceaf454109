// Early-warning latency benchmark (issue: "5,000 sensors reporting every 10 s and 10,000 subscribers:
// latency from a threshold-crossing reading to the subscriber's MQTT delivery, p50/p99. Target p99 < 50 ms").
//
//   npx tsx bench/warning.ts --sensors 5000 --subscribers 10000 --duration-s 60
//                            [--interval-s 10] [--crossings-per-s 1] [--seed 1] [--warmup-s S] [--grace-s 10]
//                            [--hold-s S] [--connect-batch 200] [--receivers 2] [--engine-env K=V] [--json FILE]
//
// The engine runs as a child process (`node bin/pantau.js serve`, ports 0, embedded TimescaleDB in a
// temporary PANTAU_DATA_DIR, deleted afterwards). This process provisions `water_level` sensors with
// thresholds and subscribers through the HTTP API and connects each sensor over MQTT with its own
// credentials (a sensor may publish only its own readings: broker/acl.ts refuses an operator that
// speaks for a device); the subscribers connect the same way from `--receivers` child processes
// (bench/warning-receivers.ts), which stamp each receipt, so this process's own pauses (its heap holds
// the sensors) do not delay them. Then:
// - every sensor publishes a normal reading every `intervalS`, phases spread evenly, QoS 1;
// - `crossingsPerS` times a second a random sensor that is not alerting publishes a reading above
//   SIAGA_3 (the wall time just before the publish is the start of the latency); it stays high until
//   its first scheduled reading `holdS` later, which is normal again and resolves the alert;
// - each subscriber records when a `raised` delivery for that reading arrives (the alert's `since`
//   is the reading's `ts`, so each delivery is matched to its crossing exactly).
// Expected recipients are computed by brute force (haversine between centres <= 1500 m + the
// subscriber's radius) and compared with what arrived. After the engine exits its database is read
// to split each delivery's latency into stages (deliveries.created_at, delivery_attempts).
//
// Part of `npm run bench` (section `warning`, the last); alone, as above. Progress goes to stderr;
// stdout gets the tables. The run is bench/warning-run.ts, its options, result and scenario constants
// bench/warning-scenario.ts, the tables and notes bench/warning-report.ts; this file re-exports them.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killChildrenOnSignal } from './proc.ts';
import { warningNotes, warningTable } from './warning-report.ts';
import { runWarningBench } from './warning-run.ts';
import { WARNING_DEFAULTS, type WarningBenchOptions } from './warning-scenario.ts';

export { runWarningBench } from './warning-run.ts';
export { warningNotes, warningTable } from './warning-report.ts';
export { latencyStats, WARNING_DEFAULTS, type LatencyStats, type StageStats, type WarningBenchOptions, type WarningBenchResult } from './warning-scenario.ts';

// ---------------------------------------------------------------------------------------------
// Standalone

const USAGE = `usage: npx tsx bench/warning.ts [flags]
  --sensors N          water_level sensors, one MQTT connection each (default 5000)
  --subscribers N      subscribers, one persistent MQTT session each (default 10000)
  --duration-s S       measured seconds with crossings (default 60)
  --interval-s S       each sensor's reading interval (default 10)
  --crossings-per-s R  threshold crossings per second (default 1)
  --seed N             places, radii, noise and picks (default 1)
  --warmup-s S         normal load before the window (default one interval)
  --hold-s S           a crossing sensor stays high this long before resolving (default one interval)
  --grace-s S          wait for deliveries after the last resolve (default 10)
  --connect-batch N    MQTT connections opened at once (default 200)
  --receivers N        child processes holding the subscribers and stamping their receipts (default 2)
  --engine-env K=V     extra environment variable for the engine (repeatable)
  --engine-node-arg A  a node flag for the engine child, e.g. --cpu-prof (repeatable)
  --json FILE          also write the whole result as JSON`;

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): { opts: WarningBenchOptions; json: string | null } {
  const opts: WarningBenchOptions = { ...WARNING_DEFAULTS, engineEnv: {} };
  let json: string | null = null;
  const num = (flag: string, raw: string | undefined, integer: boolean, allowZero = false): number => {
    const v = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0) || (integer && !Number.isInteger(v))) {
      throw new UsageError(`${flag} needs a ${integer ? 'whole ' : ''}number ${allowZero ? '>= 0' : 'above 0'}, got "${raw ?? ''}"`);
    }
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    if (name === '--help' || name === '-h') throw new UsageError('');
    const value = name !== arg ? arg.slice(eq + 1) : argv[++i];
    switch (name) {
      case '--sensors': opts.sensors = num(name, value, true); break;
      case '--subscribers': opts.subscribers = num(name, value, true); break;
      case '--duration-s': opts.durationS = num(name, value, false); break;
      case '--interval-s': opts.intervalS = num(name, value, false); break;
      case '--crossings-per-s': opts.crossingsPerS = num(name, value, false); break;
      case '--seed': opts.seed = num(name, value, true, true); break;
      case '--warmup-s': opts.warmupS = num(name, value, false, true); break;
      case '--hold-s': opts.holdS = num(name, value, false, true); break;
      case '--grace-s': opts.graceS = num(name, value, false, true); break;
      case '--connect-batch': opts.connectBatch = num(name, value, true); break;
      case '--receivers': opts.receivers = num(name, value, true); break;
      case '--json':
        if (!value) throw new UsageError('--json needs a file name');
        json = value;
        break;
      case '--engine-node-arg':
        if (!value) throw new UsageError('--engine-node-arg needs a node flag, e.g. --cpu-prof');
        (opts.engineNodeArgs ??= []).push(value);
        break;
      case '--engine-env': {
        const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(value ?? '');
        if (!m) throw new UsageError(`--engine-env takes NAME=VALUE, got "${value ?? ''}"`);
        opts.engineEnv![m[1]!] = m[2]!;
        break;
      }
      default:
        throw new UsageError(`unknown flag "${arg}"`);
    }
  }
  return { opts, json };
}

async function main(): Promise<void> {
  let parsed: { opts: WarningBenchOptions; json: string | null };
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write((err.message ? `bench/warning: ${err.message}\n\n` : '') + USAGE + '\n');
    process.exit(err.message ? 2 : 0);
  }
  killChildrenOnSignal('bench/warning');
  const r = await runWarningBench(parsed.opts);
  if (parsed.json) fs.writeFileSync(parsed.json, JSON.stringify(r, null, 2) + '\n');
  const out = [
    `## Early-warning latency, ${r.startedAt.slice(0, 10)}`,
    '',
    `Machine: ${r.machine}. Run ${r.startedAt} to ${r.finishedAt}. Engine: \`pantau serve\` child process, embedded TimescaleDB.`,
    '',
    ...warningTable(r),
    '',
    ...warningNotes(r),
  ];
  process.stdout.write(out.join('\n') + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`bench/warning: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}

