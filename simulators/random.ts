// Seeded randomness for the simulators: the same seed gives the same city, fleet and readings.
// mulberry32 (Tommy Ettinger, public domain) for streams; a stateless integer hash for per-fix noise,
// so GPS noise depends only on (vehicle, seq) and not on how often anything else drew numbers.

/** Floats in [0, 1), the same sequence for the same 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit hash of a few integers (murmur3 finalizer over a running mix). */
export function hash32(a: number, b = 0, c = 0): number {
  let h = Math.imul((a | 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ (b | 0), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ (c | 0), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A float in [0, 1) determined by (a, b, c) alone. */
export function hashUniform(a: number, b = 0, c = 0): number {
  return hash32(a, b, c) / 4294967296;
}

/** Derives an independent stream seed, e.g. one per vehicle, from a master seed and an index. */
export function deriveSeed(seed: number, index: number, salt = 0): number {
  return hash32(seed, index, salt);
}

/** Convenience draws over a mulberry32 stream. */
export class Rng {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** uniform in [min, max) */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** integer in [min, max], both inclusive */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** standard normal (Box-Muller) */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** exponential with the given mean (waiting time of a Poisson process) */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}
