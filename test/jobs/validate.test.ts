import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, parseArgs } from '../../jobs/config.ts';
import { eventRules, type EventRules } from '../../jobs/events/rules.ts';
import { eventValidator } from '../../jobs/events/validate.ts';

const { validateBytes, validateRaw, validateObject } = eventValidator(loadConfig(new Map(), {}));

const good = {
  vehicleId: 'CAR_000',
  type: 'car',
  latitude: 48.8566,
  longitude: 2.3522,
  battery: 75,
  timestamp: 1697203200000,
};
const raw = (overrides: Record<string, unknown>) => JSON.stringify({ ...good, ...overrides });
const rejection = (value: string | null) => {
  const result = validateRaw(value);
  if (result.ok) throw new Error(`expected ${value} to be rejected`);
  return { reason: result.reason, field: result.field };
};

test('the sample event of the replaced system is valid', () => {
  const result = validateRaw(JSON.stringify(good));
  assert.ok(result.ok);
  if (result.ok) assert.equal(result.event, good);
});

test('boundary values are valid', () => {
  for (const overrides of [
    { battery: 0 },
    { battery: 100 },
    { latitude: -90 },
    { latitude: 90 },
    { longitude: -180 },
    { longitude: 180 },
  ]) {
    assert.ok(validateRaw(raw(overrides)).ok, JSON.stringify(overrides));
  }
});

test('malformed JSON, null values and non-objects', () => {
  assert.equal(rejection('{"vehicleId":"CAR_0'), { reason: 'malformed_json', field: null });
  assert.equal(rejection(raw({}).replace('48.8566', 'NaN')), { reason: 'malformed_json', field: null });
  assert.equal(rejection(null), { reason: 'malformed_json', field: null });
  assert.equal(rejection('[1,2]'), { reason: 'not_an_object', field: null });
  assert.equal(rejection('"text"'), { reason: 'not_an_object', field: null });
  assert.equal(rejection('null'), { reason: 'not_an_object', field: null });
});

test('missing fields are named, in field order', () => {
  for (const field of Object.keys(good)) {
    const { [field]: _removed, ...rest } = good as Record<string, unknown>;
    assert.equal(rejection(JSON.stringify(rest)), { reason: 'missing_field', field });
    assert.equal(rejection(raw({ [field]: null })), { reason: 'missing_field', field });
  }
  assert.equal(rejection(raw({ vehicleId: '' })), { reason: 'missing_field', field: 'vehicleId' });
  assert.equal(rejection(JSON.stringify({ type: 'car' })), { reason: 'missing_field', field: 'vehicleId' });
});

test('wrong types: strings for numbers, fractions for integers, non-finite numbers', () => {
  assert.equal(rejection(raw({ battery: '75' })), { reason: 'wrong_type', field: 'battery' });
  assert.equal(rejection(raw({ battery: 75.5 })), { reason: 'wrong_type', field: 'battery' });
  assert.equal(rejection(raw({ latitude: '48.85' })), { reason: 'wrong_type', field: 'latitude' });
  assert.equal(rejection(raw({ longitude: true })), { reason: 'wrong_type', field: 'longitude' });
  assert.equal(rejection(raw({ timestamp: '2023-10-13' })), { reason: 'wrong_type', field: 'timestamp' });
  assert.equal(rejection(raw({ timestamp: 1.5 })), { reason: 'wrong_type', field: 'timestamp' });
  assert.equal(rejection(raw({ vehicleId: 42 })), { reason: 'wrong_type', field: 'vehicleId' });
  assert.equal(rejection(raw({ type: ['car'] })), { reason: 'wrong_type', field: 'type' });
  // JSON cannot carry NaN, but 1e999 parses to Infinity.
  assert.equal(rejection(raw({}).replace('48.8566', '1e999')), { reason: 'wrong_type', field: 'latitude' });
  assert.equal(validateObject({ ...good, latitude: NaN }).ok, false);
  assert.equal(validateObject({ ...good, longitude: -Infinity }).ok, false);
  assert.equal(validateObject({ ...good, battery: NaN }).ok, false);
});

test('unknown vehicle types', () => {
  assert.equal(rejection(raw({ type: 'truck' })), { reason: 'unknown_type', field: 'type' });
  assert.equal(rejection(raw({ type: 'Car' })), { reason: 'unknown_type', field: 'type' });
});

test('out-of-range values', () => {
  assert.equal(rejection(raw({ battery: 101 })), { reason: 'out_of_range', field: 'battery' });
  assert.equal(rejection(raw({ battery: -1 })), { reason: 'out_of_range', field: 'battery' });
  assert.equal(rejection(raw({ latitude: 90.000001 })), { reason: 'out_of_range', field: 'latitude' });
  assert.equal(rejection(raw({ longitude: -180.5 })), { reason: 'out_of_range', field: 'longitude' });
  assert.equal(rejection(raw({ timestamp: 0 })), { reason: 'out_of_range', field: 'timestamp' });
});

test('the reason order is the outer loop: a missing field wins over an earlier wrong type', () => {
  assert.equal(rejection(raw({ vehicleId: 42, timestamp: null })), { reason: 'missing_field', field: 'timestamp' });
  assert.equal(rejection(raw({ type: 'truck', battery: 'x' })), { reason: 'wrong_type', field: 'battery' });
  assert.equal(rejection(raw({ type: 'truck', battery: 500 })), { reason: 'unknown_type', field: 'type' });
});

