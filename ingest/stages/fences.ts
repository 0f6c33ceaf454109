import type { Stage } from '../context.ts';
import type { VehicleType } from '../model.ts';
import { toRows } from '../../engine/geofences.ts';

/** Tags each fix that moves the vehicle with the fences it is in; nothing more (DESIGN.md). */
export const tagFences: Stage = (msg, deps) => {
  if (msg.liveFixes.length === 0 || deps.geofences.index.size === 0) return;
  const type = msg.device.type as VehicleType;
  for (const f of msg.liveFixes) msg.fenceTags.push(deps.geofences.index.containing(f.lat, f.lon, type));
};

/** Enter, exit and dwell, from comparing each fix's tags with the vehicle's previous ones. Late fixes never get here. */
export const fenceTransitions: Stage = (msg, deps) => {
  if (msg.fenceTags.length === 0) return;
  const { tracker, index } = deps.geofences;
  for (let i = 0; i < msg.liveFixes.length; i++) {
    const f = msg.liveFixes[i]!;
    const events = tracker.update(f.deviceId, f, msg.fenceTags[i]!, index);
    if (events.length) for (const row of toRows(events)) msg.fenceEvents.push(row);
  }
};

/** After the commit: every stored event to its fence's MQTT topic. */
export const publishFenceEvents: Stage = (msg, deps) => {
  if (msg.fenceEvents.length) deps.publishFenceEvents(msg.fenceEvents);
};
