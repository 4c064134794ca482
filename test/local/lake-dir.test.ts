import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseLake, LAKE_MARKER, LakeRefused } from '../../dev/local/lake-dir.ts';
import { temporaryDir } from '../support/lake.ts';

const now = new Date('2026-11-28T06:07:43.123Z');

test('without a directory, each run gets a new marked lake under the lakes directory', () => {
  const lakes = path.join(temporaryDir('lakes'), 'data');
  const first = chooseLake(undefined, lakes, now);
  const second = chooseLake(undefined, lakes, now);
  assert.is(first.dir, path.join(lakes, 'run-20261128T060743Z'));
  assert.is(second.dir, path.join(lakes, 'run-20261128T060743Z-2'));
  for (const lake of [first, second]) {
    assert.ok(lake.empty);
    assert.equal(fs.readdirSync(lake.dir), [LAKE_MARKER]);
  }
});

test('a given directory that is missing or empty is claimed with the marker', () => {
  const root = temporaryDir('given');
  const missing = path.join(root, 'a', 'b');
  assert.equal(chooseLake(missing), { dir: missing, empty: true });
  assert.ok(fs.existsSync(path.join(missing, LAKE_MARKER)));
  const empty = path.join(root, 'empty');
  fs.mkdirSync(empty);
  assert.equal(chooseLake(empty), { dir: empty, empty: true });
  assert.ok(fs.existsSync(path.join(empty, LAKE_MARKER)));
});

test('a lake a local run created is reused, and says whether it holds data', () => {
  const dir = temporaryDir('reuse');
  chooseLake(dir);
  assert.equal(chooseLake(dir), { dir, empty: true });
  fs.mkdirSync(path.join(dir, 'bronze'));
  assert.equal(chooseLake(dir), { dir, empty: false });
});

test('a non-empty directory a local run did not create is refused and left untouched', () => {
  const dir = temporaryDir('user');
  fs.writeFileSync(path.join(dir, 'thesis.tex'), 'years of work');
  fs.mkdirSync(path.join(dir, 'bronze'));
  try {
    chooseLake(dir);
    assert.unreachable('used a directory holding a user file');
  } catch (error) {
    assert.instance(error, LakeRefused);
    assert.ok((error as Error).message.includes(dir), (error as Error).message);
    assert.not.match((error as Error).message, /\n/);
  }
  assert.equal(fs.readdirSync(dir).sort(), ['bronze', 'thesis.tex']);
  assert.is(fs.readFileSync(path.join(dir, 'thesis.tex'), 'utf8'), 'years of work');
});

test('a file is refused as a lake', () => {
  const file = path.join(temporaryDir('file'), 'notes.txt');
  fs.writeFileSync(file, 'x');
  assert.throws(
    () => chooseLake(file),
    (error: Error) => error instanceof LakeRefused && error.message.includes(file),
  );
});

test.run();
