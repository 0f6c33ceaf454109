// Prometheus metrics of one engine instance (its own registry, so tests can run several).
import fs from 'node:fs';
import client from 'prom-client';

/**
 * prom-client's default process metrics, less those whose collection blocks the event loop in
 * proportion to the open sockets: with 15,000 MQTT connections `process_open_fds` (a readdirSync of
 * /proc/self/fd) and the active handles and resources (arrays of every handle, grouped by type) took
 * 36 ms of one scrape here, a stall every reading and alert waited behind. Open fds are counted off
 * the loop instead; `pantau_mqtt_clients` says what the handles did.
 */
export function collectProcessMetrics(registry: client.Registry): void {
  client.collectDefaultMetrics({ register: registry, prefix: 'pantau_process_' });
  for (const name of ['process_open_fds', 'nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_resources', 'nodejs_active_resources_total', 'nodejs_active_requests', 'nodejs_active_requests_total']) {
    registry.removeSingleMetric(`pantau_process_${name}`);
  }
  if (process.platform !== 'linux') return;
  new client.Gauge({
    name: 'pantau_process_process_open_fds',
    help: 'Number of open file descriptors (read without blocking the event loop).',
    registers: [registry],
    async collect() {
      // minus the fd of the directory read itself
      const fds = await fs.promises.readdir('/proc/self/fd').catch(() => null);
      if (fds) this.set(fds.length - 1);
    },
  });
}

export function createMetrics() {
  const registry = new client.Registry();
  /** set by the broker once it exists; read at each scrape */
  const sources = { connectedClients: () => 0 };
  collectProcessMetrics(registry);
  const m = {
    registry,
    messagesIn: new client.Counter({ name: 'pantau_messages_in_total', help: 'MQTT publishes received from devices, by topic kind', labelNames: ['kind'], registers: [registry] }),
    rejects: new client.Counter({ name: 'pantau_rejects_total', help: 'Records or payloads refused, by reject code', labelNames: ['code'], registers: [registry] }),
    dropped: new client.Counter({ name: 'pantau_dropped_total', help: 'Records not stored for a named reason that is not an error of the device (duplicate, qos0_overflow)', labelNames: ['reason'], registers: [registry] }),
    stored: new client.Counter({ name: 'pantau_rows_committed_total', help: 'Rows committed to TimescaleDB, by table', labelNames: ['table'], registers: [registry] }),
    batchRows: new client.Histogram({ name: 'pantau_batch_rows', help: 'Rows per committed batch', buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000], registers: [registry] }),
    commitSeconds: new client.Histogram({ name: 'pantau_commit_seconds', help: 'Time to commit one batch', buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] }),
    queueRows: new client.Gauge({ name: 'pantau_writer_queue_rows', help: 'Rows waiting for or in a commit', registers: [registry] }),
    backpressure: new client.Counter({ name: 'pantau_backpressure_waits_total', help: 'Publishes held because the writer queue was full', registers: [registry] }),
    sources,
    clients: new client.Gauge({
      name: 'pantau_mqtt_clients',
      help: 'Connected MQTT clients',
      registers: [registry],
      collect() {
        this.set(sources.connectedClients());
      },
    }),
    authFailures: new client.Counter({ name: 'pantau_mqtt_auth_failures_total', help: 'Refused MQTT connections and publishes, by reason', labelNames: ['reason'], registers: [registry] }),
    alerts: new client.Counter({ name: 'pantau_alert_changes_total', help: 'Alert lifecycle changes, by kind and event (raised, escalated, deescalated, updated, acknowledged, resolved)', labelNames: ['kind', 'event'], registers: [registry] }),
    deliveries: new client.Counter({ name: 'pantau_deliveries_total', help: 'Subscriber delivery outcomes, by channel and outcome (delivered, retry, failed)', labelNames: ['channel', 'outcome'], registers: [registry] }),
    alertCommitErrors: new client.Counter({ name: 'pantau_alert_commit_errors_total', help: 'Failed commits of alert changes (retried)', registers: [registry] }),
    warningErrors: new client.Counter({ name: 'pantau_warning_errors_total', help: 'Messages whose readings early warning failed to judge (the readings are stored; see the log)', registers: [registry] }),
    vehiclesLive: new client.Gauge({ name: 'pantau_vehicles_live', help: 'Vehicles in the live index', registers: [registry] }),
    cameraStreams: new client.Gauge({ name: 'pantau_camera_streams', help: 'Cameras being relayed (one ffmpeg each, including those in their idle grace)', registers: [registry] }),
    cameraViewers: new client.Gauge({ name: 'pantau_camera_viewers', help: 'WebSocket viewers of camera streams', registers: [registry] }),
    cameraStreamErrors: new client.Counter({ name: 'pantau_camera_stream_errors_total', help: 'Camera viewers told of a problem, by code (CAMERA_UNREACHABLE, FFMPEG_MISSING, STREAM_LIMIT, ...)', labelNames: ['code'], registers: [registry] }),
    cameraRestarts: new client.Counter({ name: 'pantau_camera_ffmpeg_restarts_total', help: 'ffmpeg relays restarted after ending while viewers remained', registers: [registry] }),
    cameraChunksSkipped: new client.Counter({ name: 'pantau_camera_chunks_skipped_total', help: 'MPEG-TS chunks not sent to a viewer that had fallen behind', registers: [registry] }),
    streamClients: new client.Gauge({ name: 'pantau_stream_clients', help: 'Connected clients of GET /api/v1/stream', registers: [registry] }),
    streamEvents: new client.Counter({ name: 'pantau_stream_events_total', help: 'Events published to the live stream, by topic', labelNames: ['topic'], registers: [registry] }),
    streamDropped: new client.Counter({ name: 'pantau_stream_clients_dropped_total', help: 'Stream clients closed by the engine, by reason (slow: more than PANTAU_STREAM_MAX_BUFFERED_BYTES unsent)', labelNames: ['reason'], registers: [registry] }),
    streamResumes: new client.Counter({ name: 'pantau_stream_resumes_total', help: 'Stream reconnects with Last-Event-ID, by outcome (resumed, reset)', labelNames: ['outcome'], registers: [registry] }),
  };
  return m;
}
export type Metrics = ReturnType<typeof createMetrics>;
