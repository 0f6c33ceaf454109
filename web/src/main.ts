// Pantau's control-room wall: the live city map with the alerts, 112 dispatch, fleet and CCTV panels.
// State comes from the API once, then from the live stream; a reset (or a reopened stream) refetches it.
import './style.css';
import { Api, ApiError, describeError } from './api.ts';
import { AlertsPanel } from './alerts.ts';
import { CctvPanel } from './cctv.ts';
import { DispatchPanel } from './dispatch.ts';
import { renderFleet } from './fleet.ts';
import { CityMap } from './map.ts';
import { LiveStream, type StreamState } from './stream.ts';
import type {
  Alert,
  AirStation,
  Camera,
  Dispatch,
  FenceEvent,
  GeofenceFeature,
  PageConfig,
  Sensor,
  Vehicle,
  VehicleEvent,
  VehicleFeatureCollection,
} from './types.ts';

const TOKEN_KEY = 'pantau.token';
/** a vehicle silent this long is never offered for dispatch (the API's max_age_s default): drawn faded */
const STALE_AFTER_MS = 120_000;
const SENSORS_EVERY_MS = 15_000;
const AIR_EVERY_MS = 30_000;
const SLOW_EVERY_MS = 60_000;
const STREAM_RETRY_MS = 3000;

const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => document.querySelector<T>(sel)!;

function pageConfig(): PageConfig {
  const fallback: PageConfig = { tile_url: null, tile_attribution: '', version: '' };
  try {
    return { ...fallback, ...(JSON.parse($('#pantau-config').textContent || '{}') as Partial<PageConfig>) };
  } catch {
    return fallback;
  }
}

// ---- login ----

function showLogin(message = ''): void {
  $('#app').hidden = true;
  const box = $('#login');
  box.hidden = false;
  $('[data-testid="login-error"]').textContent = message;
  $<HTMLInputElement>('[data-testid="token-input"]').focus();
}

/** Checks the token with a cheap call any operator role may make. */
async function verify(token: string): Promise<void> {
  await new Api(token).get('/alerts?state=active&limit=1');
}

function loginMessage(err: unknown): string {
  if (err instanceof ApiError && err.status === 401) return 'Wrong token: the engine does not know this token (or it was revoked). Use the operator token printed at the first start, or one issued to you.';
  return `Could not check the token: ${describeError(err)}`;
}

function setupLogin(onToken: (token: string) => void): void {
  $('#login form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $<HTMLInputElement>('[data-testid="token-input"]');
    const token = input.value.trim();
    if (!token) return void ($('[data-testid="login-error"]').textContent = 'Paste an operator token first.');
    $('[data-testid="login-error"]').textContent = 'Checking…';
    verify(token).then(
      () => {
        sessionStorage.setItem(TOKEN_KEY, token);
        input.value = '';
        onToken(token);
      },
      (err: unknown) => ($('[data-testid="login-error"]').textContent = loginMessage(err)),
    );
  });
}

// ---- the dashboard ----

class Dashboard {
  private readonly vehicles = new Map<string, Vehicle>();
  private readonly sensors = new Map<string, Sensor>();
  /** when the stream last told us something about a sensor: a poll started before that is older news */
  private readonly sensorTouched = new Map<string, number>();
  private readonly map: CityMap;
  private readonly alerts: AlertsPanel;
  private readonly dispatch: DispatchPanel;
  private readonly cctv: CctvPanel;
  private readonly stream: LiveStream;
  private fleetDirty = true;
  private timers: Array<ReturnType<typeof setInterval>> = [];
  private stopped = false;
  private loadError = '';

