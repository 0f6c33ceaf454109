// Active alerts, Damamaya's way: a new report is red until someone takes it, yellow while it is being handled
// (acknowledged), green when it is done (resolved). Resolved alerts stay on the wall for RESOLVED_SHOWN_MS.
import { describeError, type Api } from './api.ts';
import { ago, esc, ispuSlug, severityOf } from './legend.ts';
import type { Alert } from './types.ts';

const RESOLVED_SHOWN_MS = 2 * 3600_000;
const RESOLVED_SHOWN_MAX = 8;

const KIND_LABEL: Record<string, string> = {
  water_level: 'Water level',
  rate_of_rise: 'Rising fast',
  flood_forecast: 'Flood forecast',
  air_quality: 'Air quality',
  sensor_offline: 'Sensor offline',
  sensor_stuck: 'Sensor stuck',
};

/** SIAGA_1 -> Siaga 1, TIDAK_SEHAT -> Tidak Sehat */
export function levelLabel(level: string): string {
  return level
    .toLowerCase()
    .split('_')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join(' ');
}

/** The CSS class that colours a level's badge. */
function badgeClass(a: Alert): string {
  if (/^SIAGA_[123]$/.test(a.level)) return `level-${a.level}`;
  if (a.kind === 'air_quality') return `ispu-${ispuSlug(levelLabel(a.level))}`;
  return `sev-${severityOf(a.level)}`;
}

export type Handling = 'new' | 'acknowledged' | 'resolved';
export const handlingOf = (a: Alert): Handling => (a.state === 'resolved' ? 'resolved' : a.acknowledged_at ? 'acknowledged' : 'new');

export interface AlertsHooks {
  /** the sensor's display name */
  nameOf(sourceId: string): string;
  onSelect(a: Alert): void;
  onChange(a: Alert): void;
}

export class AlertsPanel {
  private readonly alerts = new Map<string, Alert>();
  private selected: string | null = null;
  private error = '';

  constructor(
    private readonly list: HTMLElement,
    private readonly api: Api,
    private readonly hooks: AlertsHooks,
  ) {
    list.addEventListener('click', (ev) => {
      const target = ev.target as HTMLElement;
      const row = target.closest<HTMLElement>('[data-testid="alert"]');
      if (!row) return;
      const a = this.alerts.get(row.dataset.alertId ?? '');
      if (!a) return;
      if (target.closest('[data-testid="alert-ack"]')) void this.ack(a);
      else {
        this.selected = a.id;
        this.render();
        this.hooks.onSelect(a);
      }
    });
  }

  replaceAll(list: readonly Alert[]): void {
    this.alerts.clear();
    for (const a of list) this.alerts.set(a.id, a);
    this.render();
  }

  /** Applies an alert unless an update we have is newer; true when it changed something. */
  upsert(a: Alert): boolean {
    const known = this.alerts.get(a.id);
    if (known && Date.parse(known.updated_at) > Date.parse(a.updated_at)) return false;
    this.alerts.set(a.id, { ...known, ...a, cameras: a.cameras ?? known?.cameras ?? [] });
    this.render();
    this.hooks.onChange(a);
    return true;
  }

  get(id: string): Alert | undefined {
    return this.alerts.get(id);
  }

  active(): Alert[] {
    return [...this.alerts.values()].filter((a) => a.state === 'active');
  }

  private async ack(a: Alert): Promise<void> {
    try {
      this.error = '';
      const updated = await this.api.post<Alert>(`/alerts/${encodeURIComponent(a.id)}/ack`, {});
      this.upsert(updated);
    } catch (err) {
      this.error = describeError(err);
      this.render();
    }
  }

  render(now = Date.now()): void {
    // a wall runs for weeks: forget what is no longer shown
    for (const [id, a] of this.alerts) if (a.state === 'resolved' && now - Date.parse(a.resolved_at ?? a.updated_at) >= RESOLVED_SHOWN_MS) this.alerts.delete(id);
    const all = [...this.alerts.values()];
    const order: Record<Handling, number> = { new: 0, acknowledged: 1, resolved: 2 };
    const resolved = all
      .filter((a) => a.state === 'resolved' && now - Date.parse(a.resolved_at ?? a.updated_at) < RESOLVED_SHOWN_MS)
      .sort((a, b) => Date.parse(b.resolved_at ?? b.updated_at) - Date.parse(a.resolved_at ?? a.updated_at))
      .slice(0, RESOLVED_SHOWN_MAX);
    const shown = all
      .filter((a) => a.state === 'active')
      .sort((a, b) => order[handlingOf(a)] - order[handlingOf(b)] || severityOf(b.level) - severityOf(a.level) || Date.parse(b.since) - Date.parse(a.since))
      .concat(resolved);
    const counts = { new: 0, acknowledged: 0 };
    for (const a of all) if (a.state === 'active') counts[handlingOf(a) as 'new' | 'acknowledged']++;
    const head = `<div class="panel-sub" data-testid="alert-counts">${counts.new} new · ${counts.acknowledged} being handled · ${resolved.length} resolved recently</div>`;
    const err = this.error ? `<div class="error" data-testid="alert-error">${esc(this.error)}</div>` : '';
    const rows = shown.map((a) => {
      const h = handlingOf(a);
      const status =
        h === 'new'
          ? '<span class="handling-label">NEW · waiting for an operator</span><button class="btn" data-testid="alert-ack">Acknowledge</button>'
          : h === 'acknowledged'
            ? `<span class="handling-label">Being handled${a.acknowledged_by ? ` by ${esc(a.acknowledged_by)}` : ''} · ${esc(ago(a.acknowledged_at, now))}</span>`
            : `<span class="handling-label">Resolved · ${esc(ago(a.resolved_at, now))}</span>`;
      return (
        `<li class="alert handling-${h}${this.selected === a.id ? ' selected' : ''}" data-testid="alert" data-alert-id="${esc(a.id)}" data-kind="${esc(a.kind)}" ` +
        `data-source-id="${esc(a.source_id)}" data-level="${esc(a.level)}" data-state="${esc(a.state)}" data-handling="${h}">` +
        `<div class="alert-head"><span class="badge ${badgeClass(a)}">${esc(levelLabel(a.level))}</span>` +
        `<span class="alert-kind">${esc(KIND_LABEL[a.kind] ?? a.kind)}</span><span class="alert-source">${esc(this.hooks.nameOf(a.source_id))}</span>` +
        `<span class="alert-since">${esc(ago(a.since, now))}</span></div>` +
        `<div class="alert-msg">${esc(a.message)}</div>` +
        `<div class="alert-foot">${status}</div></li>`
      );
    });
    this.list.innerHTML = head + err + (rows.length ? `<ul class="alert-list">${rows.join('')}</ul>` : '<p class="empty">No alerts. All gauges and stations are quiet.</p>');
  }
}
