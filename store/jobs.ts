// PGlite runs no background workers, so TimescaleDB never starts its policy jobs (compression,
// retention, aggregate refresh) by itself there. In embedded mode we run the due ones ourselves;
// `CALL run_job(id)` is the same entry point TimescaleDB's scheduler uses.
import type { Db } from './db.ts';
import type { Logger } from '../engine/log.ts';

interface JobRow {
  job_id: number;
  proc_name: string;
  hypertable_name: string | null;
  schedule_ms: number;
}

export interface JobRunner {
  /** runs every job whose schedule interval has passed since its last run here; returns their ids */
  runDue(nowMs?: number): Promise<number[]>;
  /** no new job starts; resolves when the one running (if any) has finished, so the pool can close */
  stop(): Promise<void>;
}

export function startJobRunner(db: Db, checkEveryMs: number, log: Logger): JobRunner {
  const lastRunMs = new Map<number, number>();
  let running: Promise<number[]> | null = null;
  let stopped = false;

  async function runDueOnce(nowMs: number): Promise<number[]> {
    const jobs = await db.query<JobRow>(
      `SELECT job_id, proc_name, hypertable_name, (extract(epoch FROM schedule_interval) * 1000)::float8 AS schedule_ms
       FROM timescaledb_information.jobs WHERE scheduled ORDER BY job_id`,
    );
    const ran: number[] = [];
    for (const job of jobs) {
      if (stopped) break;
      const last = lastRunMs.get(job.job_id);
      if (last !== undefined && nowMs - last < job.schedule_ms) continue;
      const t0 = Date.now();
      try {
        await db.query('CALL run_job($1)', [job.job_id]);
        log.debug({ job: job.job_id, proc: job.proc_name, table: job.hypertable_name, ms: Date.now() - t0 }, 'ran TimescaleDB job');
      } catch (err) {
        log.warn({ job: job.job_id, proc: job.proc_name, err: (err as Error).message }, 'TimescaleDB job failed; will retry next interval');
      }
      lastRunMs.set(job.job_id, nowMs);
      ran.push(job.job_id);
    }
    return ran;
  }

  const runDue = (nowMs = Date.now()) => {
    running ??= runDueOnce(nowMs).finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => {
    runDue().catch((err) => log.warn({ err: (err as Error).message }, 'TimescaleDB job check failed'));
  }, checkEveryMs);
  timer.unref();
  return {
    runDue,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
