// Decoders against payloads from the specs (OwnTracks booklet, RFC 8428, Traccar, Teltonika) and against
// malformed ones: every reject code is produced by a real bad payload.
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  decodeNativePosition,
  decodeNativePositions,
  decodeNativeReading,
  decodeNativeStatus,
  decodeOwnTracks,
  decodeSenml,
  decodeTeltonika,
  decodeTraccar,
  parseTimeMs,
} from '../ingest/decode/index.ts';
import { REJECT_CODES, type Decoded, type Reject, type RejectCode } from '../ingest/model.ts';
import { validate, DEFAULT_VALIDATE_LIMITS } from '../ingest/stages/validate.ts';
import { parseTopic, topicReject } from '../ingest/topics.ts';

const buf = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const NOW = Date.UTC(2024, 4, 1, 0, 30); // 2024-05-01T00:30:00Z
type Decoder = (deviceId: string, payload: Buffer) => Decoded;
const senml: Decoder = (id, p) => decodeSenml(id, p, NOW);

/** One reject and nothing accepted. */
function onlyReject(d: Decoded): Reject {
  expect(d.fixes.length + d.readings.length + d.statuses.length).toBe(0);
  expect(d.rejects).toHaveLength(1);
  return d.rejects[0]!;
}

describe('parseTimeMs', () => {
  const good: Array<[unknown, number]> = [
    [1714523400000, NOW],
    ['2024-05-01T00:30:00Z', NOW],
    ['2024-05-01T00:30:00z', NOW],
    ['2024-05-01T07:30:00+07:00', NOW],
    ['2024-05-01T07:30:00+0700', NOW],
    ['2024-05-01T07:30:00+07', NOW],
    ['2024-04-30T20:30:00-04:00', NOW],
    ['2024-05-01 00:30:00Z', NOW],
    ['2024-05-01T00:30Z', NOW],
    ['2024-05-01T00:30:00.250Z', NOW + 250],
    ['2024-05-01T00:30:00.1Z', NOW + 100],
    ['2024-05-01T00:30:00.123456789Z', NOW + 123],
    ['2018-09-14T15:34:17.000+0000', Date.UTC(2018, 8, 14, 15, 34, 17)], // Traccar
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ];
  it.each(good)('%s', (input, ms) => expect(parseTimeMs(input)).toBe(ms));

  const bad: unknown[] = [
    '2024-05-01T00:30:00', // no zone: local time of which city?
    '2024-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T00:60:00Z',
    '2024-05-01T00:30:00.Z',
    '2024-05-01T00:30:00Zjunk',
    '2024-05-01',
    'May 1 2024 00:30 GMT',
    'yesterday',
    '',
    '1714523400000',
    true,
    null,
    {},
    1e300,
  ];
  it.each(bad)('rejects %j', (input) => expect(parseTimeMs(input)).toBeNaN());
});

