import type { Stage } from '../context.ts';

/** A fix repeated (same device and ts, or same seq) is stored once (CONTRACT.md): drop repeats, counted. */
export const dedupe: Stage = (msg, deps) => {
  const fixes = msg.decoded.fixes;
  if (fixes.length === 0) return;
  let kept = 0;
  for (const f of fixes) {
    if (deps.recent.seenOrAdd(f.deviceId, f.ts, f.seq)) deps.metrics.dropped.inc({ reason: 'duplicate' });
    else fixes[kept++] = f;
  }
  fixes.length = kept;
};
