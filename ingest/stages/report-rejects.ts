import type { Stage } from '../context.ts';

/** Every refused record is counted by code and told to the device on its rejects topic. */
export const reportRejects: Stage = (msg, deps) => {
  const rejects = msg.decoded.rejects;
  if (rejects.length === 0) return;
  for (const r of rejects) deps.metrics.rejects.inc({ code: r.code });
  deps.publishRejects(msg.device.id, msg.topic, rejects);
};