describe('native position', () => {
  it('reads a full fix with an ISO ts with offset', () => {
    const d = decodeNativePosition('amb-07', buf({ ts: '2024-05-01T07:30:00+07:00', lat: -6.1754, lon: 106.8272, speed_kmh: 42.5, heading: 90, accuracy_m: 5, seq: 17 }));
    expect(d.rejects).toEqual([]);
    expect(d.fixes).toEqual([{ deviceId: 'amb-07', ts: NOW, lat: -6.1754, lon: 106.8272, speedKmh: 42.5, heading: 90, accuracyM: 5, seq: 17 }]);
  });

  it('reads an epoch-ms ts; absent and null optionals are null', () => {
    const d = decodeNativePosition('amb-07', buf({ ts: NOW, lat: -6.2, lon: 106.8, speed_kmh: null }));
    expect(d.fixes).toEqual([{ deviceId: 'amb-07', ts: NOW, lat: -6.2, lon: 106.8, speedKmh: null, heading: null, accuracyM: null, seq: null }]);
  });

  const rejects: Array<[string, string, RejectCode, string | undefined]> = [
    ['truncated JSON', '{"ts": 1714523400000, "lat": -6.2', 'BAD_JSON', undefined],
    ['empty payload', '', 'BAD_JSON', undefined],
    ['missing lat', '{"ts":1714523400000,"lon":106.8}', 'MISSING_FIELD', 'lat'],
    ['null lat', '{"ts":1714523400000,"lat":null,"lon":106.8}', 'MISSING_FIELD', 'lat'],
    ['missing ts', '{"lat":-6.2,"lon":106.8}', 'MISSING_FIELD', 'ts'],
    ['lat as a string', '{"ts":1714523400000,"lat":"-6.2","lon":106.8}', 'BAD_TYPE', 'lat'],
    ['ts in words', '{"ts":"yesterday","lat":-6.2,"lon":106.8}', 'BAD_TYPE', 'ts'],
    ['ts without zone', '{"ts":"2024-05-01T07:30:00","lat":-6.2,"lon":106.8}', 'BAD_TYPE', 'ts'],
    ['ts on 30 February', '{"ts":"2024-02-30T00:00:00Z","lat":-6.2,"lon":106.8}', 'BAD_TYPE', 'ts'],
    ['speed as a string', '{"ts":1714523400000,"lat":-6.2,"lon":106.8,"speed_kmh":"fast"}', 'BAD_TYPE', 'speed_kmh'],
    ['seq as a string', '{"ts":1714523400000,"lat":-6.2,"lon":106.8,"seq":"7"}', 'BAD_TYPE', 'seq'],
    ['an array', '[{"ts":1714523400000,"lat":-6.2,"lon":106.8}]', 'BAD_TYPE', undefined],
    ['a number', '42', 'BAD_TYPE', undefined],
  ];
  it.each(rejects)('%s -> %s', (_name, payload, code, field) => {
    const r = onlyReject(decodeNativePosition('amb-07', buf(payload)));
    expect(r.code).toBe(code);
    expect(r.field).toBe(field);
    expect(r.message.length).toBeGreaterThan(10);
  });

  it("BAD_JSON carries the parser's reason; an array hints at /positions", () => {
    expect(onlyReject(decodeNativePosition('v', buf('{"ts":'))).message).toMatch(/JSON/);
    expect(onlyReject(decodeNativePosition('v', buf('[]'))).message).toMatch(/positions/);
  });

  it('skips a UTF-8 byte order mark (RFC 8259 8.1)', () => {
    const payload = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf({ ts: NOW, lat: -6.2, lon: 106.8 })]);
    expect(decodeNativePosition('v', payload).fixes).toHaveLength(1);
  });
});

describe('native positions', () => {
  it('keeps the good fixes and rejects each bad one with its index', () => {
    const d = decodeNativePositions('amb-07', buf([
      { ts: NOW - 2000, lat: -6.2, lon: 106.8, seq: 3 },
      { ts: NOW - 3000, lon: 106.8 },
      { ts: '2024-05-01T00:29:59Z', lat: -6.21, lon: 106.81, seq: 4 },
      { ts: NOW - 1000, lat: '-6.2', lon: 106.8 },
      'garbage',
      { ts: 'soon', lat: -6.2, lon: 106.8 },
      { ts: NOW - 5000, lat: -6.19, lon: 106.79, seq: 1 },
    ]));
    // kept in arrival order: ordering is the order stage's job
    expect(d.fixes.map((f) => f.seq)).toEqual([3, 4, 1]);
    expect(d.fixes[1]!.ts).toBe(NOW - 1000);
    expect(d.rejects.map((r) => [r.code, r.field])).toEqual([
      ['MISSING_FIELD', '[1].lat'],
      ['BAD_TYPE', '[3].lat'],
      ['BAD_TYPE', '[4]'],
      ['BAD_TYPE', '[5].ts'],
    ]);
  });

  const fix = { ts: NOW, lat: -6.2, lon: 106.8 };
  it.each([
    ['an empty array', '[]', 'MISSING_FIELD', '[0]'],
    ['a single object', JSON.stringify(fix), 'BAD_TYPE', undefined],
    ['not JSON', '[{"ts":1,', 'BAD_JSON', undefined],
  ] as const)('%s -> %s', (_name, payload, code, field) => {
    const r = onlyReject(decodeNativePositions('v', buf(payload)));
    expect([r.code, r.field]).toEqual([code, field]);
  });

  it('caps the array: TOO_LARGE above the configured and the default maximum', () => {
    expect(onlyReject(decodeNativePositions('v', buf([fix, fix, fix]), 2)).code).toBe('TOO_LARGE');
    expect(decodeNativePositions('v', buf([fix, fix]), 2).fixes).toHaveLength(2);
    expect(decodeNativePositions('v', buf(Array(1000).fill(fix))).fixes).toHaveLength(1000);
    const r = onlyReject(decodeNativePositions('v', buf(Array(1001).fill(fix))));
    expect(r.code).toBe('TOO_LARGE');
    expect(r.message).toMatch(/1001.*1000/);
  });
});

