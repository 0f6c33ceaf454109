// The live picture of every sensor: its newest value per metric.
import type { Metric, Reading } from '../ingest/model.ts';

export interface MetricValue {
  value: number;
  ts: number;
}

export interface LiveSensor {
  id: string;
  values: Partial<Record<Metric, MetricValue>>;
  /** newest reading of any metric, epoch ms */
  lastTs: number;
  /** a mobile sensor's last reported position */
  lat: number | null;
  lon: number | null;
}

export class SensorState {
  private readonly sensors = new Map<string, LiveSensor>();

  /** Keeps the newest value per metric; a late reading goes to history only (false). */
  record(r: Reading): boolean {
    let s = this.sensors.get(r.deviceId);
    if (!s) {
      s = { id: r.deviceId, values: {}, lastTs: r.ts, lat: null, lon: null };
      this.sensors.set(r.deviceId, s);
    }
    const current = s.values[r.metric];
    if (current && current.ts >= r.ts) return false;
    s.values[r.metric] = { value: r.value, ts: r.ts };
    if (r.ts >= s.lastTs) {
      s.lastTs = r.ts;
      if (r.lat !== null && r.lon !== null) {
        s.lat = r.lat;
        s.lon = r.lon;
      }
    }
    return true;
  }

  get(id: string): LiveSensor | undefined {
    return this.sensors.get(id);
  }

  remove(id: string): void {
    this.sensors.delete(id);
  }
}
