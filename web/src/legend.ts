// Colours, labels and icons of the wall. Colours are also in style.css (markers are coloured by CSS from their
// data-* attributes); the values here are for the legend and the panels.

export const STATUS_LABEL: Record<string, string> = {
  available: 'available',
  dispatched: 'dispatched',
  en_route: 'en route',
  on_scene: 'on scene',
  busy: 'busy',
  out_of_service: 'out of service',
};

export const TYPE_LABEL: Record<string, string> = {
  ambulance: 'Ambulance',
  garbage_truck: 'Garbage truck',
  blue_crew_truck: 'Pasukan Biru truck',
  fire_truck: 'Fire truck',
  police: 'Police',
  other: 'Other',
};

/** Dinas SDA's Siaga scale: Siaga 4 (NORMAL) green, Siaga 3 yellow, Siaga 2 orange, Siaga 1 red. */
export const SIAGA_LABEL: Record<string, string> = {
  NORMAL: 'Normal (Siaga 4)',
  SIAGA_3: 'Siaga 3 (Waspada)',
  SIAGA_2: 'Siaga 2 (Siaga)',
  SIAGA_1: 'Siaga 1 (Awas)',
  NONE: 'no thresholds',
};

/** ISPU categories of P.14/2020 (annex): Baik green, Sedang blue, Tidak Sehat yellow, Sangat Tidak Sehat red, Berbahaya black. */
export const ISPU_CATEGORIES = ['Baik', 'Sedang', 'Tidak Sehat', 'Sangat Tidak Sehat', 'Berbahaya'] as const;
export const ispuSlug = (category: string | null): string => (category ? category.toLowerCase().replace(/\s+/g, '-') : 'none');

/** Alert levels on the three-step severity scale of README "Early warning". */
export function severityOf(level: string): 1 | 2 | 3 {
  if (level === 'SIAGA_1' || level === 'BERBAHAYA') return 3;
  if (level === 'SIAGA_2' || level === 'SANGAT_TIDAK_SEHAT' || level === 'RATE_OF_RISE') return 2;
  return 1;
}

// Glyphs drawn white on the status-coloured disc, 24x24 viewBox. Simple shapes that read at 28 px on a wall.
const GLYPHS: Record<string, string> = {
  // a cross
  ambulance: '<path d="M10 4h4v6h6v4h-6v6h-4v-6H4v-4h6z"/>',
  // a truck with a bin body
  garbage_truck: '<path d="M2 6h12v9H2zM15 9h4l3 3v3h-7zM5 16.5a2 2 0 1 0 .01 0zM17 16.5a2 2 0 1 0 .01 0z"/>',
  // a truck carrying a water drop (drainage crews)
  blue_crew_truck: '<path d="M2 12h13v4H2zM16 10h3l3 3v3h-6zM8 3c2 3 3 4.5 3 6a3 3 0 0 1-6 0c0-1.5 1-3 3-6zM5 17.5a2 2 0 1 0 .01 0zM18 17.5a2 2 0 1 0 .01 0z"/>',
  // a flame
  fire_truck: '<path d="M12 2c1 4 6 6 6 12a6 6 0 0 1-12 0c0-3 2-5 3-6 0 2 1 3 2 3 0-3-1-6 1-9z"/>',
  // a shield
  police: '<path d="M12 2l8 3v6c0 5-3.5 9-8 11-4.5-2-8-6-8-11V5z"/>',
  other: '<circle cx="12" cy="12" r="5"/>',
};

export function vehicleGlyph(type: string): string {
  return `<svg viewBox="0 0 24 24" aria-hidden="true">${GLYPHS[type] ?? GLYPHS.other}</svg>`;
}

/** A CCTV camera, for its map marker. */
export const CAMERA_GLYPH = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3 7h11l2 2 5-3v10l-5-3-2 2H3z"/></svg>';

export const formatDistance = (m: number): string => (m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`);
export const formatEta = (s: number): string => (s < 60 ? `${s} s` : `${Math.round(s / 60)} min`);

/** "3 min ago" style, for a wall read from across the room. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