describe('native status', () => {
  it('reads {ts, status}', () => {
    const d = decodeNativeStatus('amb-07', buf({ ts: '2024-05-01T00:30:00Z', status: 'busy' }));
    expect(d.statuses).toEqual([{ deviceId: 'amb-07', ts: NOW, status: 'busy' }]);
    expect(d.rejects).toEqual([]);
  });

  it.each([
    ['an unknown status', { ts: NOW, status: 'on_break' }, 'OUT_OF_RANGE', 'status'],
    ['a status in capitals', { ts: NOW, status: 'Busy' }, 'OUT_OF_RANGE', 'status'],
    ['a numeric status', { ts: NOW, status: 1 }, 'BAD_TYPE', 'status'],
    ['no status', { ts: NOW }, 'MISSING_FIELD', 'status'],
    ['no ts', { status: 'busy' }, 'MISSING_FIELD', 'ts'],
    ['an array', [{ ts: NOW, status: 'busy' }], 'BAD_TYPE', undefined],
  ] as const)('%s -> %s', (_name, payload, code, field) => {
    const r = onlyReject(decodeNativeStatus('v', buf(payload)));
    expect([r.code, r.field]).toEqual([code, field]);
  });

  it('OUT_OF_RANGE lists the allowed statuses', () => {
    expect(onlyReject(decodeNativeStatus('v', buf({ ts: NOW, status: 'x' }))).message).toMatch(/available, busy, out_of_service/);
  });
});

describe('native reading', () => {
  it('reads every metric of the payload', () => {
    const d = decodeNativeReading('katulampa', buf({ ts: '2024-05-01T07:30:00+07:00', values: { water_level_cm: 185, battery_pct: 87.5 } }));
    expect(d.rejects).toEqual([]);
    expect(d.readings).toEqual([
      { deviceId: 'katulampa', ts: NOW, metric: 'water_level_cm', value: 185, lat: null, lon: null },
      { deviceId: 'katulampa', ts: NOW, metric: 'battery_pct', value: 87.5, lat: null, lon: null },
    ]);
  });

  it("carries a mobile sensor's lat/lon on each reading", () => {
    const d = decodeNativeReading('bus-aq-3', buf({ ts: NOW, values: { pm25: 41, pm10: 60 }, lat: -6.2, lon: 106.82 }));
    expect(d.readings.map((r) => [r.metric, r.lat, r.lon])).toEqual([
      ['pm25', -6.2, 106.82],
      ['pm10', -6.2, 106.82],
    ]);
  });

  it('rejects an unknown metric by name and keeps the others', () => {
    const d = decodeNativeReading('katulampa', buf({ ts: NOW, values: { water_level: 185, rain_mm: 12, pm25: 'high' } }));
    expect(d.readings.map((r) => r.metric)).toEqual(['rain_mm']);
    expect(d.rejects.map((r) => [r.code, r.field])).toEqual([
      ['UNKNOWN_METRIC', 'values.water_level'],
      ['BAD_TYPE', 'values.pm25'],
    ]);
    expect(d.rejects[0]!.message).toMatch(/"water_level".*did you mean water_level_cm/);
  });

  it('does not take inherited names for metrics', () => {
    const d = decodeNativeReading('s', buf('{"ts":1714523400000,"values":{"__proto__":1,"toString":2}}'));
    expect(d.readings).toEqual([]);
    expect(d.rejects.map((r) => r.code)).toEqual(['UNKNOWN_METRIC', 'UNKNOWN_METRIC']);
  });

  it.each([
    ['no values', { ts: NOW }, 'MISSING_FIELD', 'values'],
    ['empty values', { ts: NOW, values: {} }, 'MISSING_FIELD', 'values'],
    ['values as an array', { ts: NOW, values: [185] }, 'BAD_TYPE', 'values'],
    ['lat without lon', { ts: NOW, values: { pm25: 3 }, lat: -6.2 }, 'MISSING_FIELD', 'lon'],
    ['lon as a string', { ts: NOW, values: { pm25: 3 }, lat: -6.2, lon: 'x' }, 'BAD_TYPE', 'lon'],
    ['ts in epoch seconds as a string', { ts: '1714523400', values: { pm25: 3 } }, 'BAD_TYPE', 'ts'],
    ['a bare number', 185, 'BAD_TYPE', undefined],
  ] as const)('%s -> %s', (_name, payload, code, field) => {
    const r = onlyReject(decodeNativeReading('s', buf(payload)));
    expect([r.code, r.field]).toEqual([code, field]);
  });
});

