// One sensor's condition evaluator: threshold status with hysteresis and minimum duration, rate of rise,
// stuck values and offline detection (CONTRACT.md, PUT /sensors/{id}/thresholds; domain/README.md, flood gates).
// Pure: no I/O, no timers, no Date.now; every time is passed in as epoch ms.

export const NORMAL = 'NORMAL';

export interface ThresholdLevel {
  name: string;
  /** null = not configured: skipped, never treated as 0 (domain/README.md) */
  value: number | null;
}

export interface GaugeConfig {
  /** ascending by value among the configured ones */
  levels: ThresholdLevel[];
  /** same unit as the metric */
  hysteresis: number;
  /** a new status (up or down) must hold this long, by reading timestamps, before it is taken */
  minDurationS: number;
  /** null = rate-of-rise alert off */
  rateOfRisePer10min: number | null;
  /** offline after 3 x this with no reading */
  expectedIntervalS: number;
  /** same value for this many consecutive readings -> stuck (0 = off) */
  stuckReadings: number;
  /** or the same value for this long (0 = off) */
  stuckSpanS: number;
}

export type GaugeChange =
  | { kind: 'status'; from: string; to: string; value: number; ts: number }
  | { kind: 'rate_of_rise'; active: boolean; ratePer10min: number; value: number; ts: number }
  | { kind: 'stuck'; active: boolean; value: number; ts: number; sinceTs: number; readings: number }
  | { kind: 'offline'; active: boolean; ts: number; lastTs: number | null };

export interface GaugeRestore {
  status?: string;
  lastTs?: number;
  lastValue?: number;
  offline?: boolean;
  stuck?: boolean;
  rising?: boolean;
}

const RATE_WINDOW_MS = 600_000;
/** a rate over less than a minute is noise, not a trend */
const RATE_MIN_SPAN_MS = 60_000;
const OFFLINE_INTERVALS = 3;

interface Level {
  name: string;
  value: number;
  /** NORMAL is 0; configured levels 1..n in ascending order */
  rank: number;
}

interface Sample {
  ts: number;
  value: number;
}

/** Throws a RangeError naming the first problem; returns the configured levels with their ranks. */
export function validateGaugeConfig(config: GaugeConfig): Level[] {
  const names = new Set<string>();
  const configured: Level[] = [];
  for (const level of config.levels) {
    if (typeof level.name !== 'string' || level.name === '') throw new RangeError('level name must be a non-empty string');
    if (level.name === NORMAL) throw new RangeError(`level name ${NORMAL} is reserved for "below every level"`);
    if (names.has(level.name)) throw new RangeError(`level ${level.name} appears twice`);
    names.add(level.name);
    if (level.value === null) continue;
    if (!Number.isFinite(level.value)) throw new RangeError(`level ${level.name}: value must be a finite number or null`);
    const prev = configured[configured.length - 1];
    // Equal values would make the lower level unreachable.
    if (prev && level.value <= prev.value) {
      throw new RangeError(`levels must ascend: ${level.name} (${level.value}) is not above ${prev.name} (${prev.value})`);
    }
    configured.push({ name: level.name, value: level.value, rank: configured.length + 1 });
  }
  const nonNegative = (name: string, v: number): void => {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  };
  nonNegative('hysteresis', config.hysteresis);
  nonNegative('minDurationS', config.minDurationS);
  nonNegative('stuckSpanS', config.stuckSpanS);
  if (config.rateOfRisePer10min !== null && !(Number.isFinite(config.rateOfRisePer10min) && config.rateOfRisePer10min > 0)) {
    throw new RangeError(`rateOfRisePer10min must be null (off) or a finite number > 0, got ${config.rateOfRisePer10min}`);
  }
  if (!(Number.isFinite(config.expectedIntervalS) && config.expectedIntervalS > 0)) {
    throw new RangeError(`expectedIntervalS must be a finite number > 0, got ${config.expectedIntervalS}`);
  }
  // 1 would flag every single reading as stuck.
  if (!Number.isInteger(config.stuckReadings) || config.stuckReadings < 0 || config.stuckReadings === 1) {
    throw new RangeError(`stuckReadings must be 0 (off) or an integer >= 2, got ${config.stuckReadings}`);
  }
  return configured;
}

export class GaugeEvaluator {
  private config: GaugeConfig;
  private levels: Level[];
  private readonly sinceMs: number;

  private statusName: string;
  /** a change being timed for minDurationS: its direction and the first reading pointing that way */
  private pending: { up: boolean; sinceTs: number } | null = null;

  private last: Sample | null = null;
  /** lastTs restored without a value: still orders readings and times offline */
  private restoredTs: number | null = null;
  private isOffline: boolean;

  /** readings of the last 10 minutes (from `head` on), for the rate of rise */
  private window: Sample[] = [];
  private head = 0;
  private isRising: boolean;

