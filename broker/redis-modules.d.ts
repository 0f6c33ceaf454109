// aedes-persistence-redis ships no types; this is the part Pantau uses.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';
  export default function redisPersistence(opts: { conn?: Redis; maxSessionDelivery?: number }): unknown;
}
