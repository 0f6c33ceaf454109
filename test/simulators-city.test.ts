// The seeded city: determinism, plausible speeds and headings, the Jakarta box, fleet behaviour.
import { describe, expect, it } from 'vitest';
import {
  createCity,
  DEFAULT_FLEET,
  JAKARTA_BBOX,
  REPORT_INTERVAL_MS,
  SPEED_BANDS_KMH,
  type City,
  type VehicleFix,
} from '../simulators/city.ts';
import { haversineM, shortestPath } from '../simulators/roads.ts';

const MIN = 60_000;

function snapshot(city: City, nowMs: number): VehicleFix[] {
  return city.vehicles.map((v) => v.fix(nowMs));
}

function inBox(lat: number, lon: number): boolean {
  return lat >= JAKARTA_BBOX.minLat && lat <= JAKARTA_BBOX.maxLat && lon >= JAKARTA_BBOX.minLon && lon <= JAKARTA_BBOX.maxLon;
}

/** Compass bearing of a small move, computed independently of the model's projection. */
function bearing(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dy = (lat2 - lat1) * 110_574;
  const dx = (lon2 - lon1) * 111_320 * Math.cos((lat1 * Math.PI) / 180);
  const deg = (Math.atan2(dx, dy) * 180) / Math.PI;
  return deg < 0 ? deg + 360 : deg;
}

