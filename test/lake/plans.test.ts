/**
 * The stages' plans on metadata and Kafka offsets built in memory, no broker and no process: where
 * bronze resumes and what it records as lost, the order silver places bronze's files in, verify's
 * check of the group's committed offsets, and what maintenance may expire.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planRanges } from '../../jobs/bronze.ts';
import type { DataFile } from '../../jobs/lake/iceberg/manifest.ts';
import { currentSnapshot } from '../../jobs/lake/iceberg/metadata.ts';
import type { LiveFile } from '../../jobs/lake/iceberg/table.ts';
import { consistentCut, consumedByReaders, silverInput } from '../../jobs/lake/lineage.ts';
import { summaryKeys } from '../../jobs/lake/table-schema.ts';
import { planExpiry } from '../../jobs/maintain/expire.ts';
import { planSilver } from '../../jobs/silver.ts';
import { groupOffsetsProblem } from '../../jobs/verify.ts';
import { bronzeOffsets, consumedBronze, consumedSilver, History } from '../support/history.ts';

const source = { topic: 'vehicles-events', bootstrapServers: ['kafka:9093'] };
const cluster = (watermarks: [number, number][]) => ({
  clusterId: 'cluster-a',
  watermarks: watermarks.map(([low, high], partition) => ({ partition, low, high })),
});
const bronzeHead = (summary: Record<string, string>) =>
  currentSnapshot(new History().append(1, { [summaryKeys.clusterId]: 'cluster-a', ...summary }).metadata());

const bronze = suite('bronze: where each partition resumes');

bronze('the first run on a topic whose start was deleted records what it never saw, from offset 0', () => {
  const ranges = planRanges(
    undefined,
    source,
    cluster([
      [5, 9],
      [0, 3],
    ]),
  );
  assert.equal(ranges[0], { partition: 0, first: 0, next: 5, end: 9, gaps: [[0, 5]] });
  assert.equal(ranges[1], { partition: 1, first: 0, next: 0, end: 3, gaps: [] });
});

bronze('a later run resumes where the table ends; what retention deleted meanwhile is a gap', () => {
  const head = bronzeHead({ [summaryKeys.nextOffsets]: JSON.stringify({ 0: 10, 1: 3 }) });
  const ranges = planRanges(
    head,
    source,
    cluster([
      [12, 20],
      [0, 3],
    ]),
  );
  assert.equal(ranges[0], { partition: 0, first: 10, next: 12, end: 20, gaps: [[10, 12]] });
  assert.equal(ranges[1], { partition: 1, first: 3, next: 3, end: 3, gaps: [] });
});

bronze('a lake from another cluster is refused, naming both', () => {
  assert.throws(
    () => planRanges(bronzeHead({}), source, { ...cluster([[0, 1]]), clusterId: 'cluster-b' }),
    /read from Kafka cluster cluster-a, but kafka:9093 is cluster cluster-b/,
  );
});

bronze('a topic that ends before the table does (recreated) is refused', () => {
  const head = bronzeHead({ [summaryKeys.nextOffsets]: JSON.stringify({ 0: 10 }) });
  assert.throws(() => planRanges(head, source, cluster([[0, 4]])), /holds offsets up to 9 but the topic ends at 3/);
});

bronze('a topic deleted and created again is refused by its id, even when it has grown past the table', () => {
  const head = bronzeHead({
    [summaryKeys.nextOffsets]: JSON.stringify({ 0: 10 }),
    [summaryKeys.topicId]: 'AAAAAAAAAAAAAAAAAAAAAQ',
  });
  const recreated = { ...cluster([[0, 50]]), topicId: 'AAAAAAAAAAAAAAAAAAAAAg' };
  assert.throws(
    () => planRanges(head, source, recreated),
    /holds offsets of topic "vehicles-events" with id AAAAAAAAAAAAAAAAAAAAAQ, but the topic now has id AAAAAAAAAAAAAAAAAAAAAg: it was deleted and created again/,
  );
  // The same topic, or a lake that recorded no id (written before ids were recorded, or by a Kafka without them), goes on.
  assert.is(planRanges(head, source, { ...recreated, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' })[0]!.next, 10);
  assert.is(planRanges(bronzeHead({ [summaryKeys.nextOffsets]: '{"0":10}' }), source, recreated)[0]!.next, 10);
  assert.is(planRanges(head, source, { ...recreated, topicId: undefined })[0]!.next, 10);
});

bronze.run();

const silver = suite('silver: the bronze files to place, in order');

const liveFile = (addedBy: number, partition: number, offset: number, rows = 10): LiveFile => {
  const int = Buffer.alloc(4);
  int.writeInt32LE(partition);
  const long = Buffer.alloc(8);
  long.writeBigInt64LE(BigInt(offset));
  const file: DataFile = {
    path: `file:/lake/bronze/vehicles/data/${addedBy}-${partition}.parquet`,
    recordCount: rows,
    fileSizeInBytes: 100,
    partition: {},
    columnSizes: new Map(),
    valueCounts: new Map(),
    nullValueCounts: new Map(),
    lowerBounds: new Map([
      [4, int],
      [5, long],
    ]),
    upperBounds: new Map(),
  };
  return { file, addedBy: BigInt(addedBy) };
};

silver('snapshot by snapshot, then by partition and offset; recovered files do not write their rejects again', () => {
  const b = new History().append(1).append(2).append(3).metadata();
  const input = silverInput(
    b,
    new History().append(101, consumedBronze(1)).metadata(),
    new History().append(201, consumedBronze(2)).metadata(),
  );
  const plan = planSilver(input, [liveFile(3, 1, 0), liveFile(3, 0, 40), liveFile(2, 2, 7), liveFile(1, 0, 0)]);
  assert.equal(
    plan!.files.map((f) => [Number(f.live.addedBy), f.live.file.path.split('/').at(-1), f.rejectsCommitted]),
    [
      [2, '2-2.parquet', true],
      [3, '3-0.parquet', false],
      [3, '3-1.parquet', false],
    ],
  );
  assert.is(plan!.rows, 30);
});

silver('nothing new: no plan', () => {
  const b = new History().append(1).metadata();
  assert.is(
    planSilver(silverInput(b, new History().append(101, consumedBronze(1)).metadata(), undefined), []),
    undefined,
  );
});

silver.run();

const verify = suite("verify: the group's committed offsets");

/** Bronze snapshots 1 (ends at p0 10, p1 5) and 2 (ends at p0 20, p1 9). */
const twoRuns = () =>
  new History()
    .append(1, { [summaryKeys.nextOffsets]: JSON.stringify({ 0: 10, 1: 5 }) })
    .append(2, { [summaryKeys.nextOffsets]: JSON.stringify({ 0: 20, 1: 9 }) })
    .metadata();

