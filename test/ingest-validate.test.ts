// The validate stage: boundaries accepted, just past them rejected with code, field and what was expected.
import { describe, expect, it } from 'vitest';
import { decodeNativePositions, decodeSenml } from '../ingest/decode/index.ts';
import { emptyDecoded, METRIC_NAMES, type Decoded, type Fix, type Metric, type Reading, type RejectCode } from '../ingest/model.ts';
import { DEFAULT_VALIDATE_LIMITS, METRIC_RANGES, MIN_TS_MS, validate } from '../ingest/stages/validate.ts';

const NOW = Date.UTC(2024, 4, 1, 0, 30);
const LIMITS = DEFAULT_VALIDATE_LIMITS;

const fix = (patch: Partial<Fix> = {}): Fix => ({
  deviceId: 'amb-07', ts: NOW - 1000, lat: -6.1754, lon: 106.8272, speedKmh: 40, heading: 90, accuracyM: 5, seq: 1, ...patch,
});
const reading = (patch: Partial<Reading> = {}): Reading => ({
  deviceId: 'katulampa', ts: NOW - 1000, metric: 'water_level_cm', value: 185, lat: null, lon: null, ...patch,
});

function run(d: Partial<Decoded>, nowMs = NOW): Decoded {
  const decoded = { ...emptyDecoded(), ...d };
  validate(decoded, nowMs, LIMITS);
  return decoded;
}

describe('validate: fixes', () => {
  const accepted: Array<[string, Partial<Fix>]> = [
    ['a normal fix', {}],
    ['lat 90 / lon 180', { lat: 90, lon: 180 }],
    ['lat -90 / lon -180', { lat: -90, lon: -180 }],
    ['lat 0 off the meridian', { lat: 0, lon: 106.8 }],
    ['lon 0 off the equator', { lat: 51.48, lon: 0 }],
    ['speed 0 and 400 km/h', { speedKmh: 400 }],
    ['speed 0', { speedKmh: 0 }],
    ['heading 0', { heading: 0 }],
    ['heading 360', { heading: 360 }],
    ['accuracy 0 m', { accuracyM: 0 }],
    ['seq 0', { seq: 0 }],
    ['no optionals', { speedKmh: null, heading: null, accuracyM: null, seq: null }],
    ['ts exactly 5 min ahead', { ts: NOW + 5 * 60_000 }],
    ['ts on 2000-01-01', { ts: MIN_TS_MS }],
  ];
  it.each(accepted)('keeps %s', (_name, patch) => {
    const d = run({ fixes: [fix(patch)] });
    expect(d.rejects).toEqual([]);
    expect(d.fixes).toHaveLength(1);
  });

  const rejected: Array<[string, Partial<Fix>, RejectCode, string, RegExp]> = [
    ['lat above 90', { lat: 90.0001 }, 'OUT_OF_RANGE', 'lat', /\[-90, 90\]/],
    ['lat below -90', { lat: -91 }, 'OUT_OF_RANGE', 'lat', /\[-90, 90\]/],
    ['lat NaN', { lat: NaN }, 'OUT_OF_RANGE', 'lat', /\[-90, 90\]/],
    ['lon above 180', { lon: 180.5 }, 'OUT_OF_RANGE', 'lon', /\[-180, 180\]/],
    ['lon below -180', { lon: -200 }, 'OUT_OF_RANGE', 'lon', /\[-180, 180\]/],
    ['null island', { lat: 0, lon: 0 }, 'OUT_OF_RANGE', 'lat', /null island/],
    ['ts 1 ms past 5 min ahead', { ts: NOW + 5 * 60_000 + 1 }, 'TS_IN_FUTURE', 'ts', /ahead.*at most 300 s/],
    ['ts a year ahead', { ts: NOW + 365 * 86_400_000 }, 'TS_IN_FUTURE', 'ts', /clock/],
    ['ts before 2000', { ts: MIN_TS_MS - 1 }, 'OUT_OF_RANGE', 'ts', /before 2000-01-01/],
    ['ts 0 (tracker without time)', { ts: 0 }, 'OUT_OF_RANGE', 'ts', /1970-01-01T00:00:00.000Z is before 2000/],
    ['ts in epoch seconds', { ts: 1714523400 }, 'OUT_OF_RANGE', 'ts', /looks like epoch seconds/],
    ['ts infinite', { ts: Infinity }, 'TS_IN_FUTURE', 'ts', /Infinity/],
    ['negative speed', { speedKmh: -1 }, 'OUT_OF_RANGE', 'speed_kmh', /\[0, 400\]/],
    ['speed above 400', { speedKmh: 400.1 }, 'OUT_OF_RANGE', 'speed_kmh', /\[0, 400\]/],
    ['negative heading', { heading: -0.5 }, 'OUT_OF_RANGE', 'heading', /\[0, 360\]/],
    ['heading above 360', { heading: 361 }, 'OUT_OF_RANGE', 'heading', /\[0, 360\]/],
    ['negative accuracy', { accuracyM: -3 }, 'OUT_OF_RANGE', 'accuracy_m', />= 0/],
    ['infinite accuracy', { accuracyM: Infinity }, 'OUT_OF_RANGE', 'accuracy_m', />= 0/],
    ['negative seq', { seq: -1 }, 'OUT_OF_RANGE', 'seq', /non-negative integer/],
    ['fractional seq', { seq: 1.5 }, 'OUT_OF_RANGE', 'seq', /non-negative integer/],
    ['seq past 2^53', { seq: 2 ** 53 }, 'OUT_OF_RANGE', 'seq', /non-negative integer/],
  ];
  it.each(rejected)('rejects %s', (_name, patch, code, field, message) => {
    const d = run({ fixes: [fix(patch)] });
    expect(d.fixes).toEqual([]);
    expect(d.rejects).toHaveLength(1);
    expect(d.rejects[0]).toMatchObject({ code, field });
    expect(d.rejects[0]!.message).toMatch(message);
  });

  it('names the fix by its time, since a positions message carries many', () => {
    const d = run({ fixes: [fix({ lat: 95, ts: Date.UTC(2024, 4, 1, 0, 0, 5) })] });
    expect(d.rejects[0]!.message).toBe('lat 95 at 2024-05-01T00:00:05.000Z: expected degrees in [-90, 90]');
  });

  it('honours a configured maxFutureMs', () => {
    const d = emptyDecoded();
    d.fixes.push(fix({ ts: NOW + 61_000 }), fix({ ts: NOW + 59_000 }));
    validate(d, NOW, { maxFutureMs: 60_000 });
    expect(d.fixes.map((f) => f.ts)).toEqual([NOW + 59_000]);
    expect(d.rejects.map((r) => r.code)).toEqual(['TS_IN_FUTURE']);
  });

  it('filters in place, keeping order and the rejects already there', () => {
    const fixes = [fix({ seq: 1 }), fix({ seq: 2, lat: 100 }), fix({ seq: 3 }), fix({ seq: 4, lon: 0, lat: 0 }), fix({ seq: 5 })];
    const d = { ...emptyDecoded(), fixes, rejects: [{ code: 'BAD_TYPE' as const, message: 'from the decoder', field: '[9]' }] };
    validate(d, NOW, LIMITS);
    expect(d.fixes).toBe(fixes);
    expect(d.fixes.map((f) => f.seq)).toEqual([1, 3, 5]);
    expect(d.rejects.map((r) => r.code)).toEqual(['BAD_TYPE', 'OUT_OF_RANGE', 'OUT_OF_RANGE']);
  });
});

