// npm run objectstore -- start|status|stop, as a shell uses it: `eval "$(… start)"` sets the
// settings; a second start finds the running store; a store whose process died is replaced by a
// fresh one; stop leaves nothing behind.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAlive } from '../../dev/broker/process-control.ts';
import { connectCatalog } from '../../dev/objectstore/catalog-client.ts';
import { seaweedfsBinary } from '../../dev/objectstore/installers.ts';
import { s3Client } from '../../dev/objectstore/s3.ts';
import { objectStoreRunning, type ObjectStoreHandle } from '../../dev/objectstore/seaweedfs.ts';
import { type CatalogSettings, SETTING_NAMES } from '../../dev/objectstore/settings.ts';

const root = path.resolve(import.meta.dirname, '../..');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A cache of its own, so this never touches a store a developer started; the installed weed is shared. */
async function testCache(): Promise<string> {
  const weed = await seaweedfsBinary();
  const home = path.resolve(weed, '../../..');
  const cache = mkdtempSync(path.join(tmpdir(), 'lakehouse-objectstore-cli-'));
  symlinkSync(home, path.join(cache, path.basename(home)));
  mkdirSync(path.join(cache, 'bin'));
  symlinkSync(weed, path.join(cache, 'bin', 'weed'));
  return cache;
}

let cache: string;
const state = () => path.join(cache, 'objectstore-state.json');
const handle = () => JSON.parse(readFileSync(state(), 'utf8')) as ObjectStoreHandle;

/** Runs `script` in bash, where `cli` is what `npm run objectstore --` runs, in an environment without any store's settings. */
function shell(script: string): Promise<Run> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !(SETTING_NAMES as readonly string[]).includes(name)),
  );
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', `cli() { "$NODE" --import tsx dev/objectstore/cli.ts "$@"; }\n${script}`],
      { cwd: root, env: { ...env, LAKEHOUSE_CACHE: cache, NODE: process.execPath }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `eval "$(cli start)"`, then the variables it set. */
async function evalStart(): Promise<CatalogSettings> {
  const print = SETTING_NAMES.map((name) => `printf '%s=%s\\n' ${name} "$${name}"`).join('; ');
  const run = await shell(`set -e; eval "$(cli start)"; ${print}`);
  assert.is(run.code, 0, run.stderr);
  return Object.fromEntries(
    run.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  ) as unknown as CatalogSettings;
}

/** The store the settings name answers S3 and catalog requests. */
async function answers(settings: CatalogSettings): Promise<void> {
  const buckets = await s3Client(settings).fetch(`${settings.LAKEHOUSE_S3_ENDPOINT}/`);
  assert.is(buckets.status, 200, await buckets.text());
  const namespaces = await (await connectCatalog(settings)).request('GET', 'namespaces');
  assert.is(namespaces.status, 200, namespaces.text);
}

test.before(async () => {
  cache = await testCache();
});

test.after(async () => {
  if (existsSync(state())) await shell('cli stop');
  rmSync(cache, { recursive: true, force: true });
});

test('status before any start: not running (exit 1)', async () => {
  const run = await shell('cli status');
  assert.equal([run.code, run.stdout], [1, '# objectstore not running\n']);
});

test('eval "$(… start)" sets the settings of a running store, which answers with them', async () => {
  const settings = await evalStart();
  assert.is(settings.LAKEHOUSE_CATALOG, 'rest');
  assert.match(settings.LAKEHOUSE_CATALOG_URI, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.is(settings.LAKEHOUSE_CATALOG_WAREHOUSE, 's3://lakehouse');
  assert.match(settings.LAKEHOUSE_S3_ENDPOINT, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.is(settings.LAKEHOUSE_CATALOG_CREDENTIAL, `${settings.AWS_ACCESS_KEY_ID}:${settings.AWS_SECRET_ACCESS_KEY}`);
  assert.is(settings.AWS_REGION, 'us-east-1');
  assert.ok(objectStoreRunning(handle()), 'weed outlives the command that started it');
  assert.ok(handle().dir.startsWith(path.join(cache, 'objectstore')), handle().dir);
  await answers(settings);
});

test('start again reuses the running store; status prints the same settings', async () => {
  const before = handle();
  const first = await evalStart();
  const again = await evalStart();
  assert.equal(again, first);
  assert.is(handle().pid, before.pid);
  const status = await shell('cli status');
  assert.is(status.code, 0);
  const [comment, ...exports] = status.stdout.trim().split('\n');
  assert.match(comment, `# objectstore running (pid ${before.pid}, data ${before.dir}`);
  assert.ok(exports.includes(`export LAKEHOUSE_CATALOG_URI=${first.LAKEHOUSE_CATALOG_URI}`), status.stdout);
  const evalStatus = await shell('eval "$(cli status)" && echo "$LAKEHOUSE_S3_ENDPOINT"');
  assert.is(evalStatus.stdout.trim(), first.LAKEHOUSE_S3_ENDPOINT, 'status output evals too');
});

test('a store whose process died is replaced by a fresh one on the next start', async () => {
  const dead = handle();
  const settings = await evalStart();
  process.kill(dead.pid, 'SIGKILL');
  while (isAlive(dead.pid)) await sleep(50);
  const status = await shell('cli status');
  assert.is(status.code, 1, status.stdout);
  const fresh = await evalStart();
  const replaced = handle();
  assert.is.not(replaced.pid, dead.pid);
  assert.is.not(replaced.dir, dead.dir);
  assert.not.ok(existsSync(dead.dir), 'the dead store dir is removed');
  assert.is.not(fresh.AWS_SECRET_ACCESS_KEY, settings.AWS_SECRET_ACCESS_KEY, 'a fresh store has fresh credentials');
  await answers(fresh);
});

test('stop stops it and removes its directory and the state; a second stop says there is nothing', async () => {
  const running = handle();
  const stopped = await shell('cli stop');
  assert.equal([stopped.code, stopped.stdout], [0, `objectstore stopped (pid ${running.pid})\n`]);
  assert.not.ok(isAlive(running.pid), 'no weed left');
  assert.not.ok(existsSync(running.dir), 'its directory is removed');
  assert.not.ok(existsSync(state()), 'the state file is removed');
  const again = await shell('cli stop');
  assert.equal([again.code, again.stdout], [0, 'objectstore not running (no state file)\n']);
  assert.is((await shell('cli status')).code, 1);
});

test.run();
