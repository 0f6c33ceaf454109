import type { Config } from '../engine/config.ts';
import type { Registry } from '../engine/registry.ts';
import type { VehicleIndex } from '../geo/vehicle-index.ts';
import type { SensorState } from '../engine/sensor-state.ts';
import type { Db } from '../store/db.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { Logger } from '../engine/log.ts';
import type { Dispatcher } from '../engine/dispatcher.ts';
import type { Geofences } from '../engine/geofences.ts';

/** What the API plugins reach: the engine's live state and stores, nothing of MQTT. */
export interface ApiDeps {
  config: Config;
  version: string;
  registry: Registry;
  vehicles: VehicleIndex;
  sensors: SensorState;
  dispatcher: Dispatcher;
  geofences: Geofences;
  db: Db;
  metrics: Metrics;
  log: Logger;
  ports(): { mqtt: number; http: number };
  brokerReady(): boolean;
  /** forget a removed device everywhere in the live state */
  forgetDevice(id: string): void;
}
