/**
 * The continuous producer on a real broker: started before its topic exists, streamed for a few
 * seconds, stopped by SIGTERM; then Kafka, bronze and silver are read back.
 */
import type { ChildProcess } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { vehicleProfiles } from '../../jobs/events/fleet.ts';
import { metresBetween } from '../../jobs/events/geo.ts';
import { loadConfig } from '../../jobs/config.ts';
import { eventValidator } from '../../jobs/events/validate.ts';
import type { ProducedEvent } from '../../jobs/events/vehicle-event.ts';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { query } from '../support/duckdb.ts';
import { describeFailure, runJob, temporaryDir, uniqueNames, type JobOutcome } from '../support/lake.ts';
import { tableSql } from '../support/tables.ts';

const { validateRaw, validateObject } = eventValidator(loadConfig(new Map(), {}));
const RATE = 200;
const STREAM_MS = 6_000;
const INVALID_RATIO = 0.1;
const DUPLICATE_RATIO = 0.02;

const continuous = suite('continuous producer');
let env: Record<string, string>;
let dir: string;
let outcome: JobOutcome;
let streamedMs = 0;

continuous.before(async () => {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames('stream');
  dir = temporaryDir('stream');
  env = {
    KAFKA_BOOTSTRAP_SERVER: bootstrap,
    LAKEHOUSE_TOPIC: topic,
    LAKEHOUSE_CONSUMER_GROUP: group,
    LAKEHOUSE_DATA_DIR: dir,
    LAKEHOUSE_PRODUCER_MODE: 'continuous',
    LAKEHOUSE_EVENTS_PER_SECOND: String(RATE),
    LAKEHOUSE_SEED: '7',
    LAKEHOUSE_INVALID_RATIO: String(INVALID_RATIO),
    LAKEHOUSE_DUPLICATE_RATIO: String(DUPLICATE_RATIO),
  };
  let topics: Promise<JobOutcome> | undefined;
  let streamingSince = 0;
  outcome = await runJob('produce', env, [], (line, child: ChildProcess) => {
    // The topics job runs only once the producer says it is waiting for the topic, as the chart's hook does.
    if (line.msg === 'waiting for the topic') topics ??= runJob('topics', env);
    if (line.msg === 'streaming') {
      streamingSince = Date.now();
      setTimeout(() => {
        streamedMs = Date.now() - streamingSince;
        child.kill('SIGTERM');
      }, STREAM_MS);
    }
  });
  assert.ok(topics, 'the producer said it was waiting for the topic');
  assert.is((await topics).exitCode, 0);
});

const finished = () =>
  outcome.lines.find((l) => l.msg === 'finished') as { signal?: string; result: Record<string, number> } | undefined;

continuous('SIGTERM ends it cleanly: exit 0 and a finished line that counts what Kafka acknowledged', () => {
  assert.is(outcome.exitCode, 0, describeFailure(outcome));
  assert.ok(outcome.lines.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM'));
  const end = finished();
  assert.ok(end, 'a finished line');
  assert.is(end.signal, 'SIGTERM');
  assert.is(end.result.unconfirmed, 0);
  assert.is(end.result.acknowledged, end.result.sent);
  assert.is(end.result.valid + end.result.invalid + end.result.duplicates, end.result.acknowledged);
  assert.is(outcome.lines.at(-1)?.msg, 'finished');
});

continuous('Kafka holds exactly the acknowledged records, sent near the asked rate', async () => {
  const { acknowledged } = finished()!.result;
  const kafka = testKafka(env.KAFKA_BOOTSTRAP_SERVER);
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(env.LAKEHOUSE_TOPIC);
  await admin.disconnect();
  assert.is(
    offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0),
    acknowledged,
  );
  // A sanity bound only: rates are measured by the benchmarks, not asserted here.
  const expected = (RATE * streamedMs) / 1000;
  assert.ok(
    acknowledged > expected * 0.5 && acknowledged < expected * 1.2,
    `${acknowledged} events in ${streamedMs} ms at ${RATE}/s`,
  );
});

