// Counts every QoS 1 publish the load generator makes in this process and every PUBACK it gets,
// by wrapping MqttClient.prototype.publish once. The generator's own `acked` leaves out acks of
// publishes sent before its resetStats(), so under a backlog (acks seconds late) it would show a
// near-zero delivered rate while the broker in fact acknowledges thousands per second; and the
// whole run's acks must be comparable to the rows in the database. This counter never resets.
import { MqttClient } from 'mqtt';

export interface PublishMeter {
  /** publish() calls with a completion callback */
  readonly sent: number;
  /** completions without an error: PUBACKs for QoS 1 */
  readonly acked: number;
  /** completions with an error */
  readonly failed: number;
}

type Publish = (this: MqttClient, ...args: unknown[]) => MqttClient;
type Done = (err?: Error, packet?: unknown) => void;

let meter: { sent: number; acked: number; failed: number } | null = null;

/** Installs the wrapper (once per process) and returns the live counters. */
export function installPublishMeter(): PublishMeter {
  if (meter) return meter;
  const counters = { sent: 0, acked: 0, failed: 0 };
  meter = counters;
  const original = MqttClient.prototype.publish as unknown as Publish;
  const wrapped: Publish = function (this: MqttClient, ...args: unknown[]) {
    // publish(topic, message, [opts], [callback]): the callback is the last function argument
    const at = typeof args[3] === 'function' ? 3 : typeof args[2] === 'function' ? 2 : -1;
    if (at < 0) return original.apply(this, args);
    const done = args[at] as Done;
    counters.sent++;
    args[at] = (err?: Error, packet?: unknown): void => {
      if (err) counters.failed++;
      else counters.acked++;
      done(err, packet);
    };
    return original.apply(this, args);
  };
  (MqttClient.prototype as unknown as { publish: Publish }).publish = wrapped;
  return counters;
}
