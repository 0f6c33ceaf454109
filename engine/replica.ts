// `pantau replica`: a read-only API replica (DESIGN.md: "API replicas each keep their own live index
// fed from the broker"). It follows one engine: the fleet from GET /api/v1/vehicles, then every change
// from the live topic (engine/live-topic.ts) over MQTT, into a VehicleIndex of its own; and it answers
// GET /vehicles, /vehicles/nearest and /vehicles/{id} from that index on its own event loop, so those
// reads neither wait behind the engine's ingest nor take time from it. Tokens are checked by asking the
// engine (GET /api/v1/whoami) and trusted for PANTAU_REPLICA_AUTH_CACHE_S, or until the engine announces an
// operator change on pantau/v1/live/operators (or this replica reconnects). Everything that changes
// state (dispatches above all: their reservation is atomic on the engine) stays on the engine.
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import client from 'prom-client';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ConfigError, variableOf, type Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { LIVE_OPERATORS_TOPIC, LIVE_VEHICLES_TOPIC, LiveBatchError, parseLiveBatch, toLiveVehicle } from './live-topic.ts';
import type { Role } from './registry.ts';
import { fingerprint } from './tokens.ts';
import { VehicleIndex } from '../geo/vehicle-index.ts';
import { createApiBase } from '../api/app.ts';
import { ApiError } from '../api/errors.ts';
import { liveVehiclesRoutes } from '../api/vehicles.ts';
import { VERSION } from './version.ts';
import { collectProcessMetrics } from './metrics.ts';

/** a token the engine refused is not asked about again for this long */
const REFUSED_CACHE_MS = 5000;
const AUTH_CACHE_MAX = 10_000;
const RESYNC_RETRY_MS = 1000;

export interface Replica {
  app: FastifyInstance;
  vehicles: VehicleIndex;
  ports: { http: number };
  /** connected to the engine's broker and holding its fleet */
  ready(): boolean;
  /** resolves once the first snapshot is applied (tests, benchmarks) */
  synced(): Promise<void>;
  close(): Promise<void>;
}

export interface ReplicaOptions {
  log?: Logger;
  /** false: build everything but do not listen (tests use app.inject) */
  listen?: boolean;
}

function required(config: Config, key: 'engineUrl' | 'engineMqttUrl' | 'replicaToken'): string {
  const value = config[key];
  if (value === null) throw new ConfigError(variableOf(key), 'a replica needs it: the engine to follow (PANTAU_ENGINE_URL, PANTAU_ENGINE_MQTT_URL) and an operator token to read it with (PANTAU_REPLICA_TOKEN)');
  return value;
}

