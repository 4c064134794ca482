/**
 * Real S3 storage and Iceberg REST catalogs on loopback, one of each per test process:
 *
 *   import { freshNamespace, restCatalogServer, sharedObjectStore } from "./support/objectstore-fixture.ts";
 *   const seaweed = await sharedObjectStore();   // SeaweedFS: S3 and its own Iceberg REST catalog
 *   const apache = await restCatalogServer();    // Apache Iceberg's REST catalog on SeaweedFS's S3
 *   const namespace = freshNamespace("commits"); // a namespace no other test uses
 *
 * Both return the settings `npm run objectstore -- start` prints (LAKEHOUSE_CATALOG_URI, …).
 * - Started lazily on the first call (SeaweedFS ~1.6 s, the REST catalog's JVM ~2 s; installs
 *   them into the tool cache if missing).
 * - Stopped when the process ends: gracefully when the event loop drains, by SIGKILL on
 *   process.exit / SIGINT / SIGTERM / SIGHUP, and by a watchdog if this process is killed outright.
 * - With LAKEHOUSE_CATALOG_URI set (e.g. `eval "$(npm run -s objectstore -- start)"`), the store
 *   those variables name is used and none is started; Apache's server then keeps its tables in a
 *   bucket of that store.
 * Tables persist for the life of the servers: give each test its own namespace.
 */
import { randomBytes } from 'node:crypto';
import { killRestCatalogNow, type RestCatalog, startRestCatalog } from '../../dev/objectstore/rest-catalog.ts';
import { createBucket, createTableBucket } from '../../dev/objectstore/s3.ts';
import {
  killObjectStoreNow,
  type ObjectStore,
  objectStoreSettings,
  startObjectStore,
} from '../../dev/objectstore/seaweedfs.ts';
import { type CatalogSettings, settingsFromEnv } from '../../dev/objectstore/settings.ts';

let store: Promise<CatalogSettings> | undefined;
let apache: Promise<CatalogSettings> | undefined;

/** SeaweedFS (S3, and an Iceberg REST catalog whose warehouse is its table bucket `lakehouse`). */
export function sharedObjectStore(): Promise<CatalogSettings> {
  store ??= connectOrStart();
  return store;
}

async function connectOrStart(): Promise<CatalogSettings> {
  const given = settingsFromEnv();
  if (given) return given;
  const started = await startObjectStore();
  stopOnExit(started, () => killObjectStoreNow(started));
  return objectStoreSettings(started);
}

/** Apache Iceberg's REST catalog server, its warehouse in a plain bucket of its own on the shared store. */
export function restCatalogServer(): Promise<CatalogSettings> {
  apache ??= startApache();
  return apache;
}

async function startApache(): Promise<CatalogSettings> {
  const s3 = await sharedObjectStore();
  const bucket = `rest-catalog-${process.pid}-${randomBytes(3).toString('hex')}`;
  await createBucket(s3, bucket);
  const server = await startRestCatalog({ s3, warehouse: `s3://${bucket}/warehouse` });
  stopOnExit(server, () => killRestCatalogNow(server));
  return server.settings;
}

/**
 * A lake of its own in SeaweedFS's catalog: a fresh table bucket as its warehouse, so that its
 * tables (bronze.vehicles, …) are apart from every other test's. The settings a job takes.
 */
export async function freshCatalogLake(label: string): Promise<CatalogSettings> {
  const store = await sharedObjectStore();
  const bucket =
    `lake-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${process.pid}-${randomBytes(3).toString('hex')}`.slice(
      0,
      63,
    );
  await createTableBucket(store, bucket);
  return { ...store, LAKEHOUSE_CATALOG_WAREHOUSE: `s3://${bucket}` };
}

/** A lake of its own in Apache's REST catalog: its warehouse is shared, so only one such lake per test process. */
export async function apacheCatalogLake(): Promise<CatalogSettings> {
  return restCatalogServer();
}

let namespaces = 0;
/** A namespace name of lowercase letters, digits and underscores (what S3 Tables allows) that no other test uses. */
export function freshNamespace(label: string): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  return `${clean}_${process.pid}_${++namespaces}_${randomBytes(3).toString('hex')}`;
}

function stopOnExit(server: ObjectStore | RestCatalog, killNow: () => void): void {
  // Fires when the event loop drains (all tests done): time enough for a graceful stop.
  process.once('beforeExit', () => void server.stop());
  process.once('exit', killNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // process.exit runs every 'exit' handler: this server's, and the broker's if one runs.
    process.once(signal, () => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[signal]));
  }
}
