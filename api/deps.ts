import type { Config } from '../engine/config.ts';
import type { Registry } from '../engine/registry.ts';
import type { VehicleIndex } from '../geo/vehicle-index.ts';
import type { SensorState } from '../engine/sensor-state.ts';
import type { Db } from '../store/db.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { Logger } from '../engine/log.ts';
import type { Dispatcher } from '../engine/dispatcher.ts';
import type { Geofences } from '../engine/geofences.ts';
import type { AlertCenter } from '../engine/alerts.ts';
import type { Warnings } from '../engine/warnings.ts';
import type { Subscribers } from '../engine/subscribers.ts';
import type { Outbox } from '../engine/outbox.ts';
import type { Device } from '../engine/registry.ts';
import type { Cameras } from '../cctv/cameras.ts';
import type { CameraStreams } from '../cctv/relay.ts';
import type { Feed } from '../engine/feed.ts';

/** What the API plugins reach: the engine's live state and stores, nothing of MQTT. */
export interface ApiDeps {
  config: Config;
  version: string;
  registry: Registry;
  vehicles: VehicleIndex;
  sensors: SensorState;
  dispatcher: Dispatcher;
  geofences: Geofences;
  alerts: AlertCenter;
  warnings: Warnings;
  subscribers: Subscribers;
  outbox: Outbox;
  /** CCTV: the camera registry and the relay of its streams */
  cameras: Cameras;
  cameraStreams: CameraStreams;
  /** the live stream's events (GET /api/v1/stream) */
  feed: Feed;
  db: Db;
  metrics: Metrics;
  log: Logger;
  ports(): { mqtt: number; http: number };
  brokerReady(): boolean;
  /** forget a removed device everywhere in the live state */
  forgetDevice(id: string): void;
  /** a device was provisioned or changed (sensors: watch them with their thresholds) */
  deviceChanged(device: Device): void;
}
