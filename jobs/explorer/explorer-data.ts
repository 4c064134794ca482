/**
 * What the explorer's JSON endpoints answer, read with the readers `tables`, `snapshots` and `show`
 * use (jobs/inspect.ts), through the lake's catalog (volume or REST). Every answer is bounded: a
 * page of rows, never a whole table; the scans behind the quarantine and the map stop after a fixed
 * number of rows and say so, and are kept per snapshot (a snapshot never changes).
 */
import { ConfigError } from '../errors.ts';
import { chooseSnapshot, display, snapshotHistory, tableNamed, tableSummaries } from '../inspect.ts';
import type { LoadedTable } from '../lake/catalog/catalog.ts';
import { readDataRows } from '../lake/data-file-source.ts';
import type { Snapshot } from '../lake/iceberg/metadata.ts';
import { liveFiles } from '../lake/iceberg/table.ts';
import { headOf, type Lake } from '../lake/lake.ts';
import type { ColumnSpec } from '../lake/table-schema.ts';

/** Rows one page holds at most. */
export const MAX_PAGE_ROWS = 100;
/** How far into a snapshot a page may start. */
export const MAX_OFFSET = 100_000;
/** Rows the quarantine and map scans read at most per snapshot. */
export const MAX_SCAN_ROWS = 200_000;
/** Raw values shown per reason code, each cut to this many characters. */
export const SAMPLES_PER_REASON = 3;
export const SAMPLE_CHARS = 200;

type Cell = string | number;

/** `?snapshot=ID` or `?asOf=TIME` as `show` reads --snapshot / --as-of. */
function snapshotOf(table: LoadedTable, query: URLSearchParams): Snapshot | undefined {
  const flags = new Map<string, string>();
  const id = query.get('snapshot');
  const asOf = query.get('asOf');
  if (id) flags.set('snapshot', id);
  if (asOf) flags.set('as-of', asOf);
  return chooseSnapshot(table, flags);
}

function count(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const text = query.get(name) ?? String(fallback);
  if (!/^\d{1,9}$/.test(text)) throw new ConfigError(name, `"${text.slice(0, 40)}" is not a whole number`);
  const value = Number(text);
  if (value > max) throw new ConfigError(name, `${value} is more than ${max}`);
  return value;
}

async function* rowsAt(table: LoadedTable, snapshot: Snapshot): AsyncGenerator<Record<string, unknown>> {
  const files = (await liveFiles(table, snapshot)).map((f) => f.file);
  yield* readDataRows(table.files, files, table.spec.columns) as AsyncGenerator<Record<string, unknown>>;
}

const cells = (columns: readonly ColumnSpec[], row: Record<string, unknown>): Record<string, Cell> =>
  Object.fromEntries(columns.map((c) => [c.name, display(c, row[c.name])]));

const snapshotInfo = (s: Snapshot) => ({
  snapshot: String(s['snapshot-id']),
  committed: new Date(s['timestamp-ms']).toISOString(),
  rows: s.summary['total-records'] ?? '?',
});

export class ExplorerData {
  private readonly scans = new Map<string, Promise<unknown>>();

  constructor(private readonly lake: Lake) {}

  tables() {
    return tableSummaries(this.lake);
  }

  async snapshots(query: URLSearchParams) {
    const table = await tableNamed(this.lake, query.get('table') ?? undefined, 'table');
    return { table: table.spec.name, snapshots: snapshotHistory(table) };
  }

