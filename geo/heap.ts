// A binary min-heap of values keyed by a number, in parallel arrays (after mourner/flatqueue).
// `tieBreak` orders values whose keys are equal, so results built from the heap are deterministic.

export class MinHeap<T> {
  private readonly values: (T | undefined)[] = [];
  private readonly keys: number[] = [];
  private n = 0;

  constructor(private readonly tieBreak?: (a: T, b: T) => number) {}

  get length(): number {
    return this.n;
  }

  clear(): void {
    this.n = 0;
    this.values.length = 0;
    this.keys.length = 0;
  }

  /** Empties the heap but keeps its arrays' capacity, for a heap reused by every query; drops the values' references. */
  reset(): void {
    for (let i = 0; i < this.n; i++) this.values[i] = undefined;
    this.n = 0;
  }

  push(value: T, key: number): void {
    let pos = this.n++;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!this.before(key, value, this.keys[parent]!, this.values[parent]!)) break;
      this.values[pos] = this.values[parent]!;
      this.keys[pos] = this.keys[parent]!;
      pos = parent;
    }
    this.values[pos] = value;
    this.keys[pos] = key;
  }

  /** The smallest value, or undefined when empty. */
  pop(): T | undefined {
    if (this.n === 0) return undefined;
    const top = this.values[0];
    const last = --this.n;
    if (last > 0) {
      const value = this.values[last]!;
      const key = this.keys[last]!;
      const half = last >> 1;
      let pos = 0;
      while (pos < half) {
        let child = 2 * pos + 1;
        const right = child + 1;
        if (right < last && this.before(this.keys[right]!, this.values[right]!, this.keys[child]!, this.values[child]!)) {
          child = right;
        }
        if (!this.before(this.keys[child]!, this.values[child]!, key, value)) break;
        this.values[pos] = this.values[child]!;
        this.keys[pos] = this.keys[child]!;
        pos = child;
      }
      this.values[pos] = value;
      this.keys[pos] = key;
    }
    // Drop the reference so popped values can be collected.
    this.values[last] = undefined;
    return top;
  }

  peek(): T | undefined {
    return this.n > 0 ? this.values[0] : undefined;
  }

  /** Key of the smallest value; NaN when empty. */
  peekKey(): number {
    return this.n > 0 ? this.keys[0]! : NaN;
  }

  private before(keyA: number, a: T, keyB: number, b: T): boolean {
    if (keyA !== keyB) return keyA < keyB;
    return this.tieBreak !== undefined && this.tieBreak(a, b) < 0;
  }
}
