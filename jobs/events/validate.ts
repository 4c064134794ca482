import { isVehicleType, type VehicleEvent } from './vehicle-event.ts';

export type ReasonCode =
  | 'malformed_json'
  | 'not_an_object'
  | 'missing_field'
  | 'wrong_type'
  | 'unknown_type'
  | 'out_of_range'
  | 'duplicate';

export const reasonCodes: readonly ReasonCode[] = [
  'malformed_json',
  'not_an_object',
  'missing_field',
  'wrong_type',
  'unknown_type',
  'out_of_range',
  'duplicate',
];

export interface Rejection {
  readonly reason: ReasonCode;
  readonly field: string | null;
  readonly detail: string;
}

export type Validation = { readonly ok: true; readonly event: VehicleEvent } | ({ readonly ok: false } & Rejection);

const fields = ['vehicleId', 'type', 'latitude', 'longitude', 'battery', 'timestamp'] as const;

const reject = (reason: ReasonCode, field: string | null, detail: string): Validation => ({
  ok: false,
  reason,
  field,
  detail,
});

// fatal: bytes that are not UTF-8 are rejected, never replaced; ignoreBOM: a BOM stays in the text
// (and so is not JSON), as the value was sent.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes a record value as UTF-8 (strictly) and applies the silver rules. */
export function validateBytes(raw: Uint8Array | null): Validation {
  if (raw === null) return validateRaw(null);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return reject('malformed_json', null, 'the value is not valid UTF-8');
  }
  return validateRaw(text);
}

/** Parses one raw record value and applies the silver rules, in the documented order. */
export function validateRaw(raw: string | null): Validation {
  if (raw === null) return reject('malformed_json', null, 'the record has no value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    return reject('malformed_json', null, `not JSON: ${(error as Error).message}`);
  }
  return validateObject(parsed);
}

export function validateObject(parsed: unknown): Validation {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject('not_an_object', null, `expected a JSON object, got ${describe(parsed)}`);
  }
  const record = parsed as Record<string, unknown>;
  for (const field of fields) {
    if (record[field] === undefined || record[field] === null || record[field] === '') {
      return reject('missing_field', field, `${field} is missing`);
    }
  }
  const { vehicleId, type, latitude, longitude, battery, timestamp } = record;
  if (typeof vehicleId !== 'string')
    return reject('wrong_type', 'vehicleId', `vehicleId must be a string, got ${describe(vehicleId)}`);
  if (typeof type !== 'string') return reject('wrong_type', 'type', `type must be a string, got ${describe(type)}`);
  if (!isNumber(latitude))
    return reject('wrong_type', 'latitude', `latitude must be a number, got ${describe(latitude)}`);
  if (!isNumber(longitude))
    return reject('wrong_type', 'longitude', `longitude must be a number, got ${describe(longitude)}`);
  if (!isNumber(battery) || !Number.isInteger(battery))
    return reject('wrong_type', 'battery', `battery must be an integer, got ${describe(battery)}`);
  if (!isNumber(timestamp) || !Number.isInteger(timestamp))
    return reject('wrong_type', 'timestamp', `timestamp must be an integer (epoch ms), got ${describe(timestamp)}`);
  if (!isVehicleType(type)) return reject('unknown_type', 'type', `type "${type}" is not one of car, bike, scooter`);
  if (!(latitude >= -90 && latitude <= 90))
    return reject('out_of_range', 'latitude', `latitude ${latitude} is outside -90..90`);
  if (!(longitude >= -180 && longitude <= 180))
    return reject('out_of_range', 'longitude', `longitude ${longitude} is outside -180..180`);
  if (!(battery >= 0 && battery <= 100))
    return reject('out_of_range', 'battery', `battery ${battery} is outside 0..100`);
  if (!(timestamp > 0 && timestamp <= Number.MAX_SAFE_INTEGER))
    return reject('out_of_range', 'timestamp', `timestamp ${timestamp} is not a positive epoch-ms value`);
  return { ok: true, event: { vehicleId, type, latitude, longitude, battery, timestamp } };
}

// NaN and ±Infinity are numbers to JavaScript but never valid coordinates or levels.
function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number') return String(value);
  return typeof value;
}
