// `npm run local` never deletes a lake: it writes a new one per run, or one it is given that is
// empty or was made by a local run, and refuses any other directory before starting anything.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LAKE_MARKER } from '../../dev/local/lake-dir.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { temporaryDir, uniqueNames } from '../support/lake.ts';
import { envWithout, runLocal } from '../support/local-run.ts';

test('a directory holding a user file is refused (exit 2, one line naming it) and left untouched', async () => {
  const dir = temporaryDir('users-dir');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
  for (const [args, env] of [
    [[], { ...envWithout('KAFKA_BOOTSTRAP_SERVER'), LAKEHOUSE_DATA_DIR: dir }],
    [['--data-dir', dir], envWithout('KAFKA_BOOTSTRAP_SERVER', 'LAKEHOUSE_DATA_DIR')],
  ] as const) {
    const run = await runLocal(args, env);
    assert.is(run.exitCode, 2, run.stderr);
    assert.is(run.stdout, '', 'nothing started');
    const lines = run.stderr.trimEnd().split('\n');
    assert.is(lines.length, 1, run.stderr);
    assert.ok(lines[0].includes(dir), lines[0]);
  }
  assert.equal(fs.readdirSync(dir), ['notes.txt']);
  assert.is(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine');
});

test('a lake from an earlier run is not reused with a new local broker', async () => {
  const dir = temporaryDir('earlier-lake');
  fs.writeFileSync(path.join(dir, LAKE_MARKER), '{}\n');
  fs.mkdirSync(path.join(dir, 'bronze'));
  const run = await runLocal([], { ...envWithout('KAFKA_BOOTSTRAP_SERVER'), LAKEHOUSE_DATA_DIR: dir });
  assert.is(run.exitCode, 2, run.stderr);
  assert.ok(run.stderr.includes(dir), run.stderr);
  assert.equal(fs.readdirSync(dir).sort(), [LAKE_MARKER, 'bronze']);
});

test('two runs make two lakes under ./data, each named at the end of its output', async () => {
  const { bootstrap } = await sharedBroker();
  const cwd = temporaryDir('local-cwd');
  const lakes: string[] = [];
  for (const label of ['first', 'second']) {
    const { topic, group } = uniqueNames(`local-${label}`);
    const env = { ...envWithout('LAKEHOUSE_DATA_DIR'), KAFKA_BOOTSTRAP_SERVER: bootstrap };
    const run = await runLocal(['--topic', topic, '--consumer-group', group], env, cwd);
    assert.is(run.exitCode, 0, run.stdout.slice(-3000) + run.stderr.slice(-3000));
    const last = run.stdout.trimEnd().split('\n').at(-1)!;
    assert.match(last, /^lake: /);
    lakes.push(last.slice('lake: '.length));
  }
  assert.is.not(lakes[0], lakes[1]);
  for (const lake of lakes) {
    assert.is(path.dirname(lake), path.join(fs.realpathSync(cwd), 'data'));
    assert.ok(fs.existsSync(path.join(lake, LAKE_MARKER)), lake);
    assert.ok(fs.readdirSync(path.join(lake, 'gold', 'stats')).some((f) => f.endsWith('.parquet')), lake);
  }
});

test.run();