continuous(
  'bronze and silver: the rejected share is the invalid ratio, the duplicates are found, every silver row passes the rules',
  async () => {
    for (const job of ['bronze', 'silver']) {
      const run = await runJob(job, env);
      assert.is(run.exitCode, 0, describeFailure(run));
    }
    const { acknowledged, invalid, duplicates } = finished()!.result;
    const [{ bronze }] = await query<{ bronze: number }>(
      `select count(*)::int as bronze from ${await tableSql(dir, 'bronze')}`,
    );
    assert.is(bronze, acknowledged);
    const reasons = await query<{ reason: string; n: number }>(
      `select reason, count(*)::int as n from ${await tableSql(dir, 'rejected')} group by reason`,
    );
    const rejected = reasons.filter((r) => r.reason !== 'duplicate').reduce((sum, r) => sum + r.n, 0);
    assert.is(rejected, invalid, JSON.stringify(reasons));
    assert.ok(Math.abs(rejected / bronze - INVALID_RATIO) < 0.03, `${rejected} of ${bronze} rejected`);
    assert.is(reasons.find((r) => r.reason === 'duplicate')?.n ?? 0, duplicates);
    const silver = await query<Record<string, unknown>>(
      `select vehicle_id as "vehicleId", type, latitude, longitude, battery, epoch_ms(event_time)::bigint as timestamp from ${await tableSql(dir, 'silver')}`,
    );
    assert.is(silver.length, bronze - rejected - duplicates);
    for (const row of silver) {
      const event = { ...row, timestamp: Number(row.timestamp) };
      const check = validateObject(event);
      if (!check.ok) assert.unreachable(`silver row ${JSON.stringify(event)} breaks the rules: ${check.detail}`);
    }
  },
);

continuous(
  'a fleet: each vehicle keeps its type, moves plausibly for its type and the time passed, and its battery drains and recharges',
  async () => {
    const rows = await query<{ value: string; partition: number; offset: bigint }>(
      `select decode(value) as value, "partition", "offset" from ${await tableSql(dir, 'bronze')} order by "partition", "offset"`,
    );
    const byVehicle = new Map<string, ProducedEvent[]>();
    for (const row of rows) {
      const check = validateRaw(row.value);
      if (!check.ok) continue;
      const track = byVehicle.get(check.event.vehicleId) ?? [];
      const last = track.at(-1);
      // A duplicate is an exact re-send of the last event, not a new position.
      if (last && last.timestamp === check.event.timestamp) continue;
      track.push(check.event as ProducedEvent);
      byVehicle.set(check.event.vehicleId, track);
    }
    assert.ok(byVehicle.size >= RATE * 0.9, `${byVehicle.size} vehicles`);
    let charged = 0;
    let moved = 0;
    for (const [id, track] of byVehicle) {
      assert.equal(new Set(track.map((e) => e.type)).size, 1, `${id} keeps its type`);
      assert.ok(id.startsWith(track[0].type.toUpperCase() + '_'), id);
      for (let i = 1; i < track.length; i++) {
        const [a, b] = [track[i - 1], track[i]];
        assert.ok(b.timestamp > a.timestamp, `${id}: time advances`);
        const seconds = (b.timestamp - a.timestamp) / 1000;
        const metres = metresBetween(a, b);
        assert.ok(
          metres <= vehicleProfiles[a.type].max * seconds + 0.5,
          `${id} (${a.type}) moved ${metres.toFixed(1)} m in ${seconds} s`,
        );
        assert.ok(b.battery >= 0 && b.battery <= 100);
        if (b.battery > a.battery) {
          charged++;
          assert.equal([b.latitude, b.longitude], [a.latitude, a.longitude], `${id} stands still while it charges`);
        }
        if (metres > 1) moved++;
      }
    }
    assert.ok(charged > 0, 'some vehicle recharged');
    assert.ok(moved > byVehicle.size, `${moved} moves`);
    const now = Date.now();
    const times = [...byVehicle.values()].flat().map((e) => e.timestamp);
    assert.ok(Math.min(...times) > now - 120_000 && Math.max(...times) <= now, 'event time is the wall clock');
  },
);

continuous.run();