  constructor(
    private readonly api: Api,
    config: PageConfig,
  ) {
    this.map = new CityMap($('#map'), config);
    $('#legend').innerHTML = CityMap.legendHtml();
    this.alerts = new AlertsPanel($('#alerts'), api, {
      nameOf: (id) => this.sensors.get(id)?.name ?? id,
      onSelect: (a) => void this.selectAlert(a),
      onChange: (a) => this.alertChanged(a),
    });
    this.dispatch = new DispatchPanel($('#dispatch'), api, {
      onIncident: (lat, lon) => this.map.setIncident(lat, lon),
      onCandidates: (ids) => this.map.highlightCandidates(ids),
      onSelect: (d) => void this.selectDispatch(d),
      onChange: (open) => {
        this.map.setDispatches(open, (id) => {
          const v = this.vehicles.get(id);
          return v ? [v.lat, v.lon] : null;
        });
        $('[data-testid="count-dispatches"]').textContent = String(open.length);
      },
    });
    this.cctv = new CctvPanel($('#cctv'), $('#cctv-context'), api);
    this.map.onMapClick = (lat, lon) => this.dispatch.setIncident(lat, lon);
    this.map.onCameraClick = (id) => void this.selectCamera(id);
    this.map.onSensorClick = (id) => {
      const a = this.alerts.active().find((x) => x.source_id === id);
      if (a) void this.selectAlert(a);
    };
    this.stream = new LiveStream(api.token, {
      vehicles: (d) => this.applyVehicle(fromEvent(d as VehicleEvent)),
      alerts: (d) => this.alerts.upsert(d as Alert),
      events: (d) => this.fenceEvent(d as FenceEvent),
      dispatches: (d) => this.dispatch.upsert(d as Dispatch),
      reset: () => void this.loadAll(),
      state: (s) => this.streamState(s),
      closed: () => void this.streamClosed(),
    });
  }

  start(): void {
    this.stream.open();
    void this.loadAll();
    this.every(SENSORS_EVERY_MS, () => this.loadSensors());
    this.every(AIR_EVERY_MS, () => this.loadAir());
    this.every(SLOW_EVERY_MS, () => Promise.all([this.loadCameras(), this.loadFences()]));
    this.every(1000, () => {
      $('[data-testid="clock"]').textContent = new Date().toLocaleTimeString('en-GB', { timeZone: 'Asia/Jakarta', hour12: false }) + ' WIB';
      if (this.fleetDirty) {
        this.fleetDirty = false;
        renderFleet($('#fleet'), this.vehicles.values());
        $('[data-testid="count-vehicles"]').textContent = String(this.vehicles.size);
      }
    });
    this.every(10_000, () => {
      const now = Date.now();
      this.map.markStale((id) => now - (this.vehicles.get(id)?.localTs ?? now) > STALE_AFTER_MS);
      this.alerts.render(now);
      this.dispatch.render(now);
    });
  }

  stop(): void {
    this.stopped = true;
    this.stream.close();
    for (const t of this.timers) clearInterval(t);
  }

  private every(ms: number, fn: () => unknown): void {
    this.timers.push(setInterval(() => void Promise.resolve(fn()).catch((err: unknown) => this.problem(err)), ms));
  }

  private problem(err: unknown): void {
    if (err instanceof ApiError && err.status === 401) return void logout('Your token is no longer accepted (revoked?). Log in again.');
    this.loadError = describeError(err);
    $('[data-testid="load-error"]').textContent = this.loadError;
  }

  // ---- loading ----

  async loadAll(): Promise<void> {
    this.loadError = '';
    $('[data-testid="load-error"]').textContent = '';
    const results = await Promise.allSettled([
      this.loadVehicles(),
      this.loadSensors(),
      this.loadAir(),
      this.loadAlerts(),
      this.loadDispatches(),
      this.loadCameras(),
      this.loadFences(),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) this.problem(failed.reason);
    document.body.dataset.loaded = 'true';
  }

  private async loadVehicles(): Promise<void> {
    const fc = await this.api.get<VehicleFeatureCollection>('/vehicles');
    for (const f of fc.features) {
      const p = f.properties;
      this.applyVehicle({
        id: p.id, type: p.type, status: p.status, lat: f.geometry.coordinates[1], lon: f.geometry.coordinates[0],
        speed_kmh: p.speed_kmh, heading: p.heading, ts: Date.parse(p.ts), localTs: Date.now() - p.age_s * 1000,
      });
    }
  }

  private async loadSensors(): Promise<void> {
    const startedAt = Date.now();
    const { sensors } = await this.api.get<{ sensors: Sensor[] }>('/sensors');
    for (const s of sensors) if ((this.sensorTouched.get(s.id) ?? 0) < startedAt) this.applySensor(s);
  }

  private async refreshSensor(id: string): Promise<void> {
    try {
      this.applySensor(await this.api.get<Sensor>(`/sensors/${encodeURIComponent(id)}`));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) this.problem(err);
    }
  }

