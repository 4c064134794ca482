import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exitOf } from '../dev/job-process.ts';
import { parseProcStat, peakTreeRssBytes, treeRssBytes, type ProcEntry } from '../dev/peak-rss.ts';

const MiB = 2 ** 20;

test('a /proc stat line is parsed after the last parenthesis of the command name', () => {
  const line =
    '4242 (a) b (c d) S 4200 4242 7705 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 3687840 3133440 383 18446744073709551615 0';
  assert.equal(parseProcStat(line), { pid: 4242, parentPid: 4200, state: 'S', rssPages: 383 });
  assert.is(parseProcStat('not a stat line'), undefined);
  assert.is(parseProcStat('12 (short) S 1'), undefined);
});

test('a tree sums its root and every descendant, and nothing else', () => {
  const entries: ProcEntry[] = [
    { pid: 1, parentPid: 0, state: 'S', rssPages: 1000 },
    { pid: 10, parentPid: 1, state: 'S', rssPages: 1 }, // bash, the root
    { pid: 11, parentPid: 10, state: 'S', rssPages: 20 }, // the JVM
    { pid: 12, parentPid: 11, state: 'R', rssPages: 300 }, // its Python child
    { pid: 13, parentPid: 12, state: 'S', rssPages: 4000 }, // a Python worker
    { pid: 20, parentPid: 1, state: 'S', rssPages: 50000 }, // another program
    { pid: 21, parentPid: 20, state: 'S', rssPages: 600000 },
  ];
  assert.is(treeRssBytes(entries, 10, 4096), (1 + 20 + 300 + 4000) * 4096);
  assert.is(treeRssBytes(entries, 12, 16384), (300 + 4000) * 16384);
  assert.is(treeRssBytes(entries, 13, 4096), 4000 * 4096);
  assert.is(treeRssBytes(entries, 99, 4096), 0, 'a process that is not there holds nothing');
});

test('the sampler finds the peak of a child two levels down, and resolves once the root exits', async () => {
  // sh stays the parent (the `:` after node keeps it from exec-ing node); node fills 100 MiB, holds it, frees it.
  const script = 'const b = Buffer.alloc(100 * 2 ** 20, 1); setTimeout(() => console.log(b[0]), 1200)';
  const root = spawn('sh', ['-c', `"${process.execPath}" -e '${script}'; :`], { stdio: 'ignore' });
  const [peak, exitCode] = await Promise.all([peakTreeRssBytes(root.pid!), exitOf(root)]);
  assert.is(exitCode, 0);
  assert.ok(peak >= 100 * MiB, `peak ${(peak / MiB).toFixed(1)} MiB, expected at least 100`);
  assert.ok(peak < 400 * MiB, `peak ${(peak / MiB).toFixed(1)} MiB: more than the tree holds`);
  assert.is(await peakTreeRssBytes(root.pid!), 0, 'an exited process has no tree');
});

test.run();
