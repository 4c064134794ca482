// The Spark engine's settings (jobs/spark/lakehouse_config.py, reading the contract JSON) against
// the Node engine's (jobs/config.ts, jobs/setting-kinds.ts): for every parser kind the contract
// uses, the same awkward raw values are accepted with the same value or refused with the same
// message, and whole configurations load alike. Runs the Python of the Spark install.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, parseArgs } from '../../jobs/config.ts';
import { contract } from '../../jobs/contract.ts';
import { ConfigError } from '../../jobs/errors.ts';
import { ParseError, parserOf, type SettingKind } from '../../jobs/setting-kinds.ts';
import { repoRoot, requireSparkInstall } from './spark-install.ts';

const NOW = 1_700_000_000_000;
const blanks = ['', ' ', '\t', '\n', '\u00a0', '\ufeff', '\u2028', '\u3000', '\u0085', '\u001c'];
const numbers = [
  '0',
  '1',
  '-1',
  '007',
  '-0',
  '+1',
  '1.0',
  '1.5',
  '.5',
  '5.',
  '1e3',
  '1E-1',
  '0.25',
  ' 0.5 ',
  '\u00a00.5\ufeff',
  '\u00850.5',
  '0x1',
  '0X0',
  '0o1',
  '0b1',
  '-0x1',
  '1_0',
  'nan',
  'NaN',
  'inf',
  'Infinity',
  '-Infinity',
  '1e999',
  '1e-7',
  '-1e-7',
  '2',
  '10000',
  '10001',
  '4294967295',
  '4294967296',
  '99999999999999999999',
  '123456789012345678901234',
  '١',
  '²',
  '1 2',
  'abc',
];
const inputs: Record<SettingKind['kind'], string[]> = {
  integer: [...blanks, ...numbers],
  ratio: [...blanks, ...numbers, '1.0000000001', '0.1e1', '1e0', '-0.0'],
  nonEmpty: [...blanks, 'x', ' x ', '\ufeffx\u0085', 'a b', '\u001cx'],
  boolean: [
    ...blanks,
    'true',
    'TRUE',
    'True',
    '1',
    'yes',
    'YES',
    'false',
    'False',
    '0',
    'no',
    'NO',
    'yeſ',
    'truE ',
    ' true',
    'on',
    'y',
  ],
  topicName: [
    ...blanks,
    'vehicles-events',
    'a.b_c-D9',
    '.',
    '..',
    '...',
    'a'.repeat(249),
    'a'.repeat(250),
    'bad topic',
    'é',
    'a\n',
  ],
  hostPortList: [
    ...blanks,
    'kafka:9092',
    ' kafka:9092 , kafka-1:9093 ',
    'kafka',
    'kafka:0',
    'kafka:65535',
    'kafka:65536',
    'kafka:123456',
    '[::1]:9092',
    '[fe80::1]:1',
    'host_name:1',
    ',,',
    'a:1,,b:2',
    'kafka:٩٠٩٢',
    'kafka:9092\n',
    '\ufeffkafka:9092',
  ],
  nameList: [
    ...blanks,
    'car,bike,scooter',
    'car',
    ' car , bike ',
    'car,,bike,',
    ',',
    'car,car',
    'car, bike,car ',
    'Car',
    'e-scooter,cargo_bike,bus2',
    '2cv',
    '-car',
    '_car',
    'car bike',
    'véhicule',
    'ſcooter',
    'car;bike',
    '\u00a0car\ufeff,\u2028bike',
    'car\u0085',
  ],
  text: [...blanks, 's3://lakehouse', ' id:secret ', '\ufeffx\u0085', 'a b', 'é'],
  httpUrl: [
    ...blanks,
    'http://127.0.0.1:8181',
    'https://catalog.example.com/api/catalog/',
    ' http://catalog:8181 ',
    'ftp://catalog',
    'http://',
    'http://catalog:8181?x=1',
    'http://cat alog',
    'catalog:8181',
    'http://catalog:8181#frag',
    'http://catalog:123456',
    'HTTP://catalog',
  ],
  instant: [
    ...blanks,
    'now',
    ' now ',
    'NOW',
    '0',
    '1697203200000',
    '9999999999999999',
    '99999999999999999',
    '-1',
    '2023-10-13T13:20:00Z',
    '2023-10-13T13:20Z',
    '2023-10-13T13:20:00.5Z',
    '2023-10-13T13:20:00.123+02:00',
    '2023-10-13T13:20:00-00:30',
    '2023-10-13T13:20:00',
    '2023-10-13 13:20:00Z',
    '2023-02-30T00:00Z',
    '2023-04-31T00:00Z',
    '2023-10-32T00:00Z',
    '2023-00-01T00:00Z',
    '2023-13-01T00:00Z',
    '2023-10-13T24:00Z',
    '2023-10-13T24:00:00.001Z',
    '2023-10-13T25:00Z',
    '2023-10-13T13:60Z',
    '2023-10-13T13:20:60Z',
    '2023-10-13T13:20:00+24:00',
    '2023-10-13T13:20:00+23:59',
    '2023-10-13T13:20:00+00:60',
    '0000-01-01T00:00Z',
    '9999-12-31T23:59:59.999Z',
    '2023-10-13T13:20:00.1234Z',
    '\u00a02023-10-13T13:20:00Z\u2028',
  ],
  oneOf: [
    ...blanks,
    'once',
    'continuous',
    ' once ',
    '\u00a0continuous\ufeff',
    'ONCE',
    'Once',
    'onc',
    'oncee',
    'once,continuous',
    'ſ',
  ],
};

