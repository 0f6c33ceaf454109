// Simulated gauges and air-quality stations, and the payloads they and the vehicles publish.
import { describe, expect, it } from 'vitest';
import gauges from '../domain/jakarta-gauges.json' with { type: 'json' };
import { createCity } from '../simulators/city.ts';
import { encodeFix, encodeFixArray, encodeOwnTracks, encodeReading, encodeSenml, encodeStatus } from '../simulators/payloads.ts';
import { createStations } from '../simulators/stations.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2025, 0, 6, 0, 0, 0);

describe('simulated stations', () => {
  it('has the 12 gauges and 15 air-quality stations, both formats', () => {
    const st = createStations({ seed: 1 });
    expect(st).toHaveLength(27);
    expect(st.filter((s) => s.type === 'water_level').map((s) => s.id)).toEqual(gauges.gauges.map((g) => g.id));
    expect(st.filter((s) => s.type === 'air_quality').map((s) => s.id)).toEqual(Array.from({ length: 15 }, (_, i) => `aq-${String(i + 1).padStart(2, '0')}`));
    const wl = st.filter((s) => s.type === 'water_level');
    expect(wl.some((s) => s.format === 'senml')).toBe(true);
    expect(wl.some((s) => s.format === 'reading')).toBe(true);
  });

  it('keeps gauges below their first threshold in normal weather, with a tide at Pasar Ikan', () => {
    const st = createStations({ seed: 5 });
    const byId = new Map(gauges.gauges.map((g) => [g.id, g]));
    const tide: number[] = [];
    const bad: string[] = [];
    for (let t = START; t < START + 3 * 24 * HOUR; t += 60_000) {
      for (const s of st) {
        if (s.type !== 'water_level') continue;
        const cm = s.sample(t).water_level_cm!;
        if (!(cm > 0 && cm < byId.get(s.id)!.siaga3!)) bad.push(`${s.id} ${cm} cm`);
        if (s.id === 'pasar-ikan') tide.push(cm);
      }
    }
    expect(bad).toEqual([]);
    expect(Math.max(...tide) - Math.min(...tide)).toBeGreaterThan(40);
  });

  it('produces plausible Jakarta air quality with a diurnal cycle', () => {
    const st = createStations({ seed: 2 }).filter((s) => s.type === 'air_quality');
    const pm25: number[] = [];
    const byHour = new Array<number>(24).fill(0);
    for (let t = START; t < START + 2 * 24 * HOUR; t += 5 * 60_000) {
      for (const s of st) {
        const v = s.sample(t);
        for (const m of ['pm25', 'pm10', 'o3', 'co', 'no2', 'so2'] as const) expect(v[m]).toBeGreaterThan(0);
        expect(v.pm10!).toBeGreaterThan(v.pm25!);
        pm25.push(v.pm25!);
        byHour[Math.floor((t / HOUR + 7) % 24)]! += v.pm25!;
      }
    }
    const inRange = pm25.filter((x) => x >= 20 && x <= 80).length / pm25.length;
    expect(inRange).toBeGreaterThan(0.8);
    // Morning rush (07-09 WIB) is dirtier than mid-afternoon (14-16 WIB).
    expect(byHour[8]!).toBeGreaterThan(byHour[15]! * 1.3);
  });

  it('is deterministic for a seed and can add pump-house sensors with a prefix', () => {
    const a = createStations({ seed: 9, count: 40, idPrefix: 'load-' });
    const b = createStations({ seed: 9, count: 40, idPrefix: 'load-' });
    expect(a).toHaveLength(40);
    expect(a[39]!.id).toBe('load-pump-0013');
    const sa = a.map((s) => s.sample(START + HOUR));
    expect(b.map((s) => s.sample(START + HOUR))).toEqual(sa);
    expect(createStations({ seed: 9, count: 5 })).toHaveLength(5);
  });
});

describe('payload encoders', () => {
  const fix = { ts: Date.UTC(2025, 0, 6, 1, 2, 3, 456), lat: -6.2, lon: 106.8, speed_kmh: 0, heading: 0, accuracy_m: 5, seq: 9 };

  it('writes native fixes as JSON with ISO or epoch ms time', () => {
    expect(JSON.parse(encodeFix(fix, true))).toEqual({ ...fix, ts: '2025-01-06T01:02:03.456Z' });
    expect(JSON.parse(encodeFix(fix, false))).toEqual(fix);
    expect(JSON.parse(encodeFixArray([encodeFix(fix, false), encodeFix({ ...fix, seq: 10 }, false)]))).toHaveLength(2);
    expect(JSON.parse(encodeStatus(fix.ts, 'busy'))).toEqual({ ts: '2025-01-06T01:02:03.456Z', status: 'busy' });
  });

  it('writes OwnTracks with epoch seconds and omits zero optionals', () => {
    expect(JSON.parse(encodeOwnTracks(fix, 'ab'))).toEqual({ _type: 'location', tid: 'ab', tst: Math.floor(fix.ts / 1000), lat: -6.2, lon: 106.8, acc: 5 });
    const moving = JSON.parse(encodeOwnTracks({ ...fix, speed_kmh: 23.6, heading: 181.2 }, 'ab'));
    expect(moving).toMatchObject({ vel: 24, cog: 181 });
  });

  it('writes SenML with water level in m and names ending in the metric', () => {
    const pack = JSON.parse(encodeSenml('depok', fix.ts, { water_level_cm: 123 })) as Array<Record<string, unknown>>;
    expect(pack).toEqual([{ bn: 'urn:dev:pantau:depok:', bt: fix.ts / 1000, n: 'water_level', u: 'm', v: 1.23 }]);
    const aq = JSON.parse(encodeSenml('aq-03', fix.ts, { pm25: 40.1, co: 900 })) as Array<Record<string, unknown>>;
    expect(aq).toEqual([
      { bn: 'urn:dev:pantau:aq-03:', bt: fix.ts / 1000, n: 'pm25', u: 'ug/m3', v: 40.1 },
      { n: 'co', u: 'ug/m3', v: 900 },
    ]);
    expect(JSON.parse(encodeReading(fix.ts, { water_level_cm: 80 }))).toEqual({ ts: '2025-01-06T01:02:03.456Z', values: { water_level_cm: 80 } });
  });

  it('encodes every fix of a running city as valid JSON', () => {
    const city = createCity({ seed: 1, fleet: { ambulance: 5, garbage_truck: 20, blue_crew_truck: 5 } });
    for (let i = 0; i < 20; i++) {
      city.step(30_000);
      for (const v of city.vehicles) {
        const f = v.fix(city.timeMs);
        expect(JSON.parse(encodeFix(f, false))).toEqual(f);
      }
    }
  });
});
