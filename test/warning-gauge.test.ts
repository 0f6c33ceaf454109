// GaugeEvaluator as tables: readings (value @ seconds from T0), ticks and reconfigurations in, changes out.
// Changes print as "NORMAL->SIAGA_3 @60", "rise on 30.0 @60", "stuck on 100 since 0 x3 @120",
// "offline on last - @181" (last = lastTs in s, "-" for none); several from one step are joined by ", ".

import { describe, expect, it } from 'vitest';
import { GaugeEvaluator, type GaugeChange, type GaugeConfig, type GaugeRestore } from '../warning/gauge.ts';

const T0 = Date.UTC(2025, 0, 15, 6, 0, 0);
const at = (s: number): number => T0 + s * 1000;
const sec = (ms: number): number => (ms - T0) / 1000;

// Bendung Katulampa, domain/jakarta-gauges.json (cm).
const KATULAMPA: GaugeConfig = {
  levels: [
    { name: 'SIAGA_3', value: 80 },
    { name: 'SIAGA_2', value: 150 },
    { name: 'SIAGA_1', value: 200 },
  ],
  hysteresis: 5,
  minDurationS: 0,
  rateOfRisePer10min: null,
  expectedIntervalS: 60,
  stuckReadings: 0,
  stuckSpanS: 0,
};
// Krukut Hulu: only Siaga 3 is public.
const KRUKUT_HULU: GaugeConfig = {
  ...KATULAMPA,
  levels: [
    { name: 'SIAGA_3', value: 150 },
    { name: 'SIAGA_2', value: null },
    { name: 'SIAGA_1', value: null },
  ],
};
// Sunter Hulu: Siaga 1 not public.
const SUNTER_HULU: GaugeConfig = {
  ...KATULAMPA,
  levels: [
    { name: 'SIAGA_3', value: 140 },
    { name: 'SIAGA_2', value: 200 },
    { name: 'SIAGA_1', value: null },
  ],
};

function fmt(changes: GaugeChange[]): string {
  return changes
    .map((c) => {
      switch (c.kind) {
        case 'status':
          return `${c.from}->${c.to} @${sec(c.ts)}`;
        case 'rate_of_rise':
          return `rise ${c.active ? 'on' : 'off'} ${c.ratePer10min.toFixed(1)} @${sec(c.ts)}`;
        case 'stuck':
          return `stuck ${c.active ? 'on' : 'off'} ${c.value} since ${sec(c.sinceTs)} x${c.readings} @${sec(c.ts)}`;
        case 'offline':
          return `offline ${c.active ? 'on' : 'off'} last ${c.lastTs === null ? '-' : sec(c.lastTs)} @${sec(c.ts)}`;
      }
    })
    .join(', ');
}

/** [seconds from T0, a reading's value | 'tick' | a reconfiguration over the case's config, expected changes] */
type Step = [s: number, input: number | 'tick' | { configure: Partial<GaugeConfig> }, expect: string];
interface Case {
  name: string;
  config: GaugeConfig;
  restore?: GaugeRestore;
  steps: Step[];
}

function play(c: Case): void {
  const ev = new GaugeEvaluator(c.config, T0, c.restore);
  for (const [s, input, expected] of c.steps) {
    const changes =
      input === 'tick'
        ? ev.tick(at(s))
        : typeof input === 'number'
          ? ev.reading(input, at(s))
          : ev.configure({ ...c.config, ...input.configure }, at(s));
    expect(fmt(changes), `step ${JSON.stringify(input)} @${s}`).toBe(expected);
  }
}

