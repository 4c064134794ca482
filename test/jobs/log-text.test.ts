import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { logFormat, parseArgs } from '../../jobs/config.ts';
import { ConfigError } from '../../jobs/errors.ts';
import { createLogger } from '../../jobs/log.ts';
import { formatText } from '../../jobs/log-text.ts';

const at = new Date(2026, 10, 28, 14, 5, 9).toISOString();

test('a record reads as time, level, job, message and key=value fields', () => {
  const line = formatText({
    time: at,
    level: 'warn',
    job: 'bronze',
    msg: 'records expired',
    partition: 2,
    lost: 10,
    note: 'two words',
  });
  assert.is(line, '14:05:09  WARN   bronze  records expired  partition=2 lost=10 note="two words"');
});

test('progress, finished and failed read as sentences, without stack traces', () => {
  assert.is(
    formatText({
      time: at,
      level: 'info',
      job: 'bronze',
      msg: 'progress',
      read: 18000,
      total: 30000,
      percent: 60,
      perSecond: 12345,
    }),
    '14:05:09  info   bronze  progress 18,000/30,000 read (60%), 12,345/s',
  );
  assert.is(
    formatText({
      time: at,
      level: 'info',
      job: 'gold',
      msg: 'finished',
      ok: true,
      seconds: 1.234,
      peakRssBytes: 88 * 2 ** 20,
      result: { rows: 3 },
    }),
    '14:05:09  info   gold  finished in 1.23 s, peak 88 MiB  rows=3',
  );
  const failed = formatText({
    time: at,
    level: 'error',
    job: 'silver',
    msg: 'failed',
    ok: false,
    seconds: 0.1,
    error: 'disk full',
    stack: 'Error: disk full\n    at write (x.ts:1:1)',
  });
  assert.is(failed, '14:05:09  ERROR  silver  failed: disk full');
});

test('long values are cut so a line stays readable', () => {
  const line = formatText({
    time: at,
    level: 'info',
    job: 'bronze',
    msg: 'plan',
    partitions: Array.from({ length: 100 }, (_, i) => ({ partition: i })),
  });
  assert.ok(line.length < 260, line);
  assert.ok(line.endsWith('…'), line);
});

test('the logger writes text or JSON as asked', () => {
  const lines: string[] = [];
  createLogger('topics', (l) => lines.push(l), 'info', 'text').info('topic created', { partitions: 3 });
  createLogger('topics', (l) => lines.push(l), 'info', 'json').info('topic created', { partitions: 3 });
  assert.match(lines[0], /^\d\d:\d\d:\d\d {2}info {3}topics {2}topic created {2}partitions=3$/);
  assert.equal(JSON.parse(lines[1]).partitions, 3);
});

test('--log-format: text on a terminal, JSON elsewhere, the flag overrides both', () => {
  const none = parseArgs([]).flags;
  assert.is(logFormat(none, true), 'text');
  assert.is(logFormat(none, false), 'json');
  assert.is(logFormat(parseArgs(['--log-format', 'json']).flags, true), 'json');
  assert.is(logFormat(parseArgs(['--log-format=text']).flags, false), 'text');
  assert.throws(
    () => logFormat(parseArgs(['--log-format', 'yaml']).flags, true),
    (e: Error) => e instanceof ConfigError && /--log-format/.test(e.message),
  );
});

test.run();
