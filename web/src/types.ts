// The shapes the dashboard reads from the API and the live stream (CONTRACT.md, README "Live stream").

export const VEHICLE_TYPES = ['ambulance', 'garbage_truck', 'blue_crew_truck', 'fire_truck', 'police', 'other'] as const;
export type VehicleType = (typeof VEHICLE_TYPES)[number];
export const VEHICLE_STATUSES = ['available', 'dispatched', 'en_route', 'on_scene', 'busy', 'out_of_service'] as const;
export type VehicleStatus = (typeof VEHICLE_STATUSES)[number];

/** One live vehicle, as the dashboard keeps it (`ts` in epoch ms). */
export interface Vehicle extends Omit<VehicleEvent, 'ts' | 'age_s'> {
  ts: number;
  /** the fix's time on this browser's clock (now - age_s when received): staleness survives a skewed clock */
  localTs: number;
}

/** `event: vehicles` */
export interface VehicleEvent {
  id: string;
  type: string;
  status: string;
  lat: number;
  lon: number;
  speed_kmh: number | null;
  heading: number | null;
  ts: string;
  age_s: number;
}

export interface VehicleFeatureCollection {
  type: 'FeatureCollection';
  features: Array<{
    geometry: { coordinates: [number, number] };
    properties: { id: string; type: string; status: string; speed_kmh: number | null; heading: number | null; ts: string; age_s: number };
  }>;
}

export interface NearestResult {
  id: string;
  type: string;
  status: string;
  lat: number;
  lon: number;
  distance_m: number;
  eta_s: number;
  age_s: number;
}

export interface AttachedCamera {
  id: string;
  name: string;
  distance_m: number;
}

export interface Alert {
  id: string;
  kind: string;
  source_id: string;
  level: string;
  value: number | null;
  unit: string | null;
  since: string;
  state: 'active' | 'resolved';
  message: string;
  updated_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  cameras?: AttachedCamera[];
  upstream_id?: string;
  expected_at?: string;
}

export const DISPATCH_OPEN_STATES = ['dispatched', 'en_route', 'on_scene'] as const;
export type DispatchState = 'dispatched' | 'en_route' | 'on_scene' | 'closed' | 'cancelled';

export interface Dispatch {
  id: string;
  type: string;
  lat: number;
  lon: number;
  note: string | null;
  state: DispatchState;
  vehicle: { id: string; type: string; status: string; lat: number | null; lon: number | null };
  distance_m: number;
  eta_s: number;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  cameras?: AttachedCamera[];
}

export interface Sensor {
  id: string;
  type: string;
  name: string | null;
  lat: number | null;
  lon: number | null;
  status: 'no_data' | 'offline' | 'online';
  levels: Record<string, string>;
  rising: boolean;
  stuck: boolean;
  last_ts: string | null;
  age_s: number | null;
  values: Record<string, { value: number; ts: string | null }>;
}

export interface AirStation {
  station_id: string;
  name: string | null;
  lat: number | null;
  lon: number | null;
  ispu: number | null;
  category: string | null;
  category_en: string | null;
  dominant: string | null;
}

export interface Camera {
  id: string;
  name: string;
  lat: number;
  lon: number;
  streaming: boolean;
  viewers: number;
}

export interface GeofenceFeature {
  type: 'Feature';
  id?: string;
  geometry: GeoJSON.Polygon | GeoJSON.MultiPolygon;
  properties: { id?: string; name?: string; kind?: string | null; applies_to?: string[] | null };
}

/** `event: events`: a geofence transition */
export interface FenceEvent {
  id: string;
  fence_id: string;
  vehicle_id: string;
  type: 'enter' | 'exit' | 'dwell';
  ts: string;
  lat: number;
  lon: number;
}

/** What the engine put into the page at serve time (api/index-page.ts). */
export interface PageConfig {
  tile_url: string | null;
  tile_attribution: string;
  version: string;
}
