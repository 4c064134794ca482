import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateRecords } from '../../jobs/events/generate.ts';
import { loadConfig } from '../../jobs/config.ts';
import { eventValidator } from '../../jobs/events/validate.ts';

const { validateRaw } = eventValidator(loadConfig(new Map(), {}));
const options = { seed: 42, invalidRatio: 0.05, duplicateRatio: 0 };

test('the same seed gives the same records; another seed does not', () => {
  const a = [...generateRecords(100, options)];
  assert.equal(a, [...generateRecords(100, options)]);
  assert.not.equal(a, [...generateRecords(100, { ...options, seed: 7 })]);
});

test('the first three records are valid and cover every vehicle type, keyed by vehicle id', () => {
  const records = [...generateRecords(30, options)];
  const types = records.slice(0, 3).map((r) => {
    const result = validateRaw(r.value);
    assert.ok(result.ok);
    if (result.ok) assert.is(r.key, result.event.vehicleId);
    return result.ok ? result.event.type : '';
  });
  assert.equal(types, ['car', 'bike', 'scooter']);
});

test('the invalid share is what was asked, and silver rejects exactly those', () => {
  const records = [...generateRecords(1000, { ...options, invalidRatio: 0.1 })];
  const invalid = records.filter((r) => r.kind === 'invalid');
  assert.is(invalid.length, 100);
  assert.ok(invalid.every((r) => !validateRaw(r.value).ok));
  assert.ok(records.filter((r) => r.kind === 'valid').every((r) => validateRaw(r.value).ok));
  const reasons = new Set(
    invalid.map((r) => {
      const v = validateRaw(r.value);
      return v.ok ? '' : v.reason;
    }),
  );
  assert.equal([...reasons].sort(), ['malformed_json', 'missing_field', 'out_of_range', 'unknown_type', 'wrong_type']);
});

test('30 events with the default share give 28 to 30 valid ones', () => {
  const valid = [...generateRecords(30, options)].filter((r) => r.kind === 'valid').length;
  assert.ok(valid >= 28 && valid <= 30, String(valid));
});

test('duplicates repeat an earlier valid record exactly', () => {
  const records = [...generateRecords(200, { ...options, duplicateRatio: 0.05 })];
  const duplicates = records.filter((r) => r.kind === 'duplicate');
  assert.is(duplicates.length, 10);
  const valid = new Set(records.filter((r) => r.kind === 'valid').map((r) => r.value));
  assert.ok(duplicates.every((d) => valid.has(d.value)));
});

test.run();
