// pantau/v1/vehicles/{id}/position: one fix (CONTRACT.md).
import { emptyDecoded, type Decoded } from '../model.ts';
import { NOT_JSON, parseJson } from './common.ts';
import { FIX_EXPECTED, readNativeFix } from './native-fix.ts';

export function decodeNativePosition(deviceId: string, payload: Buffer): Decoded {
  const out = emptyDecoded();
  const doc = parseJson(payload, out, FIX_EXPECTED);
  if (doc !== NOT_JSON) readNativeFix(deviceId, doc, -1, out);
  return out;
}
