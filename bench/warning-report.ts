// Tables and notes of the early-warning latency benchmark (bench/warning.ts), from its result.

import os from 'node:os';
import { NOISY_PCT } from './proc.ts';
import { AFFECTED_RADIUS_M, CROSSING_CM, MAX_INFLIGHT_PER_SENSOR, SUB_RADIUS_M, type WarningBenchResult } from './warning-scenario.ts';

// ---------------------------------------------------------------------------------------------
// Tables

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a');
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n < 10 ? n.toFixed(1) : int(n);
}
const pct = (n: number): string => `${Math.round(n)}%`;
const secs = (n: number): string => `${n.toFixed(1)} s`;

/** Markdown tables: the result, setup, and where a delivery's time goes. */
export function warningTable(r: WarningBenchResult): string[] {
  const o = r.options;
  const l = r.latencyMs;
  const target = l.count > 0 && l.p99 < 50 && r.deliveries.missed === 0;
  const lines = [
    '| sensors / subscribers | readings/s offered / acked | crossings (alerts raised) | deliveries expected | received | missed | latency p50 ms | p90 ms | p99 ms | max ms | first subscriber p50 / p99 ms | last subscriber p50 / p99 ms | engine CPU (main + db thread) | engine RSS MiB (peak) | bench CPU | machine CPU of ' + `${os.cpus().length * 100}% (other processes) | p99 < 50 ms, none missed |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    `| ${int(o.sensors)} / ${int(o.subscribers)} | ${int(r.readings.offeredPerS)} / ${int(r.readings.ackedPerS)} | ${int(r.alerts.crossings)} (${int(r.alerts.raised)}) |` +
      ` ${int(r.deliveries.expected)} | ${int(r.deliveries.received)} | ${r.deliveries.missed === 0 ? '0' : `**${int(r.deliveries.missed)}**`} |` +
      ` **${fmt(l.p50)}** | ${fmt(l.p90)} | **${fmt(l.p99)}** | ${fmt(l.max)} | ${fmt(r.firstMs.p50)} / ${fmt(r.firstMs.p99)} | ${fmt(r.lastMs.p50)} / ${fmt(r.lastMs.p99)} |` +
      ` ${pct(r.engine.cpu.totalPct)} (${pct(r.engine.cpu.mainPct)} + ${pct(r.engine.cpu.busiestOtherPct)}) | ${r.engine.rssMiB === null ? 'n/a' : int(r.engine.rssMiB)} (${r.engine.peakRssMiB === null ? 'n/a' : int(r.engine.peakRssMiB)}) |` +
      ` ${pct(r.bench.cpuPct)} | ${pct(r.machineCpu.totalPct)} (${pct(r.machineCpu.otherPct)}) | ${target ? 'met' : '**NOT met**'} |`,
    '',
    '| setup | subscribers created | subscribers connected + subscribed | sensors provisioned | thresholds set | sensors connected | connected (subscribers / sensors) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| engine ready in ${secs(r.setup.engineStartS)} | ${secs(r.setup.subscribersCreateS)} | ${secs(r.setup.subscribersConnectS)} (${int(o.connectBatch)} at a time) | ${secs(r.setup.sensorsCreateS)} | ${secs(r.setup.thresholdsS)} | ${secs(r.setup.sensorsConnectS)} | ${int(r.setup.subscribersConnected)} / ${int(r.setup.sensorsConnected)} |`,
  ];
  if (r.stages) {
    lines.push('', '| where a raised delivery\'s time goes | p50 ms | p90 ms | p99 ms | max ms |', '|---|---:|---:|---:|---:|');
    for (const s of r.stages) lines.push(`| ${s.name} | ${fmt(s.ms.p50)} | ${fmt(s.ms.p90)} | ${fmt(s.ms.p99)} | ${fmt(s.ms.max)} |`);
    lines.push(`| end to end (same deliveries) | ${fmt(l.p50)} | ${fmt(l.p90)} | ${fmt(l.p99)} | ${fmt(l.max)} |`);
  }
  return lines;
}

