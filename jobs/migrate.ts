/**
 * `migrate`: a volume lake (LAKEHOUSE_MIGRATE_FROM, the HadoopCatalog layout) into the lake the
 * settings name (an Iceberg REST catalog on object storage), without reading Kafka again. Each
 * table's current lineage is committed to the target snapshot by snapshot, with the same ids,
 * sequence numbers, timestamps and summaries (Kafka offsets, consumption markers, gold's state), its
 * files copied to the target table's location and its manifests and manifest lists rewritten to
 * name them there; the table's properties (bronze's expired offsets) follow. So the next bronze run
 * goes on from where the volume's bronze ended, and verify proves the same invariants.
 *
 * A run that stops midway is completed by the next: a target table that holds the beginning of the
 * source's lineage goes on from its head; one that holds anything else is refused. The source lake's
 * writer lease is held throughout, so no stage writes it meanwhile.
 */
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';
import type { LoadedTable } from './lake/catalog/catalog.ts';
import { encodeVehicles } from './gold.ts';
import {
  encodeManifest,
  encodeManifestList,
  readManifest,
  readManifestList,
  type ManifestFile,
} from './lake/iceberg/manifest.ts';
import { currentSchema, lineage, type Snapshot, type TableMetadata } from './lake/iceberg/metadata.ts';
import { mainIsStill, type TableUpdate } from './lake/iceberg/updates.ts';
import { type Lake, lakeAt, lakeOf, lakeTables, type LakeTableKey } from './lake/lake.ts';
import { summaryKeys } from './lake/table-schema.ts';
import type { Logger } from './log.ts';
import { acquireLease } from './ops/lease.ts';
import { hostName } from './ops/host.ts';

export interface TableMigration {
  readonly snapshots: number;
  readonly alreadyThere: number;
  readonly files: number;
  readonly bytes: number;
  /** Snapshots off the current lineage (not reachable from `main`): not migrated. */
  readonly offLineage: number;
  /** Why the table was left as it is, when it was. */
  readonly skipped?: string;
}

const order: LakeTableKey[] = ['bronze', 'silver', 'rejected', 'gold', 'runs'];

export async function runMigrate(config: Config, logger: Logger, context: { runId: string }) {
  if (!config.migrateFrom) throw new ConfigError('LAKEHOUSE_MIGRATE_FROM', 'names no volume lake to migrate from');
  if (config.catalog === 'volume' && path.resolve(config.migrateFrom) === path.resolve(config.dataDir))
    throw new ConfigError(
      'LAKEHOUSE_MIGRATE_FROM',
      'is the lake the settings name: migrate copies one lake into another',
    );
  const source = lakeAt(config.migrateFrom);
  if (!(await source.catalog.exists()))
    throw new ConfigError('LAKEHOUSE_MIGRATE_FROM', `${path.resolve(config.migrateFrom)} does not exist`);
  const target = lakeOf(config);
  const lease = await source.lease();
  const holder = { runId: context.runId, stage: 'migrate', host: hostName(), pid: process.pid };
  const taken = await acquireLease(lease, holder, config.leaseWaitSeconds * 1000, () =>
    logger.info('waiting for the source lake writer lease', { lake: source.catalog.description }),
  );
  if (!taken.acquired)
    throw new Error(
      `the source lake's writer lease is held by ${taken.holder?.stage ?? 'another run'}; nothing was migrated`,
    );
  try {
    const result: Record<string, TableMigration> = {};
    for (const key of order) {
      const from = await source.find(key);
      if (!from) continue;
      result[lakeTables[key].name] = await migrateTable(from, target, key, logger);
      logger.info('table migrated', { table: lakeTables[key].name, ...result[lakeTables[key].name] });
    }
    logger.info('lake migrated', { from: source.catalog.description, to: target.catalog.description });
    return result;
  } finally {
    await taken.lease.release();
  }
}

async function migrateTable(
  from: LoadedTable,
  target: Lake,
  key: LakeTableKey,
  logger: Logger,
): Promise<TableMigration> {
  const chain = lineage(from.metadata).reverse();
  const all = from.metadata.snapshots ?? [];
  let to = await target.open(key);
  const already = lineage(to.metadata).reverse();
  const diverged = already.findIndex((snapshot, i) => chain[i]?.['snapshot-id'] !== snapshot['snapshot-id']);
  if (diverged >= 0) {
    // The run history goes over once: after that the target's own runs (this migrate's included) are its history.
    if (key === 'runs')
      return {
        snapshots: 0,
        alreadyThere: already.length,
        files: 0,
        bytes: 0,
        offLineage: 0,
        skipped: 'the target records runs of its own',
      };
    throw new Error(
      `${from.spec.name}: the target table holds snapshot ${already[diverged]['snapshot-id']}, which is not the source's ${chain[diverged]?.['snapshot-id'] ?? '(none)'}: it is another lake's; nothing of this table was migrated`,
    );
  }
  const copier = new FileCopier(from, to);
  for (const snapshot of chain.slice(already.length)) {
    const copied = await copier.snapshot(snapshot);
    const updates: TableUpdate[] = [
      { action: 'add-snapshot', snapshot: copied },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': copied['snapshot-id'] },
    ];
    to = await to.catalog.commit(to, updates, [mainIsStill(lineage(to.metadata)[0])]);
  }
  const properties = carriedProperties(from.metadata);
  if (Object.keys(properties).length > 0)
    to = await to.catalog.commit(to, [{ action: 'set-properties', updates: properties }], []);
  if (currentSchema(from.metadata).fields.length !== currentSchema(to.metadata).fields.length)
    logger.warn('the target table has another schema than the source', { table: from.spec.name });
  return {
    snapshots: chain.length - already.length,
    alreadyThere: already.length,
    files: copier.files,
    bytes: copier.bytes,
    offLineage: all.length - chain.length,
  };
}

