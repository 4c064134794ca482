import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { terminalView } from '../../dev/local/terminal-view.ts';
import { screenOf } from '../support/local-run.ts';

const json = (msg: string, fields: Record<string, unknown> = {}, level = 'info') =>
  JSON.stringify({ time: new Date().toISOString(), level, job: 'bronze', msg, ...fields });
const run = (exitCode: number) => ({ job: 'bronze', exitCode, seconds: 1, peakRssBytes: 2 ** 20 });

function terminal(isTTY: boolean) {
  let output = '';
  return { out: { isTTY, columns: 200, write: (text: string) => (output += text) }, output: () => output };
}

test('on a terminal: one line per stage redrawn in place, warnings kept as readable lines, no JSON', () => {
  const { out, output } = terminal(true);
  let clock = 0;
  const view = terminalView(out, () => clock);
  view.stageStarted('bronze');
  view.jobStdout(json('progress', { read: 5, total: 10, percent: 50, perSecond: 5 }));
  view.jobStdout(json('records expired from Kafka before bronze read them', { partition: 1, lost: 3 }, 'warn'));
  view.jobStdout(json('bronze file written', { file: 'part-p00000.parquet' }));
  view.jobStdout(json('finished', { ok: true, seconds: 1, result: { recordsRead: 10 } }));
  clock = 1200;
  view.stageEnded(run(0));
  view.close();
  assert.ok(output().includes('\r\x1b[2K'), 'redrawn in place');
  const screen = screenOf(output()).filter(Boolean);
  assert.equal(screen.length, 2, screen.join('\n'));
  assert.match(
    screen[0],
    /WARN {3}bronze {2}records expired from Kafka before bronze read them {2}partition=1 lost=3$/,
  );
  assert.match(screen[1], /^✔ bronze +█{20} 100% {2}5 read {2}5\/s {2}1\.2 s {2}recordsRead=10$/);
  assert.not.ok(
    screen.some((line) => line.includes('{')),
    'no JSON',
  );
});

test('a failed stage shows its error in one line, and where the lake is', () => {
  const { out, output } = terminal(true);
  const view = terminalView(out, () => 0);
  view.stageStarted('bronze');
  view.jobStderr('    at Object.<anonymous> (bronze.ts:1:1)');
  view.jobStdout(json('failed', { ok: false, error: 'disk full', stack: 'Error: disk full\n    at write' }, 'error'));
  view.stageEnded(run(1));
  view.abandoned(run(1), '/lake');
  const screen = screenOf(output()).filter(Boolean);
  assert.equal(screen, [
    '✘ bronze  failed after 0.0 s: disk full',
    'stopped at bronze (exit code 1); every log line: npm run local -- --log-format json',
    'lake: /lake',
  ]);
});

test("a job that crashed is described by its stderr's error line, not its stack", () => {
  const { out, output } = terminal(false);
  const view = terminalView(out, () => 0);
  view.stageStarted('gold');
  for (const line of [
    'file:///x/gold.ts:3',
    'TypeError: rows is not iterable',
    '    at main (gold.ts:3:1)',
    'Node.js v22',
  ])
    view.jobStderr(line);
  view.stageEnded({ ...run(1), job: 'gold' });
  assert.not.ok(output().includes('\r'), 'not a terminal: nothing redrawn');
  assert.equal(output().trim(), '✘ gold    failed after 0.0 s: exit code 1: TypeError: rows is not iterable');
});

test.run();
