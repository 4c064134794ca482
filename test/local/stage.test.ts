import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endStage, observe, stageLine, startStage, summarize } from '../../dev/local/stage.ts';

const record = (msg: string, fields: Record<string, unknown> = {}) => ({
  time: '',
  level: 'info',
  job: 'bronze',
  msg,
  ...fields,
});

test('a running stage shows its bar, count, rate and elapsed time from progress lines', () => {
  const stage = startStage('bronze', 0);
  observe(stage, record('progress', { read: 15000, total: 30000, percent: 50, perSecond: 7500 }));
  assert.is(stageLine(stage, 2000), '⠋ bronze   ██████████░░░░░░░░░░  50%  15,000/30,000 read  7,500/s  2.0 s');
});

test('a finished stage shows a full bar, its count and a summary of its result', () => {
  const stage = startStage('silver', 0);
  observe(stage, record('progress', { validated: 30, total: 30, percent: 100, perSecond: 300 }));
  observe(
    stage,
    record('finished', {
      ok: true,
      seconds: 0.1,
      result: { bronze: 30, silver: 29, reasons: { out_of_range: 1 }, checked: ['a', 'b'] },
    }),
  );
  endStage(stage, 0, undefined, 1500);
  assert.is(
    stageLine(stage, 1500),
    '✔ silver   ████████████████████ 100%  30 validated  300/s  1.5 s  bronze=30 silver=29 checked=2',
  );
});

test("a failed stage is one line with the job's own error", () => {
  const stage = startStage('verify', 0);
  observe(
    stage,
    record('failed', { ok: false, error: 'invariant "x" failed: 2 rows missing', stack: 'Error\n    at y' }),
  );
  endStage(stage, 1, 'ignored', 800);
  const line = stageLine(stage, 800);
  assert.is(line, '✘ verify  failed after 0.8 s: invariant "x" failed: 2 rows missing');
});

test('a job that died without saying why fails with its exit code and last words', () => {
  const stage = startStage('gold', 0);
  endStage(stage, 137, 'Killed', 100);
  assert.is(stageLine(stage, 100), '✘ gold    failed after 0.1 s: exit code 137: Killed');
});

test('a result without fields still summarises', () => {
  assert.is(summarize(undefined), '');
  assert.is(summarize([1, 2]), 'items=2');
  assert.is(summarize({ topic: 't', created: true, partitions: 3 }), 'topic=t created=true partitions=3');
});

test.run();
