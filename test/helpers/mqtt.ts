// Real MQTT clients against a test engine.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Engine } from '../../engine/engine.ts';

export function connect(engine: Engine, opts: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${engine.ports.mqtt}`, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
}

/** Resolves with the CONNACK return code / error of a refused connection. */
export function connectRefused(engine: Engine, opts: IClientOptions = {}): Promise<Error & { code?: number }> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${engine.ports.mqtt}`, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => {
      c.end(true);
      reject(new Error('connection was accepted'));
    });
    c.once('error', (err) => {
      c.end(true);
      resolve(err as Error & { code?: number });
    });
  });
}

/** Collects messages of a topic filter. */
export async function collect(client: MqttClient, filter: string): Promise<Array<{ topic: string; json: Record<string, unknown> }>> {
  const got: Array<{ topic: string; json: Record<string, unknown> }> = [];
  client.on('message', (topic, payload) => {
    try {
      got.push({ topic, json: JSON.parse(payload.toString()) });
    } catch {
      got.push({ topic, json: { raw: payload.toString() } });
    }
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return got;
}

/** Polls until fn gives a truthy value (an async fn is awaited each time). */
export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
