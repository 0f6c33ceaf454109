// The ingest pipeline's stage order, declared once (DESIGN.md). Stages run in this order for
// every publish; the synchronous ones complete in arrival order, which keeps each device's fixes
// in order while devices interleave freely.
import type { IngestDeps, IngestMessage, Stage } from './context.ts';
import { decode } from './stages/decode.ts';
import { validate } from './stages/validate.ts';
import { dedupe } from './stages/dedupe.ts';
import { order } from './stages/order.ts';
import { admit } from './stages/admit.ts';
import { applyLive } from './stages/apply-live.ts';
import { evaluateWarnings } from './stages/warnings.ts';
import { reportRejects } from './stages/report-rejects.ts';
import { persist } from './stages/persist.ts';
import { fenceTransitions, publishFenceEvents, tagFences } from './stages/fences.ts';

export const STAGES: readonly Stage[] = [
  decode, // payload -> one model, or coded rejects
  (msg, deps) => validate(msg.decoded, msg.nowMs, deps.limits), // ranges, ts not in the future
  dedupe, // same ts or seq seen -> stored once
  order, // oldest first; late fixes are history only
  admit, // backpressure: QoS 1 waits for room, QoS 0 overflow is dropped
  tagFences, // the fences each live fix is in
  fenceTransitions, // enter, exit, dwell against the previous tags
  applyLive, // live index, statuses, sensor values
  evaluateWarnings, // thresholds, rate of rise, stuck, ISPU -> alert changes (committed on their own)
  reportRejects, // metrics and the device's rejects topic
  persist, // batch writer (fixes and their geofence events); resolves after commit
  publishFenceEvents, // committed events to MQTT
];

export async function runPipeline(msg: IngestMessage, deps: IngestDeps): Promise<void> {
  for (const stage of STAGES) {
    const pending = stage(msg, deps);
    if (pending) await pending;
  }
}
