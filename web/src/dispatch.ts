// 112 dispatch: click the incident on the map, see the nearest available vehicles of the type with distance and
// ETA (GET /vehicles/nearest), reserve the nearest one (POST /dispatches: the server picks atomically), then move
// it along (PATCH /dispatches/{id}) while the live stream reports every change of state.
import { describeError, type Api } from './api.ts';
import { ago, esc, formatDistance, formatEta, STATUS_LABEL, TYPE_LABEL } from './legend.ts';
import { VEHICLE_TYPES, type Dispatch, type DispatchState, type NearestResult } from './types.ts';

const NEXT: Record<DispatchState, DispatchState[]> = {
  dispatched: ['en_route', 'on_scene', 'closed', 'cancelled'],
  en_route: ['on_scene', 'closed', 'cancelled'],
  on_scene: ['closed', 'cancelled'],
  closed: [],
  cancelled: [],
};
const ACTION_LABEL: Record<string, string> = { en_route: 'En route', on_scene: 'On scene', closed: 'Close', cancelled: 'Cancel' };
const STATE_LABEL: Record<DispatchState, string> = { dispatched: 'Dispatched', en_route: 'En route', on_scene: 'On scene', closed: 'Closed', cancelled: 'Cancelled' };
const isOpen = (d: Dispatch) => d.state === 'dispatched' || d.state === 'en_route' || d.state === 'on_scene';
/** closed dispatches stay listed this long, green */
const DONE_SHOWN_MS = 30 * 60_000;
const CANDIDATES_REFRESH_MS = 5000;

export interface DispatchHooks {
  onIncident(lat: number, lon: number): void;
  onCandidates(ids: string[]): void;
  onSelect(d: Dispatch): void;
  onChange(open: Dispatch[]): void;
}