describe('validate: a positions buffer end to end', () => {
  it('keeps the good fixes of a tracker buffer and rejects the bad ones one by one', () => {
    const payload = Buffer.from(JSON.stringify([
      { ts: '2024-05-01T00:29:00Z', lat: -6.2, lon: 106.8, seq: 10 },
      { ts: '2024-05-01T00:28:00Z', lat: 0, lon: 0, seq: 9 }, // no GPS fix yet
      { ts: '2024-05-01T00:27:00Z', lat: -6.21, lon: '106.81', seq: 8 }, // decoder: BAD_TYPE
      { ts: '2024-05-01T09:00:00Z', lat: -6.22, lon: 106.82, seq: 11 }, // clock in WIB sent as UTC
      { ts: '2024-05-01T00:26:00Z', lat: -6.23, lon: 106.83, seq: 7, speed_kmh: 35 },
    ]));
    const d = decodeNativePositions('truck-12', payload);
    validate(d, NOW, LIMITS);
    expect(d.fixes.map((f) => f.seq)).toEqual([10, 7]);
    expect(d.rejects.map((r) => [r.code, r.field])).toEqual([
      ['BAD_TYPE', '[2].lon'],
      ['OUT_OF_RANGE', 'lat'],
      ['TS_IN_FUTURE', 'ts'],
    ]);
  });
});

