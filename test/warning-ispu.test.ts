// Air-quality indices (warning/ispu.ts) and rolling averages (warning/air-window.ts).
// Expected ISPU/AQI values are written out from the formulas (the comment on each row is the arithmetic),
// never obtained from the functions under test.
import { describe, expect, it } from 'vitest';
import bp from '../domain/ispu-breakpoints.json' with { type: 'json' };
import { AirWindow, DAY_MS, HOUR_MS, MINUTE_MS } from '../warning/air-window.ts';
import {
  epaPm25Aqi,
  ISPU_POLLUTANTS,
  ispuCategory,
  ispuExact,
  ispuOf,
  roundHalfUp,
  stationIspu,
  type IspuPollutant,
} from '../warning/ispu.ts';
import { seededRandom } from './helpers/seeded-random.ts';

// [pollutant, ug/m3, exact ISPU, published integer (round half up)], at / just below / just above every
// breakpoint and at every band midpoint. I = Ib + (Ia - Ib)/(Xa - Xb) * (Xx - Xb); above the top
// breakpoint the top band's line continues.
const ISPU_TABLE: ReadonlyArray<readonly [IspuPollutant, number, number, number]> = [
  // pm10: breakpoints [0, 50, 150, 350, 420, 500], step 1
  ['pm10', 0, 0, 0], // 0 + 50/(50-0)*(0-0)
  ['pm10', 1, 1, 1], // 0 + 50/(50-0)*(1-0)
  ['pm10', 25, 25, 25], // 0 + 50/(50-0)*(25-0)
  ['pm10', 49, 49, 49], // 0 + 50/(50-0)*(49-0)
  ['pm10', 50, 50, 50], // 0 + 50/(50-0)*(50-0)
  ['pm10', 51, 50.5, 51], // 50 + 50/(150-50)*(51-50)
  ['pm10', 100, 75, 75], // 50 + 50/(150-50)*(100-50)
  ['pm10', 149, 99.5, 100], // 50 + 50/(150-50)*(149-50)
  ['pm10', 150, 100, 100], // 50 + 50/(150-50)*(150-50)
  ['pm10', 151, 100.5, 101], // 100 + 100/(350-150)*(151-150)
  ['pm10', 250, 150, 150], // 100 + 100/(350-150)*(250-150)
  ['pm10', 349, 199.5, 200], // 100 + 100/(350-150)*(349-150)
  ['pm10', 350, 200, 200], // 100 + 100/(350-150)*(350-150)
  ['pm10', 351, 201.42857142857142, 201], // 200 + 100/(420-350)*(351-350)
  ['pm10', 385, 250, 250], // 200 + 100/(420-350)*(385-350)
  ['pm10', 419, 298.57142857142856, 299], // 200 + 100/(420-350)*(419-350)
  ['pm10', 420, 300, 300], // 200 + 100/(420-350)*(420-350)
  ['pm10', 421, 302.5, 303], // 300 + 200/(500-420)*(421-420)
  ['pm10', 460, 400, 400], // 300 + 200/(500-420)*(460-420)
  ['pm10', 499, 497.5, 498], // 300 + 200/(500-420)*(499-420)
  ['pm10', 500, 500, 500], // 300 + 200/(500-420)*(500-420)
  ['pm10', 501, 502.5, 503], // 300 + 200/(500-420)*(501-420)
  // pm25: breakpoints [0, 15.5, 55.4, 150.4, 250.4, 500], step 0.1
  ['pm25', 0, 0, 0], // 0 + 50/(15.5-0)*(0-0)
  ['pm25', 0.1, 0.3225806451612903, 0], // 0 + 50/(15.5-0)*(0.1-0)
  ['pm25', 7.75, 25, 25], // 0 + 50/(15.5-0)*(7.75-0)
  ['pm25', 15.4, 49.67741935483871, 50], // 0 + 50/(15.5-0)*(15.4-0)
  ['pm25', 15.5, 50, 50], // 0 + 50/(15.5-0)*(15.5-0)
  ['pm25', 15.6, 50.12531328320802, 50], // 50 + 50/(55.4-15.5)*(15.6-15.5)
  ['pm25', 35.45, 75, 75], // 50 + 50/(55.4-15.5)*(35.45-15.5)
  ['pm25', 55.3, 99.87468671679198, 100], // 50 + 50/(55.4-15.5)*(55.3-15.5)
  ['pm25', 55.4, 100, 100], // 50 + 50/(55.4-15.5)*(55.4-15.5)
  ['pm25', 55.5, 100.10526315789474, 100], // 100 + 100/(150.4-55.4)*(55.5-55.4)
  ['pm25', 102.9, 150, 150], // 100 + 100/(150.4-55.4)*(102.9-55.4)
  ['pm25', 150.3, 199.89473684210526, 200], // 100 + 100/(150.4-55.4)*(150.3-55.4)
  ['pm25', 150.4, 200, 200], // 100 + 100/(150.4-55.4)*(150.4-55.4)
  ['pm25', 150.5, 200.1, 200], // 200 + 100/(250.4-150.4)*(150.5-150.4)
  ['pm25', 200.4, 250, 250], // 200 + 100/(250.4-150.4)*(200.4-150.4)
  ['pm25', 250.3, 299.9, 300], // 200 + 100/(250.4-150.4)*(250.3-150.4)
  ['pm25', 250.4, 300, 300], // 200 + 100/(250.4-150.4)*(250.4-150.4)
  ['pm25', 250.5, 300.08012820512823, 300], // 300 + 200/(500-250.4)*(250.5-250.4)
  ['pm25', 375.2, 400, 400], // 300 + 200/(500-250.4)*(375.2-250.4)
  ['pm25', 499.9, 499.91987179487177, 500], // 300 + 200/(500-250.4)*(499.9-250.4)
  ['pm25', 500, 500, 500], // 300 + 200/(500-250.4)*(500-250.4)
  ['pm25', 500.1, 500.08012820512823, 500], // 300 + 200/(500-250.4)*(500.1-250.4)
  // so2: breakpoints [0, 52, 180, 400, 800, 1200], step 1
  ['so2', 0, 0, 0], // 0 + 50/(52-0)*(0-0)
  ['so2', 1, 0.9615384615384616, 1], // 0 + 50/(52-0)*(1-0)
  ['so2', 26, 25, 25], // 0 + 50/(52-0)*(26-0)
  ['so2', 51, 49.03846153846154, 49], // 0 + 50/(52-0)*(51-0)
  ['so2', 52, 50, 50], // 0 + 50/(52-0)*(52-0)
  ['so2', 53, 50.390625, 50], // 50 + 50/(180-52)*(53-52)
  ['so2', 116, 75, 75], // 50 + 50/(180-52)*(116-52)
  ['so2', 179, 99.609375, 100], // 50 + 50/(180-52)*(179-52)
  ['so2', 180, 100, 100], // 50 + 50/(180-52)*(180-52)
  ['so2', 181, 100.45454545454545, 100], // 100 + 100/(400-180)*(181-180)
  ['so2', 290, 150, 150], // 100 + 100/(400-180)*(290-180)
  ['so2', 399, 199.54545454545453, 200], // 100 + 100/(400-180)*(399-180)
  ['so2', 400, 200, 200], // 100 + 100/(400-180)*(400-180)
  ['so2', 401, 200.25, 200], // 200 + 100/(800-400)*(401-400)
  ['so2', 600, 250, 250], // 200 + 100/(800-400)*(600-400)
  ['so2', 799, 299.75, 300], // 200 + 100/(800-400)*(799-400)
  ['so2', 800, 300, 300], // 200 + 100/(800-400)*(800-400)
  ['so2', 801, 300.5, 301], // 300 + 200/(1200-800)*(801-800)
  ['so2', 1000, 400, 400], // 300 + 200/(1200-800)*(1000-800)
  ['so2', 1199, 499.5, 500], // 300 + 200/(1200-800)*(1199-800)
  ['so2', 1200, 500, 500], // 300 + 200/(1200-800)*(1200-800)
  ['so2', 1201, 500.5, 501], // 300 + 200/(1200-800)*(1201-800)
  // co: breakpoints [0, 4000, 8000, 15000, 30000, 45000], step 10
  ['co', 0, 0, 0], // 0 + 50/(4000-0)*(0-0)
  ['co', 10, 0.125, 0], // 0 + 50/(4000-0)*(10-0)
  ['co', 2000, 25, 25], // 0 + 50/(4000-0)*(2000-0)
  ['co', 3990, 49.875, 50], // 0 + 50/(4000-0)*(3990-0)
  ['co', 4000, 50, 50], // 0 + 50/(4000-0)*(4000-0)
  ['co', 4010, 50.125, 50], // 50 + 50/(8000-4000)*(4010-4000)
  ['co', 6000, 75, 75], // 50 + 50/(8000-4000)*(6000-4000)
  ['co', 7990, 99.875, 100], // 50 + 50/(8000-4000)*(7990-4000)
  ['co', 8000, 100, 100], // 50 + 50/(8000-4000)*(8000-4000)
  ['co', 8010, 100.14285714285714, 100], // 100 + 100/(15000-8000)*(8010-8000)
  ['co', 11500, 150, 150], // 100 + 100/(15000-8000)*(11500-8000)
  ['co', 14990, 199.85714285714286, 200], // 100 + 100/(15000-8000)*(14990-8000)
  ['co', 15000, 200, 200], // 100 + 100/(15000-8000)*(15000-8000)
  ['co', 15010, 200.06666666666666, 200], // 200 + 100/(30000-15000)*(15010-15000)
  ['co', 22500, 250, 250], // 200 + 100/(30000-15000)*(22500-15000)
  ['co', 29990, 299.93333333333334, 300], // 200 + 100/(30000-15000)*(29990-15000)
  ['co', 30000, 300, 300], // 200 + 100/(30000-15000)*(30000-15000)
  ['co', 30010, 300.1333333333333, 300], // 300 + 200/(45000-30000)*(30010-30000)
  ['co', 37500, 400, 400], // 300 + 200/(45000-30000)*(37500-30000)
  ['co', 44990, 499.8666666666667, 500], // 300 + 200/(45000-30000)*(44990-30000)
  ['co', 45000, 500, 500], // 300 + 200/(45000-30000)*(45000-30000)
  ['co', 45010, 500.1333333333333, 500], // 300 + 200/(45000-30000)*(45010-30000)
  // o3: breakpoints [0, 120, 235, 400, 800, 1000], step 1
  ['o3', 0, 0, 0], // 0 + 50/(120-0)*(0-0)
  ['o3', 1, 0.4166666666666667, 0], // 0 + 50/(120-0)*(1-0)
  ['o3', 60, 25, 25], // 0 + 50/(120-0)*(60-0)
  ['o3', 119, 49.583333333333336, 50], // 0 + 50/(120-0)*(119-0)
  ['o3', 120, 50, 50], // 0 + 50/(120-0)*(120-0)
  ['o3', 121, 50.43478260869565, 50], // 50 + 50/(235-120)*(121-120)
  ['o3', 177.5, 75, 75], // 50 + 50/(235-120)*(177.5-120)
  ['o3', 234, 99.56521739130434, 100], // 50 + 50/(235-120)*(234-120)
  ['o3', 235, 100, 100], // 50 + 50/(235-120)*(235-120)
  ['o3', 236, 100.60606060606061, 101], // 100 + 100/(400-235)*(236-235)
  ['o3', 317.5, 150, 150], // 100 + 100/(400-235)*(317.5-235)
  ['o3', 399, 199.3939393939394, 199], // 100 + 100/(400-235)*(399-235)
  ['o3', 400, 200, 200], // 100 + 100/(400-235)*(400-235)
  ['o3', 401, 200.25, 200], // 200 + 100/(800-400)*(401-400)
  ['o3', 600, 250, 250], // 200 + 100/(800-400)*(600-400)
  ['o3', 799, 299.75, 300], // 200 + 100/(800-400)*(799-400)
  ['o3', 800, 300, 300], // 200 + 100/(800-400)*(800-400)
  ['o3', 801, 301, 301], // 300 + 200/(1000-800)*(801-800)
  ['o3', 900, 400, 400], // 300 + 200/(1000-800)*(900-800)
  ['o3', 999, 499, 499], // 300 + 200/(1000-800)*(999-800)
  ['o3', 1000, 500, 500], // 300 + 200/(1000-800)*(1000-800)
  ['o3', 1001, 501, 501], // 300 + 200/(1000-800)*(1001-800)
  // no2: breakpoints [0, 80, 200, 1130, 2260, 3000], step 1
  ['no2', 0, 0, 0], // 0 + 50/(80-0)*(0-0)
  ['no2', 1, 0.625, 1], // 0 + 50/(80-0)*(1-0)
  ['no2', 40, 25, 25], // 0 + 50/(80-0)*(40-0)
  ['no2', 79, 49.375, 49], // 0 + 50/(80-0)*(79-0)
  ['no2', 80, 50, 50], // 0 + 50/(80-0)*(80-0)
  ['no2', 81, 50.416666666666664, 50], // 50 + 50/(200-80)*(81-80)
  ['no2', 140, 75, 75], // 50 + 50/(200-80)*(140-80)
  ['no2', 199, 99.58333333333333, 100], // 50 + 50/(200-80)*(199-80)
  ['no2', 200, 100, 100], // 50 + 50/(200-80)*(200-80)
  ['no2', 201, 100.10752688172043, 100], // 100 + 100/(1130-200)*(201-200)
  ['no2', 665, 150, 150], // 100 + 100/(1130-200)*(665-200)
  ['no2', 1129, 199.89247311827958, 200], // 100 + 100/(1130-200)*(1129-200)
  ['no2', 1130, 200, 200], // 100 + 100/(1130-200)*(1130-200)
  ['no2', 1131, 200.08849557522123, 200], // 200 + 100/(2260-1130)*(1131-1130)
  ['no2', 1695, 250, 250], // 200 + 100/(2260-1130)*(1695-1130)
  ['no2', 2259, 299.91150442477874, 300], // 200 + 100/(2260-1130)*(2259-1130)
  ['no2', 2260, 300, 300], // 200 + 100/(2260-1130)*(2260-1130)
  ['no2', 2261, 300.27027027027026, 300], // 300 + 200/(3000-2260)*(2261-2260)
  ['no2', 2630, 400, 400], // 300 + 200/(3000-2260)*(2630-2260)
  ['no2', 2999, 499.72972972972974, 500], // 300 + 200/(3000-2260)*(2999-2260)
  ['no2', 3000, 500, 500], // 300 + 200/(3000-2260)*(3000-2260)
  ['no2', 3001, 500.27027027027026, 500], // 300 + 200/(3000-2260)*(3001-2260)
  // hc: breakpoints [0, 45, 100, 215, 432, 648], step 1
  ['hc', 0, 0, 0], // 0 + 50/(45-0)*(0-0)
  ['hc', 1, 1.1111111111111112, 1], // 0 + 50/(45-0)*(1-0)
  ['hc', 22.5, 25, 25], // 0 + 50/(45-0)*(22.5-0)
  ['hc', 44, 48.888888888888886, 49], // 0 + 50/(45-0)*(44-0)
  ['hc', 45, 50, 50], // 0 + 50/(45-0)*(45-0)
  ['hc', 46, 50.90909090909091, 51], // 50 + 50/(100-45)*(46-45)
  ['hc', 72.5, 75, 75], // 50 + 50/(100-45)*(72.5-45)
  ['hc', 99, 99.0909090909091, 99], // 50 + 50/(100-45)*(99-45)
  ['hc', 100, 100, 100], // 50 + 50/(100-45)*(100-45)
  ['hc', 101, 100.8695652173913, 101], // 100 + 100/(215-100)*(101-100)
  ['hc', 157.5, 150, 150], // 100 + 100/(215-100)*(157.5-100)
  ['hc', 214, 199.1304347826087, 199], // 100 + 100/(215-100)*(214-100)
  ['hc', 215, 200, 200], // 100 + 100/(215-100)*(215-100)
  ['hc', 216, 200.46082949308754, 200], // 200 + 100/(432-215)*(216-215)
  ['hc', 323.5, 250, 250], // 200 + 100/(432-215)*(323.5-215)
  ['hc', 431, 299.53917050691246, 300], // 200 + 100/(432-215)*(431-215)
  ['hc', 432, 300, 300], // 200 + 100/(432-215)*(432-215)
  ['hc', 433, 300.9259259259259, 301], // 300 + 200/(648-432)*(433-432)
  ['hc', 540, 400, 400], // 300 + 200/(648-432)*(540-432)
  ['hc', 647, 499.0740740740741, 499], // 300 + 200/(648-432)*(647-432)
  ['hc', 648, 500, 500], // 300 + 200/(648-432)*(648-432)
  ['hc', 649, 500.9259259259259, 501], // 300 + 200/(648-432)*(649-432)
];