const STATUS_CASES: Case[] = [
  {
    name: 'a reading at or above a level is at that level; between levels it stays',
    config: KATULAMPA,
    steps: [
      [0, 79, ''],
      [60, 80, 'NORMAL->SIAGA_3 @60'],
      [120, 149.9, ''],
      [180, 150, 'SIAGA_3->SIAGA_2 @180'],
      [240, 200, 'SIAGA_2->SIAGA_1 @240'],
      [300, 1000, ''],
    ],
  },
  {
    name: 'flapping around a level never re-raises: it falls only below level - hysteresis',
    config: KATULAMPA,
    steps: [
      [0, 79, ''],
      [60, 80, 'NORMAL->SIAGA_3 @60'],
      [120, 79, ''],
      [180, 80, ''],
      [240, 76, ''],
      [300, 75, ''],
      [360, 74.9, 'SIAGA_3->NORMAL @360'],
      [420, 79, ''],
      [480, 80, 'NORMAL->SIAGA_3 @480'],
    ],
  },
  {
    name: 'a fall lands on the lowest status whose band still holds the reading',
    config: KATULAMPA,
    steps: [
      [0, 200, 'NORMAL->SIAGA_1 @0'],
      [60, 195, ''], // 200 - 5 holds
      [120, 194.9, 'SIAGA_1->SIAGA_2 @120'],
      [180, 145, ''],
      [240, 144, 'SIAGA_2->SIAGA_3 @240'],
      [300, 210, 'SIAGA_3->SIAGA_1 @300'],
      [360, 146, 'SIAGA_1->SIAGA_2 @360'], // raw level is SIAGA_3, but 146 is inside SIAGA_2's band (>= 145)
      [420, 210, 'SIAGA_2->SIAGA_1 @420'],
      [480, 77, 'SIAGA_1->SIAGA_3 @480'], // raw NORMAL, SIAGA_3's band holds (>= 75)
      [540, 210, 'SIAGA_3->SIAGA_1 @540'],
      [600, 74, 'SIAGA_1->NORMAL @600'],
    ],
  },
  {
    name: 'jumps over levels in one step, both ways',
    config: KATULAMPA,
    steps: [
      [0, 50, ''],
      [60, 250, 'NORMAL->SIAGA_1 @60'],
      [120, 10, 'SIAGA_1->NORMAL @120'],
    ],
  },
  {
    name: 'Krukut Hulu (only siaga3 = 150): 500 cm is SIAGA_3, never SIAGA_1',
    config: KRUKUT_HULU,
    steps: [
      [0, 0, ''],
      [60, 149, ''],
      [120, 150, 'NORMAL->SIAGA_3 @120'],
      [180, 500, ''],
      [240, 1000, ''],
      [300, 145, ''],
      [360, 144, 'SIAGA_3->NORMAL @360'],
    ],
  },
  {
    name: 'Sunter Hulu (siaga1 null): 255 cm is SIAGA_2',
    config: SUNTER_HULU,
    steps: [
      [0, 255, 'NORMAL->SIAGA_2 @0'],
      [60, 196, ''],
      [120, 194, 'SIAGA_2->SIAGA_3 @120'],
    ],
  },
  {
    name: 'a null level is skipped, not taken as 0',
    config: {
      ...KATULAMPA,
      levels: [
        { name: 'SIAGA_3', value: null },
        { name: 'SIAGA_2', value: 100 },
        { name: 'SIAGA_1', value: null },
      ],
    },
    steps: [
      [0, 0, ''],
      [60, 99, ''],
      [120, 100, 'NORMAL->SIAGA_2 @120'],
      [180, 94, 'SIAGA_2->NORMAL @180'],
    ],
  },
];

const DURATION = { ...KATULAMPA, minDurationS: 300 };
const DURATION_CASES: Case[] = [
  {
    name: 'up: taken once readings have pointed up for minDurationS; the latest reading decides the level',
    config: DURATION,
    steps: [
      [0, 80, ''],
      [120, 90, ''],
      [299, 150, ''],
      [300, 150, 'NORMAL->SIAGA_2 @300'],
    ],
  },
  {
    name: 'down: timed from the first reading below the band, lands where the latest reading points',
    config: DURATION,
    restore: { status: 'SIAGA_2', lastTs: at(-60), lastValue: 160 },
    steps: [
      [0, 146, ''], // in SIAGA_2's band: not pointing down
      [60, 140, ''], // points to SIAGA_3: timing starts
      [200, 100, ''],
      [360, 70, 'SIAGA_2->NORMAL @360'],
    ],
  },
  {
    name: 'a reading back at the current status cancels; the next one starts timing afresh',
    config: DURATION,
    steps: [
      [0, 85, ''],
      [200, 79, ''], // back to NORMAL: cancelled
      [250, 85, ''],
      [500, 85, ''], // only 250 s since the restart
      [550, 85, 'NORMAL->SIAGA_3 @550'],
      [600, 70, ''],
      [700, 76, ''], // inside SIAGA_3's band: cancelled
      [800, 70, ''],
      [1099, 70, ''],
      [1100, 70, 'SIAGA_3->NORMAL @1100'],
    ],
  },
  {
    name: 'a reversal of direction restarts the timing',
    config: DURATION,
    restore: { status: 'SIAGA_3', lastTs: at(-60), lastValue: 82 },
    steps: [
      [0, 70, ''],
      [100, 160, ''],
      [350, 160, ''], // 350 s since the first reading pointing anywhere, but only 250 s pointing up
      [400, 160, 'SIAGA_3->SIAGA_2 @400'],
    ],
  },
  {
    name: 'minDurationS 0 is immediate',
    config: KATULAMPA,
    steps: [
      [0, 80, 'NORMAL->SIAGA_3 @0'],
      [1, 10, 'SIAGA_3->NORMAL @1'],
    ],
  },
];

