// `npm run local` never deletes a lake: it writes a new one per run, or one it is given that is
// empty or was made by a local run, and refuses any other directory before starting anything.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LAKE_MARKER } from '../../dev/local/lake-dir.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { temporaryDir, uniqueNames } from '../support/lake.ts';
import { envWithout, runInTerminal, runLocal } from '../support/local-run.ts';

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

test('two runs make two lakes under ./data; without a terminal every line is JSON, the last names the lake', async () => {
  const { bootstrap } = await sharedBroker();
  const cwd = temporaryDir('local-cwd');
  const lakes: string[] = [];
  for (const label of ['first', 'second']) {
    const { topic, group } = uniqueNames(`local-${label}`);
    const env = { ...envWithout('LAKEHOUSE_DATA_DIR'), KAFKA_BOOTSTRAP_SERVER: bootstrap };
    const run = await runLocal(['--topic', topic, '--consumer-group', group], env, cwd);
    assert.is(run.exitCode, 0, run.stdout.slice(-3000) + run.stderr.slice(-3000));
    const records = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`not a JSON line: ${line}`);
        }
      });
    for (const job of ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify']) {
      assert.ok(
        records.some((r) => r.job === job && r.msg === 'finished'),
        `${job} finished`,
      );
    }
    const gold = records.find((r) => r.job === 'local' && r.msg === 'gold')?.show as string[];
    assert.match(gold[0], /^gold\.stats at snapshot \d+/);
    assert.equal(
      gold.slice(3).map((line) => line.split(' ')[0]),
      ['bike', 'car', 'scooter'],
    );
    const last = records.at(-1)!;
    assert.equal([last.job, last.msg, last.ok], ['local', 'finished', true]);
    lakes.push(String(last.lake));
  }
  assert.is.not(lakes[0], lakes[1]);
  for (const lake of lakes) {
    assert.is(path.dirname(lake), path.join(fs.realpathSync(cwd), 'data'));
    assert.ok(fs.existsSync(path.join(lake, LAKE_MARKER)), lake);
    assert.ok(fs.existsSync(path.join(lake, 'gold', 'stats', 'metadata')), lake);
  }
});

test('on a terminal: a line per stage updated in place, the summary and the gold table, no JSON', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames('local-tty');
  const lake = path.join(temporaryDir('local-tty'), 'lake');
  const env = { ...envWithout('LAKEHOUSE_DATA_DIR'), KAFKA_BOOTSTRAP_SERVER: bootstrap };
  const run = await runInTerminal(
    `npm run -s local -- --data-dir ${lake} --topic ${topic} --consumer-group ${group} --events 300`,
    env,
  );
  const shown = run.screen.join('\n');
  assert.is(run.exitCode, 0, shown);
  assert.ok(run.output.includes('\r\x1b[2K'), 'the live line is redrawn in place');
  assert.ok(run.screen.includes(`lake: ${lake}`), shown);
  for (const stage of ['topics', 'produce', 'bronze', 'silver', 'gold', 'verify']) {
    assert.ok(
      run.screen.some((line) => new RegExp(`^✔ ${stage} +█{20} 100% .* \\d+\\.\\d s`).test(line)),
      `${stage} line in:\n${shown}`,
    );
  }
  assert.ok(
    run.screen.some((line) => /^✔ produce .* 300 sent {2}[\d,]+\/s/.test(line)),
    shown,
  );
  assert.ok(
    run.screen.some((line) => /^✔ bronze .* 300 read /.test(line)),
    shown,
  );
  const table = run.screen.findIndex((line) => line.startsWith('gold.stats at snapshot'));
  assert.ok(table > 0, shown);
  assert.match(run.screen[table + 1], /^type +event_count +vehicle_count/);
  assert.equal(
    run.screen.slice(table + 3, table + 6).map((line) => line.split(' ')[0]),
    ['bike', 'car', 'scooter'],
  );
  assert.ok(run.screen.includes('Jobs'), shown);
  assert.not.ok(
    run.screen.some((line) => line.trimStart().startsWith('{')),
    `JSON on the terminal:\n${shown}`,
  );
});

test('npm run lakehouse on a terminal prints readable lines; --log-format json keeps JSON', async () => {
  const { bootstrap } = await sharedBroker();
  const { topic } = uniqueNames('lakehouse-tty');
  // `npm run lakehouse` signs in to the local broker by itself (test/local/lakehouse-command.test.ts).
  const env = { ...process.env, KAFKA_BOOTSTRAP_SERVER: bootstrap };
  const text = await runInTerminal(`npm run -s lakehouse -- topics --topic ${topic}`, env);
  const lines = text.screen.filter(Boolean);
  assert.is(text.exitCode, 0, lines.join('\n'));
  assert.ok(
    lines.some((line) => /^\d\d:\d\d:\d\d {2}info {3}topics {2}topic created {2}topic=/.test(line)),
    lines.join('\n'),
  );
  assert.match(
    lines.at(-1)!,
    /^\d\d:\d\d:\d\d {2}info {3}topics {2}finished in \d+\.\d\d s, peak \d+ MiB {2}topic=\S+ created=true partitions=3$/,
  );
  assert.not.ok(
    lines.some((line) => line.startsWith('{')),
    lines.join('\n'),
  );
  const json = await runInTerminal(`npm run -s lakehouse -- topics --topic ${topic} --log-format json`, env);
  const jsonLines = json.screen.filter(Boolean);
  assert.is(json.exitCode, 0, jsonLines.join('\n'));
  assert.ok(
    jsonLines.every((line) => JSON.parse(line).job === 'topics'),
    jsonLines.join('\n'),
  );
});

test.run();
