import type { Stage } from '../context.ts';

/**
 * Live readings to early warning; late ones (history only) never raise or resolve anything. A fault
 * in judging them must not refuse readings already accepted: it is logged and the reading stored.
 */
export const evaluateWarnings: Stage = (msg, deps) => {
  if (!msg.liveReadings.length) return;
  try {
    deps.warnings.onReadings(msg.liveReadings);
  } catch (err) {
    deps.warningFailed(msg.device.id, err as Error);
  }
};
