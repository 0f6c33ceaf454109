import type { Stage } from '../context.ts';
import type { VehicleType } from '../model.ts';

/** Moves the live picture: vehicle statuses (an open dispatch follows the crew), positions, sensor values. */
export const applyLive: Stage = (msg, deps) => {
  const device = msg.device;
  const { statuses, readings } = msg.decoded;
  // a report older than the last one applied changes nothing
  for (const s of statuses) if (deps.registry.setStatusLocal(device.id, s.status, s.ts)) deps.crewReported(device.id, s.status);
  // read now, not from msg.device: a dispatch may have changed it while this publish waited for room
  const status = deps.registry.get(device.id)?.status ?? device.status;
  const newest = msg.liveFixes[msg.liveFixes.length - 1];
  if (newest) {
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
    deps.liveVehicleChanged(device.id);
  } else if (statuses.length > 0 && deps.vehicles.get(device.id)) {
    deps.vehicles.setAttributes(device.id, { status });
    deps.liveVehicleChanged(device.id);
  }
  for (const r of readings) if (deps.sensors.record(r)) msg.liveReadings.push(r);
};