describe('SenML (RFC 8428)', () => {
  it('5.1.1 single datapoint, named after our metric: a reading taken "now"', () => {
    const d = senml('s', buf('[{"n":"urn:dev:ow:10e2073a01080063:temperature","u":"Cel","v":23.1}]'));
    expect(d.rejects).toEqual([]);
    expect(d.readings).toEqual([{ deviceId: 's', ts: NOW, metric: 'temperature_c', value: 23.1, lat: null, lon: null }]);
  });

  it('5.1.1 verbatim: the name is no metric -> UNKNOWN_METRIC naming it', () => {
    const r = onlyReject(senml('s', buf('[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]')));
    expect([r.code, r.field]).toEqual(['UNKNOWN_METRIC', '[0].n']);
    expect(r.message).toContain('urn:dev:ow:10e2073a01080063');
  });

  it('5.1.2 verbatim (voltage, current): one UNKNOWN_METRIC per record', () => {
    const d = senml('s', buf('[{"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},{"n":"current","u":"A","v":1.2}]'));
    expect(d.readings).toEqual([]);
    expect(d.rejects.map((r) => [r.code, r.field])).toEqual([
      ['UNKNOWN_METRIC', '[0].n'],
      ['UNKNOWN_METRIC', '[1].n'],
    ]);
    expect(d.rejects[1]!.message).toContain('urn:dev:ow:10e2073a01080063:current');
  });

  it('5.1.2 with bn/bt/bu/bver, adapted to our names: base fields carry over, u overrides bu, t is relative to bt', () => {
    const pack = `[
      {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,"bu":"m","bver":5,"n":"rain","u":"mm","v":120.1},
      {"n":"water_level","t":-5,"v":1.2},
      {"n":"water_level","t":-4,"v":1.3},
      {"n":"water_level","t":-3,"v":1.4},
      {"n":"water_level","t":-2,"v":1.5},
      {"n":"water_level","t":-1,"v":1.6},
      {"n":"water_level","v":1.7}
    ]`;
    const d = senml('katulampa', buf(pack));
    expect(d.rejects).toEqual([]);
    const bt = 1276020076001; // Tue Jun 8 18:01:16.001 UTC 2010
    expect(d.readings.map((r) => [r.metric, r.value, r.ts])).toEqual([
      ['rain_mm', 120.1, bt],
      ['water_level_cm', 120, bt - 5000],
      ['water_level_cm', 130, bt - 4000],
      ['water_level_cm', 140, bt - 3000],
      ['water_level_cm', 150, bt - 2000],
      ['water_level_cm', 160, bt - 1000],
      ['water_level_cm', 170, bt],
    ]);
  });

  it('converts a water level in m to cm (1.85 m -> 185 cm) at an absolute time in seconds', () => {
    const d = senml('katulampa', buf('[{"n":"urn:dev:katulampa:water_level","u":"m","v":1.85,"t":1714523400}]'));
    expect(d.readings).toEqual([{ deviceId: 'katulampa', ts: NOW, metric: 'water_level_cm', value: 185, lat: null, lon: null }]);
    // no binary noise from the unit factor
    expect(senml('k', buf('[{"n":"water_level","u":"m","v":0.07}]')).readings[0]!.value).toBe(7);
  });

  it('resolves relative times (4.5.3), base values that carry over (4.1, 4.5.4) and fractional seconds', () => {
    const d = senml('s', buf(`[
      {"bn":"urn:dev:katulampa:","n":"water_level","u":"m","v":0.5,"t":-60},
      {"bt":1714523400.25,"bv":1,"n":"water_level","u":"m","v":0.85},
      {"n":"humidity","u":"%RH","v":79,"t":0.5}
    ]`));
    expect(d.rejects).toEqual([]);
    expect(d.readings.map((r) => [r.metric, r.value, r.ts])).toEqual([
      ['water_level_cm', 50, NOW - 60_000],
      ['water_level_cm', 185, NOW + 250],
      ['humidity_pct', 80, NOW + 750],
    ]);
  });

  it('matches the metric name only at a separator', () => {
    const d = senml('s', buf('[{"n":"urn:dev:x:brain","u":"mm","v":1},{"n":"urn:dev:x:rain","u":"mm","v":1},{"n":"rain","u":"mm","v":2},{"n":"site/pm25","u":"ug/m3","v":3}]'));
    expect(d.readings.map((r) => [r.metric, r.value])).toEqual([['rain_mm', 1], ['rain_mm', 2], ['pm25', 3]]);
    expect(d.rejects.map((r) => [r.code, r.field])).toEqual([['UNKNOWN_METRIC', '[0].n']]);
  });

  it('5.1.5 multiple data types: strings, booleans and data are no metrics', () => {
    const d = senml('s', buf(`[
      {"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},
      {"n":"label","vs":"Machine Room"},
      {"n":"open","vb":false},
      {"n":"nfc-reader","vd":"aGkgCg"}
    ]`));
    expect(d.readings).toEqual([]);
    expect(d.rejects.map((r) => r.code)).toEqual(['UNKNOWN_METRIC', 'UNKNOWN_METRIC', 'UNKNOWN_METRIC', 'UNKNOWN_METRIC']);
  });

  it('keeps the good records of a pack with bad ones', () => {
    const d = senml('s', buf('[{"bn":"katulampa:","n":"water_level","u":"ft","v":6},{"n":"water_level","u":"m","v":1.2},{"n":"battery","u":"%EL","v":97}]'));
    expect(d.readings.map((r) => [r.metric, r.value])).toEqual([['water_level_cm', 120], ['battery_pct', 97]]);
    expect(d.rejects.map((r) => [r.code, r.field])).toEqual([['BAD_UNIT', '[0].u']]);
    expect(d.rejects[0]!.message).toMatch(/"ft".*m, cm/);
  });

  const rejects: Array<[string, string, RejectCode, string | undefined]> = [
    ['unit not registered for the metric', '[{"n":"x:water_level","u":"ft","v":6}]', 'BAD_UNIT', '[0].u'],
    ['base unit wrong for the metric', '[{"bn":"x:","bu":"Cel","n":"water_level","v":1}]', 'BAD_UNIT', '[0].bu'],
    ['no unit at all', '[{"n":"x:water_level","v":1.85}]', 'MISSING_FIELD', '[0].u'],
    ['string value for a metric', '[{"n":"x:water_level","u":"m","vs":"1.85"}]', 'BAD_TYPE', '[0].vs'],
    ['v as a string', '[{"n":"x:water_level","u":"m","v":"1.85"}]', 'BAD_TYPE', '[0].v'],
    ['no value', '[{"n":"x:water_level","u":"m"}]', 'MISSING_FIELD', '[0].v'],
    ['no name', '[{"u":"m","v":1}]', 'MISSING_FIELD', '[0].n'],
    ['t as a string', '[{"n":"x:water_level","u":"m","v":1,"t":"now"}]', 'BAD_TYPE', '[0].t'],
    ['bn as a number', '[{"bn":7,"n":"water_level","u":"m","v":1},{"n":"water_level","u":"m","v":1}]', 'BAD_TYPE', '[0].bn'],
    ['a newer SenML version', '[{"bver":11,"n":"x:water_level","u":"m","v":1}]', 'OUT_OF_RANGE', '[0].bver'],
    ['must-understand field (4.4)', '[{"n":"x:water_level","u":"m","v":1,"crit_":true}]', 'BAD_TYPE', '[0].crit_'],
    ['a record that is not an object', '["x:water_level"]', 'BAD_TYPE', '[0]'],
    ['an object, not a pack', '{"n":"x:water_level","u":"m","v":1}', 'BAD_TYPE', undefined],
    ['an empty pack', '[]', 'MISSING_FIELD', '[0]'],
    ['not JSON', '[{"n":"x:water_level",', 'BAD_JSON', undefined],
  ];
  it.each(rejects)('%s -> %s', (_name, payload, code, field) => {
    const r = onlyReject(senml('s', buf(payload)));
    expect([r.code, r.field]).toEqual([code, field]);
  });

  it('caps the pack (TOO_LARGE)', () => {
    const rec = { n: 'x:rain', u: 'mm', v: 1 };
    expect(onlyReject(decodeSenml('s', buf([rec, rec, rec]), NOW, 2)).code).toBe('TOO_LARGE');
    expect(onlyReject(decodeSenml('s', buf(Array(1001).fill(rec)), NOW)).code).toBe('TOO_LARGE');
    expect(decodeSenml('s', buf(Array(1000).fill(rec)), NOW).readings).toHaveLength(1000);
  });
});