describe('ISPU per pollutant (P.14/2020)', () => {
  it.each(ISPU_TABLE)('%s at %s ug/m3 -> %s (published %s)', (p, conc, exact, published) => {
    expect(ispuExact(p, conc)).toBeCloseTo(exact, 9);
    expect(ispuOf(p, conc)).toBe(published);
  });

  it('the table covers every breakpoint of every pollutant', () => {
    for (const p of ISPU_POLLUTANTS) {
      const covered = new Set(ISPU_TABLE.filter((r) => r[0] === p).map((r) => r[1]));
      for (const x of bp.pollutants[p]) expect(covered.has(x), `${p} ${x}`).toBe(true);
    }
  });

  it('is continuous at every band edge (the value from below equals the value from above)', () => {
    for (const p of ISPU_POLLUTANTS) {
      const xs = bp.pollutants[p];
      xs.forEach((edge, k) => {
        const eps = Math.max(edge, 1) * 1e-9;
        expect(ispuExact(p, edge), `${p} ${edge}`).toBeCloseTo(bp.index[k] as number, 9);
        if (k === 0) return;
        const below = ispuExact(p, edge - eps);
        const above = ispuExact(p, edge + eps);
        expect(Math.abs(above - below), `${p} ${edge}`).toBeLessThan(1e-5);
        expect(below).toBeLessThanOrEqual(bp.index[k] as number);
        expect(above).toBeGreaterThanOrEqual(bp.index[k] as number);
      });
    }
  });

  it('leaves no gap between 15.5 and 15.6 ug/m3 PM2.5 and never decreases', () => {
    let prev = -1;
    for (let c = 15.4; c <= 15.7; c += 0.01) {
      const i = ispuExact('pm25', c);
      expect(i).toBeGreaterThan(prev);
      expect(i).toBeGreaterThan(49.6);
      expect(i).toBeLessThan(50.3);
      prev = i;
    }
  });

  it('rounds half up, unaffected by float noise', () => {
    expect(ispuOf('pm10', 0.5)).toBe(1); // 0 + 50/50*0.5 = 0.5
    expect(ispuOf('pm10', 24.5)).toBe(25); // banker's rounding would give 24
    expect(ispuOf('pm10', 24.4999)).toBe(24);
    expect(roundHalfUp(2.5)).toBe(3);
    expect(roundHalfUp(2.4999999999999)).toBe(3); // float noise below 1e-9 snaps to .5
    expect(roundHalfUp(2.49999)).toBe(2);
  });

  it('extrapolates above the top breakpoint instead of capping at 500', () => {
    expect(ispuOf('pm25', 1000)).toBe(901); // 300 + 200/(500-250.4)*(1000-250.4) = 900.64
    expect(ispuOf('pm10', 1000)).toBe(1750); // 300 + 200/(500-420)*(1000-420)
    expect(ispuCategory(ispuOf('co', 90000)).name).toBe('Berbahaya');
  });

  it('rejects negative, non-finite concentrations and unknown pollutants with a RangeError', () => {
    for (const bad of [-0.1, -1, NaN, Infinity, -Infinity]) {
      expect(() => ispuOf('pm25', bad)).toThrow(RangeError);
      expect(() => ispuExact('co', bad)).toThrow(/expected a finite concentration >= 0/);
    }
    expect(() => ispuOf('pm1' as IspuPollutant, 10)).toThrow(RangeError);
    expect(() => ispuOf('pm1' as IspuPollutant, 10)).toThrow(/expected a pollutant among pm10, pm25/);
    expect(() => ispuOf('pm25', '12' as unknown as number)).toThrow(RangeError);
  });
});

