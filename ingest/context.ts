// What flows through the ingest pipeline: one MQTT publish and everything decided about it.
import type { Decoded, Fix, Reading } from './model.ts';
import type { TopicKind } from './topics.ts';
import type { Device } from '../engine/registry.ts';
import type { Registry } from '../engine/registry.ts';
import type { VehicleIndex } from '../geo/vehicle-index.ts';
import type { SensorState } from '../engine/sensor-state.ts';
import type { BatchWriter } from '../store/writer.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { RecentKeys } from './recent-keys.ts';
import type { CrewStatus, Reject } from './model.ts';
import type { Geofences } from '../engine/geofences.ts';
import type { FenceEventRow } from '../store/geofences.ts';

export interface IngestMessage {
  topic: string;
  kind: TopicKind;
  device: Device;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** when the engine received it, epoch ms */
  nowMs: number;
  decoded: Decoded;
  /** fixes newer than the vehicle's live position, oldest first: only these move it */
  liveFixes: Fix[];
  /** readings newer than the sensor's live value of their metric: only these are judged for warnings */
  liveReadings: Reading[];
  /** per live fix, the ids of the fences it is in */
  fenceTags: string[][];
  /** geofence transitions these fixes caused, committed with them */
  fenceEvents: FenceEventRow[];
}

export interface IngestDeps {
  registry: Registry;
  vehicles: VehicleIndex;
  sensors: SensorState;
  writer: BatchWriter;
  recent: RecentKeys;
  metrics: Metrics;
  limits: { maxFutureMs: number };
  geofences: Geofences;
  /** early warning: judges live readings (synchronously, in arrival order) */
  warnings: { onReadings(readings: readonly Reading[]): void };
  /** an early-warning fault for one message: logged and counted, the readings still stored */
  warningFailed(deviceId: string, err: Error): void;
  publishFenceEvents(events: readonly FenceEventRow[]): void;
  /** a vehicle's live position or status changed (the live stream coalesces and sends it) */
  liveVehicleChanged(vehicleId: string): void;
  /** a crew's status report, after it is applied: an open dispatch follows it */
  crewReported(vehicleId: string, status: CrewStatus): void;
  /** sends a device its rejects on pantau/v1/devices/{id}/rejects */
  publishRejects(deviceId: string, topic: string, rejects: readonly Reject[]): void;
}

export type Stage = (msg: IngestMessage, deps: IngestDeps) => void | Promise<void>;