  /** the current run of identical values */
  private run: { value: number; sinceTs: number; readings: number } | null = null;
  private isStuck: boolean;

  constructor(config: GaugeConfig, nowMs: number, restore: GaugeRestore = {}) {
    this.levels = validateGaugeConfig(config);
    this.config = config;
    this.sinceMs = nowMs;
    // A restored status that names no configured level has no band: the next reading takes its raw level.
    this.statusName = restore.status ?? NORMAL;
    this.isOffline = restore.offline ?? false;
    this.isStuck = restore.stuck ?? false;
    this.isRising = restore.rising ?? false;
    if (restore.lastTs !== undefined && restore.lastValue !== undefined) {
      this.last = { ts: restore.lastTs, value: restore.lastValue };
      this.window.push(this.last);
      // The restored run length is a lower bound: earlier identical readings are not known.
      this.run = { value: restore.lastValue, sinceTs: restore.lastTs, readings: 1 };
    } else if (restore.lastTs !== undefined) {
      this.restoredTs = restore.lastTs; // a value without its ts is not usable and is ignored
    }
  }

  get status(): string {
    return this.statusName;
  }
  get offline(): boolean {
    return this.isOffline;
  }
  get stuck(): boolean {
    return this.isStuck;
  }
  get rising(): boolean {
    return this.isRising;
  }
  get lastTs(): number | null {
    return this.last?.ts ?? this.restoredTs;
  }
  get lastValue(): number | null {
    return this.last?.value ?? null;
  }

  /**
   * One reading; readings arrive in ts order and an older-or-equal ts is ignored (returns [], changes nothing).
   * Changes come in this order: offline cleared, status, rate of rise, stuck.
   */
  reading(value: number, tsMs: number): GaugeChange[] {
    if (!Number.isFinite(value) || !Number.isFinite(tsMs)) throw new RangeError(`reading must be finite: ${value} @ ${tsMs}`);
    const prevTs = this.lastTs;
    if (prevTs !== null && tsMs <= prevTs) return [];
    const changes: GaugeChange[] = [];

    if (this.isOffline) {
      this.isOffline = false;
      // lastTs: the last reading before the gap, so the gap's length is known.
      changes.push({ kind: 'offline', active: false, ts: tsMs, lastTs: prevTs });
    }
    this.last = { ts: tsMs, value };
    this.restoredTs = null;

    this.judgeStatus(value, tsMs, changes);

    this.pushWindow(this.last);
    this.judgeRate(value, tsMs, changes);

    if (this.run && this.run.value === value) {
      this.run.readings++;
    } else {
      // Without a known run (restored stuck, no value) the first reading starts one and the flag stays.
      if (this.isStuck && this.run) {
        this.isStuck = false;
        // sinceTs/readings describe the run that just ended.
        changes.push({ kind: 'stuck', active: false, value, ts: tsMs, sinceTs: this.run.sinceTs, readings: this.run.readings });
      }
      this.run = { value, sinceTs: tsMs, readings: 1 };
    }
    this.judgeStuck(tsMs, changes);
    return changes;
  }

  /** Offline detection on the wall clock; min duration is judged on reading timestamps only, so not here. */
  tick(nowMs: number): GaugeChange[] {
    if (this.isOffline) return [];
    const lastTs = this.lastTs;
    if (nowMs - (lastTs ?? this.sinceMs) <= OFFLINE_INTERVALS * this.config.expectedIntervalS * 1000) return [];
    this.isOffline = true;
    return [{ kind: 'offline', active: true, ts: nowMs, lastTs }];
  }

  /**
   * New thresholds: the last value is re-judged at once (no min-duration wait; hysteresis only within the new
   * levels, using the current status's new value). Rate and stuck are re-judged against the new limits.
   * Without a last value the status stays until the next reading.
   */
  configure(config: GaugeConfig, nowMs: number): GaugeChange[] {
    this.levels = validateGaugeConfig(config);
    this.config = config;
    this.pending = null; // timed against the old levels
    const changes: GaugeChange[] = [];
    const last = this.last;
    if (!last) return changes;
    const to = this.candidate(last.value);
    if (to !== this.statusName) {
      changes.push({ kind: 'status', from: this.statusName, to, value: last.value, ts: nowMs });
      this.statusName = to;
    }
    this.judgeRate(last.value, nowMs, changes);
    this.judgeStuck(nowMs, changes, last.ts, true);
    return changes;
  }

  /** highest configured level whose value <= reading, else NORMAL */
  private rawLevel(value: number): Level {
    let found: Level = { name: NORMAL, value: -Infinity, rank: 0 };
    for (const level of this.levels) {
      if (level.value > value) break;
      found = level;
    }
    return found;
  }