describe('validate: readings', () => {
  const bounds: Array<[Metric, number, number]> = METRIC_NAMES.map((m) => [m, METRIC_RANGES[m][0], METRIC_RANGES[m][1]]);
  it.each(bounds)('%s: keeps [%d, %d], rejects just outside', (metric, min, max) => {
    const ok = run({ readings: [reading({ metric, value: min }), reading({ metric, value: max })] });
    expect(ok.rejects).toEqual([]);
    expect(ok.readings).toHaveLength(2);
    const span = max - min;
    const bad = run({ readings: [reading({ metric, value: min - span * 1e-6 }), reading({ metric, value: max + span * 1e-6 })] });
    expect(bad.readings).toEqual([]);
    expect(bad.rejects.map((r) => [r.code, r.field])).toEqual([['OUT_OF_RANGE', metric], ['OUT_OF_RANGE', metric]]);
  });

  it('uses the ranges the brief names', () => {
    expect(METRIC_RANGES.water_level_cm).toEqual([-1000, 10_000]);
    expect(METRIC_RANGES.humidity_pct).toEqual([0, 100]);
    expect(METRIC_RANGES.battery_pct).toEqual([0, 100]);
    expect(METRIC_RANGES.temperature_c).toEqual([-50, 70]);
    for (const m of ['pm25', 'pm10', 'o3', 'co', 'no2', 'so2', 'hc'] as const) expect(METRIC_RANGES[m]).toEqual([0, 100_000]);
  });

  const rejected: Array<[string, Partial<Reading>, RejectCode, string, RegExp]> = [
    ['a water level in mm by mistake', { value: 18_500 }, 'OUT_OF_RANGE', 'water_level_cm', /18500 at .*\[-1000, 10000\]/],
    ['a NaN value', { value: NaN }, 'OUT_OF_RANGE', 'water_level_cm', /NaN/],
    ['an infinite value', { value: -Infinity }, 'OUT_OF_RANGE', 'water_level_cm', /-Infinity/],
    ['humidity above 100', { metric: 'humidity_pct', value: 101 }, 'OUT_OF_RANGE', 'humidity_pct', /\[0, 100\]/],
    ['a temperature in Fahrenheit', { metric: 'temperature_c', value: 91 }, 'OUT_OF_RANGE', 'temperature_c', /\[-50, 70\]/],
    ['negative PM2.5', { metric: 'pm25', value: -1 }, 'OUT_OF_RANGE', 'pm25', /\[0, 100000\]/],
    ['a future ts', { ts: NOW + 3_600_000 }, 'TS_IN_FUTURE', 'ts', /3600 s ahead/],
    ['a ts before 2000', { ts: Date.UTC(1999, 11, 31) }, 'OUT_OF_RANGE', 'ts', /before 2000/],
    ['a mobile sensor at lat 91', { lat: 91, lon: 106.8 }, 'OUT_OF_RANGE', 'lat', /\[-90, 90\]/],
    ['a mobile sensor at lon 181', { lat: -6.2, lon: 181 }, 'OUT_OF_RANGE', 'lon', /\[-180, 180\]/],
    ['a mobile sensor on null island', { lat: 0, lon: 0 }, 'OUT_OF_RANGE', 'lat', /null island/],
  ];
  it.each(rejected)('rejects %s', (_name, patch, code, field, message) => {
    const d = run({ readings: [reading(patch)] });
    expect(d.readings).toEqual([]);
    expect(d.rejects).toHaveLength(1);
    expect(d.rejects[0]).toMatchObject({ code, field });
    expect(d.rejects[0]!.message).toMatch(message);
  });

  it('judges the records of a SenML pack one by one', () => {
    const pack = '[{"bn":"urn:dev:katulampa:","n":"water_level","u":"m","v":1.85,"t":-10},{"n":"water_level","u":"m","v":185,"t":-5},{"n":"humidity","u":"%RH","v":85}]';
    const d = decodeSenml('katulampa', Buffer.from(pack), NOW);
    validate(d, NOW, LIMITS);
    expect(d.readings.map((r) => [r.metric, r.value])).toEqual([['water_level_cm', 185], ['humidity_pct', 85]]);
    expect(d.rejects.map((r) => [r.code, r.field])).toEqual([['OUT_OF_RANGE', 'water_level_cm']]);
  });
});

describe('validate: statuses', () => {
  it('checks the time of a status report', () => {
    const d = run({
      statuses: [
        { deviceId: 'amb-07', ts: NOW, status: 'busy' },
        { deviceId: 'amb-07', ts: NOW + 10 * 60_000, status: 'available' },
        { deviceId: 'amb-07', ts: 1714523400, status: 'available' },
      ],
    });
    expect(d.statuses.map((s) => s.status)).toEqual(['busy']);
    expect(d.rejects.map((r) => [r.code, r.field])).toEqual([['TS_IN_FUTURE', 'ts'], ['OUT_OF_RANGE', 'ts']]);
  });
});
