// Where the simulated fleets park. Coordinates are approximate (within ~1 km), for simulation only;
// vehicles park at the road node nearest to each site.

export interface Site {
  name: string;
  lat: number;
  lon: number;
}

/** Public hospitals that host 119 ambulances (approximate locations). */
export const HOSPITALS: readonly Site[] = [
  { name: 'RSUPN Cipto Mangunkusumo', lat: -6.1965, lon: 106.847 },
  { name: 'RSUD Tarakan', lat: -6.1717, lon: 106.8108 },
  { name: 'RSUP Fatmawati', lat: -6.2925, lon: 106.7925 },
  { name: 'RSUD Pasar Minggu', lat: -6.2928, lon: 106.843 },
  { name: 'RSUP Persahabatan', lat: -6.201, lon: 106.887 },
  { name: 'RSUD Koja', lat: -6.115, lon: 106.906 },
  { name: 'RSUD Cengkareng', lat: -6.143, lon: 106.736 },
  { name: 'RSPAD Gatot Soebroto', lat: -6.176, lon: 106.838 },
  { name: 'RSUD Budhi Asih', lat: -6.249, lon: 106.867 },
  { name: 'RS Pelni', lat: -6.195, lon: 106.795 },
  { name: 'RSUD Duren Sawit', lat: -6.235, lon: 106.917 },
  { name: 'RS Polri Kramat Jati', lat: -6.27, lon: 106.865 },
  { name: 'RSUD Tanjung Priok', lat: -6.117, lon: 106.879 },
  { name: 'RSUD Kebayoran Baru', lat: -6.244, lon: 106.796 },
  { name: 'RSUD Cipayung', lat: -6.319, lon: 106.893 },
  { name: 'RSUD Kembangan', lat: -6.19, lon: 106.737 },
  { name: 'RSUD Jagakarsa', lat: -6.334, lon: 106.823 },
];

/** Garbage-truck pools, one or two per city (kota administrasi); approximate. */
export const WASTE_DEPOTS: readonly Site[] = [
  { name: 'Pool Sudin LH Jakarta Utara', lat: -6.125, lon: 106.88 },
  { name: 'Pool Sudin LH Jakarta Barat', lat: -6.16, lon: 106.745 },
  { name: 'Pool Sudin LH Jakarta Pusat', lat: -6.17, lon: 106.855 },
  { name: 'Pool Sudin LH Jakarta Selatan', lat: -6.27, lon: 106.805 },
  { name: 'Pool Sudin LH Jakarta Timur', lat: -6.24, lon: 106.9 },
  { name: 'Pool Sunter', lat: -6.145, lon: 106.865 },
  { name: 'Pool Cakung', lat: -6.18, lon: 106.945 },
  { name: 'Pool Kembangan', lat: -6.2, lon: 106.72 },
  { name: 'Pool Jagakarsa', lat: -6.33, lon: 106.82 },
  { name: 'Pool Cipayung', lat: -6.32, lon: 106.9 },
];

/**
 * Rivers the Pasukan Biru (Dinas SDA drainage crews) work along, as rough polylines from upstream to
 * the coast, through the gauges of domain/jakarta-gauges.json. Crew depots are spread along them.
 */
export const RIVERS: ReadonlyArray<{ name: string; points: ReadonlyArray<readonly [number, number]> }> = [
  { name: 'Ciliwung', points: [[-6.35, 106.835], [-6.209, 106.85], [-6.125, 106.808]] },
  { name: 'Krukut / Banjir Kanal Barat', points: [[-6.34, 106.79], [-6.205, 106.815], [-6.14, 106.79]] },
  { name: 'Angke / Cengkareng Drain', points: [[-6.29, 106.71], [-6.13, 106.73]] },
  { name: 'Pesanggrahan', points: [[-6.3, 106.76], [-6.16, 106.745]] },
  { name: 'Sunter', points: [[-6.3, 106.9], [-6.19, 106.9], [-6.125, 106.89]] },
  { name: 'Cipinang', points: [[-6.32, 106.88], [-6.22, 106.88]] },
];
