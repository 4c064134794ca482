// The Spark engine's rules (jobs/spark/lakehouse_rules.py) against the Node engine's
// (jobs/events/validate.ts) on awkward inputs: both must give every record the same reason and
// field, and valid events the same values. Runs the Python of the Spark install.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateRaw } from '../../jobs/events/validate.ts';
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
  JSON.stringify({ ...valid, extra: { nested: [1, 2, 3] } }),
  '{"vehicleId":"A","type":"car","latitude":1,"longitude":2,"battery":3,"timestamp":4,}',
  "{'vehicleId':'A'}",
  '['.repeat(5000) + ']'.repeat(5000),
  JSON.stringify({ ...valid, extra: 0 }).replace('0}', '['.repeat(100000) + ']'.repeat(100000) + '}'),
  '['.repeat(100000) + ']'.repeat(99999),
];

const python = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'jobs/spark'))})
from lakehouse_contract import contract
from lakehouse_rules import Rules
rules = Rules(contract().vehicle_types, contract().reason_codes)
out = []
for raw in json.load(sys.stdin):
    # As bronze holds it: the value's UTF-8 bytes.
    c = rules.check_value(None if raw is None else raw.encode("utf-8", "surrogatepass"))
    out.append({"reason": c[0], "field": c[1], "event": None if c[0] else list(c[3:])})
json.dump(out, sys.stdout)
`;

test('Python and Node rules place every input alike', () => {
  const home = requireSparkInstall();
  const result = spawnSync(path.join(home, 'venv/bin/python'), ['-c', python], {
    input: JSON.stringify(inputs),
    encoding: 'utf8',
  });
  assert.is(result.status, 0, result.stderr);
  const fromPython = JSON.parse(result.stdout) as {
    reason: string | null;
    field: string | null;
    event: unknown[] | null;
  }[];
  for (const [i, raw] of inputs.entries()) {
    const node = validateRaw(raw);
    const py = fromPython[i];
    const shown = raw === null ? 'null value' : JSON.stringify(raw.slice(0, 120));
    if (node.ok) {
      const e = node.event;
      assert.equal(
        py,
        { reason: null, field: null, event: [e.vehicleId, e.type, e.latitude, e.longitude, e.battery, e.timestamp] },
        shown,
      );
    } else {
      assert.equal({ reason: py.reason, field: py.field }, { reason: node.reason, field: node.field }, shown);
    }
  }
});

test('a value that is not UTF-8 is malformed_json, and the rules take their vehicle types from the contract', () => {
  const home = requireSparkInstall();
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'jobs/spark'))})
from lakehouse_contract import contract
from lakehouse_rules import Rules
rules = Rules(contract().vehicle_types, contract().reason_codes)
event = ${JSON.stringify(JSON.stringify(valid))}
print(json.dumps([
    rules.check_value(b'{"vehicleId":"\\xff"}')[:3],
    rules.check_value(b'\\xed\\xa0\\x80')[:3],
    Rules(["car", "tram"], contract().reason_codes).check_text(event.replace('"car"', '"tram"'))[0],
    rules.check_text(event.replace('"car"', '"tram"'))[:2],
]))
`;
  const result = spawnSync(path.join(home, 'venv/bin/python'), ['-c', script], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout), [
    ['malformed_json', null, 'value is not valid UTF-8'],
    ['malformed_json', null, 'value is not valid UTF-8'],
    null,
    ['unknown_type', 'type'],
  ]);
});

test.run();
