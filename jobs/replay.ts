import { randomUUID } from 'node:crypto';
import type { Config } from './config.ts';
import {
  candidateFates,
  countFate,
  duplicateReason,
  replayReasons,
  silverKey,
  type Candidate,
  type Fate,
  type Holder,
  type ReplayCounts,
} from './curate/replay-plan.ts';
import { coordinate, recordsAppendedBy } from './curate/replayed-rows.ts';
import { ConfigError } from './errors.ts';
import { compileTemplate, detailOf } from './events/rules.ts';
import { eventValidator, type ReasonCode } from './events/validate.ts';
import type { VehicleEvent } from './events/vehicle-event.ts';
import { runGold } from './gold.ts';
import type { JobContext } from './job.ts';
import { mayRemoveFilesAfter, type LoadedTable } from './lake/catalog/catalog.ts';
import { readDataFile } from './lake/data-file-source.ts';
import { appendFiles, liveFiles, overwriteFiles } from './lake/iceberg/table.ts';
import { DataFileWriter, headOf, lakeOf } from './lake/lake.ts';
import { replayInput, silverInput } from './lake/lineage.ts';
import { rejectedColumns, silverColumns, summaryKeys, tables, type RejectedRow } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { rowCounts, type RowCounts } from './ops/runs.ts';
import { silverRow } from './silver.ts';

export interface ReplaySummary extends RowCounts {
  readonly dryRun: boolean;
  /** Rows of the quarantine re-validated (those of the reasons asked, duplicates never). */
  readonly examined: number;
  readonly replayed: number;
  /** Rows that pass the rules now but whose event silver already holds: they stay, as duplicates. */
  readonly duplicates: number;
  readonly stillRejected: number;
  readonly reasons: ReplayCounts;
  /** Rows of an earlier replay that died between its commits, now taken out of the quarantine. */
  readonly completed: number;
}

const dayMs = 86_400_000;
const writer = 'node replay';
const duplicateDetail = compileTemplate(detailOf('duplicate', 'duplicate'), ['partition', 'offset']);

/** `--dry-run` alone or `--dry-run=true|false`. */
function dryRunOf(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ConfigError('--dry-run', `takes no value (got "${value}")`);
}

/**
 * Re-validates the rows of silver.rejected under the current settings (docs/curation.md): those
 * that pass now are appended to silver.vehicles (one commit, recording the replay's id), then the
 * quarantine is rewritten without them (a second commit, with the same id); a row whose event silver
 * already holds stays as a duplicate. A replay that died between its commits is completed first.
 * Gold is brought up to date last.
 */
async function replay(config: Config, logger: Logger, context: JobContext): Promise<ReplaySummary> {
  const flags = context.args?.flags ?? new Map<string, string>();
  const reasons = replayReasons(flags.get('reason'), context.args?.positional ?? []);
  const dryRun = dryRunOf(flags.get('dry-run'));
  const lake = lakeOf(config);
  const bronze = await lake.find('bronze');
  let silver = await lake.find('silver');
  let rejected = await lake.find('rejected');
  const nothing: ReplaySummary = {
    dryRun,
    examined: 0,
    replayed: 0,
    duplicates: 0,
    stillRejected: 0,
    reasons: {},
    completed: 0,
    rowCounts: rowCounts(0, 0),
  };
  if (!bronze || !silver || !rejected || !headOf(rejected)) {
    logger.info('the quarantine is empty: nothing to replay');
    return nothing;
  }
  if (silverInput(bronze.metadata, silver.metadata, rejected.metadata).recover.length > 0)
    throw new Error('a silver run died between its two commits; run silver first, then replay');

  let completed = 0;
  for (const unfinished of replayInput(silver.metadata, rejected.metadata).unfinished) {
    const inSilver = await recordsAppendedBy(silver, unfinished.silverSnapshot);
    if (dryRun) {
      logger.info('a replay died between its commits; replay (without --dry-run) completes it', {
        replay: unfinished.id,
        rows: inSilver.size,
      });
      continue;
    }
    rejected = await rewriteQuarantine(rejected, config, unfinished.id, (row) =>
      inSilver.has(coordinate(row.source_partition, row.source_offset)) ? undefined : row,
    );
    completed += inSilver.size;
    logger.info('completed a replay that died between its commits', { replay: unfinished.id, rows: inSilver.size });
  }

  const plan = await planReplay(silver, rejected, config, reasons);
  const moving = [...plan.fates.values()].filter((f) => f.kind === 'silver').length;
  const duplicates = plan.fates.size - moving;
  const summary: ReplaySummary = {
    dryRun,
    examined: plan.examined,
    replayed: moving,
    duplicates,
    stillRejected: plan.examined - plan.fates.size,
    reasons: plan.counts,
    completed,
    rowCounts: rowCounts(plan.examined, dryRun ? 0 : moving),
  };
  logger.info(dryRun ? 'replay would move' : 'replay plan', { reasons: plan.counts });
  if (dryRun || plan.fates.size === 0) {
    if (!dryRun) logger.info('nothing in the quarantine passes the rules now');
    return summary;
  }

  const id = randomUUID();
  const silverWriter = new DataFileWriter(silver, silverColumns, config.rowGroupSize, config.fileRows);
  let silverCommitted = false;
  try {
    for (const [candidate, fate] of plan.fates) {
      if (fate.kind !== 'silver') continue;
      const e = plan.events.get(candidate)!;
      silverWriter.write(silverRow(e, e.timestamp, candidate));
    }
    const files = await silverWriter.finish();
    // Silver first: a run that dies after this commit left its rows in both tables, which verify
    // counts once and the next replay takes out of the quarantine (lineage.replayInput).
    if (moving > 0) {
      const marker = replayInput(silver.metadata, rejected.metadata).bronzeMarker;
      silver = await appendFiles(silver, files, {
        ...(marker === undefined ? {} : { [summaryKeys.bronzeSnapshot]: String(marker) }),
        [summaryKeys.replayId]: id,
        [summaryKeys.writer]: writer,
      });
      silverCommitted = true;
      logger.info('silver.vehicles committed', { replay: id, rows: moving });
    }
  } catch (error) {
    if (!silverCommitted && mayRemoveFilesAfter(error)) await silverWriter.abort();
    throw error;
  }
  const byCoordinate = new Map([...plan.fates].map(([c, f]) => [coordinate(c.partition, c.offset), f]));
  await rewriteQuarantine(rejected, config, id, (row) => {
    const fate = byCoordinate.get(coordinate(row.source_partition, row.source_offset));
    if (!fate) return row;
    if (fate.kind === 'silver') return undefined;
    return {
      ...row,
      reason: duplicateReason,
      field: null,
      detail: duplicateDetail({ partition: String(fate.of.partition), offset: String(fate.of.offset) }),
    };
  });
  logger.info('silver.rejected committed', { replay: id, replayed: moving, duplicates });
  // Gold adds the appended rows to its sums, as after any silver run.
  await runGold(config, logger);
  return summary;
}

