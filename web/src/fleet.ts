// The fleet by type and status: how many ambulances are free right now, at a glance.
import { esc, STATUS_LABEL, TYPE_LABEL, vehicleGlyph } from './legend.ts';

const SHORT_TYPE: Record<string, string> = { blue_crew_truck: 'Pasukan Biru' };
import { VEHICLE_STATUSES, VEHICLE_TYPES, type Vehicle } from './types.ts';

export function renderFleet(el: HTMLElement, vehicles: Iterable<Vehicle>): void {
  const counts = new Map<string, Map<string, number>>();
  for (const v of vehicles) {
    let row = counts.get(v.type);
    if (!row) counts.set(v.type, (row = new Map()));
    row.set(v.status, (row.get(v.status) ?? 0) + 1);
  }
  const types = [...VEHICLE_TYPES.filter((t) => counts.has(t)), ...[...counts.keys()].filter((t) => !(VEHICLE_TYPES as readonly string[]).includes(t))];
  const head = `<tr><th></th>${VEHICLE_STATUSES.map((s) => `<th><i class="sw status-${s}"></i><br>${esc(STATUS_LABEL[s])}</th>`).join('')}<th>total</th></tr>`;
  const rows = types.map((t) => {
    const row = counts.get(t)!;
    let total = 0;
    const cells = VEHICLE_STATUSES.map((s) => {
      const n = row.get(s) ?? 0;
      total += n;
      return `<td data-testid="fleet-cell" data-type="${esc(t)}" data-status="${s}"${n === 0 ? ' class="zero"' : ''}>${n}</td>`;
    });
    return `<tr data-testid="fleet-row" data-type="${esc(t)}"><th class="type"><span class="glyph">${vehicleGlyph(t)}</span>${esc(SHORT_TYPE[t] ?? TYPE_LABEL[t] ?? t)}</th>${cells.join('')}<td class="total" data-testid="fleet-total" data-type="${esc(t)}">${total}</td></tr>`;
  });
  el.innerHTML = types.length ? `<table class="fleet">${head}${rows.join('')}</table>` : '<p class="empty">No vehicle has reported yet.</p>';
}
