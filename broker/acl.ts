// Who may publish and subscribe where (CONTRACT.md, Identities and access). Pure functions of the
// principal and the topic, so they are tested as tables.
import type { Principal } from '../engine/registry.ts';
import type { ParsedTopic } from '../ingest/topics.ts';

export function mayPublish(who: Principal, topic: string, parsed: ParsedTopic | null): boolean {
  if (topic.startsWith('$')) return false; // $SYS and other broker-reserved topics (aedes #597)
  switch (who.kind) {
    case 'anonymous':
      // development only: any device topic, but never the engine's own outputs
      return parsed === null ? !topic.startsWith('pantau/') : parsed.kind !== 'rejects';
    case 'operator':
      // operators read; admins and dispatchers may talk to devices, never speak for one
      return who.role !== 'viewer' && parsed?.kind === 'device_inbox';
    case 'subscriber':
      return false; // subscribers only listen
    case 'device': {
      const d = who.device;
      if (!parsed) return false;
      switch (parsed.kind) {
        case 'position':
        case 'positions':
        case 'status':
          return d.kind === 'vehicle' && parsed.vehicleId === d.id;
        case 'reading':
        case 'senml':
          return d.kind === 'sensor' && parsed.sensorId === d.id;
        case 'owntracks':
          return d.owntracks !== null && parsed.key === d.owntracks;
        default:
          return false;
      }
    }
  }
}

/**
 * A device may subscribe only below pantau/v1/devices/{its id}/; a subscriber only to its own
 * delivery topic and the public alert topics; operators read everything.
 */
export function maySubscribe(who: Principal, filter: string): boolean {
  switch (who.kind) {
    case 'anonymous':
    case 'operator':
      return true;
    case 'subscriber':
      return filter === `pantau/v1/subscribers/${who.id}/alerts` || (filter.startsWith('pantau/v1/alerts/') && !filter.includes('$'));
    case 'device': {
      const prefix = `pantau/v1/devices/${who.device.id}/`;
      return filter.startsWith(prefix) && !filter.slice(prefix.length).startsWith('$');
    }
  }
}
