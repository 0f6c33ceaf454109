// The last few fix times and sequence numbers of each device, to store a repeated fix once
// without asking the database (its primary key catches what falls out of this window).
const WINDOW = 32;

class Ring {
  readonly ts = new Float64Array(WINDOW).fill(NaN);
  readonly seq = new Float64Array(WINDOW).fill(NaN);
  next = 0;
}

export class RecentKeys {
  private readonly rings = new Map<string, Ring>();

  /** true if this (ts or seq) was seen for the device; otherwise remembers it */
  seenOrAdd(deviceId: string, ts: number, seq: number | null): boolean {
    let ring = this.rings.get(deviceId);
    if (!ring) {
      ring = new Ring();
      this.rings.set(deviceId, ring);
    }
    for (let i = 0; i < WINDOW; i++) {
      if (ring.ts[i] === ts) return true;
      if (seq !== null && ring.seq[i] === seq) return true;
    }
    ring.ts[ring.next] = ts;
    ring.seq[ring.next] = seq ?? NaN;
    ring.next = (ring.next + 1) % WINDOW;
    return false;
  }

  forget(deviceId: string): void {
    this.rings.delete(deviceId);
  }
}