describe('OwnTracks', () => {
  // The booklet's location field set (owntracks.org/booklet/tech/json, _type=location).
  const location = {
    _type: 'location', tid: 'JJ', acc: 10, alt: 13, batt: 100, bs: 2, conn: 'w', created_at: 1441984415,
    inregions: ['Home'], lat: 48.858334, lon: 2.295134, t: 'u', tst: 1441984413, vac: 3, vel: 0, cog: 270,
  };

  it('reads a location: tst epoch s -> ms, acc, cog, vel km/h', () => {
    const d = decodeOwnTracks('amb-07', buf(location));
    expect(d.rejects).toEqual([]);
    expect(d.fixes).toEqual([{ deviceId: 'amb-07', ts: 1441984413000, lat: 48.858334, lon: 2.295134, speedKmh: 0, heading: 270, accuracyM: 10, seq: null }]);
  });

  it('reads -1 (iOS "unknown") and omitted optionals as null', () => {
    // as published by an iOS app, from the OwnTracks Recorder's docs
    const d = decodeOwnTracks('v', buf('{"cog":-1,"batt":-1,"lon":2.29513,"acc":5,"vel":-1,"vac":-1,"lat":48.85833,"t":"u","tst":1441984413,"alt":0,"_type":"location","tid":"JJ"}'));
    expect(d.fixes).toEqual([{ deviceId: 'v', ts: 1441984413000, lat: 48.85833, lon: 2.29513, speedKmh: null, heading: null, accuracyM: 5, seq: null }]);
    const minimal = decodeOwnTracks('v', buf('{"lon":2.29513,"lat":48.85833,"_type":"location","tst":1497476456,"tid":"JJ"}'));
    expect(minimal.fixes[0]).toMatchObject({ ts: 1497476456000, speedKmh: null, heading: null, accuracyM: null });
  });

  it.each([
    ['lwt', { _type: 'lwt', tst: 1380738247 }],
    ['transition', { _type: 'transition', wtst: 1425042603, lat: 12.34, lon: 44.5, tst: 1427634603, acc: 130, tid: 'JP', event: 'enter', desc: 'my Indian restaurant', t: 'b' }],
    ['waypoint', { _type: 'waypoint', desc: 'Pool', lat: -6.2, lon: 106.8, rad: 100, tst: 1427634603 }],
    ['steps', { _type: 'steps', tst: 1427634603, steps: 1200 }],
  ])('%s is not a fix and not an error', (_name, payload) => {
    expect(decodeOwnTracks('v', buf(payload))).toEqual({ fixes: [], readings: [], statuses: [], rejects: [] });
  });

  it.each([
    // pre-2015 apps sent numbers as strings (OwnTracks Recorder README)
    ['numbers as strings', '{"cog":-1,"batt":"79","lon":"2.295134","acc":"10","vel":0,"vac":3,"lat":"48.858334","t":"t","tst":"1415719099","alt":171,"_type":"location","tid":"jj"}', 'BAD_TYPE', 'lat'],
    ['no _type', '{"lat":48.8,"lon":2.29,"tst":1441984413}', 'MISSING_FIELD', '_type'],
    ['encrypted', '{"_type":"encrypted","data":"7ZGsi2H..."}', 'BAD_TYPE', '_type'],
    ['no tst', '{"_type":"location","lat":48.8,"lon":2.29}', 'MISSING_FIELD', 'tst'],
    ['vel as a string', '{"_type":"location","lat":48.8,"lon":2.29,"tst":1441984413,"vel":"54"}', 'BAD_TYPE', 'vel'],
    ['not JSON', '_type=location', 'BAD_JSON', undefined],
  ] as const)('%s -> %s', (_name, payload, code, field) => {
    const r = onlyReject(decodeOwnTracks('v', buf(payload)));
    expect([r.code, r.field]).toEqual([code, field]);
  });
});