  private async loadAir(): Promise<void> {
    const { stations } = await this.api.get<{ stations: AirStation[] }>('/air-quality');
    for (const a of stations) this.map.setAirStation(a);
  }

  private async loadAlerts(): Promise<void> {
    const since = new Date(Date.now() - 2 * 3600_000).toISOString();
    const [active, resolved] = await Promise.all([
      this.api.get<{ alerts: Alert[] }>('/alerts?state=active'),
      this.api.get<{ alerts: Alert[] }>(`/alerts?state=resolved&from=${encodeURIComponent(since)}&limit=20`),
    ]);
    this.alerts.replaceAll([...resolved.alerts, ...active.alerts]);
    for (const a of active.alerts) if (a.kind === 'flood_forecast') this.map.setGaugeForecast(a.source_id, a.level);
    $('[data-testid="count-alerts"]').textContent = String(active.alerts.length);
  }

  private async loadDispatches(): Promise<void> {
    const { dispatches } = await this.api.get<{ dispatches: Dispatch[] }>('/dispatches?limit=50');
    this.dispatch.replaceAll(dispatches);
  }

  private async loadCameras(): Promise<void> {
    const { cameras } = await this.api.get<{ cameras: Camera[] }>('/cameras');
    this.map.setCameras(cameras);
    $('[data-testid="count-cameras"]').textContent = String(cameras.length);
  }

  private async loadFences(): Promise<void> {
    const fc = await this.api.get<{ features: GeofenceFeature[] }>('/geofences');
    this.map.setFences(fc.features);
  }

  // ---- applying changes ----

  private applyVehicle(v: Vehicle): void {
    const known = this.vehicles.get(v.id);
    // a position older than the one shown is old news (a status change keeps the fix's ts, so equal ts applies)
    if (known && v.ts < known.ts) return;
    this.vehicles.set(v.id, v);
    this.map.queueVehicle(v);
    this.fleetDirty = true;
  }

  private applySensor(s: Sensor): void {
    this.sensors.set(s.id, s);
    if (s.type === 'water_level') this.map.setGauge(s, s.levels.water_level_cm ?? 'NONE');
  }

  private alertChanged(a: Alert): void {
    $('[data-testid="count-alerts"]').textContent = String(this.alerts.active().length);
    if (a.kind === 'water_level') {
      // the alert says the level at once; the sensor's values follow with its refetch
      this.sensorTouched.set(a.source_id, Date.now());
      if (this.map.hasGauge(a.source_id)) this.map.setGaugeLevel(a.source_id, a.state === 'active' ? a.level : 'NORMAL');
      void this.refreshSensor(a.source_id);
    } else if (a.kind === 'flood_forecast') {
      this.map.setGaugeForecast(a.source_id, a.state === 'active' ? a.level : null);
    } else if (a.kind === 'air_quality') {
      void this.loadAir().catch((err: unknown) => this.problem(err));
    }
  }

  private fenceEvent(e: FenceEvent): void {
    if (!this.map.hasFence(e.fence_id)) void this.loadFences().catch((err: unknown) => this.problem(err));
    else this.map.flashFence(e.fence_id);
  }

  // ---- selection: the map and the CCTV tiles follow it ----

