/**
 * `rollback --to <time | gold snapshot id>`: sets every table back to the consistent cut the lake
 * had then (jobs/lake/rollback-plan.ts plans it), with new snapshots, history kept. Bronze's offsets
 * and the consumer group's go back with it, so the next bronze run reads again from Kafka what the
 * rollback dropped, and silver and gold then consume exactly that.
 */
import type { Config } from './config.ts';
import type { JobContext } from './job.ts';
import { ConfigError } from './errors.ts';
import { createKafka, requireTopic, waitForKafka, withAdmin } from './kafka/client.ts';
import { setGroupOffsets } from './kafka/group-offsets.ts';
import type { LoadedTable } from './lake/catalog/catalog.ts';
import { restoreSnapshot } from './lake/iceberg/table.ts';
import { headOf, lakeOf, tables, type TableKey } from './lake/lake.ts';
import { addGap, gapSummary } from './lake/offsets.ts';
import { describeLoss, lossOf, parseTarget, planRollback } from './lake/rollback-plan.ts';
import type { Logger } from './log.ts';
import { rowCounts } from './ops/runs.ts';

async function rollback(config: Config, logger: Logger, context: JobContext) {
  const flags = context.args?.flags ?? new Map<string, string>();
  const target = parseTarget(flags.get('to'));
  const acceptLoss = flags.has('accept-loss');
  if (acceptLoss && !['true', ''].includes(flags.get('accept-loss')!))
    throw new ConfigError('--accept-loss', 'takes no value');
  const lake = lakeOf(config);
  // Downstream first, as verify reads: a table read later can only be newer, never older, than its reader's marker.
  const loaded: Record<TableKey, LoadedTable | undefined> = {
    gold: await lake.find('gold'),
    silver: await lake.find('silver'),
    rejected: await lake.find('rejected'),
    bronze: await lake.find('bronze'),
  };
  const plan = planRollback(
    {
      bronze: loaded.bronze?.metadata,
      silver: loaded.silver?.metadata,
      rejected: loaded.rejected?.metadata,
      gold: loaded.gold?.metadata,
    },
    target,
  );
  const cut = Object.fromEntries(
    Object.entries(plan.cut).map(([k, s]) => [tables[k as TableKey].name, s ? String(s['snapshot-id']) : null]),
  );
  logger.info('rollback plan', {
    to: target.text,
    goldSnapshot: String(plan.gold['snapshot-id']),
    goldSnapshotTime: new Date(plan.gold['timestamp-ms']).toISOString(),
    cut,
    tables: plan.steps.map((s) => tables[s.table].name),
  });

  const kafka = createKafka(config, logger);
  await waitForKafka(kafka, config, logger);
  await withAdmin(kafka, async (admin) => {
    await requireTopic(admin, config, 'rollback');
    const logStart = new Map(
      (await admin.fetchTopicOffsets(config.topic)).map((o) => [o.partition, Number(o.low)] as const),
    );
    const losses = lossOf(plan, logStart);
    if (losses.length > 0 && !acceptLoss)
      throw new ConfigError(
        '--to',
        `Kafka no longer holds records the rollback would drop from bronze (retention): ${describeLoss(losses)}; nothing was changed (--accept-loss rolls back anyway and records them as lost)`,
      );
    if (losses.length > 0)
      logger.warn('rolling back with records Kafka no longer holds', { lost: describeLoss(losses) });
    const gaps = new Map<number, [number, number][]>();
    for (const l of losses) addGap(gaps, l.partition, l.from, l.to);

    const resetGroup = () =>
      setGroupOffsets(
        kafka,
        admin,
        config.consumerGroup,
        config.topic,
        [...plan.nextOffsets].map(([partition, offset]) => ({ partition, offset: String(offset) })),
      );
    for (const step of plan.steps) {
      // Before bronze: the group's offsets at the cut's end are already right for the cut gold now names.
      if (step.table === 'bronze') await resetGroup();
      const table = loaded[step.table]!;
      const summary = step.table === 'bronze' ? { ...step.summary, ...gapSummary(gaps) } : step.summary;
      const committed = await restoreSnapshot(table, step.restore, summary);
      logger.info('table rolled back', {
        table: table.spec.name,
        restored: step.restore ? String(step.restore['snapshot-id']) : 'empty',
        snapshotId: String(headOf(committed)!['snapshot-id']),
        records: Number(headOf(committed)!.summary['total-records']),
      });
    }
    if (!plan.steps.some((s) => s.table === 'bronze') && plan.nextOffsets.size > 0)
      // Bronze was rolled back by an earlier run that died before it could finish; the offsets are set again all the same.
      await resetGroup();
    return losses;
  });
  const reread = [...plan.headOffsets].reduce(
    (n, [p, head]) => n + Math.max(0, head - (plan.nextOffsets.get(p) ?? 0)),
    0,
  );
  const result = {
    to: target.text,
    goldSnapshot: String(plan.gold['snapshot-id']),
    tablesRolledBack: plan.steps.map((s) => tables[s.table].name),
    nextOffsets: Object.fromEntries(plan.nextOffsets),
    recordsToReread: reread,
  };
  logger.info('rollback done', result);
  return { ...result, rowCounts: rowCounts(0, 0) };
}

export const runRollback = Object.assign(rollback, { flags: ['to', 'accept-loss'] as const });
