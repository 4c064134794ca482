import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { s3Client, s3Url } from '../../dev/objectstore/s3.ts';
import type { CatalogSettings } from '../../dev/objectstore/settings.ts';
import { contract } from '../../jobs/contract.ts';
import { requireSparkInstall } from './spark-install.ts';

export const layers = {
  bronze: 'bronze',
  silver: 'silver',
  rejected: 'rejected',
  gold: 'gold',
} as const;
export type Layer = keyof typeof layers;

const tables = contract().tables;

export interface SnapshotInfo {
  /** 64-bit ids, as text. */
  readonly snapshotId: string;
  readonly parentId: string | null;
  readonly operation: string;
  readonly summary: Record<string, string>;
}

/** One Iceberg table as PyIceberg reads it (test/spark/read_tables.py). */
export interface TableInfo {
  readonly formatVersion: number;
  readonly properties: Record<string, string>;
  readonly schema: { id: number; name: string; type: string; required: boolean }[];
  readonly partitionSpec: { sourceId: number; fieldId: number; name: string; transform: string }[];
  readonly snapshots: SnapshotInfo[];
  dataFiles: string[];
  readonly rows: number;
}

/** A lake in a REST catalog, read under `name` (a local directory its data files are downloaded to). */
export interface CatalogLake {
  readonly name: string;
  readonly catalog: CatalogSettings;
}

/** A lake's tables through PyIceberg; null for a layer that is not an Iceberg table. */
export function readTables(lake: string | CatalogLake): Record<Layer, TableInfo | null> {
  const python = path.join(requireSparkInstall(), 'venv/bin/python');
  const locations = Object.values(tables).map((t) => t.location);
  const where = typeof lake === 'string' ? [lake] : ['--catalog'];
  const result = spawnSync(python, [path.join(import.meta.dirname, 'read_tables.py'), ...where, ...locations], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: typeof lake === 'string' ? process.env : { ...process.env, ...lake.catalog },
  });
  if (result.status !== 0) throw new Error(`read_tables.py ${lake} failed:\n${result.stderr}`);
  // Snapshot ids are 64-bit, beyond a JavaScript number's exact integers: read as text.
  const byLocation = JSON.parse(result.stdout.replace(/("(?:snapshotId|parentId)": )(-?\d+)/g, '$1"$2"'));
  return Object.fromEntries(Object.entries(tables).map(([key, t]) => [key, byLocation[t.location]])) as Record<
    Layer,
    TableInfo | null
  >;
}

/**
 * The tables of a lake in a REST catalog, their data files fetched from S3 (with a SigV4 client of
 * the tests', not the jobs') into `lake.name`, so that DuckDB reads their bytes as it reads a volume's.
 */
async function downloaded(lake: CatalogLake): Promise<Record<Layer, TableInfo | null>> {
  const read = readTables(lake);
  const client = s3Client(lake.catalog);
  for (const table of Object.values(read)) {
    if (!table) continue;
    const local: string[] = [];
    for (const file of table.dataFiles) {
      const { host: bucket, pathname } = new URL(file);
      const response = await client.fetch(s3Url(lake.catalog, bucket, pathname.slice(1)));
      if (!response.ok) throw new Error(`GET ${file}: ${response.status} ${await response.text()}`);
      const target = path.join(lake.name, bucket, pathname.slice(1));
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, Buffer.from(await response.arrayBuffer()));
      local.push(target);
    }
    table.dataFiles = local;
  }
  return read;
}

/**
 * DuckDB reading two lakes side by side, an independent Parquet reader: an Iceberg table is read
 * from the data files of its current snapshot (as PyIceberg lists them), a directory of Parquet
 * files as it is. Values are compared in one form whatever the physical type: binary as hex (a
 * string column holding the same bytes compares equal), timestamps as epoch milliseconds.
 */
export class LakePair {
  private constructor(
    private readonly db: DuckDBConnection,
    readonly left: string,
    readonly right: string,
    private readonly tablesOf: Map<string, Record<Layer, TableInfo | null>>,
  ) {}

  /** Two lakes; one in a REST catalog is known by its `name`, its data files downloaded there first. */
  static async open(left: string | CatalogLake, right: string | CatalogLake): Promise<LakePair> {
    const instance = await DuckDBInstance.create(':memory:');
    const named = async (lake: string | CatalogLake): Promise<[string, Record<Layer, TableInfo | null>]> =>
      typeof lake === 'string' ? [lake, readTables(lake)] : [lake.name, await downloaded(lake)];
    const [a, b] = [await named(left), await named(right)];
    return new LakePair(await instance.connect(), a[0], b[0], new Map([a, b]));
  }

  tables(lake: string): Record<Layer, TableInfo | null> {
    return this.tablesOf.get(lake)!;
  }

  source(lake: string, layer: Layer): string {
    const table = this.tables(lake)[layer];
    const quote = (p: string) => `'${p.replaceAll("'", "''")}'`;
    if (table) return `read_parquet([${table.dataFiles.map(quote).join(', ')}])`;
    return `read_parquet(${quote(path.join(lake, tables[layer].location, '*.parquet'))})`;
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.db.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  /** `select` of the given columns of a layer in the comparable form. */
  async select(lake: string, layer: Layer, columns: readonly string[]): Promise<string> {
    const types = new Map(
      (await this.rows(`describe select * from ${this.source(lake, layer)}`)).map((r) => [
        r.column_name as string,
        r.column_type as string,
      ]),
    );
    const spec = new Map(tables[layer].schema.fields.map((f) => [f.name, f.type]));
    const expr = (c: string) => {
      const physical = types.get(c) ?? '';
      if (spec.get(c) === 'binary')
        return physical === 'BLOB' ? `hex("${c}") as "${c}"` : `hex(encode("${c}")) as "${c}"`;
      if (spec.get(c) === 'timestamptz' && physical.startsWith('TIMESTAMP')) return `epoch_ms("${c}") as "${c}"`;
      return `"${c}"`;
    };
    return `select ${columns.map(expr).join(', ')} from ${this.source(lake, layer)}`;
  }

  async count(lake: string, layer: Layer): Promise<number> {
    const [row] = await this.rows(`select count(*)::INTEGER as n from ${this.source(lake, layer)}`);
    return row.n as number;
  }

  /** Rows (of the given columns) in one lake's layer and not in the other's, both ways, as multisets. */
  async difference(layer: Layer, columns: readonly string[]): Promise<{ onlyLeft: unknown[]; onlyRight: unknown[] }> {
    const [left, right] = [await this.select(this.left, layer, columns), await this.select(this.right, layer, columns)];
    const onlyLeft = await this.rows(`${left} except all ${right} limit 5`);
    const onlyRight = await this.rows(`${right} except all ${left} limit 5`);
    return { onlyLeft, onlyRight };
  }

  /** Gold rows in file order, in the comparable form. */
  async gold(lake: string): Promise<Record<string, unknown>[]> {
    return this.rows(
      await this.select(
        lake,
        'gold',
        tables.gold.schema.fields.map((f) => f.name),
      ),
    );
  }
}
