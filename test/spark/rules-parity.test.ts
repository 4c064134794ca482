// The Spark engine's rules (jobs/spark/lakehouse_rules.py) against the Node engine's
// (jobs/events/validate.ts), both interpreting the contract's rule data: on awkward inputs, under
// several settings and with rule data changed, both must give every record the same reason, field
// and detail (but a JSON parser's own message), and valid events the same values. Runs the Python
// of the Spark install.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, parseArgs } from '../../jobs/config.ts';
import { contract } from '../../jobs/contract.ts';
import type { EventRules } from '../../jobs/events/rules.ts';
import { eventValidator, type Validation } from '../../jobs/events/validate.ts';
import { repoRoot, requireSparkInstall } from './spark-install.ts';

const valid = {
  vehicleId: 'CAR_000',
  type: 'car',
  latitude: 48.8566,
  longitude: 2.3522,
  battery: 75,
  timestamp: 1697203200000,
};
const withField = (field: string, raw: string) =>
  JSON.stringify(valid).replace(new RegExp(`"${field}":[^,}]+`), `"${field}":${raw}`);

const inputs: (string | null)[] = [
  null,
  '',
  ' ',
  'null',
  '[]',
  '[1,2]',
  '"a string"',
  '42',
  'true',
  '{',
  '{"a":1',
  '\uFEFF{}',
  JSON.stringify(valid),
  ` \n${JSON.stringify(valid)}\t `,
  '{}',
  withField('battery', '75.0'),
  withField('battery', '75.5'),
  withField('battery', '"75"'),
  withField('battery', 'true'),
  withField('battery', '-0'),
  withField('battery', '1e400'),
  withField('battery', '101'),
  withField('battery', '-1'),
  withField('battery', 'null'),
  withField('battery', '[]'),
  withField('battery', '{}'),
  withField('battery', 'NaN'),
  withField('latitude', 'Infinity'),
  withField('latitude', '-90'),
  withField('latitude', '90.0000001'),
  withField('latitude', '"48.8"'),
  withField('longitude', '-180.0'),
  withField('longitude', '180.5'),
  withField('longitude', '1E2'),
  withField('timestamp', '0'),
  withField('timestamp', '-5'),
  withField('timestamp', '1697203200000.0'),
  withField('timestamp', '1697203200000.5'),
  withField('timestamp', '9007199254740991'),
  withField('timestamp', '9007199254740993'),
  withField('timestamp', '1e21'),
  withField('timestamp', '123456789012345678901234567890'),
  withField('vehicleId', '""'),
  withField('vehicleId', '7'),
  withField('vehicleId', 'false'),
  withField('type', '"truck"'),
  withField('type', '"Car"'),
  withField('type', '""'),
  withField('type', '3'),
  // Missing fields come before wrong types, whatever the field order.
  JSON.stringify({ ...valid, vehicleId: 7, timestamp: undefined }),
  JSON.stringify({ ...valid, type: 'truck', battery: 150 }),
  JSON.stringify({ ...valid, latitude: 95, battery: '9' }),
  '{"vehicleId":"A","vehicleId":"B","type":"bike","latitude":1,"longitude":2,"battery":3,"timestamp":4}',
  '{"vehicleId":"CAR\\u0000","type":"car","latitude":1,"longitude":2,"battery":3,"timestamp":4}',
  '{"vehicleId":"\\ud800","type":"car","latitude":1,"longitude":2,"battery":3,"timestamp":4}',
  // Lone surrogates (escapes JSON allows, that no UTF-8 text holds) in the event's strings.
  withField('vehicleId', '"S\\ud800"'),
  withField('vehicleId', '"S\\udbff"'),
  withField('vehicleId', '"\\udc00S"'),
  withField('vehicleId', '"\\ude00\\ud83d"'),
  withField('vehicleId', '"\\ud83d\\ude00"'),
  withField('vehicleId', '"\\uD83D\\uDE00 \\u00e9"'),
  withField('type', '"\\ud800"'),
  withField('type', '"car\\udfff"'),
  withField('battery', '"\\ud800"'),
  JSON.stringify({ ...valid, note: 'x' }).replace('"x"', '"\\ud800"'),
  '{"\\ud800":1,"vehicleId":"A","type":"car","latitude":1,"longitude":2,"battery":3,"timestamp":4}',
  // Details show values as JavaScript does: long strings cut at 40 UTF-16 units (a pair split), escapes, numbers.
  withField('battery', JSON.stringify('x'.repeat(41))),
  withField('battery', JSON.stringify('x'.repeat(40))),
  withField('battery', JSON.stringify(`a${'😀'.repeat(30)}`)),
  withField('battery', JSON.stringify('q"b\\s\n\t\u0001\u007f\u2028é')),
  withField('type', JSON.stringify('ca"r\n')),
  withField('latitude', '1e21'),
  withField('latitude', '-0.0000001'),
  withField('latitude', '123.456789012345678'),
  withField('longitude', '-1e-7'),
  withField('battery', '5e-324'),
  withField('battery', '100.0000000000001'),
  withField('timestamp', '9007199254740992'),
  withField('timestamp', '-0'),
  withField('type', '"truck"').replace('"battery":75', '"battery":500'),
  JSON.stringify({ ...valid, extra: { nested: [1, 2, 3] } }),
  '{"vehicleId":"A","type":"car","latitude":1,"longitude":2,"battery":3,"timestamp":4,}',
  "{'vehicleId':'A'}",
  '['.repeat(5000) + ']'.repeat(5000),
  JSON.stringify({ ...valid, extra: 0 }).replace('0}', '['.repeat(100000) + ']'.repeat(100000) + '}'),
  '['.repeat(100000) + ']'.repeat(99999),
];

