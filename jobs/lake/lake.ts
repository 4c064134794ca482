import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Catalog, LoadedTable } from './catalog/catalog.ts';
import { CommitConflictError } from './catalog/catalog.ts';
import { HadoopCatalog } from './catalog/hadoop-catalog.ts';
import { RestCatalog } from './catalog/rest-catalog.ts';
import type { OutputFile } from './io/file-io.ts';
import { fileUri, LocalFileIO } from './io/local-file-io.ts';
import { S3FileIO } from './io/s3-file-io.ts';
import type { DataFile } from './iceberg/manifest.ts';
import { currentSchema, currentSnapshot, newTableMetadata, type Snapshot } from './iceberg/metadata.ts';
import { LeaseObject } from '../ops/lease.ts';
import { OffThreadSink, startParquetWorker } from './off-thread-sink.ts';
import { ParquetSink } from './parquet-sink.ts';
import {
  icebergSchema,
  lakeTables,
  tables,
  type ColumnSpec,
  type LakeTableKey,
  type Row,
  type TableKey,
  type TableSpec,
} from './table-schema.ts';

export { lakeTables, tables, type LakeTableKey, type TableKey };

/** Table properties every table of the lake is created with. */
const creationProperties: Partial<Record<LakeTableKey, Record<string, string>>> = {
  // A bronze append must never be retried onto a newer table state (Java writers retry by default):
  // the offsets it holds were planned from the state it started from.
  bronze: { 'commit.retry.num-retries': '0' },
};

/** The lake's tables through its catalog: what every job opens first. */
export class Lake {
  constructor(readonly catalog: Catalog) {}

  /** The table, or undefined when it was never created. */
  find(key: LakeTableKey): Promise<LoadedTable | undefined> {
    return this.catalog.load(lakeTables[key]);
  }

  /**
   * The table, created (no snapshot) when absent; the contract's new columns are added to an
   * existing table's schema (old snapshots keep their schema, their files read the new columns as null).
   */
  async open(key: LakeTableKey): Promise<LoadedTable> {
    return this.openSpec(lakeTables[key], { 'format-version': '2', ...creationProperties[key] });
  }

  /** `open` for any table spec, created with `properties`. */
  async openSpec(spec: TableSpec, properties: Record<string, string> = {}): Promise<LoadedTable> {
    const existing = await this.catalog.load(spec);
    if (existing) return evolveSchema(existing);
    try {
      return await this.catalog.create(spec, newTableMetadata(spec, this.catalog.locationOf(spec), properties));
    } catch (error) {
      if (!(error instanceof CommitConflictError)) throw error;
      return this.openSpec(spec, properties);
    }
  }

  /** Every table the catalog holds; those of the contract with their columns. */
  async specs(): Promise<TableSpec[]> {
    return (await this.catalog.list()).map(
      ({ namespace, table }) =>
        Object.values(lakeTables).find((t) => t.namespace === namespace && t.table === table) ?? {
          name: `${namespace}.${table}`,
          namespace,
          table,
          doc: '',
          columns: [],
          partitionBy: [],
        },
    );
  }

  /**
   * The lake's writer lease (jobs/ops/lease.ts). Where it lives inside a table's location (an
   * object store's table layout takes objects only there), that table is created first: an
   * object written before it would stand where the catalog's namespace must be.
   */
  async lease(): Promise<LeaseObject> {
    const location = this.catalog.leaseLocation;
    if (location.startsWith(`${this.catalog.locationOf(lakeTables.runs)}/`)) await this.open('runs');
    return new LeaseObject(this.catalog.io, location);
  }

  /** A table the catalog holds, by spec (tables outside the contract included). */
  load(spec: TableSpec): Promise<LoadedTable | undefined> {
    return this.catalog.load(spec);
  }
}

/** The lake on a volume: the HadoopCatalog layout under `dataDir`. */
export function lakeAt(dataDir: string): Lake {
  return new Lake(new HadoopCatalog(new LocalFileIO(), fileUri(path.resolve(dataDir))));
}

