// The city map: Leaflet (no WebGL, so it renders in headless Chromium too) over the bundled GeoJSON basemap,
// optionally over online tiles (PANTAU_TILE_URL). Markers are DOM elements carrying data-* attributes that CSS
// colours them by (status, Siaga level, ISPU category) and tests read; a move updates one marker in place.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import basemapText from './basemap.geojson?raw';
import { CAMERA_GLYPH, SIAGA_LABEL, STATUS_LABEL, TYPE_LABEL, esc, ispuSlug, vehicleGlyph } from './legend.ts';
import type { AirStation, Camera, Dispatch, GeofenceFeature, PageConfig, Sensor, Vehicle } from './types.ts';

interface VehicleMarker {
  marker: L.Marker;
  el: HTMLElement;
  status: string;
  type: string;
}

const basemap = JSON.parse(basemapText) as GeoJSON.FeatureCollection & { bbox: [number, number, number, number] };

function basemapStyle(f?: GeoJSON.Feature): L.PathOptions {
  const p = (f?.properties ?? {}) as { layer?: string; class?: string };
  switch (p.layer) {
    case 'outline':
      return { color: '#5b7a99', weight: 2, fillColor: '#14202c', fillOpacity: 0.9 };
    case 'river':
      return { color: '#3aa0ff', weight: 4, opacity: 0.85 };
    case 'road':
      return p.class === 'toll'
        ? { color: '#6c7f93', weight: 3, opacity: 0.8 }
        : p.class === 'major'
          ? { color: '#4c5d6e', weight: 2, opacity: 0.8 }
          : { color: '#2e3b48', weight: 1, opacity: 0.9 };
    default:
      return { color: '#233140', weight: 1, opacity: 0.6, dashArray: '4 6' };
  }
}

/** The element of a marker on the map (markers here are always added before this is called). */
function elementOf(marker: L.Marker): HTMLElement {
  const el = marker.getElement();
  if (!el) throw new Error('marker has no element: add it to the map first');
  return el;
}

export class CityMap {
  readonly map: L.Map;
  private readonly vehicles = new Map<string, VehicleMarker>();
  private readonly pending = new Map<string, Vehicle>();
  private flushScheduled = false;
  private readonly vehicleLayer = L.layerGroup();
  private readonly gauges = new Map<string, L.Marker>();
  private readonly airStations = new Map<string, L.Marker>();
  private readonly cameras = new Map<string, L.Marker>();
  private readonly sensorLayer = L.layerGroup();
  private readonly cameraLayer = L.layerGroup();
  private readonly fenceLayer = L.layerGroup();
  private readonly fences = new Map<string, L.GeoJSON>();
  private readonly dispatchLayer = L.layerGroup();
  private readonly dispatchLines = new Map<string, { line: L.Polyline; vehicleId: string; incident: L.LatLng }>();
  private incident: L.Marker | null = null;
  private candidates = new Set<string>();

  onMapClick: (lat: number, lon: number) => void = () => {};
  onCameraClick: (id: string) => void = () => {};
  onSensorClick: (id: string) => void = () => {};