test('the detail names the field and the value', () => {
  const result = validateRaw(raw({ battery: 150 }));
  assert.ok(!result.ok && /battery 150 is outside 0\.\.100/.test(result.detail));
});

test('the details are the contract: the rejected table and verify keep these messages byte for byte', () => {
  const detail = (value: string | null) => {
    const result = validateRaw(value);
    return result.ok ? 'valid' : `${result.reason} ${result.field} ${result.detail}`;
  };
  assert.equal(
    [
      null,
      '[1,2]',
      raw({ vehicleId: undefined }),
      raw({ vehicleId: 7 }),
      raw({ type: 3 }),
      raw({ latitude: '48.8' }),
      raw({ longitude: false }),
      raw({ battery: 75.5 }),
      raw({ timestamp: 1.5 }),
      raw({ battery: 'x'.repeat(41) }),
      raw({ type: 'truck' }),
      raw({ latitude: 95.5 }),
      raw({ longitude: -200.25 }),
      raw({ battery: 150 }),
      raw({ timestamp: 0 }),
      raw({ timestamp: 2 ** 53 }),
    ].map(detail),
    [
      'malformed_json null the record has no value',
      'not_an_object null expected a JSON object, got an array',
      'missing_field vehicleId vehicleId is missing',
      'wrong_type vehicleId vehicleId must be a string, got 7',
      'wrong_type type type must be a string, got 3',
      'wrong_type latitude latitude must be a number, got the string "48.8"',
      'wrong_type longitude longitude must be a number, got boolean',
      'wrong_type battery battery must be an integer, got 75.5',
      'wrong_type timestamp timestamp must be an integer (epoch ms), got 1.5',
      `wrong_type battery battery must be an integer, got the string "${'x'.repeat(40)}…"`,
      'unknown_type type type "truck" is not one of car, bike, scooter',
      'out_of_range latitude latitude 95.5 is outside -90..90',
      'out_of_range longitude longitude -200.25 is outside -180..180',
      'out_of_range battery battery 150 is outside 0..100',
      'out_of_range timestamp timestamp 0 is not a positive epoch-ms value',
      'out_of_range timestamp timestamp 9007199254740992 is not a positive epoch-ms value',
    ],
  );
  const notUtf8 = validateBytes(Buffer.from([0x7b, 0xff, 0x7d]));
  assert.equal(notUtf8.ok ? 'valid' : notUtf8.detail, 'the value is not valid UTF-8');
  const notJson = validateRaw('{');
  assert.match(notJson.ok ? 'valid' : notJson.detail, /^not JSON: /);
});

test('a string field holding a lone surrogate is wrong_type, named; a surrogate pair is text', () => {
  const lone = (text: string) => raw({ vehicleId: 'ID' }).replace('"ID"', text);
  for (const [text, shown] of [
    ['"S\\ud800"', '"S\\ud800"'],
    ['"S\\udbff"', '"S\\udbff"'],
    ['"\\udc00"', '"\\udc00"'],
    ['"\\ude00\\ud83d"', '"\\ude00\\ud83d"'],
  ]) {
    const result = validateRaw(lone(text));
    assert.equal(
      result.ok ? 'valid' : [result.reason, result.field, result.detail],
      [
        'wrong_type',
        'vehicleId',
        `vehicleId must be well-formed Unicode text, got the string ${shown}, which holds a lone surrogate`,
      ],
      text,
    );
  }
  assert.equal(rejection(raw({ type: 'car' }).replace('"car"', '"car\\udfff"')), {
    reason: 'wrong_type',
    field: 'type',
  });
  const pair = validateRaw(lone('"S\\ud83d\\ude00"'));
  assert.ok(pair.ok && pair.event.vehicleId === 'S😀');
  // Only the event's fields are stored: a lone surrogate elsewhere is kept in the raw value alone.
  assert.ok(validateRaw(raw({ note: 'x' }).replace('"x"', '"\\ud800"')).ok);
});

test('the vehicle types are a setting: another list is accepted, and the detail names it', () => {
  const { validateRaw: withTrucks } = eventValidator(
    loadConfig(parseArgs(['--vehicle-types', 'car,bike,scooter,truck']).flags, {}),
  );
  assert.ok(withTrucks(raw({ type: 'truck' })).ok);
  const { validateRaw: tramsOnly } = eventValidator(loadConfig(new Map(), { LAKEHOUSE_VEHICLE_TYPES: 'tram' }));
  const car = tramsOnly(raw({}));
  assert.equal(car.ok ? 'valid' : car.detail, 'type "car" is not one of tram');
});

test('rule data the interpreter cannot apply stops it with a message that says why', () => {
  const settings = { vehicleTypes: ['car'] };
  const throws = (rules: EventRules, pattern: RegExp) =>
    assert.throws(
      () => eventValidator(settings, rules),
      (error: Error) => pattern.test(error.message),
    );
  const reasons = eventRules.reasons;
  throws({ ...eventRules, reasons: [reasons[1], reasons[0], ...reasons.slice(2)] }, /run in the order object json/);
  throws(
    { ...eventRules, fields: [{ name: 'speed', type: 'float' as 'number' }] },
    /give speed the type float, which these rules do not know/,
  );
  throws(
    {
      ...eventRules,
      reasons: reasons.map((r) => (r.check === 'present' ? { ...r, details: { missing: '{feild} is missing' } } : r)),
    },
    /unknown \{feild\}/,
  );
  throws(
    { ...eventRules, reasons: reasons.map((r) => (r.check === 'type' ? { ...r, details: {} } : r)) },
    /wrong_type no detail "wrongType"/,
  );
});

test.run();
