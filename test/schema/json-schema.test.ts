import { Ajv } from 'ajv';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultValues, KUBERNETES_QUANTITY_PATTERN, toJsonSchema, valuesModel } from '../../schema/index.ts';
import { badValues } from '../chart/bad-values.ts';

const schema = toJsonSchema(valuesModel);
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

const deepMerge = (base: any, patch: any): any =>
  patch && typeof patch === 'object' && !Array.isArray(patch)
    ? Object.fromEntries(
        [...new Set([...Object.keys(base ?? {}), ...Object.keys(patch)])].map((k) => [
          k,
          k in patch ? deepMerge(base?.[k], patch[k]) : base[k],
        ]),
      )
    : patch;

test('the schema is draft-07 and accepts the defaults', () => {
  assert.is(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.ok(validate(defaultValues()), JSON.stringify(validate.errors));
});

test('every object in the schema closes its properties, except global at the top', () => {
  const open: string[] = [];
  const walk = (node: any, at: string) => {
    if (node.type === 'object' && node.properties && node.additionalProperties !== false) open.push(at);
    for (const [k, child] of Object.entries(node.properties ?? {})) walk(child, `${at}.${k}`);
    if (node.items) walk(node.items, `${at}[]`);
  };
  walk(schema, '');
  assert.equal(open, []);
  assert.ok(validate({ ...defaultValues(), global: { imageRegistry: 'x' } }), 'global is allowed');
});

test("each bad value is rejected at its field (cross-value rules are the chart's, not the schema's)", () => {
  for (const bad of badValues.filter((b) => !b.chartRule)) {
    const ok = validate(deepMerge(defaultValues(), bad.values));
    assert.not.ok(ok, `accepted ${bad.name}`);
    const where = validate
      .errors!.map((e: { instancePath: string; params: unknown }) => `${e.instancePath} ${JSON.stringify(e.params)}`)
      .join('; ');
    assert.match(where, bad.field, `${bad.name}: ${where}`);
  }
});

test('kafka.enabled=false with bootstrapServers is accepted', () => {
  const values = deepMerge(defaultValues(), { kafka: { enabled: false, bootstrapServers: 'kafka:9092,kafka-2:9092' } });
  assert.ok(validate(values), JSON.stringify(validate.errors));
});

test('Kubernetes quantities', () => {
  const quantity = new RegExp(KUBERNETES_QUANTITY_PATTERN);
  for (const good of ['100m', '1', '0.5', '1Gi', '10Gi', '2.5Gi', '1e3', '512Ki', '1k', '3M', '.5'])
    assert.ok(quantity.test(good), good);
  for (const bad of ['1 GB', 'ten', '1gi', '-1Gi', '', '1.2.3', 'Gi', '1GB']) assert.not.ok(quantity.test(bad), bad);
});

test('Kafka topic names', () => {
  const topic = new RegExp(valuesModel.fields.topic.fields.name.pattern!);
  for (const good of ['vehicles-events', 'a.b_c-D9', 'x'.repeat(249)]) assert.ok(topic.test(good), good);
  for (const bad of ['', 'with space', 'slash/name', 'x'.repeat(250), 'é']) assert.not.ok(topic.test(bad), bad);
});

test.run();
