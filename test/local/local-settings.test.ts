// `npm run local` checks the jobs' settings, from its flags or the environment, before it starts
// anything: a bad one stops it with one line naming the setting (exit 2).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { temporaryDir } from '../support/lake.ts';
import { envWithout, runLocal } from '../support/local-run.ts';

test('a bad vehicle type list is refused naming the flag or the variable it came from, before any broker or lake', async () => {
  const dir = temporaryDir('local-types');
  const env = { ...envWithout('KAFKA_BOOTSTRAP_SERVER', 'LAKEHOUSE_VEHICLE_TYPES'), LAKEHOUSE_DATA_DIR: dir };
  for (const [args, extra, named] of [
    [['--vehicle-types', 'car,Truck'], {}, /--vehicle-types: "Truck" is not a lowercase name/],
    [[], { LAKEHOUSE_VEHICLE_TYPES: 'car,car' }, /LAKEHOUSE_VEHICLE_TYPES: "car" is named twice/],
  ] as const) {
    const run = await runLocal(args, { ...env, ...extra });
    assert.is(run.exitCode, 2, run.stderr);
    assert.is(run.stdout, '', 'nothing started');
    assert.match(run.stderr, named);
  }
});

test.run();