verify('a group half moved by a run committing while verify reads is accepted, partition by partition', () => {
  const b = twoRuns();
  const cut = b.snapshots![0];
  assert.is(
    groupOffsetsProblem(
      b,
      cut,
      new Map([
        [0, 20],
        [1, 5],
      ]),
      'g',
    ),
    undefined,
  );
});

verify('an offset no snapshot ends at is named', () => {
  const b = twoRuns();
  assert.is(
    groupOffsetsProblem(
      b,
      b.snapshots![0],
      new Map([
        [0, 10],
        [1, 7],
      ]),
      'g',
    ),
    "partition 1: bronze ends before offset 5 (or a later snapshot's end) but the group g committed 7",
  );
  assert.is(
    groupOffsetsProblem(b, b.snapshots![1], new Map([[0, 20]]), 'g'),
    'partition 1: bronze ends before offset 9 but the group g committed nothing',
  );
});

verify.run();

const maintain = suite('maintain: what may be expired');

maintain("bronze keeps the snapshot verify's cut reads and everything after it", () => {
  const b = new History()
    .append(1, bronzeOffsets(0, 10))
    .append(2, bronzeOffsets(10, 20))
    .append(3, bronzeOffsets(20, 30))
    .append(4, bronzeOffsets(30, 40));
  const lake = {
    bronze: b.metadata(),
    silver: new History().append(101, consumedBronze(2)).append(102, consumedBronze(4)).metadata(),
    rejected: undefined,
    gold: new History().overwrite(301, consumedSilver(101)).metadata(),
  };
  assert.is(Number(consistentCut(lake).snapshots.bronze!['snapshot-id']), 2);
  const plan = planExpiry(b.metadata(), consumedByReaders(lake).bronze, 0, 0, Date.now());
  assert.equal(
    plan.expired.map((s) => Number(s['snapshot-id'])),
    [1],
  );
});

maintain('nothing is expired before silver has consumed anything', () => {
  const b = new History().append(1).append(2).metadata();
  const consumed = consumedByReaders({ bronze: b, silver: undefined, rejected: undefined, gold: undefined }).bronze;
  assert.equal(planExpiry(b, consumed, 0, 0).expired, []);
});

maintain.run();