describe('ISPU categories', () => {
  it.each([
    [0, 'Baik', 'Good', 'green', 0],
    [50, 'Baik', 'Good', 'green', 0],
    [51, 'Sedang', 'Moderate', 'blue', 1],
    [100, 'Sedang', 'Moderate', 'blue', 1],
    [101, 'Tidak Sehat', 'Unhealthy', 'yellow', 2],
    [200, 'Tidak Sehat', 'Unhealthy', 'yellow', 2],
    [201, 'Sangat Tidak Sehat', 'Very unhealthy', 'red', 3],
    [300, 'Sangat Tidak Sehat', 'Very unhealthy', 'red', 3],
    [301, 'Berbahaya', 'Hazardous', 'black', 4],
    [500, 'Berbahaya', 'Hazardous', 'black', 4],
    [2000, 'Berbahaya', 'Hazardous', 'black', 4],
  ] as const)('%s -> %s', (index, name, en, color, rank) => {
    expect(ispuCategory(index)).toEqual({ name, en, color, rank });
  });

  it('judges a fractional index on its rounded integer', () => {
    expect(ispuCategory(50.4).name).toBe('Baik');
    expect(ispuCategory(50.5).name).toBe('Sedang');
    expect(ispuCategory(300.49).name).toBe('Sangat Tidak Sehat');
  });

  it('rejects a negative or non-finite index', () => {
    expect(() => ispuCategory(-1)).toThrow(RangeError);
    expect(() => ispuCategory(NaN)).toThrow(/expected a finite index >= 0/);
  });
});