const RISE = { ...KATULAMPA, rateOfRisePer10min: 20 };
const SIGNAL_CASES: Case[] = [
  {
    name: 'rate of rise: judged over >= 60 s of the last 10 min; clears below half the threshold',
    config: RISE,
    steps: [
      [0, 50, ''],
      [30, 51, ''], // 30 s: too short to judge
      [60, 53, 'rise on 30.0 @60'],
      [120, 53, ''], // 15.0
      [180, 53, ''], // 10.0: half the threshold is not below it
      [240, 53, 'rise off 7.5 @240'],
    ],
  },
  {
    name: 'rate of rise: only the last 10 minutes count',
    config: RISE,
    steps: [
      [0, 0, ''],
      [600, 30, 'rise on 30.0 @600'],
      [1200, 30, 'rise off 0.0 @1200'], // the reading at 0 has left the window
      [1260, 60, 'rise on 300.0 @1260'], // the window 660..1260 holds only 1200 and 1260: 30 cm in 60 s
    ],
  },
  {
    name: 'stuck by count; one change per transition; clears at the first different value',
    config: { ...KATULAMPA, stuckReadings: 3 },
    steps: [
      [0, 100, 'NORMAL->SIAGA_3 @0'],
      [60, 100, ''],
      [120, 100, 'stuck on 100 since 0 x3 @120'],
      [180, 100, ''],
      [240, 101, 'stuck off 101 since 0 x4 @240'],
      [300, 101, ''],
      [360, 101, 'stuck on 101 since 240 x3 @360'],
    ],
  },
  {
    name: 'stuck by span',
    config: { ...KATULAMPA, stuckSpanS: 300 },
    steps: [
      [0, 10, ''],
      [200, 10, ''],
      [300, 10, 'stuck on 10 since 0 x3 @300'],
      [360, 10.5, 'stuck off 10.5 since 0 x3 @360'],
      [420, 10, ''],
    ],
  },
  {
    name: 'offline via tick after 3 x expectedIntervalS, cleared first by the next reading',
    config: KATULAMPA,
    steps: [
      [180, 'tick', ''], // from the constructor's now, no reading yet
      [181, 'tick', 'offline on last - @181'],
      [182, 'tick', ''],
      [200, 10, 'offline off last - @200'],
      [380, 'tick', ''],
      [381, 'tick', 'offline on last 200 @381'],
      [500, 'tick', ''],
      [600, 80, 'offline off last 200 @600, NORMAL->SIAGA_3 @600'],
    ],
  },
  {
    name: 'late or repeated timestamps are ignored and change nothing',
    config: { ...KATULAMPA, stuckReadings: 2 },
    steps: [
      [100, 100, 'NORMAL->SIAGA_3 @100'],
      [100, 300, ''],
      [50, 300, ''],
      [99, 100, ''], // would make the run stuck
      [160, 10, 'SIAGA_3->NORMAL @160'],
      [340, 'tick', ''],
      [341, 'tick', 'offline on last 160 @341'],
      [150, 10, ''], // a late reading does not bring it back
      [500, 10, 'offline off last 160 @500, stuck on 10 since 160 x2 @500'],
    ],
  },
];