  private rankOf(name: string): number | undefined {
    if (name === NORMAL) return 0;
    return this.levels.find((l) => l.name === name)?.rank;
  }

  /**
   * The status a value points to from the current status S:
   * - at or above S: its raw level (escalation has no hysteresis);
   * - below S: S holds while value >= S.value - hysteresis; below that it falls to the highest level L
   *   with value >= L.value - hysteresis (the lowest status whose band still holds it), else NORMAL.
   *   E.g. levels 80/150, hysteresis 5, S = 150-level: 146 holds, 144 and 77 fall to the 80-level, 74 to NORMAL.
   */
  private candidate(value: number): string {
    const raw = this.rawLevel(value);
    const current = this.rankOf(this.statusName);
    if (current === undefined || raw.rank >= current) return raw.name;
    let held: Level | null = null;
    for (const level of this.levels) {
      if (value < level.value - this.config.hysteresis) break;
      held = level;
    }
    if (held && held.rank >= current) return this.statusName;
    return held?.name ?? NORMAL;
  }

  private judgeStatus(value: number, tsMs: number, changes: GaugeChange[]): void {
    const to = this.candidate(value);
    if (to === this.statusName) {
      this.pending = null; // a reading back at the current status cancels a pending change
      return;
    }
    const current = this.rankOf(this.statusName);
    const target = this.rankOf(to) ?? 0;
    // A status that names no configured level (stale restore) is replaced at once.
    if (current !== undefined && this.config.minDurationS > 0) {
      const up = target > current;
      if (!this.pending || this.pending.up !== up) this.pending = { up, sinceTs: tsMs };
      if (tsMs - this.pending.sinceTs < this.config.minDurationS * 1000) return;
    }
    this.pending = null;
    changes.push({ kind: 'status', from: this.statusName, to, value, ts: tsMs });
    this.statusName = to;
  }

  private pushWindow(sample: Sample): void {
    this.window.push(sample);
    const oldestMs = sample.ts - RATE_WINDOW_MS;
    while (this.head < this.window.length && this.window[this.head]!.ts < oldestMs) this.head++;
    // Compact now and then so memory stays bounded by the window.
    if (this.head > 32 && this.head * 2 > this.window.length) {
      this.window = this.window.slice(this.head);
      this.head = 0;
    }
  }

  /** per 10 min, from the oldest reading inside the window to the newest; null when under 2 readings or 60 s */
  private ratePer10min(): number | null {
    const oldest = this.window[this.head];
    const newest = this.window[this.window.length - 1];
    if (!oldest || !newest || newest.ts - oldest.ts < RATE_MIN_SPAN_MS) return null;
    return ((newest.value - oldest.value) * RATE_WINDOW_MS) / (newest.ts - oldest.ts);
  }

  private judgeRate(value: number, tsMs: number, changes: GaugeChange[]): void {
    const threshold = this.config.rateOfRisePer10min;
    const rate = this.ratePer10min();
    if (threshold === null) {
      if (this.isRising) {
        this.isRising = false;
        changes.push({ kind: 'rate_of_rise', active: false, ratePer10min: rate ?? 0, value, ts: tsMs });
      }
      return;
    }
    if (rate === null) return; // too few readings to judge: keep the state
    if (!this.isRising && rate >= threshold) {
      this.isRising = true;
      changes.push({ kind: 'rate_of_rise', active: true, ratePer10min: rate, value, ts: tsMs });
    } else if (this.isRising && rate < threshold / 2) {
      // Clearing at half the threshold keeps a rate hovering around the threshold from flapping.
      this.isRising = false;
      changes.push({ kind: 'rate_of_rise', active: false, ratePer10min: rate, value, ts: tsMs });
    }
  }

  /**
   * Raises stuck when the run qualifies; the span runs to the run's last reading (runEndTs), tsMs stamps the
   * change. Readings clear it only at a different value (in reading()); a reconfiguration clears it only when
   * stuck detection is turned off, since a restored run's length is only a lower bound.
   */
  private judgeStuck(tsMs: number, changes: GaugeChange[], runEndTs: number = tsMs, reconfigured = false): void {
    const run = this.run;
    if (!run) return;
    const { stuckReadings, stuckSpanS } = this.config;
    const off = stuckReadings === 0 && stuckSpanS === 0;
    const qualifies =
      (stuckReadings > 0 && run.readings >= stuckReadings) || (stuckSpanS > 0 && runEndTs - run.sinceTs >= stuckSpanS * 1000);
    const stuckNow = this.isStuck ? !(reconfigured && off) : qualifies;
    if (stuckNow === this.isStuck) return;
    this.isStuck = stuckNow;
    changes.push({ kind: 'stuck', active: stuckNow, value: run.value, ts: tsMs, sinceTs: run.sinceTs, readings: run.readings });
  }
}
