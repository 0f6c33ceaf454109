// Rolling per-pollutant averages for one air-quality station, feeding ISPU (domain README: ISPU is
// computed from a configured averaging window per pollutant, default 24 h; an hourly value beside it).
//
// Memory bound: samples are merged into per-minute buckets (sum + count), and a bucket is dropped once its
// start is at or before (latest time seen - retention), retention = max(window, 1 h) so that hourly() always
// has its data. So a pollutant holds at most ceil(retention / 1 min) live buckets (1,440 for 24 h) whatever
// the report rate, plus evicted slots awaiting compaction (at most as many as the live ones, or 64).
// Eviction is for good: asking about an earlier time later does not bring evicted minutes back.
// Resolution: a bucket counts while its start lies in (now - span, now], i.e. an average covers the last
// span/1 min minutes, the current one included (whole minutes, so an hour is 60 buckets, not 61).
// Cost: add and evict are O(1) amortised through running sums; a late sample costs a binary search and
// an array insert of at most ~1,440 slots; nothing rescans the window per reading.

import { ISPU_POLLUTANTS, type IspuPollutant } from './ispu.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface WindowAverage {
  /** mean of the samples in the span, ug/m3 */
  readonly avg: number;
  /** number of samples (not buckets) */
  readonly count: number;
  /** start of the oldest minute bucket that contributes (data coverage, minute resolution) */
  readonly fromMs: number;
}

/** Running sum/count over buckets [idx, length) of a series, for one span (the window, or the hour). */
interface Cursor {
  readonly spanMs: number;
  idx: number;
  sum: number;
  count: number;
}

const COMPACT_MIN_DEAD = 64;

class Series {
  // Parallel arrays of minute buckets, ascending by minute; [0, head) are evicted slots.
  private minute: number[] = [];
  private sum: number[] = [];
  private count: number[] = [];
  private head = 0;
  private latestMs = -Infinity;
  private readonly retentionMs: number;
  readonly window: Cursor;
  readonly hour: Cursor;
  private readonly cursors: readonly Cursor[];

  constructor(windowMs: number) {
    this.retentionMs = Math.max(windowMs, HOUR_MS);
    this.window = { spanMs: windowMs, idx: 0, sum: 0, count: 0 };
    this.hour = { spanMs: HOUR_MS, idx: 0, sum: 0, count: 0 };
    this.cursors = [this.window, this.hour];
  }

  get liveBuckets(): number {
    return this.minute.length - this.head;
  }

  get storedBuckets(): number {
    return this.minute.length;
  }

  add(value: number, tsMs: number): void {
    const m = Math.floor(tsMs / MINUTE_MS);
    if (tsMs > this.latestMs) this.latestMs = tsMs;
    // Too late to matter: its bucket would be evicted at once.
    if (m * MINUTE_MS <= this.latestMs - this.retentionMs) return;
    const n = this.minute.length;
    let pos: number;
    if (n > this.head && (this.minute[n - 1] as number) < m) {
      pos = n; // the common case: a new newest minute
    } else {
      pos = this.lowerBound(m);
    }
    if (pos < n && this.minute[pos] === m) {
      this.sum[pos] = (this.sum[pos] as number) + value;
      this.count[pos] = (this.count[pos] as number) + 1;
    } else {
      this.minute.splice(pos, 0, m);
      this.sum.splice(pos, 0, value);
      this.count.splice(pos, 0, 1);
      for (const c of this.cursors) if (pos < c.idx) c.idx++; // inserted before the cursor: outside its span
    }
    for (const c of this.cursors) {
      if (pos >= c.idx) {
        c.sum += value;
        c.count++;
      }
    }
    this.evict();
  }

  /** Average over the buckets starting in (nowMs - span, nowMs]. */
  query(c: Cursor, nowMs: number): WindowAverage | null {
    if (nowMs > this.latestMs) {
      this.latestMs = nowMs;
      this.evict();
    }
    const lowMs = nowMs - c.spanMs;
    const n = this.minute.length;
    // Move the cursor to the first bucket starting inside the span; both ways, so an earlier nowMs also works.
    while (c.idx < n && (this.minute[c.idx] as number) * MINUTE_MS <= lowMs) {
      c.sum -= this.sum[c.idx] as number;
      c.count -= this.count[c.idx] as number;
      c.idx++;
    }
    while (c.idx - 1 >= this.head && (this.minute[c.idx - 1] as number) * MINUTE_MS > lowMs) {
      c.idx--;
      c.sum += this.sum[c.idx] as number;
      c.count += this.count[c.idx] as number;
    }
    if (c.count === 0) c.sum = 0; // drop accumulated float drift when the span empties
    // Buckets after nowMs (queried with an earlier clock than the data) are left out of this answer only.
    let sum = c.sum;
    let count = c.count;
    for (let j = n - 1; j >= c.idx && (this.minute[j] as number) * MINUTE_MS > nowMs; j--) {
      sum -= this.sum[j] as number;
      count -= this.count[j] as number;
    }
    if (count <= 0 || c.idx >= n) return null;
    return { avg: sum / count, count, fromMs: (this.minute[c.idx] as number) * MINUTE_MS };
  }