describe('station ISPU', () => {
  it('is the maximum over pollutants, with the dominant one and each value', () => {
    // pm10 100 -> 75; pm25 80: 100 + 100/(150.4-55.4)*(80-55.4) = 125.89 -> 126; o3 121 -> 50.43 -> 50
    const s = stationIspu({ pm10: 100, pm25: 80, o3: 121 });
    expect(s).toEqual({
      ispu: 126,
      category: { name: 'Tidak Sehat', en: 'Unhealthy', color: 'yellow', rank: 2 },
      dominant: 'pm25',
      per: { pm10: 75, pm25: 126, o3: 50 },
    });
  });

  it('breaks ties by ISPU_POLLUTANTS order', () => {
    // pm25 55.4 -> 100 and co 8000 -> 100 and no2 200 -> 100: pm25 comes first
    expect(stationIspu({ no2: 200, co: 8000, pm25: 55.4 })?.dominant).toBe('pm25');
    expect(stationIspu({ no2: 200, co: 8000 })?.dominant).toBe('co');
    // o3 236 -> 100.6 -> 101 beats no2 200 -> 100
    expect(stationIspu({ no2: 200, o3: 236 })).toMatchObject({ ispu: 101, dominant: 'o3' });
  });

  it('is null without any pollutant, skips undefined ones, throws on a bad value', () => {
    expect(stationIspu({})).toBeNull();
    expect(stationIspu({ pm25: undefined })).toBeNull();
    expect(stationIspu({ pm25: undefined, so2: 52 })).toMatchObject({ ispu: 50, dominant: 'so2', per: { so2: 50 } });
    expect(() => stationIspu({ pm25: -3 })).toThrow(RangeError);
  });
});

