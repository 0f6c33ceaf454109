// The demo's flood scenario against a real engine, on a fast river clock (one river hour = one
// second): rain, Katulampa to Siaga 1, Depok and Manggarai forecast, then reached.
import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine/engine.ts';
import { ADMIN_TOKEN, auth, startTestEngine } from './helpers/engine.ts';
import { collect, connect, waitFor } from './helpers/mqtt.ts';
import { runSimulation, type SimLogger, type SimulationHandle } from '../simulators/runner.ts';
import { rainMmPerH, startFloodScenario, waveCm, type FloodScenario } from '../simulators/flood.ts';

const quiet: SimLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
let engine: Engine | undefined;
let sim: SimulationHandle | undefined;
let flood: FloodScenario | undefined;

afterAll(async () => {
  await flood?.stop();
  await sim?.stop();
  await engine?.close();
});

describe('flood wave shape', () => {
  it('rises smoothly to the crest, holds, recedes; rain only in its window', () => {
    const w = { gaugeId: 'x', riseStartMs: 1000, riseMs: 1000, holdMs: 1000, recessMs: 1000, crestCm: 100 };
    expect(waveCm(w, 0)).toBe(0);
    expect(waveCm(w, 1500)).toBeCloseTo(50, 6);
    expect(waveCm(w, 2500)).toBe(100);
    expect(waveCm(w, 4000)).toBeCloseTo(100 / Math.E, 6);
    expect(rainMmPerH(-1)).toBe(0);
    expect(rainMmPerH(1.5 * 3_600_000)).toBeCloseTo(60, 6);
    expect(rainMmPerH(4 * 3_600_000)).toBe(0);
  });
});

describe('flood scenario', () => {
  it('plays rain, Katulampa to Siaga 1, forecasts downstream, and the wave arriving', async () => {
    engine = await startTestEngine();
    const apiUrl = `http://127.0.0.1:${engine.ports.http}`;
    const mqttUrl = `mqtt://127.0.0.1:${engine.ports.mqtt}`;
    sim = await runSimulation({
      apiUrl, mqttUrl, adminToken: ADMIN_TOKEN, logger: quiet, sensorIntervalMs: 250,
      fleet: { ambulance: 0, garbage_truck: 0, blue_crew_truck: 0 },
    });
    expect(await sim.waitForConnections(15_000)).toBe(true);
    const op = await connect(engine, { username: 'operator', password: ADMIN_TOKEN });
    const alertsOnMqtt = await collect(op, 'pantau/v1/alerts/#');
    flood = await startFloodScenario({ apiUrl, mqttUrl, adminToken: ADMIN_TOKEN, stations: sim.stations, timeScale: 3600, startAfterS: 0, log: quiet });

    const active = async () => (await engine!.app.inject({ method: 'GET', url: '/api/v1/alerts?state=active', headers: auth })).json().alerts as Array<Record<string, unknown>>;
    const has = (list: Array<Record<string, unknown>>, kind: string, source: string, level?: string) =>
      list.some((a) => a.kind === kind && a.source_id === source && (!level || a.level === level));

    // rain is recorded
    await waitFor(async () => {
      const r = (await engine!.app.inject({ method: 'GET', url: '/api/v1/sensors/hujan-katulampa', headers: auth })).json();
      return r.values?.rain_mm?.value > 0;
    }, 10_000);
    // Katulampa reaches Siaga 1 and both downstream gauges are forecast
    await waitFor(async () => {
      const list = await active();
      return has(list, 'water_level', 'katulampa', 'SIAGA_1') && has(list, 'flood_forecast', 'depok') && has(list, 'flood_forecast', 'manggarai');
    }, 20_000);
    // the wave reaches Depok, then Manggarai: observed alerts replace the forecasts
    await waitFor(async () => has(await active(), 'water_level', 'depok'), 20_000);
    await waitFor(async () => has(await active(), 'water_level', 'manggarai'), 30_000);
    const resolved = (await engine.app.inject({ method: 'GET', url: '/api/v1/alerts?state=resolved&kind=flood_forecast', headers: auth })).json().alerts as Array<{ source_id: string; resolution: string }>;
    expect(resolved.some((a) => a.source_id === 'depok' && a.resolution.startsWith('arrived'))).toBe(true);
    expect(resolved.some((a) => a.source_id === 'manggarai' && a.resolution.startsWith('arrived'))).toBe(true);
    // a dry rain gauge reads 0 mm for many reports: that is not a stuck sensor
    const everStuck = (await engine.app.inject({ method: 'GET', url: '/api/v1/alerts?kind=sensor_stuck&source_id=hujan-katulampa', headers: auth })).json().alerts;
    expect(everStuck).toEqual([]);
    // and all of it was on MQTT, retained per source
    expect(alertsOnMqtt.some((m) => m.topic === 'pantau/v1/alerts/water_level/katulampa' && m.json.level === 'SIAGA_1')).toBe(true);
    expect(alertsOnMqtt.some((m) => m.topic === 'pantau/v1/alerts/flood_forecast/manggarai')).toBe(true);
    await op.endAsync();
  }, 90_000);
});