/** Bullet lines that go with the tables: secondary figures and anything that makes the run suspect. */
export function warningNotes(r: WarningBenchResult): string[] {
  const o = r.options;
  const out: string[] = [];
  out.push(
    `- Scenario: ${int(o.sensors)} water_level sensors in lon 106.70-106.98, lat -6.35 to -6.10 (SIAGA_3/2/1 at 100/200/300 cm, hysteresis 5, affected radius ${AFFECTED_RADIUS_M} m), each on its own MQTT connection reporting every ${o.intervalS} s (QoS 1, phases spread evenly); ` +
      `${int(o.subscribers)} subscribers (Points, radius ${SUB_RADIUS_M.min}-${SUB_RADIUS_M.max} m, kinds water_level) on persistent sessions at QoS 1; ${o.crossingsPerS} crossing(s)/s to ${CROSSING_CM.min}-${CROSSING_CM.max} cm for ${o.durationS} s, each held ${o.holdS} s then resolved; seed ${o.seed}.`,
  );
  out.push(
    `- Latency = receipt at the subscriber (stamped in its receiver process) - wall time just before the crossing publish (in this process), one clock; ${int(r.latencyMs.count)} deliveries over ${int(r.alerts.crossings)} alerts (${r.alerts.recipientsMean.toFixed(1)} expected recipients per alert, ${int(r.alerts.withoutRecipients)} alerts with none). ` +
      `"Last subscriber" covers only alerts delivered to every expected subscriber (${int(r.lastMs.count)} of ${int(r.alerts.crossings)}).`,
  );
  out.push(
    `- Resolves: ${int(r.resolved.received)} of ${int(r.resolved.expected)} expected deliveries, p50 ${fmt(r.resolved.latencyMs.p50)} ms, p99 ${fmt(r.resolved.latencyMs.p99)} ms. ` +
      `The crossing reading's own PUBACK (durable commit): p50 ${fmt(r.crossingPubackMs.p50)} ms, p99 ${fmt(r.crossingPubackMs.p99)} ms; all readings' PUBACK in the window p50 ${fmt(r.readings.pubackMs.p50)} ms, p99 ${fmt(r.readings.pubackMs.p99)} ms; ` +
      `reading batches committed ${int(r.engine.readingCommits)} at ${r.engine.readingCommitMeanMs === null ? 'n/a' : fmt(r.engine.readingCommitMeanMs)} ms mean.`,
  );
  out.push(
    `- Engine: event-loop p99 worst 2 s sample ${fmt(r.engine.loopP99MaxMs)} ms; CPU by thread ${r.engine.cpu.top}; ${int(r.engine.mqttClients)} MQTT clients; ` +
      `water_level alert changes from the window's start: ${int(r.alerts.raised)} raised, ${int(r.alerts.resolved)} resolved, ${int(r.alerts.otherChanges)} other; sensor_offline / sensor_stuck raised in the whole run ${int(r.alerts.offlineRaised)} / ${int(r.alerts.stuckRaised)}; ` +
      `SIGTERM to exit ${fmt(r.engine.stopS)} s (exit ${r.engine.exit}${r.engine.killed ? ', killed' : ''}).`,
  );
  out.push(
    `- This process (the ${int(o.sensors)} sensors; the ${int(o.subscribers)} subscribers are in ${o.receivers} receiver processes, which stamp each receipt as its socket is read): ` +
      `CPU ${pct(r.bench.cpuPct)} with the receivers, RSS ${int(r.bench.rssMiB)} MiB, event-loop delay p99 ${fmt(r.bench.loopP99Ms)} ms, max ${fmt(r.bench.loopMaxMs)} ms during the window ` +
      '(a crossing is timed just before its publish, so this delay reaches the latency only through a late publish, counted as lagged).',
  );
  const slow = [...r.perAlert].filter((a) => (a.lastMs ?? Infinity) >= 50 || (a.resolveLastMs ?? 0) >= 50).sort((a, b) => (b.lastMs ?? Infinity) - (a.lastMs ?? Infinity));
  if (slow.length) {
    out.push(
      `- Alerts whose last raised (or resolved) delivery took 50 ms or more: ${slow.length} of ${r.perAlert.length}; the worst, by the crossing's time after the engine was ready: ` +
        slow.slice(0, 6).map((a) => `${fmt(a.engineS)} s (${a.received}/${a.expected} raised, last ${a.lastMs === null ? 'none' : fmt(a.lastMs)} ms; resolve last ${a.resolveLastMs === null ? 'none' : fmt(a.resolveLastMs)} ms)`).join(', ') +
        '.',
    );
  }
  if (r.stagesNote) out.push(`- Stages: ${r.stagesNote}.`);
  const d = r.deliveries;
  if (d.duplicates || d.unexpected || d.unmatched || Object.keys(d.otherEvents).length) {
    out.push(`- Deliveries beyond the expected: ${int(d.duplicates)} duplicates, ${int(d.unexpected)} to subscribers outside the brute-force set, ${int(d.unmatched)} raised alerts matching no crossing, other events ${JSON.stringify(d.otherEvents)}.`);
  }
  if (d.missed > 0) out.push(`- **${int(d.missed)} expected deliveries never arrived** (${int(d.alertsMissing)} alerts affected) within the grace of ${o.graceS} s after the last resolve.`);
  const rd = r.readings;
  if (rd.skippedDisconnected || rd.skippedInflight || rd.failed || rd.lagged) {
    out.push(`- Load not fully applied: ${int(rd.skippedDisconnected)} readings skipped (sensor disconnected), ${int(rd.skippedInflight)} skipped (${MAX_INFLIGHT_PER_SENSOR} unacknowledged), ${int(rd.failed)} publishes failed, ${int(rd.lagged)} sent > 100 ms late.`);
  }
  if (r.setup.subscribersConnected < o.subscribers || r.setup.sensorsConnected < o.sensors) {
    out.push(`- Only ${int(r.setup.subscribersConnected)} of ${int(o.subscribers)} subscribers and ${int(r.setup.sensorsConnected)} of ${int(o.sensors)} sensors connected.`);
  }
  if (r.machineCpu.otherPct >= NOISY_PCT) {
    out.push(`- Other processes used ${pct(r.machineCpu.otherPct)} of the machine's CPU during the window${r.machineCpu.others ? ` (${r.machineCpu.others})` : ''}: a shared machine; rerun on a quiet one.`);
  }
  if (r.machineCpu.stealPct >= 1) out.push(`- CPU steal by the hypervisor: ${pct(r.machineCpu.stealPct)}.`);
  return out;
}
