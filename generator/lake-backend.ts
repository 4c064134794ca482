// Where the lake's tables are (lake.catalog): on the lake volume, or in an Iceberg REST catalog on
// S3-compatible storage, the embedded object store (objectStore.enabled) or an existing one
// (lake.rest). Every pod that runs the jobs' code reads the backend's settings from here; the
// storage keys and the catalog's credentials come from Secrets, as secretKeyRef only.
import type { IVolume } from 'kubernetes-models/v1';
import type { Binder } from './binder.ts';

/** Go-template conditions: the lake on its volume, or in a REST catalog. */
export const VOLUME_LAKE = `eq .Values.lake.catalog "volume"`;
export const REST_LAKE = `eq .Values.lake.catalog "rest"`;
/** The catalog needs OAuth2 client credentials: the embedded store's, or lake.rest.credentialSecret's. */
export const CATALOG_CREDENTIAL_USED = `and (${REST_LAKE}) (or .Values.objectStore.enabled .Values.lake.rest.credentialSecret)`;

export const volumeLakeByDefault = (v: Binder) => v.defaultOf<string>('lake.catalog') === 'volume';

/** The pods' scratch space with a REST catalog: their /tmp emptyDir (the volume keeps it on the lake). */
export const REST_WORK_DIR = '/tmp';

/** A setting a pod reads from a Secret (secretKeyRef) where `when` holds, and has the literal `otherwise` elsewhere. */
export interface SecretSetting {
  readonly secret: { readonly name: string; readonly key: string };
  readonly when: string;
  /** Whether `when` holds with the default values. */
  readonly on: boolean;
  readonly otherwise: string;
}

/** A job setting's value in a pod: a literal (or Go-template expression), or a Secret's key. */
export type SettingValue = string | SecretSetting;

export const isSecretSetting = (value: SettingValue): value is SecretSetting => typeof value !== 'string';

type LakeSecret = 'accessKeyId' | 'secretAccessKey' | 'credential';

const secretOf = (v: Binder, which: LakeSecret) => ({
  name: v.expr(
    which === 'credential'
      ? `include "lakehouse.catalog.credentialSecretName" .`
      : `include "lakehouse.lake.secretName" .`,
    '',
  ),
  key: v.expr(`include "lakehouse.lake.secretKey" (dict "context" $ "key" "${which}")`, ''),
});

/** The storage's access key and secret key: from a Secret with a REST catalog, empty on a volume. */
export const storageKey = (v: Binder, which: 'accessKeyId' | 'secretAccessKey'): SecretSetting => ({
  secret: secretOf(v, which),
  when: REST_LAKE,
  on: !volumeLakeByDefault(v),
  otherwise: '',
});

/** The catalog's OAuth2 client credentials, when it needs them. */
export const catalogCredential = (v: Binder): SecretSetting => ({
  secret: secretOf(v, 'credential'),
  when: CATALOG_CREDENTIAL_USED,
  on: false,
  otherwise: '',
});

/** A lake setting whose value a helper of _helpers.tpl computes ("" on a volume). */
export const lakeHelper = (v: Binder, helper: 'catalog.uri' | 'catalog.warehouse' | 's3.endpoint') =>
  v.expr(`include "lakehouse.${helper}" .`, '', { quote: true });

export const workDir = (v: Binder) =>
  v.expr(`ternary "${REST_WORK_DIR}" "" (${REST_LAKE})`, volumeLakeByDefault(v) ? '' : REST_WORK_DIR, { quote: true });

/**
 * The /tmp emptyDir of a pod running the jobs: unbounded on a volume as before, and with a REST
 * catalog bounded by lake.workDirSize, since silver spills there.
 */
export const tmpVolumes = (v: Binder): IVolume[] => [
  ...v.when(VOLUME_LAKE, volumeLakeByDefault(v), [{ name: 'tmp', emptyDir: {} }]),
  ...v.when(`not (${VOLUME_LAKE})`, !volumeLakeByDefault(v), [
    { name: 'tmp', emptyDir: { sizeLimit: v.str('lake.workDirSize') } },
  ]),
];