const CONFIGURE_CASES: Case[] = [
  {
    name: 'configure re-judges the last value at once, with hysteresis only in the new levels',
    config: DURATION,
    restore: { status: 'SIAGA_3', lastTs: at(0), lastValue: 82 },
    steps: [
      [60, { configure: { levels: [{ name: 'SIAGA_3', value: 85 }] } }, ''], // 82 >= 85 - 5
      [120, { configure: { levels: [{ name: 'SIAGA_3', value: 90 }] } }, 'SIAGA_3->NORMAL @120'],
      [180, { configure: { levels: [{ name: 'SIAGA_3', value: 50 }, { name: 'SIAGA_1', value: 82 }] } }, 'NORMAL->SIAGA_1 @180'],
      [240, { configure: {} }, 'SIAGA_1->SIAGA_3 @240'], // back to Katulampa's levels: 82 < 200 - 5
    ],
  },
  {
    name: 'configure drops a change pending under the old levels',
    config: DURATION,
    steps: [
      [0, 100, ''], // pending up since 0
      [60, { configure: { levels: [{ name: 'SIAGA_3', value: 120 }] } }, ''],
      [200, 130, ''], // pending up again, since 200
      [300, 130, ''],
      [500, 130, 'NORMAL->SIAGA_3 @500'],
    ],
  },
  {
    name: 'renamed levels: the old status names no level and is replaced by the raw level',
    config: KATULAMPA,
    steps: [
      [0, 152, 'NORMAL->SIAGA_2 @0'],
      [
        60,
        {
          configure: {
            levels: [
              { name: 'WASPADA', value: 80 },
              { name: 'SIAGA', value: 150 },
              { name: 'AWAS', value: 200 },
            ],
          },
        },
        'SIAGA_2->SIAGA @60',
      ],
    ],
  },
  {
    name: 'configure re-judges rate of rise and stuck',
    config: { ...RISE, stuckReadings: 3 },
    steps: [
      [0, 50, ''],
      [60, 53, 'rise on 30.0 @60'],
      [120, 53, ''],
      [180, { configure: { rateOfRisePer10min: null, stuckReadings: 2 } }, 'rise off 15.0 @180, stuck on 53 since 60 x2 @180'],
      [240, { configure: { stuckReadings: 5 } }, ''], // a higher count does not clear it
      [300, { configure: { stuckReadings: 0 } }, 'stuck off 53 since 60 x2 @300'],
      [360, { configure: { rateOfRisePer10min: 5 } }, 'rise on 15.0 @360'],
    ],
  },
  {
    name: 'configure before any reading changes nothing; the first reading is judged on the new levels',
    config: KATULAMPA,
    steps: [
      [0, { configure: { levels: [{ name: 'SIAGA_3', value: 10 }] } }, ''],
      [60, 20, 'NORMAL->SIAGA_3 @60'],
    ],
  },
];

describe('GaugeEvaluator status', () => {
  it.each(STATUS_CASES)('$name', play);
});
describe('GaugeEvaluator minimum duration', () => {
  it.each(DURATION_CASES)('$name', play);
});
describe('GaugeEvaluator rate of rise, stuck, offline, late readings', () => {
  it.each(SIGNAL_CASES)('$name', play);
});
describe('GaugeEvaluator configure', () => {
  it.each(CONFIGURE_CASES)('$name', play);
});

describe('GaugeEvaluator Katulampa flash flood (50 -> 210 cm in 70 min)', () => {
  it('raises the rate of rise while still NORMAL, passes every level, clears once the river levels off', () => {
    const ev = new GaugeEvaluator(RISE, T0);
    const seen: string[] = [];
    for (let min = 0; min <= 90; min++) {
      const cm = min <= 70 ? Math.round((50 + (160 * min) / 70) * 10) / 10 : 210;
      const changes = ev.reading(cm, at(min * 60));
      if (changes.length > 0) seen.push(fmt(changes));
      if (min === 1) expect(ev.status).toBe('NORMAL');
    }
    expect(seen).toEqual([
      'rise on 23.0 @60', // 160 cm / 70 min = 22.9 cm per 10 min
      'NORMAL->SIAGA_3 @840',
      'SIAGA_3->SIAGA_2 @2640',
      'SIAGA_2->SIAGA_1 @3960',
      'rise off 9.1 @4560', // window 66..76 min: 200.9 -> 210
    ]);
    expect(ev.rising).toBe(false);
    expect(ev.status).toBe('SIAGA_1');
  });

  it('keeps only the last 10 minutes of readings', () => {
    const ev = new GaugeEvaluator(RISE, T0);
    for (let s = 0; s < 20_000; s++) ev.reading(100, at(s));
    const window = (ev as unknown as { window: unknown[] }).window;
    expect(window.length).toBeLessThanOrEqual(2 * 601);
  });
});

