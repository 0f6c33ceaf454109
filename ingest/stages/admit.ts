import type { Stage } from '../context.ts';

/**
 * Backpressure. With the writer's queue full, a QoS 1 publish waits for room: its PUBACK and the
 * client's next socket read wait with it. A QoS 0 publish cannot be held without stalling the
 * socket for the QoS 1 traffic behind it, so it is dropped and counted.
 */
export const admit: Stage = (msg, deps) => {
  const d = msg.decoded;
  if (d.fixes.length + d.readings.length + d.statuses.length === 0 || deps.writer.hasRoom()) return;
  if (msg.qos === 0) {
    deps.metrics.dropped.inc({ reason: 'qos0_overflow' }, d.fixes.length + d.readings.length + d.statuses.length);
    d.fixes.length = 0;
    d.readings.length = 0;
    d.statuses.length = 0;
    msg.liveFixes.length = 0;
    return;
  }
  deps.metrics.backpressure.inc();
  return deps.writer.waitForRoom();
};
