// Air-quality indices: Indonesia's ISPU (Permen LHK P.14/MENLHK/SETJEN/KUM.1/7/2020) and the
// US EPA AQI for PM2.5 (2024 revision). Pure functions; concentrations are in ug/m3 (CO too).

import bp from '../domain/ispu-breakpoints.json' with { type: 'json' };

export const ISPU_POLLUTANTS = ['pm10', 'pm25', 'so2', 'co', 'o3', 'no2', 'hc'] as const;
export type IspuPollutant = (typeof ISPU_POLLUTANTS)[number];

export const ISPU_CATEGORY_NAMES = ['Baik', 'Sedang', 'Tidak Sehat', 'Sangat Tidak Sehat', 'Berbahaya'] as const;
export type IspuCategoryName = (typeof ISPU_CATEGORY_NAMES)[number];

export interface IspuCategory {
  readonly name: IspuCategoryName;
  readonly en: string;
  readonly color: string;
  /** 0 (Baik) .. 4 (Berbahaya) */
  readonly rank: 0 | 1 | 2 | 3 | 4;
}

export interface StationIspu {
  /** rounded ISPU of the station: the maximum over its pollutants */
  readonly ispu: number;
  readonly category: IspuCategory;
  /** pollutant giving `ispu`; ties go to the first in ISPU_POLLUTANTS order */
  readonly dominant: IspuPollutant;
  /** rounded ISPU per pollutant present */
  readonly per: Partial<Record<IspuPollutant, number>>;
}

export type EpaAqiCategory =
  | 'Good'
  | 'Moderate'
  | 'Unhealthy for Sensitive Groups'
  | 'Unhealthy'
  | 'Very Unhealthy'
  | 'Hazardous';

// ---- tables, checked once at load so a bad edit of the JSON fails loudly ----

const ISPU_INDEX: readonly number[] = bp.index; // P.14/2020 annex
const ISPU_BREAKPOINTS_UGM3 = new Map<string, readonly number[]>();
for (const p of ISPU_POLLUTANTS) {
  const xs: readonly number[] = bp.pollutants[p];
  checkAscending(`ISPU breakpoints of ${p}`, xs);
  if (xs.length !== ISPU_INDEX.length) throw new Error(`ISPU breakpoints of ${p}: expected ${ISPU_INDEX.length} values`);
  ISPU_BREAKPOINTS_UGM3.set(p, xs);
}
checkAscending('ISPU index', ISPU_INDEX);

const ISPU_CATEGORIES: readonly (IspuCategory & { readonly maxIndex: number })[] = bp.categories.map((c, i) => {
  if (c.name !== ISPU_CATEGORY_NAMES[i]) throw new Error(`ISPU category ${i}: expected ${ISPU_CATEGORY_NAMES[i]}, got ${c.name}`);
  return { name: ISPU_CATEGORY_NAMES[i], en: c.en, color: c.color, rank: i as IspuCategory['rank'], maxIndex: c.max ?? Infinity };
});

function checkAscending(what: string, xs: readonly number[]): void {
  for (let i = 1; i < xs.length; i++) {
    if (!((xs[i] ?? NaN) > (xs[i - 1] ?? NaN))) throw new Error(`${what}: expected strictly ascending values`);
  }
}

function checkConcentration(what: string, concUgM3: number): void {
  if (typeof concUgM3 !== 'number' || !Number.isFinite(concUgM3) || concUgM3 < 0) {
    throw new RangeError(`${what}: expected a finite concentration >= 0 ug/m3, got ${String(concUgM3)}`);
  }
}

/** Piecewise-linear lookup over continuous bands; beyond the last breakpoint the last band's line continues. */
function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const last = xs.length - 1;
  let i = 1;
  while (i < last && x > (xs[i] as number)) i++;
  const xb = xs[i - 1] as number;
  const xa = xs[i] as number;
  const ib = ys[i - 1] as number;
  const ia = ys[i] as number;
  return ((ia - ib) / (xa - xb)) * (x - xb) + ib; // I = (Ia - Ib)/(Xa - Xb) * (Xx - Xb) + Ib
}

/**
 * Round half up (x.5 -> x+1), as the regulation's published integer indices do. The value is first
 * snapped to 1e-9 so that float noise (49.99999999997) cannot move a result across a .5 boundary.
 */
export function roundHalfUp(x: number): number {
  return Math.floor(Math.round(x * 1e9) / 1e9 + 0.5);
}

// ---- ISPU ----

/**
 * Unrounded ISPU of one pollutant, P.14/2020 annex, with continuous bands (each band starts where the
 * previous ends, so 15.5..15.6 ug/m3 PM2.5 is not a gap). Above the top breakpoint the top band is
 * extrapolated instead of capped at 500: capping would show 500 and 5,000 ug/m3 alike, hiding how far
 * past "Berbahaya" a station is.
 */
