import type { Stage } from '../context.ts';
import type { VehicleType } from '../model.ts';

/** Moves the live picture: vehicle positions and statuses, sensor values. */
export const applyLive: Stage = (msg, deps) => {
  const device = msg.device;
  const { statuses, readings } = msg.decoded;
  for (const s of statuses) deps.registry.setStatusLocal(device.id, s.status, s.ts);
  const newest = msg.liveFixes[msg.liveFixes.length - 1];
  if (newest) {
    const status = deps.registry.get(device.id)?.status ?? device.status;
    deps.vehicles.upsert({
      id: device.id,
      type: device.type as VehicleType,
      status,
      lat: newest.lat,
      lon: newest.lon,
      ts: newest.ts,
      speedKmh: newest.speedKmh,
      heading: newest.heading,
      accuracyM: newest.accuracyM,
    });
  } else if (statuses.length > 0 && deps.vehicles.get(device.id)) {
    deps.vehicles.setAttributes(device.id, { status: deps.registry.get(device.id)!.status });
  }
  for (const r of readings) deps.sensors.record(r);
};
