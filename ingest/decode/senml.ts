// pantau/v1/sensors/{id}/senml: a SenML JSON pack (RFC 8428), resolved record by record (RFC 8428 4.6)
// into readings. A record's resolved name ends with a metric's senmlName; its unit converts to the metric's.
import { emptyDecoded, METRIC_NAMES, METRICS, type Decoded, type Metric } from '../model.ts';
import { DEFAULT_MAX_RECORDS, describe, isAbsent, isObject, NOT_JSON, parseJson, pushReject, type JsonObject } from './common.ts';

const EXPECTED = 'a SenML pack (RFC 8428): a JSON array of records like {"bn", "bt", "bu", "n", "u", "v", "t"}';
const SENML_VERSION = 10; // RFC 8428 4.1: bver defaults to 10
const RELATIVE_TIME_LIMIT_S = 2 ** 28; // RFC 8428 4.5.3: smaller times are relative to now

// Parallel arrays rather than tuples: the suffix loop below runs for every record.
const SUFFIXES: readonly string[] = METRIC_NAMES.map((m) => METRICS[m].senmlName);
const SUFFIX_METRICS: readonly Metric[] = METRIC_NAMES;
const NAME_LIST = SUFFIXES.join(', ');

/** The metric whose senmlName ends `name` at a separator (so "brain" is not "rain"), or null. */
export function senmlMetric(name: string): Metric | null {
  for (let k = 0; k < SUFFIXES.length; k++) {
    const suffix = SUFFIXES[k]!;
    if (!name.endsWith(suffix)) continue;
    const at = name.length - suffix.length;
    if (at === 0) return SUFFIX_METRICS[k]!;
    // RFC 8428 4.5.1: names use A-Z a-z 0-9 - : . / _; all but letters and digits separate parts.
    const c = name.charCodeAt(at - 1);
    if (c === 0x3a || c === 0x2f || c === 0x2e || c === 0x5f || c === 0x2d) return SUFFIX_METRICS[k]!;
  }
  return null;
}

/** value * factor without binary noise in the result (0.07 m is 7 cm, not 7.000000000000001). */
function scale(value: number, factor: number): number {
  if (factor === 1) return value;
  const scaled = value * factor;
  return Math.abs(scaled) < 1e6 ? Math.round(scaled * 1e9) / 1e9 : scaled;
}

/** The base fields in force (RFC 8428 4.1): each applies to its record and every later one until set again. */
interface Base {
  bn: string;
  bt: number;
  bu: string | null;
  bv: number;
}

function badBase(out: Decoded, i: number, key: string, expected: string, v: unknown): false {
  // Later records resolve against the base fields; with one unreadable they cannot be resolved safely.
  pushReject(out, 'BAD_TYPE', `[${i}].${key}`, `[${i}].${key} must be ${expected}, got ${describe(v)}; records from [${i}] on were not read`);
  return false;
}

/** Apply the record's base fields to `base`; false (after a reject) when the rest of the pack cannot be read. */
function readBase(rec: JsonObject, i: number, base: Base, out: Decoded): boolean {
  const bver = rec.bver;
  if (!isAbsent(bver)) {
    if (typeof bver !== 'number') return badBase(out, i, 'bver', 'a number', bver);
    if (bver > SENML_VERSION) {
      // RFC 8428 4.4: a pack of a newer version than the reader understands is not used.
      pushReject(out, 'OUT_OF_RANGE', `[${i}].bver`, `[${i}].bver ${bver} is newer than SenML version ${SENML_VERSION} (RFC 8428) that Pantau reads`);
      return false;
    }
  }
  const bn = rec.bn;
  if (!isAbsent(bn)) {
    if (typeof bn !== 'string') return badBase(out, i, 'bn', 'a string', bn);
    base.bn = bn;
  }
  const bt = rec.bt;
  if (!isAbsent(bt)) {
    if (typeof bt !== 'number') return badBase(out, i, 'bt', 'a number, seconds', bt);
    base.bt = bt;
  }
  const bu = rec.bu;
  if (!isAbsent(bu)) {
    if (typeof bu !== 'string') return badBase(out, i, 'bu', 'a string, a SenML unit', bu);
    base.bu = bu;
  }
  const bv = rec.bv;
  if (!isAbsent(bv)) {
    if (typeof bv !== 'number') return badBase(out, i, 'bv', 'a number', bv);
    base.bv = bv;
  }
  return true;
}

function hasMustUnderstand(rec: JsonObject): string | null {
  for (const key in rec) if (key.charCodeAt(key.length - 1) === 0x5f) return key;
  return null;
}

/**
 * Decode a SenML pack. `nowMs` resolves relative times (RFC 8428 4.5.3); `maxRecords` caps the pack (TOO_LARGE).
 * Records that are not metrics (e.g. RFC 8428 5.1.2's voltage) are rejected as UNKNOWN_METRIC, one each.
 */
