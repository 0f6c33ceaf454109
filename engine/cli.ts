// pantau serve | demo | simulate (CONTRACT.md, Commands).
import { ConfigError, loadConfig } from './config.ts';
import { startEngine, type Engine } from './engine.ts';
import { createLogger } from './log.ts';
import { simulateCommand } from '../simulators/load.ts';
import { runCity } from '../simulators/runner.ts';
import { startFloodScenario } from '../simulators/flood.ts';
import { startReplica } from './replica.ts';

const USAGE = `usage: pantau <command> [flags]
  serve      the engine alone: broker, ingest, store, live indexes, API
  demo       the engine plus the simulated city of Jakarta (what npm start runs)
  replica    a read-only API replica of live vehicles (GET /vehicles, /vehicles/nearest) following an engine:
             PANTAU_ENGINE_URL, PANTAU_ENGINE_MQTT_URL, PANTAU_REPLICA_TOKEN, PANTAU_HTTP_PORT
  simulate   load generator: --vehicles N --sensors M --rate HZ --url mqtt://HOST:PORT [--no-provision]
Engine flags override environment variables of the same name, e.g. --mqtt-port 1884 for PANTAU_MQTT_PORT.`;

function addresses(engine: Engine): string {
  const host = engine.config.host === '0.0.0.0' || engine.config.host === '::' ? 'localhost' : engine.config.host;
  const http = `http://${host}:${engine.ports.http}`;
  const lines = [
    '',
    'Pantau is running',
    `  dashboard   ${http}/`,
    `  API         ${http}/api/v1   (e.g. curl -H "Authorization: Bearer $TOKEN" ${http}/api/v1/vehicles)`,
    `  API docs    ${http}/docs`,
    `  metrics     ${http}/metrics`,
    `  MQTT        mqtt://${host}:${engine.ports.mqtt}   and ws://${host}:${engine.ports.http}/mqtt`,
    `  data        ${engine.db.embedded ? `embedded TimescaleDB in ${engine.config.dataDir}` : 'TimescaleDB at DATABASE_URL'}`,
  ];
  if (engine.generatedAdminToken) {
    lines.push(`  admin token ${engine.generatedAdminToken}`, '              (shown once: keep it; it is stored only as a hash)');
  } else if (engine.config.adminToken) {
    lines.push('  admin token the PANTAU_ADMIN_TOKEN you set');
  } else {
    lines.push(`  admin token printed at the first start; lost it? stop Pantau and run: npx pantau rotate-admin-token`);
  }
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'simulate') {
    process.exitCode = await simulateCommand(rest, { logger: createLogger('info') });
    return;
  }
  if (command === 'replica') {
    const config = loadConfig(process.env, rest);
    const log = createLogger(config.logLevel);
    const replica = await startReplica(config, { log });
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    process.stdout.write(`\nPantau API replica is running\n  API         http://${host}:${replica.ports.http}/api/v1/vehicles/nearest?lat=&lon=\n  following   ${config.engineUrl}\n  metrics     http://${host}:${replica.ports.http}/metrics\n`);
    const stop = (signal: string) => {
      log.info({ signal }, 'replica stopping');
      void replica.close().then(() => process.exit(0));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    return;
  }
  if (command !== 'serve' && command !== 'demo' && command !== 'rotate-admin-token') {
    process.stderr.write(USAGE + '\n');
    process.exit(command === undefined || command === '--help' || command === 'help' ? 0 : 2);
  }
  const config = loadConfig(process.env, rest);
  if (command === 'rotate-admin-token') {
    const engine = await startEngine(config, { listen: false, log: createLogger('warn') });
    const token = await engine.registry.issueOperatorToken('admin', 'admin');
    await engine.close();
    process.stdout.write(`new admin token (the old one no longer works): ${token}\n`);
    return;
  }
  const engine = await startEngine(config);
  let city: { stop(): Promise<void> } | null = null;
  if (command === 'demo') {
    // The simulated city provisions its devices through the API like any client, with a token of its own.
    const token = await engine.registry.issueOperatorToken('demo-simulator', 'admin');
    const apiUrl = `http://127.0.0.1:${engine.ports.http}`;
    const mqttUrl = `mqtt://127.0.0.1:${engine.ports.mqtt}`;
    // Stations report every 15 s so the flood wave, on its 60x clock, is sampled finely enough.
    const sim = await runCity({ apiUrl, mqttUrl, adminToken: token, log: engine.log, sensorIntervalMs: 15_000 });
    const flood = await startFloodScenario({ apiUrl, mqttUrl, adminToken: token, stations: sim.stations, log: engine.log });
    city = {
      async stop() {
        await flood.stop();
        await sim.stop();
      },
    };
  }
  process.stdout.write(addresses(engine));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    engine.log.info({ signal }, 'draining and stopping');
    void (async () => {
      await city?.stop();
      await engine.close();
      process.exit(0);
    })();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main(process.argv.slice(2)).catch((err: Error) => {
  if (err instanceof ConfigError) process.stderr.write(`pantau: configuration error: ${err.message}\n`);
  else process.stderr.write(`pantau: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
