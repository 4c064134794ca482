/**
 * The volume's catalog: the lake root is the warehouse of Iceberg's HadoopCatalog layout, so Spark's
 * HadoopCatalog and PyIceberg's StaticTable read it as it is. Table `ns.t` lives in `<root>/ns/t`,
 * version N of its metadata is `metadata/vN.metadata.json`, and `metadata/version-hint.text` names
 * the latest. A commit creates the next version's file only if it is absent (link(2) through the
 * FileIO's `create`): of two writers that start from the same version, exactly one commits.
 */
import { gunzipSync } from 'node:zlib';
import { TableFiles } from '../io/table-files.ts';
import type { FileIO } from '../io/file-io.ts';
import { parseJson, stringifyJson } from '../iceberg/json.ts';
import { checkMetadata } from '../iceberg/metadata-check.ts';
import type { TableMetadata } from '../iceberg/metadata.ts';
import { applyUpdates, unmetRequirement, type TableRequirement, type TableUpdate } from '../iceberg/updates.ts';
import { LEASE_LOCATIONS } from '../../ops/lease.ts';
import type { TableSpec } from '../table-schema.ts';
import { CommitConflictError, DamagedTableError, type Catalog, type LoadedTable } from './catalog.ts';

const versionName = /^v(\d+)(\.gz)?\.metadata\.json$/;

/** The version number of a metadata file's name, or undefined for other files. */
export function metadataVersion(uri: string): number | undefined {
  const match = versionName.exec(uri.slice(uri.lastIndexOf('/') + 1));
  return match ? Number(match[1]) : undefined;
}

export class HadoopCatalog implements Catalog {
  readonly description: string;

  constructor(
    readonly io: FileIO,
    /** The warehouse's URI, e.g. `file:/lake`. */
    readonly root: string,
  ) {
    this.description = `the lake at ${root.replace(/^file:/, '')}`;
  }

  get leaseLocation(): string {
    return this.io.join(this.root, LEASE_LOCATIONS.volume);
  }

  async exists(): Promise<boolean> {
    const root = this.root.replace(/\/+$/, '');
    const slash = root.lastIndexOf('/');
    // The parent keeps its slash: `file:/` for a lake at /data, as a pod mounts it.
    return (await this.io.children(root.slice(0, slash + 1))).includes(root.slice(slash + 1));
  }

  locationOf(spec: TableSpec): string {
    return this.io.join(this.root, `${spec.namespace}/${spec.table}`);
  }

  private filesOf(spec: TableSpec): TableFiles {
    return new TableFiles(this.io, spec.name, this.locationOf(spec));
  }

  private versionUri(spec: TableSpec, version: number, gz = false): string {
    return this.io.join(this.locationOf(spec), `metadata/v${version}${gz ? '.gz' : ''}.metadata.json`);
  }

  private hintUri(spec: TableSpec): string {
    return this.io.join(this.locationOf(spec), 'metadata/version-hint.text');
  }

  private async versionExists(spec: TableSpec, version: number): Promise<boolean> {
    return (
      (await this.io.stat(this.versionUri(spec, version))) !== undefined ||
      (await this.io.stat(this.versionUri(spec, version, true))) !== undefined
    );
  }

  /** The latest version: the hint when it names one that exists, then any newer ones a writer made before updating it. */
  private async latestVersion(spec: TableSpec): Promise<number> {
    let version = 0;
    const hint = await this.io.readVersioned(this.hintUri(spec));
    const hinted = hint ? Number.parseInt(Buffer.from(hint.bytes).toString('utf8').trim(), 10) : Number.NaN;
    if (Number.isSafeInteger(hinted) && hinted > 0 && (await this.versionExists(spec, hinted))) version = hinted;
    else {
      for (const name of await this.io.children(this.io.join(this.locationOf(spec), 'metadata')))
        version = Math.max(version, metadataVersion(name) ?? 0);
    }
    while (await this.versionExists(spec, version + 1)) version++;
    return version;
  }