export function decodeSenml(deviceId: string, payload: Buffer, nowMs: number, maxRecords: number = DEFAULT_MAX_RECORDS): Decoded {
  const out = emptyDecoded();
  const pack = parseJson(payload, out, EXPECTED);
  if (pack === NOT_JSON) return out;
  // RFC 8428 5: the JSON root is an array of records.
  if (!Array.isArray(pack)) {
    pushReject(out, 'BAD_TYPE', undefined, `payload must be ${EXPECTED}, got ${describe(pack)}`);
    return out;
  }
  if (pack.length === 0) {
    pushReject(out, 'MISSING_FIELD', '[0]', 'the pack is empty: expected at least one record');
    return out;
  }
  if (pack.length > maxRecords) {
    pushReject(out, 'TOO_LARGE', undefined, `${pack.length} records in one pack: at most ${maxRecords}; send smaller packs`);
    return out;
  }

  const base: Base = { bn: '', bt: 0, bu: null, bv: 0 };
  for (let i = 0; i < pack.length; i++) {
    const rec: unknown = pack[i];
    if (!isObject(rec)) {
      pushReject(out, 'BAD_TYPE', `[${i}]`, `[${i}] must be a SenML record object, got ${describe(rec)}`);
      continue;
    }
    if (!readBase(rec, i, base, out)) return out;

    // RFC 8428 4.4: a field whose label ends with '_' must be understood, or the record not used.
    const mustUnderstand = hasMustUnderstand(rec);
    if (mustUnderstand !== null) {
      pushReject(out, 'BAD_TYPE', `[${i}].${mustUnderstand}`, `[${i}].${mustUnderstand} is a must-understand field (RFC 8428 4.4) that Pantau does not know: expected no field ending in "_"`);
      continue;
    }

    const n = rec.n;
    if (!isAbsent(n) && typeof n !== 'string') {
      pushReject(out, 'BAD_TYPE', `[${i}].n`, `[${i}].n must be a string, got ${describe(n)}`);
      continue;
    }
    const name = isAbsent(n) ? base.bn : base.bn + n;
    if (name.length === 0) {
      pushReject(out, 'MISSING_FIELD', `[${i}].n`, `[${i}] has no name: expected bn and/or n ending in one of ${NAME_LIST}`);
      continue;
    }
    const metric = senmlMetric(name);
    if (metric === null) {
      pushReject(out, 'UNKNOWN_METRIC', `[${i}].n`, `[${i}] resolves to ${JSON.stringify(name)}, not a metric: expected a name ending in one of ${NAME_LIST}`);
      continue;
    }

    const v = rec.v;
    if (typeof v !== 'number') {
      const other = !isAbsent(rec.vs) ? 'vs' : !isAbsent(rec.vb) ? 'vb' : !isAbsent(rec.vd) ? 'vd' : null;
      if (v !== undefined && v !== null) {
        pushReject(out, 'BAD_TYPE', `[${i}].v`, `[${i}].v must be a number for ${metric}, got ${describe(v)}`);
      } else if (other !== null) {
        pushReject(out, 'BAD_TYPE', `[${i}].${other}`, `[${i}] ${name} carries ${other}: expected a numeric v for ${metric}`);
      } else {
        pushReject(out, 'MISSING_FIELD', `[${i}].v`, `[${i}] ${name} has no value: expected a numeric v for ${metric}`);
      }
      continue;
    }

    const u = rec.u;
    if (!isAbsent(u) && typeof u !== 'string') {
      pushReject(out, 'BAD_TYPE', `[${i}].u`, `[${i}].u must be a string, a SenML unit, got ${describe(u)}`);
      continue;
    }
    const unit = isAbsent(u) ? base.bu : u; // RFC 8428 4.5.2: the base unit applies when the record has none
    const units: Readonly<Record<string, number>> = METRICS[metric].senmlUnits;
    if (unit === null) {
      pushReject(out, 'MISSING_FIELD', `[${i}].u`, `[${i}] ${name} has no unit (u or bu): expected one of ${Object.keys(units).join(', ')}`);
      continue;
    }
    if (!Object.hasOwn(units, unit)) {
      pushReject(out, 'BAD_UNIT', isAbsent(u) ? `[${i}].bu` : `[${i}].u`, `unit ${JSON.stringify(unit)} for ${metric}: expected one of ${Object.keys(units).join(', ')}`);
      continue;
    }

    const t = rec.t;
    if (!isAbsent(t) && typeof t !== 'number') {
      pushReject(out, 'BAD_TYPE', `[${i}].t`, `[${i}].t must be a number, seconds, got ${describe(t)}`);
      continue;
    }
    // RFC 8428 4.5.3: time is bt + t in seconds; below 2^28 it is relative to now (0 = now, negative = past).
    const timeS = isAbsent(t) ? base.bt : base.bt + t;
    const ts = Math.round(timeS < RELATIVE_TIME_LIMIT_S ? nowMs + timeS * 1000 : timeS * 1000);

    // RFC 8428 4.5.4: the resolved value is bv + v.
    out.readings.push({ deviceId, ts, metric, value: scale(base.bv + v, units[unit]!), lat: null, lon: null });
  }
  return out;
}