export const runReplay = Object.assign(replay, { flags: ['reason', 'dry-run'] as const });

interface ReplayPlan {
  readonly examined: number;
  readonly counts: ReplayCounts;
  readonly fates: Map<Candidate, Fate>;
  readonly events: Map<Candidate, VehicleEvent>;
}

/** Re-validates the quarantined rows of `reasons` and de-duplicates those that pass against silver. */
async function planReplay(
  silver: LoadedTable,
  rejected: LoadedTable,
  config: Config,
  reasons: ReadonlySet<ReasonCode>,
): Promise<ReplayPlan> {
  const { validateBytes } = eventValidator(config);
  const rows: { reason: ReasonCode; candidate?: Candidate }[] = [];
  const events = new Map<Candidate, VehicleEvent>();
  for (const { file } of await liveFiles(rejected)) {
    for await (const { rows: n, columns } of readDataFile(rejected.files, file, rejectedColumns, [
      'raw_value',
      'source_partition',
      'source_offset',
      'reason',
    ])) {
      for (let i = 0; i < n; i++) {
        const reason = columns.reason[i] as ReasonCode;
        if (reason === duplicateReason || !reasons.has(reason)) continue;
        const result = validateBytes((columns.raw_value as ArrayLike<Uint8Array | null>)[i] ?? null);
        if (!result.ok) {
          rows.push({ reason });
          continue;
        }
        const candidate: Candidate = {
          partition: columns.source_partition[i] as number,
          offset: columns.source_offset[i] as number,
          vehicleId: result.event.vehicleId,
          eventTime: result.event.timestamp,
        };
        events.set(candidate, result.event);
        rows.push({ reason, candidate });
      }
    }
  }
  const candidates = [...events.keys()];
  const fates = candidateFates(candidates, await silverHolders(silver, candidates));
  const counts: ReplayCounts = {};
  for (const row of rows) countFate(counts, row.reason, row.candidate && fates.get(row.candidate));
  return { examined: rows.length, counts, fates, events };
}

/** The silver rows holding a candidate's (vehicle, time): read from the files of the candidates' days only. */
async function silverHolders(silver: LoadedTable, candidates: readonly Candidate[]): Promise<Map<string, Holder>> {
  const wanted = new Set(candidates.map((c) => silverKey(c.vehicleId, c.eventTime)));
  const days = new Set(candidates.map((c) => Math.floor(c.eventTime / dayMs)));
  const held = new Map<string, Holder>();
  if (wanted.size === 0 || !headOf(silver)) return held;
  const partitionName = tables.silver.partitionBy[0].name;
  for (const { file } of await liveFiles(silver)) {
    const day = file.partition[partitionName];
    if (day !== null && day !== undefined && !days.has(day)) continue;
    for await (const { rows, columns: c } of readDataFile(silver.files, file, silverColumns, [
      'vehicle_id',
      'event_time',
      'source_partition',
      'source_offset',
    ])) {
      for (let i = 0; i < rows; i++) {
        const key = silverKey(c.vehicle_id[i] as string, c.event_time[i] as number);
        if (wanted.has(key))
          held.set(key, { partition: c.source_partition[i] as number, offset: c.source_offset[i] as number });
      }
    }
  }
  return held;
}

/** Rewrites every row of the quarantine through `change` (undefined: the row leaves it), as one overwrite recording the replay. */
async function rewriteQuarantine(
  rejected: LoadedTable,
  config: Config,
  id: string,
  change: (row: RejectedRow) => RejectedRow | undefined,
): Promise<LoadedTable> {
  const out = new DataFileWriter(rejected, rejectedColumns, config.rowGroupSize, config.fileRows);
  const names = rejectedColumns.map((c) => c.name);
  try {
    for (const { file } of await liveFiles(rejected)) {
      for await (const { rows, columns: c } of readDataFile(rejected.files, file, rejectedColumns, names)) {
        for (let i = 0; i < rows; i++) {
          const row = Object.fromEntries(names.map((name) => [name, c[name][i] ?? null])) as RejectedRow;
          const kept = change(row);
          if (kept) out.write(kept);
        }
      }
    }
    const files = await out.finish();
    return await overwriteFiles(rejected, files, { [summaryKeys.replayId]: id, [summaryKeys.writer]: writer });
  } catch (error) {
    if (mayRemoveFilesAfter(error)) await out.abort();
    throw error;
  }
}