  private async readVersion(spec: TableSpec, version: number): Promise<LoadedTable> {
    const plain = this.versionUri(spec, version);
    const gz = this.versionUri(spec, version, true);
    const metadataLocation = (await this.io.stat(plain)) ? plain : gz;
    let text: string;
    try {
      const bytes = await this.io.read(metadataLocation);
      text = Buffer.from(metadataLocation === gz ? gunzipSync(bytes) : bytes).toString('utf8');
    } catch (error) {
      throw new DamagedTableError(spec.name, metadataLocation, `it cannot be read (${(error as Error).message})`);
    }
    let parsed: unknown;
    try {
      parsed = parseJson(text);
    } catch (error) {
      throw new DamagedTableError(spec.name, metadataLocation, `it is not JSON (${(error as Error).message})`);
    }
    const metadata = checkMetadata(parsed, spec.name, metadataLocation);
    return {
      spec,
      location: this.locationOf(spec),
      metadataLocation,
      metadata,
      files: this.filesOf(spec),
      catalog: this,
    };
  }

  async load(spec: TableSpec): Promise<LoadedTable | undefined> {
    const version = await this.latestVersion(spec);
    return version === 0 ? undefined : this.readVersion(spec, version);
  }

  async create(spec: TableSpec, metadata: TableMetadata): Promise<LoadedTable> {
    return this.publish(spec, 1, metadata);
  }

  async commit(
    table: LoadedTable,
    updates: readonly TableUpdate[],
    requirements: readonly TableRequirement[],
  ): Promise<LoadedTable> {
    const unmet = unmetRequirement(table.metadata, requirements);
    if (unmet) throw new CommitConflictError(table.spec.name, unmet);
    const version = metadataVersion(table.metadataLocation);
    if (version === undefined) throw new Error(`${table.metadataLocation}: not a metadata file of this catalog`);
    const next = applyUpdates(table.metadata, updates);
    const logged: TableMetadata = {
      ...next,
      'metadata-log': [
        ...(next['metadata-log'] ?? []),
        { 'timestamp-ms': table.metadata['last-updated-ms'], 'metadata-file': table.metadataLocation },
      ],
    };
    return this.publish(table.spec, version + 1, logged);
  }

  private async publish(spec: TableSpec, version: number, metadata: TableMetadata): Promise<LoadedTable> {
    if (version > 1 && (await this.versionExists(spec, version)))
      throw new CommitConflictError(spec.name, `version ${version} exists`);
    const uri = this.versionUri(spec, version);
    if (!(await this.io.create(uri, Buffer.from(stringifyJson(metadata, 2)))))
      throw new CommitConflictError(spec.name, `version ${version} exists`);
    // The commit is done. The hint only speeds readers up (they look past it for newer versions): a
    // plain replace will do, and one that fails (a full volume) must not make the commit look failed.
    await this.io.write(this.hintUri(spec), Buffer.from(String(version))).catch(() => {});
    return {
      spec,
      location: this.locationOf(spec),
      metadataLocation: uri,
      metadata,
      files: this.filesOf(spec),
      catalog: this,
    };
  }

  async list(): Promise<{ namespace: string; table: string }[]> {
    const found: { namespace: string; table: string }[] = [];
    const visible = (names: string[]) => names.filter((name) => !name.startsWith('.'));
    for (const namespace of visible(await this.io.children(this.root))) {
      for (const table of visible(await this.io.children(this.io.join(this.root, namespace)))) {
        const metadata = await this.io.children(this.io.join(this.root, `${namespace}/${table}/metadata`));
        if (metadata.some((name) => versionName.test(name))) found.push({ namespace, table });
      }
    }
    return found;
  }

  async keptMetadata(table: LoadedTable): Promise<Set<string>> {
    const version = metadataVersion(table.metadataLocation) ?? 0;
    return new Set([
      this.hintUri(table.spec),
      table.metadataLocation,
      this.versionUri(table.spec, version),
      this.versionUri(table.spec, version, true),
      ...(table.metadata['metadata-log'] ?? []).map((e) => e['metadata-file']),
    ]);
  }
}
