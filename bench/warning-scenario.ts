// The early-warning latency benchmark's scenario (its constants and defaults), options and result;
// bench/warning.ts describes the benchmark, bench/warning-run.ts runs it, bench/warning-report.ts
// turns a result into tables and notes.

import type { CpuSplit } from './proc.ts';

// ---------------------------------------------------------------------------------------------
// Options and result

export interface WarningBenchOptions {
  sensors: number;
  subscribers: number;
  /** measured seconds (crossings happen only in this window) */
  durationS: number;
  /** every sensor's reading interval */
  intervalS: number;
  crossingsPerS: number;
  seed: number;
  /** normal load before the window (default one interval) */
  warmupS?: number;
  /** after the last resolve, how long deliveries may still arrive (default 10) */
  graceS?: number;
  /** a crossing sensor stays above SIAGA_3 at least this long (default one interval) */
  holdS?: number;
  /** MQTT connections opened at once (default 200) */
  connectBatch?: number;
  /** parallel HTTP provisioning requests (default 16) */
  provisionConcurrency?: number;
  /** child processes holding the subscribers' MQTT sessions and stamping their receipts (default 2) */
  receivers?: number;
  /** extra environment for the engine child */
  engineEnv?: Record<string, string>;
  /** node flags for the engine child (run.ts --engine-prof) */
  engineNodeArgs?: string[];
  /** progress lines (default: stderr) */
  log?: (line: string) => void;
}

export interface LatencyStats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface StageStats {
  name: string;
  ms: LatencyStats;
}

export interface WarningBenchResult {
  options: Required<Omit<WarningBenchOptions, 'log' | 'engineEnv' | 'engineNodeArgs'>> & { engineEnv: Record<string, string> };
  machine: string;
  startedAt: string;
  finishedAt: string;
  setup: {
    engineStartS: number;
    subscribersCreateS: number;
    subscribersConnectS: number;
    sensorsCreateS: number;
    thresholdsS: number;
    sensorsConnectS: number;
    subscribersConnected: number;
    sensorsConnected: number;
  };
  windowS: number;
  readings: {
    /** scheduled normal readings and crossings per second of the window */
    offeredPerS: number;
    sentPerS: number;
    ackedPerS: number;
    /** whole run */
    skippedDisconnected: number;
    skippedInflight: number;
    failed: number;
    pubackMs: LatencyStats;
    /** scheduled publishes sent more than 100 ms after their due time (the generator lagged) */
    lagged: number;
  };
  alerts: {
    crossings: number;
    /** from the engine's /metrics over the window and drain */
    raised: number;
    resolved: number;
    /** whole run */
    offlineRaised: number;
    stuckRaised: number;
    otherChanges: number;
    /** crossings whose affected circle meets no subscriber */
    withoutRecipients: number;
    recipientsMean: number;
  };
  deliveries: {
    expected: number;
    received: number;
    missed: number;
    /** crossings with at least one missed delivery */
    alertsMissing: number;
    duplicates: number;
    /** delivered to a subscriber the brute force did not expect */
    unexpected: number;
    /** raised deliveries that match no crossing of this run */
    unmatched: number;
    otherEvents: Record<string, number>;
  };
  /** per delivery: receipt - wall time just before the crossing publish */
  latencyMs: LatencyStats;
  /** per alert: the first and the last of its expected subscribers (last only over alerts fully delivered) */
  firstMs: LatencyStats;
  lastMs: LatencyStats;
  resolved: { expected: number; received: number; latencyMs: LatencyStats };
  /** one row per crossing: s after the run's first crossing and after the engine was ready, recipients, first / last delivery ms (null: none) */
  perAlert: Array<{ atS: number; engineS: number; sensor: string; expected: number; received: number; firstMs: number | null; lastMs: number | null; resolveReceived: number; resolveFirstMs: number | null; resolveLastMs: number | null }>;
  /** PUBACK of the crossing reading itself (the reading's durable commit) */
  crossingPubackMs: LatencyStats;
  /** where a delivery's time goes, from the engine's database after it stopped; null when unreadable */
  stages: StageStats[] | null;
  stagesNote: string;
  engine: {
    cpu: CpuSplit;
    rssMiB: number | null;
    peakRssMiB: number | null;
    loopP99MaxMs: number;
    mqttClients: number;
    readingCommitMeanMs: number | null;
    readingCommits: number;
    stopS: number;
    exit: number | string;
    killed: boolean;
  };
  bench: { cpuPct: number; rssMiB: number; loopP99Ms: number; loopMaxMs: number };
  machineCpu: { totalPct: number; otherPct: number; stealPct: number; others: string };
}


/** the scenario: 5,000 sensors every 10 s, 10,000 subscribers, one crossing a second for a minute */
export const WARNING_DEFAULTS: WarningBenchOptions = { sensors: 5000, subscribers: 10_000, durationS: 60, intervalS: 10, crossingsPerS: 1, seed: 1 };

// ---------------------------------------------------------------------------------------------
// Constants of the scenario

export const BOX = { minLon: 106.7, maxLon: 106.98, minLat: -6.35, maxLat: -6.1 } as const;
export const LEVELS = [
  { name: 'SIAGA_3', value: 100 },
  { name: 'SIAGA_2', value: 200 },
  { name: 'SIAGA_1', value: 300 },
];
export const HYSTERESIS = 5;
export const AFFECTED_RADIUS_M = 1500;
export const SUB_RADIUS_M = { min: 300, max: 1000 };
export const NORMAL_CM = { mean: 50, sd: 5 };
export const CROSSING_CM = { min: 110, max: 190 };
export const EARTH_RADIUS_M = 6_371_008.8; // as geo/distance.ts
export const MAX_INFLIGHT_PER_SENSOR = 10;

/** nearest-rank percentiles, max and mean of a sample; NaN when empty */
export function latencyStats(values: readonly number[]): LatencyStats {
  if (values.length === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { count: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1]!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}
