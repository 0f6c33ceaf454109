// Early-warning subscribers: who they are, where they are (an rbush index of their areas), what
// they want to hear. Matching an alert to its recipients is one index search, never a scan.
import crypto from 'node:crypto';
import type { Db } from '../store/db.ts';
import { deleteSubscriber, insertSubscriber, insertSubscribers, listSubscribers, type SubscriberRow } from '../store/alerts.ts';
import { AreaIndex, areaFromGeoJSON, type Area } from '../geo/area-index.ts';
import { severityOf } from '../warning/levels.ts';
import type { Registry } from './registry.ts';
import { hashToken, newToken } from './tokens.ts';
import { subscriberTopic } from './outbox.ts';

/** What a subscriber hears unless it says otherwise: everything a resident acts on, not sensor health. */
export const DEFAULT_SUBSCRIBER_KINDS = ['water_level', 'flood_forecast', 'rate_of_rise', 'air_quality'] as const;
export const ALERT_KINDS = ['water_level', 'flood_forecast', 'rate_of_rise', 'air_quality', 'sensor_offline', 'sensor_stuck', 'rain'] as const;

export interface Subscriber {
  id: string;
  name: string;
  area: Area;
  /** as given: a GeoJSON Point, Polygon or MultiPolygon geometry */
  geometry: Record<string, unknown>;
  radiusM: number | null;
  kinds: string[];
  minLevel: string | null;
  minSeverity: number;
  webhookUrl: string | null;
  webhookSecret: string | null;
  createdAt: number;
}

export interface NewSubscriber {
  name: string;
  area: unknown;
  radiusM?: number | null;
  kinds?: string[];
  minLevel?: string | null;
  webhookUrl?: string | null;
}

const fromRow = (r: SubscriberRow): Subscriber => ({
  id: r.id,
  name: r.name,
  area: areaFromGeoJSON(r.area, r.radiusM ?? undefined),
  geometry: r.area,
  radiusM: r.radiusM,
  kinds: r.kinds,
  minLevel: r.minLevel,
  minSeverity: r.minLevel ? severityOf(r.minLevel) : 1,
  webhookUrl: r.webhookUrl,
  webhookSecret: r.webhookSecret,
  createdAt: r.createdAt,
});

/** A new subscriber's row: a fresh id, its area checked (AreaError), a webhook secret when it has a webhook. */
function toRow(input: NewSubscriber, tokenHash: string): Omit<SubscriberRow, 'createdAt'> {
  const area = areaFromGeoJSON(input.area, input.radiusM ?? undefined);
  return {
    id: `sub-${crypto.randomBytes(9).toString('base64url')}`,
    name: input.name,
    area: input.area as Record<string, unknown>,
    radiusM: area.kind === 'circle' ? area.radiusM : null,
    kinds: input.kinds ?? [...DEFAULT_SUBSCRIBER_KINDS],
    minLevel: input.minLevel ?? null,
    webhookUrl: input.webhookUrl ?? null,
    webhookSecret: input.webhookUrl ? crypto.randomBytes(24).toString('base64url') : null,
    tokenHash,
  };
}

export class Subscribers {
  readonly index = new AreaIndex<Subscriber>();
  private readonly byId = new Map<string, Subscriber>();

  constructor(
    private readonly db: Db,
    private readonly registry: Registry,
  ) {}

  async load(): Promise<void> {
    const rows = await listSubscribers(this.db);
    const items: Array<{ id: string; area: Area; data: Subscriber }> = [];
    for (const r of rows) {
      const s = fromRow(r);
      items.push({ id: s.id, area: s.area, data: s });
      this.registry.addSubscriber(s.id, r.tokenHash);
    }
    this.index.load(items);
    for (const it of items) this.byId.set(it.id, it.data);
  }

  get(id: string): Subscriber | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  list(): Subscriber[] {
    return [...this.byId.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  /** Validated by the API; throws AreaError for a bad area. Returns the credentials, shown once. */
  async create(input: NewSubscriber): Promise<{ subscriber: Subscriber; token: string; topic: string }> {
    const token = newToken('ps');
    const row = await insertSubscriber(this.db, toRow(input, await hashToken(token)));
    const s = this.add(row);
    return { subscriber: s, token, topic: subscriberTopic(s.id) };
  }

  /** Many at once, for benchmarks and imports; they share one token (returned). */
  async createMany(inputs: readonly NewSubscriber[]): Promise<{ ids: string[]; token: string }> {
    const token = newToken('ps');
    const tokenHash = await hashToken(token);
    const rows = inputs.map((input) => toRow(input, tokenHash));
    await insertSubscribers(this.db, rows);
    for (const r of rows) this.add({ ...r, createdAt: Date.now() });
    return { ids: rows.map((r) => r.id), token };
  }

  private add(row: SubscriberRow): Subscriber {
    const s = fromRow(row);
    this.index.set(s.id, s.area, s);
    this.byId.set(s.id, s);
    this.registry.addSubscriber(s.id, row.tokenHash);
    return s;
  }

  async remove(id: string): Promise<boolean> {
    if (!this.byId.has(id)) return false;
    await deleteSubscriber(this.db, id);
    this.index.remove(id);
    this.byId.delete(id);
    this.registry.removeSubscriber(id);
    return true;
  }

  /** Subscribers whose area meets `area`, who listen to this kind at this severity. */
  matching(area: Area, kind: string, severity: number): Subscriber[] {
    const out: Subscriber[] = [];
    for (const { data } of this.index.intersecting(area)) if (data.kinds.includes(kind) && severity >= data.minSeverity) out.push(data);
    return out;
  }
}
