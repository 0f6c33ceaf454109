import type { Stage } from '../context.ts';
import type { VehicleType } from '../model.ts';

/** Moves the live picture: vehicle statuses (an open dispatch follows the crew), positions, sensor values. */
export const applyLive: Stage = (msg, deps) => {
  const device = msg.device;
  const { statuses, readings } = msg.decoded;
  for (const s of statuses) {
    const before = deps.registry.get(device.id)?.statusTs ?? null;
    deps.registry.setStatusLocal(device.id, s.status, s.ts);
    // a report older than the last one applied changes nothing
    if (before === null || s.ts > before) deps.crewReported(device.id, s.status);
  }
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
  } else if (statuses.length > 0 && deps.vehicles.get(device.id)) {
    deps.vehicles.setAttributes(device.id, { status });
  }
  for (const r of readings) deps.sensors.record(r);
};