  private async selectAlert(a: Alert): Promise<void> {
    const s = this.sensors.get(a.source_id);
    if (s && s.lat !== null && s.lon !== null) this.map.focus(s.lat, s.lon, 13);
    const name = s?.name ?? a.source_id;
    let cameras = a.cameras;
    if (!cameras || cameras.length === 0) {
      try {
        cameras = (await this.api.get<Alert>(`/alerts/${encodeURIComponent(a.id)}`)).cameras ?? [];
      } catch (err) {
        this.problem(err);
        cameras = [];
      }
    }
    this.cctv.show(`Near ${name}`, cameras, `No camera near ${name}.`);
    this.learnCameras(cameras);
  }

  private async selectDispatch(d: Dispatch): Promise<void> {
    let cameras = d.cameras;
    if (!cameras) {
      try {
        cameras = (await this.api.get<Dispatch>(`/dispatches/${encodeURIComponent(d.id)}`)).cameras ?? [];
      } catch (err) {
        this.problem(err);
        cameras = [];
      }
    }
    this.cctv.show(`Near dispatch ${d.id} (${d.vehicle.id})`, cameras, 'No camera near this incident.');
    this.learnCameras(cameras);
  }

  /** Cameras registered since the last poll show up on the map at once. */
  private learnCameras(cameras: readonly { id: string }[]): void {
    if (cameras.some((c) => !this.map.hasCamera(c.id))) void this.loadCameras().catch((err: unknown) => this.problem(err));
  }

  private async selectCamera(id: string): Promise<void> {
    try {
      const c = await this.api.get<Camera>(`/cameras/${encodeURIComponent(id)}`);
      this.cctv.show(`Camera ${c.name}`, [{ id: c.id, name: c.name, distance_m: 0 }], '');
    } catch (err) {
      this.problem(err);
    }
  }

  // ---- the stream's health ----

  private streamState(s: StreamState): void {
    const el = $('[data-testid="stream-status"]');
    el.dataset.state = s;
    el.textContent = { connecting: 'connecting…', open: 'LIVE', reconnecting: 'reconnecting…', closed: 'disconnected' }[s];
  }

  private async streamClosed(): Promise<void> {
    // EventSource does not say why; the same token over fetch does
    try {
      await verify(this.api.token);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return logout('Your token is no longer accepted (revoked?). Log in again.');
    }
    setTimeout(() => {
      if (this.stopped) return;
      this.stream.open();
      void this.loadAll();
    }, STREAM_RETRY_MS);
  }
}

function fromEvent(e: VehicleEvent): Vehicle {
  return { id: e.id, type: e.type, status: e.status, lat: e.lat, lon: e.lon, speed_kmh: e.speed_kmh, heading: e.heading, ts: Date.parse(e.ts), localTs: Date.now() - e.age_s * 1000 };
}

let current: Dashboard | null = null;

function logout(message = ''): void {
  sessionStorage.removeItem(TOKEN_KEY);
  current?.stop();
  current = null;
  // Leaflet keeps state in its container: a fresh page is the simplest clean slate
  if (message) sessionStorage.setItem('pantau.loginMessage', message);
  location.reload();
}

function startDashboard(token: string, config: PageConfig): void {
  $('#login').hidden = true;
  $('#app').hidden = false;
  current = new Dashboard(new Api(token), config);
  current.start();
}

function boot(): void {
  const config = pageConfig();
  $('[data-testid="version"]').textContent = config.version ? `v${config.version}` : '';
  setupLogin((token) => startDashboard(token, config));
  $('[data-testid="logout"]').addEventListener('click', () => logout());
  const message = sessionStorage.getItem('pantau.loginMessage') ?? '';
  sessionStorage.removeItem('pantau.loginMessage');
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return showLogin(message);
  verify(token).then(
    () => startDashboard(token, config),
    (err: unknown) => {
      if (err instanceof ApiError && err.status === 401) sessionStorage.removeItem(TOKEN_KEY);
      showLogin(loginMessage(err));
    },
  );
}

window.addEventListener('error', (e) => {
  const el = document.querySelector('[data-testid="load-error"]');
  if (el) el.textContent = `Page error: ${e.message}`;
});
boot();
