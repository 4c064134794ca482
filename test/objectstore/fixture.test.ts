// The fixture's servers do not outlive the test process, however it ends.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAlive } from '../../dev/broker/process-control.ts';
import { restCatalogHome, seaweedfsBinary } from '../../dev/objectstore/installers.ts';
import { SETTING_NAMES } from '../../dev/objectstore/settings.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** Pids of processes other than shells whose command line mentions `text`. */
function serversMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        return path.basename(args[0]) !== 'sh' && args.some((arg) => arg.includes(text)) ? [Number(entry)] : [];
      } catch {
        return [];
      }
    });
}

test('a test process killed with SIGKILL leaves neither SeaweedFS nor the REST catalog, nor their directories', async () => {
  // A cache of its own, holding only the installed servers, so that its objectstore/ is this test's alone.
  const weed = await seaweedfsBinary();
  const restHome = await restCatalogHome();
  const cache = mkdtempSync(path.join(tmpdir(), 'lakehouse-objectstore-fixture-'));
  try {
    for (const home of [path.resolve(weed, '../../..'), restHome])
      symlinkSync(home, path.join(cache, path.basename(home)));
    mkdirSync(path.join(cache, 'bin'));
    symlinkSync(weed, path.join(cache, 'bin', 'weed'));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !(SETTING_NAMES as readonly string[]).includes(name)),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'hold-servers.ts')], {
      cwd: root,
      env: { ...env, LAKEHOUSE_CACHE: cache },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const printed = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('\n')) resolve(out);
      });
      child.once('exit', (code) => reject(new Error(`hold-servers.ts exited with ${code} before printing`)));
    });
    assert.match(JSON.parse(printed).LAKEHOUSE_CATALOG_URI, /^http:\/\/127\.0\.0\.1:\d+$/);
    const stores = path.join(cache, 'objectstore');
    const servers = serversMentioning(stores);
    assert.is(servers.length, 2, `weed and java: ${servers.join(', ')}`);

    child.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (servers.some(isAlive) || readdirSync(stores).length > 0)) await sleep(200);
    assert.equal(servers.filter(isAlive), [], 'no server left');
    assert.equal(readdirSync(stores), [], 'no directory left');
  } finally {
    for (const pid of serversMentioning(cache)) process.kill(pid, 'SIGKILL');
    rmSync(cache, { recursive: true, force: true });
  }
});

test.run();