  constructor(el: HTMLElement, config: PageConfig) {
    this.map = L.map(el, { zoomSnap: 0.25, zoomControl: true, attributionControl: true, minZoom: 9, maxZoom: 18 });
    const [minLon, minLat, maxLon, maxLat] = basemap.bbox;
    this.map.fitBounds([[minLat, minLon], [maxLat, maxLon]], { padding: [8, 8] });
    this.map.attributionControl.setPrefix(false);
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { attribution: config.tile_attribution, maxZoom: 19, opacity: 0.55 }).addTo(this.map);
    }
    L.geoJSON(basemap, { style: basemapStyle, interactive: false }).addTo(this.map);
    this.map.attributionControl.addAttribution('Schematic basemap of the simulated city');
    this.fenceLayer.addTo(this.map);
    this.dispatchLayer.addTo(this.map);
    this.vehicleLayer.addTo(this.map);
    this.sensorLayer.addTo(this.map);
    this.cameraLayer.addTo(this.map);
    this.map.on('click', (e: L.LeafletMouseEvent) => this.onMapClick(e.latlng.lat, e.latlng.lng));
  }

  // ---- vehicles: queued, then applied once per animation frame ----

  queueVehicle(v: Vehicle): void {
    this.pending.set(v.id, v);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // a hidden tab gets no animation frames: the timer flushes there (at most one marker per vehicle waits)
    const timer = setTimeout(() => this.flush(), 500);
    requestAnimationFrame(() => {
      clearTimeout(timer);
      this.flush();
    });
  }

  private flush(): void {
    if (!this.flushScheduled) return;
    this.flushScheduled = false;
    for (const v of this.pending.values()) this.applyVehicle(v);
    this.pending.clear();
  }

  private applyVehicle(v: Vehicle): void {
    const known = this.vehicles.get(v.id);
    if (!known) {
      const icon = L.divIcon({ className: 'veh', html: vehicleGlyph(v.type), iconSize: [30, 30], iconAnchor: [15, 15] });
      const marker = L.marker([v.lat, v.lon], { icon, keyboard: false, riseOnHover: true }).addTo(this.vehicleLayer);
      const el = elementOf(marker);
      el.dataset.testid = 'vehicle-marker';
      el.dataset.vehicleId = v.id;
      el.dataset.type = v.type;
      el.dataset.status = v.status;
      el.title = this.vehicleTitle(v);
      if (this.candidates.has(v.id)) el.classList.add('candidate');
      this.vehicles.set(v.id, { marker, el, status: v.status, type: v.type });
    } else {
      const at = known.marker.getLatLng();
      if (at.lat !== v.lat || at.lng !== v.lon) known.marker.setLatLng([v.lat, v.lon]);
      if (known.status !== v.status || known.type !== v.type) {
        known.status = v.status;
        known.el.dataset.status = v.status;
        if (known.type !== v.type) {
          known.type = v.type;
          known.el.dataset.type = v.type;
          known.el.innerHTML = vehicleGlyph(v.type);
        }
        known.el.title = this.vehicleTitle(v);
      }
    }
    for (const d of this.dispatchLines.values()) if (d.vehicleId === v.id) d.line.setLatLngs([[v.lat, v.lon], d.incident]);
  }

  private vehicleTitle(v: Vehicle): string {
    return `${v.id} · ${TYPE_LABEL[v.type] ?? v.type} · ${STATUS_LABEL[v.status] ?? v.status}`;
  }

  /** Stale markers (no fix for longer than the dispatch cut-off) are drawn faded. */
  markStale(isStale: (id: string) => boolean): void {
    for (const [id, m] of this.vehicles) m.el.classList.toggle('stale', isStale(id));
  }

  vehicleMarkerCount(): number {
    return this.vehicles.size;
  }

  highlightCandidates(ids: readonly string[]): void {
    for (const id of this.candidates) this.vehicles.get(id)?.el.classList.remove('candidate');
    this.candidates = new Set(ids);
    for (const id of ids) this.vehicles.get(id)?.el.classList.add('candidate');
  }

  // ---- sensors ----

  setGauge(s: Sensor, level: string): void {
    if (s.lat === null || s.lon === null) return;
    let m = this.gauges.get(s.id);
    if (!m) {
      const icon = L.divIcon({ className: 'gauge', html: '<span class="gauge-value"></span>', iconSize: [50, 26], iconAnchor: [25, 13] });
      m = L.marker([s.lat, s.lon], { icon, keyboard: false, zIndexOffset: 1000 }).addTo(this.sensorLayer);
      m.on('click', () => this.onSensorClick(s.id));
      const el = elementOf(m);
      el.dataset.testid = 'gauge-marker';
      el.dataset.sensorId = s.id;
      this.gauges.set(s.id, m);
    } else {
      m.setLatLng([s.lat, s.lon]);
    }
    const el = elementOf(m);
    el.dataset.level = level;
    el.dataset.online = s.status;
    const cm = s.values.water_level_cm?.value;
    el.querySelector('.gauge-value')!.textContent = cm === undefined ? '–' : `${Math.round(cm)}`;
    el.title = `${s.name ?? s.id} (${s.id}) · ${SIAGA_LABEL[level] ?? level}${cm === undefined ? '' : ` · ${Math.round(cm)} cm`}${s.status === 'offline' ? ' · OFFLINE' : ''}`;
  }

  setGaugeLevel(id: string, level: string): void {
    const m = this.gauges.get(id);
    if (m) elementOf(m).dataset.level = level;
  }

  /** A flood wave forecast for this gauge (an upstream gauge reached a level): a pulsing ring. */
  setGaugeForecast(id: string, level: string | null): void {
    const m = this.gauges.get(id);
    if (!m) return;
    const el = elementOf(m);
    if (level) el.dataset.forecast = level;
    else delete el.dataset.forecast;
  }

  hasGauge(id: string): boolean {
    return this.gauges.has(id);
  }

  setAirStation(a: AirStation): void {
    if (a.lat === null || a.lon === null) return;
    let m = this.airStations.get(a.station_id);
    if (!m) {
      const icon = L.divIcon({ className: 'air', html: '<span class="air-value"></span>', iconSize: [40, 28], iconAnchor: [20, 14] });
      m = L.marker([a.lat, a.lon], { icon, keyboard: false, zIndexOffset: 900 }).addTo(this.sensorLayer);
      m.on('click', () => this.onSensorClick(a.station_id));
      const el = elementOf(m);
      el.dataset.testid = 'air-marker';
      el.dataset.stationId = a.station_id;
      this.airStations.set(a.station_id, m);
    }
    const el = elementOf(m);
    el.dataset.category = ispuSlug(a.category);
    el.querySelector('.air-value')!.textContent = a.ispu === null ? '–' : String(a.ispu);
    el.title = `${a.name ?? a.station_id} · ISPU ${a.ispu ?? 'no data'}${a.category ? ` ${a.category} (${a.category_en})` : ''}${a.dominant ? ` · ${a.dominant}` : ''}`;
  }

  setCameras(list: readonly Camera[]): void {
    const keep = new Set(list.map((c) => c.id));
    for (const [id, m] of this.cameras) {
      if (!keep.has(id)) {
        m.remove();
        this.cameras.delete(id);
      }
    }
    for (const c of list) {
      if (this.cameras.has(c.id)) continue;
      const icon = L.divIcon({ className: 'cam', html: CAMERA_GLYPH, iconSize: [26, 26], iconAnchor: [13, 13] });
      const m = L.marker([c.lat, c.lon], { icon, keyboard: false, zIndexOffset: 800 }).addTo(this.cameraLayer);
      m.on('click', () => this.onCameraClick(c.id));
      const el = elementOf(m);
      el.dataset.testid = 'camera-marker';
      el.dataset.cameraId = c.id;
      el.title = `CCTV ${c.name} (${c.id})`;
      this.cameras.set(c.id, m);
    }
  }

  hasCamera(id: string): boolean {
    return this.cameras.has(id);
  }

  // ---- geofences ----

  setFences(features: readonly GeofenceFeature[]): void {
    this.fenceLayer.clearLayers();
    this.fences.clear();
    for (const f of features) {
      const id = String(f.properties.id ?? f.id ?? '');
      const layer = L.geoJSON(f as GeoJSON.Feature, {
        style: () => ({ color: '#c792ea', weight: 2, fillColor: '#c792ea', fillOpacity: 0.08, dashArray: '6 4' }),
        interactive: false,
      }).addTo(this.fenceLayer);
      layer.eachLayer((l) => {
        const el = (l as L.Path).getElement() as SVGElement | undefined;
        if (!el) return;
        el.setAttribute('data-testid', 'geofence');
        el.setAttribute('data-fence-id', id);
        el.setAttribute('data-kind', f.properties.kind ?? '');
        el.classList.add('fence');
      });
      this.fences.set(id, layer);
    }
  }

  hasFence(id: string): boolean {
    return this.fences.has(id);
  }

  /** A geofence transition makes the fence flash for a few seconds. */
  flashFence(id: string): void {
    this.fences.get(id)?.eachLayer((l) => {
      const el = (l as L.Path).getElement();
      if (!el) return;
      el.classList.remove('flash');
      void (el as SVGElement).getBoundingClientRect();
      el.classList.add('flash');
    });
  }

  // ---- incidents and dispatches ----

  setIncident(lat: number, lon: number): void {
    if (!this.incident) {
      const icon = L.divIcon({ className: 'incident', html: '<span>112</span>', iconSize: [44, 44], iconAnchor: [22, 22] });
      this.incident = L.marker([lat, lon], { icon, keyboard: false, zIndexOffset: 2000, interactive: false }).addTo(this.map);
      elementOf(this.incident).dataset.testid = 'incident-marker';
    } else {
      this.incident.setLatLng([lat, lon]);
    }
  }

  clearIncident(): void {
    this.incident?.remove();
    this.incident = null;
  }

  /** A dashed line from each open dispatch's vehicle to its incident, following the vehicle. */
  setDispatches(open: readonly Dispatch[], vehicleAt: (id: string) => L.LatLngExpression | null): void {
    const keep = new Set(open.map((d) => d.id));
    for (const [id, d] of this.dispatchLines) {
      if (!keep.has(id)) {
        d.line.remove();
        this.dispatchLines.delete(id);
      }
    }
    for (const d of open) {
      const incident = L.latLng(d.lat, d.lon);
      const from = vehicleAt(d.vehicle.id) ?? (d.vehicle.lat !== null && d.vehicle.lon !== null ? L.latLng(d.vehicle.lat, d.vehicle.lon) : incident);
      const known = this.dispatchLines.get(d.id);
      if (known) {
        known.line.setLatLngs([from, incident]);
        known.line.getElement()?.setAttribute('data-state', d.state);
        continue;
      }
      const line = L.polyline([from, incident], { className: 'dispatch-line', weight: 4, dashArray: '10 8', interactive: false }).addTo(this.dispatchLayer);
      const el = line.getElement();
      el?.setAttribute('data-dispatch-id', d.id);
      el?.setAttribute('data-state', d.state);
      this.dispatchLines.set(d.id, { line, vehicleId: d.vehicle.id, incident });
    }
  }

  focus(lat: number, lon: number, zoom = 14): void {
    this.map.setView([lat, lon], Math.max(this.map.getZoom(), zoom), { animate: false });
  }

  /** Legend HTML for the map corner. */
  static legendHtml(): string {
    const statuses = ['available', 'dispatched', 'en_route', 'on_scene', 'busy', 'out_of_service'];
    const levels = ['NORMAL', 'SIAGA_3', 'SIAGA_2', 'SIAGA_1'];
    const ispu = ['Baik', 'Sedang', 'Tidak Sehat', 'Sangat Tidak Sehat', 'Berbahaya'];
    return (
      `<div class="legend-row">${statuses.map((s) => `<span class="key"><i class="sw status-${s}"></i>${esc(STATUS_LABEL[s])}</span>`).join('')}</div>` +
      `<div class="legend-row">${levels.map((l) => `<span class="key"><i class="sw level-${l}"></i>${esc(SIAGA_LABEL[l])}</span>`).join('')}</div>` +
      `<div class="legend-row">ISPU ${ispu.map((c) => `<span class="key"><i class="sw ispu-${ispuSlug(c)}"></i>${esc(c)}</span>`).join('')}</div>`
    );
  }
}
