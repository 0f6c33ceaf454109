import type { Stage } from '../context.ts';

/** Live readings to early warning; late ones (history only) never raise or resolve anything. */
export const evaluateWarnings: Stage = (msg, deps) => {
  if (msg.liveReadings.length) deps.warnings.onReadings(msg.liveReadings, msg.nowMs);
};
