import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateObject, validateRaw } from '../../jobs/events/validate.ts';

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

test.run();