describe('GaugeEvaluator restore and getters', () => {
  it('restores status, last reading and flags', () => {
    const ev = new GaugeEvaluator(KATULAMPA, T0, {
      status: 'SIAGA_2',
      lastTs: at(0),
      lastValue: 160,
      offline: true,
      stuck: true,
      rising: true,
    });
    expect([ev.status, ev.lastTs, ev.lastValue, ev.offline, ev.stuck, ev.rising]).toEqual(['SIAGA_2', at(0), 160, true, true, true]);
    expect(ev.reading(1, at(0))).toEqual([]);
    // rate null (off) clears the restored rising; 146 holds SIAGA_2's band; a different value ends the run.
    expect(fmt(ev.reading(146, at(60)))).toBe('offline off last 0 @60, rise off -140.0 @60, stuck off 146 since 0 x1 @60');
    expect([ev.status, ev.lastTs, ev.lastValue, ev.offline, ev.stuck, ev.rising]).toEqual(['SIAGA_2', at(60), 146, false, false, false]);
  });

  it('a restored stuck flag without a value stays until a value differs from the first reading', () => {
    const ev = new GaugeEvaluator({ ...KATULAMPA, stuckReadings: 3 }, T0, { stuck: true, lastTs: at(0) });
    expect(fmt(ev.reading(5, at(0)))).toBe(''); // not after the restored lastTs: ignored
    expect(fmt(ev.reading(5, at(30)))).toBe('');
    expect(fmt(ev.reading(5, at(60)))).toBe('');
    expect(fmt(ev.reading(6, at(120)))).toBe('stuck off 6 since 30 x2 @120');
  });
});

describe('GaugeConfig validation', () => {
  const bad: [string, Partial<GaugeConfig>, RegExp][] = [
    ['descending levels', { levels: [{ name: 'A', value: 150 }, { name: 'B', value: null }, { name: 'C', value: 80 }] }, /ascend: C \(80\)/],
    ['equal levels', { levels: [{ name: 'A', value: 80 }, { name: 'B', value: 80 }] }, /ascend/],
    ['duplicate names', { levels: [{ name: 'A', value: 80 }, { name: 'A', value: null }] }, /A appears twice/],
    ['reserved NORMAL', { levels: [{ name: 'NORMAL', value: 80 }] }, /NORMAL is reserved/],
    ['NaN level', { levels: [{ name: 'A', value: Number.NaN }] }, /level A/],
    ['negative hysteresis', { hysteresis: -1 }, /hysteresis/],
    ['negative minDurationS', { minDurationS: -1 }, /minDurationS/],
    ['zero rate threshold', { rateOfRisePer10min: 0 }, /rateOfRisePer10min/],
    ['zero expected interval', { expectedIntervalS: 0 }, /expectedIntervalS/],
    ['stuckReadings 1', { stuckReadings: 1 }, /stuckReadings/],
    ['fractional stuckReadings', { stuckReadings: 2.5 }, /stuckReadings/],
  ];
  it.each(bad)('%s', (_name, patch, message) => {
    expect(() => new GaugeEvaluator({ ...KATULAMPA, ...patch }, T0)).toThrow(RangeError);
    expect(() => new GaugeEvaluator({ ...KATULAMPA, ...patch }, T0)).toThrow(message);
    const ev = new GaugeEvaluator(KATULAMPA, T0);
    ev.reading(100, at(0));
    expect(() => ev.configure({ ...KATULAMPA, ...patch }, at(1))).toThrow(RangeError);
    expect(fmt(ev.reading(74, at(60)))).toBe('SIAGA_3->NORMAL @60'); // the old config still applies
  });

  it('rejects non-finite readings', () => {
    expect(() => new GaugeEvaluator(KATULAMPA, T0).reading(Number.NaN, at(0))).toThrow(RangeError);
  });
});
