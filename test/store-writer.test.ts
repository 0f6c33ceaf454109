// The batch writer against a database whose commits the test controls.
import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../store/writer.ts';
import type { Db } from '../store/db.ts';
import { createMetrics } from '../engine/metrics.ts';
import { silentLogger } from '../engine/log.ts';
import type { Fix } from '../ingest/model.ts';
import { admit } from '../ingest/stages/admit.ts';
import type { IngestDeps, IngestMessage } from '../ingest/context.ts';

function fakeDb() {
  const commits: Array<{ rows: number; release: () => void; fail: (e: Error) => void }> = [];
  const db: Db = {
    embedded: true,
    query: (<T>(_sql: string, params?: unknown[]) =>
      new Promise<T[]>((resolve, reject) => {
        const rows = (params![0] as unknown[]).length + (params![8] as unknown[]).length + (params![14] as unknown[]).length;
        commits.push({ rows, release: () => resolve([{ positions: 0, readings: 0, statuses: 0 } as T]), fail: reject });
      })) as Db['query'],
    ping: async () => true,
    close: async () => undefined,
  };
  return { db, commits };
}

const fix = (i: number): Fix => ({ deviceId: `d${i % 7}`, ts: 1_700_000_000_000 + i, lat: -6.2, lon: 106.8, speedKmh: null, heading: null, accuracyM: null, seq: null });
const batch = (from: number, n: number) => ({ fixes: Array.from({ length: n }, (_, i) => fix(from + i)), readings: [], statuses: [] });
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('BatchWriter', () => {
  it('resolves a write only after the batch holding it commits, and caps batches at maxRows of whole writes', async () => {
    const { db, commits } = fakeDb();
    const w = new BatchWriter(db, { maxRows: 10, maxAgeMs: 1, maxQueueRows: 1000 }, createMetrics(), silentLogger);
    let done1 = false;
    const p1 = w.write(batch(0, 6)).then(() => (done1 = true));
    const p2 = w.write(batch(6, 6));
    await tick();
    expect(commits.map((c) => c.rows)).toEqual([6]); // 6 + 6 > 10: the second write waits for the next batch
    expect(done1).toBe(false);
    commits[0]!.release();
    await p1;
    await tick();
    expect(commits.map((c) => c.rows)).toEqual([6, 6]);
    commits[1]!.release();
    await p2;
    expect(w.depth).toBe(0);
  });

  it('reports no room past maxQueueRows and lets waiters go as commits free it', async () => {
    const { db, commits } = fakeDb();
    const w = new BatchWriter(db, { maxRows: 100, maxAgeMs: 1, maxQueueRows: 50 }, createMetrics(), silentLogger);
    void w.write(batch(0, 60));
    expect(w.hasRoom()).toBe(false);
    let roomy = false;
    const room = w.waitForRoom().then(() => (roomy = true));
    await tick();
    expect(roomy).toBe(false);
    commits[0]!.release();
    await room;
    expect(w.hasRoom()).toBe(true);
  });

  it('lets held publishes go oldest first, no more than the freed room, and never lets a newcomer overtake them', async () => {
    const { db, commits } = fakeDb();
    const w = new BatchWriter(db, { maxRows: 1000, maxAgeMs: 1, maxQueueRows: 1000 }, createMetrics(), silentLogger);
    void w.write(batch(0, 1000));
    const order: number[] = [];
    const held = Array.from({ length: 50_000 }, (_, i) => w.waitForRoom().then(() => order.push(i)));
    commits[0]!.release();
    await tick();
    expect(order).toHaveLength(1000); // the freed room, one row each
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order[0]).toBe(0);
    expect(w.hasRoom()).toBe(false); // the rest still wait: a newcomer waits behind them
    for (const i of order) void w.write(batch(10_000 + i, 1));
    await tick();
    commits[1]!.release();
    await tick();
    expect(order).toHaveLength(2000);
    expect(order[1999]).toBe(1999);
    void held;
  });

  it('retries a failed commit, then rejects the writes so their PUBACKs are never sent', async () => {
    const { db, commits } = fakeDb();
    const w = new BatchWriter(db, { maxRows: 100, maxAgeMs: 1, maxQueueRows: 1000 }, createMetrics(), silentLogger);
    const p = w.write(batch(0, 3));
    const outcome = p.then(() => 'ok', (e: Error) => e.message);
    for (let attempt = 0; attempt < 4; attempt++) {
      while (commits.length <= attempt) await tick();
      commits[attempt]!.fail(new Error('connection lost'));
    }
    expect(await outcome).toBe('connection lost');
    expect(commits).toHaveLength(4);
  }, 10_000);

  it('admit: with the queue full, QoS 0 is dropped and counted, QoS 1 waits for room', async () => {
    const { db, commits } = fakeDb();
    const metrics = createMetrics();
    const writer = new BatchWriter(db, { maxRows: 100, maxAgeMs: 1, maxQueueRows: 10 }, metrics, silentLogger);
    void writer.write(batch(0, 20));
    const deps = { writer, metrics } as unknown as IngestDeps;
    const msg = (qos: 0 | 1) => ({ qos, decoded: batch(100, 2), liveFixes: [fix(100)] }) as unknown as IngestMessage;
    const q0 = msg(0);
    expect(admit(q0, deps)).toBeUndefined();
    expect(q0.decoded.fixes).toHaveLength(0);
    expect(q0.liveFixes).toHaveLength(0);
    expect((await metrics.dropped.get()).values.find((v) => v.labels.reason === 'qos0_overflow')?.value).toBe(2);
    const q1 = msg(1);
    let admitted = false;
    const waiting = (admit(q1, deps) as Promise<void>).then(() => (admitted = true));
    await tick();
    expect(admitted).toBe(false);
    commits[0]!.release();
    await waiting;
    expect(q1.decoded.fixes).toHaveLength(2);
  });
});
