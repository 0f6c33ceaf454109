// Starts a real engine on an embedded database in a temp dir, on free ports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../engine/config.ts';
import { startEngine, type Engine } from '../../engine/engine.ts';
import { createLogger, silentLogger } from '../../engine/log.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-test-'));
}

export async function startTestEngine(overrides: Partial<Config> = {}, listen = true): Promise<Engine> {
  const config = loadConfig(
    { PANTAU_MQTT_PORT: '0', PANTAU_HTTP_PORT: '0', PANTAU_HOST: '127.0.0.1', PANTAU_ADMIN_TOKEN: ADMIN_TOKEN, PANTAU_DATA_DIR: overrides.dataDir ?? tempDataDir() },
    [],
    overrides,
  );
  // PANTAU_TEST_LOG=debug|info|warn|error shows an engine's log while debugging a test
  const level = process.env.PANTAU_TEST_LOG as 'debug' | 'info' | 'warn' | 'error' | undefined;
  return startEngine(config, { log: level ? createLogger(level) : silentLogger, listen });
}

export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

export async function provision(engine: Engine, body: Record<string, unknown>): Promise<string> {
  const res = await engine.app.inject({ method: 'POST', url: '/api/v1/devices', headers: auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`provision failed: ${res.statusCode} ${res.body}`);
  return res.json().token as string;
}
