// pantau/v1/vehicles/{id}/status: {ts, status} from the crew's terminal (CONTRACT.md).
import { CREW_STATUSES, emptyDecoded, type CrewStatus, type Decoded } from '../model.ts';
import { describe, isObject, NOT_JSON, parseJson, pushReject, requiredTs } from './common.ts';

const STATUS_LIST = CREW_STATUSES.join(', ');
const EXPECTED = `a status object {"ts", "status": ${CREW_STATUSES.map((s) => `"${s}"`).join(' | ')}}`;

function isCrewStatus(s: string): s is CrewStatus {
  return (CREW_STATUSES as readonly string[]).includes(s);
}

export function decodeNativeStatus(deviceId: string, payload: Buffer): Decoded {
  const out = emptyDecoded();
  const doc = parseJson(payload, out, EXPECTED);
  if (doc === NOT_JSON) return out;
  if (!isObject(doc)) {
    pushReject(out, 'BAD_TYPE', undefined, `payload must be ${EXPECTED}, got ${describe(doc)}`);
    return out;
  }
  const ts = requiredTs(doc, 'ts', -1, out);
  if (Number.isNaN(ts)) return out;
  const status = doc.status;
  if (status === undefined || status === null) {
    pushReject(out, 'MISSING_FIELD', 'status', `missing status: expected one of ${STATUS_LIST}`);
  } else if (typeof status !== 'string') {
    pushReject(out, 'BAD_TYPE', 'status', `status must be a string, one of ${STATUS_LIST}; got ${describe(status)}`);
  } else if (!isCrewStatus(status)) {
    pushReject(out, 'OUT_OF_RANGE', 'status', `status must be one of ${STATUS_LIST}; got ${describe(status)}`);
  } else {
    out.statuses.push({ deviceId, ts, status });
  }
  return out;
}
