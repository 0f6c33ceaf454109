// ETA from great-circle distance: roads are longer than the straight line, and each vehicle type
// has a typical speed in city traffic. A first estimate for ranking and display, not routing.
import type { VehicleType } from '../ingest/model.ts';

/** road distance / straight-line distance, a common urban detour index */
export const ROAD_FACTOR = 1.4;

export const TYPICAL_SPEED_KMH: Record<VehicleType, number> = {
  ambulance: 40,
  fire_truck: 35,
  police: 40,
  blue_crew_truck: 25,
  garbage_truck: 20,
  other: 30,
};

export function etaSeconds(distanceM: number, type: VehicleType): number {
  const speedMs = (TYPICAL_SPEED_KMH[type] ?? TYPICAL_SPEED_KMH.other) / 3.6;
  return Math.round((distanceM * ROAD_FACTOR) / speedMs);
}
