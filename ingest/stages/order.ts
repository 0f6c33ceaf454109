import type { Stage } from '../context.ts';

/**
 * Oldest first, then split: a fix newer than the vehicle's live position moves it; an older
 * (late) one goes to history only and never moves it (CONTRACT.md).
 */
export const order: Stage = (msg, deps) => {
  const fixes = msg.decoded.fixes;
  if (fixes.length === 0) return;
  if (fixes.length > 1) fixes.sort((a, b) => a.ts - b.ts);
  let latestTs = deps.vehicles.get(msg.device.id)?.ts ?? -Infinity;
  for (const f of fixes) {
    if (f.ts > latestTs) {
      msg.liveFixes.push(f);
      latestTs = f.ts;
    } else {
      deps.metrics.dropped.inc({ reason: 'late_history_only' });
    }
  }
};
