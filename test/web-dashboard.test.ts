// The dashboard's server side and data: GET / and /assets/ from a build (or a clear 503 without one), the tile
// URL setting written into the page, and the bundled basemap kept in step with its generator.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardRoutes, pageConfigJson } from '../api/index-page.ts';
import { ApiError } from '../api/errors.ts';
import { ConfigError, loadConfig, type Config } from '../engine/config.ts';
import { BASEMAP_FILE, basemapText, buildBasemap } from '../web/scripts/build-basemap.ts';
import { JAKARTA_BBOX } from '../simulators/roads.ts';
import gaugesJson from '../domain/jakarta-gauges.json' with { type: 'json' };

const PAGE = '<!doctype html><html><head><title>Pantau</title><script id="pantau-config" type="application/json">{}</script></head><body></body></html>';

async function serve(distDir: string, config: Partial<Config> = {}): Promise<FastifyInstance> {
  const app = Fastify();
  // as api/app.ts answers an ApiError
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    return reply.code(500).send({ error: 'INTERNAL', message: String(err) });
  });
  await app.register(dashboardRoutes({ config: loadConfig({}, [], config), version: '9.9.9' }, distDir));
  return app;
}

let built: string;
let empty: string;
beforeAll(() => {
  built = fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-dist-'));
  fs.mkdirSync(path.join(built, 'assets'));
  fs.writeFileSync(path.join(built, 'index.html'), PAGE);
  fs.writeFileSync(path.join(built, 'assets', 'index-AbC123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(built, 'secret.js'), 'no');
  empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pantau-nodist-'));
});
afterAll(() => {
  fs.rmSync(built, { recursive: true, force: true });
  fs.rmSync(empty, { recursive: true, force: true });
});

describe('GET / and /assets/', () => {
  it('answers 503 with how to build when web/dist is missing: a page for browsers, a coded error otherwise', async () => {
    const app = await serve(empty);
    const page = await app.inject({ url: '/', headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.statusCode).toBe(503);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toMatch(/<title>Pantau<\/title>/);
    expect(page.body).toContain('npm run build:web');
    const json = await app.inject({ url: '/', headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(503);
    expect(json.json()).toMatchObject({ error: 'DASHBOARD_NOT_BUILT', message: expect.stringContaining('npm run build:web') });
  });

  it('serves the built page with the engine settings written in, and hashed assets cached for good', async () => {
    const app = await serve(built);
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-cache');
    const cfg = JSON.parse(/<script id="pantau-config" type="application\/json">(.*?)<\/script>/.exec(page.body)![1]!);
    expect(cfg).toEqual({ tile_url: null, tile_attribution: '', version: '9.9.9' });
    const asset = await app.inject({ url: '/assets/index-AbC123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/text\/javascript/);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    for (const bad of ['/assets/..%2Fsecret.js', '/assets/%2E%2E%2Fsecret.js', '/assets/missing.js', '/assets/.env', '/assets/index-AbC123.exe']) {
      const res = await app.inject({ url: bad });
      expect(res.statusCode, bad).toBe(404);
      expect(res.json().error).toBe('NOT_FOUND');
    }
  });

  it('writes PANTAU_TILE_URL into the page as JSON that cannot close its <script>', async () => {
    const tileUrl = 'https://tiles.example.org/{z}/{x}/{y}.png?k=</script><b>';
    const app = await serve(built, { tileUrl, tileAttribution: '© Example <contributors>' });
    const body = (await app.inject({ url: '/' })).body;
    expect(body).not.toContain('</script><b>');
    const cfg = JSON.parse(/<script id="pantau-config" type="application\/json">(.*?)<\/script>/.exec(body)![1]!);
    expect(cfg).toMatchObject({ tile_url: tileUrl, tile_attribution: '© Example <contributors>' });
    expect(pageConfigJson({ config: loadConfig({}), version: '1' })).toBe('{"tile_url":null,"tile_attribution":"","version":"1"}');
  });
});

describe('PANTAU_TILE_URL', () => {
  it('is unset by default (offline basemap only) and takes an http(s) template with {z}, {x} and {y}', () => {
    expect(loadConfig({}).tileUrl).toBeNull();
    expect(loadConfig({ PANTAU_TILE_URL: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png' }).tileUrl).toBe('https://tile.openstreetmap.org/{z}/{x}/{y}.png');
    expect(loadConfig({ PANTAU_TILE_ATTRIBUTION: '© OpenStreetMap' }).tileAttribution).toBe('© OpenStreetMap');
    for (const bad of ['https://tile.openstreetmap.org/{x}/{y}.png', 'ftp://tiles/{z}/{x}/{y}.png', 'not a url']) {
      expect(() => loadConfig({ PANTAU_TILE_URL: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ PANTAU_TILE_URL: bad })).toThrow(/PANTAU_TILE_URL/);
    }
  });
});

describe('bundled basemap', () => {
  it('is what web/scripts/build-basemap.ts makes (run npm run build:basemap after changing the city or the gauges)', () => {
    expect(fs.readFileSync(BASEMAP_FILE, 'utf8')).toBe(basemapText());
  });

  it('has the city outline inside JAKARTA_BBOX, a river through every gauge, the demo roads and a grid', () => {
    const fc = buildBasemap();
    const layers = (name: string) => fc.features.filter((f) => f.properties.layer === name);
    const [outline] = layers('outline');
    expect(outline!.geometry.type).toBe('Polygon');
    const ring = outline!.geometry.coordinates[0] as [number, number][];
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    for (const [lon, lat] of ring) {
      expect(lon).toBeGreaterThanOrEqual(JAKARTA_BBOX.minLon);
      expect(lon).toBeLessThanOrEqual(JAKARTA_BBOX.maxLon);
      expect(lat).toBeGreaterThanOrEqual(JAKARTA_BBOX.minLat);
      expect(lat).toBeLessThanOrEqual(JAKARTA_BBOX.maxLat);
    }
    const riverPoints = layers('river').flatMap((f) => f.geometry.coordinates as [number, number][]).map(([lon, lat]) => `${lon},${lat}`);
    for (const g of gaugesJson.gauges) expect(riverPoints, g.id).toContain(`${g.lon},${g.lat}`);
    expect(layers('road').map((f) => f.properties.class)).toEqual(['arterial', 'major', 'toll']);
    expect((layers('road')[0]!.geometry.coordinates as unknown[]).length).toBeGreaterThan(1000);
    expect(layers('graticule').length).toBeGreaterThan(8);
  });
});
