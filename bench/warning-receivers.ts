// The early-warning bench's subscribers, in child processes of their own ("receivers"): each holds a
// share of the 10,000 persistent MQTT sessions and time-stamps every delivery as its socket is read,
// then hands it to the bench process over IPC. In one process with the 5,000 sensors, the bench's own
// garbage collection (a 900 MiB heap: pauses of 100 ms and more, traced) was inside the measured latency.
// Receipts are stamped with the wall clock (performance.timeOrigin + now), the same clock as the
// crossing's start in the bench process.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { ROOT, processTicks, trackChild } from './proc.ts';

const THIS_FILE = fileURLToPath(import.meta.url);

export interface ReceiverSub {
  idx: number;
  id: string;
  token: string;
  topic: string;
}

type ToChild = { cmd: 'connect'; mqttUrl: string; subs: ReceiverSub[]; batch: number } | { cmd: 'close' };
type FromChild =
  | { type: 'connected'; ok: number }
  | { type: 'msgs'; items: Array<[idx: number, atWall: number, payload: string]> }
  | { type: 'state'; idx: number; connected: boolean }
  | { type: 'count'; name: 'subReconnects' | 'subErrors' }
  | { type: 'closed' };

export interface Receivers {
  pids: number[];
  /** connects every subscriber (each child its share, `batch` at a time); resolves with how many subscribed */
  connect(mqttUrl: string, subs: readonly ReceiverSub[], batch: number): Promise<number>;
  /** CPU ticks of all receivers so far (for the bench's CPU figure) */
  ticks(): number;
  close(): Promise<void>;
}

export interface ReceiverEvents {
  delivery(idx: number, atWall: number, payload: string): void;
  state(idx: number, connected: boolean): void;
  count(name: 'subReconnects' | 'subErrors'): void;
}

export function startReceivers(n: number, on: ReceiverEvents): Receivers {
  const children: ChildProcess[] = [];
  const waiters = new Map<ChildProcess, Array<(m: FromChild) => void>>();
  for (let i = 0; i < n; i++) {
    const child = fork(THIS_FILE, ['--warning-receiver'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    void trackChild(child);
    children.push(child);
    waiters.set(child, []);
    child.on('message', (m: FromChild) => {
      switch (m.type) {
        case 'msgs':
          for (const [idx, at, payload] of m.items) on.delivery(idx, at, payload);
          break;
        case 'state':
          on.state(m.idx, m.connected);
          break;
        case 'count':
          on.count(m.name);
          break;
        default:
          waiters.get(child)!.shift()?.(m);
      }
    });
  }
  const ask = (child: ChildProcess, msg: ToChild): Promise<FromChild> =>
    new Promise((resolve, reject) => {
      waiters.get(child)!.push(resolve);
      child.once('exit', (code) => reject(new Error(`a receiver process exited (${code})`)));
      child.send(msg);
    });
  return {
    pids: children.map((c) => c.pid!),
    async connect(mqttUrl, subs, batch) {
      const shares = children.map((_, i) => subs.filter((s) => s.idx % n === i));
      const answers = await Promise.all(children.map((c, i) => ask(c, { cmd: 'connect', mqttUrl, subs: shares[i]!, batch })));
      return answers.reduce((a, m) => a + (m.type === 'connected' ? m.ok : 0), 0);
    },
    ticks: () => children.reduce((a, c) => a + processTicks(c.pid!), 0),
    async close() {
      await Promise.all(children.map((c) => (c.connected ? ask(c, { cmd: 'close' }).catch(() => undefined) : undefined)));
      for (const c of children) if (c.exitCode === null) c.kill();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The child

const nowWall = (): number => performance.timeOrigin + performance.now();

function receiverChild(): void {
  const clients: MqttClient[] = [];
  let pending: Array<[number, number, string]> = [];
  let flushing = false;
  const flush = (): void => {
    flushing = false;
    if (pending.length === 0) return;
    process.send!({ type: 'msgs', items: pending } satisfies FromChild);
    pending = [];
  };
  const send = (m: FromChild): void => void process.send!(m);
  const connectOne = (mqttUrl: string, s: ReceiverSub): Promise<boolean> =>
    new Promise((resolve) => {
      const options: IClientOptions = {
        clientId: `bench-${s.id}`, username: s.id, password: s.token, clean: false,
        keepalive: 120, reconnectPeriod: 2000, connectTimeout: 30_000, reschedulePings: false, log: () => undefined,
      };
      const c = mqtt.connect(mqttUrl, options);
      clients.push(c);
      let settled = false;
      const done = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), 60_000);
      c.on('message', (_topic, payload) => {
        pending.push([s.idx, nowWall(), payload.toString('utf8')]);
        if (!flushing) {
          flushing = true;
          setImmediate(flush);
        }
      });
      c.on('connect', () => {
        send({ type: 'state', idx: s.idx, connected: true });
        if (settled) return; // a reconnect: mqtt.js resubscribes by itself
        c.subscribe(s.topic, { qos: 1 }, (err, granted) => done(!err && granted?.[0]?.qos === 1));
      });
      c.on('close', () => send({ type: 'state', idx: s.idx, connected: false }));
      c.on('reconnect', () => send({ type: 'count', name: 'subReconnects' }));
      c.on('error', () => send({ type: 'count', name: 'subErrors' }));
    });
  process.on('message', (m: ToChild) => {
    void (async () => {
      if (m.cmd === 'connect') {
        let ok = 0;
        for (let i = 0; i < m.subs.length; i += m.batch) ok += (await Promise.all(m.subs.slice(i, i + m.batch).map((s) => connectOne(m.mqttUrl, s)))).filter(Boolean).length;
        send({ type: 'connected', ok });
      } else {
        for (let i = 0; i < clients.length; i += 1000) await Promise.all(clients.slice(i, i + 1000).map((c) => c.endAsync(true).catch(() => undefined)));
        flush();
        process.send!({ type: 'closed' } satisfies FromChild, () => process.disconnect());
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[1] && path.resolve(process.argv[1]) === THIS_FILE && process.argv.includes('--warning-receiver')) receiverChild();
