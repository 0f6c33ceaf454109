// Several engine nodes behind one address share MQTT sessions, retained messages and publishes
// through Redis (DESIGN.md: scale with existing engines): aedes-persistence-redis holds the
// sessions, mqemitter-redis carries each publish to every node's subscribers.
import { Redis } from 'ioredis';
import redisPersistence from 'aedes-persistence-redis';
import MQEmitterRedis from 'mqemitter-redis';

export function sharedThroughRedis(url: string): { persistence: unknown; mq: unknown } {
  return {
    persistence: redisPersistence({ conn: new Redis(url, { maxRetriesPerRequest: null }) }),
    mq: MQEmitterRedis({ connectionString: url }),
  };
}