  private lowerBound(m: number): number {
    let lo = this.head;
    let hi = this.minute.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.minute[mid] as number) < m) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private evict(): void {
    const cutoffMs = this.latestMs - this.retentionMs;
    const n = this.minute.length;
    while (this.head < n && (this.minute[this.head] as number) * MINUTE_MS <= cutoffMs) {
      for (const c of this.cursors) {
        if (c.idx === this.head) {
          c.sum -= this.sum[this.head] as number;
          c.count -= this.count[this.head] as number;
          c.idx++;
        }
      }
      this.head++;
    }
    if (this.head >= COMPACT_MIN_DEAD && this.head * 2 >= n) this.compact();
  }

  /** Drop evicted slots and recompute the running sums (amortised O(1): runs after >= n/2 evictions). */
  private compact(): void {
    const h = this.head;
    this.minute = this.minute.slice(h);
    this.sum = this.sum.slice(h);
    this.count = this.count.slice(h);
    this.head = 0;
    for (const c of this.cursors) {
      c.idx = Math.max(0, c.idx - h);
      c.sum = 0;
      c.count = 0;
      for (let j = c.idx; j < this.minute.length; j++) {
        c.sum += this.sum[j] as number;
        c.count += this.count[j] as number;
      }
    }
  }
}

/** Rolling averages per pollutant for one station. Times are epoch ms; values ug/m3. */
export class AirWindow {
  private readonly windowsMs: Partial<Record<IspuPollutant, number>>;
  private readonly defaultWindowMs: number;
  private readonly series = new Map<IspuPollutant, Series>();

  constructor(windowsMs: Partial<Record<IspuPollutant, number>> = {}, defaultWindowMs: number = DAY_MS) {
    checkWindow('default window', defaultWindowMs);
    for (const [p, w] of Object.entries(windowsMs)) {
      checkPollutant(p);
      checkWindow(`window of ${p}`, w);
    }
    this.windowsMs = { ...windowsMs };
    this.defaultWindowMs = defaultWindowMs;
  }

  /** Averaging window of a pollutant, ms. */
  windowMs(pollutant: IspuPollutant): number {
    return this.windowsMs[pollutant] ?? this.defaultWindowMs;
  }

  /** Add a sample; late samples are inserted in order, samples older than the retention are dropped. */
  add(pollutant: IspuPollutant, value: number, tsMs: number): void {
    checkPollutant(pollutant);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`AirWindow ${pollutant}: expected a finite concentration >= 0 ug/m3, got ${String(value)}`);
    }
    if (typeof tsMs !== 'number' || !Number.isFinite(tsMs)) {
      throw new RangeError(`AirWindow ${pollutant}: expected a finite epoch-ms timestamp, got ${String(tsMs)}`);
    }
    let s = this.series.get(pollutant);
    if (!s) {
      s = new Series(this.windowMs(pollutant));
      this.series.set(pollutant, s);
    }
    s.add(value, tsMs);
  }

  /** Average over the pollutant's window ending at nowMs, or null without samples in it. */
  average(pollutant: IspuPollutant, nowMs: number): WindowAverage | null {
    checkNow(nowMs);
    const s = this.series.get(pollutant);
    return s ? s.query(s.window, nowMs) : null;
  }

  /** Average over the last hour ending at nowMs (shown beside the window average, labelled hourly). */
  hourly(pollutant: IspuPollutant, nowMs: number): WindowAverage | null {
    checkNow(nowMs);
    const s = this.series.get(pollutant);
    return s ? s.query(s.hour, nowMs) : null;
  }

  /** Window averages of every pollutant with samples in its window; input for stationIspu. */
  averages(nowMs: number): Partial<Record<IspuPollutant, number>> {
    const out: Partial<Record<IspuPollutant, number>> = {};
    for (const p of ISPU_POLLUTANTS) {
      const a = this.average(p, nowMs);
      if (a) out[p] = a.avg;
    }
    return out;
  }

  /** Buckets held for a pollutant (live, and including evicted slots awaiting compaction); for tests and metrics. */
  bucketsHeld(pollutant: IspuPollutant): { live: number; stored: number } {
    const s = this.series.get(pollutant);
    return s ? { live: s.liveBuckets, stored: s.storedBuckets } : { live: 0, stored: 0 };
  }
}

function checkPollutant(p: string): asserts p is IspuPollutant {
  if (!(ISPU_POLLUTANTS as readonly string[]).includes(p)) {
    throw new RangeError(`AirWindow: expected a pollutant among ${ISPU_POLLUTANTS.join(', ')}, got ${String(p)}`);
  }
}

function checkWindow(what: string, ms: number | undefined): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(`AirWindow ${what}: expected a finite duration > 0 ms, got ${String(ms)}`);
  }
}

function checkNow(nowMs: number): void {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    throw new RangeError(`AirWindow: expected a finite epoch-ms time, got ${String(nowMs)}`);
  }
}
