// validateFence as a table: input feature -> the reason and field POST /geofences answers 400 INVALID_GEOMETRY with.

import { describe, expect, it } from 'vitest';
import type { Position } from 'geojson';
import { validateFence } from '../geo/fence-validate.ts';

const SQ: Position[] = [
  [106.8, -6.2],
  [106.82, -6.2],
  [106.82, -6.18],
  [106.8, -6.18],
  [106.8, -6.2],
];
/** A square hole in the middle of SQ, wound the other way. */
const HOLE: Position[] = [
  [106.805, -6.195],
  [106.805, -6.185],
  [106.815, -6.185],
  [106.815, -6.195],
  [106.805, -6.195],
];
/** A 0.002-degree hole near SQ's south-west corner. */
const SMALL_HOLE: Position[] = [
  [106.802, -6.198],
  [106.802, -6.196],
  [106.804, -6.196],
  [106.804, -6.198],
  [106.802, -6.198],
];
const shift = (ring: Position[], dLon: number, dLat = 0): Position[] => ring.map(([x, y]) => [x! + dLon, y! + dLat]);

const feature = (geometry: unknown, properties: unknown = { name: 'Pintu Air Manggarai' }): Record<string, unknown> => ({
  type: 'Feature',
  geometry,
  properties,
});
const polygon = (...rings: unknown[]): Record<string, unknown> => feature({ type: 'Polygon', coordinates: rings });
const multi = (...polys: unknown[][]): Record<string, unknown> => feature({ type: 'MultiPolygon', coordinates: polys });

