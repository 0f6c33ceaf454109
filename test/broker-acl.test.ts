// The ACL of CONTRACT.md as a table: principal, action, topic -> allowed.
import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe } from '../broker/acl.ts';
import { parseTopic } from '../ingest/topics.ts';
import type { Device, Principal } from '../engine/registry.ts';

const device = (id: string, kind: Device['kind'], owntracks: string | null = null): Principal => ({
  kind: 'device',
  device: { id, kind, type: kind === 'vehicle' ? 'ambulance' : 'water_level', name: null, lat: null, lon: null, owntracks, meta: {}, tokenHash: '', status: 'available', statusTs: null, createdAt: 0, updatedAt: 0 },
});
const amb = device('amb-1', 'vehicle', 'dinkes/amb1');
const gauge = device('katulampa', 'sensor');
const admin: Principal = { kind: 'operator', id: 'admin', role: 'admin' };
const viewer: Principal = { kind: 'operator', id: 'v', role: 'viewer' };
const anon: Principal = { kind: 'anonymous' };

describe('mayPublish', () => {
  it.each([
    [amb, 'pantau/v1/vehicles/amb-1/position', true],
    [amb, 'pantau/v1/vehicles/amb-1/positions', true],
    [amb, 'pantau/v1/vehicles/amb-1/status', true],
    [amb, 'pantau/v1/vehicles/amb-2/position', false],
    [amb, 'pantau/v1/sensors/amb-1/reading', false],
    [amb, 'owntracks/dinkes/amb1', true],
    [amb, 'owntracks/dinkes/amb2', false],
    [amb, 'pantau/v1/devices/amb-1/rejects', false],
    [amb, 'pantau/v1/alerts/water_level/katulampa', false],
    [amb, 'something/else', false],
    [amb, '$SYS/x', false],
    [gauge, 'pantau/v1/sensors/katulampa/reading', true],
    [gauge, 'pantau/v1/sensors/katulampa/senml', true],
    [gauge, 'pantau/v1/vehicles/katulampa/position', false],
    [gauge, 'pantau/v1/sensors/depok/reading', false],
    [admin, 'pantau/v1/devices/amb-1/commands', true],
    [admin, 'pantau/v1/vehicles/amb-1/position', false],
    [viewer, 'pantau/v1/devices/amb-1/commands', false],
    [anon, 'pantau/v1/vehicles/amb-1/position', true],
    [anon, 'pantau/v1/devices/amb-1/rejects', false],
    [anon, 'pantau/v1/alerts/x/y', false],
    [anon, '$SYS/x', false],
  ] as Array<[Principal, string, boolean]>)('%# %s', (who, topic, allowed) => {
    expect(mayPublish(who, topic, parseTopic(topic))).toBe(allowed);
  });
});

describe('maySubscribe', () => {
  it.each([
    [amb, 'pantau/v1/devices/amb-1/#', true],
    [amb, 'pantau/v1/devices/amb-1/rejects', true],
    [amb, 'pantau/v1/devices/amb-2/#', false],
    [amb, 'pantau/v1/devices/+/rejects', false],
    [amb, 'pantau/v1/#', false],
    [amb, '#', false],
    [gauge, 'pantau/v1/devices/katulampa/+', true],
    [viewer, '#', true],
    [admin, 'pantau/v1/vehicles/+/position', true],
  ] as Array<[Principal, string, boolean]>)('%# %s', (who, filter, allowed) => {
    expect(maySubscribe(who, filter)).toBe(allowed);
  });
});
