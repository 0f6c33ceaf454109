// The composition root: database, registry, live state, writer, broker, API, listeners.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { FastifyInstance } from 'fastify';
import { ConfigError, variableOf, type Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { Registry, type Principal } from './registry.ts';
import { SensorState } from './sensor-state.ts';
import { Dispatcher } from './dispatcher.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { applyPolicies, migrate } from '../store/migrations.ts';
import { startJobRunner, type JobRunner } from '../store/jobs.ts';
import { latestFixes, latestReadings } from '../store/live.ts';
import { BatchWriter } from '../store/writer.ts';
import { VehicleIndex } from '../geo/vehicle-index.ts';
import { createBroker, type Broker, type IngestHook } from '../broker/server.ts';
import { RecentKeys } from '../ingest/recent-keys.ts';
import { runPipeline } from '../ingest/pipeline.ts';
import { emptyDecoded, type Reject, type VehicleType } from '../ingest/model.ts';
import type { IngestDeps } from '../ingest/context.ts';
import { geofenceEventTopic, rejectsTopic, type ParsedTopic } from '../ingest/topics.ts';
import { Geofences } from './geofences.ts';
import type { FenceEventRow } from '../store/geofences.ts';
import { buildApp } from '../api/app.ts';
import { AlertCenter, alertView, type AlertEvent } from './alerts.ts';
import { Outbox } from './outbox.ts';
import { Subscribers } from './subscribers.ts';
import { Warnings } from './warnings.ts';
import { principalOf } from '../broker/server.ts';
import { recentAirMinutes } from '../store/live.ts';
import { ISPU_POLLUTANTS } from '../warning/ispu.ts';
import type { AlertRow, DeliveryRow } from '../store/alerts.ts';
import { Cameras } from '../cctv/cameras.ts';
import { CameraStreams } from '../cctv/relay.ts';
import { cameraStreamRoute } from '../cctv/stream-route.ts';
import { Coalescer, Feed, vehicleEvent } from './feed.ts';
import { LIVE_OPERATORS_TOPIC, LIVE_VEHICLES_TOPIC, LiveTopic } from './live-topic.ts';
import { VERSION } from './version.ts';
import { dispatchView } from '../api/dispatches.ts';

export { VERSION };

/** at most this many rejects are published for one message; the rest are counted only */
const MAX_REJECTS_PUBLISHED = 20;

export interface Engine {
  config: Config;
  log: Logger;
  metrics: Metrics;
  db: Db;
  registry: Registry;
  vehicles: VehicleIndex;
  sensors: SensorState;
  dispatcher: Dispatcher;
  geofences: Geofences;
  alerts: AlertCenter;
  warnings: Warnings;
  subscribers: Subscribers;
  outbox: Outbox;
  /** the live stream's events (GET /api/v1/stream) */
  feed: Feed;
  writer: BatchWriter;
  broker: Broker;
  app: FastifyInstance;
  ports: { mqtt: number; http: number };
  /** set only when this start created the admin token (first start without PANTAU_ADMIN_TOKEN) */
  generatedAdminToken: string | null;
  /** CCTV: the camera registry and the relay of its streams */
  cameras: Cameras;
  cameraStreams: CameraStreams;
  close(): Promise<void>;
}

export interface EngineOptions {
  log?: Logger;
  /** false: build everything but open no listening sockets (tests drive app.inject and broker.handle) */
  listen?: boolean;
}

function listenOn(server: net.Server, port: number, host: string, key: keyof Config): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new ConfigError(variableOf(key), `port ${port} is in use; set ${variableOf(key)} to a free port (0 picks any)`));
      else if (err.code === 'EACCES') reject(new ConfigError(variableOf(key), `no permission to listen on port ${port}; choose a port above 1023`));
      else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export async function startEngine(config: Config, opts: EngineOptions = {}): Promise<Engine> {
  const log = opts.log ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const db = await openDatabase(config, log);
  const cleanups: Array<() => Promise<void> | void> = [() => db.close()];
  try {
    const applied = await migrate(db);
    if (applied.length) log.info({ migrations: applied }, 'database migrated');
    await applyPolicies(db, config);
    let jobs: JobRunner | null = null;
    if (db.embedded) {
      jobs = startJobRunner(db, config.jobsIntervalS * 1000, log);
      cleanups.unshift(() => jobs!.stop());
    }

    const registry = new Registry(db);
    await registry.load(config.adminToken);
    const generatedAdminToken = !config.adminToken && !registry.hasStoredAdmin() ? await registry.issueOperatorToken('admin', 'admin') : null;

    // Live state from the newest rows, each with its age: a restart answers nearest at once.
    const vehicles = new VehicleIndex();
    const sensors = new SensorState();
    const recent = new RecentKeys();
    const fixes = await latestFixes(db);
    vehicles.load(
      fixes.map((f) => ({ id: f.id, type: f.type as VehicleType, status: f.status, lat: f.lat, lon: f.lon, ts: f.ts, speedKmh: f.speed_kmh, heading: f.heading, accuracyM: f.accuracy_m })),
    );
    for (const f of fixes) recent.seenOrAdd(f.id, f.ts, f.seq);
    for (const r of await latestReadings(db)) sensors.record({ deviceId: r.id, metric: r.metric, value: r.value, ts: r.ts, lat: r.lat, lon: r.lon });
    log.info({ vehicles: vehicles.size, devices: registry.list().length }, 'live state restored');

    // The live stream: vehicles coalesced per vehicle, then every topic numbered in one resumable feed.
    const feed = new Feed({ maxEvents: config.streamBufferEvents, maxAgeMs: config.streamBufferAgeS * 1000 }, metrics, log);
    const vehicleFeed = new Coalescer(1000 / config.streamVehicleHz, (id) => {
      const v = vehicles.get(id);
      if (v) feed.publish('vehicles', vehicleEvent(v, Date.now()));
    }, (err) => log.error({ err: (err as Error).stack ?? String(err) }, 'stream: vehicle event failed'));
    cleanups.unshift(() => vehicleFeed.stop());
    // eslint-disable-next-line prefer-const
    let broker: Broker;
    // The fleet as it changes, for API replicas (engine/replica.ts) and other readers.
    const liveTopic = new LiveTopic(config.liveTopicIntervalMs, (id) => vehicles.get(id), (payload) => {
      broker.aedes.publish({ cmd: 'publish', topic: LIVE_VEHICLES_TOPIC, payload, qos: 0, retain: false, dup: false }, () => undefined);
    }, (err) => log.error({ err: (err as Error).stack ?? String(err) }, 'live topic: batch failed'));
    cleanups.unshift(() => liveTopic.stop());
    const vehicleChanged = (id: string) => {
      vehicleFeed.touch(id);
      liveTopic.changed(id);
    };

    const dispatcher = new Dispatcher(db, registry, vehicles, { roadFactor: config.etaRoadFactor, speedsKmh: config.typicalSpeedsKmh }, log, (d) => {
      // never throws into the dispatcher: its reservation is committed already
      try {
        feed.publish('dispatches', dispatchView(d, vehicles, registry));
        vehicleChanged(d.vehicleId); // its status followed the dispatch
      } catch (err) {
        log.error({ dispatch: d.id, err: (err as Error).stack ?? String(err) }, 'stream: dispatch event failed');
      }
    });
    await dispatcher.load();

    const writer = new BatchWriter(db, { maxRows: config.batchMaxRows, maxAgeMs: config.batchMaxAgeMs, maxQueueRows: config.writerMaxQueueRows }, metrics, log);
    cleanups.unshift(() => writer.drain());

    const publishFenceEvents = (rows: readonly FenceEventRow[]) => {
      for (const e of rows) {
        const event = { id: e.id, fence_id: e.fenceId, vehicle_id: e.vehicleId, type: e.type, ts: new Date(e.ts).toISOString(), lat: e.lat, lon: e.lon };
        broker.aedes.publish({ cmd: 'publish', topic: geofenceEventTopic(e.fenceId), payload: Buffer.from(JSON.stringify(event)), qos: 1, retain: false, dup: false }, () => undefined);
        feed.publish('events', event);
      }
    };
    const geofences = new Geofences(db, vehicles, writer, publishFenceEvents, log, config.geofenceExitDelayS);
    await geofences.load();
    geofences.startSweeping(1000);
    cleanups.unshift(() => geofences.stop());
    // Early warning: subscribers, alerts (committed with their deliveries), then the evaluators.
    const subscribers = new Subscribers(db, registry);
    await subscribers.load();
    let outbox: Outbox | null = null;
    const early: DeliveryRow[] = [];
    const publishAlertState = (a: AlertRow) => {
      const topic = `pantau/v1/alerts/${a.kind}/${a.sourceId}`;
      broker.aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(alertView(a))), qos: 1, retain: true, dup: false }, () => undefined);
    };
    // eslint-disable-next-line prefer-const
    let warnings: Warnings;
    const recipients = (a: AlertRow, _event: AlertEvent, severity: number) => {
      const area = warnings.affectedArea(a.sourceId);
      if (!area) return [];
      return subscribers.matching(area, a.kind, severity).map((s) => ({ subscriberId: s.id, channels: s.webhookUrl ? (['mqtt', 'webhook'] as const) : (['mqtt'] as const) }));
    };
    const alerts = new AlertCenter(
      db,
      recipients,
      (changed, deliveries) => {
        for (const a of changed) {
          publishAlertState(a);
          feed.publish('alerts', alertView(a));
        }
        if (outbox) outbox.accept(deliveries);
        else early.push(...deliveries);
      },
      log,
      metrics,
      (deliveries) => outbox?.prepublish(deliveries),
    );
    await alerts.load();
    cleanups.unshift(() => alerts.flush().finally(() => alerts.stop()));
    warnings = new Warnings(db, registry, sensors, alerts, {
      expectedIntervalS: config.sensorExpectedIntervalS, stuckReadings: config.sensorStuckReadings, stuckSpanS: config.sensorStuckSpanS, airAlertMinRank: config.airAlertMinRank, ispuWindowsH: config.ispuWindowsH,
    }, log);
    const startedAt = Date.now();
    await warnings.load(startedAt);
    const longestWindowMs = Math.max(...Object.values(config.ispuWindowsH)) * 3_600_000;
    warnings.seedAir(await recentAirMinutes(db, ISPU_POLLUTANTS, startedAt - longestWindowMs), startedAt);
    warnings.start(5000);
    cleanups.unshift(() => warnings.stop());

    const publishRejects = (deviceId: string, topic: string, rejects: readonly Reject[]) => {
      for (const r of rejects.slice(0, MAX_REJECTS_PUBLISHED)) {
        const payload = JSON.stringify({ topic, code: r.code, message: r.message, ...(r.field === undefined ? {} : { field: r.field }) });
        broker.aedes.publish({ cmd: 'publish', topic: rejectsTopic(deviceId), payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, () => undefined);
      }
    };
    const deps: IngestDeps = {
      registry, vehicles, sensors, writer, recent, metrics, publishRejects,
      limits: { maxFutureMs: config.maxFutureS * 1000 },
      crewReported: (id, status) => dispatcher.crewReported(id, status),
      geofences,
      warnings,
      warningFailed: (deviceId, err) => {
        metrics.warningErrors.inc();
        log.error({ device: deviceId, err: err.stack ?? err.message }, 'early-warning evaluation failed; the readings are stored');
      },
      publishFenceEvents,
      liveVehicleChanged: vehicleChanged,
    };

    const targetOf = (who: Principal, parsed: ParsedTopic) => {
      if (who.kind === 'device') return { id: who.device.id, device: registry.get(who.device.id) };
      const id = 'vehicleId' in parsed ? parsed.vehicleId : 'sensorId' in parsed ? parsed.sensorId : null;
      if (id !== null) return { id, device: registry.get(id) };
      const device = parsed.kind === 'owntracks' ? registry.byOwntracksKey(parsed.key) : undefined;
      return { id: device?.id ?? null, device };
    };

    const ingest: IngestHook = async (who, packet, parsed) => {
      metrics.messagesIn.inc({ kind: parsed.kind });
      const { id, device } = targetOf(who, parsed);
      if (!device) {
        metrics.rejects.inc({ code: 'UNKNOWN_DEVICE' });
        if (id) publishRejects(id, packet.topic, [{ code: 'UNKNOWN_DEVICE', message: `no device ${id} is provisioned; POST /api/v1/devices first` }]);
        return { forward: false };
      }
      const msg = { topic: packet.topic, kind: parsed.kind, device, payload: packet.payload as Buffer, qos: packet.qos, nowMs: Date.now(), decoded: emptyDecoded(), liveFixes: [], liveReadings: [], fenceTags: [], fenceEvents: [] };
      await runPipeline(msg, deps);
      return { forward: msg.decoded.rejects.length === 0 };
    };

    broker = await createBroker({ registry, metrics, log, allowAnonymous: config.allowAnonymous, maxPacketBytes: config.maxPacketBytes, ingest, redisUrl: config.redisUrl });
    const theBroker = broker;
    registry.onCredentialsRevoked((kind, id) => {
      // A session opened with the old token must not outlive it (a rotated token may have been stolen).
      const closed = theBroker.disconnectWhere((who) => (kind === 'device' ? who.kind === 'device' && who.device.id === id : who.kind === 'subscriber' && who.id === id));
      if (closed) log.info({ [kind]: id, mqtt_sessions_closed: closed }, `${kind} token rotated or ${kind} deleted: its open MQTT session is closed`);
    });
    registry.onOperatorChanged((id) => {
      // Sessions opened with the old token or role end now; API replicas drop the tokens they trusted.
      const closed = theBroker.disconnectWhere((who) => who.kind === 'operator' && who.id === id);
      const payload = Buffer.from(JSON.stringify({ at: new Date().toISOString(), operator: id }));
      theBroker.aedes.publish({ cmd: 'publish', topic: LIVE_OPERATORS_TOPIC, payload, qos: 1, retain: false, dup: false }, () => undefined);
      log.info({ operator: id, mqtt_sessions_closed: closed }, 'operator changed: its old token or role no longer applies');
    });
    outbox = new Outbox(db, broker.aedes, (id) => {
      const s = subscribers.get(id);
      return s?.webhookUrl && s.webhookSecret ? { url: s.webhookUrl, secret: s.webhookSecret } : null;
    }, principalOf, {
      retryBaseMs: config.webhookRetryBaseMs, retryMaxMs: config.webhookRetryMaxMs, timeoutMs: config.webhookTimeoutMs, giveUpS: config.deliveryGiveUpS,
    }, log, metrics);
    const leftPending = await outbox.load();
    if (leftPending) log.info({ deliveries: leftPending }, 'pending alert deliveries picked up');
    outbox.accept(early.splice(0));
    const theOutbox = outbox;
    cleanups.unshift(() => theOutbox.stop());
    if (config.allowAnonymous) log.warn({}, 'PANTAU_ALLOW_ANONYMOUS=1: anonymous MQTT clients may publish for any device; development only');

    const cameras = new Cameras(db);
    await cameras.load();
    const cameraStreams = new CameraStreams({
      ffmpegPath: config.ffmpegPath, maxStreams: config.cameraMaxStreams, idleGraceMs: config.cameraIdleGraceMs, noVideoTimeoutMs: config.cameraNoVideoTimeoutMs,
      restartBaseMs: config.cameraRestartBaseMs, restartMaxMs: config.cameraRestartMaxMs, restartMaxAttempts: config.cameraRestartMaxAttempts,
      fps: config.cameraFps, videoKbps: config.cameraVideoKbps,
    }, log, metrics);

    const ports = { mqtt: 0, http: 0 };
    let closing = false;
    const app = await buildApp({
      config, version: VERSION, registry, vehicles, sensors, db, metrics, log, dispatcher, geofences, alerts, warnings, subscribers, outbox: theOutbox, feed, cameras, cameraStreams,
      ports: () => ({ ...ports }),
      brokerReady: () => !broker.aedes.closed && !closing,
      forgetDevice: (id) => {
        const wasLive = vehicles.remove(id);
        geofences.tracker.forgetVehicle(id);
        sensors.remove(id);
        recent.forget(id);
        warnings.sensorRemoved(id, Date.now());
        if (wasLive) vehicleChanged(id); // replicas drop it too
      },
      deviceChanged: (d) => {
        if (d.kind === 'vehicle') vehicleChanged(d.id); // its type or status may have changed
        warnings.sensorAdded(d, Date.now());
      },
    });

    // MQTT over WebSocket at /mqtt on the HTTP port (CONTRACT.md).
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => [...protocols][0] ?? false });
    // Camera video at /api/v1/cameras/{id}/stream, on the same upgrade event.
    const cameraRoute = cameraStreamRoute({ registry, cameras, streams: cameraStreams, log });
    app.server.on('upgrade', (req, socket, head) => {
      const pathname = new URL(req.url ?? '/', 'http://x').pathname;
      if (cameraRoute.matches(pathname)) return cameraRoute.handle(req, socket, head);
      if (pathname !== '/mqtt') {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => broker.handle(createWebSocketStream(ws), req));
    });

    const sockets = new Set<net.Socket>();
    const mqttServer = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    if (opts.listen !== false) {
      ports.mqtt = await listenOn(mqttServer, config.mqttPort, config.host, 'mqttPort');
      cleanups.unshift(
        () =>
          new Promise<void>((r) => {
            // aedes has closed its clients; a socket that never finished CONNECT may remain
            for (const socket of sockets) socket.destroy();
            mqttServer.close(() => r());
          }),
      );
      await app.listen({ port: config.httpPort, host: config.host }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') throw new ConfigError(variableOf('httpPort'), `port ${config.httpPort} is in use; set ${variableOf('httpPort')} to a free port (0 picks any)`);
        throw err;
      });
      ports.http = (app.server.address() as AddressInfo).port;
      log.info({ mqtt: ports.mqtt, http: ports.http }, 'listening');
    }
    cleanups.unshift(() => app.close());
    cleanups.unshift(() => {
      for (const ws of wss.clients) ws.terminate();
    });
    // Camera viewers are told, and their ffmpeg processes gone, before the HTTP server closes.
    cleanups.unshift(async () => {
      await cameraStreams.close();
      cameraRoute.close();
    });
    // Clients go first, so nothing new arrives while the writer drains.
    cleanups.unshift(() => broker.close());

    let closed: Promise<void> | null = null;
    return {
      config, log, metrics, db, registry, vehicles, sensors, dispatcher, geofences, alerts, warnings, subscribers, outbox: theOutbox, feed, writer, broker, app, ports, generatedAdminToken, cameras, cameraStreams,
      close() {
        closing = true;
        closed ??= runCleanups(cleanups, log);
        return closed;
      },
    };
  } catch (err) {
    await runCleanups(cleanups, log);
    throw err;
  }
}

async function runCleanups(cleanups: Array<() => Promise<void> | void>, log: Logger): Promise<void> {
  for (const c of cleanups) {
    try {
      await c();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'error while shutting down');
    }
  }
}