/** Where the lake is, as the settings say (LAKEHOUSE_CATALOG and the catalog's and storage's settings). */
export type LakeSettings = Pick<
  Config,
  | 'dataDir'
  | 'catalog'
  | 'catalogUri'
  | 'catalogWarehouse'
  | 'catalogCredential'
  | 's3Endpoint'
  | 'awsAccessKeyId'
  | 'awsSecretAccessKey'
  | 'awsRegion'
  | 'workDir'
>;

/** The lake the settings name: the volume under LAKEHOUSE_DATA_DIR, or the tables of a REST catalog on object storage. */
export function lakeOf(settings: LakeSettings): Lake {
  if (settings.catalog === 'volume') return lakeAt(settings.dataDir);
  const io = new S3FileIO({
    endpoint: settings.s3Endpoint,
    region: settings.awsRegion,
    accessKeyId: settings.awsAccessKeyId,
    secretAccessKey: settings.awsSecretAccessKey,
    stagingDir: path.join(workDirOf(settings), 'staging'),
  });
  return new Lake(
    new RestCatalog(io, {
      uri: settings.catalogUri,
      warehouse: settings.catalogWarehouse,
      credential: settings.catalogCredential,
    }),
  );
}

/** The local directory for a run's scratch files. */
export function workDirOf(settings: LakeSettings): string {
  if (settings.workDir) return path.resolve(settings.workDir);
  return settings.catalog === 'volume'
    ? path.join(path.resolve(settings.dataDir), '.work')
    : path.join(os.tmpdir(), 'lakehouse-work');
}

async function evolveSchema(table: LoadedTable): Promise<LoadedTable> {
  const schema = currentSchema(table.metadata);
  const known = new Set(schema.fields.map((f) => f.id));
  const added = icebergSchema(table.spec).fields.filter((f) => !known.has(f.id));
  if (added.length === 0) return table;
  const required = added.find((f) => f.required);
  if (required)
    throw new Error(
      `${table.spec.name}: the new column ${required.name} must be optional to be added to an existing table`,
    );
  const schemaId = Math.max(...table.metadata.schemas.map((s) => s['schema-id'])) + 1;
  try {
    return await table.catalog.commit(
      table,
      [
        {
          action: 'add-schema',
          schema: { ...schema, 'schema-id': schemaId, fields: [...schema.fields, ...added] },
          'last-column-id': Math.max(table.metadata['last-column-id'], ...added.map((f) => f.id)),
        },
        { action: 'set-current-schema', 'schema-id': schemaId },
      ],
      [{ type: 'assert-current-schema-id', 'current-schema-id': table.metadata['current-schema-id'] }],
    );
  } catch (error) {
    if (!(error instanceof CommitConflictError)) throw error;
    const latest = await table.catalog.load(table.spec);
    return latest ? evolveSchema(latest) : Promise.reject(error);
  }
}

export function headOf(table: LoadedTable | undefined): Snapshot | undefined {
  return table ? currentSnapshot(table.metadata) : undefined;
}

const dayMs = 86_400_000;

function partitionOf(spec: TableSpec, row: Record<string, unknown>): Record<string, number | null> {
  const partition: Record<string, number | null> = {};
  for (const field of spec.partitionBy) {
    const source = spec.columns.find((c) => c.id === field.sourceId)!;
    const value = row[source.name] as number | null;
    partition[field.name] = value === null ? null : field.transform === 'day' ? Math.floor(value / dayMs) : value;
  }
  return partition;
}

/** 2023-10-13, as Iceberg names day partitions; a day outside years 0000-9999 by its number. */
function dayText(day: number): string {
  const ms = day * dayMs;
  return ms >= -62167219200000 && ms < 253402300800000 ? new Date(ms).toISOString().slice(0, 10) : `day-${day}`;
}

function partitionPath(spec: TableSpec, partition: Record<string, number | null>): string {
  return spec.partitionBy
    .map((field) => {
      const value = partition[field.name];
      const text = value === null ? 'null' : field.transform === 'day' ? dayText(value) : String(value);
      return `${field.name}=${text}`;
    })
    .join('/');
}