function angleDiff(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

describe('simulated city', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const small = { ambulance: 10, garbage_truck: 30, blue_crew_truck: 10 };
    const a = createCity({ seed: 7, fleet: small });
    const b = createCity({ seed: 7, fleet: small });
    const c = createCity({ seed: 8, fleet: small });
    const run = (city: City) => {
      const out: VehicleFix[][] = [];
      for (let i = 0; i < 30; i++) {
        city.step(20_000 + i * 1000);
        out.push(snapshot(city, 1_000_000 + i));
      }
      return out;
    };
    const ra = run(a);
    expect(run(b)).toEqual(ra);
    expect(run(c)).not.toEqual(ra);
    expect(a.vehicles.map((v) => [v.id, v.reportIntervalMs, v.owntracks])).toEqual(b.vehicles.map((v) => [v.id, v.reportIntervalMs, v.owntracks]));
  });

  it('defaults to the Jakarta fleet of domain/README.md with ids, intervals and OwnTracks share', () => {
    const city = createCity({ seed: 1 });
    const count = (t: string) => city.vehicles.filter((v) => v.type === t).length;
    expect(count('ambulance')).toBe(DEFAULT_FLEET.ambulance);
    expect(count('garbage_truck')).toBe(DEFAULT_FLEET.garbage_truck);
    expect(count('blue_crew_truck')).toBe(DEFAULT_FLEET.blue_crew_truck);
    expect(new Set(city.vehicles.map((v) => v.id)).size).toBe(city.vehicles.length);
    for (const v of city.vehicles) {
      const band = REPORT_INTERVAL_MS[v.type];
      expect(v.reportIntervalMs).toBeGreaterThanOrEqual(band.min);
      expect(v.reportIntervalMs).toBeLessThanOrEqual(band.max);
      expect(v.reportIntervalMs).toBeGreaterThanOrEqual(1000);
      expect(v.reportIntervalMs).toBeLessThanOrEqual(30_000);
      expect(inBox(v.home.lat, v.home.lon)).toBe(true);
    }
    const ot = city.vehicles.filter((v) => v.owntracks !== null);
    expect(ot.length).toBe(30);
    for (const v of ot) {
      expect(v.type).toBe('garbage_truck');
      expect(v.owntracks).toBe(`pantau-sim/${v.id}`);
    }
  });

  it('keeps speeds within each type\'s band, positions inside the Jakarta box, accuracy a few metres', () => {
    const city = createCity({ seed: 11 });
    let moving = 0;
    const bad: string[] = [];
    for (let i = 0; i < 240; i++) {
      city.step(30_000);
      for (const v of city.vehicles) {
        const f = v.fix(city.timeMs);
        const band = SPEED_BANDS_KMH[v.type];
        if (f.speed_kmh !== 0) {
          moving++;
          if (f.speed_kmh < band.min || f.speed_kmh > band.max) bad.push(`${v.id} speed ${f.speed_kmh}`);
        }
        if (!inBox(f.lat, f.lon)) bad.push(`${v.id} outside at ${f.lat},${f.lon}`);
        if (!(f.heading >= 0 && f.heading < 360)) bad.push(`${v.id} heading ${f.heading}`);
        if (f.accuracy_m < 3 || f.accuracy_m > 12) bad.push(`${v.id} accuracy ${f.accuracy_m}`);
        const s = v.state();
        // Noise stays within a few accuracies of the true position.
        if (haversineM(f.lat, f.lon, s.lat, s.lon) >= 5 * f.accuracy_m) bad.push(`${v.id} noise too large`);
      }
    }
    expect(bad).toEqual([]);
    expect(moving).toBeGreaterThan(1000);
  });

  it('reports heading and speed consistent with the movement', () => {
    const city = createCity({ seed: 5, fleet: { ambulance: 20, garbage_truck: 60, blue_crew_truck: 20 } });
    let checked = 0;
    for (let i = 0; i < 600; i++) {
      const before = city.vehicles.map((v) => v.state());
      city.step(1000);
      city.vehicles.forEach((v, k) => {
        const a = before[k]!;
        const b = v.state();
        if (a.edge === null || a.edge !== b.edge) return;
        const distM = haversineM(a.lat, a.lon, b.lat, b.lon);
        const band = SPEED_BANDS_KMH[v.type];
        // Speed may change within the second; the average stays inside the band.
        expect(distM).toBeGreaterThanOrEqual((band.min / 3.6) * 0.99);
        expect(distM).toBeLessThanOrEqual((band.max / 3.6) * 1.01);
        expect(angleDiff(bearing(a.lat, a.lon, b.lat, b.lon), a.heading)).toBeLessThan(1);
        expect(b.heading).toBe(a.heading);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('keeps ambulances mostly parked and available, with occasional trips', () => {
    const city = createCity({ seed: 3 });
    const ambulances = city.vehicles.filter((v) => v.type === 'ambulance');
    let trips = 0;
    const prev = new Map(ambulances.map((v) => [v.id, v.status]));
    for (let i = 0; i < 24 * 60; i++) {
      city.step(MIN);
      let parkedAvailable = 0;
      for (const v of ambulances) {
        const s = v.state();
        if (s.status === 'available' && s.speedKmh === 0 && s.activity === 'parked') parkedAvailable++;
        if (s.status === 'busy' && prev.get(v.id) !== 'busy') trips++;
        prev.set(v.id, s.status);
      }
      expect(parkedAvailable / ambulances.length).toBeGreaterThan(0.8);
    }
    // domain/README.md: ~60 ambulance calls a day.
    expect(trips).toBeGreaterThan(30);
    expect(trips).toBeLessThan(100);
  });

  it('gives garbage trucks rounds with frequent stops and crews work sites away from their depot', () => {
    const city = createCity({ seed: 9 });
    const trucks = city.vehicles.filter((v) => v.type === 'garbage_truck');
    let busyStopped = 0;
    let busyMoving = 0;
    for (let i = 0; i < 120; i++) {
      city.step(MIN);
      for (const v of trucks) {
        const s = v.state();
        if (s.status !== 'busy') continue;
        if (s.speedKmh === 0) busyStopped++;
        else busyMoving++;
      }
    }
    expect(busyMoving).toBeGreaterThan(0);
    expect(busyStopped / (busyStopped + busyMoving)).toBeGreaterThan(0.1);
    const crews = city.vehicles.filter((v) => v.type === 'blue_crew_truck');
    const working = crews.filter((v) => v.state().activity === 'working');
    expect(working.length).toBeGreaterThan(0);
    for (const v of working) {
      const s = v.state();
      expect(haversineM(s.lat, s.lon, v.home.lat, v.home.lon)).toBeGreaterThan(300);
    }
  });

  it('dispatches an ambulance to a scene and brings it back', () => {
    const city = createCity({ seed: 2, fleet: { ambulance: 5, garbage_truck: 0, blue_crew_truck: 0 } });
    const amb = city.vehicles.find((v) => v.state().status === 'available')!;
    const scene = { lat: -6.2, lon: 106.82 };
    expect(city.dispatch(amb.id, scene.lat, scene.lon)).toBe(true);
    expect(amb.status).toBe('busy');
    let reached = false;
    for (let i = 0; i < 180 && !reached; i++) {
      city.step(10_000);
      const s = amb.state();
      reached = s.activity === 'on_scene' && haversineM(s.lat, s.lon, scene.lat, scene.lon) < 1500;
    }
    expect(reached).toBe(true);
    for (let i = 0; i < 24 * 60 && amb.state().activity !== 'parked'; i++) city.step(MIN);
    expect(amb.status).toBe('available');
    expect(city.dispatch('no-such', 0, 0)).toBe(false);
  });

  it('has a connected road network', () => {
    const city = createCity({ seed: 4, fleet: { ambulance: 0, garbage_truck: 0, blue_crew_truck: 0 } });
    const g = city.graph;
    for (const to of [g.nodeCount - 1, Math.floor(g.nodeCount / 2), g.gridNodeCount - 1]) {
      expect(shortestPath(g, 0, to).length).toBeGreaterThan(1);
    }
  });
});
