import type { Config } from '../config.ts';
import {
  compileTemplate,
  eventRules,
  type Check,
  type EventRules,
  type FieldRule,
  type ReasonCode,
  type ReasonRule,
} from './rules.ts';
import type { VehicleEvent } from './vehicle-event.ts';

export { reasonCodes, type ReasonCode } from './rules.ts';

export interface Rejection {
  readonly reason: ReasonCode;
  readonly field: string | null;
  readonly detail: string;
}

export type Validation = { readonly ok: true; readonly event: VehicleEvent } | ({ readonly ok: false } & Rejection);

/** The settings the rules read: the lists that `oneOf` names. */
export type RuleSettings = Pick<Config, 'vehicleTypes'>;

export interface Validator {
  /** Decodes a record value as UTF-8 (strictly) and applies the rules. */
  validateBytes(raw: Uint8Array | null): Validation;
  /** Parses one raw record value and applies the rules. */
  validateRaw(raw: string | null): Validation;
  validateObject(parsed: unknown): Validation;
}

// fatal: bytes that are not UTF-8 are rejected, never replaced; ignoreBOM: a BOM stays in the text
// (and so is not JSON), as the value was sent.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// The field checks as a program: one operation per (check, field) in the rules' order, run by one
// loop over parallel arrays, so that checking a value calls no closure and looks nothing up.
const PRESENT = 0;
const STRING = 1;
const NUMBER = 2;
const INTEGER = 3;
const ONE_OF = 4;
const RANGE = 5;

interface Operation {
  readonly op: number;
  /** The field's index in the rules. */
  readonly field: number;
  /** ONE_OF: the names the value must be one of. */
  readonly known?: ReadonlySet<string>;
  /** RANGE: minimum, exclusive minimum, maximum, exclusive maximum (±Infinity where there is none). */
  readonly bounds?: readonly [number, number, number, number];
  /** The rejection, given the value at fault. */
  readonly fail: (value: unknown) => Validation;
  /** STRING: the rejection of a string that is not well-formed Unicode. */
  readonly failText?: (value: unknown) => Validation;
}

/**
 * The rules compiled once for the settings' lists: silver calls the result for every record, so
 * nothing of the rule data is looked up per value.
 */
export function eventValidator(settings: RuleSettings, rules: EventRules = eventRules): Validator {
  checkOrder(rules);
  const reason = (check: Check): ReasonRule => rules.reasons.find((r) => r.check === check)!;
  const json = reason('json');
  const noValue = rejection(json, 'noValue', null, []);
  const notUtf8 = rejection(json, 'notUtf8', null, []);
  const notJson = rejection(json, 'notJson', null, ['error']);
  const notAnObject = rejection(reason('object'), 'notAnObject', null, ['got']);
  const names = rules.fields.map((f) => f.name);
  const program = rules.reasons.flatMap((r) =>
    rules.fields.flatMap((f, i) => operation(r, f, i, rules, settings) ?? []),
  );
  const ops = Uint8Array.from(program, (o) => o.op);
  const fieldOf = Uint8Array.from(program, (o) => o.field);
  const known = program.map((o) => o.known);
  const bounds = new Float64Array(program.flatMap((o) => o.bounds ?? [0, 0, 0, 0]));
  const values = new Array<unknown>(names.length);

  const validateObject = (parsed: unknown): Validation => {
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return notAnObject({ got: describe(parsed) });
    }
    const record = parsed as Record<string, unknown>;
    for (let i = 0; i < names.length; i++) values[i] = record[names[i]];
    for (let s = 0; s < ops.length; s++) {
      const value = values[fieldOf[s]];
      let passes: boolean;
      switch (ops[s]) {
        case PRESENT:
          passes = value !== undefined && value !== null && value !== '';
          break;
        case STRING:
          if (typeof value !== 'string') passes = false;
          else if (!(value as WellFormed).isWellFormed()) return program[s].failText!(value);
          else passes = true;
          break;
        case NUMBER:
          passes = isNumber(value);
          break;
        case INTEGER:
          passes = isNumber(value) && Number.isInteger(value);
          break;
        case ONE_OF:
          passes = known[s]!.has(value as string);
          break;
        default: {
          const b = s * 4;
          const n = value as number;
          passes = n >= bounds[b] && n > bounds[b + 1] && n <= bounds[b + 2] && n < bounds[b + 3];
        }
      }
      if (!passes) return program[s].fail(value);
    }
    // The record is the event: its other members, if any, are not read.
    return { ok: true, event: record as unknown as VehicleEvent };
  };
  const validateRaw = (raw: string | null): Validation => {
    if (raw === null) return noValue({});
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      return notJson({ error: (error as Error).message });
    }
    return validateObject(parsed);
  };
  const validateBytes = (raw: Uint8Array | null): Validation => {
    if (raw === null) return noValue({});
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return notUtf8({});
    }
    return validateRaw(text);
  };
  return { validateBytes, validateRaw, validateObject };
}

