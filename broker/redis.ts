// Several engine nodes behind one address share MQTT sessions, retained messages and publishes
// through Redis (DESIGN.md: scale with existing engines): aedes-persistence-redis holds the
// sessions, mqemitter-redis carries each publish to every node's subscribers.
import { Redis } from 'ioredis';
import redisPersistence from 'aedes-persistence-redis';
import MQEmitterRedis from 'mqemitter-redis';

export interface RedisSharing {
  persistence: unknown;
  mq: { close(cb: () => void): void };
  /** the persistence's connection, which aedes.close() leaves open */
  conn: Redis;
}

export function sharedThroughRedis(url: string): RedisSharing {
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  // The subscriber connection subscribes before it is ready; ioredis' ready check (INFO) is not
  // allowed in subscriber mode and would throw out of the event loop.
  const subConn = new Redis(url, { enableReadyCheck: false, maxRetriesPerRequest: null });
  const pubConn = new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: null });
  return { persistence: redisPersistence({ conn }), mq: MQEmitterRedis({ subConn, pubConn }), conn };
}

/** After aedes.close(): the emitter is closed by it already; the persistence's destroy() would
 * unsubscribe through that closed emitter and never answer, so its connection is closed here. */
export async function closeRedisSharing(sharing: RedisSharing): Promise<void> {
  await new Promise<void>((resolve) => sharing.mq.close(() => resolve()));
  sharing.conn.disconnect();
}
