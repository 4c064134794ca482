/**
 * A catalog behind the Iceberg REST catalog API (https://iceberg.apache.org/rest-catalog-spec/):
 * the server keeps each table's current metadata and applies a commit only if its requirements
 * still hold (409 otherwise), so of two writers exactly one wins, on any storage. OAuth2 client
 * credentials (`id:secret`, as PyIceberg's `credential`) are exchanged for a bearer token at
 * `/v1/oauth/tokens` when given. JSON is read and written with 64-bit snapshot ids kept exact.
 */
import { untilReached } from '../io/unreached.ts';
import type { FileIO } from '../io/file-io.ts';
import { TableFiles } from '../io/table-files.ts';
import { parseJson, stringifyJson } from '../iceberg/json.ts';
import { checkMetadata } from '../iceberg/metadata-check.ts';
import type { TableMetadata } from '../iceberg/metadata.ts';
import type { TableRequirement, TableUpdate } from '../iceberg/updates.ts';
import { LEASE_LOCATIONS } from '../../ops/lease.ts';
import type { TableSpec } from '../table-schema.ts';
import {
  CommitConflictError,
  CommitStateUnknownError,
  DamagedTableError,
  type Catalog,
  type LoadedTable,
} from './catalog.ts';

export interface RestCatalogSettings {
  /** The catalog's base URI, e.g. `http://127.0.0.1:8181` (the API lives under `/v1`). */
  readonly uri: string;
  /** The warehouse the catalog serves, e.g. `s3://lakehouse`. */
  readonly warehouse: string;
  /** OAuth2 client credentials `id:secret`; empty when the catalog needs none. */
  readonly credential: string;
}

/** A catalog request that failed, naming the request and what the catalog answered. */
export class RestCatalogError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const requestTimeoutMs = 60_000;

export class RestCatalog implements Catalog {
  readonly description: string;
  private prefix: string | undefined;
  private token: { value: string; expiresAt: number } | undefined;

  constructor(
    readonly io: FileIO,
    private readonly settings: RestCatalogSettings,
  ) {
    this.description = `the Iceberg REST catalog at ${settings.uri} (warehouse ${settings.warehouse})`;
  }

  private base(): string {
    return this.settings.uri.replace(/\/+$/, '');
  }

