// One severity scale across alert kinds, so a subscriber's min_level means the same for floods,
// air and sensor health: 1 advisory, 2 watch, 3 warning. Siaga 3/2/1 map to 1/2/3 (Dinas SDA
// DKI: Waspada, Siaga, Awas); ISPU categories from Tidak Sehat up map to 1..3 (P.14/2020).
export const LEVEL_SEVERITY: Readonly<Record<string, number>> = Object.freeze({
  NORMAL: 0,
  SIAGA_3: 1,
  SIAGA_2: 2,
  SIAGA_1: 3,
  BAIK: 0,
  SEDANG: 0,
  TIDAK_SEHAT: 1,
  SANGAT_TIDAK_SEHAT: 2,
  BERBAHAYA: 3,
  RATE_OF_RISE: 2,
  SENSOR_OFFLINE: 1,
  SENSOR_STUCK: 1,
});

export const LEVEL_NAMES: readonly string[] = Object.keys(LEVEL_SEVERITY);

/** Unknown names (a custom ladder from PUT /thresholds) rank by their place in that ladder, else 1. */
export function severityOf(level: string, ladder?: readonly string[]): number {
  const known = LEVEL_SEVERITY[level];
  if (known !== undefined) return known;
  const i = ladder?.indexOf(level) ?? -1;
  return i >= 0 ? Math.min(3, i + 1) : 1;
}

/** 'Tidak Sehat' -> 'TIDAK_SEHAT' */
export function levelName(label: string): string {
  return label.trim().toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** The alert kind of a threshold on a metric: its name without the unit suffix (water_level_cm -> water_level). */
export function kindOfMetric(metric: string): string {
  return metric.replace(/_(cm|mm|c|pct)$/, '');
}
