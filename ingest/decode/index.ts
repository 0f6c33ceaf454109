// Topic kind -> decoder. Traccar and Teltonika decoders exist but no contract topic carries them yet.
import { emptyDecoded, type Decoded } from '../model.ts';
import type { TopicKind } from '../topics.ts';
import { DEFAULT_MAX_RECORDS } from './common.ts';
import { decodeNativePosition } from './native-position.ts';
import { decodeNativePositions } from './native-positions.ts';
import { decodeNativeReading } from './native-reading.ts';
import { decodeNativeStatus } from './native-status.ts';
import { decodeOwnTracks } from './owntracks.ts';
import { decodeSenml } from './senml.ts';

export { DEFAULT_MAX_RECORDS, parseTimeMs } from './common.ts';
export { decodeNativePosition } from './native-position.ts';
export { decodeNativePositions } from './native-positions.ts';
export { decodeNativeReading } from './native-reading.ts';
export { decodeNativeStatus } from './native-status.ts';
export { decodeOwnTracks } from './owntracks.ts';
export { decodeSenml } from './senml.ts';
export { decodeTeltonika } from './teltonika.ts';
export { decodeTraccar } from './traccar.ts';

export interface DecodeLimits {
  /** most fixes in one `positions` message (TOO_LARGE above) */
  maxFixesPerMessage: number;
  /** most records in one SenML pack (TOO_LARGE above) */
  maxSenmlRecords: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxFixesPerMessage: DEFAULT_MAX_RECORDS,
  maxSenmlRecords: DEFAULT_MAX_RECORDS,
});

/**
 * Decode one payload published on a topic of `kind` (from parseTopic). `deviceId` is the provisioned device:
 * for OwnTracks the vehicle whose `owntracks` key matched the topic. Never throws.
 */
export function decodeMessage(
  kind: TopicKind,
  deviceId: string,
  payload: Buffer,
  nowMs: number,
  limits: Readonly<DecodeLimits> = DEFAULT_DECODE_LIMITS,
): Decoded {
  try {
    switch (kind) {
      case 'position':
        return decodeNativePosition(deviceId, payload);
      case 'positions':
        return decodeNativePositions(deviceId, payload, limits.maxFixesPerMessage);
      case 'status':
        return decodeNativeStatus(deviceId, payload);
      case 'reading':
        return decodeNativeReading(deviceId, payload);
      case 'senml':
        return decodeSenml(deviceId, payload, nowMs, limits.maxSenmlRecords);
      case 'owntracks':
        return decodeOwnTracks(deviceId, payload);
      case 'rejects':
      case 'device_inbox':
        return rejected('UNKNOWN_TOPIC', 'pantau/v1/devices/{id}/... is where the engine publishes to devices: expected data under pantau/v1/vehicles/{id}/... or pantau/v1/sensors/{id}/...');
      default:
        return rejected('UNKNOWN_TOPIC', `no decoder for topic kind ${JSON.stringify(kind satisfies never)}`);
    }
  } catch (err) {
    // A decoder bug must cost one message, not the broker (CONTRACT.md: a bad payload never crashes anything).
    return rejected('BAD_TYPE', `payload could not be decoded (engine error: ${(err as Error).message})`);
  }
}

function rejected(code: 'UNKNOWN_TOPIC' | 'BAD_TYPE', message: string): Decoded {
  const out = emptyDecoded();
  out.rejects.push({ code, message });
  return out;
}