describe('validateFence rejects', () => {
  const table: Array<[string, unknown, RegExp, string]> = [
    // [what, input, reason, field]
    ['not an object', 'hello', /a fence is a GeoJSON Feature object, got the string "hello"/, ''],
    ['null', null, /GeoJSON Feature object, got null/, ''],
    ['a bare Polygon', { type: 'Polygon', coordinates: [SQ] }, /got a bare Polygon geometry; send a Feature/, 'type'],
    ['a FeatureCollection', { type: 'FeatureCollection', features: [] }, /send one Feature per fence/, 'type'],
    ['a wrong type', { type: 'feature', geometry: null, properties: {} }, /type must be "Feature", got "feature"/, 'type'],
    ['no geometry', feature(null), /geometry is missing/, 'geometry'],
    ['a Point', feature({ type: 'Point', coordinates: [106.8, -6.2] }), /geometry type "Point" is not supported: a fence is a Polygon or MultiPolygon/, 'geometry.type'],
    ['a LineString', feature({ type: 'LineString', coordinates: SQ }), /geometry type "LineString" is not supported/, 'geometry.type'],
    ['coordinates not an array', feature({ type: 'Polygon', coordinates: 'x' }), /geometry.coordinates must be an array of rings/, 'geometry.coordinates'],
    ['a polygon without rings', polygon(), /the polygon has no rings/, 'geometry.coordinates'],
    ['a MultiPolygon without polygons', feature({ type: 'MultiPolygon', coordinates: [] }), /a MultiPolygon needs at least one polygon/, 'geometry.coordinates'],
    ['an unclosed ring', polygon(SQ.slice(0, 4)), /^ring 0 is not closed: first position \[106.8, -6.2\] differs from last \[106.8, -6.18\]; repeat the first position at the end$/, 'geometry.coordinates[0]'],
    ['an unclosed ring of polygon 1', multi([SQ], [shift(SQ, 0.1).slice(0, 4)]), /^ring 0 of polygon 1 is not closed: first position \[106.9, -6.2\] differs from last \[106.9, -6.18\]/, 'geometry.coordinates[1][0]'],
    ['a ring of 3 positions', polygon([SQ[0], SQ[1], SQ[0]]), /^ring 0 has 3 positions; a linear ring needs at least 4/, 'geometry.coordinates[0]'],
    ['a hole of 2 positions', polygon(SQ, [HOLE[0], HOLE[0]]), /^ring 1 has 2 positions/, 'geometry.coordinates[1]'],
    ['a ring that is not an array', polygon(SQ, 7), /^ring 1 must be an array of \[lon, lat\] positions, got number 7/, 'geometry.coordinates[1]'],
    ['longitude 200', polygon([SQ[0], SQ[1], SQ[2], [200, -6.18], SQ[0]]), /^longitude 200 out of range at coordinates\[0\]\[3\]: must be in \[-180, 180\]/, 'geometry.coordinates[0][3]'],
    ['latitude -95 in a MultiPolygon', multi([SQ], [SQ, [HOLE[0], [106.81, -95], HOLE[2], HOLE[0]]]), /^latitude -95 out of range at coordinates\[1\]\[1\]\[1\]/, 'geometry.coordinates[1][1][1]'],
    ['lat/lon swapped', polygon(SQ.map(([x, y]) => [y, x])), /^latitude 106.8 out of range at coordinates\[0\]\[0\]: must be in \[-90, 90\] \(positions are \[lon, lat\]; swapped\?\)/, 'geometry.coordinates[0][0]'],
    ['a string coordinate', polygon([SQ[0], ['106.82', -6.2], SQ[2], SQ[3], SQ[0]]), /^position at coordinates\[0\]\[1\] must hold numbers only, got the string "106.82" at index 0/, 'geometry.coordinates[0][1]'],
    ['a position of 1 number', polygon([SQ[0], [106.82], SQ[2], SQ[3], SQ[0]]), /^position at coordinates\[0\]\[1\] must be \[lon, lat\]/, 'geometry.coordinates[0][1]'],
    ['NaN', polygon([SQ[0], [NaN, -6.2], SQ[2], SQ[3], SQ[0]]), /must hold numbers only, got number NaN/, 'geometry.coordinates[0][1]'],
    ['a zero-area ring', polygon([SQ[0], SQ[1], [106.81, -6.2], SQ[0]]), /^ring 0 has zero area: its positions lie on one line/, 'geometry.coordinates[0]'],
    [
      'a bowtie',
      polygon([
        [106.8, -6.2],
        [106.82, -6.18],
        [106.82, -6.2],
        [106.8, -6.18],
        [106.8, -6.2],
      ]),
      /^self-intersection at \[106.81, -6.19\]: ring 0 crosses or touches itself$/,
      'geometry.coordinates[0]',
    ],
    [
      'a bowtie in polygon 1',
      multi([SQ], [shift([[106.8, -6.2], [106.82, -6.18], [106.82, -6.2], [106.8, -6.18], [106.8, -6.2]], 0.1)]),
      /^self-intersection at \[106.91, -6.19\]: ring 0 of polygon 1 crosses or touches itself$/,
      'geometry.coordinates[1][0]',
    ],
    [
      'a figure-8 ring touching itself at a vertex',
      polygon([
        [106.8, -6.2],
        [106.81, -6.19],
        [106.82, -6.2],
        [106.82, -6.18],
        [106.81, -6.19],
        [106.8, -6.18],
        [106.8, -6.2],
      ]),
      /^self-intersection at \[106.81, -6.19\]: ring 0 crosses or touches itself$/,
      'geometry.coordinates[0]',
    ],
    ['a hole outside its shell', polygon(SQ, shift(HOLE, 0.05)), /^hole 1 lies outside its shell \(ring 0\)$/, 'geometry.coordinates[1]'],
    ['the second hole outside its shell', polygon(SQ, HOLE, shift(HOLE, 0.05)), /^hole 2 lies outside its shell/, 'geometry.coordinates[2]'],
    ['a hole crossing its shell', polygon(SQ, shift(HOLE, 0.01)), /^self-intersection at \[106.82, -6.1[89]5\]: hole 1 crosses or touches its shell$/, 'geometry.coordinates[1]'],
    ['a hole touching its shell at a vertex', polygon(SQ, [SQ[0], [106.81, -6.19], [106.81, -6.195], SQ[0]]), /^self-intersection at \[106.8, -6.2\]: hole 1 crosses or touches its shell$/, 'geometry.coordinates[1]'],
    ['two holes crossing', polygon(SQ, HOLE, shift(HOLE, 0.002, 0.002)), /^self-intersection at .*: hole 1 and hole 2 cross or touch$/, 'geometry.coordinates[2]'],
    [
      'a hole inside a hole',
      polygon(SQ, HOLE, [
        [106.808, -6.192],
        [106.812, -6.192],
        [106.812, -6.188],
        [106.808, -6.188],
        [106.808, -6.192],
      ]),
      /^hole 2 lies inside hole 1; nested holes are not allowed/,
      'geometry.coordinates[2]',
    ],
    ['overlapping parts of a MultiPolygon', multi([SQ], [shift(SQ, 0.01, 0.01)]), /^self-intersection at .*: polygon 0 and polygon 1 cross or touch/, 'geometry.coordinates[1]'],
    ['a hole outside its shell in polygon 1', multi([SQ], [shift(SQ, 0.1), HOLE]), /^hole 1 of polygon 1 lies outside its shell \(ring 0 of polygon 1\)$/, 'geometry.coordinates[1][1]'],
    ['a malformed bbox (geojson-validation)', { ...polygon(SQ), bbox: 'all of Jakarta' }, /^not valid GeoJSON: bbox must be an array/, ''],
    ['no properties', { type: 'Feature', geometry: { type: 'Polygon', coordinates: [SQ] } }, /^properties must be an object with at least a name/, 'properties'],
    ['a missing name', feature({ type: 'Polygon', coordinates: [SQ] }, { kind: 'depot' }), /^properties.name is required/, 'properties.name'],
    ['an empty name', feature({ type: 'Polygon', coordinates: [SQ] }, { name: '  ' }), /^properties.name must not be empty/, 'properties.name'],
    ['a numeric name', feature({ type: 'Polygon', coordinates: [SQ] }, { name: 42 }), /^properties.name must be a non-empty string, got number 42/, 'properties.name'],
    ['a non-string kind', feature({ type: 'Polygon', coordinates: [SQ] }, { name: 'x', kind: 3 }), /^properties.kind must be a non-empty string/, 'properties.kind'],
    ['applies_to not an array', feature({ type: 'Polygon', coordinates: [SQ] }, { name: 'x', applies_to: 'ambulance' }), /^properties.applies_to must be an array of vehicle types/, 'properties.applies_to'],
    ['applies_to empty', feature({ type: 'Polygon', coordinates: [SQ] }, { name: 'x', applies_to: [] }), /^properties.applies_to is empty: omit it/, 'properties.applies_to'],
    [
      'applies_to with an unknown type',
      feature({ type: 'Polygon', coordinates: [SQ] }, { name: 'x', applies_to: ['ambulance', 'tank'] }),
      /^applies_to contains unknown vehicle type 'tank'; known types: ambulance, garbage_truck/,
      'properties.applies_to[1]',
    ],
    ['applies_to with a number', feature({ type: 'Polygon', coordinates: [SQ] }, { name: 'x', applies_to: [5] }), /^applies_to contains unknown vehicle type number 5/, 'properties.applies_to[0]'],
    ['dwell_s as a string', feature({ type: 'Polygon', coordinates: [SQ] }, { name: 'x', dwell_s: '60' }), /^properties.dwell_s must be a number of seconds, got the string "60"/, 'properties.dwell_s'],
    ['dwell_s negative', feature({ type: 'Polygon', coordinates: [SQ] }, { name: 'x', dwell_s: -5 }), /^properties.dwell_s must be a positive number of seconds, got -5/, 'properties.dwell_s'],
    ['dwell_s zero', feature({ type: 'Polygon', coordinates: [SQ] }, { name: 'x', dwell_s: 0 }), /^properties.dwell_s must be a positive number/, 'properties.dwell_s'],
  ];

  it.each(table)('%s', (_what, input, reason, field) => {
    const got = validateFence(input);
    expect(got.ok).toBe(false);
    if (got.ok) return;
    expect(got.reason).toMatch(reason);
    expect(got.field).toBe(field);
  });

  it('too many positions, with the limit the caller sets', () => {
    const ring: Position[] = [];
    for (let i = 0; i < 100; i++) ring.push([106.8 + 0.01 * Math.cos((2 * Math.PI * i) / 100), -6.2 + 0.01 * Math.sin((2 * Math.PI * i) / 100)]);
    ring.push(ring[0]!);
    expect(validateFence(polygon(ring)).ok).toBe(true);
    const got = validateFence(polygon(ring), { maxPositions: 50 });
    expect(got).toEqual({ ok: false, reason: expect.stringMatching(/more than 50 positions; simplify it/), field: 'geometry.coordinates' });
  });
});

