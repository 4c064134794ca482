// What the lakehouse chart and its object store chart agree on: the dependency's name and alias,
// the store's object names, labels, ports and Secret keys. Both charts' helpers are rendered from
// these, so a client's address and the store's Service cannot drift apart.
import type { Binder } from '../binder.ts';

export const OBJECTSTORE_CHART = 'objectstore';
/** The lakehouse chart's values key for the store (the dependency's alias). */
export const OBJECTSTORE_ALIAS = 'objectStore';

export const S3_PORT = 8333;
export const CATALOG_PORT = 8181;
export const MASTER_PORT = 9333;
export const MASTER_GRPC_PORT = 19333;
export const VOLUME_PORT = 8080;
export const VOLUME_GRPC_PORT = 18080;
export const FILER_PORT = 8888;
export const FILER_GRPC_PORT = 18888;
export const S3_GRPC_PORT = 18333;

/** The S3 identity the store's generated keys belong to; also the table bucket's owner account. */
export const S3_IDENTITY = 'lakehouse';

/** Keys of the store's generated Secret. */
export const SECRET_KEYS = {
  accessKeyId: 'access-key-id',
  secretAccessKey: 'secret-access-key',
  /** OAuth2 client credentials `<access key>:<secret key>` for the catalog's token endpoint. */
  credential: 'credential',
  /** The identities file `weed -s3.config` reads. */
  identities: 's3.json',
} as const;

/**
 * The body of both charts' fullname helper: `<release>-objectstore`, the release name cut so that the
 * longest object name (`-objectstore-headless`) and the pod's DNS name stay within 63 characters.
 * Not `.Chart.Name`: as a dependency the chart is renamed to its alias, which is no DNS label.
 */
export const FULLNAME_TEMPLATE = `{{- printf "%s-${OBJECTSTORE_CHART}" (.Release.Name | trunc 30 | trimSuffix "-") }}`;

export type StoreComponent = 'server' | 'bootstrap';

/** The store's selector labels, as literals of the release (for the lakehouse chart's egress rules). */
export const storeSelector = (v: Binder, component: StoreComponent): Record<string, string> => ({
  'app.kubernetes.io/name': OBJECTSTORE_CHART,
  'app.kubernetes.io/instance': v.expr('.Release.Name', 'lakehouse'),
  'app.kubernetes.io/component': component,
});
