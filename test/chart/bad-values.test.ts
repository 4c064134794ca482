import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { badValues } from './bad-values.ts';
import { CHART_DIR, helms, run, withTools } from './tools.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lakehouse-bad-values-'));

withTools(test, () => {
  for (const { name: helm, bin } of helms()) {
    for (const [i, bad] of badValues.entries()) {
      test(`${helm} rejects ${bad.name}, naming the field`, () => {
        const file = path.join(dir, `bad-${i}.yaml`);
        writeFileSync(file, stringify(bad.values));
        const apis = (bad.apiVersions ?? []).flatMap((api) => ['--api-versions', api]);
        const result = run(bin, ['template', 'lakehouse', CHART_DIR, '-f', file, ...apis]);
        assert.is.not(result.status, 0, `accepted ${JSON.stringify(bad.values)}`);
        assert.match(result.stderr, bad.field, `message does not name the field:\n${result.stderr}`);
      });
    }
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