describe('Traccar forward', () => {
  it('reads a forwarded position (jpmens.net capture: no speed, +0000 offset)', () => {
    const payload = `{"position":{"id":18336,"attributes":{"t":"i","ignition":true,"distance":449672.22},"deviceId":7,
      "protocol":"owntracks","deviceTime":"2018-09-14T15:34:17.000+0000","fixTime":"2018-09-14T15:34:17.000+0000",
      "latitude":49.0156556,"longitude":8.3975169,"network":null},
      "device":{"id":7,"attributes":{"aaa":"AAAA","mm":"1"},"name":"jjolie","uniqueId":"jjolie"}}`;
    const d = decodeTraccar('jjolie', buf(payload));
    expect(d.rejects).toEqual([]);
    expect(d.fixes).toEqual([{ deviceId: 'jjolie', ts: Date.UTC(2018, 8, 14, 15, 34, 17), lat: 49.0156556, lon: 8.3975169, speedKmh: null, heading: null, accuracyM: null, seq: null }]);
  });

  it('converts knots to km/h; accuracy 0 means unknown', () => {
    const d = decodeTraccar('t', buf({
      position: { deviceId: 3, fixTime: '2024-05-01T00:30:00.000+00:00', latitude: -6.2, longitude: 106.8, speed: 10, course: 45, accuracy: 0, valid: true, attributes: { sat: 9 } },
      device: { uniqueId: '356307042441013', name: 'Truk 12' },
    }));
    expect(d.fixes).toHaveLength(1);
    expect(d.fixes[0]!.speedKmh).toBeCloseTo(18.52, 9);
    expect(d.fixes[0]).toMatchObject({ ts: NOW, heading: 45, accuracyM: null });
    expect(decodeTraccar('t', buf({ position: { fixTime: NOW, latitude: 1, longitude: 2, accuracy: 12 } })).fixes[0]!.accuracyM).toBe(12);
  });

  it.each([
    ['no position (an event-only forward)', { event: { type: 'deviceOnline' }, device: { uniqueId: 'x' } }, 'MISSING_FIELD', 'position'],
    ['position as a string', { position: 'x' }, 'BAD_TYPE', 'position'],
    ['latitude as a string', { position: { fixTime: NOW, latitude: '-6.2', longitude: 106.8 } }, 'BAD_TYPE', 'position.latitude'],
    ['an unparseable fixTime', { position: { fixTime: 'Sep 14 2018', latitude: -6.2, longitude: 106.8 } }, 'BAD_TYPE', 'position.fixTime'],
    ['speed as a string', { position: { fixTime: NOW, latitude: -6.2, longitude: 106.8, speed: '12kn' } }, 'BAD_TYPE', 'position.speed'],
  ] as const)('%s -> %s', (_name, payload, code, field) => {
    const r = onlyReject(decodeTraccar('t', buf(payload)));
    expect([r.code, r.field]).toEqual([code, field]);
  });
});

