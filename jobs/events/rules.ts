/**
 * Silver's rules as data, written once: the event's fields with their types, ranges and allowed
 * values, the reason codes in the order they are checked, and each failure's detail. The Node
 * engine (validate.ts) and the Spark engine (lakehouse_rules.py, through the contract JSON) both
 * interpret this; neither writes a field, type, range or reason code of its own.
 *
 * Details are templates: `{name}` is replaced by a value the check supplies (`field`, `value`, `got`
 * (the value described), `expected`, `allowed`, the range's bounds, `error`, `partition`, `offset`).
 */

/** A JSON string of well-formed Unicode, a finite JSON number, or one without a fraction. */
export type FieldType = 'string' | 'number' | 'integer';

/** What a reason code stands for; the interpreters run them in the order of `reasons`. */
export type Check =
  | 'json' // the value is UTF-8 text that parses as JSON
  | 'object' // that JSON is an object
  | 'present' // each field is there, not null, not ""
  | 'type' // each field has its type
  | 'oneOf' // a field with a list is one of the list's names (a setting)
  | 'range' // a field with a range lies within it
  | 'unique'; // no earlier event has the same vehicle and time (silver's de-duplication)

/** Bounds in JSON Schema's words; `detail` replaces the reason's `outside` template. */
export interface Range {
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
  readonly exclusiveMaximum?: number;
  readonly detail?: string;
}

export interface FieldRule {
  readonly name: string;
  readonly type: FieldType;
  /** Replaces the type's `expected` text in this field's wrong_type detail. */
  readonly expected?: string;
  /** The setting (its key) whose list of names the value must be one of. */
  readonly oneOf?: 'vehicleTypes';
  readonly range?: Range;
}

export interface ReasonRule {
  readonly code: string;
  readonly check: Check;
  /** The detail of each way the check can fail. */
  readonly details: Readonly<Record<string, string>>;
}

export interface EventRules {
  /** The reason codes in the order they are checked, first failure wins; fields are the inner loop. */
  readonly reasons: readonly ReasonRule[];
  /** The event's fields, in the order they are checked. */
  readonly fields: readonly FieldRule[];
  readonly types: { readonly [T in FieldType]: { readonly expected: string } };
}

export const eventRules = {
  reasons: [
    {
      code: 'malformed_json',
      check: 'json',
      details: {
        noValue: 'the record has no value',
        notUtf8: 'the value is not valid UTF-8',
        notJson: 'not JSON: {error}',
      },
    },
    { code: 'not_an_object', check: 'object', details: { notAnObject: 'expected a JSON object, got {got}' } },
    { code: 'missing_field', check: 'present', details: { missing: '{field} is missing' } },
    {
      code: 'wrong_type',
      check: 'type',
      details: {
        wrongType: '{field} must be {expected}, got {got}',
        // A lone surrogate (a JSON escape such as \ud800) has no UTF-8 form: stored in Parquet it
        // would become U+FFFD, and two different ids one.
        notUnicode: '{field} must be well-formed Unicode text, got {got}, which holds a lone surrogate',
      },
    },
    { code: 'unknown_type', check: 'oneOf', details: { notOneOf: '{field} "{value}" is not one of {allowed}' } },
    { code: 'out_of_range', check: 'range', details: { outside: '{field} {value} is outside {minimum}..{maximum}' } },
    {
      code: 'duplicate',
      check: 'unique',
      details: { duplicate: 'same vehicleId and timestamp as partition {partition} offset {offset}' },
    },
  ],
  fields: [
    { name: 'vehicleId', type: 'string' },
    { name: 'type', type: 'string', oneOf: 'vehicleTypes' },
    { name: 'latitude', type: 'number', range: { minimum: -90, maximum: 90 } },
    { name: 'longitude', type: 'number', range: { minimum: -180, maximum: 180 } },
    { name: 'battery', type: 'integer', range: { minimum: 0, maximum: 100 } },
    {
      name: 'timestamp',
      type: 'integer',
      expected: 'an integer (epoch ms)',
      range: {
        exclusiveMinimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        detail: '{field} {value} is not a positive epoch-ms value',
      },
    },
  ],
  types: {
    string: { expected: 'a string' },
    number: { expected: 'a number' },
    integer: { expected: 'an integer' },
  },
} as const satisfies EventRules;

export type ReasonCode = (typeof eventRules.reasons)[number]['code'];
export type FieldName = (typeof eventRules.fields)[number]['name'];

/** The reason codes, in the order they are checked. */
export const reasonCodes: readonly ReasonCode[] = eventRules.reasons.map((r) => r.code);

/** A field's range as the docs write it: `-90..90`. */
export function rangeText(name: FieldName): string {
  const field: FieldRule | undefined = eventRules.fields.find((f) => f.name === name);
  const range = field?.range;
  if (!range) throw new Error(`the rules give ${name} no range`);
  return `${range.minimum ?? range.exclusiveMinimum}..${range.maximum ?? range.exclusiveMaximum}`;
}

/** Replaces each `{name}` of a template once (a value that holds braces is left as it is). */
export function compileTemplate(
  template: string,
  allowed: readonly string[],
): (values: Record<string, string>) => string {
  const parts = template.split(/\{(\w+)\}/);
  for (let i = 1; i < parts.length; i += 2) {
    if (!allowed.includes(parts[i])) throw new Error(`rule detail "${template}": unknown {${parts[i]}}`);
  }
  return (values) => {
    let text = parts[0];
    for (let i = 1; i < parts.length; i += 2) text += values[parts[i]] + parts[i + 1];
    return text;
  };
}

/** The detail template of a reason's outcome. */
export function detailOf(code: ReasonCode, outcome: string): string {
  const details: Readonly<Record<string, string>> = eventRules.reasons.find((r) => r.code === code)!.details;
  const template = details[outcome];
  if (template === undefined) throw new Error(`the rules give ${code} no detail "${outcome}"`);
  return template;
}