export function ispuExact(pollutant: IspuPollutant, concUgM3: number): number {
  const xs = ISPU_BREAKPOINTS_UGM3.get(pollutant);
  if (!xs) throw new RangeError(`ISPU: expected a pollutant among ${ISPU_POLLUTANTS.join(', ')}, got ${String(pollutant)}`);
  checkConcentration(`ISPU ${pollutant}`, concUgM3);
  return interpolate(xs, ISPU_INDEX, concUgM3);
}

/** ISPU of one pollutant as the integer published (round half up of ispuExact). */
export function ispuOf(pollutant: IspuPollutant, concUgM3: number): number {
  return roundHalfUp(ispuExact(pollutant, concUgM3));
}

/** Category of an ISPU value, judged on the integer index (a fractional input is rounded half up first). */
export function ispuCategory(index: number): IspuCategory {
  if (typeof index !== 'number' || !Number.isFinite(index) || index < 0) {
    throw new RangeError(`ISPU category: expected a finite index >= 0, got ${String(index)}`);
  }
  const rounded = roundHalfUp(index);
  const c = ISPU_CATEGORIES.find((k) => rounded <= k.maxIndex) ?? (ISPU_CATEGORIES[ISPU_CATEGORIES.length - 1] as IspuCategory);
  return { name: c.name, en: c.en, color: c.color, rank: c.rank };
}

/**
 * Station ISPU: the maximum over the pollutants present (undefined ones are skipped), with the dominant
 * pollutant. Null when none is present. A present but invalid value throws, like ispuOf.
 */
export function stationIspu(values: Partial<Record<IspuPollutant, number>>): StationIspu | null {
  const per: Partial<Record<IspuPollutant, number>> = {};
  let best: { p: IspuPollutant; i: number } | null = null;
  for (const p of ISPU_POLLUTANTS) {
    const v = values[p];
    if (v === undefined) continue;
    const i = ispuOf(p, v);
    per[p] = i;
    if (best === null || i > best.i) best = { p, i }; // strict >: ties keep the earlier pollutant
  }
  if (best === null) return null;
  return { ispu: best.i, category: ispuCategory(best.i), dominant: best.p, per };
}

// ---- US EPA AQI, PM2.5 ----

// EPA 2024-02637 (Federal Register, Feb 2024): 24 h PM2.5 breakpoints, ug/m3 -> AQI. The published
// bands are discontinuous (9.0 | 9.1) because concentrations are truncated to 0.1 first.
const EPA_PM25_BANDS: readonly { readonly cLo: number; readonly cHi: number; readonly iLo: number; readonly iHi: number }[] = [
  { cLo: 0.0, cHi: 9.0, iLo: 0, iHi: 50 },
  { cLo: 9.1, cHi: 35.4, iLo: 51, iHi: 100 },
  { cLo: 35.5, cHi: 55.4, iLo: 101, iHi: 150 },
  { cLo: 55.5, cHi: 125.4, iLo: 151, iHi: 200 },
  { cLo: 125.5, cHi: 225.4, iLo: 201, iHi: 300 },
  { cLo: 225.5, cHi: 325.4, iLo: 301, iHi: 500 },
];

const EPA_CATEGORIES: readonly { readonly maxAqi: number; readonly name: EpaAqiCategory }[] = [
  { maxAqi: 50, name: 'Good' },
  { maxAqi: 100, name: 'Moderate' },
  { maxAqi: 150, name: 'Unhealthy for Sensitive Groups' },
  { maxAqi: 200, name: 'Unhealthy' },
  { maxAqi: 300, name: 'Very Unhealthy' },
  { maxAqi: Infinity, name: 'Hazardous' },
];

/**
 * US EPA AQI for a 24 h PM2.5 concentration (EPA 2024-02637): truncate to 0.1 ug/m3, find the band,
 * AQI = (IHi - ILo)/(BPHi - BPLo) * (C - BPLo) + ILo, rounded to the nearest integer (half up).
 * Above 325.4 the top band's slope is extrapolated (EPA's table ends there; capping would hide severity).
 */
export function epaPm25Aqi(concUgM3: number): { aqi: number; category: EpaAqiCategory } {
  checkConcentration('EPA AQI pm25', concUgM3);
  // +1e-9 so that e.g. 9.3 stored as 9.2999999... is not truncated to 9.2
  const c = Math.floor(concUgM3 * 10 + 1e-9) / 10;
  const band = EPA_PM25_BANDS.find((b) => c <= b.cHi + 1e-9) ?? (EPA_PM25_BANDS[EPA_PM25_BANDS.length - 1] as (typeof EPA_PM25_BANDS)[number]);
  const aqi = roundHalfUp(((band.iHi - band.iLo) / (band.cHi - band.cLo)) * (c - band.cLo) + band.iLo);
  const category = (EPA_CATEGORIES.find((k) => aqi <= k.maxAqi) as (typeof EPA_CATEGORIES)[number]).name;
  return { aqi, category };
}
