// The live stream's source (GET /api/v1/stream): every change a control room watches, numbered in
// one sequence and kept in a ring bounded by count and age, so a client that reconnects with
// Last-Event-ID gets exactly what it missed (HTML Living Standard, server-sent events, 9.2.4), or is
// told to refetch when that is no longer kept. Vehicle moves are coalesced per vehicle first.
import crypto from 'node:crypto';
import type { LiveVehicle } from '../geo/vehicle-index.ts';
import type { Metrics } from './metrics.ts';
import type { Logger } from './log.ts';

export const FEED_TOPICS = ['vehicles', 'alerts', 'events', 'dispatches'] as const;
export type FeedTopic = (typeof FEED_TOPICS)[number];

export interface FeedEvent {
  seq: number;
  /** `{epoch}-{seq}`: the epoch tells this run's ids from an earlier run's or another replica's */
  id: string;
  topic: FeedTopic;
  atMs: number;
  /** the whole SSE frame, serialized once for every client */
  frame: string;
}

export type Resume = { events: FeedEvent[]; lastId: string } | { reset: 'unknown_id' | 'too_old'; lastId: string };

export interface FeedOptions {
  maxEvents: number;
  maxAgeMs: number;
}

export class Feed {
  /** run-unique prefix of every id */
  readonly epoch = crypto.randomBytes(4).toString('hex');
  private readonly ring: Array<FeedEvent | undefined>;
  /** index of the oldest kept event in `ring` */
  private head = 0;
  private size = 0;
  private seq = 0;
  /** per topic, the newest seq no longer kept: a client whose id is older missed it */
  private readonly evictedUpTo = Object.fromEntries(FEED_TOPICS.map((t) => [t, 0])) as Record<FeedTopic, number>;
  private readonly listeners = new Set<(e: FeedEvent) => void>();

  constructor(
    private readonly opts: FeedOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.ring = new Array<FeedEvent | undefined>(opts.maxEvents);
  }

  /** the id of the newest event so far (`{epoch}-0` before the first) */
  get lastId(): string {
    return `${this.epoch}-${this.seq}`;
  }

  /** Numbers, keeps and fans out one event; data is serialized here, once. */
  publish(topic: FeedTopic, data: unknown): FeedEvent {
    const atMs = this.now();
    this.evictOlderThan(atMs - this.opts.maxAgeMs);
    if (this.size === this.ring.length) this.evictOldest();
    const seq = ++this.seq;
    const id = `${this.epoch}-${seq}`;
    const event: FeedEvent = { seq, id, topic, atMs, frame: `id: ${id}\nevent: ${topic}\ndata: ${JSON.stringify(data)}\n\n` };
    this.ring[(this.head + this.size) % this.ring.length] = event;
    this.size++;
    this.metrics.streamEvents.inc({ topic });
    // a listener that throws must not cost the others this event, nor the publisher its work
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ topic, err: (err as Error).stack ?? String(err) }, 'stream listener failed');
      }
    }
    return event;
  }

  /** Every event from now on; returns the unsubscribe. */
  subscribe(listener: (e: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The kept events of these topics after lastEventId, oldest first; or a reset when the id is not
   * one of this run's, or when an event of these topics after it is no longer kept.
   * Call it and subscribe in the same synchronous step: then nothing falls between the two.
   */
  resume(lastEventId: string, topics: ReadonlySet<FeedTopic>): Resume {
    const lastId = this.lastId;
    const m = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId.trim());
    const after = m && m[1] === this.epoch ? Number(m[2]) : NaN;
    if (!Number.isSafeInteger(after) || after > this.seq) return { reset: 'unknown_id', lastId };
    this.evictOlderThan(this.now() - this.opts.maxAgeMs);
    for (const t of topics) if (this.evictedUpTo[t] > after) return { reset: 'too_old', lastId };
    const events: FeedEvent[] = [];
    // seqs in the ring are consecutive, so the first one after `after` is found by arithmetic
    const oldestSeq = this.seq - this.size + 1;
    for (let i = Math.max(0, after + 1 - oldestSeq); i < this.size; i++) {
      const e = this.ring[(this.head + i) % this.ring.length]!;
      if (topics.has(e.topic)) events.push(e);
    }
    return { events, lastId };
  }

  private evictOlderThan(cutoffMs: number): void {
    while (this.size > 0 && this.ring[this.head]!.atMs < cutoffMs) this.evictOldest();
  }

  private evictOldest(): void {
    const e = this.ring[this.head]!;
    this.evictedUpTo[e.topic] = e.seq;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
  }
}

/**
 * Coalesces changes per key: the first change opens a window of intervalMs, and at its end emit(key)
 * runs once, reading whatever is current then. So a key is emitted at most once per window, and ten
 * changes inside one window are one emission with the latest state. One timer serves every key:
 * windows have one length, so the order keys were first touched is the order they fall due.
 */
export class Coalescer {
  /** key -> when its window ends, epoch ms; insertion order is due order */
  private readonly due = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (key: string) => void,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  touch(key: string): void {
    if (this.stopped || this.due.has(key)) return;
    this.due.set(key, this.now() + this.intervalMs);
    if (!this.timer) this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.due.clear();
  }

  private arm(): void {
    const first = this.due.values().next();
    if (first.done) return;
    this.timer = setTimeout(this.fire, Math.max(0, first.value - this.now()));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = null;
    const t = this.now();
    for (const [key, at] of this.due) {
      if (at > t) break;
      this.due.delete(key);
      try {
        this.emit(key);
      } catch (err) {
        this.onError(err);
      }
    }
    if (!this.stopped) this.arm();
  };
}

/** A vehicle on the `vehicles` topic: its live state and how old its fix is now. */
export function vehicleEvent(v: Readonly<LiveVehicle>, nowMs: number) {
  return {
    id: v.id, type: v.type, status: v.status, lat: v.lat, lon: v.lon, speed_kmh: v.speedKmh, heading: v.heading,
    ts: new Date(v.ts).toISOString(), age_s: Math.max(0, Math.round((nowMs - v.ts) / 1000)),
  };
}