  /** One page of a table's rows at its current snapshot, or at one chosen by id or time. */
  async rows(query: URLSearchParams) {
    const table = await tableNamed(this.lake, query.get('table') ?? undefined, 'table');
    const limit = count(query, 'limit', 20, MAX_PAGE_ROWS);
    const offset = count(query, 'offset', 0, MAX_OFFSET);
    const columns = table.spec.columns.map((c) => c.name);
    const snapshot = snapshotOf(table, query);
    if (!snapshot) return { table: table.spec.name, snapshot: null, columns, offset, rows: [] };
    const rows: Record<string, Cell>[] = [];
    let seen = 0;
    for await (const row of rowsAt(table, snapshot)) {
      if (seen++ < offset) continue;
      if (rows.length >= limit) break;
      rows.push(cells(table.spec.columns, row));
    }
    return { table: table.spec.name, snapshot: snapshotInfo(snapshot), columns, offset, rows };
  }

  /** gold.stats (one row per vehicle type) as it is, or as it was at a snapshot or a time. */
  async gold(query: URLSearchParams) {
    const chosen = [...query].filter(([name]) => name === 'snapshot' || name === 'asOf');
    return this.rows(new URLSearchParams([...chosen, ['table', 'gold.stats'], ['limit', String(MAX_PAGE_ROWS)]]));
  }

  /** silver.rejected's current rows by reason code: how many, and a few raw values of each. */
  async quarantine() {
    const table = await this.lake.find('rejected');
    const head = headOf(table);
    if (!table || !head) return { snapshot: null, scanned: 0, complete: true, reasons: [] };
    return this.once(`quarantine ${head['snapshot-id']}`, async () => {
      const reasons = new Map<string, { reason: string; count: number; samples: string[] }>();
      const raw = table.spec.columns.find((c) => c.name === 'raw_value')!;
      let scanned = 0;
      for await (const row of rowsAt(table, head)) {
        if (scanned >= MAX_SCAN_ROWS) break;
        scanned++;
        const reason = String(row.reason);
        const entry = reasons.get(reason) ?? { reason, count: 0, samples: [] };
        entry.count++;
        if (entry.samples.length < SAMPLES_PER_REASON)
          entry.samples.push(String(display(raw, row.raw_value)).slice(0, SAMPLE_CHARS));
        reasons.set(reason, entry);
      }
      const total = Number(head.summary['total-records'] ?? scanned);
      return {
        snapshot: snapshotInfo(head),
        scanned,
        complete: scanned >= total,
        reasons: [...reasons.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
      };
    });
  }

  /** Each vehicle's last known position in silver.vehicles (its latest event). */
  async positions() {
    const table = await this.lake.find('silver');
    const head = headOf(table);
    if (!table || !head) return { snapshot: null, scanned: 0, complete: true, vehicles: [] };
    return this.once(`positions ${head['snapshot-id']}`, async () => {
      const last = new Map<
        string,
        { id: string; type: string; lat: number; lon: number; battery: number; at: number }
      >();
      let scanned = 0;
      for await (const row of rowsAt(table, head)) {
        if (scanned >= MAX_SCAN_ROWS) break;
        scanned++;
        const id = String(row.vehicle_id);
        const at = Number(row.event_time);
        const known = last.get(id);
        if (known && known.at >= at) continue;
        last.set(id, {
          id,
          type: String(row.type),
          lat: Number(row.latitude),
          lon: Number(row.longitude),
          battery: Number(row.battery),
          at,
        });
      }
      const total = Number(head.summary['total-records'] ?? scanned);
      return {
        snapshot: snapshotInfo(head),
        scanned,
        complete: scanned >= total,
        vehicles: [...last.values()]
          .sort((a, b) => a.id.localeCompare(b.id))
          .map(({ at, ...v }) => ({ ...v, at: new Date(at).toISOString() })),
      };
    });
  }

  /** One scan per key at a time; its result kept (a snapshot's content never changes), the last few only. */
  private once<T>(key: string, scan: () => Promise<T>): Promise<T> {
    const known = this.scans.get(key);
    if (known) return known as Promise<T>;
    const started = scan();
    this.scans.set(key, started);
    started.catch(() => this.scans.delete(key));
    while (this.scans.size > 4) this.scans.delete(this.scans.keys().next().value as string);
    return started;
  }
}