describe('US EPA AQI, PM2.5 (2024-02637)', () => {
  // [ug/m3, AQI, category]; midpoints: AQI = ILo + (IHi-ILo)/(BPHi-BPLo)*(C_truncated-BPLo)
  it.each([
    [0, 0, 'Good'],
    [4.5, 25, 'Good'], // 50/9*4.5 = 25
    [9.0, 50, 'Good'],
    [9.05, 50, 'Good'], // truncated to 9.0
    [9.09, 50, 'Good'], // truncated to 9.0
    [9.1, 51, 'Moderate'],
    [22.25, 75, 'Moderate'], // 22.2: 51 + 49/26.3*13.1 = 75.41
    [35.4, 100, 'Moderate'],
    [35.49, 100, 'Moderate'], // truncated to 35.4
    [35.5, 101, 'Unhealthy for Sensitive Groups'],
    [45.45, 125, 'Unhealthy for Sensitive Groups'], // 45.4: 101 + 49/19.9*9.9 = 125.38
    [55.4, 150, 'Unhealthy for Sensitive Groups'],
    [55.5, 151, 'Unhealthy'],
    [90.45, 175, 'Unhealthy'], // 90.4: 151 + 49/69.9*34.9 = 175.46
    [125.4, 200, 'Unhealthy'],
    [125.5, 201, 'Very Unhealthy'],
    [175.45, 250, 'Very Unhealthy'], // 175.4: 201 + 99/99.9*49.9 = 250.45
    [225.4, 300, 'Very Unhealthy'],
    [225.5, 301, 'Hazardous'],
    [275.45, 400, 'Hazardous'], // 275.4: 301 + 199/99.9*49.9 = 400.40
    [325.4, 500, 'Hazardous'],
    [325.5, 500, 'Hazardous'], // extrapolated: 301 + 199/99.9*100 = 500.20
    [425.4, 699, 'Hazardous'], // extrapolated: 301 + 199/99.9*199.9 = 699.20
  ] as const)('%s ug/m3 -> %s %s', (conc, aqi, category) => {
    expect(epaPm25Aqi(conc)).toEqual({ aqi, category });
  });

  it('truncates, not rounds, to one decimal (also for values float stores just below)', () => {
    expect(epaPm25Aqi(9.0999).aqi).toBe(50);
    expect(epaPm25Aqi(0.1 + 0.2 + 8.8).aqi).toBe(51); // 9.100000000000001
    expect(epaPm25Aqi(9.3).aqi).toBe(epaPm25Aqi(9.35).aqi); // 9.3 is 9.2999... in binary
    expect(epaPm25Aqi(9.3).aqi).toBe(51); // 51 + 49/26.3*0.2 = 51.37
  });

  it('rejects bad input', () => {
    expect(() => epaPm25Aqi(-0.1)).toThrow(RangeError);
    expect(() => epaPm25Aqi(NaN)).toThrow(/expected a finite concentration >= 0/);
  });
});

