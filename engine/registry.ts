// Who may connect and publish: devices and operators, held in memory (every MQTT publish checks
// its topic against them) and written through to the database.
import type { Db } from '../store/db.ts';
import { deleteDevice, deleteOperator, insertDevice, listDevices, listOperators, updateDevice, upsertOperator, type DevicePatch, type DeviceRow, type OperatorRow } from '../store/devices.ts';
import { fingerprint, hashToken, newToken, verifyToken } from './tokens.ts';

export type Device = DeviceRow;
export type Role = OperatorRow['role'];

export type Principal =
  | { kind: 'device'; device: Device }
  | { kind: 'operator'; id: string; role: Role }
  | { kind: 'subscriber'; id: string }
  | { kind: 'anonymous' };

export interface NewDevice {
  id: string;
  kind: Device['kind'];
  type: string;
  name?: string | null;
  lat?: number | null;
  lon?: number | null;
  owntracks?: string | null;
  meta?: Record<string, unknown>;
}

export class DeviceExistsError extends Error {}
export class SubscriberExistsError extends Error {}
export class OwntracksTakenError extends Error {}
export class OperatorExistsError extends Error {}
/** the change would leave no admin (PANTAU_ADMIN_TOKEN counts as one) */
export class LastAdminError extends Error {}

const OPERATOR_CACHE_MAX = 1000;

export class Registry {
  private readonly devices = new Map<string, Device>();
  private readonly byOwntracks = new Map<string, string>();
  private operators: OperatorRow[] = [];
  private readonly operatorListeners: Array<(id: string) => void> = [];
  /** counts operator changes: a token check that straddles one is done again (verifyOperator) */
  private operatorEpoch = 0;
  /** operator changes run one at a time, so two of them cannot both pass the last-admin check */
  private operatorWork: Promise<unknown> = Promise.resolve();
  private readonly revokedListeners: Array<(kind: 'device' | 'subscriber', id: string) => void> = [];
  /** token fingerprint -> operator, so HTTP requests skip scrypt after the first */
  private readonly operatorCache = new Map<string, { id: string; role: Role }>();
  /** the PANTAU_ADMIN_TOKEN given in config, if any: accepted as admin without being stored */
  private configAdmin: string | null = null;
  /** early-warning subscribers' MQTT credentials: id -> token hash (the rest lives in the warning service) */
  private readonly subscribers = new Map<string, string>();

  constructor(private readonly db: Db) {}

  async load(configAdminToken: string | null): Promise<void> {
    for (const d of await listDevices(this.db)) this.index(d);
    this.operators = await listOperators(this.db);
    this.configAdmin = configAdminToken ? await hashToken(configAdminToken) : null;
  }

  get(id: string): Device | undefined {
    return this.devices.get(id);
  }

  byOwntracksKey(key: string): Device | undefined {
    const id = this.byOwntracks.get(key);
    return id === undefined ? undefined : this.devices.get(id);
  }

