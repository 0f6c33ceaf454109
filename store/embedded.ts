// Starts the embedded TimescaleDB worker and hands back what `pg` needs to reach it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

interface EmbeddedWorkerData {
  pgDataDir: string;
  socketPath: string;
}
type EmbeddedWorkerMessage = { type: 'ready' } | { type: 'closed' } | { type: 'error'; message: string };

export interface EmbeddedDatabase {
  /** directory holding the socket `.s.PGSQL.5432`, the form `pg` takes as `host` */
  socketDir: string;
  worker: Worker;
  /** resolves when the worker is gone, whether closed or crashed */
  exited: Promise<void>;
  close(): Promise<void>;
}

/** A second engine on the same data directory would corrupt it: refuse with the pid that holds it. */
function takeLock(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'pantau.lock');
  try {
    const pid = Number(fs.readFileSync(lockPath, 'utf8'));
    if (pid && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        throw new Error(`PANTAU_DATA_DIR ${dataDir} is in use by process ${pid}; stop it or choose another PANTAU_DATA_DIR`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.writeFileSync(lockPath, String(process.pid));
  return () => fs.rmSync(lockPath, { force: true });
}

export async function startEmbedded(dataDir: string): Promise<EmbeddedDatabase> {
  fs.mkdirSync(dataDir, { recursive: true });
  const releaseLock = takeLock(dataDir);
  // unix socket paths are limited to ~107 bytes, so the socket lives in a short temp dir
  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-pg-'));
  const data: EmbeddedWorkerData = { pgDataDir: path.join(dataDir, 'pg'), socketPath: path.join(socketDir, '.s.PGSQL.5432') };
  const worker = new Worker(new URL('./embedded-worker.mjs', import.meta.url), { workerData: data });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const cleanup = () => {
    fs.rmSync(socketDir, { recursive: true, force: true });
    releaseLock();
  };
  void exited.then(cleanup);

  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: EmbeddedWorkerMessage) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'error') reject(new Error(`embedded TimescaleDB failed to start: ${m.message}`));
    };
    worker.once('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`embedded TimescaleDB worker exited with code ${code} while starting`)));
  });

  let closing: Promise<void> | null = null;
  return {
    socketDir,
    worker,
    exited,
    close() {
      closing ??= (async () => {
        const done = new Promise<void>((resolve) => {
          worker.on('message', (m: EmbeddedWorkerMessage) => {
            if (m.type === 'closed' || m.type === 'error') resolve();
          });
          void exited.then(resolve);
        });
        worker.postMessage({ type: 'close' });
        await Promise.race([done, new Promise((r) => setTimeout(r, 10_000).unref())]);
        await worker.terminate();
        await exited;
      })();
      return closing;
    },
  };
}