export async function startReplica(config: Config, opts: ReplicaOptions = {}): Promise<Replica> {
  const log = opts.log ?? createLogger(config.logLevel);
  const engineUrl = required(config, 'engineUrl').replace(/\/+$/, '');
  const mqttUrl = required(config, 'engineMqttUrl');
  const token = required(config, 'replicaToken');
  const vehicles = new VehicleIndex();
  const metrics = replicaMetrics(vehicles);
  const startedAt = Date.now();

  // ---- following the engine
  let connected = false;
  let isSynced = false;
  let closing = false;
  /** ids changed by the live topic since the current snapshot was requested: those are newer than it */
  let seen: Set<string> | null = null;
  let generation = 0;
  let markSynced: () => void = () => undefined;
  const firstSync = new Promise<void>((resolve) => (markSynced = resolve));

  const fetchEngine = (path: string, bearer: string) => fetch(`${engineUrl}${path}`, { headers: { authorization: `Bearer ${bearer}` }, signal: AbortSignal.timeout(30_000) });

  const resync = async (gen: number): Promise<void> => {
    while (!closing && gen === generation && connected) {
      // this attempt's own set: an older attempt that ends late must not clear it
      const mine = new Set<string>();
      seen = mine;
      try {
        const res = await fetchEngine('/api/v1/vehicles', token);
        if (!res.ok) throw new Error(`GET ${engineUrl}/api/v1/vehicles answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
        const body = (await res.json()) as { features?: Array<{ geometry?: { coordinates?: number[] }; properties?: Record<string, unknown> }> };
        if (gen !== generation) return;
        const inSnapshot = new Set<string>();
        const features = body.features ?? [];
        for (let i = 0; i < features.length; i++) {
          const f = features[i]!;
          const [lon, lat] = f.geometry?.coordinates ?? [];
          const v = toLiveVehicle({ ...f.properties, lat, lon }, `features[${i}]`);
          inSnapshot.add(v.id);
          if (!mine.has(v.id)) vehicles.upsert(v);
        }
        // Gone while this replica was away: neither in the snapshot nor changed since.
        for (const v of [...vehicles.all()]) if (!inSnapshot.has(v.id) && !mine.has(v.id)) vehicles.remove(v.id);
        if (seen === mine) seen = null;
        isSynced = true;
        metrics.snapshots.inc();
        log.info({ vehicles: vehicles.size, engine: engineUrl }, 'replica: in step with the engine');
        markSynced();
        return;
      } catch (err) {
        if (seen === mine) seen = null;
        if (gen !== generation) return;
        log.warn({ engine: engineUrl, err: (err as Error).message }, `replica: the engine's fleet could not be read; retrying in ${RESYNC_RETRY_MS} ms`);
        await new Promise((r) => setTimeout(r, RESYNC_RETRY_MS));
      }
    }
  };

  const mq: MqttClient = mqtt.connect(mqttUrl, {
    username: 'operator',
    password: token,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    clientId: `pantau-replica-${crypto.randomBytes(6).toString('hex')}`,
  });
  mq.on('connect', () => {
    connected = true;
    const gen = ++generation;
    // Operators may have changed while this replica was away: ask the engine again about every token.
    forgetTrusted();
    // Subscribe first, then read the fleet: every change after the read arrives on the topic.
    mq.subscribe({ [LIVE_VEHICLES_TOPIC]: { qos: 0 }, [LIVE_OPERATORS_TOPIC]: { qos: 1 } }, (err, granted) => {
      const refused = granted?.find((g) => g.qos === 128);
      if (err || refused) {
        log.error({ topic: refused?.topic ?? LIVE_VEHICLES_TOPIC, err: err?.message ?? 'refused' }, 'replica: the engine refused the live topics; is PANTAU_REPLICA_TOKEN an operator token?');
        return;
      }
      void resync(gen);
    });
  });
  const lost = () => {
    // a replica shutting down closes the connection itself: nothing was lost
    if (connected && !closing) log.warn({ broker: mqttUrl }, 'replica: lost the engine broker; answering from the last known fleet until back');
    connected = false;
    isSynced = false;
  };
  mq.on('close', lost);
  mq.on('offline', lost);
  mq.on('error', (err) => log.warn({ broker: mqttUrl, err: err.message }, 'replica: MQTT error'));
  mq.on('message', (topic, payload) => {
    if (topic === LIVE_OPERATORS_TOPIC) {
      // a token was rotated or deleted, or a role changed: trust nothing the engine confirmed before
      forgetTrusted();
      log.info({ topic }, 'replica: operators changed on the engine; tokens will be checked again');
      return;
    }
    if (topic !== LIVE_VEHICLES_TOPIC) return;
    try {
      const batch = parseLiveBatch(payload);
      for (const v of batch.vehicles) {
        vehicles.upsert(v);
        seen?.add(v.id);
      }
      for (const id of batch.removed) {
        vehicles.remove(id);
        seen?.add(id);
      }
      metrics.updates.inc(batch.vehicles.length + batch.removed.length);
      metrics.lag.set(Math.max(0, Date.now() - batch.atMs) / 1000);
    } catch (err) {
      // a bad batch is skipped whole; the next snapshot (reconnect) repairs what it carried
      metrics.rejected.inc({ code: err instanceof LiveBatchError ? err.code : 'INTERNAL' });
      log.error({ topic, field: err instanceof LiveBatchError ? err.field : undefined, err: (err as Error).message }, 'replica: live batch refused');
    }
  });

  // ---- tokens, checked by the engine
  const trusted = new Map<string, { op: { id: string; role: Role } | null; untilMs: number }>();
  /** counts the times operators changed (or the replica reconnected): what was asked before is not kept */
  let trustEpoch = 0;
  const forgetTrusted = () => {
    trustEpoch++;
    trusted.clear();
  };
  const asking = new Map<string, Promise<{ id: string; role: Role } | null>>();
  const authenticate = (bearer: string): { id: string; role: Role } | null | Promise<{ id: string; role: Role } | null> => {
    const key = fingerprint(bearer);
    const hit = trusted.get(key);
    // answered without a promise while cached: this runs on every request
    if (hit && hit.untilMs > Date.now()) return hit.op;
    let pending = asking.get(key);
    if (!pending) {
      const epoch = trustEpoch;
      pending = (async () => {
        let res: Response;
        try {
          res = await fetchEngine('/api/v1/whoami', bearer);
        } catch (err) {
          throw new ApiError('ENGINE_UNREACHABLE', `this replica checks tokens with its engine, which did not answer: ${(err as Error).message}`);
        }
        if (res.status === 401 || res.status === 403) {
          remember(epoch, key, null, REFUSED_CACHE_MS);
          return null;
        }
        if (!res.ok) throw new ApiError('ENGINE_UNREACHABLE', `this replica checks tokens with its engine, which answered ${res.status}`);
        const op = (await res.json()) as { id: string; role: Role };
        remember(epoch, key, op, config.replicaAuthCacheS * 1000);
        return op;
      })().finally(() => asking.delete(key));
      asking.set(key, pending);
    }
    return pending;
  };
  const remember = (epoch: number, key: string, op: { id: string; role: Role } | null, ms: number) => {
    // an answer asked for before operators changed may already be out of date: use it once, keep it not
    if (epoch !== trustEpoch) return;
    if (trusted.size >= AUTH_CACHE_MAX) trusted.clear();
    trusted.set(key, { op, untilMs: Date.now() + ms });
  };

  // ---- the API
  const ports = { http: 0 };
  const app = await createApiBase({
    version: VERSION,
    log,
    authenticate,
    description: `Pantau API replica (read-only live vehicles) following ${engineUrl}. Contract v1.`,
  });
  await app.register(liveVehiclesRoutes({
    vehicles,
    eta: { roadFactor: config.etaRoadFactor, speedsKmh: config.typicalSpeedsKmh },
    fences: null,
    missing: (id) => `no live vehicle ${id} on this replica`,
  }), { prefix: '/api/v1' });
  await app.register(replicaOperations({
    engineUrl,
    ports: () => ({ ...ports }),
    state: () => ({ connected, synced: isSynced, vehicles: vehicles.size, uptime_s: Math.round((Date.now() - startedAt) / 1000) }),
    metrics: metrics.registry,
  }));

  const close = async () => {
    closing = true;
    await app.close();
    await new Promise<void>((resolve) => mq.end(true, {}, () => resolve()));
  };
  try {
    if (opts.listen !== false) {
      await app.listen({ port: config.httpPort, host: config.host }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') throw new ConfigError(variableOf('httpPort'), `port ${config.httpPort} is in use; set ${variableOf('httpPort')} to a free port (0 picks any)`);
        throw err;
      });
      ports.http = (app.server.address() as AddressInfo).port;
      log.info({ http: ports.http, engine: engineUrl }, 'replica listening');
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { app, vehicles, ports, ready: () => connected && isSynced, synced: () => firstSync, close };
}

function replicaMetrics(vehicles: VehicleIndex) {
  const registry = new client.Registry();
  collectProcessMetrics(registry);
  return {
    registry,
    updates: new client.Counter({ name: 'pantau_replica_updates_total', help: 'Vehicle changes applied from the live topic', registers: [registry] }),
    rejected: new client.Counter({ name: 'pantau_replica_batches_rejected_total', help: 'Live batches refused whole, by reason', labelNames: ['code'], registers: [registry] }),
    snapshots: new client.Counter({ name: 'pantau_replica_snapshots_total', help: "Times the engine's fleet was read whole (start, reconnect)", registers: [registry] }),
    lag: new client.Gauge({ name: 'pantau_replica_lag_seconds', help: 'Age of the newest live batch when it was applied', registers: [registry] }),
    live: new client.Gauge({
      name: 'pantau_vehicles_live',
      help: 'Vehicles in the live index',
      registers: [registry],
      collect() {
        this.set(vehicles.size);
      },
    }),
  };
}

interface ReplicaOpsDeps {
  engineUrl: string;
  ports(): { http: number };
  state(): { connected: boolean; synced: boolean; vehicles: number; uptime_s: number };
  metrics: client.Registry;
}

/** The replica's /healthz, /readyz and /metrics: unauthenticated, for load balancers and Prometheus. */
const replicaOperations =
  (deps: ReplicaOpsDeps): FastifyPluginAsync =>
  async (app) => {
    app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness, the port, versions and the engine followed' } }, async () => {
      const s = deps.state();
      return { status: 'ok', role: 'replica', engine: deps.engineUrl, ports: deps.ports(), versions: { pantau: VERSION, node: process.versions.node }, uptime_s: s.uptime_s };
    });
    app.get('/readyz', { schema: { tags: ['operations'], summary: "Connected to the engine's broker and holding its fleet" } }, async (_req, reply) => {
      const s = deps.state();
      const ready = s.connected && s.synced;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', engine_connected: s.connected, synced: s.synced, vehicles: s.vehicles });
    });
    app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus text exposition' } }, async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
  };