describe('Teltonika JSON', () => {
  it('reads ts (ms), latlng, sp (km/h) and ang, ignoring IO elements', () => {
    const d = decodeTeltonika('fmc-1', buf('{"state":{"reported":{"ts":1714523400000,"pr":0,"latlng":"-6.175392,106.827153","alt":12,"ang":275,"sat":11,"sp":38,"evt":0,"239":1,"240":1,"21":5,"66":12870}}}'));
    expect(d.rejects).toEqual([]);
    expect(d.fixes).toEqual([{ deviceId: 'fmc-1', ts: NOW, lat: -6.175392, lon: 106.827153, speedKmh: 38, heading: 275, accuracyM: null, seq: null }]);
  });

  it.each([
    ['latlng not a pair', { state: { reported: { ts: NOW, latlng: '-6.175392' } } }, 'BAD_TYPE', 'state.reported.latlng'],
    ['latlng with an empty half', { state: { reported: { ts: NOW, latlng: '-6.175392,' } } }, 'BAD_TYPE', 'state.reported.latlng'],
    ['latlng as an array', { state: { reported: { ts: NOW, latlng: [-6.1, 106.8] } } }, 'BAD_TYPE', 'state.reported.latlng'],
    ['latlng with text', { state: { reported: { ts: NOW, latlng: 'S6.17,E106.82' } } }, 'BAD_TYPE', 'state.reported.latlng'],
    ['no latlng', { state: { reported: { ts: NOW, sp: 3 } } }, 'MISSING_FIELD', 'state.reported.latlng'],
    ['no ts', { state: { reported: { latlng: '-6.1,106.8' } } }, 'MISSING_FIELD', 'state.reported.ts'],
    ['no reported', { state: { desired: {} } }, 'MISSING_FIELD', 'state.reported'],
    ['no state', { reported: {} }, 'MISSING_FIELD', 'state'],
    ['state as a string', { state: 'x' }, 'BAD_TYPE', 'state'],
    ['sp as a string', { state: { reported: { ts: NOW, latlng: '-6.1,106.8', sp: '38' } } }, 'BAD_TYPE', 'state.reported.sp'],
  ] as const)('%s -> %s', (_name, payload, code, field) => {
    const r = onlyReject(decodeTeltonika('t', buf(payload)));
    expect([r.code, r.field]).toEqual([code, field]);
  });
});

