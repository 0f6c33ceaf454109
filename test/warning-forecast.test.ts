// ForecastBook as tables: gauge status changes (hours from T0) in, forecast changes out.
// Changes print as "depok<-katulampa SIAGA_1 @3h" (target<-upstream level, expected arrival in h from T0),
// "depok arrived" or "depok withdrawn"; several from one step are joined by ", ".

import { describe, expect, it } from 'vitest';
import gauges from '../domain/jakarta-gauges.json' with { type: 'json' };
import { ForecastBook, linksFromGauges, type ForecastChange, type GaugeLink } from '../warning/forecast.ts';

const T0 = Date.UTC(2025, 0, 15, 6, 0, 0);
const H_MS = 3_600_000;
const at = (h: number): number => T0 + h * H_MS;
const hours = (ms: number): number => (ms - T0) / H_MS;

const RANKS: Record<string, number> = { NORMAL: 0, SIAGA_3: 1, SIAGA_2: 2, SIAGA_1: 3 };
const rank = (status: string): number => RANKS[status] ?? 0;

const JAKARTA = linksFromGauges(gauges);

function fmt(changes: ForecastChange[]): string {
  return changes
    .map((c) =>
      c.active
        ? `${c.forecast.target}<-${c.forecast.upstreamId} ${c.forecast.upstreamLevel} @${hours(c.forecast.expectedAtTs)}h`
        : `${c.target} ${c.reason}`,
    )
    .join(', ');
}

/** [gauge, its new status, hours from T0, expected changes] */
type Step = [gauge: string, status: string, h: number, expect: string];
interface Case {
  name: string;
  links?: GaugeLink[];
  steps: Step[];
}

function play(c: Case): ForecastBook {
  const book = new ForecastBook(c.links ?? JAKARTA, rank);
  for (const [gauge, status, h, expected] of c.steps) {
    expect(fmt(book.statusChanged(gauge, status, at(h))), `${gauge} ${status} @${h}h`).toBe(expected);
  }
  return book;
}

const h = (from: string, to: string, travelH: number): GaugeLink => ({ from, to, travelS: travelH * 3600 });

const CASES: Case[] = [
  {
    name: 'Katulampa SIAGA_1 reaches Depok at +3 h and Manggarai at +9 h; withdrawn when it recedes',
    steps: [
      ['katulampa', 'SIAGA_1', 0, 'depok<-katulampa SIAGA_1 @3h, manggarai<-katulampa SIAGA_1 @9h'],
      ['katulampa', 'SIAGA_1', 0.5, ''], // repeated status
      ['katulampa', 'NORMAL', 1, 'depok withdrawn, manggarai withdrawn'],
      ['katulampa', 'NORMAL', 2, ''],
    ],
  },
  {
    name: 'a higher level replaces the forecast from the new time; a lower one keeps the crest already on its way',
    steps: [
      ['katulampa', 'SIAGA_3', 0, 'depok<-katulampa SIAGA_3 @3h, manggarai<-katulampa SIAGA_3 @9h'],
      ['katulampa', 'SIAGA_1', 1, 'depok<-katulampa SIAGA_1 @4h, manggarai<-katulampa SIAGA_1 @10h'],
      ['katulampa', 'SIAGA_2', 2, ''],
      ['katulampa', 'NORMAL', 3, 'depok withdrawn, manggarai withdrawn'],
    ],
  },
  {
    name: "arrival at Depok replaces Depok's forecast; Manggarai takes the Depok-based forecast when it leads",
    steps: [
      ['katulampa', 'SIAGA_1', 0, 'depok<-katulampa SIAGA_1 @3h, manggarai<-katulampa SIAGA_1 @9h'],
      // Depok at SIAGA_3 forecasts Manggarai at 8.5 h, but Katulampa's SIAGA_1 is the higher level.
      ['depok', 'SIAGA_3', 2.5, 'depok arrived'],
      // Same level as Katulampa's, earlier arrival: the aggregate moves to Depok.
      ['depok', 'SIAGA_1', 2.75, 'manggarai<-depok SIAGA_1 @8.75h'],
      // Depok is observed: Katulampa's change raises nothing for it, and Manggarai keeps the higher Depok forecast.
      ['katulampa', 'SIAGA_2', 3, ''],
      ['katulampa', 'NORMAL', 4, ''],
      ['depok', 'NORMAL', 10, 'manggarai withdrawn'],
    ],
  },
  {
    name: 'after the target falls back to NORMAL only later upstream changes raise forecasts for it',
    steps: [
      ['katulampa', 'SIAGA_1', 0, 'depok<-katulampa SIAGA_1 @3h, manggarai<-katulampa SIAGA_1 @9h'],
      ['depok', 'SIAGA_2', 3, 'depok arrived'], // Depok's SIAGA_2 @9h loses to Katulampa's SIAGA_1 @9h
      ['depok', 'NORMAL', 6, ''], // Depok's source leaves Manggarai; Katulampa's still leads
      // Depok's forecast was consumed by the arrival: a new one from 7 h; Manggarai keeps the SIAGA_1 crest
      ['katulampa', 'SIAGA_2', 7, 'depok<-katulampa SIAGA_2 @10h'],
    ],
  },
  {
    name: 'a target observed without a forecast emits no arrival; its upstream still forecasts past it',
    steps: [
      ['depok', 'SIAGA_3', 0, 'manggarai<-depok SIAGA_3 @6h'],
      ['katulampa', 'SIAGA_1', 1, 'manggarai<-katulampa SIAGA_1 @10h'],
      ['manggarai', 'SIAGA_3', 5, 'manggarai arrived'],
      ['katulampa', 'NORMAL', 6, ''],
      ['depok', 'NORMAL', 7, ''],
      ['manggarai', 'NORMAL', 8, ''],
    ],
  },
  {
    name: 'two upstreams (Angke Hulu 4 h, Pesanggrahan 4.5 h) aggregate on Cengkareng Drain',
    steps: [
      ['pesanggrahan', 'SIAGA_3', 0, 'cengkareng-drain<-pesanggrahan SIAGA_3 @4.5h'],
      ['angke-hulu', 'SIAGA_3', 1, ''], // same level, arrives later (5 h)
      ['angke-hulu', 'SIAGA_2', 1.5, 'cengkareng-drain<-angke-hulu SIAGA_2 @5.5h'], // higher level wins
      ['angke-hulu', 'SIAGA_3', 2, ''], // receding upstream: its SIAGA_2 crest is still on its way
      ['angke-hulu', 'NORMAL', 3, 'cengkareng-drain<-pesanggrahan SIAGA_3 @4.5h'], // withdrawn: back to the other source
      ['pesanggrahan', 'NORMAL', 4, 'cengkareng-drain withdrawn'],
    ],
  },
  {
    name: 'NORMAL at first sight and gauges without links change nothing',
    steps: [
      ['katulampa', 'NORMAL', 0, ''],
      ['cipinang-hulu', 'SIAGA_3', 0, ''],
      ['nowhere', 'SIAGA_1', 0, ''],
    ],
  },
  {
    name: 'two paths to a target: the shortest travel time counts',
    links: [h('a', 'b', 1), h('b', 'd', 1), h('a', 'c', 1), h('c', 'd', 3), h('a', 'd', 5), h('a', 'b', 4)],
    steps: [
      ['a', 'SIAGA_1', 0, 'b<-a SIAGA_1 @1h, c<-a SIAGA_1 @1h, d<-a SIAGA_1 @2h'],
      ['c', 'SIAGA_1', 0.5, 'c arrived'], // c's own forecast for d (3.5 h) is later than a's
      ['b', 'SIAGA_1', 0.75, 'b arrived, d<-b SIAGA_1 @1.75h'],
    ],
  },
];

