/**
 * Looking at the lake from the command line, with the same code the Jobs run (so it works in a pod):
 * `tables`, `snapshots <table>` and `show <table> [--snapshot ID | --as-of TIME] [--limit N]`, and
 * `contract` (the project's contract as JSON); `status` (jobs/ops/status.ts).
 */
import { contract } from './contract.ts';
import { ConfigError } from './errors.ts';
import type { LoadedTable } from './lake/catalog/catalog.ts';
import { lineage, snapshotAsOf, snapshotById, type Snapshot } from './lake/iceberg/metadata.ts';
import { liveFiles } from './lake/iceberg/table.ts';
import { headOf, lakeOf, lakeTables, type Lake, type LakeTableKey } from './lake/lake.ts';
import { readDataRows } from './lake/data-file-source.ts';
import { statusCommand } from './ops/status.ts';
import type { ColumnSpec } from './lake/table-schema.ts';
import { formatTable } from './table-format.ts';
import type { CommandArgs, Inspector } from './inspector.ts';

export const inspectFlags = ['snapshot', 'as-of', 'limit', 'json'];

const keyByName = new Map(Object.entries(lakeTables).map(([key, spec]) => [spec.name, key as LakeTableKey]));

async function tableArgument(args: CommandArgs, command: string): Promise<LoadedTable> {
  return tableNamed(lakeOf(args.config), args.positional[1], `${command} <table>`);
}

/** The lake's table called `name` (`silver.vehicles`, or its key `silver`); a ConfigError naming `setting` otherwise. */
export async function tableNamed(lake: Lake, name: string | undefined, setting: string): Promise<LoadedTable> {
  const key =
    name === undefined ? undefined : (keyByName.get(name) ?? (name in lakeTables ? (name as LakeTableKey) : undefined));
  if (!key) throw new ConfigError(setting, `"${name ?? ''}" is not one of ${[...keyByName.keys()].join(', ')}`);
  const table = await lake.find(key);
  if (!table) throw new Error(`${lakeTables[key].name} does not exist in ${lake.catalog.description} yet`);
  return table;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Each table: its current snapshot, rows, data files and bytes (what `tables` prints, and the explorer serves). */
export async function tableSummaries(lake: Lake) {
  const rows = [];
  for (const [key, spec] of Object.entries(lakeTables)) {
    const table = await lake.find(key as LakeTableKey);
    const head = headOf(table);
    rows.push({
      table: spec.name,
      snapshot: head ? String(head['snapshot-id']) : '-',
      committed: head ? iso(head['timestamp-ms']) : '-',
      rows: head?.summary['total-records'] ?? '0',
      files: head?.summary['total-data-files'] ?? '0',
      bytes: head?.summary['total-files-size'] ?? '0',
      snapshots: table?.metadata.snapshots?.length ?? 0,
    });
  }
  return rows;
}

export async function tablesCommand(args: CommandArgs): Promise<string> {
  return formatTable(await tableSummaries(lakeOf(args.config)));
}

/** A table's history, oldest first, with each snapshot's summary. */
export function snapshotHistory(table: LoadedTable) {
  const standard = /^(operation|(added|deleted|removed|total|changed)-.*)$/;
  return lineage(table.metadata)
    .reverse()
    .map((s) => ({
      snapshot: String(s['snapshot-id']),
      committed: iso(s['timestamp-ms']),
      operation: s.summary.operation,
      added_rows: s.summary['added-records'] ?? '0',
      total_rows: s.summary['total-records'] ?? '-',
      summary: Object.entries(s.summary)
        .filter(([k]) => !standard.test(k))
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    }));
}

export async function snapshotsCommand(args: CommandArgs): Promise<string> {
  return formatTable(snapshotHistory(await tableArgument(args, 'snapshots')));
}

/** Where the retained history starts: older snapshots were expired (or never existed). */
function retainedSince(table: LoadedTable): string {
  const oldest = table.metadata['snapshot-log']?.[0];
  return oldest ? `; its retained history starts at ${iso(oldest['timestamp-ms'])}, older snapshots are expired` : '';
}

export function chooseSnapshot(table: LoadedTable, flags: ReadonlyMap<string, string>): Snapshot | undefined {
  const id = flags.get('snapshot');
  const asOf = flags.get('as-of');
  if (id !== undefined && asOf !== undefined) throw new ConfigError('--snapshot/--as-of', 'give one of them, not both');
  if (id !== undefined) {
    if (!/^\d+$/.test(id)) throw new ConfigError('--snapshot', `"${id}" is not a snapshot id`);
    const found = snapshotById(table.metadata, BigInt(id));
    if (!found)
      throw new ConfigError(
        '--snapshot',
        `${table.spec.name} has no snapshot ${id}: it never existed or maintain expired it${retainedSince(table)} (see: snapshots ${table.spec.name})`,
      );
    return found;
  }
  if (asOf !== undefined) {
    const ms = /^\d+$/.test(asOf) ? Number(asOf) : Date.parse(asOf);
    if (!Number.isFinite(ms)) throw new ConfigError('--as-of', `"${asOf}" is not epoch ms or an ISO 8601 time`);
    const found = snapshotAsOf(table.metadata, ms);
    if (!found)
      throw new ConfigError('--as-of', `${table.spec.name} had no snapshot at ${asOf}${retainedSince(table)}`);
    return found;
  }
  return headOf(table);
}

export function display(spec: ColumnSpec, value: unknown): string | number {
  if (value === null || value === undefined) return 'null';
  if (spec.type === 'timestamptz') return iso(value as number);
  if (spec.type === 'binary') {
    const bytes = Buffer.from(value as Uint8Array);
    const text = bytes.toString('utf8');
    return Buffer.from(text, 'utf8').equals(bytes) ? text : `0x${bytes.toString('hex')}`;
  }
  if (spec.type === 'double') return Number((value as number).toFixed(6));
  return value as string | number;
}

/** Rows of a table (current snapshot, or one chosen by id or time), as a table for people. */
export async function showCommand(args: CommandArgs): Promise<string> {
  const table = await tableArgument(args, 'show');
  const limitText = args.flags.get('limit') ?? '20';
  if (!/^\d+$/.test(limitText)) throw new ConfigError('--limit', `"${limitText}" is not a number of rows`);
  const limit = Number(limitText);
  const snapshot = chooseSnapshot(table, args.flags);
  if (!snapshot) return '(no rows: the table has no snapshot yet)';
  const columns = table.spec.columns;
  const rows: Record<string, string | number>[] = [];
  const files = (await liveFiles(table, snapshot)).map((f) => f.file);
  for await (const row of readDataRows(table.files, files, columns)) {
    if (rows.length >= limit) break;
    const record = row as Record<string, unknown>;
    rows.push(Object.fromEntries(columns.map((c) => [c.name, display(c, record[c.name])])));
  }
  const total = snapshot.summary['total-records'] ?? '?';
  return `${table.spec.name} at snapshot ${snapshot['snapshot-id']} (${iso(snapshot['timestamp-ms'])}), ${rows.length} of ${total} rows\n${formatTable(rows)}`;
}

export const inspectors: Record<string, Inspector> = {
  /** The contract as the Spark engine reads it: settings, table schemas, summary keys, reason codes. */
  contract: async () => JSON.stringify(contract(), null, 2),
  tables: tablesCommand,
  status: statusCommand,
  snapshots: snapshotsCommand,
  show: showCommand,
};