describe('validateFence accepts', () => {
  const concave: Position[] = [
    [106.8, -6.2],
    [106.82, -6.2],
    [106.82, -6.18],
    [106.81, -6.19],
    [106.8, -6.18],
    [106.8, -6.2],
  ];
  const table: Array<[string, Record<string, unknown>]> = [
    ['a square', polygon(SQ)],
    ['a polygon with a hole', polygon(SQ, HOLE)],
    ['a polygon with two holes', polygon(SQ, SMALL_HOLE, shift(SMALL_HOLE, 0.01, 0.01))],
    ['a concave (V-notched) polygon', polygon(concave)],
    ['a MultiPolygon of separate parts, one holed', multi([SQ], [shift(SQ, 0.1), shift(HOLE, 0.1)])],
    ['clockwise rings (winding is not checked)', polygon([...SQ].reverse())],
    ['positions with an altitude', polygon(SQ.map(([x, y]) => [x, y, 12]))],
    ['a Feature with a good bbox and an id', { ...polygon(SQ), bbox: [106.8, -6.2, 106.82, -6.18], id: 'ignored' }],
  ];
  it.each(table)('%s', (_what, input) => {
    const got = validateFence(input);
    if (!got.ok) throw new Error(`rejected: ${got.reason} at ${got.field}`);
    expect(got.fence.name).toBe('Pintu Air Manggarai');
  });

  it('returns a clean copy: [lon, lat] positions, no bbox, properties in engine form', () => {
    const input = feature(
      { type: 'Polygon', coordinates: [SQ.map(([x, y]) => [x, y, 3])], bbox: [0, 0, 1, 1] },
      { name: 'Depo Sampah Bantar Gebang', kind: 'depot', applies_to: ['garbage_truck', 'garbage_truck', 'police'], dwell_s: 600, color: 'red' },
    );
    const got = validateFence(input);
    expect(got).toEqual({
      ok: true,
      fence: {
        geometry: { type: 'Polygon', coordinates: [SQ] },
        name: 'Depo Sampah Bantar Gebang',
        kind: 'depot',
        appliesTo: ['garbage_truck', 'police'],
        dwellS: 600,
      },
    });
    // A copy: changing the input afterwards changes nothing.
    ((input.geometry as { coordinates: number[][][] }).coordinates[0]![0]!)[0] = 0;
    if (got.ok) expect(got.fence.geometry.coordinates[0]![0]).toEqual([106.8, -6.2]);
  });

  it('optional properties default to null', () => {
    const got = validateFence(feature({ type: 'Polygon', coordinates: [SQ] }, { name: 'x', kind: null, applies_to: null }));
    expect(got).toMatchObject({ ok: true, fence: { kind: null, appliesTo: null, dwellS: null } });
  });
});