/** The lake's own table properties (bronze's record of expired offsets), not the catalog's or Iceberg's. */
function carriedProperties(metadata: TableMetadata): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata.properties).filter(([k]) => k.startsWith('lakehouse.')));
}

/** Copies a snapshot's files into the target table, rewriting the paths its manifests and list name. */
class FileCopier {
  files = 0;
  bytes = 0;
  private readonly manifests = new Map<string, ManifestFile>();

  constructor(
    private readonly from: LoadedTable,
    private readonly to: LoadedTable,
  ) {}

  /** The target location of a source location: the same place relative to the table. */
  private moved(uri: string, what: string): string {
    return this.to.files.child(this.from.files.relative(uri, what));
  }

  private async copy(uri: string, what: string): Promise<void> {
    const relative = this.from.files.relative(uri, what);
    const bytes = await this.from.files.read(uri, what);
    if (!(await this.to.files.stat(this.to.files.child(relative), what))) await this.to.files.write(relative, bytes);
    this.files++;
    this.bytes += bytes.length;
  }

  async snapshot(snapshot: Snapshot): Promise<Snapshot> {
    const listed = await readManifestList(this.from.files, snapshot['manifest-list']);
    const manifests: ManifestFile[] = [];
    for (const manifest of listed) manifests.push(await this.manifest(manifest));
    const listPath = this.moved(snapshot['manifest-list'], 'manifest list');
    const bytes = await encodeManifestList(manifests, {
      id: snapshot['snapshot-id'],
      parentId: snapshot['parent-snapshot-id'],
      sequenceNumber: snapshot['sequence-number'],
    });
    await this.to.files.write(this.to.files.relative(listPath, 'manifest list'), bytes);
    // The target's schema of the same id, or its current one (a table migrated from before a
    // column was added holds that column in its current schema; the added columns are optional).
    const schemaId = this.to.metadata.schemas.some((s) => s['schema-id'] === snapshot['schema-id'])
      ? snapshot['schema-id']
      : this.to.metadata['current-schema-id'];
    return { ...snapshot, 'schema-id': schemaId, 'manifest-list': listPath, summary: await this.summary(snapshot) };
  }

  private async manifest(manifest: ManifestFile): Promise<ManifestFile> {
    const done = this.manifests.get(manifest.path);
    if (done) return done;
    const entries = await readManifest(this.from.files, manifest);
    for (const entry of entries) if (entry.status !== 2) await this.copy(entry.file.path, 'data file');
    const schema = currentSchema(this.from.metadata);
    const spec = this.from.metadata['partition-specs'].find(
      (s) => s['spec-id'] === this.from.metadata['default-spec-id'],
    )!;
    const rewritten = entries.map((e) => ({ ...e, file: { ...e.file, path: this.moved(e.file.path, 'data file') } }));
    const bytes = await encodeManifest(rewritten, schema, spec);
    const target = this.moved(manifest.path, 'manifest');
    await this.to.files.write(this.to.files.relative(target, 'manifest'), bytes);
    const copied = { ...manifest, path: target, length: bytes.length };
    this.manifests.set(manifest.path, copied);
    return copied;
  }

  /**
   * The summary as it was, but gold's state file copied; a state kept as gzipped JSON (lakes before
   * it moved to Avro) becomes the Avro file object stores' table layouts accept.
   */
  private async summary(snapshot: Snapshot): Promise<Snapshot['summary']> {
    const state = snapshot.summary[summaryKeys.goldVehicles];
    if (!state || !(await this.from.files.stat(state, 'gold state file'))) return snapshot.summary;
    const bytes = await this.from.files.read(state, 'gold state file');
    if (!state.endsWith('.json.gz')) {
      await this.copy(state, 'gold state file');
      return snapshot.summary;
    }
    const avro = await encodeVehicles(JSON.parse(gunzipSync(bytes).toString('utf8')) as Record<string, string[]>);
    const name = `metadata/gold-vehicles-${path.basename(state, '.json.gz').replace(/^vehicles-/, '')}.avro`;
    await this.to.files.write(name, avro);
    this.files++;
    this.bytes += avro.length;
    return { ...snapshot.summary, [summaryKeys.goldVehicles]: name };
  }
}