  list(): Device[] {
    return [...this.devices.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async create(input: NewDevice): Promise<{ device: Device; token: string }> {
    if (this.devices.has(input.id) || this.subscribers.has(input.id)) throw new DeviceExistsError(input.id);
    if (input.owntracks && this.byOwntracks.has(input.owntracks)) throw new OwntracksTakenError(input.owntracks);
    const token = newToken('pd');
    const device = await insertDevice(this.db, {
      id: input.id,
      kind: input.kind,
      type: input.type,
      name: input.name ?? null,
      lat: input.lat ?? null,
      lon: input.lon ?? null,
      owntracks: input.owntracks ?? null,
      meta: input.meta ?? {},
      tokenHash: await hashToken(token),
      status: 'available',
    });
    this.index(device);
    return { device, token };
  }

  async update(id: string, patch: DevicePatch): Promise<Device | null> {
    const before = this.devices.get(id);
    if (!before) return null;
    if (patch.owntracks && patch.owntracks !== before.owntracks && this.byOwntracks.has(patch.owntracks)) throw new OwntracksTakenError(patch.owntracks);
    const after = await updateDevice(this.db, id, patch);
    if (!after) return null;
    this.unindex(before);
    this.index(after);
    return after;
  }

  /** Memory only: the batch writer records status reports in the database itself. False for a report older than the last one applied. */
  setStatusLocal(id: string, status: Device['status'], ts: number): boolean {
    const d = this.devices.get(id);
    if (!d || (d.statusTs !== null && d.statusTs >= ts)) return false;
    this.devices.set(id, { ...d, status, statusTs: ts });
    return true;
  }

  /** Memory only, whatever the last report's time: a dispatch decides (it writes the database itself). */
  forceStatusLocal(id: string, status: Device['status']): void {
    const d = this.devices.get(id);
    if (d) this.devices.set(id, { ...d, status });
  }

  async remove(id: string): Promise<boolean> {
    const d = this.devices.get(id);
    if (!d) return false;
    await deleteDevice(this.db, id);
    this.unindex(d);
    for (const listener of this.revokedListeners) listener('device', id);
    return true;
  }

  /** A new token for a device; the old one, and any MQTT session opened with it, stop working at once. */
  async rotateToken(id: string): Promise<string | null> {
    const token = newToken('pd');
    const updated = await this.update(id, { tokenHash: await hashToken(token) });
    if (updated) for (const listener of this.revokedListeners) listener('device', id);
    return updated ? token : null;
  }

  /** Called after a device's token was rotated or it was deleted, or a subscriber was deleted (the engine closes their MQTT sessions). */
  onCredentialsRevoked(listener: (kind: 'device' | 'subscriber', id: string) => void): void {
    this.revokedListeners.push(listener);
  }

  async authenticateDevice(id: string, token: string): Promise<Device | null> {
    const d = this.devices.get(id);
    if (!d) return null;
    return (await verifyToken(token, d.tokenHash)) ? d : null;
  }

  /** Subscribers and devices share the MQTT user name space, so an id is either, never both. */
  addSubscriber(id: string, tokenHash: string): void {
    if (this.devices.has(id)) throw new SubscriberExistsError(id);
    this.subscribers.set(id, tokenHash);
  }

  removeSubscriber(id: string): void {
    if (this.subscribers.delete(id)) for (const listener of this.revokedListeners) listener('subscriber', id);
  }

  isSubscriber(id: string): boolean {
    return this.subscribers.has(id);
  }

  async authenticateSubscriber(id: string, token: string): Promise<string | null> {
    const hash = this.subscribers.get(id);
    return hash !== undefined && (await verifyToken(token, hash)) ? id : null;
  }

  async authenticateOperator(token: string): Promise<{ id: string; role: Role } | null> {
    return this.operatorOf(token);
  }

  /**
   * The operator of a token: without waiting when it was verified before (a request with a known token costs one
   * hash, api/app.ts), else a promise of the scrypt check.
   */
  operatorOf(token: string): { id: string; role: Role } | Promise<{ id: string; role: Role } | null> {
    const key = fingerprint(token);
    return this.operatorCache.get(key) ?? this.verifyOperator(token, key);
  }

  private async verifyOperator(token: string, key: string): Promise<{ id: string; role: Role } | null> {
    for (;;) {
      // scrypt takes a while: if the operators change meanwhile, the answer may be about a token just revoked
      const epoch = this.operatorEpoch;
      const operators = this.operators;
      let found: { id: string; role: Role } | null = null;
      if (this.configAdmin && (await verifyToken(token, this.configAdmin))) found = { id: 'admin', role: 'admin' };
      for (const op of operators) {
        if (found) break;
        if (await verifyToken(token, op.tokenHash)) found = { id: op.id, role: op.role };
      }
      if (epoch !== this.operatorEpoch) continue;
      if (found) {
        if (this.operatorCache.size >= OPERATOR_CACHE_MAX) this.operatorCache.clear();
        this.operatorCache.set(key, found);
      }
      return found;
    }
  }

  hasStoredAdmin(): boolean {
    return this.operators.some((o) => o.role === 'admin');
  }

  /** Creates or replaces an operator's token; returns the new token (shown once). The old token stops working at once. */
  issueOperatorToken(id: string, role: Role): Promise<string> {
    return this.oneAtATime(() => this.replaceOperatorToken(id, role));
  }

  private async replaceOperatorToken(id: string, role: Role): Promise<string> {
    const token = newToken('po');
    const op = { id, role, tokenHash: await hashToken(token) };
    await upsertOperator(this.db, op);
    this.operators = [...this.operators.filter((o) => o.id !== id), op].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.operatorsChanged(id);
    return token;
  }

  /** Stored operators (the PANTAU_ADMIN_TOKEN admin is not one), by id. */
  listOperators(): Array<{ id: string; role: Role }> {
    return this.operators.map(({ id, role }) => ({ id, role }));
  }

  getOperator(id: string): { id: string; role: Role } | undefined {
    const op = this.operators.find((o) => o.id === id);
    return op && { id: op.id, role: op.role };
  }

  /** A new operator and its token (shown once); OperatorExistsError when the id is taken. */
  createOperator(id: string, role: Role): Promise<string> {
    return this.oneAtATime(() => {
      if (this.getOperator(id)) throw new OperatorExistsError(id);
      return this.replaceOperatorToken(id, role);
    });
  }

  /** Changes an operator's role, keeping its token; false when there is no such operator. */
  setOperatorRole(id: string, role: Role): Promise<boolean> {
    return this.oneAtATime(() => this.changeRole(id, role));
  }

  private async changeRole(id: string, role: Role): Promise<boolean> {
    const op = this.operators.find((o) => o.id === id);
    if (!op) return false;
    if (op.role === 'admin' && role !== 'admin') this.keepAnAdmin(id);
    const changed = { ...op, role };
    await upsertOperator(this.db, changed);
    this.operators = this.operators.map((o) => (o.id === id ? changed : o));
    this.operatorsChanged(id);
    return true;
  }

  /** Deletes an operator: its token stops working at once; false when there is no such operator. */
  removeOperator(id: string): Promise<boolean> {
    return this.oneAtATime(() => this.dropOperator(id));
  }

  private async dropOperator(id: string): Promise<boolean> {
    const op = this.operators.find((o) => o.id === id);
    if (!op) return false;
    if (op.role === 'admin') this.keepAnAdmin(id);
    await deleteOperator(this.db, id);
    this.operators = this.operators.filter((o) => o.id !== id);
    this.operatorsChanged(id);
    return true;
  }

  /** Called with the operator's id after its token or role changed or it was deleted (the engine disconnects its MQTT sessions and tells API replicas). */
  onOperatorChanged(listener: (id: string) => void): void {
    this.operatorListeners.push(listener);
  }

  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.operatorWork.then(work, work);
    this.operatorWork = run.catch(() => undefined);
    return run;
  }

  /** Without any admin nobody could provision or manage operators again. */
  private keepAnAdmin(leaving: string): void {
    const others = this.operators.filter((o) => o.role === 'admin' && o.id !== leaving).length + (this.configAdmin ? 1 : 0);
    if (others === 0) throw new LastAdminError(leaving);
  }

  private operatorsChanged(id: string): void {
    this.operatorEpoch++;
    this.operatorCache.clear();
    for (const listener of this.operatorListeners) listener(id);
  }

  private index(d: Device): void {
    this.devices.set(d.id, d);
    if (d.owntracks) this.byOwntracks.set(d.owntracks, d.id);
  }

  private unindex(d: Device): void {
    this.devices.delete(d.id);
    if (d.owntracks) this.byOwntracks.delete(d.owntracks);
  }
}
