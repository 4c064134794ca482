// Whether a lake exists on a volume: its root directory in its parent's listing, also when that
// parent is the file system's root, as the chart mounts the lake at /data.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HadoopCatalog } from '../../jobs/lake/catalog/hadoop-catalog.ts';
import { fileUri, LocalFileIO } from '../../jobs/lake/io/local-file-io.ts';

const existsAt = (root: string) => new HadoopCatalog(new LocalFileIO(), fileUri(root)).exists();

test('a lake directly under / exists when its directory does (the chart mounts it at /data)', async () => {
  assert.is(await existsAt('/tmp'), true);
  assert.is(await existsAt('/tmp/'), true);
  assert.is(await existsAt('/no-lake-here-at-all'), false);
});

test('a lake deeper down exists when its directory does, and not before', async () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-exists-'));
  try {
    assert.is(await existsAt(path.join(parent, 'lake')), false);
    mkdirSync(path.join(parent, 'lake'));
    assert.is(await existsAt(path.join(parent, 'lake')), true);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test.run();