/** The interpreters parse before they check fields and leave `unique` to silver's de-duplication. */
function checkOrder(rules: EventRules): void {
  const order = rules.reasons.map((r) => r.check).join(' ');
  if (!/^json object present type (oneOf range|range oneOf) unique$/.test(order)) {
    throw new Error(
      `the rules' checks run in the order ${order}; these rules apply json, object, present, type, then oneOf and range in either order, unique last`,
    );
  }
}

/** A rejection with a reason's code and the detail of one of its outcomes, filled in when it happens. */
function rejection(
  reason: ReasonRule,
  outcome: string,
  field: string | null,
  names: readonly string[],
  template?: string,
) {
  const text = template ?? reason.details[outcome];
  if (text === undefined) throw new Error(`the rules give ${reason.code} no detail "${outcome}"`);
  const detail = compileTemplate(text, names);
  const code = reason.code as ReasonCode;
  return (values: Record<string, string>): Validation => ({ ok: false, reason: code, field, detail: detail(values) });
}

function operation(
  reason: ReasonRule,
  field: FieldRule,
  i: number,
  rules: EventRules,
  settings: RuleSettings,
): Operation | undefined {
  const name = field.name;
  switch (reason.check) {
    case 'present': {
      const missing = rejection(reason, 'missing', name, ['field']);
      return { op: PRESENT, field: i, fail: () => missing({ field: name }) };
    }
    case 'type': {
      if (!['string', 'number', 'integer'].includes(field.type) || !rules.types[field.type]) {
        throw new Error(`the rules give ${name} the type ${field.type}, which these rules do not know`);
      }
      const expected = field.expected ?? rules.types[field.type].expected;
      const wrong = rejection(reason, 'wrongType', name, ['field', 'expected', 'got']);
      const fail = (value: unknown) => wrong({ field: name, expected, got: describe(value) });
      if (field.type === 'string') {
        const notUnicode = rejection(reason, 'notUnicode', name, ['field', 'got']);
        return { op: STRING, field: i, fail, failText: (value) => notUnicode({ field: name, got: describe(value) }) };
      }
      if (field.type === 'number') return { op: NUMBER, field: i, fail };
      return { op: INTEGER, field: i, fail };
    }
    case 'oneOf': {
      if (field.oneOf === undefined) return undefined;
      const list = settings[field.oneOf];
      const allowed = list.join(', ');
      const unknown = rejection(reason, 'notOneOf', name, ['field', 'value', 'allowed']);
      return {
        op: ONE_OF,
        field: i,
        known: new Set(list),
        fail: (value) => unknown({ field: name, value: String(value), allowed }),
      };
    }
    case 'range': {
      const range = field.range;
      if (range === undefined) return undefined;
      const names = ['field', 'value', 'minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum'];
      const outside = rejection(reason, 'outside', name, names, range.detail);
      const texts = {
        minimum: String(range.minimum),
        exclusiveMinimum: String(range.exclusiveMinimum),
        maximum: String(range.maximum),
        exclusiveMaximum: String(range.exclusiveMaximum),
      };
      return {
        op: RANGE,
        field: i,
        bounds: [
          range.minimum ?? -Infinity,
          range.exclusiveMinimum ?? -Infinity,
          range.maximum ?? Infinity,
          range.exclusiveMaximum ?? Infinity,
        ],
        fail: (value) => outside({ ...texts, field: name, value: String(value) }),
      };
    }
    default:
      return undefined;
  }
}

// String.prototype.isWellFormed (ES2024, Node 20+): false when a string holds a lone surrogate.
type WellFormed = string & { isWellFormed(): boolean };

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