// Reference for AirWindow: the plain mean of every raw sample whose minute starts in (now - span, now].
function bruteAverage(samples: ReadonlyArray<readonly [number, number]>, nowMs: number, spanMs: number) {
  let sum = 0;
  let count = 0;
  let fromMs = Infinity;
  for (const [ts, v] of samples) {
    const startMs = Math.floor(ts / MINUTE_MS) * MINUTE_MS;
    if (startMs > nowMs - spanMs && startMs <= nowMs) {
      sum += v;
      count++;
      fromMs = Math.min(fromMs, startMs);
    }
  }
  return count === 0 ? null : { avg: sum / count, count, fromMs };
}

describe('AirWindow', () => {
  const T0 = Date.UTC(2025, 0, 6, 0, 0, 0);

  it('averages the samples of the window and reports count and coverage start', () => {
    const w = new AirWindow();
    w.add('pm25', 10, T0);
    w.add('pm25', 20, T0 + 30_000); // same minute: merged
    w.add('pm25', 60, T0 + 10 * MINUTE_MS);
    expect(w.average('pm25', T0 + 10 * MINUTE_MS)).toEqual({ avg: 30, count: 3, fromMs: T0 });
    expect(w.average('pm10', T0)).toBeNull();
    expect(w.bucketsHeld('pm25').live).toBe(2);
  });

  it('evicts samples older than the window', () => {
    const w = new AirWindow();
    w.add('pm10', 100, T0);
    w.add('pm10', 10, T0 + 23 * HOUR_MS);
    expect(w.average('pm10', T0 + 23 * HOUR_MS)).toMatchObject({ avg: 55, count: 2 });
    expect(w.average('pm10', T0 + DAY_MS - 1)).toMatchObject({ avg: 55, count: 2 });
    expect(w.average('pm10', T0 + DAY_MS)).toEqual({ avg: 10, count: 1, fromMs: T0 + 23 * HOUR_MS }); // window (T0, T0+24h]
    expect(w.average('pm10', T0 + 48 * HOUR_MS)).toBeNull();
    expect(w.bucketsHeld('pm10').live).toBe(0);
  });

  it('uses a per-pollutant window and the default for the others', () => {
    const w = new AirWindow({ o3: 8 * HOUR_MS }, 2 * HOUR_MS);
    expect(w.windowMs('o3')).toBe(8 * HOUR_MS);
    expect(w.windowMs('co')).toBe(2 * HOUR_MS);
    for (const p of ['o3', 'co'] as const) w.add(p, 40, T0);
    w.add('o3', 80, T0 + 5 * HOUR_MS);
    w.add('co', 80, T0 + 5 * HOUR_MS);
    expect(w.average('o3', T0 + 5 * HOUR_MS)?.avg).toBe(60);
    expect(w.average('co', T0 + 5 * HOUR_MS)?.avg).toBe(80);
    expect(w.averages(T0 + 5 * HOUR_MS)).toEqual({ co: 80, o3: 60 });
  });

  it('accepts late samples in order, drops those older than the retention', () => {
    const w = new AirWindow({}, 2 * HOUR_MS);
    w.add('so2', 10, T0 + 60 * MINUTE_MS);
    w.add('so2', 20, T0 + 30 * MINUTE_MS); // late, new bucket before the newest
    w.add('so2', 30, T0 + 60 * MINUTE_MS + 5_000); // merges into the newest minute
    w.add('so2', 40, T0 + 45 * MINUTE_MS); // late, between the two
    expect(w.average('so2', T0 + 60 * MINUTE_MS)).toEqual({ avg: 25, count: 4, fromMs: T0 + 30 * MINUTE_MS });
    expect(w.hourly('so2', T0 + 100 * MINUTE_MS)).toEqual({ avg: 80 / 3, count: 3, fromMs: T0 + 45 * MINUTE_MS });
    w.add('so2', 999, T0 - 70 * MINUTE_MS); // older than now - 2 h: dropped
    expect(w.average('so2', T0 + 60 * MINUTE_MS)).toMatchObject({ count: 4 });
    w.add('so2', 1, T0 + 10 * MINUTE_MS); // late but inside: after the hourly cursor moved on
    expect(w.hourly('so2', T0 + 100 * MINUTE_MS)).toMatchObject({ count: 3 });
    expect(w.average('so2', T0 + 100 * MINUTE_MS)).toMatchObject({ count: 5, fromMs: T0 + 10 * MINUTE_MS });
  });

  it('leaves samples after nowMs out when asked about an earlier time', () => {
    const w = new AirWindow();
    w.add('no2', 10, T0);
    w.add('no2', 50, T0 + 2 * HOUR_MS);
    expect(w.average('no2', T0 + HOUR_MS)).toEqual({ avg: 10, count: 1, fromMs: T0 });
    expect(w.average('no2', T0 + 2 * HOUR_MS)).toMatchObject({ avg: 30, count: 2 });
  });

  it('gives the last hour beside the 24 h average', () => {
    const w = new AirWindow();
    for (let m = 0; m < 24 * 60; m++) w.add('pm25', Math.floor(m / 60), T0 + m * MINUTE_MS + 1_000); // value = hour of day
    const now = T0 + 24 * HOUR_MS - 1; // last sample's minute 23:59
    expect(w.hourly('pm25', now)).toEqual({ avg: 23, count: 60, fromMs: T0 + 23 * HOUR_MS });
    expect(w.average('pm25', now)).toMatchObject({ avg: 11.5, count: 1440, fromMs: T0 });
  });

  it('keeps the hour even when the window is shorter', () => {
    const w = new AirWindow({ co: 15 * MINUTE_MS });
    for (let m = 0; m < 60; m++) w.add('co', m < 45 ? 0 : 100, T0 + m * MINUTE_MS);
    const now = T0 + 59 * MINUTE_MS;
    expect(w.average('co', now)).toMatchObject({ avg: 100, count: 15 });
    expect(w.hourly('co', now)).toMatchObject({ avg: 25, count: 60 });
  });

  it('bounds memory: one sample a second for three days holds at most 1,440 minute buckets', () => {
    const w = new AirWindow();
    const end = T0 + 3 * DAY_MS;
    let maxStored = 0;
    for (let t = T0; t < end; t += 1_000) {
      w.add('pm10', 50, t);
      maxStored = Math.max(maxStored, w.bucketsHeld('pm10').stored);
    }
    const held = w.bucketsHeld('pm10');
    expect(held.live).toBeLessThanOrEqual(1440);
    expect(maxStored).toBeLessThanOrEqual(2 * 1440 + 64);
    expect(w.average('pm10', end - 1_000)).toMatchObject({ avg: 50, count: 24 * 3600 });
  });

  it('matches a brute-force mean over random, partly late samples', () => {
    const rnd = seededRandom(42);
    const w = new AirWindow({ pm25: 3 * HOUR_MS });
    const samples: Array<readonly [number, number]> = [];
    let clock = T0;
    for (let i = 0; i < 20_000; i++) {
      clock += Math.floor(rnd() * 20_000);
      const late = rnd() < 0.2 ? Math.floor(rnd() * 90 * MINUTE_MS) : 0; // well inside the 3 h retention
      const ts = clock - late;
      const v = Math.round(rnd() * 3000) / 10;
      w.add('pm25', v, ts);
      samples.push([ts, v]);
      if (i % 97 === 0) {
        for (const [got, span] of [[w.average('pm25', clock), 3 * HOUR_MS], [w.hourly('pm25', clock), HOUR_MS]] as const) {
          const want = bruteAverage(samples, clock, span);
          expect(got === null).toBe(want === null);
          if (got && want) {
            expect(got.count).toBe(want.count);
            expect(got.fromMs).toBe(want.fromMs);
            expect(got.avg).toBeCloseTo(want.avg, 6);
          }
        }
      }
      if (i % 89 === 0) {
        // an earlier clock (e.g. a replay): the hourly cursor moves back, later samples are left out
        const earlier = clock - Math.floor(rnd() * 30 * MINUTE_MS);
        const got = w.hourly('pm25', earlier);
        const want = bruteAverage(samples, earlier, HOUR_MS);
        expect(got?.count).toBe(want?.count);
        if (got && want) expect(got.avg).toBeCloseTo(want.avg, 6);
      }
    }
    expect(w.bucketsHeld('pm25').live).toBeLessThanOrEqual(3 * 60);
  });

  it('feeds stationIspu', () => {
    const w = new AirWindow();
    w.add('pm25', 70, T0);
    w.add('pm25', 90, T0 + HOUR_MS);
    w.add('pm10', 100, T0 + HOUR_MS);
    // pm25 80 -> 126 (see above); pm10 100 -> 75
    expect(stationIspu(w.averages(T0 + HOUR_MS))).toMatchObject({ ispu: 126, dominant: 'pm25' });
  });

  it('rejects bad configuration and samples', () => {
    expect(() => new AirWindow({}, 0)).toThrow(RangeError);
    expect(() => new AirWindow({ pm25: -1 })).toThrow(/expected a finite duration > 0 ms/);
    expect(() => new AirWindow({ pm1: HOUR_MS } as Partial<Record<IspuPollutant, number>>)).toThrow(/expected a pollutant/);
    const w = new AirWindow();
    expect(() => w.add('pm25', NaN, T0)).toThrow(RangeError);
    expect(() => w.add('pm25', -1, T0)).toThrow(/expected a finite concentration >= 0/);
    expect(() => w.add('pm25', 1, NaN)).toThrow(/epoch-ms timestamp/);
    expect(() => w.add('xx' as IspuPollutant, 1, T0)).toThrow(RangeError);
    expect(() => w.average('pm25', Infinity)).toThrow(RangeError);
  });
});
