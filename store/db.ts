// The one door to TimescaleDB: a `pg` pool to a server (DATABASE_URL) or to the embedded worker.
import pg from 'pg';
import type { Config } from '../engine/config.ts';
import { startEmbedded, type EmbeddedDatabase } from './embedded.ts';
import type { Logger } from '../engine/log.ts';

// int8 (count(*), bigint seq) as JS numbers: our counts and sequence numbers stay below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export interface Db {
  readonly embedded: boolean;
  /** `name` makes it a prepared statement, parsed once per connection (for hot statements). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<T[]>;
  /** true when a trivial query answers within the timeout */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, log: Logger): Promise<Db> {
  let embedded: EmbeddedDatabase | null = null;
  let pool: pg.Pool;
  if (config.databaseUrl) {
    pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  } else {
    const t0 = Date.now();
    embedded = await startEmbedded(config.dataDir);
    log.info({ dataDir: config.dataDir, ms: Date.now() - t0 }, 'embedded TimescaleDB started');
    // pglite-socket serves exactly one connection: a second would be terminated (DESIGN.md).
    pool = new pg.Pool({ host: embedded.socketDir, user: 'postgres', database: 'postgres', max: 1, idleTimeoutMillis: 0 });
    embedded.exited.then(() => {
      if (!closed) log.error({}, 'embedded TimescaleDB worker exited unexpectedly');
    });
  }
  pool.on('error', (err) => log.error({ err: err.message }, 'database connection error'));
  let closed = false;

  const db: Db = {
    embedded: embedded !== null,
    async query<T>(sql: string, params?: unknown[], name?: string) {
      // Not pool.query(): it destroys the connection after any SQL error, and the embedded
      // socket refuses a new connection while it is still closing the old one. An error the
      // server answered (a DatabaseError) leaves the connection healthy, so it is kept.
      const client = await pool.connect();
      try {
        const res = await client.query(name ? { name, text: sql, values: params } : { text: sql, values: params });
        client.release();
        return res.rows as T[];
      } catch (err) {
        client.release(err instanceof pg.DatabaseError ? undefined : (err as Error));
        throw err;
      }
    },
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          pool.query('SELECT 1').then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), timeoutMs);
          }),
        ]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
      await embedded?.close();
    },
  };
  return db;
}
