// The control-room dashboard in a real browser: Debian's Chromium driven by playwright-core, against an engine
// fed by the simulators over real MQTT. Tests read the DOM's data-* attributes (markers carry data-vehicle-id and
// data-status, gauges data-level, alerts data-handling), never pixels; a screenshot is kept as an artifact.
// A missing Chromium FAILS these tests with the Debian package to install (README, Development).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/engine.ts';
import { runSimulation, type SimulationHandle } from '../../simulators/runner.ts';
import { ADMIN_TOKEN, auth, provision, startTestEngine } from '../helpers/engine.ts';
import { connect } from '../helpers/mqtt.ts';
import { DIST_DIR } from '../../api/index-page.ts';
import { loadConfig } from '../../engine/config.ts';
import { ffmpegProblem } from '../../cctv/ffmpeg.ts';
import { startRtspServer, type RtspServer } from '../helpers/rtsp.ts';

// Callbacks given to page.evaluate run in the browser; this tsconfig has no DOM lib, so they name what they use.
declare const getComputedStyle: (el: unknown) => { backgroundColor: string; borderLeftColor: string };
declare const sessionStorage: { getItem(key: string): string | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const FLEET = { ambulance: 20, garbage_truck: 10, blue_crew_truck: 10 };
const VEHICLES = FLEET.ambulance + FLEET.garbage_truck + FLEET.blue_crew_truck;
/** a gauge of the test's own beside the simulated ones, so the simulators never publish over its readings */
const GAUGE = { id: 'pintu-uji', name: 'Pintu Air Uji', lat: -6.2, lon: 106.83 };
/** style.css: --st-available, --lv-SIAGA_1 */
const GREEN = 'rgb(34, 197, 94)';
const SIAGA_1_RED = 'rgb(220, 38, 38)';

let engine: Engine;
let sim: SimulationHandle | null = null;
let browser: Browser | null = null;
let page: Page;
let gauge: MqttClient | null = null;
let baseUrl = '';
/** A missing program, kept so that every test FAILS with it (a throwing beforeAll would only mark them skipped). */
let missing: Error | null = null;
const needTools = () => {
  if (missing) throw missing;
};
/** CCTV needs ffmpeg and the RTSP test server besides Chromium; only the CCTV test fails without them */
let rtsp: RtspServer | null = null;
let missingCctv: Error | null = null;

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const backgroundOf = (l: Locator) => l.evaluate((el) => getComputedStyle(el).backgroundColor);

async function api<T>(method: string, url: string, payload?: unknown): Promise<T> {
  const res = await engine.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as T;
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    return void (missing = new Error(`${CHROMIUM} is missing: install Debian's package chromium (apt-get install -y chromium), or point CHROMIUM_PATH at a Chromium`));
  }
  if (!fs.existsSync(path.join(DIST_DIR, 'index.html'))) {
    return void (missing = new Error('web/dist is missing: build the dashboard with npm run build:web (npm run test:e2e does it first)'));
  }
  const ffmpegPath = loadConfig(process.env).ffmpegPath;
  const problem = await ffmpegProblem(ffmpegPath);
  if (problem) missingCctv = new Error(problem);
  else {
    try {
      rtsp = await startRtspServer();
    } catch (err) {
      missingCctv = err as Error;
    }
  }
  engine = await startTestEngine({ streamVehicleHz: 4, ffmpegPath, cameraIdleGraceMs: 500 });
  baseUrl = `http://127.0.0.1:${engine.ports.http}`;
  // the test's gauge, with thresholds of its own (before the page loads, so it is on the map from the start)
  const token = await provision(engine, { id: GAUGE.id, kind: 'sensor', type: 'water_level', name: GAUGE.name, lat: GAUGE.lat, lon: GAUGE.lon });
  await api('PUT', `/sensors/${GAUGE.id}/thresholds`, {
    metric: 'water_level_cm', levels: [{ name: 'SIAGA_3', value: 80 }, { name: 'SIAGA_2', value: 150 }, { name: 'SIAGA_1', value: 200 }], hysteresis: 5, min_duration_s: 0,
  });
  gauge = await connect(engine, { username: GAUGE.id, password: token, clientId: GAUGE.id });
  await gauge.publishAsync(`pantau/v1/sensors/${GAUGE.id}/reading`, JSON.stringify({ ts: Date.now(), values: { water_level_cm: 40 } }), { qos: 1 });

  // The simulated city, small and fast: every vehicle reports each second, every station each 2 s.
  sim = await runSimulation({
    mqttUrl: `mqtt://127.0.0.1:${engine.ports.mqtt}`, apiUrl: baseUrl, adminToken: ADMIN_TOKEN,
    fleet: FLEET, sensors: 27, vehicleRateHz: 1, sensorIntervalMs: 2000, rampMs: 300,
    logger: { info: () => {}, warn: () => {}, error: (f, m) => process.stderr.write(`simulator: ${m} ${JSON.stringify(f)}\n`) },
  });
  expect(await sim.waitForConnections(20_000)).toBe(true);
  await waitFor('every simulated vehicle live', () => engine.vehicles.size === VEHICLES, 15_000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // as root no sandbox; the rest keeps Chromium off the network it cannot reach here
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
});