  private async authorization(refresh = false): Promise<Record<string, string>> {
    if (!this.settings.credential) return {};
    if (refresh || !this.token || this.token.expiresAt < Date.now() + 60_000) {
      const split = this.settings.credential.indexOf(':');
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: split < 0 ? '' : this.settings.credential.slice(0, split),
        client_secret: split < 0 ? this.settings.credential : this.settings.credential.slice(split + 1),
        scope: 'catalog',
      });
      const response = await this.send('POST', `${this.base()}/v1/oauth/tokens`, body.toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      const answer = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
      if (!response.ok || !answer.access_token)
        throw new RestCatalogError(
          response.status,
          `the catalog at ${this.settings.uri} refused the credentials of LAKEHOUSE_CATALOG_CREDENTIAL (${response.status})`,
        );
      this.token = { value: answer.access_token, expiresAt: Date.now() + (answer.expires_in ?? 3600) * 1000 };
    }
    return { authorization: `Bearer ${this.token.value}` };
  }

  /** One request; tried again while it does not reach the catalog (io/unreached.ts), never once it may have. */
  private async send(method: string, url: string, body?: string, headers: Record<string, string> = {}) {
    try {
      return await untilReached(() =>
        fetch(url, { method, body, headers, signal: AbortSignal.timeout(requestTimeoutMs) }),
      );
    } catch (error) {
      throw new RestCatalogError(
        0,
        `${method} ${url}: the catalog did not answer (${(error as Error).cause ?? (error as Error).message}); is LAKEHOUSE_CATALOG_URI right?`,
      );
    }
  }

  /** A JSON request under `/v1/{prefix}`; a 401 or 419 gets a new token once. */
  private async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown; text: string }> {
    const prefix = await this.catalogPrefix();
    const url = `${this.base()}/v1/${prefix ? `${encodeURIComponent(prefix)}/` : ''}${path}`;
    const payload = body === undefined ? undefined : stringifyJson(body);
    let response = await this.send(method, url, payload, {
      'content-type': 'application/json',
      ...(await this.authorization()),
    });
    if (response.status === 401 || response.status === 419)
      response = await this.send(method, url, payload, {
        'content-type': 'application/json',
        ...(await this.authorization(true)),
      });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? parseJson(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  }

  private failure(what: string, answer: { status: number; json: unknown; text: string }): RestCatalogError {
    const error = (answer.json as { error?: { message?: string; type?: string } } | undefined)?.error;
    const detail = error ? `${error.type ?? 'error'}: ${error.message ?? ''}` : answer.text.slice(0, 300);
    return new RestCatalogError(
      answer.status,
      `${what}: the catalog at ${this.settings.uri} answered ${answer.status} (${detail})`,
    );
  }

  /** The warehouse's path prefix, from `GET /v1/config` (as the REST spec has clients ask first). */
  private async catalogPrefix(): Promise<string> {
    if (this.prefix !== undefined) return this.prefix;
    const url = `${this.base()}/v1/config?warehouse=${encodeURIComponent(this.settings.warehouse)}`;
    const response = await this.send('GET', url, undefined, await this.authorization());
    const text = await response.text();
    if (!response.ok)
      throw new RestCatalogError(
        response.status,
        `GET ${url}: the catalog answered ${response.status} (${text.slice(0, 200)})`,
      );
    const config = JSON.parse(text) as { overrides?: Record<string, string>; defaults?: Record<string, string> };
    this.prefix = config.overrides?.prefix ?? config.defaults?.prefix ?? '';
    return this.prefix;
  }

  private tablePath(spec: TableSpec): string {
    return `namespaces/${encodeURIComponent(spec.namespace)}/tables/${encodeURIComponent(spec.table)}`;
  }

  /** Beside the ops.runs table's metadata (LEASE_LOCATIONS says why); maintenance keeps it. */
  get leaseLocation(): string {
    return this.io.join(this.settings.warehouse, LEASE_LOCATIONS.catalog);
  }

  locationOf(spec: TableSpec): string {
    return this.io.join(this.settings.warehouse, `${spec.namespace}/${spec.table}`);
  }

  /** The table as the catalog answered it; its location must lie in the warehouse. */
  private loaded(spec: TableSpec, json: unknown): LoadedTable {
    const answer = json as { 'metadata-location'?: string; metadata?: unknown };
    const where = answer?.['metadata-location'] ?? `${this.description}: ${spec.name}`;
    const metadata = checkMetadata(answer?.metadata, spec.name, where);
    if (!this.io.contains(this.settings.warehouse, `${metadata.location.replace(/\/+$/, '')}/metadata`))
      throw new DamagedTableError(
        spec.name,
        where,
        `its location ${metadata.location} is outside the warehouse ${this.settings.warehouse}`,
      );
    return {
      spec,
      location: metadata.location.replace(/\/+$/, ''),
      metadataLocation: where,
      metadata,
      files: new TableFiles(this.io, spec.name, metadata.location.replace(/\/+$/, '')),
      catalog: this,
    };
  }

  async exists(): Promise<boolean> {
    await this.catalogPrefix();
    return true;
  }

  async load(spec: TableSpec): Promise<LoadedTable | undefined> {
    const answer = await this.call('GET', this.tablePath(spec));
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw this.failure(`loading ${spec.name}`, answer);
    return this.loaded(spec, answer.json);
  }

  async create(spec: TableSpec, metadata: TableMetadata): Promise<LoadedTable> {
    const namespace = await this.call('POST', 'namespaces', { namespace: [spec.namespace], properties: {} });
    if (namespace.status !== 200 && namespace.status !== 409)
      throw this.failure(`creating namespace ${spec.namespace}`, namespace);
    const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id'])!;
    const partitionSpec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id'])!;
    const answer = await this.call('POST', `namespaces/${encodeURIComponent(spec.namespace)}/tables`, {
      name: spec.table,
      location: this.locationOf(spec),
      schema,
      'partition-spec': partitionSpec,
      'write-order': { 'order-id': 0, fields: [] },
      properties: metadata.properties,
      'stage-create': false,
    });
    if (answer.status === 409) throw new CommitConflictError(spec.name, 'another writer created the table first');
    if (answer.status !== 200) throw this.failure(`creating ${spec.name}`, answer);
    const created = this.loaded(spec, answer.json);
    assertSameColumns(
      created,
      schema.fields.map((f) => [f.id, f.name]),
    );
    return created;
  }

  async commit(
    table: LoadedTable,
    updates: readonly TableUpdate[],
    requirements: readonly TableRequirement[],
  ): Promise<LoadedTable> {
    let answer: Awaited<ReturnType<RestCatalog['call']>>;
    try {
      answer = await this.call('POST', this.tablePath(table.spec), {
        identifier: { namespace: [table.spec.namespace], name: table.spec.table },
        requirements,
        updates,
      });
    } catch (error) {
      throw new CommitStateUnknownError(
        `${table.spec.name}: the commit's outcome is unknown (${(error as Error).message})`,
      );
    }
    if (answer.status === 409) throw new CommitConflictError(table.spec.name, this.failure('commit', answer).message);
    // The spec's CommitStateUnknownException: a 500, 502, 504 or any 5xx may have committed.
    if (answer.status >= 500)
      throw new CommitStateUnknownError(
        `${table.spec.name}: ${this.failure('commit', answer).message}; the commit may have landed`,
      );
    if (answer.status !== 200) throw this.failure(`committing to ${table.spec.name}`, answer);
    return this.loaded(table.spec, answer.json);
  }

  async list(): Promise<{ namespace: string; table: string }[]> {
    const found: { namespace: string; table: string }[] = [];
    const namespaces = await this.paged<string[]>('namespaces', 'namespaces');
    for (const [namespace] of namespaces) {
      const identifiers = await this.paged<{ namespace: string[]; name: string }>(
        `namespaces/${encodeURIComponent(namespace)}/tables`,
        'identifiers',
      );
      for (const id of identifiers) found.push({ namespace, table: id.name });
    }
    return found.sort((a, b) => `${a.namespace}.${a.table}`.localeCompare(`${b.namespace}.${b.table}`));
  }

  private async paged<T>(path: string, field: string): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    do {
      const answer = await this.call('GET', token ? `${path}?pageToken=${encodeURIComponent(token)}` : path);
      if (answer.status !== 200) throw this.failure(`listing ${path}`, answer);
      const json = answer.json as Record<string, unknown>;
      items.push(...((json[field] as T[]) ?? []));
      token = (json['next-page-token'] as string | null | undefined) ?? undefined;
    } while (token);
    return items;
  }

  async keptMetadata(table: LoadedTable): Promise<Set<string>> {
    return new Set([
      table.metadataLocation,
      ...(table.metadata['metadata-log'] ?? []).map((e) => e['metadata-file']),
      ...(this.io.contains(table.location, this.leaseLocation) ? [this.leaseLocation] : []),
    ]);
  }
}

/** A catalog that assigned other field ids than the contract's would make every reader of ours wrong: refuse it. */
function assertSameColumns(table: LoadedTable, wanted: readonly [number, string][]): void {
  const schema = table.metadata.schemas.find((s) => s['schema-id'] === table.metadata['current-schema-id'])!;
  const got = schema.fields.map((f) => `${f.id}:${f.name}`).join(',');
  const expected = wanted.map(([id, name]) => `${id}:${name}`).join(',');
  if (got !== expected)
    throw new DamagedTableError(
      table.spec.name,
      table.metadataLocation,
      `the catalog created it with columns ${got}, not the contract's ${expected}`,
    );
}
