import type { Stage } from '../context.ts';

/** Hands the accepted rows to the batch writer; resolves after their batch commits. */
export const persist: Stage = (msg, deps) => {
  const { fixes, readings, statuses } = msg.decoded;
  if (fixes.length + readings.length + statuses.length === 0) return;
  return deps.writer.write({ fixes, readings, statuses, fenceEvents: msg.fenceEvents });
};