afterAll(async () => {
  await browser?.close();
  await gauge?.endAsync();
  await sim?.stop();
  await engine?.close();
  rtsp?.stop();
});

describe('control-room dashboard in Chromium', () => {
  it('asks for a token, explains a wrong one, then loads the simulated city with a live stream', async () => {
    needTools();
    await page.goto(baseUrl + '/');
    await page.locator('[data-testid="login"]').waitFor({ state: 'visible' });
    await page.fill('[data-testid="token-input"]', 'not-a-real-token-000000');
    await page.click('[data-testid="login-submit"]');
    await expect.poll(() => page.textContent('[data-testid="login-error"]')).toMatch(/Wrong token/);

    await page.fill('[data-testid="token-input"]', ADMIN_TOKEN);
    await page.click('[data-testid="login-submit"]');
    await page.locator('[data-testid="stream-status"][data-state="open"]').waitFor({ timeout: 10_000 });
    await page.locator('body[data-loaded="true"]').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('pantau.token'))).toBe(ADMIN_TOKEN);
    // the bundled basemap: outline, rivers and roads drawn by Leaflet as SVG paths, no tiles fetched
    expect(await page.locator('#map svg path').count()).toBeGreaterThan(10);
    expect(await page.locator('img.leaflet-tile').count()).toBe(0);

    await expect.poll(() => page.locator('[data-testid="gauge-marker"]').count()).toBe(13); // 12 of Dinas SDA + the test's
    await expect.poll(() => page.locator('[data-testid="air-marker"]').count()).toBe(15);
    await expect.poll(() => page.textContent('[data-testid="fleet-total"][data-type="ambulance"]')).toBe(String(FLEET.ambulance));
    // a reload keeps the session's token: no second login
    await page.reload();
    await page.locator('[data-testid="stream-status"][data-state="open"]').waitFor({ timeout: 10_000 });
  });

  it('draws one marker per live vehicle, as many as GET /vehicles lists', async () => {
    needTools();
    const listed = await api<{ features: Array<{ properties: { id: string } }> }>('GET', '/vehicles');
    expect(listed.features).toHaveLength(VEHICLES);
    const markers = page.locator('[data-testid="vehicle-marker"]');
    await expect.poll(() => markers.count()).toBe(listed.features.length);
    const ids = await markers.evaluateAll((els) => els.map((el) => el.getAttribute('data-vehicle-id')));
    expect(new Set(ids)).toEqual(new Set(listed.features.map((f) => f.properties.id)));
    for (const status of await markers.evaluateAll((els) => els.map((el) => el.getAttribute('data-status')))) {
      expect(['available', 'dispatched', 'en_route', 'on_scene', 'busy', 'out_of_service']).toContain(status);
    }
  });

  it('dispatches from a click on the map: nearest ambulances with distance and ETA, a reservation, its colour and its states', async () => {
    needTools();
    const map = await page.locator('[data-testid="map"]').boundingBox();
    await page.mouse.click(map!.x + map!.width / 2, map!.y + map!.height / 2);
    await page.locator('[data-testid="incident-marker"]').waitFor();
    const candidates = page.locator('[data-testid="candidate"]');
    await expect.poll(() => candidates.count()).toBeGreaterThan(0);
    expect(await candidates.first().textContent()).toMatch(/\d(\.\d)? k?m.*\d+ (s|min)/);
    const firstId = (await candidates.first().getAttribute('data-vehicle-id'))!;
    expect(firstId).toMatch(/^amb-/);
    const firstMarker = page.locator(`[data-testid="vehicle-marker"][data-vehicle-id="${firstId}"]`);
    expect(await firstMarker.getAttribute('data-status')).toBe('available');
    expect(await backgroundOf(firstMarker)).toBe(GREEN);

    await page.click('[data-testid="dispatch-submit"]');
    const card = page.locator('[data-testid="dispatch"]').first();
    await card.waitFor();
    const vehicleId = (await card.getAttribute('data-vehicle-id'))!;
    const dispatchId = (await card.getAttribute('data-dispatch-id'))!;
    expect(await card.getAttribute('data-state')).toBe('dispatched');
    // the engine reserved it (the server picks the nearest atomically: the first candidate unless it moved meanwhile)
    const reserved = await api<{ state: string; vehicle: { id: string; status: string } }>('GET', `/dispatches/${dispatchId}`);
    expect(reserved).toMatchObject({ state: 'dispatched', vehicle: { id: vehicleId, status: 'dispatched' } });
    const marker = page.locator(`[data-testid="vehicle-marker"][data-vehicle-id="${vehicleId}"]`);
    await expect.poll(() => marker.getAttribute('data-status')).toBe('dispatched');
    expect(await backgroundOf(marker)).not.toBe(GREEN);
    const dispatchedColour = await backgroundOf(marker);

    // the crew moves on: each state from the panel, followed on the map through the live stream
    await card.locator('[data-testid="dispatch-action"][data-action="en_route"]').click();
    await expect.poll(() => page.locator(`[data-testid="dispatch"][data-dispatch-id="${dispatchId}"]`).getAttribute('data-state')).toBe('en_route');
    await expect.poll(() => marker.getAttribute('data-status')).toBe('en_route');
    expect(await backgroundOf(marker)).not.toBe(dispatchedColour);
    await page.locator(`[data-testid="dispatch"][data-dispatch-id="${dispatchId}"] [data-testid="dispatch-action"][data-action="on_scene"]`).click();
    await expect.poll(() => marker.getAttribute('data-status')).toBe('on_scene');
    // a state change made elsewhere (another operator, the crew's terminal) reaches the panel by the stream
    await api('PATCH', `/dispatches/${dispatchId}`, { state: 'closed' });
    await expect.poll(() => page.locator(`[data-testid="dispatch"][data-dispatch-id="${dispatchId}"]`).getAttribute('data-state')).toBe('closed');
    await expect.poll(() => marker.getAttribute('data-status')).toBe('available');
    expect(await backgroundOf(marker)).toBe(GREEN);
  });

  it('turns a gauge to its Siaga colour and lists the alert within 2 s of an MQTT reading, then yellow when acknowledged and green when resolved', async () => {
    needTools();
    const marker = page.locator(`[data-testid="gauge-marker"][data-sensor-id="${GAUGE.id}"]`);
    expect(await marker.getAttribute('data-level')).toBe('NORMAL');
    const row = page.locator(`[data-testid="alert"][data-source-id="${GAUGE.id}"][data-kind="water_level"]`);
    expect(await row.count()).toBe(0);

    const t0 = Date.now();
    await gauge!.publishAsync(`pantau/v1/sensors/${GAUGE.id}/reading`, JSON.stringify({ ts: Date.now(), values: { water_level_cm: 215 } }), { qos: 1 });
    await waitFor('the gauge at SIAGA_1 and its alert in the panel', async () => (await marker.getAttribute('data-level')) === 'SIAGA_1' && (await row.count()) === 1, 2000);
    const elapsedMs = Date.now() - t0;
    expect(elapsedMs).toBeLessThan(2000);
    expect(await backgroundOf(marker)).toBe(SIAGA_1_RED);
    expect(await row.getAttribute('data-level')).toBe('SIAGA_1');
    expect(await row.getAttribute('data-handling')).toBe('new');
    await expect.poll(() => marker.textContent()).toBe('215');

    // Damamaya: yellow while it is being handled, green when done
    await row.locator('[data-testid="alert-ack"]').click();
    await expect.poll(() => row.getAttribute('data-handling')).toBe('acknowledged');
    // the panel re-renders on every alert (the simulated stations raise some too): poll rather than hold an element
    const stripe = () => row.evaluate((el) => getComputedStyle(el).borderLeftColor).catch(() => '');
    await expect.poll(stripe).toBe('rgb(250, 204, 21)');
    await gauge!.publishAsync(`pantau/v1/sensors/${GAUGE.id}/reading`, JSON.stringify({ ts: Date.now(), values: { water_level_cm: 30 } }), { qos: 1 });
    await expect.poll(() => row.getAttribute('data-handling')).toBe('resolved');
    await expect.poll(stripe).toBe(GREEN);
    await expect.poll(() => marker.getAttribute('data-level')).toBe('NORMAL');
    process.stdout.write(`gauge marker and alert row updated ${elapsedMs} ms after the MQTT publish\n`);
  });

  it('plays the cameras nearest to a new dispatch in the CCTV tiles (JSMpeg through the relay)', async () => {
    needTools();
    if (missingCctv) throw missingCctv;
    const map = await page.locator('[data-testid="map"]').boundingBox();
    await page.mouse.click(map!.x + map!.width * 0.42, map!.y + map!.height * 0.4);
    const [lat, lon] = (await waitFor('the incident location', () => page.textContent('[data-testid="incident-location"]')))!.split(',').map(Number) as [number, number];
    // two cameras within the attach radius (1 km) of the incident, both showing the RTSP test pattern
    for (const [id, name, dLat] of [['cam-uji-1', 'Simpang Uji', 0.001], ['cam-uji-2', 'Jembatan Uji', -0.003]] as const) {
      await api('POST', '/cameras', { id, name, lat: lat + dLat, lon, rtsp_url: rtsp!.url });
    }
    await page.click('[data-testid="dispatch-submit"]');
    const tiles = page.locator('[data-testid="camera-tile"]');
    await expect.poll(() => tiles.count()).toBe(2);
    expect(await tiles.first().getAttribute('data-camera-id')).toBe('cam-uji-1');
    await page.locator('[data-testid="camera-tile"][data-state="playing"]').nth(1).waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid="camera-tile"][data-state="playing"] .tile-status').first().textContent()).toBe('live 320x240');
  });

  it('saves a screenshot of the wall as a test artifact', async () => {
    needTools();
    // a live situation on the wall for the picture: a gauge at Siaga 2, an open dispatch, its cameras
    await gauge!.publishAsync(`pantau/v1/sensors/${GAUGE.id}/reading`, JSON.stringify({ ts: Date.now(), values: { water_level_cm: 160 } }), { qos: 1 });
    await page.locator(`[data-testid="gauge-marker"][data-sensor-id="${GAUGE.id}"][data-level="SIAGA_2"]`).waitFor();
    // the CCTV test left a dispatch open; without it, open one
    if ((await page.locator('[data-testid="dispatch"][data-state="dispatched"]').count()) === 0) await page.click('[data-testid="dispatch-submit"]');
    await expect.poll(() => page.locator('[data-testid="dispatch"][data-state="dispatched"]').count()).toBeGreaterThan(0);
    await expect.poll(() => page.textContent('[data-testid="fleet-cell"][data-type="ambulance"][data-status="dispatched"]')).not.toBe('0');
    // video frames painted, if the CCTV test ran
    if (!missingCctv) await page.waitForTimeout(1500);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: file });
    expect(fs.statSync(file).size).toBeGreaterThan(50_000);
    process.stdout.write(`dashboard screenshot: ${file}\n`);
  });
});