/**
 * Writes rows into new data files of a table (under `<table>/data/`, partitioned as the table is,
 * at most `fileRows` rows a file) and returns them for a commit. Until then they are not part of the
 * table; `abort()` removes them.
 */
export class DataFileWriter<Cs extends readonly ColumnSpec[]> {
  private readonly open = new Map<
    string,
    { sink: ParquetSink<Cs> | OffThreadSink<Cs>; output: OutputFile; partition: Record<string, number | null> }
  >();
  /** Files handed to the parquet worker to close, not yet waited for (see OffThreadSink.closeLater). */
  private readonly closing: { closed: () => DataFile; sink: OffThreadSink<Cs>; output: OutputFile }[] = [];
  private readonly written: { file: DataFile; output: OutputFile }[] = [];
  private readonly runId = randomUUID();
  private count = 0;
  private total = 0;

  constructor(
    private readonly table: LoadedTable,
    private readonly columns: Cs,
    private readonly rowGroupSize: number,
    private readonly fileRows: number,
    /** Rows with different keys go to different files (bronze: one file per Kafka partition). */
    private readonly splitBy?: (row: Row<Cs>) => string | number,
    /** Encode on the parquet worker thread (same bytes): for the jobs that write many rows. */
    private readonly offThread = false,
  ) {
    if (offThread) startParquetWorker(rowGroupSize);
  }

  get rows(): number {
    return this.total;
  }

  write(row: Row<Cs>): void {
    const partition = partitionOf(this.table.spec, row as Record<string, unknown>);
    // Keyed by the partition values themselves; the path (a date's text) only when a file opens.
    let key = this.splitBy ? String(this.splitBy(row)) : '';
    for (const field of this.table.spec.partitionBy) key += `\0${partition[field.name]}`;
    let file = this.open.get(key);
    if (!file) {
      const name = `${String(this.count++).padStart(5, '0')}-${this.runId}.parquet`;
      const directory = partitionPath(this.table.spec, partition);
      const output = this.table.files.output(directory ? `data/${directory}/${name}` : `data/${name}`);
      const Sink = this.offThread ? OffThreadSink : ParquetSink;
      file = { sink: new Sink(output.localPath, this.columns, this.rowGroupSize), output, partition };
      this.open.set(key, file);
    }
    file.sink.write(row);
    this.total++;
    if (file.sink.rows >= this.fileRows) this.closeFile(key);
  }

  private closeFile(key: string): void {
    const file = this.open.get(key);
    if (!file) return;
    const { sink, output, partition } = file;
    if (sink instanceof OffThreadSink) this.closing.push({ closed: sink.closeLater(partition), sink, output });
    else this.written.push({ file: { ...sink.close(partition), path: output.uri }, output });
    this.open.delete(key);
  }

  private awaitClosing(): void {
    while (this.closing.length > 0) {
      const { closed, output } = this.closing[0];
      this.written.push({ file: { ...closed(), path: output.uri }, output });
      this.closing.shift();
    }
  }

  /** Closes the files being written (e.g. once a partition is done); later rows start new ones. */
  closeOpenFiles(): void {
    for (const key of [...this.open.keys()]) this.closeFile(key);
  }

  /** Closes every file and publishes it to the table's storage; returns all files written, for a commit. */
  async finish(): Promise<readonly DataFile[]> {
    this.closeOpenFiles();
    this.awaitClosing();
    for (const { output } of this.written) await output.publish();
    return this.written.map((w) => w.file);
  }

  /** Removes every file of this writer: for a run that will not commit them. */
  async abort(): Promise<void> {
    for (const { sink, output } of this.open.values()) {
      sink.abort();
      await output.discard();
    }
    this.open.clear();
    for (const { sink, output } of this.closing) {
      sink.abort();
      await output.discard();
    }
    this.closing.length = 0;
    for (const { output } of this.written) await output.discard();
  }
}