type Outcome = { value: unknown } | { error: string };

function fromNode(spec: SettingKind, raw: string): Outcome {
  try {
    return { value: parserOf(spec, () => NOW)(raw) };
  } catch (error) {
    if (error instanceof ParseError) return { error: error.message };
    throw error;
  }
}

function runPython(script: string, input: unknown): any {
  const home = requireSparkInstall();
  const result = spawnSync(path.join(home, 'venv/bin/python'), ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
  });
  assert.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

const prelude = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'jobs/spark'))})
`;

test('the contract uses every kind this test covers, and every kind has inputs', () => {
  const kinds = new Set(contract().settings.map((s) => s.parser.kind));
  assert.equal([...kinds].sort(), Object.keys(inputs).sort());
});

test('for each kind the contract uses, Python and Node accept and refuse the same raw values alike', () => {
  const specs = [
    ...new Map(contract().settings.map((s) => [JSON.stringify(s.parser), s.parser as SettingKind])).values(),
  ];
  const cases = specs.flatMap((spec) => inputs[spec.kind].map((raw) => ({ spec, raw })));
  const fromPython: Outcome[] = runPython(
    `${prelude}
from lakehouse_config import ParseError, parser_of
out = []
for case in json.load(sys.stdin):
    try:
        out.append({"value": parser_of(case["spec"], now=lambda: ${NOW})(case["raw"])})
    except ParseError as error:
        out.append({"error": str(error)})
json.dump(out, sys.stdout)
`,
    cases,
  );
  for (const [i, { spec, raw }] of cases.entries()) {
    // JSON carries both sides' values the same way (-0 and 0 alike, lists as arrays).
    assert.equal(
      fromPython[i],
      JSON.parse(JSON.stringify(fromNode(spec, raw))),
      `${JSON.stringify(spec)} ${JSON.stringify(raw)}`,
    );
  }
});

test('whole configurations load alike: defaults, variables, flags over variables, and the setting an error names', () => {
  const cases: { env: Record<string, string>; argv: string[] }[] = [
    { env: {}, argv: [] },
    {
      env: {
        LAKEHOUSE_EVENTS: '100',
        KAFKA_BOOTSTRAP_SERVER: 'a:1, b:2',
        LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z',
      },
      argv: ['--events', '7', '--topic=my.topic'],
    },
    { env: { LAKEHOUSE_EVENTS: '' }, argv: ['--verify-kafka'] },
    { env: { LAKEHOUSE_EVENTS: 'many' }, argv: [] },
    { env: {}, argv: ['--invalid-ratio', '1.5'] },
    { env: {}, argv: ['--evnets', '3'] },
    { env: { LAKEHOUSE_DATA_DIR: ' ' }, argv: [] },
    { env: { LAKEHOUSE_DATA_DIR: '' }, argv: ['--data-dir', '/lake'] },
    { env: { LAKEHOUSE_INVALID_RATIO: '0x1' }, argv: [] },
    { env: { LAKEHOUSE_VEHICLE_TYPES: 'car,bike,scooter,truck' }, argv: [] },
    { env: { LAKEHOUSE_VEHICLE_TYPES: 'tram' }, argv: ['--vehicle-types', ' car , truck '] },
    { env: { LAKEHOUSE_VEHICLE_TYPES: 'car,Car' }, argv: [] },
    { env: {}, argv: ['--vehicle-types', 'car,car'] },
    { env: { LAKEHOUSE_VEHICLE_TYPES: ' , ' }, argv: [] },
  ];
  const node = cases.map(({ env, argv }) => {
    try {
      const config = loadConfig(parseArgs(argv).flags, {
        ...env,
        LAKEHOUSE_START_TIME: env.LAKEHOUSE_START_TIME ?? String(NOW),
      });
      return {
        config: Object.fromEntries(
          Object.entries(config).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
        ),
      };
    } catch (error) {
      if (error instanceof ConfigError) return { setting: error.setting };
      throw error;
    }
  });
  const python = runPython(
    `${prelude}
from lakehouse_config import ConfigError, load_config
out = []
for case in json.load(sys.stdin):
    env = dict(case["env"])
    env.setdefault("LAKEHOUSE_START_TIME", "${NOW}")
    try:
        out.append({"config": vars(load_config(case["argv"], env))})
    except ConfigError as error:
        out.append({"setting": error.setting})
json.dump(out, sys.stdout)
`,
    cases,
  );
  assert.equal(python, JSON.parse(JSON.stringify(node)));
});

test.run();
