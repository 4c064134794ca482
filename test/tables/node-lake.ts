/**
 * A lake written by the Node engine's jobs, each as its own process on the shared test broker, in
 * two incremental pipeline runs (produce → bronze → silver → gold, then verify), the second with a
 * later LAKEHOUSE_START_TIME and another seed. What the first run left is recorded, for time travel.
 * One lake per test process, shared by the test files that ask for it, removed when it exits.
 */
import { rmSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { tables, type TableKey } from '../../jobs/lake/table-schema.ts';
import { sharedBroker } from '../support/broker-fixture.ts';
import { pyiceberg, type TableRead } from '../support/iceberg-readers.ts';
import { describeFailure, runJob, temporaryDir, uniqueNames } from '../support/lake.ts';
import { tableKeys } from './contract-schema.ts';

export interface RunRecord {
  /** Each table as PyIceberg read it right after the run. */
  readonly tables: Record<TableKey, TableRead>;
  /** What the jobs reported: events sent, records bronze read, silver's and verify's results. */
  readonly sent: number;
  readonly bronzeRead: number;
  readonly verify: Record<string, unknown>;
}

export interface NodeLake {
  readonly dir: string;
  readonly run1: RunRecord;
  readonly run2: RunRecord;
  /** A wall-clock time after the first run's last commit and before the second run's first. */
  readonly betweenRunsMs: number;
}

export const runSettings = [
  { LAKEHOUSE_START_TIME: '2023-10-13T13:20:00Z', LAKEHOUSE_EVENTS: '400', LAKEHOUSE_SEED: '42' },
  // A day later: new events on a new day of silver's partitioning, and some that repeat run 1's.
  { LAKEHOUSE_START_TIME: '2023-10-14T13:20:00Z', LAKEHOUSE_EVENTS: '250', LAKEHOUSE_SEED: '7' },
] as const;

async function buildNodeLake(): Promise<NodeLake> {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames('tables');
  const dir = temporaryDir('tables');
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const env = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: topic,
    LAKEHOUSE_CONSUMER_GROUP: group,
    LAKEHOUSE_DATA_DIR: dir,
    LAKEHOUSE_PARTITIONS: '3',
    LAKEHOUSE_INVALID_RATIO: '0.1',
    LAKEHOUSE_DUPLICATE_RATIO: '0.05',
    // Small files and row groups: every table gets several data files.
    LAKEHOUSE_FILE_ROWS: '120',
    LAKEHOUSE_ROW_GROUP_SIZE: '50',
  };
  const job = async (name: string, settings: Record<string, string> = {}) => {
    const outcome = await runJob(name, { ...env, ...settings });
    assert.is(outcome.exitCode, 0, describeFailure(outcome));
    return (outcome.lines.find((l) => l.msg === 'finished')?.result ?? {}) as Record<string, any>;
  };
  await job('topics');
  const runs: RunRecord[] = [];
  let betweenRunsMs = 0;
  for (const settings of runSettings) {
    if (runs.length) betweenRunsMs = Date.now();
    const sent = (await job('produce', settings)).sent as number;
    const bronzeRead = (await job('bronze', settings)).recordsRead as number;
    await job('silver', settings);
    await job('gold', settings);
    const verify = await job('verify', settings);
    const reads = await pyiceberg(
      dir,
      tableKeys.map((k) => ({ table: tables[k].name })),
    );
    runs.push({
      tables: Object.fromEntries(tableKeys.map((k, i) => [k, reads[i]])) as Record<TableKey, TableRead>,
      sent,
      bronzeRead,
      verify,
    });
  }
  return { dir, run1: runs[0], run2: runs[1], betweenRunsMs };
}

let shared: Promise<NodeLake> | undefined;

export function sharedNodeLake(): Promise<NodeLake> {
  shared ??= buildNodeLake();
  return shared;
}
