// ETA from great-circle distance: roads are longer than the straight line (the road factor), and
// each vehicle type has a typical speed in city traffic. Both come from config. A first estimate
// for ranking and display, not routing.
import type { VehicleType } from '../ingest/model.ts';

export interface EtaModel {
  roadFactor: number;
  speedsKmh: Readonly<Record<VehicleType, number>>;
}

export function etaSeconds(distanceM: number, type: VehicleType, model: EtaModel): number {
  const speedMs = (model.speedsKmh[type] ?? model.speedsKmh.other) / 3.6;
  return Math.round((distanceM * model.roadFactor) / speedMs);
}
