import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { defaultValues, leaves, toValuesYaml, valuesModel, type Values } from '../../schema/index.ts';

const yaml = toValuesYaml(valuesModel);

test('values.yaml holds exactly the defaults', () => {
  assert.equal(parse(yaml), defaultValues());
});

test('every value in values.yaml has a comment above it', () => {
  const lines = yaml.split('\n');
  const missing: string[] = [];
  lines.forEach((line, i) => {
    const key = /^(\s*)([A-Za-z][\w]*):/.exec(line);
    if (key && !/^\s*#/.test(lines[i - 1] ?? '')) missing.push(line.trim());
  });
  assert.equal(missing, []);
  assert.ok([...leaves(valuesModel)].length > 40);
});

test("the Values type is the defaults' type", () => {
  const values: Values = defaultValues();
  const replicas: number = values.kafka.replicas;
  const name: string = values.topic.name;
  // @ts-expect-error a misspelt value path is a type error
  values.kafka.replica;
  assert.is(replicas, 1);
  assert.is(name, 'vehicles-events');
});

test.run();
