import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigMap } from 'kubernetes-models/v1';
import { createBinder } from '../../generator/binder.ts';
import { emit, EmitError } from '../../generator/emitter.ts';
import { renderTemplate } from '../../generator/render.ts';

const template = (build: (v: ReturnType<typeof createBinder>) => unknown) => {
  const v = createBinder('template');
  return renderTemplate(build(v), v.tokens);
};

test("a string value is quoted by the template, an integer converted from Helm's float64", () => {
  const out = template((v) => ({
    name: v.str('topic.name'),
    replicas: v.int('kafka.replicas'),
    env: v.str('producer.events'),
  }));
  assert.is(
    out,
    [
      'name: {{ .Values.topic.name | quote }}',
      'replicas: {{ .Values.kafka.replicas | int64 }}',
      'env: {{ .Values.producer.events | int64 | quote }}',
      '',
    ].join('\n'),
  );
});

test('a token inside a string becomes an inline expression', () => {
  assert.is(
    template((v) => ({ host: `${v.str('topic.name')}.svc:9092` })),
    'host: {{ .Values.topic.name }}.svc:9092\n',
  );
});

test('blocks, optional keys, spliced list items and conditional items', () => {
  const out = template((v) => ({
    spec: {
      resources: v.block('toYaml .Values.jobs.resources', {}),
      nodeSelector: v.withValue('nodeSelector', {}),
      env: [{ name: 'A', value: '1' }, ...v.items('jobs.extraEnv')],
      volumes: [...v.when('.Values.jobs.bundledScript', true, [{ name: 'script' }])],
    },
  }));
  assert.is(
    out,
    [
      'spec:',
      '  resources:',
      '    {{- toYaml .Values.jobs.resources | nindent 4 }}',
      '  {{- with .Values.nodeSelector }}',
      '  nodeSelector:',
      '    {{- toYaml . | nindent 4 }}',
      '  {{- end }}',
      '  env:',
      '    - name: A',
      '      value: "1"',
      '    {{- with .Values.jobs.extraEnv }}',
      '    {{- toYaml . | nindent 4 }}',
      '    {{- end }}',
      '  volumes:',
      '    {{- if .Values.jobs.bundledScript }}',
      '    - name: script',
      '    {{- end }}',
      '',
    ].join('\n'),
  );
});

test('the defaults binder returns the default values, and leaves out empty optional keys', () => {
  const v = createBinder('defaults');
  assert.is(v.str('topic.name'), 'vehicles-events');
  assert.is(v.int('producer.events'), 30);
  assert.is(v.withValue('nodeSelector', {}), undefined);
  assert.equal(v.when('x', false, [1]), []);
  assert.equal(v.when('x', true, [1]), [1]);
});

test('a values path that is not in the model is an error naming it', () => {
  for (const mode of ['defaults', 'template'] as const) {
    assert.throws(() => createBinder(mode).str('kafka.replica'), /unknown values path "kafka.replica"/);
    assert.throws(() => createBinder(mode).expr('include "x" .Values.topc.name', ''), /topc\.name/);
  }
});

test('the binder records every values path a template reads', () => {
  const v = createBinder('template');
  v.str('topic.name');
  v.block('toYaml .Values.jobs.resources', {});
  v.cond('and .Values.kafka.enabled .Values.networkPolicy.enabled');
  assert.equal([...v.usedPaths].sort(), ['jobs.resources', 'kafka.enabled', 'networkPolicy.enabled', 'topic.name']);
});

test('an object its kubernetes-models class rejects fails the emitter, naming the file', () => {
  const broken = {
    file: 'templates/broken.yaml',
    build: () => new ConfigMap({ metadata: { name: 'x' }, data: { key: 42 as unknown as string } }),
  };
  assert.throws(
    () => emit(broken),
    (e: unknown) => e instanceof EmitError && /templates\/broken\.yaml/.test(e.message),
  );
});

test.run();
