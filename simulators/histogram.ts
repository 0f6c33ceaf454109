// Latency histogram with ~1% relative precision in constant memory: log-spaced buckets over
// microseconds, so millions of PUBACK samples cost one array increment each.

const RATIO = 1.01;
const LOG_RATIO = Math.log(RATIO);
/** covers 1 us .. ~2 h */
const BUCKETS = 2300;

export class LatencyHistogram {
  private counts = new Float64Array(BUCKETS);
  private total = 0;
  private maxMs = 0;

  record(ms: number): void {
    const us = ms * 1000;
    const i = us <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(us) / LOG_RATIO));
    this.counts[i]!++;
    this.total++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  get count(): number {
    return this.total;
  }

  /** The q-quantile (0..1) in ms, as the upper edge of its bucket; 0 when empty. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxMs, RATIO ** i / 1000);
    }
    return this.maxMs;
  }

  get max(): number {
    return this.maxMs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxMs = 0;
  }
}