describe('ForecastBook', () => {
  it.each(CASES)('$name', (c) => {
    play(c);
  });

  it('active() and all() show the aggregates, earliest arrival first', () => {
    const book = play({
      name: 'state',
      steps: [
        ['katulampa', 'SIAGA_1', 0, 'depok<-katulampa SIAGA_1 @3h, manggarai<-katulampa SIAGA_1 @9h'],
        ['sunter-hulu', 'SIAGA_2', 1, 'pulo-gadung<-sunter-hulu SIAGA_2 @5h'],
      ],
    });
    expect(book.active('manggarai')).toEqual({
      target: 'manggarai',
      upstreamId: 'katulampa',
      upstreamLevel: 'SIAGA_1',
      raisedTs: at(0),
      expectedAtTs: at(9),
      travelS: 9 * 3600,
    });
    expect(book.active('katulampa')).toBeNull();
    expect(book.all().map((f) => `${f.target}@${hours(f.expectedAtTs)}h`)).toEqual(['depok@3h', 'pulo-gadung@5h', 'manggarai@9h']);
    book.statusChanged('depok', 'SIAGA_3', at(3));
    expect(book.active('depok')).toBeNull();
    expect(book.all().map((f) => f.target)).toEqual(['pulo-gadung', 'manggarai']);
  });

  it('returns copies: callers cannot change the book', () => {
    const book = new ForecastBook(JAKARTA, rank);
    book.statusChanged('katulampa', 'SIAGA_1', at(0));
    const f = book.active('depok');
    if (f) f.expectedAtTs = 0;
    expect(book.active('depok')?.expectedAtTs).toBe(at(3));
  });
});

describe('ForecastBook links', () => {
  const bad: [string, GaugeLink[], RegExp][] = [
    ['a cycle, named', [h('x', 'a', 1), h('a', 'b', 1), h('b', 'c', 1), h('c', 'a', 1)], /cycle: a -> b -> c -> a/],
    ['a self-loop', [h('a', 'a', 1)], /cycle: a -> a/],
    ['a negative travel time', [h('a', 'b', -1)], /travelS/],
    ['an empty id', [h('', 'b', 1)], /non-empty/],
  ];
  it.each(bad)('rejects %s', (_name, links, message) => {
    expect(() => new ForecastBook(links, rank)).toThrow(RangeError);
    expect(() => new ForecastBook(links, rank)).toThrow(message);
  });

  it('reads the links of jakarta-gauges.json', () => {
    expect(JAKARTA.map((l) => `${l.from}->${l.to} ${l.travelS / 3600}h`)).toEqual([
      'katulampa->depok 3h',
      'depok->manggarai 6h',
      'krukut-hulu->karet 3h',
      'angke-hulu->cengkareng-drain 4h',
      'pesanggrahan->cengkareng-drain 4.5h',
      'sunter-hulu->pulo-gadung 4h',
    ]);
    expect(() => new ForecastBook(JAKARTA, rank)).not.toThrow();
  });
});