export class DispatchPanel {
  private readonly dispatches = new Map<string, Dispatch>();
  private incident: { lat: number; lon: number } | null = null;
  private type = 'ambulance';
  private candidates: NearestResult[] = [];
  private candidatesError = '';
  private error = '';
  private busy = false;
  private selected: string | null = null;
  private refreshTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly api: Api,
    private readonly hooks: DispatchHooks,
  ) {
    root.innerHTML =
      `<div class="incident-box" data-testid="incident">` +
      `<p class="hint" data-testid="incident-hint">Click the map where the incident is.</p>` +
      `<div class="incident-form"><label>Vehicle type <select data-testid="dispatch-type">${VEHICLE_TYPES.map((t) => `<option value="${t}">${esc(TYPE_LABEL[t])}</option>`).join('')}</select></label>` +
      `<label class="note">Note <input data-testid="dispatch-note" maxlength="200" placeholder="112: what happened"></label></div>` +
      `<div data-testid="candidates" class="candidates"></div>` +
      `<button class="btn primary" data-testid="dispatch-submit" disabled>Dispatch nearest</button>` +
      `<div class="error" data-testid="dispatch-error"></div></div>` +
      `<div data-testid="dispatch-list" class="dispatch-list"></div>`;
    this.$('select').addEventListener('change', (e) => {
      this.type = (e.target as HTMLSelectElement).value;
      void this.loadCandidates();
    });
    this.$('[data-testid="dispatch-submit"]').addEventListener('click', () => void this.dispatch());
    this.$('[data-testid="dispatch-list"]').addEventListener('click', (ev) => {
      const target = ev.target as HTMLElement;
      const card = target.closest<HTMLElement>('[data-testid="dispatch"]');
      const d = card && this.dispatches.get(card.dataset.dispatchId ?? '');
      if (!d) return;
      const action = target.closest<HTMLElement>('[data-testid="dispatch-action"]');
      if (action) void this.transition(d, action.dataset.action as DispatchState);
      else this.select(d);
    });
  }

  private $<T extends HTMLElement = HTMLElement>(sel: string): T {
    return this.root.querySelector<T>(sel)!;
  }

  /** The operator clicked the map. */
  setIncident(lat: number, lon: number): void {
    this.incident = { lat, lon };
    this.error = '';
    this.$('[data-testid="incident-hint"]').innerHTML =
      `Incident at <b data-testid="incident-location">${lat.toFixed(5)}, ${lon.toFixed(5)}</b> · nearest available ${esc(TYPE_LABEL[this.type] ?? this.type).toLowerCase()}s:`;
    this.hooks.onIncident(lat, lon);
    void this.loadCandidates();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(() => void this.loadCandidates(), CANDIDATES_REFRESH_MS);
  }

  private async loadCandidates(): Promise<void> {
    const at = this.incident;
    if (!at) return;
    try {
      const q = new URLSearchParams({ lat: String(at.lat), lon: String(at.lon), type: this.type, status: 'available', k: '5' });
      const { results } = await this.api.get<{ results: NearestResult[] }>(`/vehicles/nearest?${q}`);
      if (this.incident !== at) return;
      this.candidates = results;
      this.candidatesError = '';
    } catch (err) {
      this.candidates = [];
      this.candidatesError = describeError(err);
    }
    this.renderCandidates();
    this.hooks.onCandidates(this.candidates.map((c) => c.id));
  }

  private renderCandidates(): void {
    const box = this.$('[data-testid="candidates"]');
    const button = this.$<HTMLButtonElement>('[data-testid="dispatch-submit"]');
    const label = (TYPE_LABEL[this.type] ?? this.type).toLowerCase();
    button.textContent = `Dispatch nearest ${label}`;
    button.disabled = this.busy || !this.incident;
    if (this.candidatesError) {
      box.innerHTML = `<div class="error">${esc(this.candidatesError)}</div>`;
      return;
    }
    if (!this.incident) {
      box.innerHTML = '';
      return;
    }
    box.innerHTML = this.candidates.length
      ? `<table class="cand"><thead><tr><th>Vehicle</th><th>Distance</th><th>ETA</th><th>Last fix</th></tr></thead><tbody>${this.candidates
          .map(
            (c, i) =>
              `<tr data-testid="candidate" data-vehicle-id="${esc(c.id)}"${i === 0 ? ' class="first"' : ''}><td>${esc(c.id)}</td><td>${formatDistance(c.distance_m)}</td>` +
              `<td>${formatEta(c.eta_s)}</td><td>${c.age_s} s</td></tr>`,
          )
          .join('')}</tbody></table>`
      : `<p class="empty" data-testid="no-candidates">No available ${esc(label)} has reported in the last 2 minutes.</p>`;
  }

  private async dispatch(): Promise<void> {
    const at = this.incident;
    if (!at || this.busy) return;
    this.busy = true;
    this.error = '';
    this.renderCandidates();
    try {
      const note = this.$<HTMLInputElement>('[data-testid="dispatch-note"]').value.trim();
      const d = await this.api.post<Dispatch>('/dispatches', { lat: at.lat, lon: at.lon, type: this.type, ...(note ? { note } : {}) });
      this.upsert(d);
      this.select(d);
      this.$<HTMLInputElement>('[data-testid="dispatch-note"]').value = '';
    } catch (err) {
      this.error = describeError(err);
    } finally {
      this.busy = false;
      this.$('[data-testid="dispatch-error"]').textContent = this.error;
      void this.loadCandidates();
    }
  }

  private async transition(d: Dispatch, state: DispatchState): Promise<void> {
    try {
      this.error = '';
      this.upsert(await this.api.patch<Dispatch>(`/dispatches/${encodeURIComponent(d.id)}`, { state }));
    } catch (err) {
      this.error = describeError(err);
    }
    this.$('[data-testid="dispatch-error"]').textContent = this.error;
  }

  private select(d: Dispatch): void {
    this.selected = d.id;
    this.render();
    this.hooks.onSelect(d);
  }

  replaceAll(list: readonly Dispatch[]): void {
    this.dispatches.clear();
    for (const d of list) this.dispatches.set(d.id, d);
    this.render();
    this.hooks.onChange(this.open());
  }

  /** From the API or the live stream; an older update than the one we have is ignored. */
  upsert(d: Dispatch): void {
    const known = this.dispatches.get(d.id);
    if (known && Date.parse(known.updated_at) > Date.parse(d.updated_at)) return;
    this.dispatches.set(d.id, { ...d, cameras: d.cameras ?? known?.cameras ?? [] });
    this.render();
    this.hooks.onChange(this.open());
  }

  open(): Dispatch[] {
    return [...this.dispatches.values()].filter(isOpen);
  }

  get(id: string): Dispatch | undefined {
    return this.dispatches.get(id);
  }

  render(now = Date.now()): void {
    // a wall runs for weeks: forget what is no longer shown
    for (const [id, d] of this.dispatches) if (!isOpen(d) && now - Date.parse(d.closed_at ?? d.updated_at) >= DONE_SHOWN_MS) this.dispatches.delete(id);
    const shown = [...this.dispatches.values()]
      .filter((d) => isOpen(d) || now - Date.parse(d.closed_at ?? d.updated_at) < DONE_SHOWN_MS)
      .sort((a, b) => Number(isOpen(b)) - Number(isOpen(a)) || Date.parse(b.created_at) - Date.parse(a.created_at))
      .slice(0, 12);
    const box = this.$('[data-testid="dispatch-list"]');
    box.innerHTML = shown.length
      ? shown
          .map(
            (d) =>
              `<div class="dispatch state-${d.state}${this.selected === d.id ? ' selected' : ''}" data-testid="dispatch" data-dispatch-id="${esc(d.id)}" data-state="${d.state}" data-vehicle-id="${esc(d.vehicle.id)}">` +
              `<div class="dispatch-head"><span class="badge state-${d.state}" data-testid="dispatch-state">${STATE_LABEL[d.state]}</span>` +
              `<b>${esc(d.vehicle.id)}</b><span class="muted">${esc(TYPE_LABEL[d.vehicle.type] ?? d.vehicle.type)} · ${esc(STATUS_LABEL[d.vehicle.status] ?? d.vehicle.status)}</span>` +
              `<span class="muted right">${esc(ago(d.created_at, now))}</span></div>` +
              `<div class="dispatch-body">${formatDistance(d.distance_m)} · ETA ${formatEta(d.eta_s)}${d.note ? ` · ${esc(d.note)}` : ''}</div>` +
              (NEXT[d.state].length
                ? `<div class="dispatch-actions">${NEXT[d.state].map((s) => `<button class="btn act-${s}" data-testid="dispatch-action" data-action="${s}">${ACTION_LABEL[s]}</button>`).join('')}</div>`
                : '') +
              `</div>`,
          )
          .join('')
      : '<p class="empty">No dispatches in the last 30 minutes.</p>';
  }
}