describe('decodeMessage', () => {
  it('maps each topic kind to its decoder', () => {
    expect(decodeMessage('position', 'v', buf({ ts: NOW, lat: -6.2, lon: 106.8 }), NOW).fixes).toHaveLength(1);
    expect(decodeMessage('positions', 'v', buf([{ ts: NOW, lat: -6.2, lon: 106.8 }]), NOW).fixes).toHaveLength(1);
    expect(decodeMessage('status', 'v', buf({ ts: NOW, status: 'available' }), NOW).statuses).toHaveLength(1);
    expect(decodeMessage('reading', 's', buf({ ts: NOW, values: { pm25: 3 } }), NOW).readings).toHaveLength(1);
    expect(decodeMessage('owntracks', 'v', buf({ _type: 'location', lat: -6.2, lon: 106.8, tst: 1714523400 }), NOW).fixes).toHaveLength(1);
    const s = decodeMessage('senml', 's', buf([{ n: 'x:water_level', u: 'm', v: 1, t: -1 }]), NOW);
    expect(s.readings[0]!.ts).toBe(NOW - 1000);
  });

  it('passes the size limits on', () => {
    const fix = { ts: NOW, lat: -6.2, lon: 106.8 };
    const limits = { maxFixesPerMessage: 1, maxSenmlRecords: 1 };
    expect(decodeMessage('positions', 'v', buf([fix, fix]), NOW, limits).rejects[0]!.code).toBe('TOO_LARGE');
    expect(decodeMessage('senml', 's', buf([{ n: 'rain', u: 'mm', v: 1 }, { n: 'rain', u: 'mm', v: 1 }]), NOW, limits).rejects[0]!.code).toBe('TOO_LARGE');
  });

  it('refuses data on the devices inbox topics (UNKNOWN_TOPIC)', () => {
    expect(onlyReject(decodeMessage('rejects', 'v', buf({}), NOW)).code).toBe('UNKNOWN_TOPIC');
    expect(onlyReject(decodeMessage('device_inbox', 'v', buf({}), NOW)).code).toBe('UNKNOWN_TOPIC');
  });
});

describe('every reject code comes from a real bad message', () => {
  /** topic + payload through topic check, decode and validate, as the pipeline runs them */
  function ingest(topic: string, deviceKind: 'vehicle' | 'sensor', payload: string): Reject[] {
    const parsed = parseTopic(topic);
    const refused = topicReject(parsed, deviceKind);
    if (refused !== null) return [refused];
    const d = decodeMessage(parsed!.kind, 'dev-1', buf(payload), NOW);
    validate(d, NOW, DEFAULT_VALIDATE_LIMITS);
    return d.rejects;
  }
  const cases: Array<[RejectCode, string, 'vehicle' | 'sensor', string]> = [
    ['BAD_JSON', 'pantau/v1/vehicles/dev-1/position', 'vehicle', '{lat: -6.2}'],
    ['MISSING_FIELD', 'pantau/v1/vehicles/dev-1/position', 'vehicle', '{"ts":1714523400000,"lat":-6.2}'],
    ['BAD_TYPE', 'pantau/v1/vehicles/dev-1/position', 'vehicle', '{"ts":1714523400000,"lat":"6°12\'S","lon":106.8}'],
    ['OUT_OF_RANGE', 'pantau/v1/vehicles/dev-1/position', 'vehicle', '{"ts":1714523400000,"lat":0,"lon":0}'],
    ['UNKNOWN_METRIC', 'pantau/v1/sensors/dev-1/reading', 'sensor', '{"ts":1714523400000,"values":{"water_level":185}}'],
    ['BAD_UNIT', 'pantau/v1/sensors/dev-1/senml', 'sensor', '[{"n":"katulampa:water_level","u":"ft","v":6}]'],
    ['TOO_LARGE', 'pantau/v1/vehicles/dev-1/positions', 'vehicle', JSON.stringify(Array(1001).fill({ ts: NOW, lat: -6.2, lon: 106.8 }))],
    ['TS_IN_FUTURE', 'pantau/v1/vehicles/dev-1/position', 'vehicle', '{"ts":"2024-05-01T08:30:00+07:00","lat":-6.2,"lon":106.8}'],
    ['UNKNOWN_TOPIC', 'pantau/v1/vehicles/dev-1/location', 'vehicle', '{"ts":1714523400000,"lat":-6.2,"lon":106.8}'],
    ['WRONG_KIND', 'pantau/v1/vehicles/dev-1/position', 'sensor', '{"ts":1714523400000,"lat":-6.2,"lon":106.8}'],
  ];
  it.each(cases)('%s', (code, topic, kind, payload) => {
    const rejects = ingest(topic, kind, payload);
    expect(rejects.map((r) => r.code)).toEqual([code]);
    expect(rejects[0]!.message).toMatch(/expected|must be|at most|not a Pantau|may not/);
  });
  // Produced outside topics/decode/validate, by stages that need the device registry.
  const ELSEWHERE: ReadonlySet<RejectCode> = new Set(['UNKNOWN_DEVICE']);
  it('covers REJECT_CODES', () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(REJECT_CODES.filter((c) => !ELSEWHERE.has(c))));
  });
});
