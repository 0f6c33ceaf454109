// The MQTT broker: aedes with Pantau's authentication, ACL and packet limits. Ingest is not
// imported here: it is handed in as the `ingest` hook, called from authorizePublish so that a
// QoS 1 PUBACK (which aedes writes when that callback returns) waits for the commit.
import { Aedes, type Client, type Connection, type PublishPacket } from 'aedes';
import type { IncomingMessage } from 'node:http';
import { parseTopic, type ParsedTopic } from '../ingest/topics.ts';
import type { Principal, Registry } from '../engine/registry.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { Logger } from '../engine/log.ts';
import { mayPublish, maySubscribe } from './acl.ts';
import { limitPacketSize } from './packet-limit.ts';
import { closeRedisSharing, sharedThroughRedis } from './redis.ts';

/** What the broker asks of ingest for a publish it has authorised. `forward: false` keeps a refused payload from subscribers. */
export type IngestHook = (who: Principal, packet: PublishPacket, parsed: ParsedTopic) => Promise<{ forward: boolean }>;

export interface BrokerOptions {
  registry: Registry;
  metrics: Metrics;
  log: Logger;
  allowAnonymous: boolean;
  maxPacketBytes: number;
  ingest: IngestHook;
  /** when set, sessions, retained messages and publishes are shared with other nodes through Redis */
  redisUrl: string | null;
}

export interface Broker {
  aedes: Aedes;
  handle(stream: Connection, req?: IncomingMessage): Client;
  /** Closes this node's MQTT sessions whose principal matches (credentials revoked or changed); returns how many. */
  disconnectWhere(match: (who: Principal) => boolean): number;
  close(): Promise<void>;
}

const principals = new WeakMap<Client, Principal>();
/** set in preConnect: a zero-length client id with clean session 0, refused in authenticate */
const emptyIdPersistent = new WeakSet<Client>();

export function principalOf(client: Client): Principal | undefined {
  return principals.get(client);
}

function authError(returnCode: 2 | 4 | 5, message: string) {
  return Object.assign(new Error(message), { returnCode });
}

export async function createBroker(opts: BrokerOptions): Promise<Broker> {
  const { registry, metrics, log } = opts;
  // Payloads of refused publishes: aedes copies the packet but keeps the payload buffer, so this
  // is how authorizeForward recognises them.
  const suppressed = new WeakSet<Buffer>();

  const sharing = opts.redisUrl ? sharedThroughRedis(opts.redisUrl) : null;
  const aedes = await Aedes.createBroker({
    ...(sharing ? { persistence: sharing.persistence, mq: sharing.mq } : {}),
    // Messages routed at once (mqemitter's concurrency; aedes' default is 100). An alert fans out to
    // every matching subscriber in one go, about 155 each in the early-warning bench: with 100, the
    // rest waited for the first hundred's deliveries to complete.
    concurrency: 1000,
    // MQTT-3.1.3-7: a zero-length ClientId with CleanSession 0 gets CONNACK 0x02; aedes admits it.
    preConnect(client, packet, done) {
      if (!packet.clientId && !packet.clean) emptyIdPersistent.add(client);
      done(null, true);
    },

    authenticate(client, username, password, done) {
      if (emptyIdPersistent.has(client)) {
        metrics.authFailures.inc({ reason: 'empty_client_id' });
        return done(authError(2, 'a zero-length client id needs clean session 1 [MQTT-3.1.3-7]'), false);
      }
      const fail = (reason: string, code: 4 | 5 = 4) => {
        metrics.authFailures.inc({ reason });
        log.warn({ client: client.id, username, reason }, 'MQTT connection refused');
        done(authError(code, reason), false);
      };
      if (username === undefined || username === '') {
        if (!opts.allowAnonymous) return fail('anonymous connections are refused (PANTAU_ALLOW_ANONYMOUS is off)', 5);
        principals.set(client, { kind: 'anonymous' });
        return done(null, true);
      }
      const secret = password?.toString('utf8') ?? '';
      const check =
        username === 'operator'
          ? registry.authenticateOperator(secret).then((op): Principal | null => (op ? { kind: 'operator', id: op.id, role: op.role } : null))
          : registry.isSubscriber(username)
            ? registry.authenticateSubscriber(username, secret).then((id): Principal | null => (id ? { kind: 'subscriber', id } : null))
            : registry.authenticateDevice(username, secret).then((device): Principal | null => (device ? { kind: 'device', device } : null));
      check.then(
        (who) => {
          if (!who) return fail('bad user name or token');
          principals.set(client, who);
          done(null, true);
        },
        (err: Error) => fail(`authentication error: ${err.message}`),
      );
    },

    authorizePublish(client, packet, done) {
      if (!client) return done(null); // a will of a client gone before the broker restarted
      let who = principals.get(client) ?? { kind: 'anonymous' as const };
      if (who.kind === 'device') {
        // The device as it is now, not as it was at CONNECT: a PATCH may have changed its OwnTracks key since.
        const now = registry.get(who.device.id);
        if (now !== undefined && now !== who.device) {
          who = { kind: 'device', device: now };
          principals.set(client, who);
        }
      }
      const parsed = parseTopic(packet.topic);
      if (!mayPublish(who, packet.topic, parsed)) {
        metrics.authFailures.inc({ reason: 'acl_publish' });
        log.warn({ client: client.id, topic: packet.topic }, 'publish outside the client\'s topics refused; disconnecting [MQTT-3.3.5-2]');
        return done(new Error(`not authorised to publish to ${packet.topic}`));
      }
      if (!parsed || parsed.kind === 'device_inbox' || parsed.kind === 'rejects') return done(null);
      opts.ingest(who, packet, parsed).then(
        ({ forward }) => {
          if (!forward) suppressed.add(packet.payload as Buffer);
          done(null);
        },
        (err: Error) => done(err),
      );
    },

    authorizeSubscribe(client, sub, done) {
      const who = principals.get(client) ?? { kind: 'anonymous' as const };
      if (maySubscribe(who, sub.topic)) return done(null, sub);
      metrics.authFailures.inc({ reason: 'acl_subscribe' });
      log.warn({ client: client.id, topic: sub.topic }, 'subscription refused');
      done(null, null); // SUBACK 0x80 for this filter; the connection stays
    },

    authorizeForward(_client, packet) {
      return suppressed.has(packet.payload as Buffer) ? null : packet;
    },
  });

  metrics.sources.connectedClients = () => aedes.connectedClients;
  aedes.on('clientError', (client, err) => log.debug({ client: client?.id, err: err.message }, 'MQTT client error'));
  aedes.on('connectionError', (client, err) => log.debug({ client: client?.id, err: err.message }, 'MQTT connection error'));

  return {
    aedes,
    handle(stream, req) {
      const client = aedes.handle(stream, req);
      limitPacketSize(client, opts.maxPacketBytes, (size) => {
        metrics.authFailures.inc({ reason: 'packet_too_large' });
        log.warn({ client: client.id, bytes: size, max: opts.maxPacketBytes }, 'MQTT packet over PANTAU_MAX_PACKET_BYTES; disconnecting');
      });
      return client;
    },
    disconnectWhere(match) {
      let closed = 0;
      const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
      for (const client of Object.values(clients)) {
        const who = principals.get(client);
        if (!who || !match(who)) continue;
        client.close();
        closed++;
      }
      return closed;
    },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      if (sharing) await closeRedisSharing(sharing);
    },
  };
}
