// MQTT topic names of the public contract (CONTRACT.md "MQTT"), parsed and built in one place.
// parseTopic runs for every publish: one split on '/', fixed-position compares, no regex.
import type { DeviceKind, Reject } from './model.ts';

export const TOPIC_ROOT = 'pantau/v1';

export type ParsedTopic =
  | { kind: 'position' | 'positions' | 'status'; vehicleId: string }
  | { kind: 'reading' | 'senml'; sensorId: string }
  /** `sub` is set for the app's sub-topics (`owntracks/u/d/event`, `/step`, `/waypoint`...), whose payloads the decoder ignores. */
  | { kind: 'owntracks'; key: string; sub?: string }
  | { kind: 'rejects'; deviceId: string }
  | { kind: 'device_inbox'; deviceId: string };

export type TopicKind = ParsedTopic['kind'];

/**
 * True when `id` can be one topic level: non-empty, no level separator and no wildcard
 * (MQTT-4.7.1-1: '+' and '#' are wildcards, MQTT-3.3.2-2: never in a topic name).
 * Device, sensor and subscriber ids must pass this to be usable in topics.
 */
export function isTopicLevel(id: string): boolean {
  if (id.length === 0) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c === 0x2f /* / */ || c === 0x2b /* + */ || c === 0x23 /* # */ || c === 0) return false;
  }
  return true;
}

/** What a topic means to ingest, or null when it is not one of the contract's topics. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  const n = parts.length;
  if (parts[0] === 'owntracks') {
    // owntracks/{user}/{device}[/{sub}...] (owntracks.org/booklet/tech/json "Topics")
    if (n < 3) return null;
    const user = parts[1]!;
    const device = parts[2]!;
    if (!isTopicLevel(user) || !isTopicLevel(device)) return null;
    const key = `${user}/${device}`;
    if (n === 3) return { kind: 'owntracks', key };
    const sub = parts.slice(3).join('/');
    return isTopicLevel(parts[3]!) ? { kind: 'owntracks', key, sub } : null;
  }
  if (n < 4 || parts[0] !== 'pantau' || parts[1] !== 'v1') return null;
  const id = parts[3]!;
  if (!isTopicLevel(id)) return null;
  switch (parts[2]) {
    case 'vehicles':
      if (n !== 5) return null;
      switch (parts[4]) {
        case 'position':
          return { kind: 'position', vehicleId: id };
        case 'positions':
          return { kind: 'positions', vehicleId: id };
        case 'status':
          return { kind: 'status', vehicleId: id };
        default:
          return null;
      }
    case 'sensors':
      if (n !== 5) return null;
      switch (parts[4]) {
        case 'reading':
          return { kind: 'reading', sensorId: id };
        case 'senml':
          return { kind: 'senml', sensorId: id };
        default:
          return null;
      }
    case 'devices':
      // pantau/v1/devices/{id} and everything under it is the device's inbox (its subscription filter is .../{id}/#).
      if (n === 5 && parts[4] === 'rejects') return { kind: 'rejects', deviceId: id };
      return { kind: 'device_inbox', deviceId: id };
    default:
      return null;
  }
}

/** The kind of device that may publish on this topic; null for topics devices only receive on. */
export function topicDeviceKind(topic: ParsedTopic): DeviceKind | null {
  switch (topic.kind) {
    case 'position':
    case 'positions':
    case 'status':
    case 'owntracks':
      return 'vehicle';
    case 'reading':
    case 'senml':
      return 'sensor';
    default:
      return null;
  }
}

/** The device id written in the topic (null for OwnTracks, whose key maps to a vehicle through provisioning). */
export function topicDeviceId(topic: ParsedTopic): string | null {
  switch (topic.kind) {
    case 'position':
    case 'positions':
    case 'status':
      return topic.vehicleId;
    case 'reading':
    case 'senml':
      return topic.sensorId;
    case 'rejects':
    case 'device_inbox':
      return topic.deviceId;
    default:
      return null;
  }
}

/**
 * Why a device of `deviceKind` may not publish data on `topic` (UNKNOWN_TOPIC, WRONG_KIND), or null when it may.
 * Ownership (the id in the topic is the publisher's own) is the broker's ACL, not checked here.
 */
export function topicReject(topic: ParsedTopic | null, deviceKind: DeviceKind): Reject | null {
  if (topic === null) {
    return {
      code: 'UNKNOWN_TOPIC',
      message: `not a Pantau data topic: expected ${TOPIC_ROOT}/vehicles/{id}/position|positions|status, ${TOPIC_ROOT}/sensors/{id}/reading|senml or owntracks/{user}/{device}`,
    };
  }
  const kind = topicDeviceKind(topic);
  if (kind === null) {
    return {
      code: 'UNKNOWN_TOPIC',
      message: `${TOPIC_ROOT}/devices/{id}/... is where the engine publishes to devices; publish data under ${TOPIC_ROOT}/vehicles/{id}/... or ${TOPIC_ROOT}/sensors/{id}/...`,
    };
  }
  if (kind !== deviceKind) {
    const hint = deviceKind === 'sensor' ? 'sensors publish to .../sensors/{id}/reading or /senml' : 'vehicles publish to .../vehicles/{id}/position, /positions or /status';
    return { code: 'WRONG_KIND', message: `a ${deviceKind} may not publish ${kind} data on this topic: ${hint}` };
  }
  return null;
}

// Builders. Ids must satisfy isTopicLevel (checked at provisioning, not here: these run per message).
export const positionTopic = (vehicleId: string): string => `${TOPIC_ROOT}/vehicles/${vehicleId}/position`;
export const positionsTopic = (vehicleId: string): string => `${TOPIC_ROOT}/vehicles/${vehicleId}/positions`;
export const statusTopic = (vehicleId: string): string => `${TOPIC_ROOT}/vehicles/${vehicleId}/status`;
export const readingTopic = (sensorId: string): string => `${TOPIC_ROOT}/sensors/${sensorId}/reading`;
export const senmlTopic = (sensorId: string): string => `${TOPIC_ROOT}/sensors/${sensorId}/senml`;
export const owntracksTopic = (user: string, device: string): string => `owntracks/${user}/${device}`;
export const rejectsTopic = (deviceId: string): string => `${TOPIC_ROOT}/devices/${deviceId}/rejects`;
/** The one filter a device may subscribe to (CONTRACT.md "Identities and access"). */
export const deviceFilter = (deviceId: string): string => `${TOPIC_ROOT}/devices/${deviceId}/#`;
export const alertTopic = (kind: string, sourceId: string): string => `${TOPIC_ROOT}/alerts/${kind}/${sourceId}`;
export const geofenceEventTopic = (fenceId: string): string => `${TOPIC_ROOT}/events/geofence/${fenceId}`;
export const subscriberAlertsTopic = (subscriberId: string): string => `${TOPIC_ROOT}/subscribers/${subscriberId}/alerts`;
