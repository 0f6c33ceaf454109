// Helpers every decoder shares: JSON parsing, field readers that reject with a field path, time parsing.
// Failure is signalled with NaN (a JSON number is never NaN), so the happy path allocates nothing extra.
import type { Decoded, RejectCode } from '../model.ts';

/** Default cap on fixes in one `positions` message and records in one SenML pack. */
export const DEFAULT_MAX_RECORDS = 1000;

/** Returned by parseJson when the payload is not JSON; a BAD_JSON reject has been pushed. */
export const NOT_JSON: unique symbol = Symbol('NOT_JSON');

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Optional fields may be absent or null (both mean "not given"). */
export function isAbsent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

export function pushReject(out: Decoded, code: RejectCode, field: string | undefined, message: string): void {
  out.rejects.push(field === undefined ? { code, message } : { code, message, field });
}

/** `name` for a top-level field, `[3].name` for a field of the 4th element of an array payload. */
export function fieldPath(index: number, name: string): string {
  return index < 0 ? name : `[${index}].${name}`;
}

/** A short, safe rendering of an offending value for a reject message. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return v.length > 40 ? `the string ${JSON.stringify(v.slice(0, 40))}...` : `the string ${JSON.stringify(v)}`;
    case 'number':
    case 'boolean':
      return String(v);
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

/** Parse the payload as UTF-8 JSON; on failure push BAD_JSON with the parser's reason and return NOT_JSON. */
export function parseJson(payload: Buffer, out: Decoded, expected: string): unknown {
  // RFC 8259 8.1: a parser MAY ignore a byte order mark; some gateways add one.
  const start = payload.length >= 3 && payload[0] === 0xef && payload[1] === 0xbb && payload[2] === 0xbf ? 3 : 0;
  try {
    return JSON.parse(payload.toString('utf8', start));
  } catch (err) {
    pushReject(out, 'BAD_JSON', undefined, `payload is not JSON (expected ${expected}): ${(err as Error).message}`);
    return NOT_JSON;
  }
}

/** A required number field; NaN after a MISSING_FIELD/BAD_TYPE reject. */
export function requiredNumber(obj: JsonObject, key: string, expected: string, index: number, out: Decoded, path?: string): number {
  const v = obj[key];
  if (typeof v === 'number') return v;
  const field = path ?? fieldPath(index, key);
  if (v === undefined || v === null) pushReject(out, 'MISSING_FIELD', field, `missing ${field}: expected ${expected}`);
  else pushReject(out, 'BAD_TYPE', field, `${field} must be ${expected}, got ${describe(v)}`);
  return NaN;
}

/** An optional number field: null when absent or null, NaN after a BAD_TYPE reject. */
export function optionalNumber(obj: JsonObject, key: string, expected: string, index: number, out: Decoded, path?: string): number | null {
  const v = obj[key];
  if (typeof v === 'number') return v;
  if (v === undefined || v === null) return null;
  const field = path ?? fieldPath(index, key);
  pushReject(out, 'BAD_TYPE', field, `${field} must be ${expected}, got ${describe(v)}`);
  return NaN;
}

export const TS_EXPECTED = 'an ISO 8601 time with a zone (e.g. "2024-05-01T07:30:00Z" or "...+07:00") or epoch milliseconds';

/** A required time field (ISO 8601 string or epoch ms, CONTRACT.md) as epoch ms; NaN after a reject. */
export function requiredTs(obj: JsonObject, key: string, index: number, out: Decoded, path?: string): number {
  const v = obj[key];
  const ms = parseTimeMs(v);
  if (!Number.isNaN(ms)) return ms;
  const field = path ?? fieldPath(index, key);
  if (v === undefined || v === null) pushReject(out, 'MISSING_FIELD', field, `missing ${field}: expected ${TS_EXPECTED}`);
  else pushReject(out, 'BAD_TYPE', field, `${field} must be ${TS_EXPECTED}, got ${describe(v)}`);
  return NaN;
}

// ECMA-262 21.4.1.1: a Date holds at most 8.64e15 ms either side of the epoch.
const MAX_DATE_MS = 8.64e15;

/** Epoch ms from epoch ms (number) or an ISO 8601 string; NaN when neither. */
export function parseTimeMs(v: unknown): number {
  if (typeof v === 'number') return v >= -MAX_DATE_MS && v <= MAX_DATE_MS ? v : NaN;
  if (typeof v === 'string') return parseIso8601(v);
  return NaN;
}

function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    // NaN past the end of the string fails this test too
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Strict ISO 8601 / RFC 3339 5.6 date-time: YYYY-MM-DD(T|t| )hh:mm[:ss[.frac]](Z|z|±hh[:]mm|±hh).
 * A zone is required: a local time from a device in WIB would silently be 7 h off.
 * Hand-written because Date.parse accepts 2024-02-30 (as 1 March) and non-ISO formats.
 */
export function parseIso8601(s: string): number {
  const len = s.length;
  if (len < 17 || len > 40) return NaN;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const sep = s.charCodeAt(10);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return NaN;
  if (s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(13) !== 0x3a) return NaN;
  if (sep !== 0x54 && sep !== 0x74 && sep !== 0x20) return NaN;
  if (day > daysInMonth(year, month)) return NaN;
  let i = 16;
  let second = 0;
  let ms = 0;
  if (s.charCodeAt(i) === 0x3a) {
    second = digits(s, i + 1, 2);
    // 60 is a leap second (RFC 3339 5.7); Date.UTC rolls it into the next minute.
    if (second < 0 || second > 60) return NaN;
    i += 3;
    const c = s.charCodeAt(i);
    if (c === 0x2e || c === 0x2c) {
      i++;
      const fracStart = i;
      let scale = 100;
      while (i < len) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        ms += d * scale;
        scale /= 10;
        i++;
      }
      if (i === fracStart) return NaN;
      ms = Math.floor(ms);
    }
  }
  let offsetMin: number;
  const z = s.charCodeAt(i);
  if (z === 0x5a || z === 0x7a) {
    offsetMin = 0;
    i++;
  } else if (z === 0x2b || z === 0x2d) {
    const oh = digits(s, i + 1, 2);
    if (oh < 0 || oh > 23) return NaN;
    i += 3;
    let om = 0;
    if (i < len) {
      if (s.charCodeAt(i) === 0x3a) i++;
      om = digits(s, i, 2);
      if (om < 0 || om > 59) return NaN;
      i += 2;
    }
    offsetMin = (z === 0x2d ? -1 : 1) * (oh * 60 + om);
  } else {
    return NaN;
  }
  if (i !== len) return NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
}