/** The settings each run of the inputs uses: the defaults, and other vehicle types. */
const settingCases = [[], ['--vehicle-types', 'car,bike,scooter,truck'], ['--vehicle-types', ' tram , car ']];

/** The contract's rules, and the same data changed: both engines must follow the data, not a copy of it. */
const rules = contract().rules as EventRules;
const reason = (check: string) => rules.reasons.find((r) => r.check === check)!;
const changed: EventRules = {
  ...rules,
  reasons: [
    ...['json', 'object'].map(reason),
    { ...reason('present'), details: { missing: 'no {field} here' } },
    reason('type'),
    reason('range'),
    reason('oneOf'),
    reason('unique'),
  ],
  fields: rules.fields.map((f) => {
    if (f.name === 'battery')
      return {
        ...f,
        range: { exclusiveMinimum: 10, maximum: 50, detail: '{field} {value} not in ({exclusiveMinimum}, {maximum}]' },
      };
    if (f.name === 'vehicleId') return { ...f, expected: 'an id' };
    return f;
  }),
  types: { ...rules.types, number: { expected: 'a finite number' } },
};
const ruleCases = [rules, changed];

const python = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'jobs/spark'))})
from lakehouse_config import load_config
from lakehouse_rules import Rules
case = json.load(sys.stdin)
out = []
for rules in case["rules"]:
    for argv in case["settings"]:
        checker = Rules(rules, load_config(argv, {}))
        # As bronze holds it: the value's UTF-8 bytes (a lone surrogate can only come from an escape).
        out.append([list(checker.check_value(None if raw is None else raw.encode("utf-8", "surrogatepass"))) for raw in case["inputs"]]
            + [list(checker.check_value(bytes.fromhex(raw))) for raw in case["bytes"]])
json.dump(out, sys.stdout)
`;

/** Values that are not UTF-8 text (as hex), or are it only just. */
const byteInputs = [
  Buffer.concat([Buffer.from('{"vehicleId":"'), Buffer.from([0xff]), Buffer.from('"}')]),
  Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate: not UTF-8
  Buffer.from([0xc0, 0xaf]), // overlong
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
  Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(valid))]), // a BOM
  Buffer.from(JSON.stringify({ ...valid, vehicleId: 'CAR_é😀' })),
].map((b) => b.toString('hex'));

/** What Python gives, per rules and settings: (reason, field, detail, event values...) per input. */
function fromPython(): (string | number | null)[][][] {
  const home = requireSparkInstall();
  const result = spawnSync(path.join(home, 'venv/bin/python'), ['-c', python], {
    input: JSON.stringify({ rules: ruleCases, settings: settingCases, inputs, bytes: byteInputs }),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** Node's result in Python's shape. */
function asChecked(rules: EventRules, node: Validation): (string | number | null)[] {
  const empty = rules.fields.map(() => null);
  if (!node.ok) return [node.reason, node.field, node.detail, ...empty];
  const event = node.event as unknown as Record<string, string | number>;
  return [null, null, null, ...rules.fields.map((f) => event[f.name])];
}

test('Python and Node rules place every input alike, with the same details, under other settings and changed rule data', () => {
  const python = fromPython();
  let run = 0;
  for (const ruleData of ruleCases) {
    for (const argv of settingCases) {
      const validator = eventValidator(loadConfig(parseArgs(argv).flags, {}), ruleData);
      const node = [
        ...inputs.map((raw) => validator.validateRaw(raw)),
        ...byteInputs.map((hex) => validator.validateBytes(Buffer.from(hex, 'hex'))),
      ];
      const shown = [
        ...inputs.map((raw) => (raw === null ? 'null value' : JSON.stringify(raw.slice(0, 120)))),
        ...byteInputs,
      ];
      for (const [i, result] of node.entries()) {
        const py = python[run][i];
        const expected = asChecked(ruleData, result);
        const where = `${ruleData === rules ? 'contract rules' : 'changed rules'} ${argv.join(' ')}: ${shown[i]}`;
        // A JSON parser's own message differs between engines; the rest of the detail may not.
        if (!result.ok && result.detail.startsWith('not JSON: ')) {
          assert.match(String(py[2]), /^not JSON: ./, where);
          py[2] = expected[2];
        }
        assert.equal(py, expected, where);
      }
      run++;
    }
  }
});

test('the inputs reach every reason code but duplicate, and the changed rule data changes what both engines give', () => {
  const defaults = eventValidator(loadConfig(new Map(), {}));
  const codes = new Set(inputs.map((raw) => defaults.validateRaw(raw)).flatMap((r) => (r.ok ? [] : [r.reason])));
  assert.equal(
    [...codes].sort(),
    rules.reasons
      .map((r) => r.code)
      .filter((c) => c !== 'duplicate')
      .sort(),
  );
  const other = eventValidator(loadConfig(new Map(), {}), changed);
  const placed = (result: Validation) => JSON.stringify(asChecked(rules, result));
  const differ = inputs.filter((raw) => placed(other.validateRaw(raw)) !== placed(defaults.validateRaw(raw)));
  assert.ok(differ.length >= 5, `${differ.length} inputs placed otherwise by the changed rules`);
});

test.run();
