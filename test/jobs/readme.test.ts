import fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { settings } from '../../jobs/config.ts';
import { metricFamilies } from '../../jobs/ops/prometheus.ts';

const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const contract = fs.readFileSync(new URL('../../docs/contract.md', import.meta.url), 'utf8');
const configuration = fs.readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const operations = fs.readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');

test('docs/configuration.md and the contract document every job setting with its flag and default', () => {
  for (const s of settings) {
    const row = `| \`${s.env}\` | \`--${s.flag}\` | \`${s.defaultValue}\` |`;
    assert.ok(configuration.includes(row), `docs/configuration.md lacks the row ${row}`);
    assert.ok(contract.includes(`\`${s.env}\``), `docs/contract.md does not mention ${s.env}`);
  }
});

test('docs/operations.md and the contract document every metric the exporter serves', () => {
  const families = metricFamilies({ at: 0, dataDir: '/lake', tables: [], kafka: { ok: false, error: '' }, stages: [] });
  for (const { name, type } of families) {
    assert.ok(operations.includes(`\`${name}`), `docs/operations.md does not mention ${name}`);
    assert.ok(contract.includes(`| \`${name}\` | ${type} |`), `docs/contract.md's metric table lacks ${name}`);
  }
});

test('the README gives the quick start commands', () => {
  for (const command of [
    'npm ci',
    'npm run local',
    'npm test',
    'helm install lakehouse ./chart',
    'helm test lakehouse',
  ]) {
    assert.ok(readme.includes(command), command);
  }
});

test.run();
