// pantau/v1/vehicles/{id}/positions: a tracker's buffer after a reconnect, fixes in any order (CONTRACT.md).
// Each bad fix is rejected on its own ([i].field) and the good ones are kept; ordering is a later stage's job.
import { emptyDecoded, type Decoded } from '../model.ts';
import { DEFAULT_MAX_RECORDS, describe, NOT_JSON, parseJson, pushReject } from './common.ts';
import { FIX_EXPECTED, readNativeFix } from './native-fix.ts';

const EXPECTED = `a JSON array of fixes, each ${FIX_EXPECTED}`;

export function decodeNativePositions(deviceId: string, payload: Buffer, maxFixes: number = DEFAULT_MAX_RECORDS): Decoded {
  const out = emptyDecoded();
  const doc = parseJson(payload, out, EXPECTED);
  if (doc === NOT_JSON) return out;
  if (!Array.isArray(doc)) {
    const hint = typeof doc === 'object' && doc !== null ? ' (a single fix goes to .../position)' : '';
    pushReject(out, 'BAD_TYPE', undefined, `payload must be ${EXPECTED}, got ${describe(doc)}${hint}`);
    return out;
  }
  if (doc.length === 0) {
    pushReject(out, 'MISSING_FIELD', '[0]', 'the array is empty: expected at least one fix');
    return out;
  }
  if (doc.length > maxFixes) {
    pushReject(out, 'TOO_LARGE', undefined, `${doc.length} fixes in one message: at most ${maxFixes}; send the buffer in smaller batches`);
    return out;
  }
  for (let i = 0; i < doc.length; i++) readNativeFix(deviceId, doc[i], i, out);
  return out;
}
